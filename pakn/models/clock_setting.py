"""Per-province clock settings, versioned: a case keeps the rule in force when its clock started."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

#: The settings a version holds, in the order the admin page shows them.
CLOCK_FIELDS = ("forward_days", "answer_days", "answer_day_unit", "progress_update_days",
                "result_entry_days", "check_days", "publish_days", "reminder_days",
                "needs_info_pauses")


class ClockSetting(db.Model):
    """One version of the clock settings. Rows are never edited: saving the admin form adds a
    version, and stage visits and cases point at the version their clock started under.

    No row at all means the legal defaults of the configuration (``Config.CLOCK``); visits
    started then carry ``clock_setting_id`` NULL and keep those defaults.
    """

    __tablename__ = "clock_setting"
    __table_args__ = (
        CheckConstraint("answer_day_unit IN ('calendar', 'working')", name="answer_unit_known"),
        CheckConstraint(
            "forward_days BETWEEN 1 AND 60 AND answer_days BETWEEN 1 AND 120"
            " AND progress_update_days BETWEEN 1 AND 60 AND result_entry_days BETWEEN 1 AND 30"
            " AND check_days BETWEEN 1 AND 30 AND publish_days BETWEEN 1 AND 30"
            " AND reminder_days BETWEEN 0 AND 30", name="days_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forward_days: Mapped[int] = mapped_column(Integer)
    answer_days: Mapped[int] = mapped_column(Integer)
    answer_day_unit: Mapped[str] = mapped_column(String(10))
    progress_update_days: Mapped[int] = mapped_column(Integer)
    result_entry_days: Mapped[int] = mapped_column(Integer)
    check_days: Mapped[int] = mapped_column(Integer)
    publish_days: Mapped[int] = mapped_column(Integer)
    reminder_days: Mapped[int] = mapped_column(Integer)
    needs_info_pauses: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)  # why the settings changed (decision, plan)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def as_settings(self) -> dict:
        return {name: getattr(self, name) for name in CLOCK_FIELDS}
