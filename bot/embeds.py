"""The one embed builder: success, error, info and progress look the same everywhere.

Titles and descriptions that carry user or upstream text must be escaped by the
caller with `safe`, so a title like `@everyone` or `**x**` is shown, not acted on.
"""

from __future__ import annotations

from enum import Enum

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.errors import AppError

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_VALUE_LIMIT = 1024


class Tone(Enum):
    SUCCESS = (0x2ECC71, "✅")
    ERROR = (0xE74C3C, "⛔")
    WARNING = (0xF1C40F, "⚠️")
    INFO = (0x3498DB, "ℹ️")
    PROGRESS = (0x9B59B6, "⏳")

    @property
    def colour(self) -> int:
        return self.value[0]

    @property
    def icon(self) -> str:
        return self.value[1]


def safe(text: str | None, limit: int | None = None) -> str:
    """Escape markdown and mentions in text that came from a user or another service."""
    cleaned = escape_mentions(escape_markdown(text or ""))
    return truncate(cleaned, limit) if limit else cleaned


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def build(tone: Tone, title: str, description: str | None = None, *, footer: str | None = None) -> discord.Embed:
    embed = discord.Embed(
        title=truncate(f"{tone.icon} {title}", TITLE_LIMIT),
        description=truncate(description, DESCRIPTION_LIMIT) if description else None,
        colour=tone.colour,
    )
    if footer:
        embed.set_footer(text=truncate(footer, 2048))
    return embed


def success(title: str, description: str | None = None) -> discord.Embed:
    return build(Tone.SUCCESS, title, description)


def info(title: str, description: str | None = None) -> discord.Embed:
    return build(Tone.INFO, title, description)


def warning(title: str, description: str | None = None) -> discord.Embed:
    return build(Tone.WARNING, title, description)


def error(err: AppError, correlation_id: str) -> discord.Embed:
    """The user-facing rendering of an AppError: what happened, what to do, and ids to quote."""
    return build(Tone.ERROR, err.title, err.message, footer=f"{err.code.value} · ref {correlation_id}")


def progress_bar(fraction: float, width: int = 20) -> str:
    fraction = min(max(fraction, 0.0), 1.0)
    filled = round(fraction * width)
    return "█" * filled + "░" * (width - filled) + f" {fraction * 100:5.1f}%"


def progress(title: str, fraction: float, detail: str | None = None) -> discord.Embed:
    body = f"`{progress_bar(fraction)}`"
    if detail:
        body += f"\n{detail}"
    return build(Tone.PROGRESS, title, body)
