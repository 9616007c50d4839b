"""The agency portal's views: load (out of scope → 404), build the form, call one operation, render.

State changes go only through :func:`pakn.operations.apply_transition`; the views hold no
business rule. A refused action re-renders the page with the reason and keeps what was
typed (422 invalid, 403 not allowed for the role, 409 wrong state or stale version).
"""
from __future__ import annotations

import csv
import io
from datetime import datetime

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import func, select

from workflows.calendar import TZ
from workflows.engine import N_
from workflows.glossary import AGENCY_ROLES, AnswerOutcome
from workflows.pakn import HANDLING, WORKFLOW

from .. import reference
from ..access import visible_answers, visible_attachments, visible_cases
from ..extensions import db, login_manager
from ..models import Agency, Answer, Attachment, AuditEvent, Feedback
from ..models.types import utcnow
from ..operations import Conflict, Forbidden, InvalidPayload, StaleVersion, apply_transition, transaction
from ..documents import document_attachment_ids
from ..storage import send_attachment, store_upload, validate_uploads
from ..schemas.action import refusal_message
from ..schemas.base import action_label, coded_label, state_label
from ..text import clean_input
from ..spreadsheet import safe_row
from ..web.errors import translate_tree
from ..web.filters import localdate
from . import bp
from .documents import submit_with_document, visible_documents
from .forms import FORMS, ActionForm, DraftForm, SubmitForm
from .progress import progress_status, statuses
from .queries import (
    DEFAULT_VIEW, VIEWS, BadCursor, agency_officers, counts, export_rows, page, row_views, tab_links,
)
from .stats import dashboard_stats
from .timeline import agency_timeline


# -- access --------------------------------------------------------------------------------
@bp.before_request
def _agency_staff_only():
    """Agency officers and leads only: others are sent to log in (anonymous) or refused (403)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role not in AGENCY_ROLES or current_user.agency_id is None:
        abort(403)
    return None


def _visible_case(code: str) -> Feedback:
    """The case ``code`` if it is the user's agency's now; 404 otherwise (moved cases too)."""
    case = db.session.scalar(visible_cases(current_user).where(Feedback.code == code))
    if case is None:
        abort(404)
    return case


# -- template helpers ------------------------------------------------------------------------


#: Statuses of an answer revision (pakn.models.answer.ANSWER_STATUSES), as people read them.
ANSWER_STATUS_LABELS = {
    "pending_approval": N_("Chờ lãnh đạo duyệt"), "sent_back": N_("Lãnh đạo trả lại để sửa"),
    "approved": N_("Đã duyệt"), "submitted": N_("Đã gửi Văn phòng"),
    "returned": N_("Văn phòng trả lại để xử lý lại"), "accepted": N_("Văn phòng đã chấp nhận"),
}


def _agency_name() -> str:
    """The user's agency's name for the portal's header, kept per process until an agency
    changes (:mod:`pakn.reference`): on the inbox the token comes with the counts' marker, so
    the header costs no statement."""
    agency_id = current_user.agency_id
    return reference.cached(("agency-name", agency_id),
                            lambda: db.session.scalar(select(Agency.name).where(Agency.id == agency_id)))


@bp.context_processor
def _helpers():
    return {"state_label": state_label, "action_label": action_label, "agency_name": _agency_name,
            "outcome_label": lambda code: coded_label(AnswerOutcome, code), "views": VIEWS,
            "answer_status": lambda s: gettext(ANSWER_STATUS_LABELS[s]) if s in ANSWER_STATUS_LABELS else s,
            "stage_labels": {k: s.label for k, s in WORKFLOW.stages.items()}}


# -- inbox ---------------------------------------------------------------------------------
def _view_and_query():
    view = VIEWS.get(request.args.get("view") or DEFAULT_VIEW)
    if view is None:
        abort(404)
    return view, clean_input(request.args.get("q"), 200)


@bp.get("/")
def inbox():
    """The agency's cases in one view, searchable, a page at a time, with every view's count."""
    view, text = _view_and_query()
    now = utcnow()
    try:
        found = page(current_user, view, text, request.args.get("after"), now)
    except BadCursor:
        abort(400)
    return render_template("agency/inbox.html", view=view, q=text, next_cursor=found.next_cursor,
                           rows=row_views(found.rows, statuses(found.rows, found.last_progress, now), now),
                           tabs=tab_links(text), counts=counts(current_user, text, now),
                           after=request.args.get("after"))


@bp.get("/export.csv")
def export():
    """The current view (and search) as CSV: only the agency's cases, no personal data."""
    view, text = _view_and_query()
    now = utcnow()
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 with a BOM
    writer = csv.writer(out)
    writer.writerow([gettext("Mã"), gettext("Tiêu đề"), gettext("Trạng thái"), gettext("Lĩnh vực"),
                     gettext("Ngày tiếp nhận"), gettext("Hạn trả lời"), gettext("Quá hạn"),
                     gettext("Cán bộ xử lý")])
    for case in export_rows(current_user, view, text, now):
        overdue = case.state in HANDLING and case.answer_due_at is not None and case.answer_due_at < now
        writer.writerow(safe_row((
            case.code, case.title, state_label(case.state), case.field.name if case.field else "",
            localdate(case.received_at), localdate(case.answer_due_at),
            gettext("Có") if overdue else "", case.assignee.full_name if case.assignee else "")))
    name = f"pakn-{view.key}-{now.astimezone(TZ).strftime('%Y%m%d')}.csv"
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# -- one case --------------------------------------------------------------------------------
def _prepare(form: ActionForm, trigger: str, case: Feedback) -> ActionForm:
    """Fill a form's choices (officers of the agency, other agencies)."""
    if trigger == "accept":
        form.assignee.choices = [("", gettext("— Tôi nhận xử lý —"))] + [
            (str(u.id), u.full_name) for u in agency_officers(case.agency_id)]
    elif trigger == "return_not_competent":
        agencies = db.session.scalars(select(Agency).where(
            Agency.active.is_(True), Agency.is_office.is_(False), Agency.id != case.agency_id
        ).order_by(Agency.name)).all()
        form.suggested_agency.choices = [("", gettext("— Không đề xuất —"))] + [
            (a.code, a.name) for a in agencies]
    return form


def _fresh_form(trigger: str, case: Feedback) -> ActionForm:
    data = {"version": case.version}
    if trigger == "submit_answer":  # signed by the lead who approved, by default
        answers = _own_answers(case)
        approver = answers[-1].reviewed_by if answers else None
        # The authority is printed on the Vietnamese document: data, not a UI string.
        data.update(signer_name=approver.full_name if approver else "", signer_authority="GIÁM ĐỐC")
    return _prepare(FORMS[trigger](formdata=None, prefix=trigger, data=data), trigger, case)


def _own_answers(case: Feedback) -> list[Answer]:
    """This agency's revisions of the answer (another agency's drafts are not shown)."""
    return visible_answers(current_user, case)


def _visible_attachments(case: Feedback) -> list[Attachment]:
    """The case's files this agency may open (the rule is :func:`pakn.access.visible_attachments`)."""
    return visible_attachments(current_user, case)


@bp.get("/cases/<code>/attachments/<int:attachment_id>")
def attachment(code: str, attachment_id: int):
    """Download one file, only through a visible case that owns it (else 404, whatever the id)."""
    case = _visible_case(code)
    found = next((a for a in _visible_attachments(case) if a.id == attachment_id), None)
    if found is None:
        abort(404)
    return send_attachment(found)


def _render_case(case: Feedback, failed: tuple[str, ActionForm] | None = None, error: str | None = None,
                 status: int = 200):
    now = utcnow()
    availability = [a for a in WORKFLOW.available_transitions(case, current_user) if a.transition.trigger in FORMS]
    forms = {a.transition.trigger: _fresh_form(a.transition.trigger, case)
             for a in availability if a.allowed and a.transition.trigger != "draft_answer"}
    if failed is not None:  # shown even if no longer allowed, so nothing typed is lost
        forms[failed[0]] = failed[1]
    refused = [(a.transition, _refusal_text(a.refusal)) for a in availability if not a.allowed]
    allowed = [a.transition for a in availability if a.allowed]
    return render_template(
        "agency/case.html", case=case, allowed=allowed, refused=refused, forms=forms, error=error,
        failed_trigger=failed[0] if failed else None, answers=_own_answers(case),
        attachments=[a for a in _visible_attachments(case) if a.id not in document_attachment_ids(case)],
        documents=visible_documents(case, current_user.agency),
        timeline=agency_timeline(case, current_user.agency), progress=progress_status(case, now), now=now,
    ), status


def _refusal_text(refusal) -> str:
    return refusal_message(refusal)


@bp.get("/cases/<code>")
def case_page(code: str):
    """The case, its deadlines and stage visits, its timeline, our answers and what we may do."""
    return _render_case(_visible_case(code))


def _draft_form(case: Feedback) -> DraftForm:
    """The draft form, prefilled with our latest revision (to redraft after a send-back or return)."""
    answers = _own_answers(case)
    data = {"version": case.version}
    if answers:
        latest = answers[-1]
        data.update({k: getattr(latest, k) or "" for k in DraftForm.PAYLOAD})
    return DraftForm(formdata=None, prefix="draft_answer", data=data)


def _render_draft(case: Feedback, form: DraftForm, error: str | None = None, status: int = 200):
    availability = next(a for a in WORKFLOW.available_transitions(case, current_user)
                        if a.transition.trigger == "draft_answer")
    answers = _own_answers(case)
    return render_template("agency/draft.html", case=case, form=form, error=error,
                           attachments=[a for a in _visible_attachments(case) if a.answer_id is not None],
                           refusal=None if availability.allowed else _refusal_text(availability.refusal),
                           latest=answers[-1] if answers else None, answers=answers), status


@bp.get("/cases/<code>/draft")
def draft(code: str):
    """The drafting page of the văn bản trả lời (structured parts, rich text allowed)."""
    case = _visible_case(code)
    return _render_draft(case, _draft_form(case))


def _operation_message(err) -> str:
    params = {k: gettext(v) if isinstance(v, str) else v for k, v in err.params.items()}
    return gettext(err.message, **params) if params else gettext(err.message)


@bp.post("/cases/<code>/actions/<trigger>")
def act(code: str, trigger: str):
    """Fire one workflow action from its form, with the case version the form was loaded with."""
    case = _visible_case(code)
    if trigger not in FORMS:
        abort(404)  # classification and routing actions are not the agency's
    form = FORMS[trigger](prefix=trigger)
    if trigger != "draft_answer":
        _prepare(form, trigger, case)
    try:
        version = int(form.version.data or "")
    except ValueError:
        abort(400)
    label = action_label(trigger)
    uploads = form.uploads() if isinstance(form, DraftForm) else []
    problems = validate_uploads(uploads)
    if problems:  # checked before anything is written; nothing typed is lost
        form.set_errors({"attachments": [p.text for p in problems]})
        return _failed(case, trigger, form, gettext("Tệp đính kèm không hợp lệ."), 422)
    signer = form.signer() if isinstance(form, SubmitForm) else None
    if isinstance(signer, dict):
        form.set_errors(translate_tree(signer))
        return _failed(case, trigger, form, gettext("Dữ liệu không hợp lệ."), 422)
    try:
        with transaction():
            if signer is not None:
                submit_with_document(case, current_user, signer, version, utcnow())
            else:
                apply_transition(case, trigger, current_user, form.payload(), expected_version=version)
            if uploads:
                answer = _own_answers(case)[-1]  # the revision just drafted
                for upload in uploads:
                    store_upload(upload, feedback=case, uploaded_by=current_user, answer=answer)
    except InvalidPayload as err:
        form.set_errors(translate_tree(err.fields))
        return _failed(case, trigger, form, _operation_message(err), 422)
    except StaleVersion as err:
        db.session.expire_all()
        current = db.session.scalar(visible_cases(current_user).where(Feedback.code == code))
        if current is None:
            abort(404)  # moved to another agency meanwhile
        form.version.data = str(current.version)  # what is shown now; sending again is a choice
        return _failed(current, trigger, form, _operation_message(err), 409)
    except (Forbidden, Conflict) as err:
        return _failed(case, trigger, form, _operation_message(err), err.status)
    flash(gettext("Đã thực hiện: %(action)s.", action=label), "success")
    if db.session.scalar(visible_cases(current_user).where(Feedback.code == code)) is None:
        return redirect(url_for(".inbox"))  # e.g. returned as not competent: no longer ours
    return redirect(url_for(".case_page", code=code))


def _failed(case: Feedback, trigger: str, form: ActionForm, message: str, status: int):
    if trigger == "draft_answer":
        return _render_draft(case, form, message, status)
    return _render_case(case, (trigger, form), message, status)


# -- dashboard ---------------------------------------------------------------------------------
@bp.get("/dashboard")
def dashboard():
    """Workload, due soon, overdue, the on-time rate this quarter, by officer: own agency only."""
    return render_template("agency/dashboard.html", stats=dashboard_stats(current_user, utcnow()))
