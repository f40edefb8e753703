"""A local video site (direct MP4s, RSS playlists) that real yt-dlp downloads from."""

from .catalog import VideoHits
from .server import FakeMediaServer
from .videos import encode_clip, make_video_file

__all__ = ["FakeMediaServer", "VideoHits", "encode_clip", "make_video_file"]
