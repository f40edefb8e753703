"""Real yt-dlp (Python API) downloads from the fake media server.

yt-dlp is synchronous, and the fake runs in the test's event loop, so every
yt-dlp call goes through `asyncio.to_thread`. Options mirror what the bot's
downloader uses; see `ydl_options`.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yt_dlp
from yt_dlp.networking.exceptions import HTTPError
from yt_dlp.utils import DownloadCancelled, DownloadError

from tests.fakes.base import wait_for
from tests.fakes.media import FakeMediaServer

FEED_TITLE = "Family Clips"

#: yt-dlp 2026.10.26 does not close the response behind an HTTP error (the
#: HTTPError it raises or keeps for its retry loop holds it), so after a 4xx/5xx
#: the socket is only reclaimed by the garbage collector, with "ResourceWarning:
#: unclosed <socket.socket ...>". Under filterwarnings=error that warning turns
#: into an unraisable exception in whatever test happens to be running when the
#: collector runs. Tests that provoke HTTP errors ignore exactly that warning, and
#: every test here collects garbage before it ends, so a leak cannot surface later.
YTDLP_SOCKET_LEAK = pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")


class RecordingLogger:
    """yt-dlp logger that keeps lines instead of printing; warnings are not errors."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def debug(self, msg: str) -> None:
        self.lines.append(("debug", msg))

    def info(self, msg: str) -> None:
        self.lines.append(("info", msg))

    def warning(self, msg: str) -> None:
        self.lines.append(("warning", msg))

    def error(self, msg: str) -> None:
        self.lines.append(("error", msg))

    def of(self, level: str) -> list[str]:
        return [msg for lvl, msg in self.lines if lvl == level]


class Run:
    """One downloader configuration: options, captured progress and log."""

    def __init__(self, out: Path, **overrides: Any) -> None:
        self.progress: list[dict[str, Any]] = []
        self.logger = RecordingLogger()
        self.cancel = threading.Event()
        self.options = ydl_options(out, self._hook, self.logger) | overrides

    def _hook(self, status: dict[str, Any]) -> None:
        self.progress.append(
            {k: status.get(k) for k in ("status", "downloaded_bytes", "total_bytes", "filename")}
            | {"id": status.get("info_dict", {}).get("id")}
        )
        if self.cancel.is_set():
            raise DownloadCancelled("cancelled by test")

    def extract(self, url: str) -> dict[str, Any]:
        with yt_dlp.YoutubeDL(self.options) as ydl:
            info = ydl.extract_info(url, download=True)
            return ydl.sanitize_info(info)  # type: ignore[no-any-return]

    def finished_ids(self) -> list[str]:
        return [p["id"] for p in self.progress if p["status"] == "finished"]

    def bytes_seen(self) -> int:
        return max((p["downloaded_bytes"] or 0 for p in self.progress), default=0)


def saved(info: dict[str, Any]) -> bytes:
    """The bytes of the file yt-dlp reports for a downloaded video."""
    return Path(info["requested_downloads"][0]["filepath"]).read_bytes()


def ydl_options(out: Path, hook: Callable[[dict[str, Any]], None], logger: RecordingLogger) -> dict[str, Any]:
    """The options a real downloader would pass (see the report for why each is there)."""
    return {
        "outtmpl": str(out / "%(playlist_title|Singles)s" / "%(title)s [%(id)s].%(ext)s"),
        "download_archive": str(out / "archive.txt"),
        "format": "bv*+ba/b",
        "merge_output_format": "mp4",
        "progress_hooks": [hook],
        "logger": logger,
        "quiet": True,
        "noprogress": True,
        "noplaylist": True,  # only matters for URLs that are both video and playlist
        "retries": 3,  # the Python API defaults to 0 (the CLI to 10)
        "retry_sleep_functions": {"http": lambda n: 0},  # called as f(n=attempt)
        "socket_timeout": 10,
    }


@pytest.fixture(autouse=True)
def _reclaim_leaked_sockets() -> Iterator[None]:
    """Collect yt-dlp's unclosed error responses while YTDLP_SOCKET_LEAK still applies."""
    yield
    gc.collect()


@pytest.fixture
async def media() -> AsyncIterator[FakeMediaServer]:
    server = FakeMediaServer()
    await server.start()
    yield server
    await server.stop()


def add_family_playlist(media: FakeMediaServer, count: int = 3) -> str:
    for n in range(count):
        media.add_video(f"vid{n}", f"Clip number {n}")
    return media.add_playlist("PL1", FEED_TITLE, [f"vid{n}" for n in range(count)])


async def test_playlist_downloads_every_entry(media: FakeMediaServer, tmp_path: Path) -> None:
    feed = add_family_playlist(media)
    run = Run(tmp_path)
    info = await asyncio.to_thread(run.extract, feed)

    assert info["_type"] == "playlist"
    assert info["title"] == FEED_TITLE
    assert info["id"] == feed  # the generic extractor can only use the feed URL as id
    assert info["extractor"] == "generic"
    assert [e["id"] for e in info["entries"]] == ["vid0", "vid1", "vid2"]  # the guids
    for entry in info["entries"]:
        assert entry["playlist_title"] == entry["playlist"] == FEED_TITLE
        assert entry["title"] == f"Clip number {entry['id'][-1]}"
        assert entry["extractor"] == "generic"
        assert entry["webpage_url"].startswith(media.video_url(entry["id"]) + "#__youtubedl_smuggle")
        path = Path(entry["requested_downloads"][0]["filepath"])
        assert path == tmp_path / FEED_TITLE / f"{entry['title']} [{entry['id']}].mp4"
        assert saved(entry) == media.video_bytes(entry["id"])
    assert run.finished_ids() == ["vid0", "vid1", "vid2"]
    downloading = [p for p in run.progress if p["status"] == "downloading"]
    assert downloading and all(p["total_bytes"] == len(media.video_bytes(p["id"])) for p in downloading)
    assert run.logger.of("error") == []
    assert run.logger.of("warning") == ["[generic] Falling back on generic information extractor"]
    assert (tmp_path / "archive.txt").read_text().splitlines() == [
        "generic vid0",
        "generic vid1",
        "generic vid2",
    ]
    # One GET by the extractor (headers only), one by the downloader.
    assert [media.hits(f"vid{n}").gets for n in range(3)] == [2, 2, 2]


async def test_archive_makes_second_run_fetch_only_the_new_video(media: FakeMediaServer, tmp_path: Path) -> None:
    feed = add_family_playlist(media)
    await asyncio.to_thread(Run(tmp_path).extract, feed)
    media.add_video("vid3", "Clip number 3")
    media.add_to_playlist("PL1", "vid3")

    second = Run(tmp_path)
    info = await asyncio.to_thread(second.extract, feed)

    assert second.finished_ids() == ["vid3"]
    assert [e["id"] for e in info["entries"]] == ["vid0", "vid1", "vid2", "vid3"]
    skipped = [m for m in second.logger.of("debug") if "already been recorded in the archive" in m]
    assert len(skipped) == 3
    # Archived entries are still probed once (the id is only known after extraction).
    assert [media.hits(f"vid{n}").gets for n in range(4)] == [3, 3, 3, 2]


async def test_flat_listing_has_titles_but_no_ids(media: FakeMediaServer) -> None:
    """`extract_flat` leaves entries unresolved: the guid is only inside the smuggled URL."""
    feed = add_family_playlist(media)
    with yt_dlp.YoutubeDL({"extract_flat": "in_playlist", "logger": RecordingLogger()}) as ydl:
        info = await asyncio.to_thread(ydl.extract_info, feed, download=False)
    first = info["entries"][0]
    assert first["_type"] == "url_transparent"
    assert first["title"] == "Clip number 0"
    assert "id" not in first
    assert first["url"].startswith(media.video_url("vid0") + "#__youtubedl_smuggle=")
    assert [media.hits(f"vid{n}").gets for n in range(3)] == [0, 0, 0]  # nothing probed


async def test_throttled_download_can_be_cancelled_and_resumed(media: FakeMediaServer, tmp_path: Path) -> None:
    url = media.add_video("big", "Big clip", min_size=400_000)
    media.throttle("big", 40_000)  # ~10 s for the whole file
    run = Run(tmp_path)
    download = asyncio.create_task(asyncio.to_thread(run.extract, url))

    await wait_for(lambda: run.bytes_seen() > 0, what="the download to start")
    run.cancel.set()
    with pytest.raises(DownloadCancelled):
        await download
    parts = list((tmp_path / "Singles").glob("*.part"))
    assert len(parts) == 1
    done = parts[0].stat().st_size
    assert 0 < done < 400_000
    await wait_for(lambda: media.hits("big").aborted >= 1, what="the server to see the abort")

    media.throttle("big", None)
    resumed = Run(tmp_path)
    info = await asyncio.to_thread(resumed.extract, url)
    assert saved(info) == media.video_bytes("big")
    assert media.hits("big").ranges[-1] == f"bytes={done}-"  # continued from the .part file
    assert f"[download] Resuming download at byte {done}" in resumed.logger.of("debug")


async def test_block_until_holds_a_download_open(media: FakeMediaServer, tmp_path: Path) -> None:
    url = media.add_video("held", "Held clip")
    release = asyncio.Event()
    media.block_until("held", release, after_bytes=4096)
    run = Run(tmp_path)
    download = asyncio.create_task(asyncio.to_thread(run.extract, url))

    # The downloader got headers and its first bytes, then the body stalls at 4 KiB.
    await wait_for(lambda: run.bytes_seen() > 0, what="the download to start")
    assert media.hits("held").gets == 2  # extraction probe + download, both held
    assert not download.done() and run.finished_ids() == []
    release.set()
    info = await download
    assert run.finished_ids() == ["held"]
    assert saved(info) == media.video_bytes("held")


@YTDLP_SOCKET_LEAK
async def test_404_is_a_permanent_error(media: FakeMediaServer, tmp_path: Path) -> None:
    url = media.add_video("gone", "Deleted clip")
    media.fail("gone", 404)
    with pytest.raises(DownloadError) as raised:
        await asyncio.to_thread(Run(tmp_path).extract, url)

    error = raised.value
    assert error.msg == (
        "ERROR: [generic] gone: Unable to download webpage: HTTP Error 404: Not Found "
        "(caused by <HTTPError 404: Not Found>)"
    )
    cause = error.exc_info[1]
    assert isinstance(cause, HTTPError) and cause.status == 404
    assert media.hits("gone").gets == 1  # extraction failed; nothing retried it


@YTDLP_SOCKET_LEAK
async def test_404_during_the_download_itself(media: FakeMediaServer, tmp_path: Path) -> None:
    url = media.add_video("gone", "Deleted mid-way")
    media.fail("gone", 404, after=1)  # the extraction probe passes, the download GET fails
    with pytest.raises(DownloadError) as raised:
        await asyncio.to_thread(Run(tmp_path).extract, url)
    assert raised.value.msg == "ERROR: unable to download video data: HTTP Error 404: Not Found"
    cause = raised.value.exc_info[1]
    assert isinstance(cause, HTTPError) and cause.status == 404
    assert media.hits("gone").gets == 2  # 4xx is not retried


@YTDLP_SOCKET_LEAK
async def test_500_once_then_ok(media: FakeMediaServer, tmp_path: Path) -> None:
    url = media.add_video("flaky", "Flaky clip")
    media.fail("flaky", 500, times=1, after=1)
    run = Run(tmp_path)
    info = await asyncio.to_thread(run.extract, url)
    assert saved(info) == media.video_bytes("flaky")
    assert media.hits("flaky").gets == 3  # probe, failed download, retried download
    assert (
        "[download] Got error: HTTP Error 500: Internal Server Error. Retrying (1/3)..."
        in run.logger.of("debug")  # yt-dlp reports download retries via to_screen, not warning
    )


@YTDLP_SOCKET_LEAK
async def test_500_without_retries_or_on_extraction_fails(media: FakeMediaServer, tmp_path: Path) -> None:
    url = media.add_video("flaky", "Flaky clip")
    media.fail("flaky", 500, times=1, after=1)
    with pytest.raises(DownloadError) as raised:  # the Python API's default: retries=0
        await asyncio.to_thread(Run(tmp_path, retries=0).extract, url)
    assert "HTTP Error 500: Internal Server Error" in raised.value.msg

    media.fail("flaky", 500, times=1)  # now the extraction GET fails: yt-dlp never retries it
    with pytest.raises(DownloadError) as raised:
        await asyncio.to_thread(Run(tmp_path).extract, url)
    assert raised.value.msg.startswith("ERROR: [generic] flaky: Unable to download webpage: HTTP Error 500")
    info = await asyncio.to_thread(Run(tmp_path).extract, url)  # the caller's retry succeeds
    assert info["id"] == "flaky"


async def test_direct_link_and_watch_page(media: FakeMediaServer, tmp_path: Path) -> None:
    direct = media.add_video("solo", "A proper title")
    info = await asyncio.to_thread(Run(tmp_path).extract, direct)
    assert (info["id"], info["title"], info["extractor"]) == ("solo", "solo", "generic")
    assert info.get("playlist_title") is None
    assert info["webpage_url"] == direct
    assert info["timestamp"] == int(media.videos["solo"].published.timestamp())  # Last-Modified

    run = Run(tmp_path / "pages")
    page = await asyncio.to_thread(run.extract, media.page_url("solo"))
    assert (page["id"], page["title"], page["extractor"]) == ("solo", "A proper title", "generic")
    assert Path(page["requested_downloads"][0]["filepath"]).name == "A proper title [solo].mp4"


async def test_http_semantics(media: FakeMediaServer) -> None:
    url = media.add_video("r", "Ranges")
    size = len(media.video_bytes("r"))
    async with httpx.AsyncClient() as http:
        head = await http.head(url)
        assert head.status_code == 200
        assert head.headers["content-length"] == str(size)
        assert head.headers["content-type"] == "video/mp4"
        assert head.headers["accept-ranges"] == "bytes"
        part = await http.get(url, headers={"Range": "bytes=10-19"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 10-19/{size}"
        assert part.content == media.video_bytes("r")[10:20]
        tail = await http.get(url, headers={"Range": "bytes=-5"})
        assert tail.content == media.video_bytes("r")[-5:]
        beyond = await http.get(url, headers={"Range": f"bytes={size}-"})
        assert beyond.status_code == 416
        assert beyond.headers["content-range"] == f"bytes */{size}"
        feed = await http.get(media.add_playlist("P", "T & <Friends>", ["r"]))
        assert feed.headers["content-type"] == "application/rss+xml; charset=utf-8"
        assert "<title>T &amp; &lt;Friends&gt;</title>" in feed.text
    assert media.hits("r").heads == 1 and media.hits("r").gets == 3
