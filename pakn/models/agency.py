"""Agencies (cơ quan) as a tree whose levels are data.

Since 1 July 2025 there is no district level and provinces were merged, so the levels
(tỉnh, sở/ban/ngành, xã, …) are rows, not code.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class AgencyLevel(db.Model):
    """A level of the administrative tree, e.g. "Cấp tỉnh", "Sở, ban, ngành", "Cấp xã"."""

    __tablename__ = "agency_level"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    rank: Mapped[int] = mapped_column(Integer, default=0)  # 0 = top of the tree


class Agency(db.Model):
    """A body that receives or handles feedback; ``is_office`` marks the provincial office."""

    __tablename__ = "agency"
    __table_args__ = (
        # At most one provincial office (Văn phòng UBND tỉnh) per deployment.
        Index("uq_agency_single_office", "is_office", unique=True,
              sqlite_where=text("is_office"), postgresql_where=text("is_office")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(250))
    short_name: Mapped[str | None] = mapped_column(String(100))
    level_id: Mapped[int] = mapped_column(ForeignKey("agency_level.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    is_office: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    address: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when an admin merged this agency into another (provinces and communes were merged in
    #: 2025): its cases, staff and rules moved there, and it stays, inactive, for its history.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    level: Mapped[AgencyLevel] = relationship()
    parent: Mapped["Agency | None"] = relationship(remote_side="Agency.id", back_populates="children",
                                                    foreign_keys=[parent_id])
    children: Mapped[list["Agency"]] = relationship(back_populates="parent", foreign_keys=[parent_id])
    merged_into: Mapped["Agency | None"] = relationship(remote_side="Agency.id", foreign_keys=[merged_into_id])

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"
