"""Overseerr's webhook notification agent: template, rendering and delivery.

Rendering follows `server/lib/notifications/agents/webhook.ts`: the template is
JSON whose string values contain `{{variable}}` placeholders; each known
variable is replaced once per string by its value coerced to a string (numbers
become "550", a missing value ""); keys `{{media}}`, `{{request}}`,
`{{issue}}`, `{{comment}}` become `media`... or `null` when the notification has
no such object; `{{extra}}` becomes the extra list. Unknown variables stay as
literal placeholders. Seerr 3.3 renamed `*_settings_discordId` to
`*_settings_discordIds`, whose value is the JavaScript string of a list
("111,222").

Delivery runs on a worker task fed by a queue, so the API handler that caused
the event answers without waiting for the receiver, as Overseerr does. Tests
await `wait_idle()` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .constants import ALL_MEDIA_NOTIFICATIONS, Flavour, MediaStatus, has_notification_type
from .models import NotificationEvent, User

#: The default "JSON Payload" of Overseerr 1.34 and Jellyseerr 2.x (`server/lib/settings`).
OVERSEERR_TEMPLATE: dict[str, Any] = {
    "notification_type": "{{notification_type}}",
    "event": "{{event}}",
    "subject": "{{subject}}",
    "message": "{{message}}",
    "image": "{{image}}",
    "{{media}}": {
        "media_type": "{{media_type}}",
        "tmdbId": "{{media_tmdbid}}",
        "tvdbId": "{{media_tvdbid}}",
        "status": "{{media_status}}",
        "status4k": "{{media_status4k}}",
    },
    "{{request}}": {
        "request_id": "{{request_id}}",
        "requestedBy_email": "{{requestedBy_email}}",
        "requestedBy_username": "{{requestedBy_username}}",
        "requestedBy_avatar": "{{requestedBy_avatar}}",
        "requestedBy_settings_discordId": "{{requestedBy_settings_discordId}}",
        "requestedBy_settings_telegramChatId": "{{requestedBy_settings_telegramChatId}}",
    },
    "{{issue}}": {
        "issue_id": "{{issue_id}}",
        "issue_type": "{{issue_type}}",
        "issue_status": "{{issue_status}}",
        "reportedBy_email": "{{reportedBy_email}}",
        "reportedBy_username": "{{reportedBy_username}}",
        "reportedBy_avatar": "{{reportedBy_avatar}}",
        "reportedBy_settings_discordId": "{{reportedBy_settings_discordId}}",
        "reportedBy_settings_telegramChatId": "{{reportedBy_settings_telegramChatId}}",
    },
    "{{comment}}": {
        "comment_message": "{{comment_message}}",
        "commentedBy_email": "{{commentedBy_email}}",
        "commentedBy_username": "{{commentedBy_username}}",
        "commentedBy_avatar": "{{commentedBy_avatar}}",
        "commentedBy_settings_discordId": "{{commentedBy_settings_discordId}}",
        "commentedBy_settings_telegramChatId": "{{commentedBy_settings_telegramChatId}}",
    },
    "{{extra}}": [],
}


def _seerr_template() -> dict[str, Any]:
    """Seerr 3.3's "Reset to Default" payload: plural Discord ids, imdb and Jellyfin ids."""
    template = copy.deepcopy(OVERSEERR_TEMPLATE)
    template["{{media}}"] = {
        "media_type": "{{media_type}}",
        "imdbId": "{{media_imdbid}}",
        "tmdbId": "{{media_tmdbid}}",
        "tvdbId": "{{media_tvdbid}}",
        "jellyfinMediaId": "{{media_jellyfinMediaId}}",
        "status": "{{media_status}}",
        "status4k": "{{media_status4k}}",
    }
    template["{{request}}"] = {
        "request_id": "{{request_id}}",
        "requestedBy_email": "{{requestedBy_email}}",
        "requestedBy_username": "{{requestedBy_username}}",
        "requestedBy_avatar": "{{requestedBy_avatar}}",
        "requestedBy_jellyfinUserId": "{{requestedBy_jellyfinUserId}}",
        "requestedBy_settings_discordIds": "{{requestedBy_settings_discordIds}}",
        "requestedBy_settings_telegramChatId": "{{requestedBy_settings_telegramChatId}}",
    }
    for section, prefix in (("{{issue}}", "reportedBy"), ("{{comment}}", "commentedBy")):
        body = template[section]
        body.pop(f"{prefix}_settings_discordId")
        body[f"{prefix}_settings_discordIds"] = f"{{{{{prefix}_settings_discordIds}}}}"
    return template


DEFAULT_TEMPLATES: dict[Flavour, dict[str, Any]] = {
    "overseerr": OVERSEERR_TEMPLATE,
    "jellyseerr": OVERSEERR_TEMPLATE,
    "seerr": _seerr_template(),
}


def js_string(value: Any) -> str:
    """How JavaScript's `String(value)` prints what `lodash.get(...) ?? ''` found."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    return str(value)


def _user_vars(prefix: str, user: User | None, flavour: Flavour) -> dict[str, Any]:
    settings = user.settings if user else None
    values: dict[str, Any] = {
        f"{prefix}_username": user.display_name if user else None,
        f"{prefix}_email": user.email if user else None,
        f"{prefix}_avatar": user.avatar if user else None,
        f"{prefix}_settings_telegramChatId": settings.telegram_chat_id if settings else None,
    }
    if flavour == "seerr":
        values[f"{prefix}_settings_discordIds"] = list(settings.discord_ids) if settings else None
    else:
        values[f"{prefix}_settings_discordId"] = settings.discord_id if settings else None
    return values


def template_variables(event: NotificationEvent, flavour: Flavour) -> dict[str, Any]:
    """The agent's KeyMap evaluated for one notification (values before string coercion)."""
    media, request = event.media, event.request
    values: dict[str, Any] = {
        "notification_type": event.kind.name,
        "event": event.event,
        "subject": event.subject,
        "message": event.message,
        "image": event.image,
        "media_tmdbid": media.tmdb_id if media else None,
        "media_tvdbid": media.tvdb_id if media else None,
        "media_type": media.media_type if media else None,
        "media_status": MediaStatus(media.status).name if media else "",
        "media_status4k": MediaStatus(media.status4k).name if media else "",
        "request_id": request.id if request else None,
        "issue_id": None,
        "issue_type": "",
        "issue_status": "",
        "comment_message": None,
    }
    values.update(_user_vars("notifyuser", event.notify_user, flavour))
    values.update(_user_vars("requestedBy", request.requested_by if request else None, flavour))
    values.update(_user_vars("reportedBy", None, flavour))
    values.update(_user_vars("commentedBy", None, flavour))
    if flavour != "overseerr":
        values["media_imdbid"] = media.imdb_id if media else None
    if flavour == "seerr":
        values["requestedBy_jellyfinUserId"] = None
        values["media_jellyfinMediaId"] = ""
        values["media_plexRatingKey"] = ""
        values["media_plexRatingKey4k"] = ""
    return values


def render(template: Any, event: NotificationEvent, flavour: Flavour) -> Any:
    """`WebhookAgent.parseKeys` over a copy of `template`."""
    variables = {k: js_string(v) for k, v in template_variables(event, flavour).items()}
    present = {"media": event.media, "request": event.request, "issue": None, "comment": None}

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            for name, value in variables.items():
                node = node.replace(f"{{{{{name}}}}}", value, 1)
            return node
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            moved: dict[str, Any] = {}
            for key, value in node.items():
                if key == "{{extra}}":
                    moved["extra"] = walk(list(event.extra))
                elif key in ("{{media}}", "{{request}}", "{{issue}}", "{{comment}}"):
                    name = key[2:-2]
                    moved[name] = walk(value) if present[name] is not None else None
                else:
                    out[key] = walk(value)
            out.update(moved)
            return out
        return node

    return walk(copy.deepcopy(template))


@dataclass
class WebhookDelivery:
    """One notification the agent produced, and what became of it."""

    notification_type: str
    payload: dict[str, Any]
    url: str
    authorization: str | None
    dropped: bool = False
    status: int | None = None
    response_body: str | None = None
    error: str | None = None
    done: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class WebhookConfig:
    url: str
    authorization: str | None
    types: int
    template: dict[str, Any]


@dataclass
class WebhookSender:
    """The agent: renders events, records them and posts them in order on a worker task."""

    flavour: Flavour
    config: WebhookConfig | None = None
    deliveries: list[WebhookDelivery] = field(default_factory=list)
    drop_next: int = 0
    on_delivery: Callable[[WebhookDelivery], None] | None = None
    _queue: asyncio.Queue[WebhookDelivery] | None = None
    _worker: asyncio.Task[None] | None = None
    _session: aiohttp.ClientSession | None = None

    def configure(
        self,
        url: str,
        authorization: str | None = None,
        *,
        types: int = ALL_MEDIA_NOTIFICATIONS,
        template: dict[str, Any] | None = None,
    ) -> None:
        self.config = WebhookConfig(
            url=url,
            authorization=authorization,
            types=int(types),
            template=copy.deepcopy(template) if template is not None else DEFAULT_TEMPLATES[self.flavour],
        )

    def emit(self, event: NotificationEvent) -> WebhookDelivery | None:
        """Queue `event` for delivery if the agent is enabled for its type. Never blocks."""
        cfg = self.config
        if cfg is None or not event.notify_system or not has_notification_type(event.kind, cfg.types):
            return None
        delivery = WebhookDelivery(
            notification_type=event.kind.name,
            payload=render(cfg.template, event, self.flavour),
            url=cfg.url,
            authorization=cfg.authorization,
        )
        self.deliveries.append(delivery)
        if self.drop_next > 0:
            self.drop_next -= 1
            delivery.dropped = True
            delivery.done = True
            return delivery
        self._ensure_worker().put_nowait(delivery)
        return delivery

    def _ensure_worker(self) -> asyncio.Queue[WebhookDelivery]:
        if self._queue is None or self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(
                self._run(self._queue), name="fake-overseerr-webhooks"
            )
        return self._queue

    async def _run(self, queue: asyncio.Queue[WebhookDelivery]) -> None:
        while True:
            delivery = await queue.get()
            try:
                await self._post(delivery)
            finally:
                delivery.done = True
                queue.task_done()
                if self.on_delivery is not None:
                    self.on_delivery(delivery)

    async def _post(self, delivery: WebhookDelivery) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        headers = {"User-Agent": "axios/1.7.9", "Accept": "application/json, text/plain, */*"}
        if delivery.authorization:
            headers["Authorization"] = delivery.authorization
        try:
            async with self._session.post(delivery.url, json=delivery.payload, headers=headers) as response:
                delivery.status = response.status
                delivery.response_body = await response.text()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"

    # A default deadline keeps every test's wait bounded without wrapping each call.
    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Return once every queued webhook has been posted (or failed)."""
        if self._queue is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            pending = [d.notification_type for d in self.deliveries if not d.done]
            raise AssertionError(f"webhooks still undelivered after {timeout}s: {pending}") from None

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
            self._queue = None
        if self._session is not None:
            await self._session.close()
            self._session = None
