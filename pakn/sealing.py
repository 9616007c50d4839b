"""Sealing a secret for a short stay in the database (the tracking token of a new receipt).

The tracking token is stored only as its hash, yet the receipt e-mail must carry the
tracking link. So the receipt's outbox row carries the token *encrypted* (Fernet, key
derived from ``SECRET_KEY``), and the delivery job erases it once the receipt is sent.
A database dump alone therefore never reveals a usable token.
"""
from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


def _fernet() -> Fernet:
    return _fernet_for(str(current_app.config["SECRET_KEY"]))


@functools.lru_cache(maxsize=8)
def _fernet_for(secret: str) -> Fernet:
    """One Fernet per key, built once rather than at every seal and unseal."""
    key = hashlib.sha256(b"pakn-sealing-v1\x00" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: str) -> str:
    """``value`` encrypted and authenticated with the app's key."""
    return _fernet().encrypt(value.encode()).decode()


def unseal(sealed: str | None) -> str | None:
    """The sealed value, or None when it is missing or was sealed with another key."""
    if not sealed:
        return None
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None
