"""The services, built once from the dependencies and handed to cogs and workers."""

from __future__ import annotations

from dataclasses import dataclass

from bot.deps import Dependencies
from bot.notices import Notifier
from bot.services.accounts import AccountService
from bot.services.admin import AdminService
from bot.services.doctor import DoctorService
from bot.services.downloads import DownloadService
from bot.services.requests import RequestService
from bot.services.stats import StatsService
from bot.services.status import StatusService


@dataclass(frozen=True)
class Services:
    accounts: AccountService
    downloads: DownloadService
    status: StatusService
    requests: RequestService
    admin: AdminService
    stats: StatsService
    doctor: DoctorService

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
            runtime=deps.runtime,
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
            runtime=deps.runtime,
        )
        status = StatusService(
            pool=deps.pool,
            redis=deps.redis,
            arq=deps.arq,
            accounts=accounts,
            settings=settings,
            kuma=deps.kuma,
            plex=deps.plex_server,
            overseerr=deps.overseerr_probe,
        )
        requests = RequestService(
            pool=deps.pool,
            redis=deps.redis,
            overseerr=deps.overseerr,
            accounts=accounts,
            settings=settings,
            runtime=deps.runtime,
        )
        accounts.after_link.append(requests.map_after_link)
        admin = AdminService(pool=deps.pool, accounts=accounts, downloads=downloads)
        stats = StatsService(pool=deps.pool, arq=deps.arq, accounts=accounts)
        doctor = DoctorService(
            settings=settings,
            pool=deps.pool,
            redis=deps.redis,
            arq=deps.arq,
            accounts=accounts,
            plex_tv=deps.plex_tv,
            plex_server=deps.plex_server,
            overseerr=deps.overseerr,
            kuma=deps.kuma,
        )
        return cls(
            accounts=accounts,
            downloads=downloads,
            status=status,
            requests=requests,
            admin=admin,
            stats=stats,
            doctor=doctor,
        )
