"""One document model rendered as Plex's XML or JSON, depending on the client's Accept header.

Plex answers XML unless the client sends `Accept: application/json`. The two forms carry
the same data but differ in shape: XML booleans are "1"/"0" and every child is an element
named by its kind (`<Video>`, `<Directory>`), while JSON keeps native types and lists all
library items under `"Metadata"` whatever their XML tag. `Node.json_key` captures that.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from aiohttp import web

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass
class Node:
    """An element: attributes plus children. `json_key` is its list name in JSON."""

    tag: str
    attrs: dict[str, Any] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    json_key: str | None = None

    def add(self, *children: Node) -> Node:
        self.children.extend(children)
        return self


def wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "").lower()


def xml_value(value: Any, none_as_empty: bool = False) -> str | None:
    """Plex's XML encoding of a scalar: bools as 1/0 (plexapi rejects "True")."""
    if value is None:
        return "" if none_as_empty else None
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


# --------------------------------------------------------------------------- Node (PMS)


def node_to_element(node: Node) -> ET.Element:
    element = ET.Element(node.tag)
    for name, value in node.attrs.items():
        text = xml_value(value)
        if text is not None:
            element.set(name, text)
    for child in node.children:
        element.append(node_to_element(child))
    return element


def node_to_xml(node: Node) -> bytes:
    text: bytes = ET.tostring(node_to_element(node), encoding="utf-8")
    return XML_DECLARATION + text


def node_to_json(node: Node) -> dict[str, Any]:
    """`{"MediaContainer": {...attrs, "Metadata": [...]}}`; None attributes are dropped."""
    return {node.tag: _node_body(node)}


def _node_body(node: Node) -> dict[str, Any]:
    body = {name: value for name, value in node.attrs.items() if value is not None}
    for child in node.children:
        body.setdefault(child.json_key or child.tag, []).append(_node_body(child))
    return body


def respond_node(
    request: web.Request, node: Node, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Answer as PMS does: JSON when asked for, otherwise XML."""
    extra = dict(headers or {})
    if wants_json(request):
        body = json.dumps(node_to_json(node)).encode()
        content_type = "application/json"
    else:
        body = node_to_xml(node)
        content_type = "text/xml;charset=utf-8"
    return web.Response(
        body=body, status=status, headers={"Content-Type": content_type, "X-Plex-Protocol": "1.0", **extra}
    )


# --------------------------------------------------------------------------- dicts (plex.tv)


def dict_to_xml(tag: str, data: Mapping[str, Any], item_tags: Mapping[str, str]) -> ET.Element:
    """plex.tv's XML form of a JSON object: scalars become attributes, objects child
    elements, lists a wrapper element of `item_tags[key]` children (strings as `id=`).
    plex.tv writes null as an empty attribute, which plexapi reads as "not set"."""
    element = ET.Element(tag)
    for name, value in data.items():
        if isinstance(value, Mapping):
            element.append(dict_to_xml(name, value, item_tags))
        elif isinstance(value, Sequence) and not isinstance(value, str):
            wrapper = ET.SubElement(element, name)
            child_tag = item_tags.get(name, name.rstrip("s"))
            for entry in value:
                if isinstance(entry, Mapping):
                    wrapper.append(dict_to_xml(child_tag, entry, item_tags))
                else:
                    ET.SubElement(wrapper, child_tag, {"id": str(entry)})
        else:
            element.set(name, xml_value(value, none_as_empty=True) or "")
    return element


def respond_data(
    request: web.Request,
    data: Any,
    xml_tag: str,
    item_tags: Mapping[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """Answer as plex.tv does: JSON when asked for, XML otherwise. A top-level list is
    rendered as `<xml_tag>` holding one element per entry."""
    tags = dict(item_tags or {})
    if wants_json(request):
        return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})
    if isinstance(data, list):
        root = ET.Element(xml_tag, {"size": str(len(data))})
        child_tag = tags.get(xml_tag, xml_tag.rstrip("s"))
        for entry in data:
            root.append(dict_to_xml(child_tag, entry, tags))
    else:
        root = dict_to_xml(xml_tag, data, tags)
    body = XML_DECLARATION + ET.tostring(root, encoding="utf-8")
    return web.Response(body=body, status=status, headers={"Content-Type": "application/xml; charset=utf-8"})
