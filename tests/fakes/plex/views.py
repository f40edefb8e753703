"""PMS documents built from library records, with the attribute names and types of the
real server (JSON `ratingKey` and section `key` are strings; ids and times are numbers)."""

from __future__ import annotations

from typing import Any

from .markup import Node
from .models import Collection, Item, Section

_ITEM_TAGS = {
    "movie": "Video",
    "episode": "Video",
    "clip": "Video",
    "show": "Directory",
    "season": "Directory",
    "artist": "Directory",
    "album": "Directory",
    "track": "Track",
    "photo": "Photo",
}


def container(**attrs: Any) -> Node:
    return Node("MediaContainer", dict(attrs))


def section_attrs(section: Section) -> dict[str, Any]:
    """Container attributes PMS hoists from the section onto its listings."""
    return {
        "librarySectionID": section.key,
        "librarySectionTitle": section.title,
        "librarySectionUUID": section.uuid,
    }


def section_node(section: Section) -> Node:
    node = Node(
        "Directory",
        {
            "allowSync": True,
            "art": f"/:/resources/{section.type}-fanart.jpg",
            "composite": f"/library/sections/{section.key}/composite/{section.updated_at}",
            "filters": True,
            "refreshing": section.refreshing,
            "thumb": f"/:/resources/{section.type}.png",
            "key": str(section.key),
            "type": section.type,
            "title": section.title,
            "agent": section.agent,
            "scanner": section.scanner,
            "language": section.language,
            "uuid": section.uuid,
            "updatedAt": section.updated_at,
            "createdAt": section.created_at,
            "scannedAt": section.scanned_at,
            "content": True,
            "directory": True,
            "contentChangedAt": section.content_changed_at,
            "hidden": 0,  # int 0/1/2 on the wire (old spec); the new spec says boolean
        },
        json_key="Directory",
    )
    for location in section.locations:
        node.add(Node("Location", {"id": location.id, "path": location.path}, json_key="Location"))
    return node


def item_node(item: Item, section: Section | None = None) -> Node:
    """An item; `section` adds the librarySection* attributes PMS puts on items that are
    listed outside their section (metadata lookups, collection children)."""
    attrs: dict[str, Any] = {
        "ratingKey": str(item.rating_key),
        "key": item.key,
        "guid": item.guid,
        "type": item.type,
        "title": item.title,
        "summary": "",
        "year": item.year,
        "thumb": f"{item.key}/thumb/{item.updated_at}",
        "duration": item.duration,
        "addedAt": item.added_at,
        "updatedAt": item.updated_at,
    }
    if section is not None:
        attrs.update(section_attrs(section), librarySectionKey=f"/library/sections/{section.key}")
    node = Node(_ITEM_TAGS.get(item.type, "Video"), attrs, json_key="Metadata")
    if item.file is not None:
        node.add(_media_node(item))
    return node


def _media_node(item: Item) -> Node:
    assert item.file is not None
    part = Node(
        "Part",
        {
            "id": item.rating_key,
            "key": f"/library/parts/{item.rating_key}/{item.added_at}/file.{item.container or 'bin'}",
            "duration": item.duration,
            "file": item.file,
            "size": item.size,
            "container": item.container,
        },
        json_key="Part",
    )
    media = Node(
        "Media",
        {"id": item.rating_key, "duration": item.duration, "container": item.container},
        json_key="Media",
    )
    return media.add(part)


def collection_node(collection: Collection, section: Section, child_count: int) -> Node:
    attrs: dict[str, Any] = {
        "ratingKey": str(collection.rating_key),
        "key": collection.key,
        "guid": collection.guid,
        "type": "collection",
        "title": collection.title,
        "subtype": collection.subtype,
        "summary": "",
        "index": collection.rating_key,
        "smart": collection.smart,
        "content": collection.content,
        "childCount": child_count,
        "thumb": f"/library/collections/{collection.rating_key}/composite/{collection.updated_at}",
        "addedAt": collection.added_at,
        "updatedAt": collection.updated_at,
        **section_attrs(section),
        "librarySectionKey": f"/library/sections/{section.key}",
    }
    return Node("Directory", attrs, json_key="Metadata")
