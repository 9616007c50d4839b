"""Login throttling per account and per client address, and the login checks themselves.

Both steps of a login count: a wrong password and a wrong second-factor code are failures
of the same account and address (ASVS 6.3.1), so knowing the password does not open an
unlimited guessing of codes. Only a complete login (a successful ``second_factor`` step)
clears the failures before it.
"""
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
from ..models.user import normalize_password

@cache
def _dummy_hash() -> str:
    """A real scrypt hash of a random password: checking it costs as much as a real check,
    so response time does not reveal whether an account exists."""
    return generate_password_hash(secrets.token_hex(16), method="scrypt")


PASSWORD = "password"
SECOND_FACTOR = "second_factor"


class Throttled(Exception):
    """Too many failed attempts for this account or from this address."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])


def _retry_after(column, value: str, limit: int, now: datetime) -> int | None:
    """Seconds until fewer than ``limit`` failures for ``column == value`` remain in the
    sliding window (counting only failures after the last success), or None if not throttled."""
    since = now - _window()
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(column == value, LoginAttempt.success.is_(True),
                                                LoginAttempt.step == SECOND_FACTOR))
    if last_success is not None and last_success > since:
        since = last_success
    recent = db.session.scalars(
        select(LoginAttempt.at).where(column == value, LoginAttempt.success.is_(False), LoginAttempt.at > since)
        .order_by(LoginAttempt.at.desc()).limit(limit)).all()
    if len(recent) < limit:
        return None
    return max(1, int((recent[-1] + _window() - now).total_seconds()) + 1)


def check_allowed(email: str, ip: str, now: datetime | None = None) -> None:
    """Raise :class:`Throttled` when this e-mail or this address failed too often lately.

    Failures are counted per e-mail whether or not an account exists, so the lock itself
    does not tell an attacker which e-mails are staff accounts.
    """
    now = now or utcnow()
    for column, value, limit in ((LoginAttempt.email, email, current_app.config["LOGIN_MAX_FAILURES"]),
                                 (LoginAttempt.ip, ip, current_app.config["LOGIN_IP_MAX_FAILURES"])):
        wait = _retry_after(column, value, limit, now)
        if wait is not None:
            raise Throttled(wait)


def _normal(email: str, ip: str) -> tuple[str, str]:
    return (email or "").strip().lower()[:254], (ip or "")[:64]


def authenticate(email: str, password: str, ip: str, now: datetime | None = None) -> User | None:
    """The active user with these credentials, or None; records the attempt (first step).
    Raises :class:`Throttled` (checked before the password, for known and unknown e-mails
    alike). Flushes only: the caller commits (a failed attempt must be committed too).
    A user returned here has passed the password only: see :func:`second_step`."""
    now = now or utcnow()
    email, ip = _normal(email, ip)
    check_allowed(email, ip, now)
    user = db.session.scalar(select(User).where(User.email == email))
    ok = check_password_hash(user.password_hash if user else _dummy_hash(), normalize_password(password))
    ok = ok and user is not None and user.active
    db.session.add(LoginAttempt(email=email, ip=ip, at=now, success=ok, step=PASSWORD))
    db.session.flush()
    return user if ok else None


def second_step(user: User, ip: str, check, now: datetime | None = None):
    """Run the second-factor ``check()`` for ``user`` (who passed the password), throttled
    and recorded like the password step; returns what ``check`` returned (falsy = refused).
    Raises :class:`Throttled` before calling ``check`` when the account or address is locked.
    A success is the complete login: it sets ``last_login_at``. Flushes only."""
    now = now or utcnow()
    email, ip = _normal(user.email, ip)
    check_allowed(email, ip, now)
    result = check() if user.active else None
    db.session.add(LoginAttempt(email=email, ip=ip, at=now, success=bool(result), step=SECOND_FACTOR))
    if result:
        user.last_login_at = now
    db.session.flush()
    return result
