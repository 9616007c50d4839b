"""The append-only audit trail."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import JSONType, UTCDateTime, utcnow


class AuditEvent(db.Model):
    """Who did what, when (UTC), to which case, from which state to which.

    Rows are never updated or deleted: the ORM refuses it here and, on PostgreSQL, a
    trigger created by the migration refuses it in the database too.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_feedback_at", "feedback_id", "at"),
        # The events of one kind in a period, with their cases (the periodic report, the audit
        # log's filters): an index-only range scan (migration i12b).
        Index("ix_audit_event_action_at", "action", "at", "feedback_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    version: Mapped[int | None] = mapped_column(Integer)  # the case version after the change
    data: Mapped[dict] = mapped_column(JSONType, default=dict)

    #: Set instead of ``feedback_id`` when the case is new: one flush then writes both, in order.
    feedback: Mapped["Feedback | None"] = relationship()  # noqa: F821


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _append_only(mapper, connection, target) -> None:
    raise PermissionError("audit events are append-only")
