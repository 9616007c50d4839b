"""Periodic PAKN reports as filed (quarterly Q1–Q3 and annual), with the figures filed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import JSONType, UTCDateTime, utcnow

#: Reporting periods: the first three quarters and the year (the fourth quarter is in the annual report).
REPORT_PERIODS = ("Q1", "Q2", "Q3", "Y")


class ReportFiling(db.Model):
    """An agency's report for one period, filed (sent to the office, or by the office to the
    Cục Kiểm soát TTHC) at ``filed_at``: whether it met its due date is read from this row.
    ``figures`` is the snapshot of the totals as filed."""

    __tablename__ = "report_filing"
    __table_args__ = (
        UniqueConstraint("agency_id", "year", "period", name="uq_report_filing_agency_period"),
        CheckConstraint("period IN (" + ", ".join(f"'{p}'" for p in REPORT_PERIODS) + ")", name="period_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(2))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    figures: Mapped[dict] = mapped_column(JSONType)

    agency: Mapped["Agency"] = relationship()  # noqa: F821
