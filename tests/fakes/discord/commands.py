"""Application commands: what the bot registers, and invoking them like a user.

The bot's registered schema is the single source of truth for what a user can
type. `build_command_data` turns a test's `slash(alice, "admin user ban",
user=bob)` into the exact `data` Discord would send, and refuses (with
CommandSchemaError) anything Discord's client would not let a user submit: an
unknown command or option, a wrong type, a missing required option, a value
outside the choices or the min/max bounds. That way a test cannot pass by
invoking a command the bot never registered correctly.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from .errors import CommandSchemaError, FieldErrors
from .models import FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
TYPE_NAMES = {
    1: "subcommand",
    2: "subcommand group",
    3: "string",
    4: "integer",
    5: "boolean",
    6: "user",
    7: "channel",
    8: "role",
    9: "mentionable",
    10: "number",
    11: "attachment",
}
NAME_RE = re.compile(r"^[-_'\w]{1,32}$")
MAX_SAFE_INT = 2**53


@dataclass
class UploadFile:
    """A file a user attaches to an ATTACHMENT option."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


# --------------------------------------------------------------------------
# Registration (bulk overwrite) checks: Discord answers 50035 for these.
# --------------------------------------------------------------------------
def _check_option(errors: FieldErrors, path: str, opt: dict[str, Any], depth: int) -> None:
    name = opt.get("name", "")
    if not isinstance(name, str) or not NAME_RE.match(name) or name != name.lower():
        errors.add(f"{path}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    desc = opt.get("description", "")
    if not isinstance(desc, str) or not 1 <= len(desc) <= 100:
        errors.add(f"{path}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    otype = opt.get("type")
    if otype not in TYPE_NAMES:
        errors.add(f"{path}.type", "BASE_TYPE_CHOICES", f"Value must be one of {sorted(TYPE_NAMES)}.")
        return
    choices = opt.get("choices") or []
    if len(choices) > 25:
        errors.add(f"{path}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    if choices and opt.get("autocomplete"):
        errors.add(
            f"{path}.autocomplete", "AUTOCOMPLETE_AND_CHOICES", "Autocomplete cannot be set on options with choices"
        )
    for i, c in enumerate(choices):
        if not 1 <= len(str(c.get("name", ""))) <= 100:
            errors.add(f"{path}.choices.{i}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    if otype in (SUB_COMMAND, SUB_COMMAND_GROUP):
        if depth >= (1 if otype == SUB_COMMAND_GROUP else 2):
            errors.add(f"{path}.type", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Subcommand nesting is too deep")
        children = opt.get("options") or []
        if otype == SUB_COMMAND_GROUP and any(c.get("type") != SUB_COMMAND for c in children):
            errors.add(
                f"{path}.options",
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Subcommand groups may only contain subcommands",
            )
        _check_options(errors, f"{path}.options", children, depth + 1)


def _check_options(errors: FieldErrors, path: str, options: list[dict[str, Any]], depth: int) -> None:
    if len(options) > 25:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    names = [o.get("name") for o in options]
    if len(set(names)) != len(names):
        errors.add(path, "APPLICATION_COMMAND_OPTION_NAME_NOT_UNIQUE", "Option names must be unique")
    subs = [o for o in options if o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)]
    if subs and len(subs) != len(options):
        errors.add(
            path, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Subcommands cannot be mixed with other option types"
        )
    seen_optional = False
    for i, opt in enumerate(options):
        if opt.get("required") and seen_optional:
            errors.add(
                f"{path}.{i}.required",
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            )
        if opt.get("type") not in (SUB_COMMAND, SUB_COMMAND_GROUP) and not opt.get("required"):
            seen_optional = True
        _check_option(errors, f"{path}.{i}", opt, depth)


def check_command_payloads(payloads: Any) -> None:
    """Discord's validation of a bulk overwrite body (raises 50035)."""
    errors = FieldErrors()
    if not isinstance(payloads, list):
        errors.add("", "BASE_TYPE_ARRAY", "Must be an array.")
        errors.raise_if_any()
    seen: set[tuple[int, str]] = set()
    for i, cmd in enumerate(payloads):
        ctype = cmd.get("type", 1)
        name = cmd.get("name", "")
        if (ctype, name) in seen:
            errors.add(f"{i}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
        seen.add((ctype, name))
        if ctype == 1:
            if not isinstance(name, str) or not NAME_RE.match(name) or name != name.lower():
                errors.add(f"{i}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
            if not 1 <= len(cmd.get("description") or "") <= 100:
                errors.add(f"{i}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            _check_options(errors, f"{i}.options", cmd.get("options") or [], 0)
        elif not 1 <= len(name) <= 32:
            errors.add(f"{i}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
    if sum(1 for c in payloads if c.get("type", 1) == 1) > 100:
        errors.add("", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
    errors.raise_if_any()


def _normalize_option(opt: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in opt.items() if v is not None}
    out.setdefault("description_localizations", None)
    out.setdefault("name_localizations", None)
    if out.get("type") not in (SUB_COMMAND, SUB_COMMAND_GROUP):
        out.setdefault("required", False)
    if "options" in out:
        out["options"] = [_normalize_option(o) for o in out["options"]]
    return out


class CommandStore:
    """Registered commands per scope (None = global), keeping ids stable across syncs."""

    def __init__(self, application_id: int, mint: Any) -> None:
        self.application_id = application_id
        self._mint = mint
        self.scopes: dict[int | None, list[dict[str, Any]]] = {}
        self.sync_count = 0

    def overwrite(self, guild_id: int | None, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        check_command_payloads(payloads)
        old = {(c["type"], c["name"]): c for c in self.scopes.get(guild_id, [])}
        stored = []
        for p in payloads:
            ctype = p.get("type", 1)
            prev = old.get((ctype, p["name"]))
            perms = p.get("default_member_permissions")
            cmd: dict[str, Any] = {
                "id": prev["id"] if prev else str(self._mint()),
                "application_id": str(self.application_id),
                "version": str(self._mint()),
                "type": ctype,
                "name": p["name"],
                "description": p.get("description") or "",
                "default_member_permissions": None if perms is None else str(perms),
                "dm_permission": p.get("dm_permission", True),
                "nsfw": bool(p.get("nsfw", False)),
                "name_localizations": p.get("name_localizations"),
                "description_localizations": p.get("description_localizations"),
                "contexts": p.get("contexts"),
                "integration_types": p.get("integration_types") or [0],
            }
            if p.get("options"):
                cmd["options"] = [_normalize_option(o) for o in p["options"]]
            if guild_id is not None:
                cmd["guild_id"] = str(guild_id)
            stored.append(cmd)
        self.scopes[guild_id] = stored
        self.sync_count += 1
        return copy.deepcopy(stored)

    def listing(self, guild_id: int | None) -> list[dict[str, Any]]:
        return copy.deepcopy(self.scopes.get(guild_id, []))

    def names(self, guild_id: int | None = None) -> set[str]:
        """Registered chat-input names, global plus the guild's if given."""
        out = {c["name"] for c in self.scopes.get(None, []) if c["type"] == 1}
        if guild_id is not None:
            out |= {c["name"] for c in self.scopes.get(guild_id, []) if c["type"] == 1}
        return out

    def find(self, name: str, guild_id: int | None) -> dict[str, Any]:
        for scope in ([guild_id] if guild_id is not None else []) + [None]:
            for cmd in self.scopes.get(scope, []):
                if cmd["type"] == 1 and cmd["name"] == name:
                    return cmd
        where = f"guild {guild_id}" if guild_id else "DMs"
        raise CommandSchemaError(f"/{name} is not registered for {where}; registered: {sorted(self.names(guild_id))}")


# --------------------------------------------------------------------------
# Invocation: test kwargs -> interaction `data`.
# --------------------------------------------------------------------------
@dataclass
class InvocationContext:
    guild: FakeGuild | None
    resolved: dict[str, dict[str, Any]]
    add_attachment: Any  # Callable[[UploadFile], dict]: stores bytes on the CDN
    # Callable[[FakeUser | None, FakeChannel | None], str]: permissions of a user
    # (None: the invoking user) in a channel (None: the interaction's channel).
    permissions: Any


def _fail(cmd_path: str, msg: str) -> CommandSchemaError:
    return CommandSchemaError(f"/{cmd_path}: {msg}")


def convert_value(cmd_path: str, opt: dict[str, Any], value: Any, ctx: InvocationContext) -> Any:
    otype, name = opt["type"], opt["name"]
    where = f"option {name!r} ({TYPE_NAMES[otype]})"
    if otype == STRING:
        if not isinstance(value, str):
            raise _fail(cmd_path, f"{where} needs a str, got {value!r}")
        if len(value) < opt.get("min_length", 0) or len(value) > opt.get("max_length", 6000):
            raise _fail(
                cmd_path,
                f"{where} length {len(value)} outside [{opt.get('min_length', 0)}, {opt.get('max_length', 6000)}]",
            )
        return value
    if otype in (INTEGER, NUMBER):
        ok = isinstance(value, int) if otype == INTEGER else isinstance(value, int | float)
        if not ok or isinstance(value, bool):
            raise _fail(cmd_path, f"{where} needs a {'int' if otype == INTEGER else 'number'}, got {value!r}")
        if not -MAX_SAFE_INT < value < MAX_SAFE_INT:
            raise _fail(cmd_path, f"{where} {value} is out of Discord's range")
        lo, hi = opt.get("min_value"), opt.get("max_value")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise _fail(cmd_path, f"{where} {value} outside [{lo}, {hi}]")
        return value
    if otype == BOOLEAN:
        if not isinstance(value, bool):
            raise _fail(cmd_path, f"{where} needs a bool, got {value!r}")
        return value
    if otype in (USER, MENTIONABLE) and isinstance(value, FakeUser | FakeMember):
        user = value.user if isinstance(value, FakeMember) else value
        ctx.resolved.setdefault("users", {})[str(user.id)] = user.to_json()
        if ctx.guild is not None and user.id in ctx.guild.members:
            member = ctx.guild.members[user.id].to_json(include_user=False)
            member["permissions"] = ctx.permissions(user, None)
            ctx.resolved.setdefault("members", {})[str(user.id)] = member
        return str(user.id)
    if otype in (ROLE, MENTIONABLE) and isinstance(value, FakeRole):
        if ctx.guild is None or value.guild_id != ctx.guild.id:
            raise _fail(cmd_path, f"{where}: role {value.name!r} is not in this guild")
        ctx.resolved.setdefault("roles", {})[str(value.id)] = value.to_json()
        return str(value.id)
    if otype == CHANNEL and isinstance(value, FakeChannel):
        if ctx.guild is not None and value.guild_id != ctx.guild.id:
            raise _fail(cmd_path, f"{where}: channel {value.name!r} is not in this guild")
        types = opt.get("channel_types")
        if types and value.type not in types:
            raise _fail(cmd_path, f"{where}: channel type {value.type} not in {types}")
        data = value.to_json()
        data["permissions"] = ctx.permissions(None, value)
        ctx.resolved.setdefault("channels", {})[str(value.id)] = data
        return str(value.id)
    if otype == ATTACHMENT and isinstance(value, UploadFile):
        att = ctx.add_attachment(value)
        ctx.resolved.setdefault("attachments", {})[att["id"]] = att
        return att["id"]
    raise _fail(cmd_path, f"{where} cannot take {value!r}")


def _check_choice(cmd_path: str, opt: dict[str, Any], value: Any) -> None:
    choices = opt.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise _fail(cmd_path, f"option {opt['name']!r} value {value!r} is not one of {[c['value'] for c in choices]}")


def build_options(
    cmd_path: str,
    schema: list[dict[str, Any]],
    values: dict[str, Any],
    ctx: InvocationContext,
    focused: str | None = None,
) -> list[dict[str, Any]]:
    """Leaf options for one (sub)command, validated against its registered schema."""
    by_name = {o["name"]: o for o in schema}
    unknown = set(values) - set(by_name)
    if unknown:
        raise _fail(cmd_path, f"unknown option(s) {sorted(unknown)}; registered: {sorted(by_name)}")
    if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in schema):
        raise _fail(cmd_path, f"needs a subcommand: one of {sorted(by_name)}")
    out = []
    for opt in schema:
        name = opt["name"]
        if name not in values:
            if opt.get("required") and focused is None:
                raise _fail(cmd_path, f"required option {name!r} is missing")
            continue
        if name == focused:
            if not opt.get("autocomplete"):
                raise _fail(cmd_path, f"option {name!r} has no autocomplete")
            # While typing, Discord sends the partial input as a string, whatever the type.
            out.append({"name": name, "type": opt["type"], "value": str(values[name]), "focused": True})
            continue
        value = convert_value(cmd_path, opt, values[name], ctx)
        if not opt.get("autocomplete"):
            _check_choice(cmd_path, opt, value)
        out.append({"name": name, "type": opt["type"], "value": value})
    if focused is not None and focused not in values:
        raise _fail(cmd_path, f"focused option {focused!r} needs a (partial) value")
    return out


def build_command_data(
    command: dict[str, Any], path: list[str], values: dict[str, Any], ctx: InvocationContext, focused: str | None = None
) -> dict[str, Any]:
    """The interaction `data` for invoking `command` (walking `path` subcommands)."""
    cmd_path = " ".join([command["name"], *path])
    schema = command.get("options") or []
    nest: list[dict[str, Any]] = []
    for part in path:
        sub = next((o for o in schema if o["name"] == part and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)), None)
        if sub is None:
            raise _fail(cmd_path, f"no subcommand {part!r}; has {[o['name'] for o in schema]}")
        nest.append({"name": part, "type": sub["type"]})
        schema = sub.get("options") or []
    if nest and nest[-1]["type"] == SUB_COMMAND_GROUP:
        raise _fail(cmd_path, "a subcommand group cannot be invoked; name one of its subcommands")
    options = build_options(cmd_path, schema, values, ctx, focused)
    # Wrap leaf options in their subcommand / group layers, innermost first.
    for layer in reversed(nest):
        layer["options"] = options
        options = [layer]
    data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": 1}
    if options:
        data["options"] = options
    if ctx.resolved:
        data["resolved"] = ctx.resolved
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    return data
