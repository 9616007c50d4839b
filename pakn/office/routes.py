"""The office console's pages. Views are thin: load (404 when absent), call one operation
per case inside :func:`pakn.operations.transaction`, render."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workflows.calendar import Deadline
from workflows.engine import N_
from workflows.glossary import AnswerOutcome, Channel, ContentCategory, Kind, RejectReason, Subject
from workflows.pakn import CLASSIFIABLE, WORKFLOW

from ..access import visible_cases
from ..documents import documents_of
from ..extensions import db
from ..models import Agency, Answer, Attachment, AuditEvent, CaseAssignment, Feedback, SavedFilter, User
from ..models.types import utcnow
from ..operations import transaction
from ..richtext import plain_text
from ..schemas.action import refusal_message
from . import bp
from .actions import Outcome, assign, fire, stale_message
from .forms import ANSWER_STATUS_LABELS, LABELS, build_fields, defaults_for, form_values, payload_from_form
from .inbox import (
    URGENCY_LABELS, FILTER_KEYS, case_links, choices, inbox_page, labels as inbox_labels,
    next_case as find_next_case, office_clerks, parse_filter, row_views, urgency,
)
from .redaction import find_personal_data, proposal
from .suggestions import suggest

EXTRA_ACTIONS = {"assign_clerk": N_("Phân công cán bộ Văn phòng"), "remind_agency": N_("Nhắc việc cơ quan"),
                 "document.issued": N_("Ban hành văn bản"),
                 "agency_merged": N_("Chuyển sang cơ quan tiếp nhận khi sáp nhập")}
#: The triggers the console offers first, in this order, when they are available.
PRIMARY = ("forward", "accept_answer", "notify", "publish", "close", "handle_in_office", "return_answer")


def _visible(code: str) -> Feedback:
    case = db.session.scalar(visible_cases(current_user).where(Feedback.code == code))
    if case is None:
        abort(404)
    return case


def _version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() else None


def _list_args() -> str:
    """The inbox filter the user came from (carried along so "next case" stays in that list)."""
    pairs = [(k, v) for k, v in parse_qsl(request.values.get("list", ""), keep_blank_values=False)
             if k in FILTER_KEYS]
    return urlencode(pairs)


# -- inbox ------------------------------------------------------------------------------------
@bp.get("/")
def inbox():
    f = parse_filter(request.args)
    now = utcnow()
    page = inbox_page(current_user, f, now)
    saved = db.session.scalars(select(SavedFilter).where(SavedFilter.user_id == current_user.id)
                               .order_by(SavedFilter.name)).all()
    list_qs = f.query_string()
    labels = inbox_labels()
    return render_template("office/inbox.html", f=f, page=page, now=now, labels=labels, saved=saved,
                           list_qs=list_qs, rows=row_views(page.rows, labels, case_links(list_qs)),
                           workflow=WORKFLOW, **choices())


@bp.post("/filters")
def save_filter():
    name = (request.form.get("name") or "").strip()
    query = urlencode([(k, v) for k, v in parse_qsl(request.form.get("query", "")) if k in FILTER_KEYS])
    if not name or len(name) > 100:
        flash(gettext("Tên bộ lọc phải có từ 1 đến 100 ký tự."), "error")
        return redirect(url_for(".inbox") + ("?" + query if query else ""))
    try:
        with transaction():
            row = db.session.scalar(select(SavedFilter).where(SavedFilter.user_id == current_user.id,
                                                              SavedFilter.name == name))
            if row is None:
                db.session.add(SavedFilter(user_id=current_user.id, name=name, query=query))
            else:
                row.query = query
    except IntegrityError:
        flash(gettext("Bộ lọc «%(name)s» đã tồn tại.", name=name), "error")
    else:
        flash(gettext("Đã lưu bộ lọc «%(name)s».", name=name), "info")
    return redirect(url_for(".inbox") + ("?" + query if query else ""))


@bp.post("/filters/<int:filter_id>/delete")
def delete_filter(filter_id: int):
    row = db.session.get(SavedFilter, filter_id)
    if row is None or row.user_id != current_user.id:
        abort(404)
    name = row.name
    with transaction():
        db.session.delete(row)
    flash(gettext("Đã xóa bộ lọc «%(name)s».", name=name), "info")
    return redirect(url_for(".inbox"))


@bp.post("/bulk")
def bulk():
    """Forward several cases to one agency, or assign them to one clerk: one transaction per
    case, and a report of which succeeded and which were refused, and why."""
    action = request.form.get("action")
    picked = request.form.getlist("case")
    list_qs = _list_args()
    if action not in ("forward", "assign") or not picked:
        flash(gettext("Chọn ít nhất một hồ sơ và một thao tác."), "error")
        return redirect(url_for(".inbox") + ("?" + list_qs if list_qs else ""))
    outcomes: list[Outcome] = []
    clerk = None
    if action == "assign":
        clerk_id = request.form.get("clerk", "")
        clerk = db.session.get(User, int(clerk_id)) if clerk_id.isdigit() else None
    for item in picked[:200]:
        code, _, version = item.partition(":")
        case = db.session.scalar(visible_cases(current_user).where(Feedback.code == code))
        if case is None:
            continue
        expected = int(version) if version.isdigit() else None
        if action == "forward":
            payload = {"agency": request.form.get("agency", ""),
                       "subject": case.subject or request.form.get("subject") or None,
                       "content_category": case.content_category or request.form.get("content_category") or None,
                       "field": (case.field.code if case.field else None) or request.form.get("field") or None}
            outcomes.append(fire(case, "forward", current_user, {k: v for k, v in payload.items() if v},
                                 expected))
        else:
            outcomes.append(assign(case, clerk, current_user, expected))
    return render_template("office/bulk_result.html", outcomes=outcomes, action=action, list_qs=list_qs,
                           labels=LABELS)


# -- case page ----------------------------------------------------------------------------------
def _explain(visit) -> dict | None:
    if not visit.explanation:
        return None
    try:
        deadline = Deadline.from_dict(visit.explanation)
    except (KeyError, ValueError, TypeError):
        return {"text": visit.explanation.get("explanation", ""), "skipped": [], "extra": []}
    return {"text": deadline.explain(), "rule": deadline.rule.describe(), "skipped": deadline.skipped,
            "extra": deadline.counted_extra}


def _action_label(action: str) -> str:
    if action in WORKFLOW.transitions:
        return WORKFLOW.transitions[action].label
    return EXTRA_ACTIONS.get(action, action)


def case_context(case: Feedback, *, values: dict | None = None, errors: dict | None = None,
                 open_trigger: str | None = None, notice: str | None = None, findings=None) -> dict:
    now = utcnow()
    availabilities = WORKFLOW.available_transitions(case, current_user)
    allowed = sorted([a for a in availabilities if a.allowed],
                     key=lambda a: PRIMARY.index(a.transition.trigger) if a.transition.trigger in PRIMARY else 99)
    refused = [(a.transition, refusal_message(a.refusal)) for a in availabilities if not a.allowed]
    answers = db.session.scalars(select(Answer).where(Answer.feedback_id == case.id)
                                 .order_by(Answer.revision.desc())).all()
    latest_answer = answers[0] if answers else None
    suggestions = suggest(case) if case.state in CLASSIFIABLE else None
    redaction = None
    forms = []
    for a in allowed:
        t = a.transition
        start = defaults_for(t, case)
        if t.trigger == "forward" and suggestions and suggestions.best_agency:
            start["agency"] = suggestions.best_agency.code
        if t.trigger == "publish":
            redaction = proposal(case, plain_text(latest_answer.body) if latest_answer else None)
            start.update({k: v[0] for k, v in redaction.items()})
        mine = t.trigger == open_trigger
        forms.append({"transition": t, "fields": build_fields(t.schema, case, values if mine else start,
                                                              errors if mine else None),
                      "open": mine})
    # The expected next step opens (and takes the focus); a side path such as a withdrawal never does.
    if forms and not any(f["open"] for f in forms) and forms[0]["transition"].trigger in PRIMARY:
        forms[0]["open"] = True
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.feedback_id == case.id)
                                .order_by(AuditEvent.at, AuditEvent.id)).all()
    visits = list(case.stage_visits)
    agency_ids = {v.agency_id for v in visits if v.agency_id}
    visit_agencies = {a.id: a for a in db.session.scalars(select(Agency).where(Agency.id.in_(agency_ids)))}
    assignment = db.session.get(CaseAssignment, case.id)
    documents = documents_of(case)
    document_files = {i for d in documents for i in (d.docx_attachment_id, d.pdf_attachment_id)}
    return {
        "case": case, "now": now, "forms": forms, "refused": refused, "answers": answers,
        "attachments": [a for a in db.session.scalars(select(Attachment).where(Attachment.feedback_id == case.id)
                                                      .order_by(Attachment.id)) if a.id not in document_files],
        "documents": documents,
        "events": events, "visits": [(v, urgency(v, now), _explain(v), visit_agencies.get(v.agency_id)) for v in visits],
        "urgency_labels": URGENCY_LABELS, "suggestions": suggestions, "redaction": redaction,
        "findings": findings, "notice": notice, "workflow": WORKFLOW, "labels": LABELS,
        "answer_status": ANSWER_STATUS_LABELS,
        "action_label": _action_label, "assignment": assignment, "clerks": office_clerks(),
        "list_qs": _list_args(), "coded": {"kind": Kind, "subject": Subject, "content_category": ContentCategory,
                                           "channel": Channel, "reject_reason_code": RejectReason, "reason_code": RejectReason,
                                           "outcome": AnswerOutcome},
    }


@bp.get("/cases/<code>")
def case_page(code: str):
    case = _visible(code)
    return render_template("office/case.html", **case_context(case))


@bp.get("/cases/<code>/next")
def next_case(code: str):
    """One click to the next case of the list the user is working through."""
    case = _visible(code)
    f = parse_filter(request.args)
    following = find_next_case(current_user, f, case, utcnow())
    qs = f.query_string()
    if following is None:
        flash(gettext("Đã hết hồ sơ trong danh sách."), "info")
        return redirect(url_for(".inbox") + ("?" + qs if qs else ""))
    return redirect(url_for(".case_page", code=following.code, list=qs or None))


@bp.post("/cases/<code>/actions/<trigger>")
def case_action(code: str, trigger: str):
    case = _visible(code)
    transition = WORKFLOW.transitions.get(trigger)
    if transition is None or transition.creates:
        abort(404)
    values = form_values(transition.schema, request.form)
    payload = payload_from_form(transition.schema, request.form)
    if _version() is None:  # every action form posts the version it was built from
        return render_template("office/case.html", **case_context(
            case, values=values, open_trigger=trigger, notice=stale_message(case))), 409
    if trigger == "publish" and not request.form.get("confirm_redaction"):
        left = {name: find_personal_data(payload.get(name, ""), case)
                for name in ("public_title", "public_summary", "public_answer")}
        if any(left.values()):
            notice = gettext("Văn bản công khai vẫn còn dữ liệu cá nhân. Hãy che đi, hoặc đánh dấu xác nhận "
                             "rằng phần được tìm thấy không phải dữ liệu cá nhân.")
            return render_template("office/case.html", **case_context(
                case, values=values, open_trigger=trigger, notice=notice, findings=left)), 422
    outcome = fire(case, trigger, current_user, payload, _version())
    if not outcome.ok:
        status = 409 if outcome.stale or outcome.fields is None else 422
        return render_template("office/case.html", **case_context(
            case, values=values, errors=outcome.fields, open_trigger=trigger, notice=outcome.message)), status
    flash(gettext("Đã thực hiện «%(action)s» cho hồ sơ %(code)s.", action=gettext(transition.label),
                  code=case.code), "info")
    list_qs = _list_args()
    if request.form.get("then") == "next":
        return redirect(url_for(".next_case", code=case.code) + ("?" + list_qs if list_qs else ""))
    return redirect(url_for(".case_page", code=case.code, list=list_qs or None))


@bp.post("/cases/<code>/assign")
def case_assign(code: str):
    case = _visible(code)
    clerk_id = request.form.get("clerk", "")
    clerk = db.session.get(User, int(clerk_id)) if clerk_id.isdigit() else None
    outcome = assign(case, clerk, current_user, _version())
    if not outcome.ok:
        status = 409 if outcome.stale or outcome.fields is None else 422
        return render_template("office/case.html", **case_context(case, notice=outcome.message)), status
    flash(gettext("Đã phân công %(name)s theo dõi hồ sơ %(code)s.", name=clerk.full_name, code=case.code), "info")
    return redirect(url_for(".case_page", code=case.code, list=_list_args() or None))


from . import routes_more  # noqa: E402,F401
