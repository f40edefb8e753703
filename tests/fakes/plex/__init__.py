"""Fakes of plex.tv and a Plex Media Server for tests; see plextv.py and server.py."""

from .library import Library, LibraryError
from .models import Collection, Item, Location, Pin, PinPoll, PlexAccount, Scan, Section
from .plextv import FakePlexTv
from .server import FakePlexServer

__all__ = [
    "Collection",
    "FakePlexServer",
    "FakePlexTv",
    "Item",
    "Library",
    "LibraryError",
    "Location",
    "Pin",
    "PinPoll",
    "PlexAccount",
    "Scan",
    "Section",
]
