"""A fake Overseerr (and Jellyseerr/Seerr) for the bot's tests. See `fake.py`."""

from .constants import MediaRequestStatus, MediaStatus, Notification, Permission
from .contract import ContractError
from .errors import OverseerrError
from .fake import FakeOverseerr, ServerSettings
from .models import CatalogTitle, Media, MediaRequest, User
from .webhook import WebhookDelivery

__all__ = [
    "CatalogTitle",
    "ContractError",
    "FakeOverseerr",
    "Media",
    "MediaRequest",
    "MediaRequestStatus",
    "MediaStatus",
    "Notification",
    "OverseerrError",
    "Permission",
    "ServerSettings",
    "User",
    "WebhookDelivery",
]
