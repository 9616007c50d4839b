"""Thin views of the calendar and clock administration: load, check the role, validate, call one
operation inside ``transaction()``, render. Anyone but an admin gets 404 on the admin pages;
the explanation and SLA pages are open to admins and office staff."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from workflows.calendar import DayUnit, DeadlineRule, TZ, explain_due
from workflows.glossary import OFFICE_ROLES, Role
from workflows.pakn import WORKFLOW

from ..extensions import db
from ..models import AuditEvent, CalendarOverlay, ClockSetting, Feedback, StageVisit
from ..models.clock_setting import CLOCK_FIELDS
from ..models.types import utcnow
from ..operations import OperationError, transaction
from ..operations.clock import clock_settings, current_clock_setting, explain_visit, working_calendar
from . import bp
from ..web.converters import row_id
from .admin import (KIND_LABELS, add_overlay_day, import_overlay_year, parse_overlay_csv, remove_overlay_day,
                    save_clock_settings)
from .forms import ClockForm, ConfirmImportForm, DeleteForm, ImportForm, OverlayForm
from .sla import DIMENSIONS, sla_rows, sla_totals

MAX_CSV_BYTES = 64 * 1024


def _roles(*roles):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)  # out of reach: as if it did not exist
            return view(*args, **kwargs)
        return wrapped
    return decorator


admin_only = _roles(Role.ADMIN.value)
overview = _roles(Role.ADMIN.value, *OFFICE_ROLES)


def _error_text(err: OperationError) -> str:
    fields = getattr(err, "fields", None)
    if fields:
        return " ".join(_(m) for messages in fields.values() for m in messages)
    return _(err.message, **err.params)


def _today() -> date:
    return utcnow().astimezone(TZ).date()


# -- calendar ---------------------------------------------------------------------------
@bp.route("/calendar")
@admin_only
def calendar():
    year = request.args.get("year", type=int) or _today().year
    if not 1990 <= year <= 2100:
        abort(404)
    days = working_calendar().year_days(year)
    months = [[d for d in days if d.day.month == m] for m in range(1, 13)]
    entries = db.session.scalars(select(CalendarOverlay).where(
        CalendarOverlay.day >= date(year, 1, 1), CalendarOverlay.day <= date(year, 12, 31))
        .order_by(CalendarOverlay.day)).all()
    history = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("calendar.%"))
                                 .order_by(AuditEvent.id.desc()).limit(20)).all()
    return render_template("deadlines/calendar.html", year=year, months=months, entries=entries,
                           form=OverlayForm(), delete_form=DeleteForm(), kind_labels=KIND_LABELS,
                           working_count=sum(d.working for d in days), history=history)


@bp.route("/calendar/overlay", methods=["POST"])
@admin_only
def add_overlay():
    form = OverlayForm()
    year = form.day.data.year if form.day.data else _today().year
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for(".calendar", year=year))
    try:
        with transaction():
            moved = add_overlay_day(form.day.data, form.kind.data, form.note.data, current_user, utcnow())
    except OperationError as err:
        flash(_error_text(err), "error")
        return redirect(url_for(".calendar", year=year))
    flash(_("Đã thêm ngày %(day)s vào lịch bổ sung; thời hạn của %(n)s PAKN đã được tính lại.",
            day=form.day.data.strftime("%d/%m/%Y"), n=moved), "success")
    return redirect(url_for(".calendar", year=year))


@bp.route("/calendar/overlay/<int:entry_id>/delete", methods=["POST"])
@admin_only
def delete_overlay(entry_id: int):
    DeleteForm().validate_on_submit() or abort(400)
    entry = db.session.get(CalendarOverlay, entry_id) or abort(404)
    day = entry.day
    with transaction():
        moved = remove_overlay_day(entry_id, current_user, utcnow())
    flash(_("Đã xoá ngày %(day)s khỏi lịch bổ sung; thời hạn của %(n)s PAKN đã được tính lại.",
            day=day.strftime("%d/%m/%Y"), n=moved), "success")
    return redirect(url_for(".calendar", year=day.year))


@bp.route("/calendar/import", methods=["GET", "POST"])
@admin_only
def import_calendar():
    form = ImportForm()
    if request.method == "GET":
        form.year.data = form.year.data or _today().year + 1
    preview = confirm = None
    if form.validate_on_submit():
        raw = form.file.data.read(MAX_CSV_BYTES + 1)
        if len(raw) > MAX_CSV_BYTES:
            form.file.errors.append(_("Tệp quá lớn (tối đa 64 KB)."))
        else:
            try:
                content = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                form.file.errors.append(_("Tệp phải là văn bản UTF-8."))
            else:
                preview = parse_overlay_csv(content, form.year.data)
                if preview.ok:
                    confirm = ConfirmImportForm(year=str(form.year.data), content=content)
    status = 422 if request.method == "POST" and (preview is None or not preview.ok) else 200
    return render_template("deadlines/import.html", form=form, preview=preview, confirm=confirm,
                           kind_labels=KIND_LABELS), status


@bp.route("/calendar/import/confirm", methods=["POST"])
@admin_only
def confirm_import():
    form = ConfirmImportForm()
    if not form.validate_on_submit() or not (form.year.data or "").isdigit():
        abort(400)
    try:
        with transaction():
            preview, moved = import_overlay_year(form.content.data or "", int(form.year.data), current_user,
                                                 utcnow())
    except OperationError as err:
        flash(_error_text(err), "error")
        return redirect(url_for(".import_calendar"))
    flash(_("Đã nhập lịch bổ sung năm %(year)s: thêm %(a)s, sửa %(c)s, xoá %(r)s; thời hạn của %(n)s PAKN đã được"
            " tính lại.", year=form.year.data, a=len(preview.added), c=len(preview.changed),
            r=len(preview.removed), n=moved), "success")
    return redirect(url_for(".calendar", year=int(form.year.data)))


# -- explanations -----------------------------------------------------------------------
@bp.route("/calendar/explain")
@overview
def explain():
    """?visit=<id>, ?case=<code> (its open visit, or its latest one), or a what-if computation
    ?start=<yyyy-mm-dd>&days=<n>&unit=<working|calendar>."""
    visit = None
    if request.args.get("visit"):
        visit = db.session.get(StageVisit, request.args.get("visit", type=row_id) or 0) or abort(404)
    elif request.args.get("case"):
        case = db.session.scalar(select(Feedback).where(Feedback.code == request.args["case"].strip())) or abort(404)
        visit = (db.session.scalar(select(StageVisit).where(StageVisit.feedback_id == case.id)
                                   .order_by(StageVisit.finished_at.is_(None).desc(), StageVisit.id.desc())
                                   .limit(1)) or abort(404))
    if visit is not None:
        return render_template("deadlines/explain.html", info=explain_visit(visit), whatif=None,
                               stage_labels={k: s.label for k, s in WORKFLOW.stages.items()})
    whatif, error = None, None
    if request.args.get("start"):
        try:
            start = date.fromisoformat(request.args["start"])
            rule = DeadlineRule(int(request.args.get("days", "")), DayUnit(request.args.get("unit", "working")))
            if rule.days > 366:
                raise ValueError
            event = datetime.combine(start, datetime.min.time().replace(hour=12), TZ)
            whatif = explain_due(working_calendar(), event, rule).as_dict()
        except (ValueError, TypeError):
            error = _("Ngày, số ngày hoặc đơn vị không hợp lệ.")
    return render_template("deadlines/explain.html", info=None, whatif=whatif, error=error,
                           args=request.args), (422 if error else 200)


# -- clock settings ---------------------------------------------------------------------
@bp.route("/clock", methods=["GET", "POST"])
@admin_only
def clock():
    form = ClockForm()
    if request.method == "GET":
        for name, value in clock_settings().items():
            if name in CLOCK_FIELDS:
                getattr(form, name).data = value
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in CLOCK_FIELDS}
        try:
            with transaction():
                row = save_clock_settings(values, form.note.data, current_user, utcnow())
        except OperationError as err:
            flash(_error_text(err), "error")
        else:
            flash(_("Đã lưu phiên bản %(v)s của thời hạn. PAKN đang xử lý giữ quy định cũ; PAKN mới áp dụng"
                    " quy định này.", v=row.id), "success")
            return redirect(url_for(".clock"))
    versions = db.session.scalars(select(ClockSetting).order_by(ClockSetting.id.desc()).limit(50)).all()
    current = current_clock_setting()
    status = 422 if request.method == "POST" else 200
    return render_template("deadlines/clock.html", form=form, versions=versions, current=current,
                           fields=CLOCK_FIELDS), status


# -- SLA --------------------------------------------------------------------------------
@bp.route("/sla")
@overview
def sla():
    today = _today()
    error = None
    try:
        start = date.fromisoformat(request.args["from"]) if request.args.get("from") else today.replace(day=1)
        end = date.fromisoformat(request.args["to"]) if request.args.get("to") else today
        if end < start or end - start > timedelta(days=3660):
            raise ValueError
    except ValueError:
        error = _("Khoảng thời gian không hợp lệ.")
        start, end = today.replace(day=1), today
    by = tuple(d for d in DIMENSIONS if d in request.args.getlist("by")) or DIMENSIONS
    rows = sla_rows(start, end, by=by)
    return render_template("deadlines/sla.html", rows=rows, total=sla_totals(rows), start=start, end=end,
                           by=by, error=error, stage_labels={k: s.label for k, s in WORKFLOW.stages.items()}
                           ), (422 if error else 200)
