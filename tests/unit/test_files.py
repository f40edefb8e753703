"""Titles become safe names; nothing can point outside the download root."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.files import PathEscapeError, inside, plex_path, safe_name


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Normal title", "Normal title"),
        ("../../etc/passwd", "etc passwd"),
        ('a/b\\c:d*e?f"g<h>i|j', "a b c d e f g h i j"),
        ("..hidden", "hidden"),
        ("tab\tand\nnewline\x00nul", "tab and newline nul"),
        ("", "fallback"),
        ("///", "fallback"),
    ],
)
def test_safe_name(title: str, expected: str) -> None:
    assert safe_name(title, "fallback") == expected


def test_long_names_are_cut_on_a_character_boundary() -> None:
    name = safe_name("é" * 200, "x")
    assert len(name.encode()) <= 150
    name.encode().decode()  # still valid UTF-8


def test_inside_refuses_escapes(tmp_path: Path) -> None:
    assert inside(tmp_path, "alice", "Trip") == (tmp_path / "alice" / "Trip").resolve()
    for parts in (("..",), ("alice", "..", ".."), ("/etc",), ("",)):
        with pytest.raises(PathEscapeError):
            inside(tmp_path, *parts)
    (tmp_path / "link").symlink_to("/etc")
    with pytest.raises(PathEscapeError):
        inside(tmp_path, "link", "passwd")


def test_plex_path_maps_the_root(tmp_path: Path) -> None:
    local = tmp_path / "alice" / "Trip" / "a.mp4"
    assert plex_path(local, tmp_path, "/data/youtube") == "/data/youtube/alice/Trip/a.mp4"
    assert plex_path(local, tmp_path, None) == str(local)
