"""Provincial plans (Kế hoạch) and the tasks of their appendix tables."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

#: What a plan task can be bound to: the ``plan_task`` keys of the workflow stages, plus reports.
BINDINGS = ("receive_classify", "handle", "notify_publish", "report")


class Plan(db.Model):
    """A plan such as "Kế hoạch 62/KH-UBND" of a province."""

    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)  # số, ký hiệu
    title: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str | None] = mapped_column(String(250))
    issued_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tasks: Mapped[list["PlanTask"]] = relationship(back_populates="plan", order_by="PlanTask.position")


class PlanTask(db.Model):
    """A row of a plan's appendix: number, content, lead unit, cooperating units, timeframe,
    expected product. ``binding`` ties it to a workflow stage (its lead unit is the stage's
    default actor, its expected product the document the stage produces)."""

    __tablename__ = "plan_task"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_plan_task_plan_number"),)

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

    plan: Mapped[Plan] = relationship(back_populates="tasks")
