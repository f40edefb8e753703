"""FakeOverseerr, exercised over HTTP the way the bot's client will use it.

Each test talks to the fake with httpx, as a client would, and the fixture
fails the test at teardown if any request or response broke Overseerr's spec.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from aiohttp import web

from tests.fakes.base import FakeServer, json_response, wait_for
from tests.fakes.overseerr import FakeOverseerr, MediaRequestStatus, MediaStatus, OverseerrError, Permission, User

if TYPE_CHECKING:
    from tests.fakes.overseerr.pytest_plugin import MakeFake

# The `fake_overseerr` and `make_fake_overseerr` fixtures.
pytest_plugins = ["tests.fakes.overseerr.pytest_plugin"]


def client(fake: FakeOverseerr, user: User | None = None, **kwargs: Any) -> httpx.AsyncClient:
    """A client configured as the bot's: base URL plus the API key, acting as `user`."""
    return httpx.AsyncClient(base_url=fake.api_url, headers=fake.headers(user), timeout=5.0, **kwargs)


class WebhookReceiver(FakeServer):
    """The bot's webhook endpoint: records posts, answers `status`, can hold answers back."""

    def __init__(self) -> None:
        self.status = 204
        self.gate: asyncio.Event | None = None
        super().__init__()

    def setup_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/overseerr", self.receive)

    async def receive(self, request: web.Request) -> web.StreamResponse:
        if self.gate is not None:
            await self.gate.wait()
        if self.status == 204:
            return web.Response(status=204)
        return json_response({"ok": False}, status=self.status)

    @property
    def payloads(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.calls("POST", "/overseerr")]


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver()
    await server.start()
    yield server
    if server.gate is not None:
        server.gate.set()
    await server.stop()


def seed(fake: FakeOverseerr) -> None:
    fake.add_movie(550, "Fight Club", 1999, overview="An insomniac office worker...", poster_path="/fc.jpg")
    fake.add_movie(603, "The Matrix", 1999, overview="A hacker learns...", poster_path="/mx.jpg")
    fake.add_tv(1399, "Game of Thrones", [(0, 10), (1, 10), (2, 10), (3, 10)], year=2011, poster_path="/got.jpg")


# --------------------------------------------------------------------------- search


async def test_search_pages_results_and_reports_known_media(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    seed(fake)
    for n in range(25):
        fake.add_movie(10_000 + n, f"Star Voyage {n}", 2000 + n, poster_path=f"/sv{n}.jpg")
    fake.add_person(31, "Tom Hanks", known_for=[("movie", 550)])
    fake.set_available(("movie", 603))

    async with client(fake) as http:
        first = (await http.get("/search", params={"query": "star voyage", "page": 1, "language": "en"})).json()
        second = (await http.get("/search", params={"query": "star voyage", "page": 2})).json()
        matrix = (await http.get("/search", params={"query": "The Matrix"})).json()
        thrones = (await http.get("/search", params={"query": "thrones"})).json()
        hanks = (await http.get("/search", params={"query": "hanks"})).json()
        by_id = (await http.get("/search", params={"query": "tmdb:1399"})).json()

    assert (first["page"], first["totalPages"], first["totalResults"]) == (1, 2, 25)
    assert len(first["results"]) == 20 and len(second["results"]) == 5
    movie = matrix["results"][0]
    assert movie["mediaType"] == "movie" and movie["id"] == 603 and movie["title"] == "The Matrix"
    assert movie["releaseDate"].startswith("1999") and movie["posterPath"] == "/mx.jpg"
    assert movie["mediaInfo"]["status"] == MediaStatus.AVAILABLE
    show = thrones["results"][0]
    assert show["mediaType"] == "tv" and show["name"] == "Game of Thrones" and "mediaInfo" not in show
    assert show["firstAirDate"].startswith("2011")
    assert hanks["results"][0]["mediaType"] == "person"
    assert hanks["results"][0]["knownFor"][0]["title"] == "Fight Club"
    assert [r["id"] for r in by_id["results"]] == [1399]


async def test_movie_and_tv_details(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    seed(fake)
    async with client(fake) as http:
        tv = (await http.get("/tv/1399")).json()
        movie = (await http.get("/movie/550")).json()
        missing = await http.get("/movie/999")
    assert [(s["seasonNumber"], s["episodeCount"], s["name"]) for s in tv["seasons"]] == [
        (0, 10, "Specials"),
        (1, 10, "Season 1"),
        (2, 10, "Season 2"),
        (3, 10, "Season 3"),
    ]
    assert tv["externalIds"]["tvdbId"] and "mediaInfo" not in tv
    assert movie["title"] == "Fight Club" and movie["imdbId"] == "tt0000550"
    assert missing.status_code == 500 and missing.json() == {"message": "Unable to retrieve movie."}


# ---------------------------------------------------------------------------- users


async def test_user_paging_sorting_and_email_filtering(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    members = [fake.add_user(f"member{n:02d}", plex_id=500 + n) for n in range(12)]

    async with client(fake) as http:
        page2 = (await http.get("/user", params={"take": 5, "skip": 5, "sort": "created"})).json()
        by_name = (await http.get("/user", params={"take": 3, "sort": "displayname"})).json()
        one = (await http.get(f"/user/{members[0].id}")).json()
        missing = await http.get("/user/999")
    async with client(fake, members[0]) as http:
        as_member = (await http.get("/user", params={"take": 2})).json()

    assert page2["pageInfo"] == {"pages": 3, "pageSize": 5, "results": 13, "page": 2}
    assert [u["id"] for u in page2["results"]] == [6, 7, 8, 9, 10]
    assert [u["displayName"] for u in by_name["results"]] == ["admin", "member00", "member01"]
    assert one["plexUsername"] == "member00" and one["username"] is None and one["plexId"] == 500
    assert one["email"] == "member00@example.com" and one["displayName"] == "member00"
    assert missing.status_code == 404 and missing.json() == {"message": "User not found."}
    # Without MANAGE_USERS, Overseerr filters email and plexId out (User.filter()).
    assert "email" not in as_member["results"][0] and "plexId" not in as_member["results"][0]


async def test_import_from_plex(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    fake.add_plex_account(7001, "carol", "carol@example.com")
    fake.add_plex_account(7002, "dave", "dave@example.com")
    fake.add_plex_account(7003, "erin", "erin@example.com", has_access=False)
    existing = fake.add_user("olduser", plex_id=7004, email="old@example.com")
    fake.add_plex_account(7004, "renamed", "old@example.com")

    async with client(fake) as http:
        response = await http.post("/user/import-from-plex", json={"plexIds": ["7001", "7003"]})
        numbers = await http.post("/user/import-from-plex", json={"plexIds": [7002]})
        no_ids = await http.post("/user/import-from-plex", json={})
        users = (await http.get("/user", params={"take": 50})).json()["results"]

    assert response.status_code == 201
    created = response.json()
    assert [u["plexUsername"] for u in created] == ["carol"]
    assert "email" not in created[0] and "plexId" not in created[0]
    assert {u["plexId"]: u["plexUsername"] for u in users} == {
        fake.admin.plex_id: "admin",
        7004: "renamed",
        7001: "carol",
    }
    assert existing.plex_username == "renamed"
    # plexIds are strings in the spec, and Overseerr compares them with ===.
    assert numbers.status_code == 400
    assert no_ids.status_code == 500
    assert no_ids.json() == {"message": "Cannot read properties of undefined (reading 'includes')"}
    errors = fake.take_contract_errors()
    assert len(errors) == 1 and "/body/plexIds/0" in errors[0].error


async def test_notification_settings_discord_id(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    alice = fake.add_user("alice", plex_id=41)
    bob = fake.add_user("bob", plex_id=42)
    path = f"/user/{alice.id}/settings/notifications"

    async with client(fake) as http:
        before = (await http.get(path)).json()
        saved = await http.post(
            path,
            json={"discordId": "123456789012345678", "telegramChatId": "42", "notificationTypes": {"discord": 14}},
        )
        after = (await http.get(path)).json()
        cleared = (await http.post(path, json={"discordId": "123456789012345678"})).json()
    async with client(fake, alice) as http:
        own = await http.get(path)
    async with client(fake, bob) as http:
        other = await http.get(path)

    assert "discordId" not in before and before["notificationTypes"] == {}
    assert saved.status_code == 200 and saved.json()["discordId"] == "123456789012345678"
    assert after["discordId"] == "123456789012345678" and after["telegramChatId"] == "42"
    # Every field is taken from the body: leaving telegramChatId out cleared it.
    assert "telegramChatId" not in cleared and alice.settings is not None and alice.settings.telegram_chat_id is None
    assert own.status_code == 200
    assert other.status_code == 403
    assert other.json() == {"message": "You do not have permission to view this user's settings."}


async def test_seerr_notification_settings_use_discord_ids(make_fake_overseerr: MakeFake) -> None:
    fake = await make_fake_overseerr("seerr")
    alice = fake.add_user("alice", plex_id=41)
    path = f"/user/{alice.id}/settings/notifications"
    async with client(fake) as http:
        await http.post(path, json={"discordIds": ["111", "222"]})
        got = (await http.get(path)).json()
        await http.post(path, json={"discordId": "333"})
        ignored = (await http.get(path)).json()
    assert got["discordIds"] == ["111", "222"] and "discordId" not in got
    assert ignored["discordIds"] == []


# ------------------------------------------------------------------------- requests


async def test_requests_as_users_pending_or_auto_approved(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    seed(fake)
    member = fake.add_user("member", plex_id=11)
    trusted = fake.add_user("trusted", plex_id=12, permissions=Permission.REQUEST | Permission.AUTO_APPROVE)

    async with client(fake, member) as http:
        pending = await http.post("/request", json={"mediaType": "movie", "mediaId": 550, "is4k": False})
    async with client(fake, trusted) as http:
        approved = await http.post("/request", json={"mediaType": "movie", "mediaId": 603, "is4k": False})
    async with client(fake) as http:
        listed = (await http.get("/request", params={"take": 10, "skip": 0, "filter": "all", "sort": "added"})).json()
        only_pending = (await http.get("/request", params={"filter": "pending"})).json()
        one = (await http.get(f"/request/{pending.json()['id']}")).json()
        counts = (await http.get("/request/count")).json()
    async with client(fake, member) as http:
        mine = (await http.get("/request")).json()
        forbidden = await http.get(f"/request/{approved.json()['id']}")
        cannot_approve = await http.post(f"/request/{pending.json()['id']}/approve")

    assert pending.status_code == 201
    body = pending.json()
    assert body["status"] == MediaRequestStatus.PENDING and body["modifiedBy"] is None
    assert body["requestedBy"]["id"] == member.id and body["media"]["status"] == MediaStatus.PENDING
    assert approved.json()["status"] == MediaRequestStatus.APPROVED
    assert approved.json()["modifiedBy"]["id"] == trusted.id
    assert approved.json()["media"]["status"] == MediaStatus.PROCESSING
    assert [r["id"] for r in listed["results"]] == [2, 1]
    assert [r["id"] for r in only_pending["results"]] == [1]
    assert one["media"]["tmdbId"] == 550
    assert counts["pending"] == 1 and counts["approved"] == 1 and counts["total"] == 2
    assert [r["id"] for r in mine["results"]] == [1]
    assert forbidden.status_code == 403
    assert cannot_approve.status_code == 403
    assert cannot_approve.json() == {"status": 403, "error": "You do not have permission to access this endpoint"}


async def test_request_without_api_user_is_the_admins(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    seed(fake)
    member = fake.add_user("member", plex_id=11)
    async with client(fake) as http:
        own = (await http.post("/request", json={"mediaType": "movie", "mediaId": 550, "is4k": False})).json()
        on_behalf = (
            await http.post("/request", json={"mediaType": "movie", "mediaId": 603, "is4k": False, "userId": member.id})
        ).json()
    assert own["requestedBy"]["id"] == 1 and own["status"] == MediaRequestStatus.APPROVED
    # userId moves the request (and quota) to the member, but approval follows the caller.
    assert on_behalf["requestedBy"]["id"] == member.id and on_behalf["status"] == MediaRequestStatus.APPROVED


async def test_duplicate_movie_request_is_409(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    seed(fake)
    first = fake.add_user("first", plex_id=11)
    second = fake.add_user("second", plex_id=12)
    original = fake.create_request_as(first, "movie", 550)
    with pytest.raises(OverseerrError) as raised:
        fake.create_request_as(first, "movie", 550)  # the same click in the web UI

    async with client(fake, second) as http:
        duplicate = await http.post("/request", json={"mediaType": "movie", "mediaId": 550, "is4k": False})
        in_4k = await http.post("/request", json={"mediaType": "movie", "mediaId": 550, "is4k": True})
        fake.decline(original)
        again = await http.post("/request", json={"mediaType": "movie", "mediaId": 550, "is4k": False})

    assert raised.value.status == 409
    assert duplicate.status_code == 409
    assert duplicate.json() == {"message": "Request for this media already exists."}
    assert in_4k.status_code == 403  # a different request (4K), refused for lack of permission
    assert again.status_code == 201


async def test_quota_exceeded_is_403(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    seed(fake)
    limited = fake.add_user("limited", plex_id=11, movie_quota=(1, 7), tv_quota=(2, 7))
    async with client(fake, limited) as http:
        ok = await http.post("/request", json={"mediaType": "movie", "mediaId": 550, "is4k": False})
        over = await http.post("/request", json={"mediaType": "movie", "mediaId": 603, "is4k": False})
        too_many_seasons = await http.post(
            "/request", json={"mediaType": "tv", "mediaId": 1399, "is4k": False, "seasons": [1, 2, 3], "tvdbId": 121361}
        )
        quota = (await http.get(f"/user/{limited.id}/quota")).json()

    assert ok.status_code == 201
    assert over.status_code == 403 and over.json() == {"message": "Movie Quota exceeded."}
    assert too_many_seasons.status_code == 403 and too_many_seasons.json() == {"message": "Series Quota exceeded."}
    assert quota == {
        "movie": {"days": 7, "limit": 1, "used": 1, "remaining": 0, "restricted": True},
        "tv": {"days": 7, "limit": 2, "used": 0, "remaining": 2, "restricted": False},
    }


async def test_4k_request_needs_permission(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    seed(fake)
    plain = fake.add_user("plain", plex_id=11)
    fourk = fake.add_user("fourk", plex_id=12, permissions=Permission.REQUEST | Permission.REQUEST_4K)
    async with client(fake, plain) as http:
        refused = await http.post("/request", json={"mediaType": "movie", "mediaId": 550, "is4k": True})
        series = await http.post("/request", json={"mediaType": "tv", "mediaId": 1399, "is4k": True, "seasons": "all"})
    async with client(fake, fourk) as http:
        allowed = await http.post("/request", json={"mediaType": "movie", "mediaId": 550, "is4k": True})
    assert refused.status_code == 403
    assert refused.json() == {"message": "You do not have permission to make 4K movie requests."}
    assert series.json() == {"message": "You do not have permission to make 4K series requests."}
    assert allowed.status_code == 201 and allowed.json()["is4k"] is True
    assert allowed.json()["media"]["status4k"] == MediaStatus.PENDING


async def test_tv_request_skips_available_and_requested_seasons(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    seed(fake)
    member = fake.add_user("member", plex_id=11)
    fake.set_available(("tv", 1399), seasons=[1])

    async with client(fake, member) as http:
        details = (await http.get("/tv/1399")).json()
        request_all = await http.post(
            "/request", json={"mediaType": "tv", "mediaId": 1399, "is4k": False, "seasons": "all"}
        )
        nothing_left = await http.post(
            "/request", json={"mediaType": "tv", "mediaId": 1399, "is4k": False, "seasons": [1, 2]}
        )

    info = details["mediaInfo"]
    assert info["status"] == MediaStatus.PARTIALLY_AVAILABLE
    assert {s["seasonNumber"]: s["status"] for s in info["seasons"]} == {1: MediaStatus.AVAILABLE}
    assert request_all.status_code == 201
    assert [s["seasonNumber"] for s in request_all.json()["seasons"]] == [2, 3]
    assert nothing_left.status_code == 202
    assert nothing_left.json() == {"message": "No seasons available to request"}

    fake.approve(request_all.json()["id"])
    fake.set_available(("tv", 1399))
    assert fake.request(request_all.json()["id"]).status == MediaRequestStatus.COMPLETED
    assert fake.media("tv", 1399).status == MediaStatus.AVAILABLE  # type: ignore[union-attr]


# ------------------------------------------------------------------------- webhooks


async def test_webhooks_for_pending_approved_declined_available(
    fake_overseerr: FakeOverseerr, receiver: WebhookReceiver
) -> None:
    fake = fake_overseerr
    seed(fake)
    member = fake.add_user("member", plex_id=11, discord_id="123456789012345678")
    fake.configure_webhook(f"{receiver.url}/overseerr", "Bearer hook-secret")

    async with client(fake, member) as http:
        movie = (await http.post("/request", json={"mediaType": "movie", "mediaId": 550, "is4k": False})).json()
        show = (
            await http.post("/request", json={"mediaType": "tv", "mediaId": 1399, "is4k": False, "seasons": [1, 2]})
        ).json()
    async with client(fake) as http:
        await http.post(f"/request/{movie['id']}/approve")
        await http.post(f"/request/{show['id']}/decline")
    fake.set_available(("movie", 550))

    deliveries = await fake.webhooks_delivered()
    assert [d.notification_type for d in deliveries] == [
        "MEDIA_PENDING",
        "MEDIA_PENDING",
        "MEDIA_APPROVED",
        "MEDIA_DECLINED",
        "MEDIA_AVAILABLE",
    ]
    assert all(d.status == 204 for d in deliveries)
    posts = receiver.calls("POST", "/overseerr")
    assert [p.headers["Authorization"] for p in posts] == ["Bearer hook-secret"] * 5
    approved = posts[2].json()
    assert approved == {
        "notification_type": "MEDIA_APPROVED",
        "event": "Movie Request Approved",
        "subject": "Fight Club (1999)",
        "message": "An insomniac office worker...",
        "image": "https://image.tmdb.org/t/p/w600_and_h900_bestv2/fc.jpg",
        "media": {"media_type": "movie", "tmdbId": "550", "tvdbId": "", "status": "PROCESSING", "status4k": "UNKNOWN"},
        "request": {
            "request_id": str(movie["id"]),
            "requestedBy_email": "member@example.com",
            "requestedBy_username": "member",
            "requestedBy_avatar": member.avatar,
            "requestedBy_settings_discordId": "123456789012345678",
            "requestedBy_settings_telegramChatId": "",
        },
        "issue": None,
        "comment": None,
        "extra": [],
    }
    declined = posts[3].json()
    assert declined["event"] == "Series Request Declined"
    assert declined["extra"] == [{"name": "Requested Seasons", "value": "1, 2"}]
    assert declined["media"]["tvdbId"] == str(fake.store.catalog[("tv", 1399)].tvdb_id)
    assert posts[4].json()["media"]["status"] == "AVAILABLE"


async def test_auto_approved_webhook_and_seerr_discord_ids(
    make_fake_overseerr: MakeFake, receiver: WebhookReceiver
) -> None:
    fake = await make_fake_overseerr("seerr")
    seed(fake)
    trusted = fake.add_user(
        "trusted", plex_id=12, permissions=Permission.REQUEST | Permission.AUTO_APPROVE, discord_ids=["111", "222"]
    )
    fake.configure_webhook(f"{receiver.url}/overseerr")
    async with client(fake, trusted) as http:
        await http.post("/request", json={"mediaType": "movie", "mediaId": 603, "is4k": False})
    [delivery] = await fake.webhooks_delivered()
    payload = receiver.payloads[0]
    assert delivery.notification_type == "MEDIA_AUTO_APPROVED"
    assert payload["event"] == "Movie Request Automatically Approved"
    assert payload["request"]["requestedBy_settings_discordIds"] == "111,222"
    assert "requestedBy_settings_discordId" not in payload["request"]
    assert "Authorization" not in receiver.calls("POST")[0].headers


async def test_custom_template_keeps_unknown_placeholders(
    fake_overseerr: FakeOverseerr, receiver: WebhookReceiver
) -> None:
    fake = fake_overseerr
    seed(fake)
    member = fake.add_user("member", plex_id=11, discord_id="999")
    template = {
        "notification_type": "{{notification_type}}",
        "{{request}}": {
            "requestedBy_settings_discordId": "{{requestedBy_settings_discordId}}",
            "requestedBy_settings_discordIds": "{{requestedBy_settings_discordIds}}",
        },
        "{{issue}}": {"issue_id": "{{issue_id}}"},
    }
    fake.configure_webhook(f"{receiver.url}/overseerr", template=template)
    fake.create_request_as(member, "movie", 550)
    await fake.webhooks_delivered()
    assert receiver.payloads == [
        {
            "notification_type": "MEDIA_PENDING",
            "request": {
                "requestedBy_settings_discordId": "999",
                "requestedBy_settings_discordIds": "{{requestedBy_settings_discordIds}}",
            },
            "issue": None,
        }
    ]


async def test_dropped_webhook_is_recovered_by_polling(
    fake_overseerr: FakeOverseerr, receiver: WebhookReceiver
) -> None:
    fake = fake_overseerr
    seed(fake)
    member = fake.add_user("member", plex_id=11)
    fake.configure_webhook(f"{receiver.url}/overseerr", "Bearer s")
    fake.drop_next_webhooks(1)
    request = fake.create_request_as(member, "movie", 550)
    fake.approve(request)

    deliveries = await fake.webhooks_delivered()
    assert [(d.notification_type, d.dropped) for d in deliveries] == [
        ("MEDIA_PENDING", True),
        ("MEDIA_APPROVED", False),
    ]
    assert [p["notification_type"] for p in receiver.payloads] == ["MEDIA_APPROVED"]
    # What a polling fallback sees instead: the request, modified since it last looked.
    async with client(fake) as http:
        page = (await http.get("/request", params={"sort": "modified", "take": 20})).json()
    assert page["results"][0]["id"] == request.id and page["results"][0]["status"] == MediaRequestStatus.APPROVED


async def test_webhook_does_not_block_the_request_and_failures_are_recorded(
    fake_overseerr: FakeOverseerr, receiver: WebhookReceiver
) -> None:
    fake = fake_overseerr
    seed(fake)
    member = fake.add_user("member", plex_id=11)
    fake.configure_webhook(f"{receiver.url}/overseerr")
    receiver.gate = asyncio.Event()
    receiver.status = 500

    async with client(fake, member) as http:
        created = await http.post("/request", json={"mediaType": "movie", "mediaId": 550, "is4k": False})
    assert created.status_code == 201
    await wait_for(lambda: receiver.calls("POST"), what="the webhook to reach the receiver")
    assert not fake.webhooks[0].done  # the receiver is still holding it
    receiver.gate.set()
    [delivery] = await fake.webhooks_delivered()
    assert delivery.status == 500 and not delivery.ok

    await receiver.stop()
    fake.fail(created.json()["id"])
    [_, failed] = await fake.webhooks_delivered()
    assert failed.notification_type == "MEDIA_FAILED" and failed.status is None and failed.error


# ------------------------------------------------------------------- auth and csrf


async def test_api_key_and_api_user_handling(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    async with httpx.AsyncClient(base_url=fake.api_url) as http:
        status = await http.get("/status")
        no_key = await http.get("/request")
        wrong_key = await http.get("/request", headers={"X-Api-Key": "nope"})
        unknown_user = await http.get("/auth/me", headers={"X-Api-Key": fake.api_key, "X-Api-User": "404"})
        me = await http.get("/auth/me", headers={"X-Api-Key": fake.api_key})

    assert status.status_code == 200 and status.json()["version"] == "1.34.0"
    assert no_key.status_code == 401
    assert no_key.json()["message"] == "cookie 'connect.sid' required"
    forbidden = {"status": 403, "error": "You do not have permission to access this endpoint"}
    assert wrong_key.status_code == 403 and wrong_key.json() == forbidden
    assert unknown_user.status_code == 403 and unknown_user.json() == forbidden
    assert me.json()["id"] == 1 and me.json()["permissions"] == Permission.ADMIN
    # The request without any key breaks the spec's security requirement.
    [error] = fake.take_contract_errors()
    assert error.direction == "request" and "Security" in error.error

    await fake.go_down()
    async with client(fake) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/status")
        await fake.come_up()
        assert (await http.get("/status")).status_code == 200


async def test_csrf_protection_refuses_mutations_without_token(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    seed(fake)
    fake.set_csrf(True)
    async with client(fake) as http:
        settings = (await http.get("/settings/main")).json()
        primed = await http.get("/status")
        refused = await http.post("/request", json={"mediaType": "movie", "mediaId": 550, "is4k": False})

        # The Secure cookies never come back over plain HTTP by themselves; send them by hand.
        cookies = SimpleCookie()
        for header in primed.headers.get_list("set-cookie"):
            cookies.load(header)
        assert "Secure" in primed.headers.get_list("set-cookie")[0]
        secret, token = cookies["_csrf"].value, cookies["XSRF-TOKEN"].value
        accepted = await http.post(
            "/request",
            json={"mediaType": "movie", "mediaId": 550, "is4k": False},
            headers={"X-XSRF-TOKEN": token, "Cookie": f"_csrf={secret}"},
        )

    assert settings["csrfProtection"] is True
    assert refused.status_code == 403 and refused.json() == {"message": "invalid csrf token"}
    assert accepted.status_code == 201
    assert len(fake.media_requests) == 1


async def test_jellyseerr_reports_csrf_in_network_settings(make_fake_overseerr: MakeFake) -> None:
    fake = await make_fake_overseerr("jellyseerr")
    fake.set_csrf(True, secure_cookies=False)
    fake.add_user("alice", plex_id=1)
    fake.add_user("bob", plex_id=2)
    async with client(fake) as http:
        main = (await http.get("/settings/main")).json()
        network = (await http.get("/settings/network")).json()
        found = (await http.get("/user", params={"q": "ali"})).json()
        # With non-Secure cookies an ordinary cookie jar carries the secret back.
        token = (await http.get("/status")).cookies["XSRF-TOKEN"]
        imported = await http.post("/user/import-from-plex", json={"plexIds": []}, headers={"X-XSRF-TOKEN": token})
    assert "csrfProtection" not in main and network["csrfProtection"] is True
    assert [u["plexUsername"] for u in found["results"]] == ["alice"]
    assert imported.status_code == 201 and imported.json() == []


# ------------------------------------------------------------------------- contract


async def test_contract_validation_catches_bad_bodies(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    seed(fake)
    async with client(fake) as http:
        bad = await http.post("/request", json={"mediaType": "film", "mediaId": "550"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"].startswith("/body/")
    [error] = fake.take_contract_errors()
    assert error.direction == "request" and error.route == "/request"
    assert "'film' is not one of" in error.error and "'550' is not of type 'number'" in error.error
    assert fake.media_requests == []

    # The response side: a body that drifted from the spec is reported too.
    problems = fake.contract.check_response(
        "GET", "/api/v1/request", [], fake.headers(), {}, b"", "",
        status=200,
        response_body=b'{"pageInfo": {"page": "one"}, "results": [{"id": 1}]}',
        response_content_type="application/json",
    )  # fmt: skip
    assert problems
    drift = fake.take_contract_errors()
    assert "/pageInfo/page" in drift[0].error and "/results/0/status" in drift[0].error


async def test_delete_request_resets_media_and_media_list_filters(fake_overseerr: FakeOverseerr) -> None:
    fake = fake_overseerr
    seed(fake)
    member = fake.add_user("member", plex_id=11)
    other = fake.add_user("other", plex_id=12)
    pending = fake.create_request_as(member, "movie", 550)
    approved = fake.approve(fake.create_request_as(member, "movie", 603))
    fake.set_available(("tv", 1399), seasons=[1, 2, 3])

    async with client(fake) as http:
        available = (await http.get("/media", params={"filter": "available", "take": 10})).json()
        processing = (await http.get("/media", params={"filter": "processing"})).json()
    async with client(fake, other) as http:
        not_theirs = await http.delete(f"/request/{approved.id}")
        # Overseerr lets anyone delete a request that is still pending.
        deleted = await http.delete(f"/request/{pending.id}")

    assert [m["tmdbId"] for m in available["results"]] == [1399]
    assert [m["tmdbId"] for m in processing["results"]] == [603]
    assert not_theirs.status_code == 401
    assert not_theirs.json() == {"message": "You do not have permission to delete this request."}
    assert deleted.status_code == 204 and deleted.content == b""
    assert fake.media("movie", 550).status == MediaStatus.UNKNOWN  # type: ignore[union-attr]
    assert [r.id for r in fake.media_requests] == [approved.id]
