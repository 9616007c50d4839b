"""/reports/…: choose a period, read the report (HTML with charts), export it, file it.

Office staff and admins see the consolidated report and any agency's; agency staff see
their own agency's only: any other agency, or the consolidated report, is 404.
"""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from workflows.calendar import TZ
from workflows.glossary import Channel

from ..access import can_read_reports, report_scope, sees_all_cases
from ..extensions import db
from ..models import Agency, AuditEvent, ReportFiling
from ..models.report_filing import REPORT_PERIODS
from ..models.types import utcnow
from ..operations import transaction
from . import bp
from .charts import bar_chart
from .export import to_pdf, to_xlsx
from .periods import current_period, due_date, periods_of, report_period
from .stats import COLUMNS, GROUPS, KEYS, REASON_LABELS, compute


def staff(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not can_read_reports(current_user):
            abort(404)
        return view(*args, **kwargs)
    return wrapped


def sees_all() -> bool:
    return sees_all_cases(current_user)


def _scope() -> Agency | None:
    """The agency whose report is asked for (``?agency=``), None for the consolidated report.

    Agency staff get their own agency whatever they ask; asking for another is 404
    (:func:`pakn.access.report_scope`)."""
    raw = request.args.get("agency", "")
    if raw != "" and not raw.isdigit():
        abort(404)
    try:
        return report_scope(current_user, int(raw) if raw else None)
    except LookupError:
        abort(404)


def _period(year: int, period: str):
    if period not in REPORT_PERIODS or not 2000 <= year <= 2100:
        abort(404)
    return report_period(year, period)


class FileForm(FlaskForm):
    """Filing a report: CSRF only."""


@bp.route("/")
@staff
def index():
    today = utcnow().astimezone(TZ).date()
    raw_year = request.args.get("year", "")
    year = int(raw_year) if raw_year.isdigit() and 2000 <= int(raw_year) <= 2100 else today.year
    periods = periods_of(year)
    filings = {}
    agencies = []
    if sees_all():
        agencies = db.session.scalars(select(Agency).where(Agency.active.is_(True))
                                      .order_by(Agency.is_office.desc(), Agency.name)).all()
        query = select(ReportFiling).where(ReportFiling.year == year)
    else:
        agencies = [db.session.get(Agency, current_user.agency_id)]
        query = select(ReportFiling).where(ReportFiling.year == year, ReportFiling.agency_id == current_user.agency_id)
    for filing in db.session.scalars(query):
        filings[(filing.agency_id, filing.period)] = filing
    dues = {p.period: (due_date(p), due_date(p, consolidated=True)) for p in periods}
    return render_template("reports/index.html", year=year, periods=periods, agencies=agencies, filings=filings,
                           dues=dues, current=current_period(today), today=today, sees_all=sees_all(),
                           one_day=timedelta(days=1), tz=TZ)


def _scope_label(agency: Agency | None) -> str:
    return agency.name if agency else _("Toàn tỉnh (báo cáo tổng hợp của Văn phòng UBND tỉnh)")


@bp.route("/<int:year>/<period>/")
@staff
def show(year: int, period: str):
    report_period_ = _period(year, period)
    agency = _scope()
    report = compute(report_period_, agency.id if agency else None)
    channels = [c for c in Channel]
    by_agency = [(b.agency, [b.total["answered_on_time"], b.total["answered_late"], b.total["open_on_time"],
                             b.total["open_late"]]) for b in report.blocks]
    charts = [
        bar_chart(_("PAKN mới tiếp nhận theo kênh"),
                  [(_(c.label), [report.total[f"channel_{c.value}"]]) for c in channels], [_("Số PAKN")]),
        bar_chart(_("Kết quả xử lý theo cơ quan"), by_agency,
                  [_("Trả lời đúng hạn"), _("Trả lời quá hạn"), _("Đang xử lý trong hạn"), _("Đang xử lý quá hạn")]),
    ]
    office = db.session.scalar(select(Agency).where(Agency.is_office.is_(True)))
    filer = agency if agency is not None else office  # the office files the consolidated report
    filing = None
    if filer is not None:
        filing = db.session.scalar(select(ReportFiling).where(
            ReportFiling.agency_id == filer.id, ReportFiling.year == year, ReportFiling.period == period))
    due = due_date(report_period_, consolidated=agency is None or agency.is_office)
    may_file = (filer is not None and filing is None and current_user.agency_id == filer.id
                and (agency is None or not agency.is_office))
    return render_template("reports/show.html", report=report, agency=agency, scope=_scope_label(agency),
                           columns=COLUMNS, groups=GROUPS, keys=KEYS, reasons=REASON_LABELS, charts=charts,
                           filing=filing, due=due, may_file=may_file, form=FileForm(),
                           last_day=report_period_.end - timedelta(days=1), tz=TZ)


def _download(year: int, period: str, kind: str):
    report_period_ = _period(year, period)
    agency = _scope()
    report = compute(report_period_, agency.id if agency else None)
    scope = _scope_label(agency)
    name = f"bao-cao-pakn-{year}-{period}" + (f"-{agency.code}" if agency else "-toan-tinh")
    if kind == "xlsx":
        body, mimetype = to_xlsx(report, scope), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, mimetype = to_pdf(report, scope), "application/pdf"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}.{kind}"', "Cache-Control": "no-store"})


@bp.route("/<int:year>/<period>/report.xlsx")
@staff
def xlsx(year: int, period: str):
    return _download(year, period, "xlsx")


@bp.route("/<int:year>/<period>/report.pdf")
@staff
def pdf(year: int, period: str):
    return _download(year, period, "pdf")


@bp.route("/<int:year>/<period>/file", methods=["POST"])
@staff
def file_report(year: int, period: str):
    """File one's own agency's report (the office files the consolidated one): the figures as of now."""
    report_period_ = _period(year, period)
    if current_user.agency_id is None:
        abort(403)  # an admin belongs to no agency and files nothing
    form = FileForm()
    if not form.validate_on_submit():
        abort(400)
    agency = db.session.get(Agency, current_user.agency_id)
    existing = db.session.scalar(select(ReportFiling).where(
        ReportFiling.agency_id == agency.id, ReportFiling.year == year, ReportFiling.period == period))
    target = url_for("reports.show", year=year, period=period, agency=agency.id)
    if existing is not None:
        flash(_("Báo cáo kỳ này đã được gửi lúc %(at)s.",
                at=existing.filed_at.astimezone(TZ).strftime("%d/%m/%Y %H:%M")), "error")
        return redirect(target)
    if utcnow() < report_period_.starts_at:
        flash(_("Kỳ báo cáo chưa bắt đầu."), "error")
        return redirect(target)
    report = compute(report_period_, None if agency.is_office else agency.id)
    with transaction():
        filing = ReportFiling(agency_id=agency.id, year=year, period=period, filed_by_id=current_user.id,
                              figures=report.total)
        db.session.add(filing)
        db.session.add(AuditEvent(action="report_file", actor_id=current_user.id, actor_role=current_user.role,
                                  actor_label=current_user.full_name,
                                  data={"agency_id": agency.id, "year": year, "period": period}))
    flash(_("Đã gửi báo cáo."), "success")
    return redirect(target)



