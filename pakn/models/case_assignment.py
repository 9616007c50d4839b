"""Which office clerk looks after a case while it is with the office (the deadline board's "by clerk")."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow
from .user import User


class CaseAssignment(db.Model):
    """The office clerk in charge of one case (at most one row per case).

    Kept apart from ``Feedback.assignee`` (the officer of the handling agency), so that
    assigning an office clerk never changes who handles the case at the agency.
    Changed only by :func:`pakn.operations.assignment.assign_clerk`, which audits it.
    """

    __tablename__ = "case_assignment"

    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True)
    clerk_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    clerk: Mapped[User] = relationship(foreign_keys=[clerk_id])
