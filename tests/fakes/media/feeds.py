"""RSS 2.0 playlist feeds in the form yt-dlp's generic extractor turns into playlists.

`GenericIE._extract_rss` (yt-dlp 2026.10.26) reads, per feed:
  channel/title -> playlist title (`playlist_title` / `playlist` on every entry)
  the feed URL  -> playlist id (not our playlist id: yt-dlp has nothing else to use)
and per item:
  enclosure@url -> the URL the entry is extracted from (our direct MP4 link)
  guid          -> the entry's `id` (smuggled as `force_videoid`), hence archive key
  title, description, pubDate (-> timestamp), itunes:duration (-> duration)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from .catalog import Playlist, Video

CONTENT_TYPE = "application/rss+xml; charset=utf-8"


def render_feed(playlist: Playlist, videos: Iterable[Video], video_url: Callable[[str], str], link: str) -> bytes:
    items = "".join(
        "<item>"
        f"<title>{escape(v.title)}</title>"
        f'<guid isPermaLink="false">{escape(v.id)}</guid>'
        f'<enclosure url={quoteattr(video_url(v.id))} type="video/mp4" length="{v.size}"/>'
        f"<pubDate>{format_datetime(v.published, usegmt=True)}</pubDate>"
        f"<description>{escape(v.title)} (fake media server)</description>"
        f"<itunes:duration>{round(v.duration)}</itunes:duration>"
        "</item>"
        for v in videos
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">'
        "<channel>"
        f"<title>{escape(playlist.title)}</title>"
        f"<link>{escape(link)}</link>"
        f"<description>Playlist {escape(playlist.id)}</description>"
        f"{items}"
        "</channel></rss>"
    ).encode()
