"""Safe names and paths under the download root.

Names come from YouTube titles, which may hold anything; paths are checked to
stay inside the root after resolution, whatever a name contained.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')
_SPACES = re.compile(r"\s+")
MAX_NAME_BYTES = 150
WORK_DIR_NAME = ".medianest-work"


class PathEscapeError(Exception):
    """A computed path left the download root: refuse, never write."""


def safe_name(text: str | None, fallback: str) -> str:
    """A single path component: no separators, no control or reserved characters, no leading dots."""
    name = unicodedata.normalize("NFC", text or "")
    name = _UNSAFE.sub(" ", name)
    name = _SPACES.sub(" ", name).strip(" .")
    encoded = name.encode()
    if len(encoded) > MAX_NAME_BYTES:
        name = encoded[:MAX_NAME_BYTES].decode(errors="ignore").rstrip()
    return name or fallback


def inside(root: Path, *parts: str) -> Path:
    """root/parts…, resolved, refusing anything that is not strictly inside root."""
    base = root.resolve()
    candidate = base.joinpath(*parts).resolve()
    if candidate == base or not candidate.is_relative_to(base):
        raise PathEscapeError(f"{candidate} is outside {base}")
    return candidate


def work_root(root: Path) -> Path:
    return root / WORK_DIR_NAME


def work_dir(root: Path, download_id: int) -> Path:
    return inside(root, WORK_DIR_NAME, str(download_id))


def plex_path(local: Path, root: Path, plex_root: str | None) -> str:
    """The same file or folder as the Plex server sees it (another mount point in another container)."""
    if not plex_root:
        return str(local)
    relative = local.resolve().relative_to(root.resolve())
    return str(Path(plex_root) / relative)
