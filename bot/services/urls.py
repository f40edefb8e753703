"""Which download URLs we accept, and their canonical form.

Only hosts on the allow-list (YouTube's by default), only http(s), no user
info, no control characters or backslashes, and for YouTube hosts only the
known shapes (watch, youtu.be, shorts, playlist, music), rebuilt from the ids so
nothing else in the URL reaches yt-dlp. Everything else is INVALID_YOUTUBE_URL,
before any job exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from bot.config import YOUTUBE_HOSTS
from bot.errors import AppError, ErrorCode

Kind = Literal["video", "playlist", "auto"]

_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_LIST_ID = re.compile(r"^[A-Za-z0-9_-]{2,64}$")
_FORBIDDEN = re.compile(r"[\s\\\x00-\x1f\x7f]")
MAX_URL_LENGTH = 2048


@dataclass(frozen=True, slots=True)
class DownloadTarget:
    url: str
    kind: Kind
    source_id: str | None


def _invalid(why: str) -> AppError:
    return AppError(
        ErrorCode.INVALID_YOUTUBE_URL,
        f"{why} Send a YouTube link such as https://www.youtube.com/watch?v=… or "
        "https://www.youtube.com/playlist?list=….",
    )


def _one(query: dict[str, list[str]], name: str, pattern: re.Pattern[str]) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) != 1 or not pattern.match(values[0]):
        raise _invalid(f"The `{name}` part of that link is not a valid YouTube id.")
    return values[0]


def _youtube(host: str, path: str, query: dict[str, list[str]]) -> DownloadTarget:
    segments = [s for s in path.split("/") if s]
    if host == "youtu.be":
        if len(segments) == 1 and _VIDEO_ID.match(segments[0]):
            return _video(segments[0])
        raise _invalid("That youtu.be link has no video id.")
    if segments == ["watch"]:
        video = _one(query, "v", _VIDEO_ID)
        if video is None:
            raise _invalid("That link has no video id (`v=`).")
        return _video(video, music=host == "music.youtube.com")
    if segments == ["playlist"]:
        playlist = _one(query, "list", _LIST_ID)
        if playlist is None:
            raise _invalid("That playlist link has no `list=` id.")
        return DownloadTarget(f"https://www.youtube.com/playlist?list={playlist}", "playlist", playlist)
    if len(segments) == 2 and segments[0] in {"shorts", "embed", "live"} and _VIDEO_ID.match(segments[1]):
        return _video(segments[1])
    raise _invalid("That is not a YouTube video or playlist page.")


def _video(video_id: str, *, music: bool = False) -> DownloadTarget:
    host = "music.youtube.com" if music else "www.youtube.com"
    return DownloadTarget(f"https://{host}/watch?v={video_id}", "video", video_id)


def parse_download_url(raw: str, allowed_hosts: list[str] | tuple[str, ...]) -> DownloadTarget:
    text = raw.strip()
    if not text or len(text) > MAX_URL_LENGTH:
        raise _invalid("That link is empty or too long.")
    if _FORBIDDEN.search(text):
        raise _invalid("That link contains spaces, backslashes or control characters.")
    try:
        parts = urlsplit(text)
        port = parts.port  # validates the port number
    except ValueError:
        raise _invalid("That is not a valid link.") from None
    if parts.scheme not in {"http", "https"}:
        raise _invalid("Only http(s) links can be downloaded.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _invalid("Links with a user name or password are not accepted.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or host not in {h.lower() for h in allowed_hosts}:
        raise _invalid("Downloads only come from YouTube.")
    if host in YOUTUBE_HOSTS:
        if port not in (None, 443, 80):
            raise _invalid("That YouTube link has an unusual port.")
        return _youtube(host, parts.path, parse_qs(parts.query, keep_blank_values=True))
    # another host the admin allowed explicitly: pass it on as given, kind decided by yt-dlp
    if "/../" in f"{parts.path}/" or "/./" in f"{parts.path}/":
        raise _invalid("That link has a relative path in it.")
    return DownloadTarget(parts.geturl(), "auto", None)
