"""Other names of agencies, as plans write them ("Văn phòng UBND tỉnh", "Sở Nội Vụ")."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class AgencyAlias(db.Model):
    """A unit name (matched folded: case- and diacritics-insensitive) and the agency it means.

    ``agency_id`` NULL records an admin's decision that the name is generic ("Các cơ quan,
    đơn vị có liên quan") and names no single agency, so it is no longer listed to link.
    """

    __tablename__ = "agency_alias"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    folded: Mapped[str] = mapped_column(String(500), unique=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped["Agency | None"] = relationship()  # noqa: F821
