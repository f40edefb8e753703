"""The yt-dlp child process: `python -m workers.runner` reads a job on stdin, prints JSON events.

yt-dlp's Python API gives structured info (ids, titles, the final file path),
and running it in a child process makes it killable: /cancel or a job timeout
ends the process group at once, whatever yt-dlp is doing. The parent (the arq
job) moves finished files into place and records them; this process only ever
writes inside its work folder.

Events, one JSON object per line on stdout:
  listing    {kind, title, uploader, extractor, entries: [{id, title}]}
  skipped    {index, id}                      already in the user's archive
  progress   {index, count, title, downloaded, total, speed, eta}
  item_done  {index, id, title, uploader, filepath, filesize}
  item_failed{index, id, title, permanent, message}
  finished   {}
  fatal      {permanent, message}             the listing itself failed
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

QUALITY_FORMATS: dict[str, str] = {
    "best": "bv*+ba/b",
    "1080p": "bv*[height<=1080]+ba/b[height<=1080]/b",
    "720p": "bv*[height<=720]+ba/b[height<=720]/b",
    "480p": "bv*[height<=480]+ba/b[height<=480]/b",
}

# Errors no retry will fix (ytdl-sub and pinchflat sort them the same way).
_PERMANENT = re.compile(
    r"Video unavailable|Private video|This video (?:has been removed|is no longer available|is private)"
    r"|members-only|Sign in to confirm your age|account associated with this video has been terminated"
    r"|copyright claim|HTTP Error 40[0-9]|HTTP Error 410|Unsupported URL|is not a valid URL"
    r"|No video formats found|Requested format is not available|This live event will begin",
    re.IGNORECASE,
)


class RunnerJob(BaseModel):
    url: str
    kind: str
    quality: str
    work_dir: str
    skip: list[tuple[str, str]] = []
    allowed_hosts: list[str]
    socket_timeout: float = 20.0


def is_permanent(message: str) -> bool:
    return bool(_PERMANENT.search(message))


def emit(event: str, **data: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **data}) + "\n")
    sys.stdout.flush()


class _Quiet:
    """yt-dlp's logger: errors are reported through events, warnings go to stderr."""

    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        sys.stderr.write(f"yt-dlp warning: {msg}\n")

    def error(self, msg: str) -> None:
        sys.stderr.write(f"yt-dlp error: {msg}\n")


def _host_allowed(url: str | None, allowed: set[str]) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and (parts.hostname or "").rstrip(".").lower() in allowed


def _page_url(entry: dict[str, Any], asked: str, kind: str) -> str:
    """The page to download an entry from: a flat playlist entry's own URL; for a single video
    the page itself, never the media URL yt-dlp resolved (YouTube serves that from other hosts)."""
    if kind == "playlist":
        return str(entry.get("url") or entry.get("webpage_url") or asked)
    return str(entry.get("webpage_url") or asked)


def _entry_id(entry: dict[str, Any]) -> str:
    """The entry's id; flat RSS entries carry it only inside yt-dlp's smuggled URL data."""
    if entry.get("id"):
        return str(entry["id"])
    from yt_dlp.utils import unsmuggle_url

    _, data = unsmuggle_url(entry.get("url") or "", {})
    return str((data or {}).get("force_videoid") or entry.get("url"))


def _clean_error(exc: BaseException) -> str:
    text = str(exc).removeprefix("ERROR: ").strip()
    return re.sub(r"\x1b\[[0-9;]*m", "", text)[:500]


def run(job: RunnerJob) -> int:
    from yt_dlp import YoutubeDL
    from yt_dlp.utils import DownloadError

    allowed = {h.lower() for h in job.allowed_hosts}
    base: dict[str, Any] = {
        "quiet": True,
        "no_warnings": False,
        "noprogress": True,
        "logger": _Quiet(),
        "socket_timeout": job.socket_timeout,
        "retries": 2,
        "fragment_retries": 2,
        "noplaylist": job.kind == "video",
        "color": {"stdout": "never", "stderr": "never"},
    }
    try:
        with YoutubeDL({**base, "extract_flat": "in_playlist", "skip_download": True}) as ydl:
            info = ydl.extract_info(job.url, download=False)
    except DownloadError as exc:
        message = _clean_error(exc)
        emit("fatal", permanent=is_permanent(message), message=message)
        return 0
    if info is None:
        emit("fatal", permanent=True, message="Nothing to download at that address.")
        return 0

    extractor = str(info.get("extractor_key") or info.get("extractor") or "generic").lower()
    if info.get("_type") == "playlist":
        entries = [e for e in info.get("entries") or [] if e]
        kind = "playlist"
    else:
        entries = [info]
        kind = "video"
    listing = [
        {
            "id": _entry_id(e),
            "title": e.get("title"),
            "url": _page_url(e, job.url, kind),
            "extractor": str(e.get("ie_key") or e.get("extractor_key") or extractor).lower(),
        }
        for e in entries
    ]
    emit(
        "listing",
        kind=kind,
        title=info.get("title"),
        uploader=info.get("uploader") or info.get("channel"),
        extractor=extractor,
        entries=[{"id": e["id"], "title": e["title"], "extractor": e["extractor"]} for e in listing],
    )

    skip = {tuple(s) for s in job.skip}
    count = len(listing)
    for index, entry in enumerate(listing, start=1):
        if (entry["extractor"], entry["id"]) in skip:
            emit("skipped", index=index, id=entry["id"])
            continue
        if not _host_allowed(entry["url"], allowed):
            emit(
                "item_failed",
                index=index,
                id=entry["id"],
                title=entry["title"],
                permanent=True,
                message="This entry points outside the allowed hosts and was not downloaded.",
            )
            continue
        _download_one(YoutubeDL, DownloadError, base, job, index, count, entry)
    emit("finished")
    return 0


def _download_one(
    youtube_dl: Any,
    download_error: type[Exception],
    base: dict[str, Any],
    job: RunnerJob,
    index: int,
    count: int,
    entry: dict[str, Any],
) -> None:
    item_dir = Path(job.work_dir) / f"{index:04d}"
    item_dir.mkdir(parents=True, exist_ok=True)
    last = 0.0

    def progress(d: dict[str, Any]) -> None:
        nonlocal last
        now = time.monotonic()
        if d.get("status") == "downloading" and now - last < 0.5:
            return
        last = now
        emit(
            "progress",
            index=index,
            count=count,
            title=entry["title"],
            downloaded=d.get("downloaded_bytes") or 0,
            total=d.get("total_bytes") or d.get("total_bytes_estimate") or 0,
            speed=d.get("speed"),
            eta=d.get("eta"),
        )

    options = {
        **base,
        "format": QUALITY_FORMATS.get(job.quality, QUALITY_FORMATS["best"]),
        "merge_output_format": "mp4",
        "paths": {"home": str(item_dir), "temp": str(item_dir)},
        "outtmpl": {"default": "item.%(ext)s"},
        "writethumbnail": True,
        "postprocessors": [
            {"key": "FFmpegMetadata", "add_metadata": True},
            {"key": "EmbedThumbnail", "already_have_thumbnail": False},
        ],
        "progress_hooks": [progress],
        "noplaylist": True,
    }
    try:
        with youtube_dl(options) as ydl:
            info = ydl.extract_info(entry["url"], download=True)
    except download_error as exc:
        message = _clean_error(exc)
        emit(
            "item_failed",
            index=index,
            id=entry["id"],
            title=entry["title"],
            permanent=is_permanent(message),
            message=message,
        )
        return
    downloads = (info or {}).get("requested_downloads") or []
    filepath = downloads[0].get("filepath") if downloads else None
    if not filepath or not Path(filepath).is_file():
        emit(
            "item_failed",
            index=index,
            id=entry["id"],
            title=entry["title"],
            permanent=False,
            message="yt-dlp finished without a file.",
        )
        return
    emit(
        "item_done",
        index=index,
        id=entry["id"],
        title=entry["title"] or info.get("title"),
        uploader=info.get("uploader") or info.get("channel"),
        filepath=filepath,
        filesize=Path(filepath).stat().st_size,
    )


def _die_with_parent(parent_pid: int) -> None:
    """Linux: be killed when the worker dies, even by SIGKILL, so no orphan keeps writing."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except OSError:
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def main() -> int:
    if len(sys.argv) > 1:
        _die_with_parent(int(sys.argv[1]))
    job = RunnerJob.model_validate_json(sys.stdin.read())
    return run(job)


if __name__ == "__main__":
    raise SystemExit(main())
