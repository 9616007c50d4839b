"""Routing rules: which agency the office usually forwards a case to (field → agency, keyword → agency)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..text import fold
from .agency import Agency
from .field import Field
from .types import UTCDateTime, utcnow

RULE_KINDS = ("field", "keyword")


class RoutingRule(db.Model):
    """A suggestion rule managed by the office lead or an admin.

    A ``field`` rule suggests ``agency`` for every case classified under ``field``; a
    ``keyword`` rule suggests it when the case text contains ``keyword`` (compared folded,
    so "dat dai" matches "đất đai"). Rules only suggest: the clerk always decides.
    """

    __tablename__ = "routing_rule"
    __table_args__ = (
        CheckConstraint("kind IN ('field', 'keyword')", name="kind_known"),
        CheckConstraint("(kind = 'field') = (field_id IS NOT NULL)", name="field_rule_has_field"),
        CheckConstraint("(kind = 'keyword') = (keyword IS NOT NULL)", name="keyword_rule_has_keyword"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    field_id: Mapped[int | None] = mapped_column(ForeignKey("field.id"), index=True)
    keyword: Mapped[str | None] = mapped_column(String(100))  # as typed, shown to people
    keyword_folded: Mapped[str | None] = mapped_column(String(100))  # fold(keyword), what is matched
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher first
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    field: Mapped[Field | None] = relationship()
    agency: Mapped[Agency] = relationship()

    def set_keyword(self, keyword: str | None) -> None:
        self.keyword = keyword
        self.keyword_folded = fold(keyword) if keyword else None
