"""Only YouTube (or what the admin allowed), only the known shapes, rebuilt from the ids."""

from __future__ import annotations

import pytest

from bot.config import YOUTUBE_HOSTS
from bot.errors import AppError, ErrorCode
from bot.services.urls import parse_download_url

ALLOWED = list(YOUTUBE_HOSTS)


@pytest.mark.parametrize(
    ("url", "canonical", "kind"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "video"),
        ("https://youtube.com/watch?v=dQw4w9WgXcQ&t=42s&si=x", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "video"),
        ("https://youtu.be/dQw4w9WgXcQ?si=abc", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "video"),
        ("https://m.youtube.com/shorts/dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "video"),
        (
            "https://music.youtube.com/watch?v=dQw4w9WgXcQ&feature=share",
            "https://music.youtube.com/watch?v=dQw4w9WgXcQ",
            "video",
        ),
        (
            "https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG",
            "https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG",
            "playlist",
        ),
        ("  HTTPS://WWW.YOUTUBE.COM./watch?v=dQw4w9WgXcQ ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "video"),
    ],
)
def test_youtube_shapes_are_accepted_and_canonical(url: str, canonical: str, kind: str) -> None:
    target = parse_download_url(url, ALLOWED)
    assert (target.url, target.kind) == (canonical, kind)


@pytest.mark.parametrize(
    "url",
    [
        "https://vimeo.com/12345",
        "https://youtube.com.evil.example/watch?v=dQw4w9WgXcQ",
        "https://evil.example/#@youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtube.com@evil.example/watch?v=dQw4w9WgXcQ",
        "https://user:pass@www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com\\@evil.example/watch?v=dQw4w9WgXcQ",
        "file:///etc/passwd",
        "ftp://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "javascript:alert(1)",
        "http://127.0.0.1:8080/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "https://www.youtube.com/redirect?q=http://evil.example",
        "https://www.youtube.com/../../etc/passwd",
        "https://www.youtube.com/watch?v=short",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ&v=aaaaaaaaaaa",
        "https://www.youtube.com:8443/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ\nhttp://evil",
        "not a url",
        "",
    ],
)
def test_everything_else_is_refused(url: str) -> None:
    with pytest.raises(AppError) as caught:
        parse_download_url(url, ALLOWED)
    assert caught.value.code is ErrorCode.INVALID_YOUTUBE_URL
    assert "youtube.com" in caught.value.message  # says what a good link looks like


def test_an_allowed_test_host_passes_through_but_tricks_do_not() -> None:
    allowed = [*ALLOWED, "127.0.0.1"]
    target = parse_download_url("http://127.0.0.1:41234/feeds/trip.xml", allowed)
    assert (target.url, target.kind) == ("http://127.0.0.1:41234/feeds/trip.xml", "auto")
    for trick in (
        "http://127.0.0.1:41234@evil.example/feeds/trip.xml",
        "http://127.0.0.1:41234/feeds/../../etc/passwd",
        "http://localhost:41234/feeds/trip.xml",
    ):
        with pytest.raises(AppError):
            parse_download_url(trick, allowed)


def test_a_single_videos_page_is_downloaded_not_the_media_url_it_resolved_to() -> None:
    from workers.runner import _page_url

    resolved = {"webpage_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "url": "https://rr3.googlevideo.com/x"}
    assert _page_url(resolved, "https://youtu.be/dQw4w9WgXcQ", "video") == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    flat = {"url": "https://www.youtube.com/watch?v=aaaaaaaaaaa", "id": "aaaaaaaaaaa"}
    assert _page_url(flat, "https://www.youtube.com/playlist?list=PL1", "playlist") == flat["url"]
