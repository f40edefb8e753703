"""Log lines carry the correlation id and never a secret."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.correlation import correlated
from bot.logs import ConsoleFormatter, CorrelationFilter, JsonFormatter, redact, register_secret


@pytest.mark.parametrize(
    "line",
    [
        "GET https://plex.tv/api/v2/user?X-Plex-Token=abcdef123456 200",
        "headers={'X-Plex-Token': 'abcdef123456'}",
        '{"authToken": "abcdef123456", "id": 1}',
        "Authorization: Bot abcdef123456.x.y",
        "connecting to postgresql://medianest:abcdef123456@db:5432/medianest",
        "X-Api-Key: abcdef123456",
    ],
)
def test_token_shapes_are_redacted(line: str) -> None:
    assert "abcdef123456" not in redact(line)
    assert "[REDACTED]" in redact(line)


def test_registered_secret_is_redacted_anywhere() -> None:
    register_secret("plain-secret-value-xyz")
    assert redact("oops plain-secret-value-xyz leaked") == "oops [REDACTED] leaked"


def _logger(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"test.{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_json_lines_carry_correlation_id_and_extras() -> None:
    logger, stream = _logger(JsonFormatter())
    with correlated(1234567890):
        logger.info("linked %s", "alice", extra={"user_id": 42})
    logger.info("outside")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["correlation_id"] == "1234567890"
    assert first["message"] == "linked alice"
    assert first["user_id"] == 42
    assert second["correlation_id"] == "-"


def test_console_line_redacts_exception_text() -> None:
    logger, stream = _logger(ConsoleFormatter())
    try:
        raise RuntimeError("token=abcdef123456 rejected")
    except RuntimeError:
        with correlated("job:9"):
            logger.exception("failed")
    out = stream.getvalue()
    assert "[job:9]" in out and "RuntimeError" in out
    assert "abcdef123456" not in out
