"""Plex tokens at rest: AES-256-GCM, bound to the user they belong to.

The user's Discord id is the associated data, so a ciphertext copied onto
another user's row does not decrypt. Layout: version byte, 12-byte nonce,
ciphertext with tag.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"


class TokenDecryptError(Exception):
    """The stored token cannot be read with this key (wrong key or tampered row)."""


class TokenCipher:
    def __init__(self, key_b64: str) -> None:
        self._aead = AESGCM(base64.urlsafe_b64decode(key_b64.encode()))

    def encrypt(self, token: str, *, owner: int) -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, token.encode(), self._aad(owner))

    def decrypt(self, blob: bytes, *, owner: int) -> str:
        if not blob or blob[:1] != _VERSION:
            raise TokenDecryptError("unknown token format")
        try:
            return self._aead.decrypt(blob[1:13], blob[13:], self._aad(owner)).decode()
        except InvalidTag as exc:
            raise TokenDecryptError("token does not decrypt with this ENCRYPTION_KEY") from exc

    @staticmethod
    def _aad(owner: int) -> bytes:
        return f"medianest:user:{owner}".encode()
