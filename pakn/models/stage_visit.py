"""Stage visits: one row each time a case enters a stage, with its due date."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import JSONType, UTCDateTime, utcnow


class StageVisit(db.Model):
    """One entry of a case into a stage (classify, handle, check, publish).

    Deadlines, overdue lists, reminders and reports are SQL over these rows, never
    timers in memory. ``explanation`` keeps how ``due_at`` was computed (start, rule,
    days skipped and why) so every due date can be explained.
    """

    __tablename__ = "stage_visit"
    __table_args__ = (
        # The open visits, by due date: what sweeps and overdue lists read; with the case and
        # the due day, the inbox's due filters count them index-only (migration i13a).
        Index("ix_stage_visit_open_due", "due_at", "feedback_id", "due_date",
              sqlite_where=text("finished_at IS NULL"), postgresql_where=text("finished_at IS NULL")),
        # At most one open visit per case.
        Index("uq_stage_visit_one_open", "feedback_id", unique=True,
              sqlite_where=text("finished_at IS NULL"), postgresql_where=text("finished_at IS NULL")),
        # What the deadline sweep reads (pakn.deadlines.sweep): each index covers only the open
        # visits that can still change status, so a sweep over a million open cases touches
        # only the rows crossing a threshold.
        Index("ix_stage_visit_remind_pending", "remind_at",
              sqlite_where=text("finished_at IS NULL AND due_status = 'pending'"),
              postgresql_where=text("finished_at IS NULL AND due_status = 'pending'")),
        Index("ix_stage_visit_due_unmarked", "due_at",
              sqlite_where=text("finished_at IS NULL AND due_status <> 'overdue'"),
              postgresql_where=text("finished_at IS NULL AND due_status <> 'overdue'")),
        Index("ix_stage_visit_progress", "next_progress_at",
              sqlite_where=text("finished_at IS NULL AND next_progress_at IS NOT NULL"),
              postgresql_where=text("finished_at IS NULL AND next_progress_at IS NOT NULL")),
        CheckConstraint("due_status IN ('pending', 'due_soon', 'overdue')", name="due_status_known"),
        CheckConstraint("paused_days >= 0 AND progress_seq >= 0", name="clock_counts_positive"),
        CheckConstraint("(extended_due_at IS NULL) = (extension_reason IS NULL)", name="extension_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(30))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_date: Mapped[date | None] = mapped_column(Date)  # local last day (Asia/Ho_Chi_Minh)
    rule: Mapped[dict | None] = mapped_column(JSONType)
    explanation: Mapped[dict | None] = mapped_column(JSONType)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    plan_task_id: Mapped[int | None] = mapped_column(ForeignKey("plan_task.id"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(40))  # the trigger that ended the visit
    extended_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # internal extension record
    extension_reason: Mapped[str | None] = mapped_column(Text)
    # -- the clock (issue 6) ----------------------------------------------------------------
    #: The clock-settings version the due date was computed under (NULL: configuration defaults).
    clock_setting_id: Mapped[int | None] = mapped_column(ForeignKey("clock_setting.id"))
    #: From this instant the sweep sends the reminder (N working days before the due date).
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: pending → due_soon (reminder written) → overdue (escalated); set by the sweep only.
    due_status: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    #: While the submitter is asked for information and the settings pause the clock.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Working days the clock stood still (added to the computed due date).
    paused_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Progress updates once overdue: how many periods were announced, and when the next starts.
    progress_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    feedback: Mapped["Feedback"] = relationship(back_populates="stage_visits")  # noqa: F821
    plan_task: Mapped["PlanTask | None"] = relationship()  # noqa: F821
