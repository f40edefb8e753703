"""Discord's error shapes, and the exceptions a test sees when it misuses the fake.

Two kinds of failure live here and must not be confused:

* `DiscordError` is what the *bot* gets: the fake raises it inside a route handler
  and the REST middleware turns it into Discord's JSON error body
  (`{"message": ..., "code": ...[, "errors": ...]}`) with the right HTTP status.
* `CommandSchemaError`, `ComponentError` and `InteractionFailed` are what the *test*
  gets when it asks for something Discord's client would never let a user do (an
  option of the wrong type, a click on a disabled button) or when the bot failed
  the user (no answer within 3 s). They subclass AssertionError so pytest reports
  them as test failures, not as errors in the fixture machinery.
"""

from __future__ import annotations

from typing import Any


class DiscordError(Exception):
    """An API error answered to the bot as Discord would."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            out["errors"] = self.errors
        return out


# Codes from https://discord.com/developers/docs/topics/opcodes-and-status-codes
UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_MEMBER = 10007
UNKNOWN_MESSAGE = 10008
UNKNOWN_ROLE = 10011
UNKNOWN_USER = 10013
UNKNOWN_WEBHOOK = 10015
UNKNOWN_APPLICATION = 10002
UNKNOWN_INTERACTION = 10062
UNKNOWN_COMMAND = 10063
CANNOT_SEND_EMPTY = 50006
CANNOT_DM_USER = 50007
INVALID_WEBHOOK_TOKEN = 50027
INVALID_FORM_BODY = 50035
ALREADY_ACKNOWLEDGED = 40060
UNAUTHORIZED = 0
MISSING_ACCESS = 50001


def not_found(code: int, what: str) -> DiscordError:
    return DiscordError(404, code, f"Unknown {what}")


def unauthorized() -> DiscordError:
    return DiscordError(401, UNAUTHORIZED, "401: Unauthorized")


def route_not_found() -> DiscordError:
    return DiscordError(404, 0, "404: Not Found")


def method_not_allowed() -> DiscordError:
    return DiscordError(405, 0, "405: Method Not Allowed")


def cannot_dm() -> DiscordError:
    return DiscordError(403, CANNOT_DM_USER, "Cannot send messages to this user")


def already_acknowledged() -> DiscordError:
    return DiscordError(400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")


def unknown_interaction() -> DiscordError:
    return DiscordError(404, UNKNOWN_INTERACTION, "Unknown interaction")


def invalid_form_body(errors: dict[str, Any]) -> DiscordError:
    return DiscordError(400, INVALID_FORM_BODY, "Invalid Form Body", errors)


class FieldErrors:
    """Collects per-field errors into Discord's nested `errors` shape.

    `add("embeds.0.title", "BASE_TYPE_MAX_LENGTH", "...")` produces
    `{"embeds": {"0": {"title": {"_errors": [{"code": ..., "message": ...}]}}}}`,
    which is what discord.py prints in its HTTPException text, so a bot author sees
    the same message against the fake as against Discord.
    """

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, path: str, code: str, message: str) -> None:
        node = self.tree
        for part in path.split(".") if path else []:
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def __bool__(self) -> bool:
        return bool(self.tree)

    def raise_if_any(self) -> None:
        if self.tree:
            raise invalid_form_body(self.tree)


class CommandSchemaError(AssertionError):
    """The test invoked a command in a way Discord's client would not allow."""


class ComponentError(AssertionError):
    """The test clicked/picked a component that does not exist or is disabled."""


class InteractionFailed(AssertionError):
    """The bot did not acknowledge an interaction in time (the user sees a failure)."""
