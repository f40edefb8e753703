"""The HTTP plumbing every integration shares: one httpx client, timeouts, a breaker.

Transport failures, timeouts and 5xx answers count against the breaker and
become SERVICE_UNAVAILABLE / EXTERNAL_SERVICE_ERROR with the service's name;
other answers go back to the caller, which knows what a 401 or 404 means there.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from bot.errors import AppError, ErrorCode
from bot.integrations.breaker import CircuitBreaker

log = logging.getLogger(__name__)


class ServiceClient:
    def __init__(
        self,
        display_name: str,
        *,
        base_url: str,
        timeout: float,
        headers: dict[str, str] | None = None,
        breaker: CircuitBreaker,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.display_name = display_name
        self.breaker = breaker
        self.http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers=headers or {},
            transport=transport,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    def unavailable(self) -> AppError:
        retry = self.breaker.retry_in()
        when = f" Try again in about {max(1, round(retry))} s." if retry else " Try again in a minute."
        return AppError(
            ErrorCode.SERVICE_UNAVAILABLE,
            f"{self.display_name} is not answering right now.{when}",
            details={"service": self.display_name},
        )

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if not self.breaker.allow():
            raise self.unavailable()
        try:
            response = await self.http.request(method, url, **kwargs)
        except asyncio.CancelledError:
            self.breaker.release()  # no verdict; a stuck half-open trial would block the service for good
            raise
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            self.breaker.failure()
            log.warning("%s %s %s failed: %s", self.display_name, method, url, type(exc).__name__)
            raise self.unavailable() from exc
        if response.status_code >= 500:
            self.breaker.failure()
            log.warning("%s %s %s answered %s", self.display_name, method, url, response.status_code)
            raise AppError(
                ErrorCode.EXTERNAL_SERVICE_ERROR,
                f"{self.display_name} answered with an error ({response.status_code}). Try again later.",
                details={"service": self.display_name, "status": response.status_code},
            )
        self.breaker.success()
        return response

    @staticmethod
    def json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise AppError(ErrorCode.EXTERNAL_SERVICE_ERROR, "A service sent an answer we could not read.") from exc
