"""Deliveries: one row per outbox row, channel and address, so each recipient gets one message."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

CHANNELS = ("email", "sms")
#: pending → handed_over (committed just before the message is finally handed to the server)
#: → sent. failed = temporary error, retried with the row; dead = refused for good (5xx);
#: uncertain = found handed_over after a crash: it may have been accepted, so it is never
#: re-sent automatically, only by staff on the admin page; skipped = channel not configured.
DELIVERY_STATUSES = ("pending", "handed_over", "sent", "failed", "dead", "uncertain", "skipped")


class Delivery(db.Model):
    """One message of one outbox row to one address, with its own state and Message-ID."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("outbox_id", "channel", "address", name="uq_delivery_outbox_channel_address"),
        CheckConstraint("channel IN (" + ", ".join(f"'{c}'" for c in CHANNELS) + ")", name="channel_known"),
        CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in DELIVERY_STATUSES) + ")",
                        name="status_known"),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(254))  # personal data: never shown outside staff pages
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    outbox: Mapped["OutboxMessage"] = relationship()  # noqa: F821
