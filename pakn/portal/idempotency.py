"""The idempotency key issued with each public form (reliability.md §2.5, D2).

The form carries a random key. The first submission stores the key's hash beside the case
(UNIQUE), so sending the same form again — a double click, a refresh, a retry after a lost
response, or two requests in parallel — finds that case instead of creating another one.
The tracking token is kept sealed with a key derived from the form key and the app secret:
the same browser (holding the form key) can be shown the same receipt again, while the
database alone (holding only the hash) cannot reveal the token.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import uuid
from typing import Any, Mapping

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Feedback, SubmissionKey

_KEY = re.compile(r"^[0-9a-f]{32}$")


def new_key() -> str:
    """A fresh key for a new form (128 random bits)."""
    return uuid.uuid4().hex


def valid_key(key: str | None) -> bool:
    return bool(key) and _KEY.match(key) is not None


def _hash(key: str) -> str:
    return hashlib.sha256(("pakn-form:" + key).encode()).hexdigest()


def _pad(key: str, length: int) -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    stream, counter = b"", 0
    while len(stream) < length:
        stream += hmac.new(secret, f"pakn-receipt:{key}:{counter}".encode(), hashlib.sha256).digest()
        counter += 1
    return stream[:length]


def seal(key: str, token: str) -> str:
    data = token.encode()
    return bytes(a ^ b for a, b in zip(data, _pad(key, len(data)))).hex()


def unseal(key: str, sealed: str) -> str:
    data = bytes.fromhex(sealed)
    return bytes(a ^ b for a, b in zip(data, _pad(key, len(data)))).decode()


def body_hash(payload: Mapping[str, Any], files: list[tuple[str, str]]) -> str:
    """A digest of what was submitted: the payload and each file's name and content digest."""
    text = json.dumps({"payload": payload, "files": files}, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def find(key: str) -> tuple[SubmissionKey, Feedback] | None:
    row = db.session.scalar(select(SubmissionKey).where(SubmissionKey.key_hash == _hash(key)))
    if row is None:
        return None
    return row, db.session.get(Feedback, row.feedback_id)


def key_row(key: str, token: str, digest: str) -> SubmissionKey:
    """The row binding ``key`` to the case about to be written with it (written in the same
    statement: a second submission of the same key fails on the UNIQUE index and rolls back)."""
    return SubmissionKey(key_hash=_hash(key), body_hash=digest, sealed_token=seal(key, token))


def same_body(row: SubmissionKey, digest: str) -> bool:
    return secrets.compare_digest(row.body_hash, digest)
