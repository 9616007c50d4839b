"""Idempotency keys of the public submission form: one case per form, however often it is sent."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class SubmissionKey(db.Model):
    """The key issued with one public form, bound to the case that form created.

    Only the key's SHA-256 is stored (UNIQUE: a double click or a resubmission of the same
    form cannot create a second case, even in parallel). ``sealed_token`` is the case's
    tracking token encrypted with a key derived from the form key and the app secret, so the
    browser that sent the form, and only it, can be shown the same receipt again.
    ``body_hash`` tells a true resubmission from the same key sent with different content.
    """

    __tablename__ = "submission_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), unique=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    sealed_token: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
