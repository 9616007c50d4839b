"""In-app notifications for staff: the bell with its unread count, and the list page."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class Notification(db.Model):
    """One notice to one staff member, made from an outbox row (one per user and row).

    The text is not stored: it is rendered from ``kind`` and the case at display time, in the
    reader's language. ``read_at`` is None while unread.
    """

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("outbox_id", "user_id", name="uq_notification_outbox_user"),
        Index("ix_notification_unread", "user_id",
              sqlite_where=text("read_at IS NULL"), postgresql_where=text("read_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id"))
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id"))
    kind: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    feedback: Mapped["Feedback | None"] = relationship()  # noqa: F821
    outbox: Mapped["OutboxMessage | None"] = relationship()  # noqa: F821
