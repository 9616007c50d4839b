"""What the submitter sees of a case: the receipt, and the case behind their tracking token.

The citizen view never shows staff names, internal notes, the drafting loop or internal
extension records. It shows the public milestones, the texts addressed to the submitter
(a request for information, a progress update, the guidance of a rejection), the
deadlines, the agency handling the case and, once published, the public answer.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from marshmallow import fields
from sqlalchemy import select

from workflows.glossary import Kind, RejectReason

from ..extensions import db
from ..models import AuditEvent, Feedback
from ..operations import open_visit
from .base import Instant, OutputSchema, action_label, coded_label, state_label
from .deadline import DeadlineSchema, case_deadlines

#: Audit actions the submitter never sees: the agency's internal drafting loop, the
#: internal extension record (an extension is not a promise to the submitter), the
#: documents issued between the office and the agencies, and the clerk's assignment.
INTERNAL_ACTIONS = frozenset({"draft_answer", "approve_answer", "send_back_draft", "record_extension",
                              "document.issued", "assign_clerk"})
#: Actions whose text is addressed to the submitter, and the audit data key holding it.
ADDRESSED_TO_SUBMITTER = {"request_info": "message", "agency_request_info": "message", "post_progress": "message",
                          "reject": "guidance"}


def case_events(case: Feedback) -> list[AuditEvent]:
    """The audit events of ``case`` in the order they happened."""
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.feedback_id == case.id).order_by(AuditEvent.at, AuditEvent.id)))


class CitizenEventSchema(OutputSchema):
    """One public milestone: what happened, when, and the state it led to."""

    action = fields.String()
    label = fields.Function(lambda e: action_label(e.action))
    at = Instant()
    state = fields.String(attribute="to_state")
    state_label = fields.Function(lambda e: state_label(e.to_state))
    message = fields.Method("get_message")

    def get_message(self, event: AuditEvent) -> str | None:
        key = ADDRESSED_TO_SUBMITTER.get(event.action)
        text = (event.data or {}).get(key) if key else None
        # A default reject guidance is a msgid (workflows.glossary.REJECT_GUIDANCE).
        return gettext(text) if text and event.action == "reject" else text


class CitizenCaseSchema(OutputSchema):
    """The case as its submitter sees it with the tracking token."""

    code = fields.String()
    title = fields.String()
    kind = fields.String()
    kind_label = fields.Function(lambda c: coded_label(Kind, c.kind))
    state = fields.String()
    state_label = fields.Function(lambda c: state_label(c.state))
    received_at = Instant()
    agency_name = fields.Function(lambda c: c.agency.name if c.agency is not None else None)
    deadlines = fields.Function(lambda c: DeadlineSchema(many=True).dump(case_deadlines(c, open_visit(c))))
    timeline = fields.Method("get_timeline")
    answer = fields.Method("get_answer")
    rejection = fields.Method("get_rejection")
    merged_into = fields.Function(lambda c: c.duplicate_of.code if c.duplicate_of is not None else None)
    withdrawn_at = Instant(allow_none=True)

    def get_timeline(self, case: Feedback) -> list[dict]:
        public = [e for e in case_events(case) if e.action not in INTERNAL_ACTIONS]
        return CitizenEventSchema(many=True).dump(public)

    def get_answer(self, case: Feedback) -> dict | None:
        # Only the redacted public version, and only once it is published.
        if case.published_at is None:
            return None
        return {"public_title": case.public_title, "public_summary": case.public_summary,
                "public_answer": case.public_answer, "published_at": case.published_at.isoformat()}

    def get_rejection(self, case: Feedback) -> dict | None:
        if case.reject_reason_code is None:
            return None
        return {"reason_code": case.reject_reason_code,
                "reason_label": coded_label(RejectReason, case.reject_reason_code),
                "guidance": gettext(case.reject_guidance) if case.reject_guidance else None}


@dataclass(frozen=True)
class Receipt:
    """A new case and its tracking token (shown this once; only its hash is stored)."""

    case: Feedback
    tracking_token: str


class ReceiptSchema(OutputSchema):
    """The answer to a submission: the code and token to follow it, and its deadlines."""

    code = fields.String(attribute="case.code")
    tracking_token = fields.String()
    state = fields.String(attribute="case.state")
    state_label = fields.Function(lambda r: state_label(r.case.state))
    received_at = Instant(attribute="case.received_at")
    deadlines = fields.Function(
        lambda r: DeadlineSchema(many=True).dump(case_deadlines(r.case, open_visit(r.case))))
