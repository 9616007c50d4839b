"""The transactional outbox: every side effect is a row written with the change causing it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import JSONType, UTCDateTime, utcnow

#: pending → sending (claimed by a job) → sent; failed = retried at ``available_at``; dead = given up.
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "dead")
RECIPIENT_KINDS = ("submitter", "agency", "office", "user")
#: ``Session.info`` key: ids of the outbox rows this transaction inserted, relayed after its commit
#: (filled from each flush by notifications.relay, and by writes made without the ORM's flush).
NEW_OUTBOX_IDS = "pakn_new_outbox_ids"


class OutboxMessage(db.Model):
    """A message to deliver (e-mail, SMS, in-app) once the transaction that wrote it commits.

    ``kind`` is ``<recipient>.<event>`` (e.g. ``submitter.receipt``, ``agency.forwarded``).
    Delivery is at-least-once by a relay; the job re-reads this row and stops when it is
    no longer pending, and the message id is derived from ``id``, so nothing is sent twice.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in OUTBOX_STATUSES) + ")",
                        name="status_known"),
        CheckConstraint("recipient_kind IN (" + ", ".join(f"'{s}'" for s in RECIPIENT_KINDS) + ")",
                        name="recipient_known"),
        Index("ix_outbox_pending", "available_at",
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
        # What the relay re-sends and the admin page lists: rows not yet sent, by status.
        Index("ix_outbox_unsent", "status", "available_at",
              sqlite_where=text("status <> 'sent'"), postgresql_where=text("status <> 'sent'")),
        CheckConstraint("status <> 'sending' OR claimed_at IS NOT NULL", name="sending_claimed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(60))
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id"), index=True)
    audit_event_id: Mapped[int | None] = mapped_column(ForeignKey("audit_event.id"))
    recipient_kind: Mapped[str] = mapped_column(String(20))
    recipient_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    payload: Mapped[dict] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: When a delivery job claimed the row (status "sending"); stale claims are retried.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Unique key of rows that must exist once (e.g. a day's digest); None for ordinary rows.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)

    #: Set instead of the ids when the case and its event are new: one flush writes all three.
    feedback: Mapped["Feedback | None"] = relationship()  # noqa: F821
    audit_event: Mapped["AuditEvent | None"] = relationship()  # noqa: F821
