"""FakePlexServer: a Plex Media Server on 127.0.0.1 with libraries, scans and collections.

Behaviour copied from PMS because clients depend on it:
* Token in `X-Plex-Token` header or query; `/identity` answers without one; other
  paths answer 401 with PMS's HTML page. Shared-user tokens may read but not change.
* XML unless `Accept: application/json`.
* A refresh request returns 200 at once; the scan runs later, one at a time, and a
  partial scan (`path=`) looks only at that folder.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from ..base import FakeServer, wait_for
from .library import LIBRARY_IDENTIFIER, OTHER_VIDEOS, Library, LibraryError
from .markup import Node, respond_node
from .models import Collection, Item, Role, Scan, Section, SectionType
from .params import form_fields, new_token, now_epoch, token_of, truthy
from .views import collection_node, container, item_node, section_attrs, section_node

DEFAULT_VERSION = "1.41.3.9314-a0bfb8370"
PUBLIC_PATHS = frozenset({"/identity"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TokenResolver = Callable[[str], Role | None]

_UNAUTHORIZED_HTML = (
    "<html><head><script>window.location = window.location.href.match(/(^.+\\/)[^\\/]*$/)[1]"
    " + 'web/index.html';</script><title>Unauthorized</title></head><body><h1>401 Unauthorized"
    "</h1></body></html>"
)
_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found"}


def html_error(status: int) -> web.Response:
    """PMS reports errors as small HTML pages, not JSON, whatever the Accept header."""
    if status == 401:
        body = _UNAUTHORIZED_HTML
    else:
        reason = _REASONS.get(status, "Error")
        body = f"<html><head><title>{reason}</title></head><body><h1>{status} {reason}</h1></body></html>"
    return web.Response(text=body, status=status, content_type="text/html")


class FakePlexServer(FakeServer):
    def __init__(
        self,
        machine_id: str | None = None,
        admin_token: str | None = None,
        name: str = "MediaNest Test Server",
        version: str = DEFAULT_VERSION,
        owner_username: str = "owner",
    ) -> None:
        self.machine_id = machine_id or secrets.token_hex(20)
        self.admin_token = admin_token or new_token()
        self.name = name
        self.version = version
        self.owner_username = owner_username
        self.library = Library(self.machine_id)
        self.scans: list[Scan] = []
        self.scan_delay = 0.05
        self.scan_duration = 0.0
        self._tokens: dict[str, Role] = {self.admin_token: "admin"}
        self._token_resolver: TokenResolver | None = None
        self._scan_tasks: list[tuple[Scan, asyncio.Task[None]]] = []
        self._scan_lock = asyncio.Lock()
        super().__init__()
        self.app.middlewares.append(self._auth_middleware)
        self.app.middlewares.append(self._error_middleware)

    # ------------------------------------------------------------------ test API

    @property
    def is_up(self) -> bool:
        return self._runner is not None

    def add_section(
        self,
        title: str,
        type: SectionType,
        locations: Iterable[str | os.PathLike[str]],
        agent: str | None = None,
        scanner: str | None = None,
        language: str = "en-US",
    ) -> Section:
        return self.library.add_section(title, type, locations, agent, scanner, language)

    def add_other_videos_section(
        self, locations: Iterable[str | os.PathLike[str]], title: str = "Other videos"
    ) -> Section:
        """The home-video library YouTube downloads go to: movie type, no agent."""
        agent, scanner = OTHER_VIDEOS
        return self.library.add_section(title, "movie", locations, agent, scanner, "xn")

    def section(self, ref: Section | int | str) -> Section:
        return self.library.section(ref)

    def add_item(
        self, section: Section | int | str, title: str, file: str | os.PathLike[str] | None = None, **kw: Any
    ) -> Item:
        """Add an item directly (no scan, no file check); kw: year, type, guid, added_at, size, duration."""
        return self.library.add_item(section, title, file, **kw)

    def items(self, section: Section | int | str | None = None) -> list[Item]:
        if section is None:
            return list(self.library.items.values())
        return self.library.section_items(self.library.section(section))

    def map_path(self, plex_path: str, local_path: str | os.PathLike[str]) -> None:
        """Plex sees `plex_path` where the files really are at `local_path`."""
        self.library.map_path(plex_path, local_path)

    def allow_token(self, token: str, *, admin: bool = False) -> None:
        self._tokens[token] = "admin" if admin else "shared"

    def revoke_token(self, token: str) -> None:
        self._tokens.pop(token, None)

    def set_token_resolver(self, resolver: TokenResolver | None) -> None:
        """Ask plex.tv about tokens the server does not know (FakePlexTv sets this)."""
        self._token_resolver = resolver

    def role_of(self, token: str | None) -> Role | None:
        if not token:
            return None
        role = self._tokens.get(token)
        if role is None and self._token_resolver is not None:
            role = self._token_resolver(token)
        return role

    def set_scan_delay(self, seconds: float, duration: float = 0.0) -> None:
        """Time before a requested scan starts, and how long it shows `refreshing`."""
        self.scan_delay = seconds
        self.scan_duration = duration

    @property
    def collections(self) -> dict[str, list[int]]:
        """Collection title -> ratingKeys of its items (smart ones resolved now)."""
        return {
            c.title: [i.rating_key for i in self.library.collection_items(c)] for c in self.library.collections.values()
        }

    async def wait_scans_done(self, within: float = 10.0) -> None:
        """Poll until every requested scan has finished or was cancelled."""
        await wait_for(lambda: all(s.done for s in self.scans), timeout=within, what="scans to finish")

    async def stop(self) -> None:
        tasks = [task for _, task in self._scan_tasks if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._scan_tasks.clear()
        await super().stop()

    # ------------------------------------------------------------------ routes

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        section = r"/library/sections/{key:\d+}"
        collection = r"/library/collections/{rk:\d+}"
        router.add_get("/", self.handle_root)
        router.add_get("/identity", self.handle_identity)
        router.add_get("/library", self.handle_library)
        router.add_get("/library/sections", self.handle_sections)
        router.add_get("/library/sections/all", self.handle_sections)
        for method in ("GET", "POST"):
            router.add_route(method, "/library/sections/all/refresh", self.handle_refresh_all)
            router.add_route(method, section + "/refresh", self.handle_refresh)
        router.add_delete(section + "/refresh", self.handle_cancel_refresh)
        router.add_get(section, self.handle_section)
        router.add_get(section + "/all", self.handle_section_all)
        router.add_get(section + "/recentlyAdded", self.handle_recently_added)
        router.add_get(section + "/collections", self.handle_section_collections)
        router.add_post("/library/collections", self.handle_create_collection)
        router.add_get(collection, self.handle_collection)
        router.add_delete(collection, self.handle_delete_collection)
        router.add_get(collection + "/children", self.handle_collection_items)
        router.add_get(collection + "/items", self.handle_collection_items)
        router.add_put(collection + "/items", self.handle_collection_add)
        router.add_delete(collection + r"/items/{item:\d+}", self.handle_collection_remove)
        router.add_get("/library/metadata/{ids}", self.handle_metadata)
        router.add_delete("/library/metadata/{ids}", self.handle_delete_metadata)

    @web.middleware
    async def _auth_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PUBLIC_PATHS:
            return await handler(request)
        role = self.role_of(token_of(request))
        if role is None:
            return html_error(401)
        writes = request.method not in ("GET", "HEAD") or request.path.endswith("/refresh")
        if writes and role != "admin":
            return html_error(401)  # PMS answers 401, not 403, to a shared user's admin call
        return await handler(request)

    @web.middleware
    async def _error_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except LibraryError as exc:
            return html_error(exc.status)

    # ------------------------------------------------------------------ server

    async def handle_root(self, request: web.Request) -> web.Response:
        root = container(
            allowCameraUpload=False,
            allowChannelAccess=True,
            allowMediaDeletion=self.library.allow_media_deletion,
            allowSharing=True,
            allowSync=False,
            backgroundProcessing=True,
            certificate=False,
            countryCode="usa",
            friendlyName=self.name,
            machineIdentifier=self.machine_id,
            multiuser=True,
            myPlex=True,
            myPlexMappingState="mapped",
            myPlexSigninState="ok",
            myPlexSubscription=False,
            myPlexUsername=self.owner_username,
            platform="Linux",
            platformVersion="6.1",
            transcoderActiveVideoSessions=0,
            updatedAt=now_epoch(),
            version=self.version,
        )
        for key in ("activities", "butler", "hubs", "library", "playlists", "search", "servers", "status"):
            root.add(Node("Directory", {"count": 1, "key": key, "title": key}, json_key="Directory"))
        root.attrs["size"] = len(root.children)
        return respond_node(request, root)

    async def handle_identity(self, request: web.Request) -> web.Response:
        identity = container(
            size=0, apiVersion="1.1.1", claimed=True, machineIdentifier=self.machine_id, version=self.version
        )
        return respond_node(request, identity)

    async def handle_library(self, request: web.Request) -> web.Response:
        root = container(allowSync=False, identifier=LIBRARY_IDENTIFIER, title1="Plex Library", title2="")
        for key, title in (("sections", "Library Sections"), ("recentlyAdded", "Recently Added Content")):
            root.add(Node("Directory", {"key": key, "title": title}, json_key="Directory"))
        root.attrs["size"] = len(root.children)
        return respond_node(request, root)

    # ------------------------------------------------------------------ sections

    async def handle_sections(self, request: web.Request) -> web.Response:
        sections = list(self.library.sections.values())
        root = container(size=len(sections), allowSync=False, title1="Plex Library")
        root.add(*(section_node(s) for s in sections))
        return respond_node(request, root)

    async def handle_section(self, request: web.Request) -> web.Response:
        section = self.library.section(request.match_info["key"])
        root = container(
            allowSync=True,
            content="secondary",
            identifier=LIBRARY_IDENTIFIER,
            librarySectionID=section.key,
            title1=section.title,
            viewGroup="secondary",
        )
        for key, title in (
            ("all", "All"),
            ("recentlyAdded", "Recently Added"),
            ("collections", "Collections"),
        ):
            root.add(Node("Directory", {"key": key, "title": title}, json_key="Directory"))
        root.attrs["size"] = len(root.children)
        return respond_node(request, root)

    async def handle_section_all(self, request: web.Request) -> web.Response:
        section = self.library.section(request.match_info["key"])
        if request.query.get("type") == "18":
            return self._collections_listing(request, section)
        items = self.library.filter_items(section, request.query)
        return self._item_listing(request, section, items, title2="All")

    async def handle_recently_added(self, request: web.Request) -> web.Response:
        section = self.library.section(request.match_info["key"])
        query = {**request.query, "sort": "addedAt:desc,ratingKey:desc"}
        items = self.library.filter_items(section, query)
        return self._item_listing(request, section, items, title2="Recently Added")

    async def handle_section_collections(self, request: web.Request) -> web.Response:
        return self._collections_listing(request, self.library.section(request.match_info["key"]))

    def _item_listing(self, request: web.Request, section: Section, items: list[Item], title2: str) -> web.Response:
        page, attrs, headers = _page(request, items)
        root = container(
            size=len(page),
            **attrs,
            allowSync=True,
            art=f"/:/resources/{section.type}-fanart.jpg",
            content="secondary",
            identifier=LIBRARY_IDENTIFIER,
            **section_attrs(section),
            mediaTagPrefix="/system/bundle/media/flags/",
            mediaTagVersion=1_700_000_000,
            nocache=True,
            thumb=f"/:/resources/{section.type}.png",
            title1=section.title,
            title2=title2,
            viewGroup=section.type,
        )
        root.add(*(item_node(i) for i in page))
        return respond_node(request, root, headers=headers)

    def _collections_listing(self, request: web.Request, section: Section) -> web.Response:
        collections = [c for c in self.library.collections.values() if c.section_key == section.key]
        collections.sort(key=lambda c: c.title.casefold())
        if "title" in request.query:
            wanted = request.query["title"].casefold()
            collections = [c for c in collections if wanted in c.title.casefold()]
        page, attrs, headers = _page(request, collections)
        root = container(
            size=len(page),
            **attrs,
            allowSync=False,
            identifier=LIBRARY_IDENTIFIER,
            **section_attrs(section),
            title1=section.title,
            title2="Collections",
            viewGroup="secondary",
        )
        root.add(*(self._collection_node(c) for c in page))
        return respond_node(request, root, headers=headers)

    # ------------------------------------------------------------------ scanning

    async def handle_refresh(self, request: web.Request) -> web.Response:
        section = self.library.section(request.match_info["key"])
        self._request_scan(section, request.query.get("path") or None, truthy(request.query.get("force")))
        return web.Response(status=200)

    async def handle_refresh_all(self, request: web.Request) -> web.Response:
        for section in self.library.sections.values():
            self._request_scan(section, None, truthy(request.query.get("force")))
        return web.Response(status=200)

    async def handle_cancel_refresh(self, request: web.Request) -> web.Response:
        key = int(request.match_info["key"])
        for scan, task in self._scan_tasks:
            if scan.section_key == key and not task.done():
                task.cancel()
        return web.Response(status=200)

    def _request_scan(self, section: Section, path: str | None, force: bool) -> Scan:
        scan = Scan(section_key=section.key, path=path, force=force)
        self.scans.append(scan)
        self._scan_tasks = [(s, t) for s, t in self._scan_tasks if not t.done()]
        self._scan_tasks.append((scan, asyncio.get_running_loop().create_task(self._run_scan(scan))))
        return scan

    async def _run_scan(self, scan: Scan) -> None:
        try:
            await asyncio.sleep(self.scan_delay)
            async with self._scan_lock:  # PMS runs one scan at a time
                section = self.library.sections.get(scan.section_key)
                if section is None:
                    scan.cancelled = True
                    return
                scan.started_at = time.monotonic()
                section.refreshing = True
                try:
                    if self.scan_duration:
                        await asyncio.sleep(self.scan_duration)
                    scan.added, scan.removed = self.library.scan(section, scan.path)
                finally:
                    section.refreshing = False
                scan.finished_at = time.monotonic()
        except asyncio.CancelledError:
            scan.cancelled = True
            raise

    # ------------------------------------------------------------------ collections

    async def handle_create_collection(self, request: web.Request) -> web.Response:
        params = {**await form_fields(request), **request.query}
        created = self.library.create_collection(
            params.get("sectionId"),
            params.get("title"),
            truthy(params.get("smart")),
            params.get("uri"),
            params.get("type"),
        )
        return self._collection_response(request, created)

    async def handle_collection(self, request: web.Request) -> web.Response:
        """plexapi reloads and deletes a collection at its key without `/children`."""
        return self._collection_response(request, self.library.collection(request.match_info["rk"]))

    async def handle_delete_collection(self, request: web.Request) -> web.Response:
        self.library.delete(str(self.library.collection(request.match_info["rk"]).rating_key))
        return web.Response(status=200)

    async def handle_collection_items(self, request: web.Request) -> web.Response:
        collection = self.library.collection(request.match_info["rk"])
        section = self.library.sections[collection.section_key]
        page, attrs, headers = _page(request, self.library.collection_items(collection))
        root = container(
            size=len(page),
            **attrs,
            identifier=LIBRARY_IDENTIFIER,
            **section_attrs(section),
            ratingKey=str(collection.rating_key),
            title1=section.title,
            title2=collection.title,
        )
        root.add(*(item_node(i) for i in page))
        return respond_node(request, root, headers=headers)

    async def handle_collection_add(self, request: web.Request) -> web.Response:
        collection = self.library.collection(request.match_info["rk"])
        self.library.add_to_collection(collection, request.query.get("uri"))
        return self._collection_response(request, collection)

    async def handle_collection_remove(self, request: web.Request) -> web.Response:
        collection = self.library.collection(request.match_info["rk"])
        self.library.remove_from_collection(collection, request.match_info["item"])
        return self._collection_response(request, collection)

    def _collection_node(self, collection: Collection) -> Node:
        section = self.library.sections[collection.section_key]
        return collection_node(collection, section, len(self.library.collection_items(collection)))

    def _collection_response(self, request: web.Request, collection: Collection) -> web.Response:
        root = container(size=1, identifier=LIBRARY_IDENTIFIER)
        return respond_node(request, root.add(self._collection_node(collection)))

    # ------------------------------------------------------------------ metadata

    async def handle_metadata(self, request: web.Request) -> web.Response:
        nodes: list[Node] = []
        sections: list[Section] = []
        for raw in request.match_info["ids"].split(","):
            key = int(raw) if raw.isdigit() else -1
            if key in self.library.items:
                item = self.library.items[key]
                sections.append(self.library.sections[item.section_key])
                nodes.append(item_node(item, sections[-1]))
            elif key in self.library.collections:
                collection = self.library.collections[key]
                sections.append(self.library.sections[collection.section_key])
                nodes.append(self._collection_node(collection))
        if not nodes:
            return html_error(404)
        root = container(size=len(nodes), identifier=LIBRARY_IDENTIFIER, **section_attrs(sections[0]))
        return respond_node(request, root.add(*nodes))

    async def handle_delete_metadata(self, request: web.Request) -> web.Response:
        for raw in request.match_info["ids"].split(","):
            self.library.delete(raw)
        return web.Response(status=200)


def _page(request: web.Request, rows: list[Any]) -> tuple[list[Any], dict[str, int], dict[str, str]]:
    """Apply X-Plex-Container-Start/Size (header or query). `totalSize` and `offset` are
    only added when the client paged, as PMS does; the headers are always sent."""

    def read(name: str) -> int | None:
        raw = request.headers.get(name) or request.query.get(name)
        if raw is None:
            return None
        try:
            return max(0, int(raw))
        except ValueError as exc:
            raise LibraryError(400, f"{name} must be an integer") from exc

    start, size = read("X-Plex-Container-Start"), read("X-Plex-Container-Size")
    first = start or 0
    page = rows[first:] if size is None else rows[first : first + size]
    attrs = {"totalSize": len(rows), "offset": first} if start is not None or size is not None else {}
    headers = {"X-Plex-Container-Start": str(first), "X-Plex-Container-Total-Size": str(len(rows))}
    return page, attrs, headers
