"""Provincial plans (Kế hoạch) and the tasks of their appendix tables."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import JSONType, UTCDateTime, utcnow

#: What a plan task can be bound to: the ``plan_task`` keys of the workflow stages, the
#: agencies' periodic reports, and the office's consolidated provincial report.
BINDINGS = ("receive_classify", "handle", "notify_publish", "report", "report_consolidated")

#: How a task's "Thời gian thực hiện" was read (pakn.plans.timeframe).
TIMEFRAME_KINDS = ("ongoing", "period", "deadline", "recurring", "unparsed")

UNIT_ROLES = ("lead", "cooperating")


class Plan(db.Model):
    """A plan such as "Kế hoạch 62/KH-UBND" of a province.

    ``code`` (số, ký hiệu, spaces removed) identifies it: importing the same plan again
    updates it. At most one plan is ``in_force``: its bound tasks are recorded on new stage
    visits.
    """

    __tablename__ = "plan"
    __table_args__ = (
        Index("uq_plan_single_in_force", "in_force", unique=True,
              sqlite_where=text("in_force"), postgresql_where=text("in_force")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)  # số, ký hiệu
    title: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str | None] = mapped_column(String(250))
    issued_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    year: Mapped[int | None] = mapped_column(Integer)  # the year the plan is for ("năm 2019")
    in_force: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    source_name: Mapped[str | None] = mapped_column(String(255))  # file it was last imported from
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tasks: Mapped[list["PlanTask"]] = relationship(back_populates="plan", order_by="PlanTask.position",
                                                   cascade="all, delete-orphan")


class PlanTask(db.Model):
    """A row of a plan's appendix: number, content, lead unit, cooperating units, timeframe,
    expected product. ``binding`` ties it to a workflow stage (its lead unit is the stage's
    default actor, its expected product the document the stage produces).

    ``appendix`` is the appendix the row is in (Hà Tĩnh has two, numbered from 1 each);
    ``part`` numbers the rows of one task whose number and content cells are merged over
    several rows (each part has its own units, product or timeframe). ``heading`` is the
    group heading when a row carries both its group's heading and its own content.
    The timeframe text is kept as written; ``timeframe_kind`` and the dates are how it was
    read, ``timeframe_kind = 'unparsed'`` flags text that could not be read.
    """

    __tablename__ = "plan_task"
    __table_args__ = (
        UniqueConstraint("plan_id", "appendix", "number", "part", name="uq_plan_task_plan_number"),
        CheckConstraint("part >= 1 AND appendix >= 1", name="part_positive"),
        CheckConstraint("timeframe_kind IS NULL OR timeframe_kind IN ("
                        + ", ".join(f"'{k}'" for k in TIMEFRAME_KINDS) + ")", name="timeframe_kind_known"),
        CheckConstraint("binding IS NULL OR binding IN (" + ", ".join(f"'{b}'" for b in BINDINGS) + ")",
                        name="binding_known"),
        CheckConstraint("period_start IS NULL OR period_end IS NULL OR period_start <= period_end",
                        name="period_ordered"),
        CheckConstraint("done_on IS NOT NULL OR done_note IS NULL", name="done_note_needs_date"),
        # One task per binding key in a plan.
        Index("uq_plan_task_plan_binding", "plan_id", "binding", unique=True,
              sqlite_where=text("binding IS NOT NULL"), postgresql_where=text("binding IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plan_task.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    number: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    lead_units: Mapped[str | None] = mapped_column(Text)
    cooperating_units: Mapped[str | None] = mapped_column(Text)
    timeframe: Mapped[str | None] = mapped_column(String(250))
    expected_product: Mapped[str | None] = mapped_column(Text)
    binding: Mapped[str | None] = mapped_column(String(30), index=True)

    appendix: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    part: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    heading: Mapped[str | None] = mapped_column(Text)
    is_group: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    timeframe_kind: Mapped[str | None] = mapped_column(String(20))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    due_before: Mapped[date | None] = mapped_column(Date)  # "Trước ngày 15/7/2019": exclusive
    schedule: Mapped[list | None] = mapped_column(JSONType)  # recurring due rules
    done_on: Mapped[date | None] = mapped_column(Date)  # recorded completion (one-off tasks)
    done_note: Mapped[str | None] = mapped_column(Text)

    plan: Mapped[Plan] = relationship(back_populates="tasks")
    parent: Mapped["PlanTask | None"] = relationship(remote_side="PlanTask.id")
    units: Mapped[list["PlanTaskUnit"]] = relationship(back_populates="task", order_by="PlanTaskUnit.position",
                                                       cascade="all, delete-orphan")

    @property
    def label(self) -> str:
        """The number as people cite it: "6.2", "V.1", "PL2 · 3", "I.2 (2)"."""
        number = self.number if self.appendix == 1 else f"PL{self.appendix} · {self.number}"
        return number if self.part == 1 else f"{number} ({self.part})"

    def units_of(self, role: str) -> list["PlanTaskUnit"]:
        return [u for u in self.units if u.role == role]


class PlanTaskUnit(db.Model):
    """One unit named in a task's lead or cooperating cell, linked to an agency when it matches
    (or an admin links it); otherwise kept as text and listed for an admin to link."""

    __tablename__ = "plan_task_unit"
    __table_args__ = (
        CheckConstraint("role IN ('lead', 'cooperating')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("plan_task.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    folded: Mapped[str] = mapped_column(Text, index=True)  # pakn.text.fold(text)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)

    task: Mapped[PlanTask] = relationship(back_populates="units")
    agency: Mapped["Agency | None"] = relationship()  # noqa: F821


class PlanImport(db.Model):
    """An uploaded plan, parsed and waiting for an admin to confirm it (the preview).

    ``parsed`` holds what was read (metadata, rows, per-row problems); confirming writes it
    into :class:`Plan` / :class:`PlanTask` and sets ``plan_id`` and ``applied_at``.
    """

    __tablename__ = "plan_import"
    __table_args__ = (
        CheckConstraint("(applied_at IS NULL) = (plan_id IS NULL)", name="applied_has_plan"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    filename: Mapped[str] = mapped_column(String(255))
    source_format: Mapped[str] = mapped_column(String(10))
    parsed: Mapped[dict] = mapped_column(JSONType)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id", ondelete="SET NULL"))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
