"""What the media fake serves: videos, playlists, and the switches tests flip on them.

Plain data, no HTTP: the server reads these to decide each answer, tests mutate
them through `FakeMediaServer`'s methods.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class VideoHits:
    """Traffic one video received.

    yt-dlp's generic extractor GETs a direct link once to read its headers before
    the downloader GETs it again for the body, so one fresh download is normally
    `gets == 2`, and a video skipped via the download archive still costs one GET.
    `bytes_served` counts bytes handed to the socket: for a small unthrottled file
    the probe's GET may already count the whole file (kernel buffers take it).
    """

    gets: int = 0
    heads: int = 0
    bytes_served: int = 0
    #: GETs whose body was written through to the last byte of the file.
    completed: int = 0
    #: GETs that ended early: client went away, or the server stopped.
    aborted: int = 0
    #: GETs currently streaming a body.
    in_flight: int = 0
    #: The Range header of every GET (None when absent), in order.
    ranges: list[str | None] = field(default_factory=list)


@dataclass
class Failure:
    """A scripted error: let `after` requests through, then fail `remaining` (None = forever)."""

    status: int
    remaining: int | None
    after: int = 0

    def take(self) -> int | None:
        """The status to fail this request with, or None to serve it normally."""
        if self.after > 0:
            self.after -= 1
            return None
        if self.remaining is None:
            return self.status
        if self.remaining > 0:
            self.remaining -= 1
            return self.status
        return None


@dataclass(eq=False)
class Gate:
    """Hold GET bodies at `after_bytes` until `event` is set (or the server stops)."""

    event: asyncio.Event
    after_bytes: int = 0


@dataclass(eq=False)
class Video:
    id: str
    title: str
    data: bytes
    duration: float
    published: datetime
    #: Bytes per second for GET bodies; None serves as fast as the socket takes them.
    throttle: float | None = None
    failure: Failure | None = None
    gate: Gate | None = None
    hits: VideoHits = field(default_factory=VideoHits)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def etag(self) -> str:
        return '"' + hashlib.md5(self.data, usedforsecurity=False).hexdigest() + '"'


@dataclass(eq=False)
class Playlist:
    id: str
    title: str
    video_ids: list[str] = field(default_factory=list)
