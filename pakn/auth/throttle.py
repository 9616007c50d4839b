"""Login throttling per account and per client address, and the login check itself."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import LoginAttempt, User
from ..models.types import utcnow

@cache
def _dummy_hash() -> str:
    """A real scrypt hash of a random password: checking it costs as much as a real check,
    so response time does not reveal whether an account exists."""
    return generate_password_hash(secrets.token_hex(16), method="scrypt")


class Throttled(Exception):
    """Too many failed attempts for this account or from this address."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])


def check_allowed(email: str, ip: str, now: datetime | None = None) -> None:
    """Raise :class:`Throttled` when the account is locked or the address failed too often."""
    now = now or utcnow()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise Throttled(int((user.locked_until - now).total_seconds()) + 1)
    failures = db.session.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.ip == ip, LoginAttempt.success.is_(False), LoginAttempt.at > now - _window()))
    if failures >= current_app.config["LOGIN_IP_MAX_FAILURES"]:
        raise Throttled(int(_window().total_seconds()))


def authenticate(email: str, password: str, ip: str, now: datetime | None = None) -> User | None:
    """The active user with these credentials, or None; records the attempt and locks the
    account after ``LOGIN_MAX_FAILURES`` consecutive failures. Raises :class:`Throttled`.
    Flushes only: the caller commits (a failed attempt must be committed too)."""
    now = now or utcnow()
    email = (email or "").strip().lower()
    check_allowed(email, ip, now)
    user = db.session.scalar(select(User).where(User.email == email))
    ok = check_password_hash(user.password_hash if user else _dummy_hash(), password or "")
    ok = ok and user is not None and user.active
    db.session.add(LoginAttempt(email=email[:254], ip=ip[:64], at=now, success=ok))
    if user is not None:
        if ok:
            user.failed_login_count, user.locked_until, user.last_login_at = 0, None, now
        else:
            user.failed_login_count = (user.failed_login_count or 0) + 1
            if user.failed_login_count >= current_app.config["LOGIN_MAX_FAILURES"]:
                user.locked_until = now + _window()
                user.failed_login_count = 0
    db.session.flush()
    return user if ok else None
