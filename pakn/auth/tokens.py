"""API bearer tokens: random, shown once, stored as SHA-256, expiring, revocable."""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import ApiToken, User
from ..models.types import utcnow
from ..operations import hash_token, transaction


def issue_token(user: User, name: str = "", ttl_hours: int | None = None) -> tuple[str, ApiToken]:
    """Create a token for ``user``; returns the raw token (never stored) and its row. Flushes only."""
    raw = secrets.token_urlsafe(32)
    hours = ttl_hours or current_app.config["API_TOKEN_TTL_HOURS"]
    row = ApiToken(user_id=user.id, token_hash=hash_token(raw), name=name[:100],
                   expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(row)
    db.session.flush()
    return raw, row


def user_for_token(raw: str | None) -> User | None:
    """The active user owning an unexpired, unrevoked token, or None."""
    if not raw:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.active:
        return None
    # Shown to the owner in the token list; at most one write a minute per token, committed
    # on its own (before the request's work begins) so that read-only requests record it too.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        with transaction():
            row.last_used_at = now
    return row.user


def revoke_token(row: ApiToken) -> None:
    row.revoked_at = utcnow()
