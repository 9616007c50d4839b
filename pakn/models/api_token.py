"""Bearer tokens for the JSON API; only a hash is stored."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow
from .user import User


#: What a token may do. ``read``: GET the staff API in its owner's role; ``write``: also fire
#: actions and create things; ``open311``: file requests through Open311 GeoReport v2 as a
#: client application (the ``api_key`` of the standard). A token has one or more, space-separated.
SCOPES = ("read", "write", "open311")
#: The scopes of a token a staff member obtains by logging in to the API.
LOGIN_SCOPES = ("read", "write")


class ApiToken(db.Model):
    """A random bearer token (shown once) stored as its SHA-256, with an expiry and scopes."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scopes: Mapped[str] = mapped_column(String(100), default=" ".join(LOGIN_SCOPES),
                                        server_default=" ".join(LOGIN_SCOPES))

    user: Mapped[User] = relationship()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes.split()
