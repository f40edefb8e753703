"""The media library behind FakePlexServer: sections, items, collections and the scanner.

Kept free of HTTP so the rules (what a scan finds, how filters and collection uris are
read) can be read in one place. Paths are Plex's view (POSIX strings); a path map turns
them into directories on the test machine, as when PMS runs in a container.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qsl, urlsplit

from .models import Collection, Item, Location, Section, SectionType
from .params import now_epoch

VIDEO_EXTENSIONS = frozenset(
    {
        "3gp",
        "asf",
        "avi",
        "divx",
        "flv",
        "m2ts",
        "m4v",
        "mkv",
        "mov",
        "mp4",
        "mpeg",
        "mpg",
        "ogv",
        "ts",
        "vob",
        "webm",
        "wmv",
    }
)
# plexapi.utils.SEARCHTYPES: the numeric `type` filter and collection `type` parameter.
TYPE_CODES: dict[str, int] = {
    "movie": 1,
    "show": 2,
    "season": 3,
    "episode": 4,
    "artist": 8,
    "album": 9,
    "track": 10,
    "clip": 12,
    "photo": 13,
    "photoalbum": 14,
    "collection": 18,
}
SECTION_DEFAULTS: dict[str, tuple[str, str]] = {
    "movie": ("tv.plex.agents.movie", "Plex Movie"),
    "show": ("tv.plex.agents.series", "Plex TV Series"),
    "artist": ("tv.plex.agents.music", "Plex Music"),
    "photo": ("com.plexapp.agents.none", "Plex Photo Scanner"),
}
OTHER_VIDEOS = ("tv.plex.agents.none", "Plex Video Files Scanner")
LIBRARY_IDENTIFIER = "com.plexapp.plugins.library"
_TITLE_YEAR = re.compile(r"^(?P<title>.+?)\s*\((?P<year>\d{4})\)$")
_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)


class LibraryError(Exception):
    """A request PMS would refuse; `status` is the HTTP status it answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def sort_title(title: str) -> str:
    """Plex sorts English titles without a leading article ("The Matrix" under M)."""
    return _ARTICLE.sub("", title).casefold()


class Library:
    def __init__(self, machine_id: str) -> None:
        self.machine_id = machine_id
        self.sections: dict[int, Section] = {}
        self.items: dict[int, Item] = {}
        self.collections: dict[int, Collection] = {}
        self.path_map: list[tuple[PurePosixPath, Path]] = []
        self.empty_trash_after_scan = True  # PMS default: missing files leave the library
        self.allow_media_deletion = True  # PMS default: DELETE removes the file on disk
        self._next_key = {"section": 1, "location": 1, "rating": 1, "part": 1}

    def _next(self, kind: str) -> int:
        value = self._next_key[kind]
        self._next_key[kind] = value + 1
        return value

    # ------------------------------------------------------------------ sections

    def add_section(
        self,
        title: str,
        type: SectionType,
        locations: Iterable[str | os.PathLike[str]],
        agent: str | None = None,
        scanner: str | None = None,
        language: str = "en-US",
    ) -> Section:
        default_agent, default_scanner = SECTION_DEFAULTS[type]
        now = now_epoch()
        section = Section(
            key=self._next("section"),
            title=title,
            type=type,
            agent=agent or default_agent,
            scanner=scanner or default_scanner,
            language=language,
            uuid=str(uuid.uuid4()),
            locations=[Location(self._next("location"), _plex_path(p)) for p in locations],
            created_at=now,
            updated_at=now,
            scanned_at=now,
            content_changed_at=now,
        )
        self.sections[section.key] = section
        return section

    def section(self, ref: Section | int | str) -> Section:
        """A section by object, key (int or digit string) or title."""
        if isinstance(ref, Section):
            return ref
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            found = self.sections.get(int(ref))
        else:
            found = next((s for s in self.sections.values() if s.title == ref), None)
        if found is None:
            raise LibraryError(404, f"no section {ref!r}")
        return found

    # ------------------------------------------------------------------ items

    def add_item(
        self,
        section: Section | int | str,
        title: str,
        file: str | os.PathLike[str] | None = None,
        *,
        year: int | None = None,
        type: str | None = None,
        guid: str | None = None,
        added_at: int | None = None,
        size: int | None = None,
        duration: int | None = None,
    ) -> Item:
        sec = self.section(section)
        now = now_epoch()
        rating_key = self._next("rating")
        item = Item(
            rating_key=rating_key,
            section_key=sec.key,
            type=type or sec.type,
            title=title,
            file=_plex_path(file) if file is not None else None,
            guid=guid or f"local://{rating_key}",
            added_at=added_at if added_at is not None else now,
            updated_at=now,
            year=year,
            size=size,
            duration=duration,
        )
        self.items[rating_key] = item
        sec.content_changed_at = now
        return item

    def section_items(self, section: Section) -> list[Item]:
        return [i for i in self.items.values() if i.section_key == section.key]

    def filter_items(self, section: Section, query: Mapping[str, str]) -> list[Item]:
        """The subset of PMS media queries clients use: type, title (contains; `title==x`
        arrives as "=x" and is exact), year, and sort (`field[:desc]`, default titleSort)."""
        items = self.section_items(section)
        if "type" in query:
            code = _int(query["type"], "type")
            items = [i for i in items if TYPE_CODES.get(i.type) == code]
        if "title" in query:
            wanted = query["title"]
            if wanted.startswith("="):
                items = [i for i in items if i.title.casefold() == wanted[1:].casefold()]
            else:
                items = [i for i in items if wanted.casefold() in i.title.casefold()]
        if "year" in query:
            year = _int(query["year"], "year")
            items = [i for i in items if i.year == year]
        return _sort(items, query.get("sort", "titleSort"))

    def find_by_file(self, plex_path: str) -> Item | None:
        return next((i for i in self.items.values() if i.file == plex_path), None)

    # ------------------------------------------------------------------ paths

    def map_path(self, plex_path: str, local_path: str | os.PathLike[str]) -> None:
        """Plex sees `plex_path` where the test has `local_path` (a container mount)."""
        self.path_map.append((PurePosixPath(_plex_path(plex_path)), Path(local_path)))
        self.path_map.sort(key=lambda pair: len(pair[0].parts), reverse=True)

    def to_local(self, plex_path: str) -> Path:
        pure = PurePosixPath(plex_path)
        for prefix, local in self.path_map:
            if pure.is_relative_to(prefix):
                return local.joinpath(*pure.relative_to(prefix).parts)
        return Path(plex_path)

    def to_plex(self, local_path: Path) -> str:
        for prefix, local in self.path_map:
            if local_path.is_relative_to(local):
                return str(prefix.joinpath(*local_path.relative_to(local).parts))
        return _plex_path(local_path)

    # ------------------------------------------------------------------ scanning

    def scan(self, section: Section, path: str | None = None) -> tuple[list[int], list[int]]:
        """Scan the section, or only `path` if it lies inside one of its locations (PMS
        ignores partial scans elsewhere). New video files become items titled after the
        file; items whose file vanished from the scanned folders are removed (PMS's
        default "empty trash after every scan"). Only movie-type sections (which include
        "Other videos") are scanned; shows, music and photos need add_item."""
        if section.type != "movie":
            section.scanned_at = now_epoch()
            return [], []
        # A location whose folder is missing (unmounted disk) is skipped, not emptied.
        locations = [loc.path for loc in section.locations if self.to_local(loc.path).exists()]
        roots = locations
        if path is not None:
            wanted = PurePosixPath(_plex_path(path))
            roots = [str(wanted)] if any(wanted.is_relative_to(r) for r in locations) else []
        added: list[int] = []
        removed: list[int] = []
        for root in roots:
            found = set(self._video_files(root))
            for plex_file in sorted(found):
                if self.find_by_file(plex_file) is None:
                    added.append(self._item_from_file(section, plex_file).rating_key)
            if self.empty_trash_after_scan:
                for item in self.section_items(section):
                    if item.file and _under(item.file, root) and item.file not in found:
                        self.remove_item(item.rating_key)
                        removed.append(item.rating_key)
        now = now_epoch()
        section.scanned_at = now
        if added or removed:
            section.content_changed_at = now
        return added, removed

    def _video_files(self, plex_root: str) -> Iterable[str]:
        local_root = self.to_local(plex_root)
        if local_root.is_file():
            if _is_video(local_root.name):
                yield self.to_plex(local_root)
            return
        for dirpath, dirnames, filenames in os.walk(local_root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if _is_video(name):
                    yield self.to_plex(Path(dirpath) / name)

    def _item_from_file(self, section: Section, plex_file: str) -> Item:
        stem = PurePosixPath(plex_file).stem
        title, year = stem, None
        match = _TITLE_YEAR.match(stem)
        if match and not section.is_personal_media:
            title, year = match["title"], int(match["year"])
        local = self.to_local(plex_file)
        size = local.stat().st_size if local.exists() else None
        return self.add_item(section, title, plex_file, year=year, size=size)

    # ------------------------------------------------------------------ collections

    def create_collection(
        self, section_id: str | None, title: str | None, smart: bool, uri: str | None, type_code: str | None
    ) -> Collection:
        if not section_id:
            raise LibraryError(400, "sectionId is required")
        try:
            section = self.section(section_id)
        except LibraryError as exc:
            raise LibraryError(400, "section could not be found") from exc
        if not title:
            raise LibraryError(400, "title is required")
        if smart and not uri:
            raise LibraryError(400, "uri is required for a smart collection")
        subtype: str = section.type
        if type_code:
            code = _int(type_code, "type")
            subtype = next((name for name, c in TYPE_CODES.items() if c == code), subtype)
        now = now_epoch()
        collection = Collection(
            rating_key=self._next("rating"),
            section_key=section.key,
            title=title,
            subtype=subtype,
            guid=f"collection://{uuid.uuid4()}",
            added_at=now,
            updated_at=now,
            smart=smart,
        )
        if smart:
            assert uri is not None
            self._section_query(uri)  # validate now, as PMS does
            collection.content = uri
        elif uri:
            collection.item_keys = self._valid_keys(self._metadata_keys(uri), section)
        self.collections[collection.rating_key] = collection
        return collection

    def collection(self, rating_key: str | int) -> Collection:
        found = self.collections.get(_int(str(rating_key), "collection"))
        if found is None:
            raise LibraryError(404, f"no collection {rating_key}")
        return found

    def collection_items(self, collection: Collection) -> list[Item]:
        if collection.smart and collection.content:
            section, query = self._section_query(collection.content)
            return self.filter_items(section, query)
        return [self.items[k] for k in collection.item_keys if k in self.items]

    def add_to_collection(self, collection: Collection, uri: str | None) -> None:
        if collection.smart:
            raise LibraryError(400, "cannot add items to a smart collection")
        if not uri:
            raise LibraryError(400, "uri is required")
        section = self.sections[collection.section_key]
        for key in self._valid_keys(self._metadata_keys(uri), section):
            if key not in collection.item_keys:
                collection.item_keys.append(key)
        collection.updated_at = now_epoch()

    def remove_from_collection(self, collection: Collection, item_key: str) -> None:
        key = _int(item_key, "item")
        if key not in collection.item_keys:
            raise LibraryError(404, f"item {key} is not in collection {collection.rating_key}")
        collection.item_keys.remove(key)
        collection.updated_at = now_epoch()

    # ------------------------------------------------------------------ deletion

    def remove_item(self, rating_key: int) -> Item:
        item = self.items.pop(rating_key)
        for collection in self.collections.values():
            if rating_key in collection.item_keys:
                collection.item_keys.remove(rating_key)
        return item

    def delete(self, rating_key: str) -> None:
        """DELETE /library/metadata/{id}: a collection goes away; a media item goes away
        together with its file on disk (PMS's "Allow media deletion" setting)."""
        key = _int(rating_key, "ratingKey")
        if key in self.collections:
            del self.collections[key]
            return
        if key not in self.items:
            raise LibraryError(404, f"no item {key}")
        if not self.allow_media_deletion:
            raise LibraryError(403, "media deletion is disabled")
        item = self.remove_item(key)
        if item.file:
            self.to_local(item.file).unlink(missing_ok=True)

    # ------------------------------------------------------------------ uris

    def _split_uri(self, uri: str) -> tuple[str, str]:
        """`server://{machineId}/com.plexapp.plugins.library{path}` -> (path, query)."""
        parts = urlsplit(uri)
        if parts.scheme != "server" or parts.netloc != self.machine_id:
            raise LibraryError(400, f"uri does not name this server: {uri}")
        prefix = f"/{LIBRARY_IDENTIFIER}"
        if not parts.path.startswith(prefix + "/"):
            raise LibraryError(400, f"uri is not a library uri: {uri}")
        return parts.path[len(prefix) :], parts.query

    def _metadata_keys(self, uri: str) -> list[int]:
        path, _ = self._split_uri(uri)
        if not path.startswith("/library/metadata/"):
            raise LibraryError(400, f"expected /library/metadata/ in uri: {uri}")
        raw = path[len("/library/metadata/") :].strip("/")
        return [_int(k, "ratingKey") for k in raw.split(",") if k]

    def _section_query(self, uri: str) -> tuple[Section, dict[str, str]]:
        path, query = self._split_uri(uri)
        match = re.fullmatch(r"/library/sections/(\d+)/all", path)
        if not match:
            raise LibraryError(400, f"smart collection uri must list a section: {uri}")
        return self.section(int(match[1])), dict(parse_qsl(query))

    def _valid_keys(self, keys: list[int], section: Section) -> list[int]:
        """Keys of items that exist in the section; PMS silently skips the rest."""
        seen: list[int] = []
        for key in keys:
            item = self.items.get(key)
            if item is not None and item.section_key == section.key and key not in seen:
                seen.append(key)
        return seen


def _plex_path(path: str | os.PathLike[str]) -> str:
    text = os.fspath(path)
    return str(PurePosixPath(text)) if text else text


def _under(path: str, root: str) -> bool:
    return PurePosixPath(path).is_relative_to(root)


def _is_video(name: str) -> bool:
    return not name.startswith(".") and "." in name and name.rsplit(".", 1)[-1].lower() in VIDEO_EXTENSIONS


def _int(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise LibraryError(400, f"{what} must be an integer, got {value!r}") from exc


_SORT_FIELDS = {
    "titleSort": lambda i: sort_title(i.title),
    "title": lambda i: i.title.casefold(),
    "addedAt": lambda i: i.added_at,
    "updatedAt": lambda i: i.updated_at,
    "year": lambda i: i.year or 0,
    "ratingKey": lambda i: i.rating_key,
}


def _sort(items: list[Item], spec: str) -> list[Item]:
    """Stable multi-key sort, applied from the last key to the first."""
    for part in reversed([p for p in spec.split(",") if p]):
        name, _, direction = part.partition(":")
        key = _SORT_FIELDS.get(name)
        if key is None:
            raise LibraryError(400, f"unknown sort field {name!r}")
        items = sorted(items, key=key, reverse=direction == "desc")
    return items
