"""`medianest worker`: the arq worker that runs downloads and periodic jobs."""

from __future__ import annotations

from arq.worker import check_health
from arq.worker import run_worker as arq_run_worker

from bot.config import Settings
from workers.settings import worker_settings


def run_worker(settings: Settings) -> None:
    arq_run_worker(worker_settings(settings))


def check_worker(settings: Settings) -> int:
    """0 when a worker wrote its health-check key recently (the compose healthcheck)."""
    return check_health(worker_settings(settings))
