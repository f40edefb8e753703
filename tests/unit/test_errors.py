"""The one error path: what users see for an AppError and for a bug."""

from __future__ import annotations

from discord import app_commands

from bot import embeds
from bot.errors import AppError, ErrorCode
from bot.tree import INTERNAL, Refused, classify


def test_app_error_embed_shows_message_code_and_reference() -> None:
    err = AppError(ErrorCode.DUPLICATE_REQUEST, "Dune is already requested by **alice**.")
    embed = embeds.error(err, "1180000000000000000")
    assert embed.title is not None and "Already requested" in embed.title
    assert embed.description == "Dune is already requested by **alice**."
    assert embed.footer.text == "DUPLICATE_REQUEST · ref 1180000000000000000"
    assert embed.colour is not None and embed.colour.value == embeds.Tone.ERROR.colour
    assert err.status == 409


def test_classify_unwraps_what_discord_py_wraps() -> None:
    inner = AppError(ErrorCode.RATE_LIMIT_EXCEEDED, "slow down")
    wrapped = app_commands.CommandInvokeError.__new__(app_commands.CommandInvokeError)
    wrapped.original = inner
    assert classify(wrapped) is inner
    assert classify(Refused(inner)) is inner


def test_bugs_are_not_classified_and_internal_error_says_what_to_do() -> None:
    wrapped = app_commands.CommandInvokeError.__new__(app_commands.CommandInvokeError)
    wrapped.original = KeyError("boom")
    assert classify(wrapped) is None
    assert INTERNAL.code is ErrorCode.INTERNAL_ERROR
    assert "quote the reference" in INTERNAL.message


def test_safe_escapes_mentions_and_markdown() -> None:
    text = embeds.safe("@everyone **free** <@123>")
    assert "@everyone" not in text.replace("@\u200beveryone", "")
    assert "\\*\\*free\\*\\*" in text


def test_progress_bar_bounds() -> None:
    assert embeds.progress_bar(0).startswith("░")
    assert embeds.progress_bar(1.5).endswith("100.0%")


def test_our_own_infrastructure_being_down_is_an_outage_not_a_bug() -> None:
    import asyncpg
    from redis.exceptions import ConnectionError as RedisConnectionError

    for error, code in (
        (RedisConnectionError("refused"), ErrorCode.SERVICE_UNAVAILABLE),
        (ConnectionRefusedError(111, "refused"), ErrorCode.DATABASE_ERROR),
        (asyncpg.InterfaceError("pool is closed"), ErrorCode.DATABASE_ERROR),
    ):
        wrapped = app_commands.CommandInvokeError.__new__(app_commands.CommandInvokeError)
        wrapped.original = error
        shown = classify(wrapped)
        assert shown is not None and shown.code is code
        assert "Try again in a minute" in shown.message
