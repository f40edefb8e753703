"""The services, built once from the dependencies and handed to cogs and workers."""

from __future__ import annotations

from dataclasses import dataclass

from bot.deps import Dependencies
from bot.notices import Notifier
from bot.services.accounts import AccountService
from bot.services.downloads import DownloadService


@dataclass(frozen=True)
class Services:
    accounts: AccountService
    downloads: DownloadService

    @classmethod
    def build(cls, deps: Dependencies, notifier: Notifier) -> Services:
        settings = deps.settings
        accounts = AccountService(
            pool=deps.pool,
            cipher=deps.cipher,
            plex_tv=deps.plex_tv,
            plex_server=deps.plex_server,
            notifier=notifier,
            limiter=deps.limiter,
            limits=settings.limits,
            admin_ids=frozenset(settings.discord.admin_ids),
            app_url=str(settings.plex.app_url),
        )
        downloads = DownloadService(
            pool=deps.pool,
            redis=deps.redis,
            arq=deps.arq,
            limiter=deps.limiter,
            accounts=accounts,
            settings=settings,
        )
        return cls(accounts=accounts, downloads=downloads)
