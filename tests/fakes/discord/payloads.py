"""Discord's rules for what the bot sends: limits, normalisation and mentions.

Real Discord rejects an embed title of 257 characters or a sixth button in a row
with 50035 Invalid Form Body; a fake that accepted them would let a bot pass its
tests and then fail in production. The OpenAPI spec encodes only some of these
limits, so the ones that bite bots in practice are enforced here, by hand, with
Discord's own error codes and messages.

Normalisation mirrors what Discord does before it stores a message: components get
numeric `id`s and select defaults, embeds get `type: "rich"`, so what the fake
returns to discord.py looks like what Discord returns.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from .errors import CANNOT_SEND_EMPTY, DiscordError, FieldErrors
from .models import EPHEMERAL, IS_COMPONENTS_V2, SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS, walk_components

USER_MENTION = re.compile(r"<@!?(\d{15,21})>")
ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")
EVERYONE_MENTION = re.compile(r"@(everyone|here)")


def _length(errors: FieldErrors, path: str, value: Any, maximum: int, minimum: int = 0) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        errors.add(path, "BASE_TYPE_STRING", "Must be a string.")
        return
    if len(value) > maximum:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {maximum} or fewer in length.")
    if len(value) < minimum:
        errors.add(path, "BASE_TYPE_MIN_LENGTH", f"Must be {minimum} or more in length.")


def embed_text_length(embed: dict[str, Any]) -> int:
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for f in embed.get("fields") or []:
        total += len(f.get("name") or "") + len(f.get("value") or "")
    return total


def check_embeds(errors: FieldErrors, embeds: Any) -> None:
    if not isinstance(embeds, list):
        errors.add("embeds", "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(embeds) > 10:
        errors.add("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        p = f"embeds.{i}"
        _length(errors, f"{p}.title", embed.get("title"), 256)
        _length(errors, f"{p}.description", embed.get("description"), 4096)
        _length(errors, f"{p}.footer.text", (embed.get("footer") or {}).get("text"), 2048)
        _length(errors, f"{p}.author.name", (embed.get("author") or {}).get("name"), 256)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errors.add(f"{p}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for j, f in enumerate(fields):
            _length(errors, f"{p}.fields.{j}.name", f.get("name"), 256, 1)
            _length(errors, f"{p}.fields.{j}.value", f.get("value"), 1024, 1)
        for key in ("url",):
            url = embed.get(key)
            if url is not None and not re.match(r"^https?://", str(url)):
                errors.add(f"{p}.{key}", "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        total += embed_text_length(embed)
    if total > 6000:
        errors.add("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def check_select(errors: FieldErrors, p: str, comp: dict[str, Any]) -> None:
    _length(errors, f"{p}.custom_id", comp.get("custom_id"), 100, 1)
    _length(errors, f"{p}.placeholder", comp.get("placeholder"), 150)
    lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
    if not 0 <= lo <= 25:
        errors.add(f"{p}.min_values", "NUMBER_TYPE_MAX", "int value should be between 0 and 25.")
    if not 1 <= hi <= 25 or hi < lo:
        errors.add(f"{p}.max_values", "NUMBER_TYPE_MAX", "int value should be between 1 and 25.")
    if comp["type"] == 3:
        options = comp.get("options") or []
        if not 1 <= len(options) <= 25:
            errors.add(f"{p}.options", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
        for k, opt in enumerate(options):
            _length(errors, f"{p}.options.{k}.label", opt.get("label"), 100, 1)
            _length(errors, f"{p}.options.{k}.value", opt.get("value"), 100, 1)
            _length(errors, f"{p}.options.{k}.description", opt.get("description"), 100)
        if hi > len(options):
            errors.add(f"{p}.max_values", "NUMBER_TYPE_MAX", "max_values must be at most the option count.")


def check_components(errors: FieldErrors, components: Any, v2: bool) -> None:
    """Discord's action-row rules (legacy) or the 40-component cap (components v2)."""
    if not isinstance(components, list):
        errors.add("components", "BASE_TYPE_ARRAY", "Must be an array.")
        return
    every = list(walk_components(components))
    seen: set[str] = set()
    for comp in every:
        cid = comp.get("custom_id")
        if cid is not None:
            if cid in seen:
                errors.add("components", "COMPONENT_CUSTOM_ID_DUPLICATED", f"Duplicate custom_id {cid!r}.")
            seen.add(cid)
    if v2:
        if len(every) > 40:
            errors.add("components", "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in length.")
        return
    if len(components) > 5:
        errors.add("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    for i, row in enumerate(components):
        p = f"components.{i}"
        if row.get("type") != 1:
            errors.add(f"{p}.type", "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "Top-level components must be action rows.")
            continue
        children = row.get("components") or []
        selects = [c for c in children if c.get("type") in (3, 5, 6, 7, 8)]
        if not children or len(children) > 5 or (selects and len(children) > 1):
            errors.add(
                f"{p}.components",
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for j, comp in enumerate(children):
            q = f"{p}.components.{j}"
            if comp.get("type") == 2:
                _length(errors, f"{q}.label", comp.get("label"), 80)
                style = comp.get("style")
                if style == 5:
                    if not comp.get("url"):
                        errors.add(f"{q}.url", "BASE_TYPE_REQUIRED", "This field is required")
                elif style in (1, 2, 3, 4):
                    _length(errors, f"{q}.custom_id", comp.get("custom_id"), 100, 1)
                    if comp.get("custom_id") is None:
                        errors.add(f"{q}.custom_id", "BASE_TYPE_REQUIRED", "This field is required")
            elif comp.get("type") in (3, 5, 6, 7, 8):
                check_select(errors, q, comp)


def check_allowed_mentions(errors: FieldErrors, am: Any) -> None:
    if am is None:
        return
    parse = am.get("parse") or []
    for key in ("users", "roles"):
        if key in parse and am.get(key):
            errors.add(
                f"allowed_mentions.{key}",
                "MUTUALLY_EXCLUSIVE",
                f'parse:["{key}"] and {key}: [ids...] are mutually exclusive.',
            )
        if len(am.get(key) or []) > 100:
            errors.add(f"allowed_mentions.{key}", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
    for value in parse:
        if value not in ("users", "roles", "everyone"):
            errors.add("allowed_mentions.parse", "BASE_TYPE_CHOICES", "Value must be one of users, roles, everyone.")


def check_message_body(body: dict[str, Any], *, creating: bool, file_count: int, allow_ephemeral: bool) -> None:
    """Raise the DiscordError real Discord would answer for this message body."""
    errors = FieldErrors()
    flags = body.get("flags") or 0
    v2 = bool(flags & IS_COMPONENTS_V2)
    _length(errors, "content", body.get("content"), 2000)
    if body.get("embeds") is not None:
        check_embeds(errors, body["embeds"])
    if body.get("components") is not None:
        check_components(errors, body["components"], v2)
    check_allowed_mentions(errors, body.get("allowed_mentions"))
    if v2 and (body.get("content") or body.get("embeds")):
        errors.add(
            "content",
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using MessageFlags.IS_COMPONENTS_V2",
        )
    allowed = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2 | (EPHEMERAL if allow_ephemeral else 0)
    if flags & ~allowed:
        errors.add("flags", "MESSAGE_FLAGS_INVALID", "Invalid flags for this request.")
    errors.raise_if_any()
    if creating and not (
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or file_count
        or body.get("sticker_ids")
        or body.get("poll")
    ):
        raise DiscordError(400, CANNOT_SEND_EMPTY, "Cannot send an empty message")


def check_modal(data: dict[str, Any]) -> None:
    errors = FieldErrors()
    _length(errors, "data.title", data.get("title"), 45, 1)
    _length(errors, "data.custom_id", data.get("custom_id"), 100, 1)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        errors.add("data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    for comp in walk_components(components):
        if comp.get("type") == 4:
            _length(errors, "data.components.label", comp.get("label"), 45)
            _length(errors, "data.components.custom_id", comp.get("custom_id"), 100, 1)
            _length(errors, "data.components.value", comp.get("value"), 4000)
            _length(errors, "data.components.placeholder", comp.get("placeholder"), 100)
            if comp.get("max_length") is not None and not 1 <= comp["max_length"] <= 4000:
                errors.add("data.components.max_length", "NUMBER_TYPE_MAX", "int value should be between 1 and 4000.")
    errors.raise_if_any()


def check_autocomplete(data: dict[str, Any]) -> None:
    errors = FieldErrors()
    choices = data.get("choices")
    if not isinstance(choices, list):
        errors.add("data.choices", "BASE_TYPE_REQUIRED", "This field is required")
    else:
        if len(choices) > 25:
            errors.add("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for i, c in enumerate(choices):
            _length(errors, f"data.choices.{i}.name", c.get("name"), 100, 1)
            if isinstance(c.get("value"), str):
                _length(errors, f"data.choices.{i}.value", c.get("value"), 100)
    errors.raise_if_any()


_COMPONENT_DEFAULTS: dict[int, dict[str, Any]] = {
    3: {"min_values": 1, "max_values": 1},
    5: {"min_values": 1, "max_values": 1},
    6: {"min_values": 1, "max_values": 1},
    7: {"min_values": 1, "max_values": 1},
    8: {"min_values": 1, "max_values": 1},
    11: {"description": None, "spoiler": False},
    13: {"name": None, "size": None, "spoiler": False},
    14: {"divider": True, "spacing": 1},
    17: {"accent_color": None, "spoiler": False},
}


def _unfurl(media: Any, mint: Callable[[], int]) -> None:
    """Discord resolves every media reference into an unfurled item with an id."""
    if isinstance(media, dict):
        media.setdefault("id", str(mint()))
        media.setdefault("proxy_url", media.get("url", ""))
        for key in ("width", "height", "content_type"):
            media.setdefault(key, None)


def _normalize_emoji(emoji: Any) -> None:
    """A unicode emoji comes back as just its name: Discord drops the null custom-emoji id."""
    if isinstance(emoji, dict) and emoji.get("id") is None:
        emoji.pop("id", None)


def normalize_components(components: list[dict[str, Any]], mint: Callable[[], int]) -> list[dict[str, Any]]:
    """Deep-copy and fill what Discord fills: numeric ids, defaults, unfurled media."""
    out = copy.deepcopy(components)
    used = {c["id"] for c in walk_components(out) if isinstance(c.get("id"), int)}
    next_id = 1
    for comp in walk_components(out):
        if not isinstance(comp.get("id"), int):
            while next_id in used:
                next_id += 1
            comp["id"] = next_id
            used.add(next_id)
        ctype = comp.get("type", 0)
        for key, value in _COMPONENT_DEFAULTS.get(ctype, {}).items():
            comp.setdefault(key, value)
        _normalize_emoji(comp.get("emoji"))
        if ctype == 3:
            for opt in comp.get("options") or []:
                opt.setdefault("default", False)
                _normalize_emoji(opt.get("emoji"))
        _unfurl(comp.get("media"), mint)
        _unfurl(comp.get("file"), mint)
        for item in comp.get("items") or []:
            item.setdefault("description", None)
            item.setdefault("spoiler", False)
            _unfurl(item.get("media"), mint)
    return out


def normalize_embeds(embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = copy.deepcopy(embeds)
    for embed in out:
        embed.setdefault("type", "rich")
        for f in embed.get("fields") or []:
            f.setdefault("inline", False)
        for key in ("image", "thumbnail"):
            if isinstance(embed.get(key), dict) and "url" in embed[key]:
                embed[key].setdefault("proxy_url", embed[key]["url"])
    return out


def pings(
    content: str, allowed_mentions: dict[str, Any] | None, *, in_guild: bool, can_mention_everyone: bool
) -> tuple[list[int], list[int], bool]:
    """Who Discord would notify: (user ids, role ids, @everyone/@here)."""
    users = [int(u) for u in USER_MENTION.findall(content)]
    roles = [int(r) for r in ROLE_MENTION.findall(content)] if in_guild else []
    everyone = bool(EVERYONE_MENTION.search(content)) and in_guild and can_mention_everyone
    if allowed_mentions is None:
        return list(dict.fromkeys(users)), list(dict.fromkeys(roles)), everyone
    parse = allowed_mentions.get("parse") or []
    ok_users = {int(u) for u in allowed_mentions.get("users") or []}
    ok_roles = {int(r) for r in allowed_mentions.get("roles") or []}
    users = [u for u in dict.fromkeys(users) if "users" in parse or u in ok_users]
    roles = [r for r in dict.fromkeys(roles) if "roles" in parse or r in ok_roles]
    return users, roles, everyone and "everyone" in parse
