"""Configuration: every bad variable reported at once, never a secret value."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.config import YOUTUBE_HOSTS, ConfigError, load_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for key in list(os.environ):
        if key.isupper() and key not in {"PATH", "HOME", "VIRTUAL_ENV", "PYTHONPATH"}:
            monkeypatch.delenv(key)
    return monkeypatch


def test_missing_token_and_bad_database_url_reported_together_without_secrets(
    clean_env: pytest.MonkeyPatch, encryption_key: str
) -> None:
    clean_env.setenv("DATABASE_URL", "mysql://admin:hunter2-secret@db/media")
    clean_env.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    clean_env.setenv("ENCRYPTION_KEY", encryption_key)
    clean_env.setenv("OVERSEERR_URL", "http://overseerr:5055")
    clean_env.setenv("OVERSEERR_API_KEY", "ov-key-very-secret")
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    names = [name for name, _ in caught.value.problems]
    assert names == ["DISCORD_TOKEN", "DATABASE_URL"]
    message = str(caught.value)
    assert "DISCORD_TOKEN: is required but not set" in message
    assert "DATABASE_URL: must be a postgresql://" in message
    assert "hunter2" not in message and encryption_key not in message and "ov-key" not in message


def test_lists_are_comma_separated_and_one_value_is_a_list_of_one(
    clean_env: pytest.MonkeyPatch, encryption_key: str
) -> None:
    clean_env.setenv("DISCORD_TOKEN", "abc-0123456789")
    clean_env.setenv("DATABASE_URL", "postgresql://u@h/db")
    clean_env.setenv("REDIS_URL", "redis://h:6379/0")
    clean_env.setenv("ENCRYPTION_KEY", encryption_key)
    clean_env.setenv("ADMIN_DISCORD_IDS", "123, 456")
    clean_env.setenv("DISCORD_GUILD_IDS", "789")
    clean_env.setenv("STATUS_CHANNEL_IDS", "11,12,13")
    settings = load_settings(env_file=None)
    assert settings.discord.admin_ids == [123, 456]
    assert settings.discord.guild_ids == [789]
    assert settings.channels.status_channel_ids == [11, 12, 13]
    assert tuple(settings.downloads.allowed_hosts) == YOUTUBE_HOSTS
    assert "abc-0123456789" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "expected_name", "why"),
    [
        ("ENCRYPTION_KEY", "too-short", "ENCRYPTION_KEY", "32 random bytes"),
        ("ADMIN_DISCORD_IDS", "12,abc", "ADMIN_DISCORD_IDS", "valid integer"),
        ("DOWNLOAD_ALLOWED_HOSTS", "youtube.com:443", "DOWNLOAD_ALLOWED_HOSTS", "plain host name"),
        ("DOWNLOAD_ROOT", "relative/path", "DOWNLOAD_ROOT", "absolute path"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL", "one of DEBUG"),
        ("DISCORD_GATEWAY_URL", "http://x", "DISCORD_GATEWAY_URL", "ws://"),
        (
            "PLEX_SERVER_URL",
            "http://plex:32400",
            "PLEX_SERVER_TOKEN",
            "is needed when PLEX_SERVER_URL is set",
        ),
    ],
)
def test_each_bad_value_names_its_variable(
    clean_env: pytest.MonkeyPatch, encryption_key: str, name: str, value: str, expected_name: str, why: str
) -> None:
    base = {
        "DISCORD_TOKEN": "abc-0123456789",
        "DATABASE_URL": "postgresql://u@h/db",
        "REDIS_URL": "redis://h:6379/0",
        "ENCRYPTION_KEY": encryption_key,
    }
    for key, val in {**base, name: value}.items():
        clean_env.setenv(key, val)
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    (problem,) = caught.value.problems
    assert problem[0] == expected_name
    assert why in problem[1]


def test_check_config_command_exits_2_with_the_report(tmp_path: object) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "nope://secret-pass@x"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check-config"],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        check=False,
    )
    assert result.returncode == 2
    assert "DISCORD_TOKEN: is required but not set" in result.stderr
    assert "DATABASE_URL: must be a postgresql://" in result.stderr
    assert "secret-pass" not in result.stderr + result.stdout


def test_every_environment_default_is_a_valid_runtime_value(clean_env: pytest.MonkeyPatch, encryption_key: str) -> None:
    """An admin-changeable setting may not refuse what the environment allowed (it would break every command)."""
    from bot.services.runtime import RuntimeValues, defaults

    for key, value in {
        "DISCORD_TOKEN": "abc-0123456789",
        "DATABASE_URL": "postgresql://u@h/db",
        "REDIS_URL": "redis://h:6379/0",
        "ENCRYPTION_KEY": encryption_key,
        "RATE_LIMIT_COMMANDS_PER_MINUTE": "1000000",
        "RATE_LIMIT_DOWNLOADS_PER_HOUR": "100000",
        "REQUEST_QUOTA_PER_DAY": "100000",
        "DOWNLOAD_USER_QUOTA_GB": "0.5",
    }.items():
        clean_env.setenv(key, value)
    values = RuntimeValues(**defaults(load_settings(env_file=None)))
    assert values.commands_per_minute == 1_000_000 and values.download_quota_gb == 0.5
