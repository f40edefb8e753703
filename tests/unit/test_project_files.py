"""The documents stay true: every setting documented, compose and Dockerfile as promised.

`docker compose config` needs a Docker engine plugin that this machine lacks, so
the compose file's promises are checked here structurally as well.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def setting_names() -> list[str]:
    names = []
    for section in Settings.SECTIONS.values():
        prefix = section.model_config.get("env_prefix", "")
        for field, info in section.model_fields.items():
            alias = info.validation_alias
            names.append(alias if isinstance(alias, str) else f"{prefix}{field}".upper())
    return names


def test_every_setting_is_in_env_example_and_readme() -> None:
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    example_keys = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, re.M))
    for name in setting_names():
        assert name in example_keys, f"{name} missing from .env.example"
        assert f"| `{name}` |" in readme, f"{name} missing from the README settings table"


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in readme and "exec scripts/test" in ci
    assert "docker compose up -d" in readme


def test_compose_services_healthchecks_and_volumes() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "bot", "worker"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"
    assert "--appendonly" in services["redis"]["command"]
    assert services["bot"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["worker"]["depends_on"]["bot"]["condition"] == "service_healthy"
    assert {"pgdata", "downloads"} <= set(compose["volumes"])
    assert "downloads:/downloads" in services["worker"]["volumes"]


def test_dockerfile_is_non_root_with_ffmpeg_and_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim", dockerfile, re.M)
    assert "ffmpeg" in dockerfile
    assert re.search(r"^USER medianest$", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
