"""What services tell users, independent of how it reaches them.

A service builds a Notice; the bot turns it into an embed and DMs it (falling
back to a mention in the notifications channel); a worker hands it to the bot
through Redis. Services never touch Discord objects.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel

Tone = Literal["success", "error", "warning", "info"]


class Notice(BaseModel):
    user_id: int
    tone: Tone
    title: str
    body: str
    url: str | None = None
    image_url: str | None = None
    topic: str = "general"


class Notifier(Protocol):
    async def notify(self, notice: Notice) -> bool:
        """Deliver to the user; True if it reached them (by DM or the fallback channel)."""
        ...
