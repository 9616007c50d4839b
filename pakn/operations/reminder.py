"""A reminder to the agency responsible for an open stage visit (the office console's one click)."""
from __future__ import annotations

from datetime import datetime

from workflows.engine import N_
from workflows.glossary import OFFICE_ROLES

from ..extensions import db
from ..models import AuditEvent, OutboxMessage, StageVisit
from ..models.types import utcnow
from .errors import Conflict, Forbidden
from .feedback import _actor_fields


def remind_agency(visit: StageVisit, actor, *, now: datetime | None = None) -> OutboxMessage:
    """Write an ``agency.reminder`` outbox row for ``visit`` (payload ``{visit_id, stage, due_at}``,
    the same as the deadline sweep's) and an audit event; only flushes.

    Raises :class:`Forbidden` unless ``actor`` is office staff and :class:`Conflict` when the
    visit is finished or has no responsible agency.
    """
    now = now or utcnow()
    if getattr(actor, "role", None) not in OFFICE_ROLES:
        raise Forbidden(N_("Chỉ cán bộ Văn phòng được gửi nhắc việc."))
    if visit.finished_at is not None or visit.agency_id is None:
        raise Conflict(N_("Giai đoạn này đã kết thúc, không cần nhắc."))
    event = AuditEvent(feedback_id=visit.feedback_id, action="remind_agency", from_state=visit.feedback.state,
                       to_state=visit.feedback.state, at=now, version=visit.feedback.version,
                       data={"visit_id": visit.id, "agency": visit.agency_id}, **_actor_fields(actor))
    db.session.add(event)
    db.session.flush()
    row = OutboxMessage(kind="agency.reminder", feedback_id=visit.feedback_id, audit_event_id=event.id,
                        recipient_kind="agency", recipient_agency_id=visit.agency_id, created_at=now,
                        available_at=now,
                        payload={"visit_id": visit.id, "stage": visit.stage,
                                 "due_at": visit.due_at.isoformat() if visit.due_at else None})
    db.session.add(row)
    db.session.flush()
    return row
