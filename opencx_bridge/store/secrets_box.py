"""Encryption of secrets at rest (Fernet), keyed from the app's SECRET_KEY.

Changing SECRET_KEY makes stored secrets unreadable: the admin then runs Test & Save again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


class SecretUnreadable(Exception):
    """The stored secret was encrypted under another SECRET_KEY."""


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"opencx-bridge:fernet:" + current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(digest.digest()))


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("stored secret cannot be decrypted (SECRET_KEY changed?)") from exc


def digest(value: str) -> str:
    """A lookup key for a secret (webhook URL token) that is not the secret itself."""
    return hashlib.sha256(value.encode()).hexdigest()


def same_secret(given: str, expected_digest: str | None) -> bool:
    """Constant-time comparison of a presented secret with a stored digest."""
    if not expected_digest:
        return False
    return hmac.compare_digest(digest(given), expected_digest)


def mask(secret: str | None) -> str:
    """What a page shows instead of a secret: whether one is set, never any of it."""
    return "•••••••• (saved)" if secret else ""
