"""The admin-maintained calendar overlay on top of the statutory holidays."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class CalendarOverlay(db.Model):
    """An extra day off or a make-up working day, with the decision that announced it."""

    __tablename__ = "calendar_overlay"
    __table_args__ = (CheckConstraint("kind IN ('day_off', 'working_day')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)  # the legal basis, e.g. "Thông báo 9441/TB-BNV"
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
