"""Single-range `Range: bytes=...` parsing (RFC 9110 section 14), as a CDN applies it.

yt-dlp sends ranges to resume a `.part` file (`bytes=<done>-`) and, with
`http_chunk_size`, for every chunk (`bytes=<a>-<b>`). Multi-range and malformed
headers are ignored (full 200 answer), which real servers are allowed to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class Unsatisfiable(Exception):
    """The range starts past the end of the file: answer 416 `bytes */<size>`."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The range to serve, or None for the whole file (200)."""
    if not header:
        return None
    match = _RANGE.match(header)
    if not match or not (match.group(1) or match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if not first:  # suffix range: the last N bytes
        count = int(last)
        if count == 0:
            raise Unsatisfiable
        return ByteRange(max(0, size - count), size - 1)
    start = int(first)
    if start >= size:
        raise Unsatisfiable
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None
    return ByteRange(start, end)
