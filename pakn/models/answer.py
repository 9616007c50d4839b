"""Answers (văn bản trả lời): one row per draft revision, in the structured parts of domain §6."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.glossary import AnswerOutcome

from ..extensions import db
from .types import UTCDateTime, utcnow
from .user import User

ANSWER_STATUSES = ("pending_approval", "sent_back", "approved", "submitted", "returned", "accepted")


class Answer(db.Model):
    """A draft or submitted answer of the responsible agency to one case."""

    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("feedback_id", "revision", name="uq_answer_feedback_revision"),
        CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in ANSWER_STATUSES) + ")",
                        name="status_known"),
        CheckConstraint("outcome IN (" + ", ".join(f"'{c}'" for c in AnswerOutcome.codes()) + ")",
                        name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    status: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)
    findings: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20))
    measures: Mapped[str | None] = mapped_column(Text)
    responsible_body: Mapped[str | None] = mapped_column(String(500))
    legal_refs: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_comment: Mapped[str | None] = mapped_column(Text)
    document_number: Mapped[str | None] = mapped_column(String(100))
    document_date: Mapped[date | None] = mapped_column(Date)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
