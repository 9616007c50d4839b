"""Assigning an office clerk to a case: who in the office looks after it (not a state change)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from workflows.engine import N_
from workflows.glossary import OFFICE_ROLES

from ..extensions import db
from ..models import AuditEvent, CaseAssignment, Feedback, User
from ..models.types import utcnow
from .errors import Conflict, Forbidden, InvalidPayload, StaleVersion
from .feedback import _actor_fields
from workflows.pakn import WORKFLOW


def assign_clerk(case: Feedback, clerk: User | None, actor, *, expected_version: int | None = None,
                 now: datetime | None = None) -> CaseAssignment:
    """Make ``clerk`` the office clerk in charge of ``case`` and audit it; only flushes.

    Raises :class:`Forbidden` unless ``actor`` is office staff, :class:`InvalidPayload` unless
    ``clerk`` is an active office account, :class:`Conflict` for a case in a final state and
    :class:`StaleVersion` when the case changed since the actor saw ``expected_version``.
    """
    now = now or utcnow()
    if getattr(actor, "role", None) not in OFFICE_ROLES:
        raise Forbidden(N_("Chỉ cán bộ Văn phòng được phân công hồ sơ."))
    if expected_version is not None and case.version != expected_version:
        raise StaleVersion(case.version, case.state)
    if WORKFLOW.states[case.state].final:
        raise Conflict(N_("Hồ sơ đã kết thúc (trạng thái «%(state)s»), không phân công được."),
                       {"state": WORKFLOW.states[case.state].label})
    if clerk is None or not clerk.active or clerk.role not in OFFICE_ROLES:
        raise InvalidPayload({"clerk": [N_("Người được phân công phải là cán bộ Văn phòng đang làm việc.")]})
    row = db.session.get(CaseAssignment, case.id)
    previous = row.clerk_id if row else None
    if row is None:
        row = CaseAssignment(feedback_id=case.id, clerk_id=clerk.id)
        db.session.add(row)
    row.clerk_id, row.assigned_by_id, row.assigned_at = clerk.id, actor.user_id, now
    db.session.add(AuditEvent(feedback_id=case.id, action="assign_clerk", from_state=case.state,
                              to_state=case.state, at=now, version=case.version,
                              data={"clerk": clerk.id, "previous": previous}, **_actor_fields(actor)))
    db.session.flush()
    return row


def clerk_of(case_id: int) -> User | None:
    """The office clerk in charge of the case, if any."""
    return db.session.scalar(select(User).join(CaseAssignment, CaseAssignment.clerk_id == User.id)
                             .where(CaseAssignment.feedback_id == case_id))
