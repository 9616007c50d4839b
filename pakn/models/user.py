"""Staff accounts. Citizens have no account: they hold a tracking token instead."""
from __future__ import annotations

import unicodedata
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, event, select
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from workflows.glossary import AGENCY_ROLES, OFFICE_ROLES, STAFF_ROLES

from ..extensions import db
from .agency import Agency
from .types import UTCDateTime, utcnow

def normalize_password(password: str) -> str:
    """The form a password is hashed and compared in (NFC, see :meth:`User.set_password`)."""
    return unicodedata.normalize("NFC", password or "")


_ROLES = ", ".join(f"'{r.value}'" for r in STAFF_ROLES)


class User(UserMixin, db.Model):
    """A staff member: office clerk or lead, agency officer or lead, or admin.

    ``session_version`` is part of the login session id: bumping it (deactivation,
    password change, logout, a second-factor reset) ends every live session at its next request.

    The second factor (TOTP, RFC 6238) is required of every staff role: ``totp_secret`` holds
    the secret *sealed* with the app's key (:mod:`pakn.sealing`), set at enrolment and in force
    once ``totp_confirmed_at`` is set; ``totp_last_step`` is the 30-s time step of the last
    accepted code, so a code is accepted once only (see :mod:`pakn.auth.second_factor`).
    """

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(f"role IN ({_ROLES})", name="role_known"),
        CheckConstraint("role = 'admin' OR agency_id IS NOT NULL", name="staff_has_agency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency | None] = relationship()

    # -- passwords ---------------------------------------------------------------------
    def set_password(self, password: str) -> None:
        """Hash with scrypt (Werkzeug's default) and end other sessions.

        The password is NFC-normalised first: Vietnamese keyboards send either composed or
        decomposed diacritics, and the same password must match whichever was typed.
        The rules (length, common passwords) are checked where a password is chosen:
        :func:`pakn.auth.passwords.password_problem`.
        """
        self.password_hash = generate_password_hash(normalize_password(password), method="scrypt")
        self.session_version = (self.session_version or 0) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, normalize_password(password))

    @property
    def second_factor_enrolled(self) -> bool:
        return self.totp_secret is not None and self.totp_confirmed_at is not None

    # -- Flask-Login ---------------------------------------------------------------------
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    # -- what the workflow engine needs (engine.Actor) -------------------------------------
    @property
    def user_id(self) -> int:
        return self.id

    @property
    def label(self) -> str:
        return self.full_name

    @property
    def is_office(self) -> bool:
        return self.role in OFFICE_ROLES

    @property
    def is_agency(self) -> bool:
        return self.role in AGENCY_ROLES

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


@event.listens_for(User.active, "set")
def _end_sessions_on_deactivation(user: User, value, old, initiator) -> None:
    """Deactivating an account ends its sessions and API tokens for good, whoever sets the flag:
    otherwise reactivating it later would revive a cookie or token from before (ASVS 7.4.2)."""
    if old is not True or value:
        return
    user.session_version = (user.session_version or 0) + 1
    session = object_session(user)
    if session is None or user.id is None:
        return
    from .api_token import ApiToken  # it imports this module

    with session.no_autoflush:
        for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                            ApiToken.revoked_at.is_(None))):
            token.revoked_at = utcnow()
