"""The sweep's claims: one row per (stage visit, notice kind, sequence), written at most once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class DeadlineNotice(db.Model):
    """A reminder, escalation or progress-update-due notice the sweep has claimed.

    The unique (visit, kind, sequence) key is the guard that makes every notice exactly-once:
    the sweep inserts claims with ON CONFLICT DO NOTHING, then writes one outbox row per claim
    it inserted itself (``run_id``), in the same transaction. ``sequence`` is 1 for reminders
    and escalations and counts the 7-day periods of progress updates.
    """

    __tablename__ = "deadline_notice"
    __table_args__ = (UniqueConstraint("visit_id", "kind", "sequence", name="uq_deadline_notice_claim"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign keys on purpose: a daily sweep over a million open cases inserts ~100,000 claims
    # at once and the per-row RI triggers were a third of its time (bench/RESULTS.md). Claims are
    # inserted only from stage_visit rows in the same statement, and cases are never deleted.
    visit_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(60))
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the date the payload announces
    recipient_agency_id: Mapped[int | None] = mapped_column(Integer)
    run_id: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
