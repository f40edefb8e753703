"""A fake Discord (REST API v10 + gateway) that an unmodified discord.py bot logs into.

Start with `FakeDiscord` (api.py), the `fake_discord` fixture (pytest_plugin.py)
and `BotProcess` (process.py). The module docstrings say why each part exists.
"""

from .api import FakeDiscord
from .commands import UploadFile
from .contract import ContractError, validate_exchange
from .errors import CommandSchemaError, ComponentError, DiscordError, InteractionFailed
from .interactions import Interaction
from .models import FakeChannel, FakeGuild, FakeMember, FakeRole, FakeUser, Message, Overwrite
from .process import BotProcess

__all__ = [
    "BotProcess",
    "CommandSchemaError",
    "ComponentError",
    "ContractError",
    "DiscordError",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "Interaction",
    "InteractionFailed",
    "Message",
    "Overwrite",
    "UploadFile",
    "validate_exchange",
]
