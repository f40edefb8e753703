"""Putting finished downloads into Plex: scan the folder, find the items, make the collection.

Plex scans asynchronously, so after asking for a scan of just the download
folder we poll the newest items of the section (not the whole library) until
every file shows up or the deadline passes, then create the collection named
after the playlist, or extend it if it exists.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import AppError, ErrorCode
from bot.files import plex_path
from bot.integrations.plex import PlexLibrary

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PublishResult:
    section_title: str
    rating_keys: dict[str, str]  # local file path -> Plex rating key
    missing: list[str] = field(default_factory=list)
    collection_key: str | None = None
    collection_title: str | None = None


class PlexPublisher:
    def __init__(
        self,
        library: PlexLibrary,
        *,
        download_root: Path,
        plex_root: str | None,
        section_ref: str | None,
        scan_timeout: float,
        poll_interval: float = 1.0,
    ) -> None:
        self.library = library
        self.download_root = download_root
        self.plex_root = plex_root
        self.section_ref = section_ref
        self.scan_timeout = scan_timeout
        self.poll_interval = poll_interval

    def _plex(self, local: Path) -> str:
        return plex_path(local, self.download_root, self.plex_root)

    async def publish(self, folder: Path, files: list[Path], collection_title: str | None) -> PublishResult:
        root_for_plex = self.plex_root or str(self.download_root.resolve())
        section = await self.library.find_section(self.section_ref, root_for_plex)
        await self.library.scan(section.key, self._plex(folder))
        wanted = {self._plex(f): str(f) for f in files}
        found: dict[str, str] = {}
        deadline = time.monotonic() + self.scan_timeout
        while True:
            for item in await self.library.recent_items(section.key, max(100, len(wanted) + 50)):
                for file in item.files:
                    if file in wanted:
                        found[wanted[file]] = item.rating_key
            if len(found) == len(wanted) or time.monotonic() >= deadline:
                break
            await asyncio.sleep(self.poll_interval)
        missing = [local for local in wanted.values() if local not in found]
        if missing:
            log.warning("%d file(s) did not appear in Plex within %ss", len(missing), self.scan_timeout)
        if not collection_title or not found:
            return PublishResult(section.title, found, missing)
        keys = [found[str(f)] for f in files if str(f) in found]
        collection = await self.library.collection_by_title(section.key, collection_title)
        if collection is None:
            collection = await self.library.create_collection(section.key, collection_title, keys)
        else:
            present = set(await self.library.collection_items(collection))
            new = [k for k in keys if k not in present]
            if new:
                await self.library.add_to_collection(collection, new)
        return PublishResult(section.title, found, missing, collection, collection_title)


def plex_unavailable(exc: AppError) -> bool:
    """Worth retrying later (Plex down or erroring) rather than a configuration problem."""
    return exc.code in (ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.EXTERNAL_SERVICE_ERROR)
