"""Login attempts, kept to throttle guessing per account and per client address."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class LoginAttempt(db.Model):
    """One login attempt (session or API token) with its outcome, at one ``step``:
    ``password`` (the first step) or ``second_factor`` (the TOTP or recovery code, or the
    code confirming an enrolment). A successful ``second_factor`` row is a complete login: only
    it clears the failures counted before it (a right password alone does not)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean)
    step: Mapped[str] = mapped_column(String(20), default="password", server_default="password")
