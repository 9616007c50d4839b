"""API bearer tokens: random, shown once, stored as SHA-256, expiring, revocable."""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import ApiToken, User
from ..models.api_token import LOGIN_SCOPES, SCOPES
from ..models.types import utcnow
from ..operations import hash_token, transaction


def issue_token(user: User, name: str = "", ttl_hours: int | None = None,
                scopes: tuple[str, ...] = LOGIN_SCOPES) -> tuple[str, ApiToken]:
    """Create a token for ``user`` with ``scopes`` (see :data:`pakn.models.api_token.SCOPES`).

    Returns the raw token (never stored) and its row. Flushes only. Raises ValueError for an
    unknown or empty scope list.
    """
    if not scopes or any(s not in SCOPES for s in scopes):
        raise ValueError(f"scopes must be some of {SCOPES}: {scopes!r}")
    raw = secrets.token_urlsafe(32)
    hours = ttl_hours or current_app.config["API_TOKEN_TTL_HOURS"]
    row = ApiToken(user_id=user.id, token_hash=hash_token(raw), name=name[:100],
                   scopes=" ".join(dict.fromkeys(scopes)), expires_at=utcnow() + timedelta(hours=hours))
    db.session.add(row)
    db.session.flush()
    return raw, row


def user_for_token(raw: str | None, scope: str | None = None) -> User | None:
    """The active user owning an unexpired, unrevoked token (holding ``scope`` if given), or None."""
    row = token_for(raw, scope)
    return row.user if row is not None else None


def token_for(raw: str | None, scope: str | None = None) -> ApiToken | None:
    """The unexpired, unrevoked token ``raw`` of an active user, holding ``scope`` if given; or None."""
    if not raw:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.active:
        return None
    if scope is not None and not row.has_scope(scope):
        return None
    # Shown to the owner in the token list; at most one write a minute per token, committed
    # on its own (before the request's work begins) so that read-only requests record it too.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        with transaction():
            row.last_used_at = now
    return row


def revoke_token(row: ApiToken) -> None:
    row.revoked_at = utcnow()
