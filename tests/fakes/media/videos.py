"""Tiny real MP4 files for the media fake, made once per test session with ffmpeg.

yt-dlp (and any ffprobe-based post-processing or Plex-side check in the bot) must
see genuine H.264/AAC MP4s, not random bytes, so the files come from ffmpeg's
lavfi test sources. Encoding costs ~0.1 s, hence the cache: one encode per
(duration, resolution), reused by every video of that shape in the session.

Each served file is that cached encode plus a trailing top-level `free` box that
names the video. `free` boxes are valid ISO-BMFF that players skip, so the file
stays playable while every video has distinct bytes (a test can tell which
video landed where) and can be padded to any size (a slow, cancellable download
without encoding minutes of video).
"""

from __future__ import annotations

import atexit
import shutil
import struct
import subprocess
import tempfile
from functools import cache
from pathlib import Path

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"


@cache
def _cache_dir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="medianest-fake-media-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@cache
def encode_clip(duration: float = 1.0, width: int = 160, height: int = 120) -> bytes:
    """A `duration`-second test-pattern clip with a 440 Hz tone (H.264 + AAC, faststart)."""
    out = _cache_dir() / f"clip-{duration:g}s-{width}x{height}.mp4"
    subprocess.run(
        [
            FFMPEG,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size={width}x{height}:rate=15:duration={duration:g}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:sample_rate=22050:duration={duration:g}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "32k",
            "-shortest",
            # moov first, as streaming sites serve it: playable while still downloading
            "-movflags",
            "+faststart",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out.read_bytes()


def free_box(payload: bytes) -> bytes:
    """An ISO-BMFF `free` box around `payload` (players ignore its contents)."""
    return struct.pack(">I", 8 + len(payload)) + b"free" + payload


def make_video_file(video_id: str, duration: float = 1.0, min_size: int = 0) -> bytes:
    """The bytes served for one video: the cached clip, tagged with its id, padded to `min_size`."""
    clip = encode_clip(duration)
    tag = f"medianest-fake-video:{video_id}".encode()
    padding = max(0, min_size - len(clip) - 8 - len(tag))
    return clip + free_box(tag + b"\0" * padding)
