"""Console pages beyond the inbox and the case: intake on behalf, routing rules, register
book, deadline board with reminders; and the template helpers of the console."""
from __future__ import annotations

import io
import tempfile
from collections import defaultdict
from datetime import date, datetime, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from workflows.calendar import TZ
from workflows.engine import N_
from workflows.glossary import Channel, OFFICE_ROLES, Role
from workflows.payloads import IntakeSchema
from workflows.pakn import WORKFLOW

from ..extensions import db
from ..models import Agency, Attachment, CaseAssignment, Feedback, Field, RoutingRule, StageVisit
from ..models.types import utcnow
from ..operations import InvalidPayload, OperationError, receive_feedback, transaction
from ..operations.admin import audit as admin_audit
from ..operations.reminder import remind_agency
from ..storage import send_attachment, store_upload, validate_uploads
from . import bp
from .actions import error_message
from .forms import build_fields, field_errors, form_values, payload_from_form
from .inbox import URGENCY_LABELS, urgency
from .register import COLUMNS, PAGE_ROWS, XLSX_MIMETYPE, build_register, write_xlsx


# -- template helpers ---------------------------------------------------------------------------
@bp.app_context_processor
def _helpers():
    def coded_label(enum, code):
        for member in enum:
            if member.value == code:
                return member.label
        return code or ""

    def channel_label(code):
        return coded_label(Channel, code)

    return {"coded_label": coded_label, "channel_label": channel_label}


# -- intake on behalf ---------------------------------------------------------------------------
INTAKE_ORDER = ("channel", "received_at", "original_received_at", "external_ref", "kind", "subject",
                "content_category", "field", "title", "content", "proposal", "submitter_name",
                "submitter_organisation", "submitter_address", "submitter_phone", "submitter_email")
DATETIME_FIELDS = ("received_at", "original_received_at")


def _aware(raw: str) -> str:
    """A ``datetime-local`` value (local time, no zone) as an ISO instant in Asia/Ho_Chi_Minh."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return raw
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TZ)
    return moment.isoformat()


def _intake_fields(values: dict, errors: dict | None = None):
    fields = {f.name: f for f in build_fields(IntakeSchema, None, values, errors)}
    fields["channel"].options = [(c, label) for c, label in fields["channel"].options if c not in ("web", "api")]
    return [fields[n] for n in INTAKE_ORDER if n in fields]


@bp.route("/intake", methods=["GET", "POST"])
def intake():
    """Enter an item received by post, phone, e-mail, in person or from VPCP; its real received
    date starts the deadlines."""
    if request.method == "GET":
        now_local = utcnow().astimezone(TZ).strftime("%Y-%m-%dT%H:%M")
        return render_template("office/intake.html", fields=_intake_fields(
            {"channel": "post", "received_at": now_local, "kind": "phan_anh"}))
    values = form_values(IntakeSchema, request.form)
    payload = payload_from_form(IntakeSchema, request.form)
    for name in DATETIME_FIELDS:
        if name in payload:
            payload[name] = _aware(payload[name])
    files = request.files.getlist("attachments")
    problems = validate_uploads(files)  # before anything is created: nothing half-stored
    if problems:
        return render_template("office/intake.html", fields=_intake_fields(values),
                               upload_errors=[p.text for p in problems],
                               notice=gettext("Tệp đính kèm không hợp lệ; hãy chọn lại tệp.")), 422
    try:
        with transaction():
            case, token = receive_feedback(payload, current_user, trigger="receive_on_behalf")
            stored = [store_upload(f, feedback=case, uploaded_by=current_user)
                      for f in files if f and f.filename]
    except InvalidPayload as err:
        return render_template("office/intake.html", fields=_intake_fields(values, field_errors(err.fields)),
                               upload_errors=field_errors(err.fields).get("attachments", []),
                               notice=error_message(err)), 422
    except OperationError as err:
        return render_template("office/intake.html", fields=_intake_fields(values),
                               notice=error_message(err)), err.status
    return render_template("office/intake_done.html", case=case, token=token, stored=stored)


@bp.get("/cases/<code>/attachments/<int:attachment_id>")
def attachment(code: str, attachment_id: int):
    """A file of a case, only through this view: the case must be visible and own the file."""
    from ..access import visible_cases

    case = db.session.scalar(visible_cases(current_user).where(Feedback.code == code))
    row = db.session.get(Attachment, attachment_id)
    if case is None or row is None or row.feedback_id != case.id:
        abort(404)
    return send_attachment(row)


# -- routing rules ------------------------------------------------------------------------------
def _manager_only() -> None:
    if current_user.role not in (Role.OFFICE_LEAD.value, Role.ADMIN.value):
        abort(404)


def _audit_rule(action: str, rule: RoutingRule) -> None:
    admin_audit(action, current_user, {"rule": rule.id, "kind": rule.kind, "agency": rule.agency_id,
                                       "field": rule.field_id, "keyword": rule.keyword, "active": rule.active,
                                       "priority": rule.priority})


def _rules_page(errors: list[str] | None = None, values: dict | None = None, status: int = 200):
    rules = db.session.scalars(select(RoutingRule).options(joinedload(RoutingRule.agency), joinedload(RoutingRule.field))
                               .order_by(RoutingRule.active.desc(), RoutingRule.priority.desc(), RoutingRule.id)).all()
    agencies = db.session.scalars(select(Agency).where(Agency.active.is_(True), Agency.is_office.is_(False))
                                  .order_by(Agency.name)).all()
    fields = db.session.scalars(select(Field).where(Field.active.is_(True)).order_by(Field.name)).all()
    return render_template("office/rules.html", rules=rules, agencies=agencies, fields=fields,
                           errors=errors or [], values=values or {}), status


@bp.get("/routing-rules")
def routing_rules():
    _manager_only()
    return _rules_page()


@bp.post("/routing-rules")
def routing_rule_add():
    _manager_only()
    form = request.form
    errors = []
    kind = form.get("kind")
    agency = db.session.scalar(select(Agency).where(Agency.code == form.get("agency", ""), Agency.active.is_(True),
                                                    Agency.is_office.is_(False)))
    if agency is None:
        errors.append(gettext("Chọn cơ quan được gợi ý."))
    field = keyword = None
    if kind == "field":
        field = db.session.scalar(select(Field).where(Field.code == form.get("field", "")))
        if field is None:
            errors.append(gettext("Chọn lĩnh vực."))
    elif kind == "keyword":
        keyword = (form.get("keyword") or "").strip()
        if not 2 <= len(keyword) <= 100:
            errors.append(gettext("Từ khóa phải có từ 2 đến 100 ký tự."))
    else:
        errors.append(gettext("Chọn loại quy tắc."))
    priority = form.get("priority", "0").strip() or "0"
    if not priority.lstrip("-").isdigit() or not -100 <= int(priority) <= 100:
        errors.append(gettext("Độ ưu tiên là số nguyên từ -100 đến 100."))
    if errors:
        return _rules_page(errors, form.to_dict(), 422)
    with transaction():
        rule = RoutingRule(kind=kind, field=field, agency=agency, priority=int(priority),
                           created_by_id=current_user.id, active=True)
        rule.set_keyword(keyword)
        db.session.add(rule)
        db.session.flush()
        _audit_rule("routing_rule_add", rule)
    flash(gettext("Đã thêm quy tắc phân loại."), "info")
    return redirect(url_for(".routing_rules"))


@bp.post("/routing-rules/<int:rule_id>/toggle")
def routing_rule_toggle(rule_id: int):
    _manager_only()
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        abort(404)
    with transaction():
        rule.active = not rule.active
        _audit_rule("routing_rule_toggle", rule)
    flash(gettext("Đã bật quy tắc.") if rule.active else gettext("Đã tắt quy tắc."), "info")
    return redirect(url_for(".routing_rules"))


# -- register book ------------------------------------------------------------------------------
def _period() -> tuple[date, date, list[str]]:
    today = utcnow().astimezone(TZ).date()
    errors = []
    try:
        start = date.fromisoformat(request.args["from"]) if request.args.get("from") else today.replace(day=1)
        end = date.fromisoformat(request.args["to"]) if request.args.get("to") else today
    except ValueError:
        errors.append(gettext("Ngày không hợp lệ; hiển thị tháng này."))
        start, end = today.replace(day=1), today
    if end < start:
        errors.append(gettext("Ngày kết thúc trước ngày bắt đầu; đã đổi chỗ hai ngày."))
        start, end = end, start
    if (end - start).days > 366 * 5:
        errors.append(gettext("Kỳ tối đa 5 năm; đã rút ngắn."))
        start = end - timedelta(days=366 * 5)
    return start, end, errors


@bp.get("/register")
def register():
    start, end, errors = _period()
    book = build_register(start, end, utcnow(), limit=PAGE_ROWS)
    return render_template("office/register.html", book=book, columns=COLUMNS, errors=errors)


#: An export this small stays in memory; a larger one goes to an unnamed file on disk.
XLSX_SPOOL_BYTES = 1024 * 1024


@bp.get("/register.xlsx")
def register_xlsx():
    """The whole register of the period as XLSX, written to a temporary file and sent from it."""
    start, end, _ = _period()
    out = tempfile.SpooledTemporaryFile(max_size=XLSX_SPOOL_BYTES)  # the response closes it
    try:
        write_xlsx(out, start, end, utcnow(), current_app.config["PROVINCE_NAME"])
        size = out.seek(0, io.SEEK_END)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    name = f"so-theo-doi-pakn_{start.isoformat()}_{end.isoformat()}.xlsx"
    response = send_file(out, mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=name,
                         conditional=False, etag=False, max_age=None)
    response.content_length = size
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# -- deadline board -----------------------------------------------------------------------------
BUCKETS = ("overdue", "today", "week", "later")


def _bucket(visit: StageVisit, now: datetime) -> str:
    today = now.astimezone(TZ).date()
    if visit.due_at < now:
        return "overdue"
    if visit.due_date == today:
        return "today"
    if visit.due_date <= today + timedelta(days=6 - today.weekday()):
        return "week"
    return "later"


@bp.get("/board")
def board():
    """Open stages by agency and by office clerk: overdue, due today, due this week."""
    now = utcnow()
    rows = db.session.execute(
        select(StageVisit, Feedback, CaseAssignment.clerk_id)
        .join(Feedback, Feedback.id == StageVisit.feedback_id)
        .outerjoin(CaseAssignment, CaseAssignment.feedback_id == Feedback.id)
        .where(StageVisit.finished_at.is_(None), StageVisit.due_at.is_not(None))
        .options(joinedload(StageVisit.feedback))
        .order_by(StageVisit.due_at, StageVisit.id)).all()
    by_agency: dict[int, dict] = {}
    by_clerk: dict[int | None, dict] = {}
    agencies = {a.id: a for a in db.session.scalars(select(Agency))}
    from ..models import User

    clerks = {u.id: u for u in db.session.scalars(select(User).where(User.role.in_(OFFICE_ROLES)))}
    for visit, case, clerk_id in rows:
        bucket = _bucket(visit, now)
        agency = agencies.get(visit.agency_id)
        target = by_clerk if agency is not None and agency.is_office else by_agency
        key = clerk_id if target is by_clerk else visit.agency_id
        group = target.setdefault(key, {"counts": defaultdict(int), "rows": []})
        group["counts"][bucket] += 1
        if bucket != "later":
            group["rows"].append((visit, case, bucket))
    return render_template(
        "office/board.html", now=now, buckets=BUCKETS, urgency=urgency, urgency_labels=URGENCY_LABELS,
        by_agency=sorted(by_agency.items(), key=lambda kv: (-kv[1]["counts"]["overdue"],
                                                           agencies[kv[0]].name if kv[0] in agencies else "")),
        by_clerk=sorted(by_clerk.items(), key=lambda kv: (kv[0] is None, -kv[1]["counts"]["overdue"])),
        agencies=agencies, clerks=clerks, workflow=WORKFLOW,
        bucket_labels={"overdue": N_("Quá hạn"), "today": N_("Hạn hôm nay"), "week": N_("Hạn trong tuần"),
                       "later": N_("Còn hạn")})


@bp.post("/board/remind/<int:visit_id>")
def remind(visit_id: int):
    """One click: an ``agency.reminder`` outbox row for this open stage."""
    visit = db.session.get(StageVisit, visit_id)
    if visit is None:
        abort(404)
    agency = db.session.get(Agency, visit.agency_id) if visit.agency_id else None
    try:
        if agency is None or agency.is_office:
            raise OperationError(N_("Chỉ nhắc được cơ quan đang xử lý hồ sơ."))
        with transaction():
            remind_agency(visit, current_user)
    except OperationError as err:
        flash(error_message(err), "error")
    else:
        flash(gettext("Đã gửi nhắc việc tới %(agency)s về hồ sơ %(code)s.", agency=agency.name,
                      code=visit.feedback.code), "info")
    return redirect(url_for(".board"))


@bp.post("/board/remind-agency/<int:agency_id>")
def remind_all(agency_id: int):
    """One click: a reminder for every overdue or due-this-week stage of one agency."""
    agency = db.session.get(Agency, agency_id)
    if agency is None or agency.is_office:
        abort(404)
    now = utcnow()
    visits = db.session.scalars(select(StageVisit).where(
        StageVisit.agency_id == agency_id, StageVisit.finished_at.is_(None),
        StageVisit.due_at.is_not(None))).all()
    due = [v for v in visits if _bucket(v, now) != "later"]
    with transaction():
        for visit in due:
            remind_agency(visit, current_user, now=now)
    flash(ngettext_count(len(due), agency.name), "info")
    return redirect(url_for(".board"))


def ngettext_count(n: int, agency: str) -> str:
    from flask_babel import ngettext

    return ngettext("Đã gửi %(num)d nhắc việc tới %(agency)s.", "Đã gửi %(num)d nhắc việc tới %(agency)s.",
                    n, agency=agency)
