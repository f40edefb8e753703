"""Plex tokens at rest: authenticated, bound to their owner, never readable with another key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.crypto import TokenCipher, TokenDecryptError


def test_round_trip_and_not_in_clear(encryption_key: str) -> None:
    cipher = TokenCipher(encryption_key)
    blob = cipher.encrypt("plex-token-abc", owner=1)
    assert b"plex-token-abc" not in blob
    assert cipher.decrypt(blob, owner=1) == "plex-token-abc"
    assert cipher.encrypt("plex-token-abc", owner=1) != blob  # fresh nonce each time


def test_blob_moved_to_another_user_does_not_decrypt(encryption_key: str) -> None:
    cipher = TokenCipher(encryption_key)
    with pytest.raises(TokenDecryptError):
        cipher.decrypt(cipher.encrypt("tok", owner=1), owner=2)


def test_other_key_or_tampering_is_detected(encryption_key: str) -> None:
    blob = TokenCipher(encryption_key).encrypt("tok", owner=1)
    with pytest.raises(TokenDecryptError):
        TokenCipher(Fernet.generate_key().decode()).decrypt(blob, owner=1)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(TokenDecryptError):
        TokenCipher(encryption_key).decrypt(tampered, owner=1)
