"""Every state change of a feedback case goes through here.

:func:`receive_feedback` creates a case; :func:`apply_transition` fires any other trigger.
Both ask the workflow engine, change the case, close and open stage visits with their due
dates, write the audit event and the outbox rows — and only flush. The caller (request,
job or CLI, see :mod:`pakn.operations.transaction`) commits once, or rolls back on any
exception, so a refused or failed operation leaves nothing behind.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, time, timezone
from typing import Any, Callable, Iterable, Mapping

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from workflows.calendar import TZ, to_local_date
from workflows.engine import N_, Transition, TransitionRefused
from workflows.glossary import REJECT_GUIDANCE
from workflows.pakn import HANDLING, WORKFLOW
from workflows.payloads import schema as payload_schema

from .. import reference
from ..extensions import db
from ..models import (
    Agency, Answer, AuditEvent, Feedback, Field, OutboxMessage, Plan, PlanTask, StageVisit,
    User,
)
from ..models.types import utcnow
from ..richtext import RICH_TEXT_FIELDS, clean_html, plain_text
from ..sealing import seal
from .clock import pause_clock, result_entry_check, resume_clock, set_visit_clock, start_case_clock
from .errors import Conflict, InvalidPayload, StaleVersion, from_refusal
from .intake import write_new_case

Payload = Mapping[str, Any]


# -- helpers ----------------------------------------------------------------------------
def hash_token(token: str) -> str:
    """The stored form of a tracking or API token."""
    return hashlib.sha256(token.encode()).hexdigest()


def find_by_tracking(code: str, token: str) -> Feedback | None:
    """The case with this code whose tracking token is ``token``, or None (never says which was wrong)."""
    case = db.session.scalar(select(Feedback).where(Feedback.code == code))
    if case is None or not secrets.compare_digest(case.tracking_token_hash, hash_token(token or "")):
        return None
    return case


def _load(transition: Transition, data: Payload | None) -> dict:
    if transition.schema is None:
        return {}
    try:
        return payload_schema(transition.schema).load(dict(data or {}))
    except ValidationError as err:
        raise InvalidPayload(err.normalized_messages()) from None


def _active_field_ids() -> dict[str, int]:
    """Active fields by code, kept per process until the reference data change."""
    return reference.cached("active_field_ids", lambda: dict(db.session.execute(
        select(Field.code, Field.id).where(Field.active.is_(True))).all()))


def _field_id_by_code(code: str, name: str = "field") -> int:
    found = _active_field_ids().get(code)
    if found is None:
        raise InvalidPayload({name: [N_("Lĩnh vực không tồn tại.")]})
    return found


def _field_by_code(code: str | None, name: str = "field") -> Field | None:
    if code is None:
        return None
    return db.session.get(Field, _field_id_by_code(code, name))


def office_agency_id() -> int:
    """The id of the provincial office (Văn phòng UBND tỉnh), kept per process until the
    reference data change; the demo seed and setup create the office."""
    found = reference.cached("office_agency_id", lambda: db.session.scalar(
        select(Agency.id).where(Agency.is_office.is_(True))))
    if found is None:
        raise Conflict(N_("Chưa khai báo Văn phòng UBND tỉnh trong danh mục cơ quan."))
    return found


def office_agency() -> Agency:
    """The provincial office (Văn phòng UBND tỉnh)."""
    return db.session.get(Agency, office_agency_id())


def _plan_task_id_for(binding: str | None) -> int | None:
    """The task bound to ``binding`` in the plan in force (with none in force, the latest
    bound), kept per process until the reference data change."""
    if binding is None:
        return None
    return reference.cached(("plan_task_id", binding), lambda: db.session.scalar(
        select(PlanTask.id).join(Plan, Plan.id == PlanTask.plan_id).where(PlanTask.binding == binding)
        .order_by(Plan.in_force.desc(), PlanTask.id.desc()).limit(1)))


def open_visit(case: Feedback) -> StageVisit | None:
    """The case's current (unfinished) stage visit, if any."""
    return db.session.scalar(
        select(StageVisit).where(StageVisit.feedback_id == case.id, StageVisit.finished_at.is_(None)))


def _enter_stage(case: Feedback, entered_at: datetime, outcome: str, restart: bool, from_state: str | None) -> None:
    """Close the open visit and open one for the case's new stage, when the stage changes."""
    old = WORKFLOW.stage_of(from_state)
    new = WORKFLOW.stage_of(case.state)
    if old is not None and new is not None and old.key == new.key and not restart:
        return
    current = open_visit(case) if from_state is not None else None
    if current is not None:
        current.finished_at = entered_at
        current.outcome = outcome
        db.session.flush()  # at most one open visit per case (a unique partial index)
    if new is None:
        return
    db.session.add(_new_visit(case, new, entered_at))


def _new_visit(case: Feedback, stage, entered_at: datetime) -> StageVisit:
    """A visit of ``stage`` for ``case`` from ``entered_at``: responsible agency, plan task, clock.
    Not added to the session: the caller adds it (a reference look-up must not flush it half-made)."""
    with db.session.no_autoflush:
        visit = StageVisit(feedback=case, stage=stage.key, entered_at=entered_at,
                           agency_id=case.agency_id if stage.responsible == "agency" else office_agency_id())
        visit.plan_task_id = _plan_task_id_for(stage.plan_task)
        if stage.deadline is not None:
            set_visit_clock(visit, stage.deadline, case)  # pins the settings version in force
    return visit


def _actor_fields(actor) -> dict:
    return {"actor_id": getattr(actor, "user_id", None), "actor_role": actor.role,
            "actor_label": getattr(actor, "label", actor.role)}


def _write_outbox(case: Feedback, transition: Transition, event: AuditEvent, payload: dict,
                  previous_agency_id: int | None) -> None:
    """One outbox row per message kind of the transition, addressed by role, never copying
    personal data (the delivering job re-reads the case)."""
    for row in _outbox_rows(case, transition, event, payload, previous_agency_id):
        db.session.add(row)


def _outbox_rows(case: Feedback, transition: Transition, event: AuditEvent, payload: dict,
                 previous_agency_id: int | None) -> list[OutboxMessage]:
    rows = []
    for kind in transition.outbox:
        recipient = kind.split(".", 1)[0]
        row = OutboxMessage(kind=kind, feedback=case, audit_event=event, recipient_kind=recipient, payload=payload)
        if recipient == "agency":
            row.recipient_agency_id = case.agency_id or previous_agency_id
            if row.recipient_agency_id is None:
                continue  # e.g. a withdrawal before any agency was involved
            if kind == "agency.draft_sent_back":
                draft = _latest_answer(case)
                row.recipient_kind, row.recipient_user_id = "user", draft.author_id if draft else None
                if row.recipient_user_id is None:
                    continue
        elif recipient == "office":
            row.recipient_agency_id = office_agency_id()
        rows.append(row)
    return rows


def _audit_event(case: Feedback, action: str, actor, from_state: str | None, data: dict, at: datetime) -> AuditEvent:
    # A case not yet written is version 1 (the version column counts from 1 at its INSERT).
    return AuditEvent(feedback=case, action=action, from_state=from_state, to_state=case.state, at=at, data=data,
                      version=case.version if case.id is not None else 1, **_actor_fields(actor))


def _audit(case: Feedback, action: str, actor, from_state: str | None, data: dict, at: datetime) -> AuditEvent:
    event = _audit_event(case, action, actor, from_state, data, at)
    db.session.add(event)
    return event


def _flush(case: Feedback) -> None:
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleVersion() from None


# -- creating a case ---------------------------------------------------------------------
DUPLICATE_EXTERNAL_REF = N_("Mục này đã được tiếp nhận: đã có PAKN cùng kênh tiếp nhận và số, ký hiệu này.")


def new_tracking_token() -> str:
    """A case's tracking token (shown once to the submitter; only its hash is stored)."""
    return secrets.token_urlsafe(32)


def receive_feedback(data: Payload, actor, *, trigger: str = "receive", now: datetime | None = None,
                     token: str | None = None, bound: Iterable[Any] = (), alone: bool = False) -> tuple[Feedback, str]:
    """Create a case from a submission (``receive``) or from staff intake (``receive_on_behalf``).

    Returns the case and its tracking token (``token``, or a new one; shown once, only its hash
    is stored). ``bound`` are new rows written with the case, their ``feedback_id`` set to it
    (the web form's idempotency key: a duplicate key fails the whole write on its UNIQUE index).
    ``alone``: the caller's transaction writes nothing else (see :func:`.intake.write_new_case`).
    Raises :class:`Forbidden` if the actor may not receive, :class:`InvalidPayload` on bad data.
    """
    now = now or utcnow()
    try:
        transition = WORKFLOW.check(None, trigger, actor)
    except TransitionRefused as refused:
        raise from_refusal(refused.refusal) from None
    payload = _load(transition, data)
    field_code = payload.pop("field", None)
    field_id = _field_id_by_code(field_code) if field_code is not None else None
    received_at = payload.pop("received_at", None) or now
    if received_at > now:
        raise InvalidPayload({"received_at": [N_("Ngày tiếp nhận không được ở tương lai.")]})
    channel = payload.pop("channel", "web")
    if payload.get("external_ref") and db.session.scalar(select(Feedback.code).where(
            Feedback.channel == channel, Feedback.external_ref == payload["external_ref"])):
        # The unique (channel, external_ref) constraint would refuse it at flush, as a 500.
        raise InvalidPayload({"external_ref": [DUPLICATE_EXTERNAL_REF]})
    token = token or new_tracking_token()
    case = Feedback(tracking_token_hash=hash_token(token), state=transition.target, channel=channel,
                    received_at=received_at, field_id=field_id, **payload)
    start_case_clock(case)  # answer_due_at, under the clock-settings version in force at receipt
    stage = WORKFLOW.stage_of(case.state)
    visit = _new_visit(case, stage, received_at) if stage is not None else None
    event = _audit_event(case, trigger, actor, None, {"channel": channel}, now)  # + "code", once written
    # The receipt must carry the tracking link, but only the token's hash is stored: the token
    # travels sealed (encrypted) in the receipt's payload and is erased once sent (pakn.sealing).
    outbox = _outbox_rows(case, transition, event, {"trigger": trigger, "tracking_sealed": seal(token)}, None)
    write_new_case(case, to_local_date(received_at).year, visit, event, outbox, bound, alone)
    return case, token


# -- every other trigger -----------------------------------------------------------------
def _latest_answer(case: Feedback) -> Answer | None:
    return db.session.scalar(
        select(Answer).where(Answer.feedback_id == case.id).order_by(Answer.revision.desc()).limit(1))


def _classify(case: Feedback, payload: dict, ctx: dict) -> dict:
    case.subject = payload["subject"]
    case.content_category = payload["content_category"]
    case.field = ctx["field"]
    if payload.get("kind"):
        case.kind = payload["kind"]
    return {"subject": case.subject, "content_category": case.content_category,
            "field": ctx["field"].code, "kind": case.kind, "note": payload.get("note")}


def _resolve(transition: Transition, case: Feedback, payload: dict, now: datetime) -> dict:
    """Look up what the payload refers to (by code); unknown references are payload errors."""
    ctx: dict[str, Any] = {"today": now.astimezone(TZ).date()}
    if "field" in payload and payload["field"] is not None:
        ctx["field"] = _field_by_code(payload["field"])
    if transition.trigger == "forward":
        ctx["agency"] = db.session.scalar(select(Agency).where(Agency.code == payload["agency"]))
        if ctx["agency"] is None:
            raise InvalidPayload({"agency": [N_("Cơ quan không tồn tại.")]})
        if not ctx["agency"].active:  # deactivated or merged by an admin: it keeps its history only
            raise InvalidPayload({"agency": [N_("Cơ quan đã ngừng hoạt động.")]})
    if payload.get("suggested_agency"):
        if db.session.scalar(select(Agency.id).where(Agency.code == payload["suggested_agency"])) is None:
            raise InvalidPayload({"suggested_agency": [N_("Cơ quan không tồn tại.")]})
    if transition.trigger == "merge":
        ctx["duplicate"] = db.session.scalar(select(Feedback).where(Feedback.code == payload["duplicate_of"]))
        if ctx["duplicate"] is None:
            raise InvalidPayload({"duplicate_of": [N_("Không tìm thấy PAKN có mã này.")]})
    if payload.get("assignee") is not None:
        ctx["assignee"] = db.session.get(User, payload["assignee"])
    if transition.trigger == "record_extension":
        visit = open_visit(case)
        due = (visit.extended_due_at or visit.due_at) if visit else None
        ctx["current_due_date"] = due.astimezone(TZ).date() if due else None
        ctx["visit"] = visit
    return ctx


def _end_of_local_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), TZ).astimezone(timezone.utc)


def _answer_status(case: Feedback, status: str, actor=None, comment: str | None = None, now=None) -> Answer:
    answer = _latest_answer(case)
    if answer is None:
        raise Conflict(N_("Chưa có dự thảo trả lời."))
    answer.status = status
    if actor is not None:
        answer.reviewed_by_id, answer.reviewed_at, answer.review_comment = actor.user_id, now, comment
    return answer


# Each effect changes the case for its trigger and returns the data kept in the audit event.
Effect = Callable[[Feedback, dict, Any, dict, datetime], dict]


def _reject(case, payload, actor, ctx, now):
    case.reject_reason_code = payload["reason_code"]
    case.reject_guidance = payload.get("guidance") or REJECT_GUIDANCE[payload["reason_code"]]
    return {"reason_code": case.reject_reason_code, "guidance": case.reject_guidance}


def _merge(case, payload, actor, ctx, now):
    case.duplicate_of = ctx["duplicate"]
    return {"duplicate_of": ctx["duplicate"].code, "note": payload.get("note")}


def _handle_in_office(case, payload, actor, ctx, now):
    data = _classify(case, payload, ctx)
    case.agency = office_agency()
    case.assignee_id = actor.user_id
    return data


def _forward(case, payload, actor, ctx, now):
    data = _classify(case, payload, ctx)
    case.agency, case.assignee_id = ctx["agency"], None
    return {**data, "agency": ctx["agency"].code}


def _accept(case, payload, actor, ctx, now):
    case.assignee_id = payload.get("assignee") or actor.user_id
    return {"assignee": case.assignee_id, "note": payload.get("note")}


def _return_not_competent(case, payload, actor, ctx, now):
    data = {"agency": case.agency.code, "reason": payload["reason"],
            "suggested_agency": payload.get("suggested_agency")}
    case.agency, case.assignee_id = None, None
    return data


def _record_extension(case, payload, actor, ctx, now):
    visit = ctx["visit"]
    visit.extended_due_at = _end_of_local_day(payload["new_due_date"])
    visit.extension_reason = payload["reason"]
    return {"new_due_date": payload["new_due_date"].isoformat(), "reason": payload["reason"]}


def _draft_answer(case, payload, actor, ctx, now):
    latest = _latest_answer(case)
    # Rich text is stored sanitized (pakn.richtext); a part left empty by it is refused.
    payload = {k: clean_html(v) if k in RICH_TEXT_FIELDS and v else v for k, v in payload.items()}
    empty = {k: [N_("Nội dung không còn gì sau khi loại bỏ mã không được phép.")]
             for k in ("findings", "body") if not plain_text(payload[k])}
    if empty:
        raise InvalidPayload(empty)
    answer = Answer(feedback_id=case.id, revision=(latest.revision + 1) if latest else 1,
                    agency_id=case.agency_id, status="pending_approval", author_id=actor.user_id,
                    created_at=now, **payload)
    db.session.add(answer)
    return {"revision": answer.revision, "outcome": answer.outcome}


def _approve_answer(case, payload, actor, ctx, now):
    answer = _answer_status(case, "approved", actor, payload.get("comment"), now)
    return {"revision": answer.revision, "comment": payload.get("comment")}


def _send_back_draft(case, payload, actor, ctx, now):
    answer = _answer_status(case, "sent_back", actor, payload["comment"], now)
    return {"revision": answer.revision, "comment": payload["comment"]}


def _submit_answer(case, payload, actor, ctx, now):
    answer = _answer_status(case, "submitted")
    answer.document_number = payload.get("document_number")
    answer.document_date = payload.get("document_date")
    answer.submitted_at = case.answered_at = now
    return {"revision": answer.revision, "document_number": answer.document_number,
            **result_entry_check(case, answer.document_date, now)}


def _accept_answer(case, payload, actor, ctx, now):
    answer = _answer_status(case, "accepted", actor, payload.get("note"), now)
    return {"revision": answer.revision, "note": payload.get("note")}


def _return_answer(case, payload, actor, ctx, now):
    answer = _answer_status(case, "returned", actor, payload["message"], now)
    case.answered_at = None
    return {"revision": answer.revision, "message": payload["message"]}


def _publish(case, payload, actor, ctx, now):
    case.public_title = payload["public_title"]
    case.public_summary = payload["public_summary"]
    case.public_answer = payload["public_answer"]
    case.published_at = now
    return {}


def _close(case, payload, actor, ctx, now):
    case.closed_at = now
    return {"note": payload.get("note")}


def _withdraw(case, payload, actor, ctx, now):
    case.withdrawn_at, case.withdraw_reason = now, payload.get("reason")
    return {"reason": payload.get("reason")}


def _request_info(case, payload, actor, ctx, now):
    """Ask the submitter for information; the clock pauses if the settings in force say so."""
    return {**payload, **pause_clock(case, now)}


def _supply_info(case, payload, actor, ctx, now):
    """Information arrived; a paused clock resumes and the due dates move by the paused working days."""
    return {**payload, **resume_clock(case, now)}
def _agency_request_info(case, payload, actor, ctx, now):
    """The agency asks the submitter for information; like the office's request, the clock
    pauses only if the settings in force say so (domain: NEEDS_INFO)."""
    case.info_requested_at = now
    return {"message": payload["message"], **pause_clock(case, now)}


def _supply_info_to_agency(case, payload, actor, ctx, now):
    """The reply arrived; a paused clock resumes and the due dates move by the paused working days."""
    case.info_requested_at = None
    return {"message": payload["message"], **resume_clock(case, now)}


def _record_payload(case, payload, actor, ctx, now):
    """Triggers whose payload is the whole record (messages, notes)."""
    return {k: v for k, v in payload.items()}


EFFECTS: dict[str, Effect] = {
    "request_info": _request_info,
    "supply_info": _supply_info,
    "reject": _reject,
    "merge": _merge,
    "handle_in_office": _handle_in_office,
    "forward": _forward,
    "accept": _accept,
    "return_not_competent": _return_not_competent,
    "agency_request_info": _agency_request_info,
    "supply_info_to_agency": _supply_info_to_agency,
    "post_progress": _record_payload,
    "record_extension": _record_extension,
    "draft_answer": _draft_answer,
    "approve_answer": _approve_answer,
    "send_back_draft": _send_back_draft,
    "submit_answer": _submit_answer,
    "accept_answer": _accept_answer,
    "return_answer": _return_answer,
    "notify": _record_payload,
    "publish": _publish,
    "close": _close,
    "withdraw": _withdraw,
}
_missing = [t for t, tr in WORKFLOW.transitions.items() if not tr.creates and t not in EFFECTS]
assert not _missing, f"operations missing for triggers {_missing}"


def apply_transition(case: Feedback, trigger: str, actor, data: Payload | None = None, *,
                     expected_version: int | None = None, now: datetime | None = None) -> Feedback:
    """Fire ``trigger`` on ``case`` as ``actor`` with the payload ``data``.

    Order of checks: the version the actor saw (stale → :class:`StaleVersion`), the role
    and guards (→ :class:`Forbidden`), the state (→ :class:`Conflict`), the payload
    (→ :class:`InvalidPayload`), the validators (→ :class:`Conflict`). Then the case
    changes, the stage visits follow, and the audit event and outbox rows are written;
    everything is flushed, nothing committed.
    """
    now = now or utcnow()
    if expected_version is not None and case.version != expected_version:
        raise StaleVersion(case.version, case.state)
    transition = WORKFLOW.transitions.get(trigger)
    if transition is None or transition.creates:
        raise Conflict(N_("Thao tác không tồn tại."))
    try:
        WORKFLOW.check(case, trigger, actor)
        payload = _load(transition, data)
        ctx = _resolve(transition, case, payload, now)
        WORKFLOW.check(case, trigger, actor, payload, ctx)
    except TransitionRefused as refused:
        raise from_refusal(refused.refusal) from None
    from_state = case.state
    previous_agency_id = case.agency_id
    audit_data = EFFECTS[trigger](case, payload, actor, ctx, now)
    if transition.target is not None:
        case.state = transition.target
    if case.state not in HANDLING:
        case.info_requested_at = None  # a pending request of the agency ends with its handling
    case.updated_at = now  # also bumps the version when nothing else on the row changed
    _flush(case)
    if transition.target is not None:
        _enter_stage(case, now, trigger, transition.restart_stage, from_state)
    event = _audit(case, trigger, actor, from_state, audit_data, now)
    message = {k: v for k, v in audit_data.items() if isinstance(v, (str, int, type(None)))}
    _write_outbox(case, transition, event, {"trigger": trigger, **message}, previous_agency_id)
    _flush(case)  # the event and its outbox rows together (the relationship orders them)
    return case
