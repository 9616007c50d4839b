"""The feedback case (phản ánh, kiến nghị): one row whatever the channel."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, event, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.glossary import Channel, ContentCategory, Kind, RejectReason, Subject
from workflows.pakn import AGENCY_STATES, STAGED_STATES, WORKFLOW

from ..extensions import db
from ..text import fold
from .agency import Agency
from .field import Field
from .types import JSONType, UTCDateTime, utcnow
from .user import User


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Feedback(db.Model):
    """A PAKN case.

    ``code`` (PAKN-2026-000123) is readable and public; the tracking token that lets a
    citizen see the case is high-entropy and stored only as its SHA-256. ``state`` is
    changed only by the operations layer through the workflow engine; ``version`` makes
    a concurrent change fail instead of overwriting. CHECK constraints tie every state
    to the fields it requires, so an impossible row cannot exist.
    """

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint(_in("state", WORKFLOW.states), name="state_known"),
        CheckConstraint(_in("kind", Kind.codes()), name="kind_known"),
        CheckConstraint(_in("channel", Channel.codes()), name="channel_known"),
        CheckConstraint(f"subject IS NULL OR {_in('subject', Subject.codes())}", name="subject_known"),
        CheckConstraint(f"content_category IS NULL OR {_in('content_category', ContentCategory.codes())}",
                        name="category_known"),
        CheckConstraint(
            f"reject_reason_code IS NULL OR {_in('reject_reason_code', RejectReason.codes())}",
            name="reject_reason_known"),
        CheckConstraint("(state = 'rejected') = (reject_reason_code IS NOT NULL)", name="rejected_has_reason"),
        CheckConstraint("(state = 'merged') = (duplicate_of_id IS NOT NULL)", name="merged_has_target"),
        CheckConstraint("duplicate_of_id IS NULL OR duplicate_of_id <> id", name="not_own_duplicate"),
        CheckConstraint("(state = 'withdrawn') = (withdrawn_at IS NOT NULL)", name="withdrawn_has_time"),
        CheckConstraint("(state IN ('published', 'closed')) = (published_at IS NOT NULL)",
                        name="published_has_time"),
        CheckConstraint("published_at IS NULL OR (public_title IS NOT NULL AND public_answer IS NOT NULL)",
                        name="published_has_text"),
        CheckConstraint("(state = 'closed') = (closed_at IS NOT NULL)", name="closed_has_time"),
        CheckConstraint(f"NOT ({_in('state', AGENCY_STATES)}) OR agency_id IS NOT NULL",
                        name="handled_has_agency"),
        CheckConstraint("submitter_phone IS NOT NULL OR submitter_email IS NOT NULL",
                        name="submitter_reachable"),
        UniqueConstraint("channel", "external_ref", name="uq_feedback_channel_external_ref"),
        Index("ix_feedback_state_received", "state", "received_at"),
        Index("ix_feedback_agency_state", "agency_id", "state"),
        # Lists by receipt, newest first (the office inbox, an agency's "all" view): migration i11a.
        Index("ix_feedback_received_id", "received_at", "id"),
        Index("ix_feedback_agency_received", "agency_id", "received_at", "id"),
        # PostgreSQL only (migration i11a): every column the periodic report reads, index-only.
        # The inbox's counts (migration i13a): the cases in their stages, with the columns the
        # inbox filters on (PostgreSQL INCLUDE), and a field's cases by state.
        Index("ix_feedback_open_cases", "state", "id", sqlite_where=text(_in("state", STAGED_STATES)),
              postgresql_where=text(_in("state", STAGED_STATES)),
              postgresql_include=["agency_id", "field_id", "channel", "kind", "received_at"]),
        Index("ix_feedback_field_state", "field_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    tracking_token_hash: Mapped[str] = mapped_column(String(64), unique=True)

    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str | None] = mapped_column(String(20))
    content_category: Mapped[str | None] = mapped_column(String(2))
    field_id: Mapped[int | None] = mapped_column(ForeignKey("field.id"))
    title: Mapped[str] = mapped_column(String(250))
    content: Mapped[str] = mapped_column(Text)
    proposal: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(20))
    external_ref: Mapped[str | None] = mapped_column(String(100))

    submitter_name: Mapped[str] = mapped_column(String(200))
    submitter_organisation: Mapped[str | None] = mapped_column(String(250))
    submitter_address: Mapped[str] = mapped_column(String(500))
    submitter_phone: Mapped[str | None] = mapped_column(String(20))
    submitter_email: Mapped[str | None] = mapped_column(String(254))
    # Where an Open311 client placed the item (lat/long, address_string). Staff-only: it may be
    # a home, so no public page or Open311 answer shows it unless the published text does.
    location_lat: Mapped[float | None] = mapped_column(Float)
    location_long: Mapped[float | None] = mapped_column(Float)
    location_address: Mapped[str | None] = mapped_column(String(500))
    #: Links to attachments another system holds (Open311 media_url, a VPCP batch): listed as
    #: references for staff, never fetched (no network access from here).
    reference_urls: Mapped[list | None] = mapped_column(JSONType)

    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    original_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # e.g. at VPCP
    state: Mapped[str] = mapped_column(String(30), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    answer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the legal answer deadline
    #: The clock-settings version in force at receipt: the answer clock keeps it (NULL: config defaults).
    clock_setting_id: Mapped[int | None] = mapped_column(ForeignKey("clock_setting.id"))
    #: Working days the answer clock stood still while information was requested (if the settings pause).
    answer_paused_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set while the handling agency waits for the submitter's reply to its request for more
    # information (trigger agency_request_info); only in the agency's handling states.
    info_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reject_reason_code: Mapped[str | None] = mapped_column(String(30))
    reject_guidance: Mapped[str | None] = mapped_column(Text)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id"), index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdraw_reason: Mapped[str | None] = mapped_column(Text)

    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    public_title: Mapped[str | None] = mapped_column(String(250))
    public_summary: Mapped[str | None] = mapped_column(Text)
    public_answer: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # Folded (pakn.text.fold) copies kept by the ORM for diacritics-insensitive search:
    # what staff search (code, texts, submitter), and what the public may search (published text).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    public_search_text: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"version_id_col": version}

    field: Mapped[Field | None] = relationship()
    agency: Mapped[Agency | None] = relationship()
    assignee: Mapped[User | None] = relationship()
    duplicate_of: Mapped["Feedback | None"] = relationship(remote_side="Feedback.id")
    stage_visits: Mapped[list["StageVisit"]] = relationship(  # noqa: F821
        back_populates="feedback", order_by="StageVisit.id")

    @property
    def state_label(self) -> str:
        return WORKFLOW.states[self.state].label

    def __repr__(self) -> str:
        return f"<Feedback {self.code} {self.state}>"


@event.listens_for(Feedback, "before_insert")
@event.listens_for(Feedback, "before_update")
def _refresh_search_text(mapper, connection, case: Feedback) -> None:
    """Keep the folded search columns in step with the texts they are made of."""
    case.search_text = fold(case.code, case.title, case.content, case.proposal, case.submitter_name,
                            case.submitter_organisation, case.external_ref)
    case.public_search_text = (fold(case.public_title, case.public_summary, case.public_answer)
                               if case.published_at else None)


class FeedbackCounter(db.Model):
    """The per-year sequence behind readable codes (PAKN-2026-000123).

    Incremented by an upsert inside the statement that writes the case
    (:mod:`pakn.operations.intake`), in the submitting transaction, so codes are unique and
    gap-free for committed cases on SQLite and PostgreSQL alike.
    """

    __tablename__ = "feedback_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer, default=0)
