"""What staff see of cases: the list filters, a list row, and the detail in its role views.

* the office (and admins) see everything;
* an agency sees the same, except the answers drafted by other agencies (a case returned
  as not competent and forwarded again keeps the first agency's drafts).

Which cases a user may see at all is decided by :mod:`pakn.access`, never here.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates
from sqlalchemy import select

from workflows.engine import N_
from workflows.glossary import AnswerOutcome, Channel, ContentCategory, Kind, RejectReason, Subject
from workflows.pakn import WORKFLOW
from workflows.payloads import Code

from ..access import visible_answers
from ..extensions import db
from ..office.inbox import DUE_FILTERS, decode_cursor
from ..models import Agency, Feedback, Field, StageVisit, User
from ..models.types import utcnow
from .base import Instant, OutputSchema, action_label, coded_label, role_label, state_label
from .deadline import StaffDeadlineSchema, case_deadlines, explanation_text
from .feedback import case_events

MAX_PER_PAGE = 100


# -- the list's query string ------------------------------------------------------------------
class StateList(fields.String):
    """A comma-separated list of workflow states (``state=received,returned``)."""

    default_error_messages = {"state": N_("Trạng thái không tồn tại: {state}.")}

    def _deserialize(self, value, attr, data, **kwargs) -> list[str]:
        text = super()._deserialize(value, attr, data, **kwargs)
        states = [s.strip() for s in text.split(",") if s.strip()]
        for state in states:
            if state not in WORKFLOW.states:
                raise self.make_error("state", state=state)
        return states


class CaseQuerySchema(Schema):
    """``GET /cases`` parameters: the office inbox's filters (:mod:`pakn.office.inbox`).

    An unknown parameter is refused, not ignored. Paging is by keyset (``after``: the
    ``next_cursor`` of the previous page) or, for older clients, by ``page`` number.
    """

    class Meta:
        unknown = RAISE

    state = StateList(load_default=None, metadata={
        "description": "Workflow states, comma-separated or repeated.", "example": "received,returned"})
    due = fields.String(load_default=None, validate=validate.OneOf(list(DUE_FILTERS)), metadata={
        "description": "The open stage is overdue, due today, or due this week."})
    overdue = fields.Boolean(load_default=False, metadata={"description": "The same as ``due=overdue``."})
    agency = Code(load_default=None, validate=validate.Length(min=1, max=50))
    field = Code(load_default=None, validate=validate.Length(min=1, max=50))
    channel = fields.String(load_default=None, validate=validate.OneOf(Channel.codes()))
    kind = fields.String(load_default=None, validate=validate.OneOf(Kind.codes()))
    received_from = fields.Date(data_key="from", load_default=None,
                                metadata={"description": "Received on or after this local date."})
    received_to = fields.Date(data_key="to", load_default=None,
                              metadata={"description": "Received on or before this local date."})
    clerk = fields.String(load_default=None, validate=validate.Regexp(r"^(none|[0-9]{1,9})$"), metadata={
        "description": "The office clerk assigned (a user id), or ``none`` for unassigned cases."})
    q = Code(load_default=None, validate=validate.Length(max=200), metadata={
        "description": "Code, title, content, proposal or submitter; case and diacritics ignored."})
    after = fields.String(load_default=None, validate=validate.Length(max=200), metadata={
        "description": "Keyset cursor: the ``next_cursor`` of the previous page (takes precedence over ``page``)."})
    page = fields.Integer(load_default=1, validate=[validate.Range(min=1), validate.Range(max=10**6)])
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))

    @validates("agency")
    def _agency_exists(self, code: str | None, **kwargs) -> None:
        if code is not None and db.session.scalar(select(Agency.id).where(Agency.code == code)) is None:
            raise ValidationError(N_("Cơ quan không tồn tại."))

    @validates("field")
    def _field_exists(self, code: str | None, **kwargs) -> None:
        if code is not None and db.session.scalar(select(Field.id).where(Field.code == code)) is None:
            raise ValidationError(N_("Lĩnh vực không tồn tại."))

    @validates("after")
    def _cursor(self, value: str | None, **kwargs) -> None:
        if value is not None and decode_cursor(value) is None:
            raise ValidationError(N_("Vị trí trang không hợp lệ."))


# -- small nested shapes ----------------------------------------------------------------------
def _agency(agency: Agency | None) -> dict | None:
    return {"code": agency.code, "name": agency.name} if agency is not None else None


def _user(user: User | None) -> dict | None:
    return {"id": user.id, "name": user.full_name, "role": user.role} if user is not None else None


def _open_visit(case: Feedback) -> StageVisit | None:
    # From the loaded relationship: the list preloads every page's visits in one query.
    return next((v for v in reversed(case.stage_visits) if v.finished_at is None), None)


def _overdue(case: Feedback, now: datetime) -> bool:
    visit = _open_visit(case)
    return bool(visit is not None and visit.due_at is not None and visit.due_at < now)


# -- rows -------------------------------------------------------------------------------------
class StageVisitSchema(OutputSchema):
    """One entry into a stage: due date, the rule, the explanation, the plan task."""

    id = fields.Integer()
    stage = fields.String()
    stage_label = fields.Method("get_stage_label")
    entered_at = Instant()
    due_at = Instant(allow_none=True)
    due_date = fields.Date(allow_none=True)
    rule = fields.Dict(allow_none=True)
    explanation = fields.Function(lambda v: explanation_text(v.explanation))
    agency = fields.Function(lambda v: _agency(db.session.get(Agency, v.agency_id)) if v.agency_id else None)
    plan_task_number = fields.Function(lambda v: v.plan_task.number if v.plan_task is not None else None)
    # The document this stage produces is named after the bound task's expected product.
    plan_task_document = fields.Function(
        lambda v: v.plan_task.expected_product if v.plan_task is not None else None)
    finished_at = Instant(allow_none=True)
    outcome = fields.String(allow_none=True)
    extended_due_at = Instant(allow_none=True)
    extension_reason = fields.String(allow_none=True)

    def get_stage_label(self, visit: StageVisit) -> str:
        stage = WORKFLOW.stages.get(visit.stage)
        return gettext(stage.label) if stage else visit.stage


class AnswerSchema(OutputSchema):
    """One revision of the answer, in its structured parts (domain §6)."""

    revision = fields.Integer()
    status = fields.String()
    agency = fields.Function(lambda a: _agency(db.session.get(Agency, a.agency_id)))
    summary = fields.String()
    findings = fields.String()
    outcome = fields.String()
    outcome_label = fields.Function(lambda a: coded_label(AnswerOutcome, a.outcome))
    measures = fields.String(allow_none=True)
    responsible_body = fields.String(allow_none=True)
    legal_refs = fields.String(allow_none=True)
    body = fields.String()
    author = fields.Function(lambda a: _user(a.author))
    created_at = Instant()
    reviewed_by = fields.Function(lambda a: _user(a.reviewed_by))
    reviewed_at = Instant(allow_none=True)
    review_comment = fields.String(allow_none=True)
    document_number = fields.String(allow_none=True)
    document_date = fields.Date(allow_none=True)
    submitted_at = Instant(allow_none=True)


class StaffEventSchema(OutputSchema):
    """One audit event with who acted (staff names are shown to staff only)."""

    id = fields.Integer()
    action = fields.String()
    label = fields.Function(lambda e: action_label(e.action))
    at = Instant()
    from_state = fields.String(allow_none=True)
    from_state_label = fields.Function(lambda e: state_label(e.from_state))
    to_state = fields.String(allow_none=True)
    to_state_label = fields.Function(lambda e: state_label(e.to_state))
    actor = fields.Function(lambda e: {"id": e.actor_id, "role": e.actor_role,
                                       "role_label": role_label(e.actor_role), "label": e.actor_label})
    version = fields.Integer(allow_none=True)
    data = fields.Dict()


class CaseSummarySchema(OutputSchema):
    """A row of the case list."""

    code = fields.String()
    title = fields.String()
    kind = fields.String()
    state = fields.String()
    state_label = fields.Function(lambda c: state_label(c.state))
    channel = fields.String()
    agency = fields.Function(lambda c: _agency(c.agency))
    received_at = Instant()
    answer_due_at = Instant(allow_none=True)
    open_stage = fields.Method("get_open_stage")
    overdue = fields.Function(lambda c: _overdue(c, utcnow()))
    version = fields.Integer()

    def get_open_stage(self, case: Feedback) -> dict | None:
        visit = _open_visit(case)
        if visit is None:
            return None
        return {"stage": visit.stage, "due_at": visit.due_at.isoformat() if visit.due_at else None,
                "due_date": visit.due_date.isoformat() if visit.due_date else None}


class CaseDetailSchema(CaseSummarySchema):
    """Everything about a case, as the office sees it."""

    kind_label = fields.Function(lambda c: coded_label(Kind, c.kind))
    subject = fields.String(allow_none=True)
    subject_label = fields.Function(lambda c: coded_label(Subject, c.subject))
    content_category = fields.String(allow_none=True)
    content_category_label = fields.Function(lambda c: coded_label(ContentCategory, c.content_category))
    field = fields.Function(lambda c: {"code": c.field.code, "name": c.field.name} if c.field else None)
    content = fields.String()
    proposal = fields.String(allow_none=True)
    channel_label = fields.Function(lambda c: coded_label(Channel, c.channel))
    external_ref = fields.String(allow_none=True)
    submitter = fields.Function(lambda c: {
        "name": c.submitter_name, "organisation": c.submitter_organisation,
        "address": c.submitter_address, "phone": c.submitter_phone, "email": c.submitter_email})
    original_received_at = Instant(allow_none=True)
    assignee = fields.Function(lambda c: _user(c.assignee))
    reject_reason_code = fields.String(allow_none=True)
    reject_reason_label = fields.Function(lambda c: coded_label(RejectReason, c.reject_reason_code))
    reject_guidance = fields.String(allow_none=True)
    duplicate_of = fields.Function(lambda c: c.duplicate_of.code if c.duplicate_of is not None else None)
    withdrawn_at = Instant(allow_none=True)
    withdraw_reason = fields.String(allow_none=True)
    answered_at = Instant(allow_none=True)
    public_title = fields.String(allow_none=True)
    public_summary = fields.String(allow_none=True)
    public_answer = fields.String(allow_none=True)
    published_at = Instant(allow_none=True)
    closed_at = Instant(allow_none=True)
    created_at = Instant()
    updated_at = Instant()
    deadlines = fields.Function(
        lambda c: StaffDeadlineSchema(many=True).dump(case_deadlines(c, _open_visit(c), internal=True)))
    stage_visits = fields.Function(lambda c: StageVisitSchema(many=True).dump(c.stage_visits))
    answers = fields.Method("get_answers")
    timeline = fields.Function(lambda c: StaffEventSchema(many=True).dump(case_events(c)))

    def __init__(self, user: User | None = None, **kwargs):
        super().__init__(**kwargs)
        self.user = user  # whose view: pakn.access decides which answer revisions it holds

    def get_answers(self, case: Feedback) -> list[dict]:
        # Which revisions the caller reads is pakn.access's rule (the office: all; an agency: its own).
        return AnswerSchema(many=True).dump(visible_answers(self.user, case))


def detail_schema_for(user: User) -> CaseDetailSchema:
    """The detail view for ``user``: the office's (and admins') sees every answer revision, the
    handling agency's only its own agency's (a case forwarded again keeps the first agency's drafts)."""
    return CaseDetailSchema(user)
