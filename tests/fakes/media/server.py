"""FakeMediaServer: a local stand-in for YouTube that real yt-dlp downloads from.

yt-dlp has no extractor for an arbitrary local site, so the fake speaks what its
*generic* extractor understands (no flags needed, extractor name "generic"):

* `/videos/{id}.mp4`: a direct link. The generic extractor GETs it, sees
  `Content-Type: video/mp4` and returns a one-format "direct" video whose id and
  title are the file name's stem; then the HTTP downloader GETs it again.
* `/feeds/{playlist}.xml`: an RSS feed; each item's enclosure is a direct link and
  its guid becomes the entry id, so playlist entries and direct links share ids
  (and download-archive lines: `generic <id>`).
* `/watch/{id}`: an HTML page with JSON-LD VideoObject metadata, for tests that
  want a single video whose title is the real title rather than the id.

Switches per video: `throttle`, `fail`, `block_until`; traffic in `hits`.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from aiohttp import web

from ..base import FakeServer
from .catalog import Failure, Gate, Playlist, Video, VideoHits
from .feeds import CONTENT_TYPE as FEED_CONTENT_TYPE
from .feeds import render_feed
from .ranges import ByteRange, Unsatisfiable, parse_range
from .videos import make_video_file

#: Unthrottled bodies go out in blocks of this size.
BLOCK = 64 * 1024
#: Throttled bodies go out in `rate * TICK` byte slices every TICK seconds.
TICK = 0.05

_REASONS = {403: "Forbidden", 404: "Not Found", 410: "Gone", 429: "Too Many Requests"}
_EPOCH = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeMediaServer(FakeServer):
    """Serve tiny real MP4s, RSS playlists and video pages on 127.0.0.1.

    Typical use::

        media = FakeMediaServer()
        await media.start()
        media.add_video("abc123", "First clip")
        feed = media.add_playlist("PL1", "Family Clips", ["abc123"])
        media.throttle("abc123", 4_000)          # ~5 s for a 1 s clip
        await asyncio.to_thread(ydl.download, [feed])
    """

    def __init__(self) -> None:
        self.videos: dict[str, Video] = {}
        self.playlists: dict[str, Playlist] = {}
        self._closing = asyncio.Event()
        super().__init__()

    # ------------------------------------------------------------------ catalog

    def add_video(
        self,
        video_id: str,
        title: str,
        duration: float = 1.0,
        *,
        min_size: int = 0,
        published: datetime | None = None,
    ) -> str:
        """Register a video and return its direct MP4 URL.

        `duration` is real media length (each distinct duration costs one ffmpeg
        encode per session); `min_size` pads the file with a `free` box instead,
        the cheap way to get a download that takes a while under `throttle`.
        """
        self.videos[video_id] = Video(
            id=video_id,
            title=title,
            data=make_video_file(video_id, duration, min_size),
            duration=duration,
            published=published or _EPOCH + timedelta(hours=len(self.videos)),
        )
        return self.video_url(video_id)

    def add_playlist(self, playlist_id: str, title: str, video_ids: list[str]) -> str:
        """Register a playlist of already added videos; return its RSS feed URL."""
        for video_id in video_ids:
            self._video(video_id)
        self.playlists[playlist_id] = Playlist(playlist_id, title, list(video_ids))
        return self.feed_url(playlist_id)

    def add_to_playlist(self, playlist_id: str, video_id: str) -> None:
        """Append a video to a playlist (it becomes the feed's last item)."""
        self._video(video_id)
        self.playlists[playlist_id].video_ids.append(video_id)

    def video_url(self, video_id: str) -> str:
        return f"{self.url}/videos/{video_id}.mp4"

    def feed_url(self, playlist_id: str) -> str:
        return f"{self.url}/feeds/{playlist_id}.xml"

    def page_url(self, video_id: str) -> str:
        return f"{self.url}/watch/{video_id}"

    def video_bytes(self, video_id: str) -> bytes:
        """Exactly what a complete download of the video must contain."""
        return self._video(video_id).data

    # ------------------------------------------------------------------ switches

    def throttle(self, video_id: str, bytes_per_second: float | None) -> None:
        """Serve GET bodies at about `bytes_per_second` (None: full speed again)."""
        self._video(video_id).throttle = bytes_per_second

    def fail(self, video_id: str, status: int = 404, times: int | None = None, after: int = 0) -> None:
        """Answer the video's requests (GET and HEAD) with `status`.

        `times=None` fails for good (a deleted video: 404/410, a blocked one: 403);
        `times=N` fails the next N requests and then serves normally (a flaky CDN).
        `after=K` lets K requests through first: `after=1` spares yt-dlp's
        extraction probe so the failure hits the download itself.
        """
        self._video(video_id).failure = Failure(status=status, remaining=times, after=after)

    def heal(self, video_id: str) -> None:
        """Cancel any scripted failure."""
        self._video(video_id).failure = None

    def block_until(self, video_id: str, event: asyncio.Event, after_bytes: int = 0) -> None:
        """Stall every GET body of the video after `after_bytes` of it until `event` is set.

        Headers go out first, so the client has started (and yt-dlp's probe GET
        returns at once). Set the event, or call `unblock`, to let bodies finish.
        """
        self._video(video_id).gate = Gate(event=event, after_bytes=after_bytes)

    def unblock(self, video_id: str) -> None:
        """Release held bodies and stop gating the video."""
        gate = self._video(video_id).gate
        if gate is not None:
            gate.event.set()
        self._video(video_id).gate = None

    def hits(self, video_id: str) -> VideoHits:
        """Live traffic counters for one video (the object keeps updating)."""
        return self._video(video_id).hits

    # ------------------------------------------------------------------ lifecycle

    async def start(self, port: int = 0) -> None:
        self._closing = asyncio.Event()
        await super().start(port)

    async def stop(self) -> None:
        # Wake throttled and gated bodies so shutdown does not wait for them.
        self._closing.set()
        await super().stop()

    # ------------------------------------------------------------------ routes

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("GET", "/videos/{video_id}.mp4", self._serve_video)
        router.add_route("HEAD", "/videos/{video_id}.mp4", self._serve_video)
        router.add_get("/feeds/{playlist_id}.xml", self._serve_feed)
        router.add_get("/watch/{video_id}", self._serve_page)

    async def _serve_feed(self, request: web.Request) -> web.StreamResponse:
        playlist = self.playlists.get(request.match_info["playlist_id"])
        if playlist is None:
            raise web.HTTPNotFound()
        body = render_feed(
            playlist,
            [self.videos[v] for v in playlist.video_ids],
            self.video_url,
            link=f"{self.url}/playlist?list={playlist.id}",
        )
        return web.Response(body=body, headers={"Content-Type": FEED_CONTENT_TYPE})

    async def _serve_page(self, request: web.Request) -> web.StreamResponse:
        """A watch page described by JSON-LD, which the generic extractor reads as one video.

        A `<video>` tag would be picked up by the html5 path instead, which renames
        the video to "<id>-1" / "<title> (1)"; JSON-LD keeps id, title and timestamp.
        """
        video = self.videos.get(request.match_info["video_id"])
        if video is None:
            raise web.HTTPNotFound()
        metadata = {
            "@context": "https://schema.org",
            "@type": "VideoObject",
            "name": video.title,
            "description": f"{video.title} (fake media server)",
            "contentUrl": self.video_url(video.id),
            "encodingFormat": "video/mp4",
            "uploadDate": video.published.isoformat(),
            "duration": f"PT{video.duration:g}S",
        }
        ld_json = json.dumps(metadata).replace("</", "<\\/")
        title = escape(video.title)
        html = (
            f"<!DOCTYPE html><html><head><title>{title}</title>"
            f'<meta property="og:title" content="{title}">'
            f'<script type="application/ld+json">{ld_json}</script>'
            f"</head><body><h1>{title}</h1></body></html>"
        )
        return web.Response(text=html, content_type="text/html")

    async def _serve_video(self, request: web.Request) -> web.StreamResponse:
        video = self.videos.get(request.match_info["video_id"])
        if video is None:
            raise web.HTTPNotFound()
        is_get = request.method == "GET"
        if is_get:
            video.hits.gets += 1
            video.hits.ranges.append(request.headers.get("Range"))
        else:
            video.hits.heads += 1
        failed = video.failure.take() if video.failure else None
        if failed is not None:
            return web.Response(status=failed, text=_REASONS.get(failed, "Error"))
        try:
            wanted = parse_range(request.headers.get("Range"), video.size)
        except Unsatisfiable:
            return web.Response(status=416, headers={"Content-Range": f"bytes */{video.size}"})
        span = wanted or ByteRange(0, video.size - 1)
        response = web.StreamResponse(status=206 if wanted else 200, headers=self._headers(video))
        if wanted:
            response.headers["Content-Range"] = f"bytes {span.start}-{span.end}/{video.size}"
        response.content_length = span.length
        await response.prepare(request)
        if is_get:
            await self._stream(video, response, span)
        return response

    # ------------------------------------------------------------------ streaming

    @staticmethod
    def _headers(video: Video) -> dict[str, str]:
        return {
            "Content-Type": "video/mp4",
            "Accept-Ranges": "bytes",
            # yt-dlp turns this into `timestamp` (and the file's mtime if `updatetime` is on).
            "Last-Modified": format_datetime(video.published, usegmt=True),
            "ETag": video.etag,
            "Cache-Control": "private, max-age=21600",
        }

    async def _stream(self, video: Video, response: web.StreamResponse, span: ByteRange) -> None:
        """Write `span` of the file, honouring the throttle and the gate."""
        hits = video.hits
        hits.in_flight += 1
        position = span.start
        try:
            while position <= span.end:
                gate = video.gate
                if gate is not None and position - span.start >= gate.after_bytes:
                    await self._wait(gate.event, None)
                if self._closing.is_set():
                    raise ConnectionResetError("fake media server stopping")
                rate = video.throttle
                size = max(1, int(rate * TICK)) if rate else BLOCK
                if gate is not None and not gate.event.is_set():
                    size = min(size, max(1, span.start + gate.after_bytes - position))
                chunk = video.data[position : min(position + size, span.end + 1)]
                await response.write(chunk)
                hits.bytes_served += len(chunk)
                position += len(chunk)
                if rate:
                    await self._wait(self._closing, TICK)
            await response.write_eof()
            if span.end == video.size - 1:
                hits.completed += 1
        except ConnectionResetError:  # the client went away (cancelled, killed)
            hits.aborted += 1
        finally:
            hits.in_flight -= 1

    async def _wait(self, event: asyncio.Event, at_most: float | None) -> None:
        """Wait for `event` (or the server stopping), at most `at_most` seconds."""
        waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._closing.wait())]
        try:
            await asyncio.wait(waiters, timeout=at_most, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _video(self, video_id: str) -> Video:
        try:
            return self.videos[video_id]
        except KeyError:
            raise KeyError(f"no video {video_id!r}; add_video() it first") from None
