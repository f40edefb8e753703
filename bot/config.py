"""Typed settings, read once from the environment (and an optional .env file).

Each concern is its own pydantic-settings section with its own prefix, so the
environment names stay flat (`DISCORD_TOKEN`, `PLEX_SERVER_URL`) while the code
reads `settings.discord.token`. `load_settings` builds every section, collects
every error from all of them, and raises one `ConfigError` naming each bad
variable and why, without ever echoing a value (it might be a secret).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

YOUTUBE_HOSTS = (
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "music.youtube.com",
    "youtu.be",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
)


def _split_commas(value: Any) -> Any:
    """Accept `1,2,3` (as people write lists in .env files) as well as real lists."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split_commas)]
IdList = Annotated[list[int], NoDecode, BeforeValidator(_split_commas)]


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


class _Section(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore", frozen=True
    )


class DiscordSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="DISCORD_")

    token: SecretStr
    guild_ids: IdList = Field(default_factory=list)
    admin_ids: IdList = Field(default_factory=list, validation_alias="ADMIN_DISCORD_IDS")
    api_base_url: AnyHttpUrl = AnyHttpUrl("https://discord.com/api/v10")
    gateway_url: str = "wss://gateway.discord.gg/"
    shard_count: int | None = Field(default=None, ge=1, validation_alias="SHARD_COUNT")
    shard_ids: IdList = Field(default_factory=list, validation_alias="SHARD_IDS")
    guild_ready_timeout: float = Field(default=2.0, gt=0)

    @field_validator("token")
    @classmethod
    def _token_not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("gateway_url")
    @classmethod
    def _gateway_is_ws(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("must be a ws:// or wss:// URL")
        return value

    @model_validator(mode="after")
    def _shards_fit(self) -> DiscordSettings:
        if self.shard_ids and self.shard_count is None:
            raise ValueError("SHARD_COUNT is required when SHARD_IDS is set")
        if self.shard_count is not None and any(s >= self.shard_count for s in self.shard_ids):
            raise ValueError("SHARD_IDS values must each be below SHARD_COUNT")
        return self


class DatabaseSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="DATABASE_")

    url: SecretStr
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=10, ge=1)

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql://user:password@host:port/database URL")
        return value


class RedisSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="REDIS_")

    url: SecretStr

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://host:port/db URL")
        return value


class SecuritySettings(_Section):
    encryption_key: SecretStr = Field(validation_alias="ENCRYPTION_KEY")

    @field_validator("encryption_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr) -> SecretStr:
        try:
            raw = base64.urlsafe_b64decode(value.get_secret_value().encode())
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ValueError(
                "must be 32 random bytes in URL-safe base64; make one with "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            )
        return value


class PlexSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="PLEX_")

    client_id: str | None = Field(default=None, min_length=8, max_length=64)
    server_url: AnyHttpUrl | None = None
    server_token: SecretStr | None = None
    tv_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://plex.tv"), validation_alias="PLEX_TV_URL")
    app_url: AnyHttpUrl = AnyHttpUrl("https://app.plex.tv")
    download_section: str | None = None
    download_root: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)
    scan_timeout_seconds: float = Field(default=300.0, gt=0)

    @model_validator(mode="after")
    def _token_with_server(self) -> PlexSettings:
        if self.server_url is not None and self.server_token is None:
            raise ValueError("PLEX_SERVER_TOKEN is needed when PLEX_SERVER_URL is set")
        return self


class OverseerrSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="OVERSEERR_")

    url: AnyHttpUrl | None = None
    api_key: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)
    import_users: bool = False
    poll_seconds: int = Field(default=60, ge=1, le=3600)

    @model_validator(mode="after")
    def _key_with_url(self) -> OverseerrSettings:
        if self.url is not None and self.api_key is None:
            raise ValueError("OVERSEERR_API_KEY is needed when OVERSEERR_URL is set")
        return self


class UptimeKumaSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="UPTIME_KUMA_")

    url: AnyHttpUrl | None = None
    status_slug: str | None = Field(default=None, pattern=r"^[a-z0-9-]+$")
    api_key: SecretStr | None = None
    timeout_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _slug_with_url(self) -> UptimeKumaSettings:
        if self.url is not None and self.status_slug is None:
            raise ValueError("UPTIME_KUMA_STATUS_SLUG is needed when UPTIME_KUMA_URL is set")
        return self


class DownloadSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="DOWNLOAD_")

    root: Path = Path("/downloads")
    allowed_hosts: CommaList = Field(default_factory=lambda: list(YOUTUBE_HOSTS))
    concurrency: int = Field(default=2, ge=1, le=16)
    job_timeout_seconds: int = Field(default=3600, ge=10)
    max_tries: int = Field(default=3, ge=1, le=10)
    user_quota_gb: float | None = Field(default=None, gt=0)
    retry_base_seconds: float = Field(default=30.0, ge=0)

    @field_validator("allowed_hosts")
    @classmethod
    def _plain_hosts(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            if ":" in host or "/" in host or "@" in host:
                raise ValueError(f"{host!r} is not a plain host name (no scheme, port or path)")
        return [h.lower().rstrip(".") for h in hosts]

    @field_validator("root")
    @classmethod
    def _absolute(cls, root: Path) -> Path:
        if not root.is_absolute():
            raise ValueError("must be an absolute path")
        return root


class LimitSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="RATE_LIMIT_")

    commands_per_minute: int = Field(default=100, ge=1)
    downloads_per_hour: int = Field(default=5, ge=1)
    requests_per_day: int = Field(default=10, ge=1, validation_alias="REQUEST_QUOTA_PER_DAY")


class ChannelSettings(_Section):
    status_channel_ids: IdList = Field(default_factory=list, validation_alias="STATUS_CHANNEL_IDS")
    notify_channel_id: int | None = Field(default=None, validation_alias="NOTIFY_CHANNEL_ID")
    status_poll_seconds: int = Field(default=60, ge=1, validation_alias="STATUS_POLL_SECONDS")
    # defaults for the status board; /admin status changes them per server, in the database
    status_flap_window_seconds: int = Field(default=300, ge=0, validation_alias="STATUS_FLAP_WINDOW_SECONDS")
    status_silence_up: bool = Field(default=False, validation_alias="STATUS_SILENCE_UP")
    status_ping_role_id: int | None = Field(default=None, validation_alias="STATUS_PING_ROLE_ID")
    status_board_check_seconds: int = Field(default=600, ge=1, validation_alias="STATUS_BOARD_CHECK_SECONDS")


class WebSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="WEB_")

    host: str = "0.0.0.0"  # noqa: S104 - the container must be reachable by its healthcheck
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)

    @field_validator("host")
    @classmethod
    def _host(cls, host: str) -> str:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not host or " " in host:
                raise ValueError("must be an IP address or host name") from None
        return host


class LogSettings(_Section):
    model_config = SettingsConfigDict(env_prefix="LOG_")

    level: str = "INFO"
    format: LogFormat = LogFormat.CONSOLE

    @field_validator("level")
    @classmethod
    def _level(cls, level: str) -> str:
        level = level.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level


class Settings(BaseModel):
    """All sections together; build it with `load_settings`."""

    model_config = {"frozen": True}

    discord: DiscordSettings
    database: DatabaseSettings
    redis: RedisSettings
    security: SecuritySettings
    plex: PlexSettings
    overseerr: OverseerrSettings
    kuma: UptimeKumaSettings
    downloads: DownloadSettings
    limits: LimitSettings
    channels: ChannelSettings
    web: WebSettings
    log: LogSettings

    SECTIONS: ClassVar[dict[str, type[_Section]]] = {
        "discord": DiscordSettings,
        "database": DatabaseSettings,
        "redis": RedisSettings,
        "security": SecuritySettings,
        "plex": PlexSettings,
        "overseerr": OverseerrSettings,
        "kuma": UptimeKumaSettings,
        "downloads": DownloadSettings,
        "limits": LimitSettings,
        "channels": ChannelSettings,
        "web": WebSettings,
        "log": LogSettings,
    }


class ConfigError(Exception):
    """Every configuration problem at once, each naming its variable; no values."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {name}: {why}" for name, why in problems)
        super().__init__(f"Configuration is invalid ({len(problems)} problem(s)):\n{lines}")


def _env_name(section: type[_Section], loc: tuple[int | str, ...]) -> str:
    """Map a pydantic error location back to the environment variable a user sets."""
    if not loc:
        return section.__name__.removesuffix("Settings").upper()
    field = str(loc[0])
    if field.isupper():  # pydantic reports the alias when one is set
        return field
    info = section.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, str):
        return info.validation_alias
    prefix = section.model_config.get("env_prefix", "")
    return f"{prefix}{field}".upper()


_LEADING_NAME = re.compile(r"^([A-Z][A-Z0-9_]+) (.*)$", re.S)


def _problem(section: type[_Section], error: Mapping[str, Any]) -> tuple[str, str]:
    """(variable, why) for one pydantic error; cross-field errors name their variable first."""
    if error["type"] == "missing":
        return _env_name(section, tuple(error["loc"])), "is required but not set"
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"] and (match := _LEADING_NAME.match(message)):
        return match[1], match[2]
    return _env_name(section, tuple(error["loc"])), message


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Build every section, raising one ConfigError that lists every bad variable."""
    built: dict[str, _Section] = {}
    problems: list[tuple[str, str]] = []
    for name, section in Settings.SECTIONS.items():
        try:
            built[name] = section(_env_file=env_file, **overrides.get(name, {}))  # type: ignore[call-arg]
        except ValidationError as exc:
            for error in exc.errors(include_input=False, include_url=False):
                problems.append(_problem(section, error))
    if problems:
        raise ConfigError(problems)
    return Settings(**built)  # type: ignore[arg-type]
