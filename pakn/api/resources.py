"""The API beyond the workflow: intake on behalf, a case's files, documents and answers,
published answers, reference data, reports and plans.

Thin views again: who may see what is :mod:`pakn.access` (the same predicates as the
portals), every state change goes through :mod:`pakn.operations`, every file through
:mod:`pakn.storage`, and the figures come from :mod:`pakn.reports` and :mod:`pakn.plans`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import abort, url_for
from flask_babel import gettext
from marshmallow import ValidationError, fields
from sqlalchemy import select

from workflows.calendar import TZ
from workflows.engine import N_

from ..access import (
    can_read_plans, can_read_reports, report_scope, visible_answers, visible_attachments, visible_documents,
)
from ..extensions import db
from ..models import Agency, Field, Plan, ReportFiling
from ..models.report_filing import REPORT_PERIODS
from ..models.types import utcnow
from ..office.inbox import decode_cursor, encode_cursor
from ..operations import receive_feedback, transaction
from ..plans.dashboard import dashboard, dashboard_window
from ..portal import public
from ..reports.periods import due_date, report_period
from ..reports.stats import COLUMNS, GROUPS, REASON_LABELS, compute
from ..schemas import Receipt, ReceiptSchema
from ..schemas.answer import PublicAnswerQuerySchema, PublicAnswerSchema
from ..schemas.base import OutputSchema
from ..schemas.page import page_of
from ..schemas.attachment import FILE_TYPES, AttachmentSchema, DocumentSchema, IntakeRequestSchema, load_uploads
from ..schemas.case import AnswerSchema
from ..schemas.reference import AgencySchema, FieldSchema
from ..schemas.report import (
    PlanQuerySchema, PlanSchema, PlanSummarySchema, ReportQuerySchema, ReportSchema,
)
from ..storage import send_attachment, store_upload, validate_uploads
from . import bp
from .auth import authenticated_user
from .docs import operation
from .errors import ApiError
from .inputs import json_body, load_query
from .queries import visible_case

PublicAnswerPageSchema = page_of(PublicAnswerSchema, "PublicAnswerPageSchema")
INVALID_UPLOADS = N_("Tệp đính kèm không hợp lệ.")


def _items_of(item, name: str):
    return type(name, (OutputSchema,), {"items": fields.List(fields.Nested(item), required=True)})


AttachmentListSchema = _items_of(AttachmentSchema, "AttachmentListSchema")
DocumentListSchema = _items_of(DocumentSchema, "DocumentListSchema")
AnswerListSchema = _items_of(AnswerSchema, "AnswerListSchema")
FieldListSchema = _items_of(FieldSchema, "FieldListSchema")
AgencyListSchema = _items_of(AgencySchema, "AgencyListSchema")
PlanListSchema = _items_of(PlanSummarySchema, "PlanListSchema")


@dataclass(frozen=True)
class IntakeReceipt(Receipt):
    """A receipt with the files stored along."""

    attachments: tuple = ()


class IntakeReceiptSchema(ReceiptSchema):
    """The receipt of an intake, with the files stored."""

    attachments = fields.Function(
        lambda r: AttachmentSchema(many=True).dump(r.attachments),
        metadata={"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}})


def uploads_of(data: dict) -> list[tuple[str, bytes]]:
    """The base64 files of a JSON body (removed from it), checked by :mod:`pakn.storage`
    before anything is created; 422 with the messages under ``attachments`` otherwise."""
    try:
        files = load_uploads(data)
    except ValidationError as err:
        raise ApiError(422, "invalid_payload", N_("Dữ liệu không hợp lệ."), fields=err.normalized_messages()) from None
    problems = validate_uploads(files)
    if problems:
        raise ApiError(422, "upload_rejected", INVALID_UPLOADS, fields={"attachments": [p.text for p in problems]})
    return files


# -- intake on behalf ---------------------------------------------------------------------------
@bp.post("/cases")
@operation("Intake on the submitter's behalf", tag="cases", body=IntakeRequestSchema,
           responses={201: IntakeReceiptSchema}, errors=(503,),
           description="An item received by post, phone, e-mail, in person or from VPCP, as the office "
                       "console's intake: `received_at` is the real received instant (the deadlines count "
                       "from it), scanned files travel as `attachments: [{filename, content (base64)}]`. "
                       "Office staff only (others: 403). The tracking token is shown this once.")
def intake():
    user = authenticated_user()
    data = json_body(with_files=True)
    files = uploads_of(data)
    with transaction():
        case, token = receive_feedback(data, user, trigger="receive_on_behalf")
        stored = [store_upload(content, feedback=case, uploaded_by=user, filename=name) for name, content in files]
    receipt = IntakeReceiptSchema().dump(IntakeReceipt(case, token, tuple(stored)))
    return receipt, 201, {"Location": url_for(".case_detail", code=case.code)}


# -- a case's files, documents and answers ---------------------------------------------------
@bp.get("/cases/<code>/attachments")
@operation("A case's files the caller may open", tag="files", responses={200: AttachmentListSchema})
def case_attachments(code: str):
    """Uploads, answer files and generated documents' files, as the console or the agency portal
    lists them for the caller (an agency never sees another agency's drafts)."""
    user = authenticated_user()
    case = visible_case(user, code)
    return {"items": AttachmentSchema(many=True).dump(visible_attachments(user, case))}


@bp.get("/cases/<code>/attachments/<int:attachment_id>")
@operation("Download one file", tag="files", responses={200: {"content": {t: {"schema": {
    "type": "string", "format": "binary"}} for t in FILE_TYPES}}},
    description="The stored bytes with the console's headers: the stored Content-Type, "
                "`Content-Disposition: attachment` with an RFC 5987 name, `X-Content-Type-Options: nosniff`, "
                "a sandboxing CSP and `Cache-Control: private, no-store`.")
def case_attachment(code: str, attachment_id: int):
    user = authenticated_user()
    case = visible_case(user, code)
    found = next((a for a in visible_attachments(user, case) if a.id == attachment_id), None)
    if found is None:
        abort(404)
    return send_attachment(found)


@bp.get("/cases/<code>/documents")
@operation("A case's generated documents the caller may open", tag="files", responses={200: DocumentListSchema})
def case_documents(code: str):
    """Forwarding and answer documents (văn bản), each with its DOCX and PDF download links."""
    user = authenticated_user()
    case = visible_case(user, code)
    return {"items": DocumentSchema(many=True).dump(visible_documents(user, case))}


@bp.get("/cases/<code>/answers")
@operation("A case's answer revisions the caller may read", tag="cases", responses={200: AnswerListSchema})
def case_answers(code: str):
    """Every revision for the office; the handling agency's own for an agency. Drafting,
    approval, submission and publication are actions (``POST …/actions/<trigger>``)."""
    user = authenticated_user()
    case = visible_case(user, code)
    return {"items": AnswerSchema(many=True).dump(visible_answers(user, case))}


# -- published answers (public) ---------------------------------------------------------------
@bp.get("/answers")
@operation("Published answers", tag="public", auth="public", query=PublicAnswerQuerySchema,
           responses={200: PublicAnswerPageSchema},
           description="The published (redacted) answers, newest first: words of the text with or without "
                       "diacritics, field, agency, year of publication, kind; keyset paging (`after`). "
                       "No personal data.")
def published_answers():
    params = load_query(PublicAnswerQuerySchema())
    filters = public.Filters(q=params["q"], field=params["field"], agency=params["agency"], year=params["year"],
                             kind=params["kind"])
    per_page = params["per_page"]
    cursor = decode_cursor(params["after"]) if params["after"] else None
    rows = public.published_after(filters, cursor, per_page + 1)
    more = len(rows) > per_page
    rows = rows[:per_page]
    next_cursor = encode_cursor(rows[-1].published_at, rows[-1].id) if more else None
    next_url = url_for(".published_answers", **{**filters.args(), "per_page": per_page, "after": next_cursor}) \
        if more else None
    return {"items": PublicAnswerSchema(many=True).dump(rows), "total": public.published_count(filters),
            "per_page": per_page, "next_cursor": next_cursor, "next": next_url}


@bp.get("/answers/<code>")
@operation("One published answer", tag="public", auth="public", responses={200: PublicAnswerSchema})
def published_answer(code: str):
    row = public.published_one(code[:30])
    if row is None:
        abort(404)
    return PublicAnswerSchema().dump(row)


# -- reference data (public) --------------------------------------------------------------------
@bp.get("/fields")
@operation("The fields (lĩnh vực)", tag="reference", auth="public", responses={200: FieldListSchema})
def field_list():
    rows = db.session.scalars(select(Field).where(Field.active.is_(True)).order_by(Field.name))
    return {"items": FieldSchema(many=True).dump(rows)}


@bp.get("/agencies")
@operation("The agencies (cơ quan)", tag="reference", auth="public", responses={200: AgencyListSchema})
def agency_list():
    rows = db.session.scalars(select(Agency).where(Agency.active.is_(True))
                              .order_by(Agency.is_office.desc(), Agency.name))
    return {"items": AgencySchema(many=True).dump(rows)}


# -- reports and plans ----------------------------------------------------------------------------
@bp.get("/reports/<int:year>/<any(Q1, Q2, Q3, Y):period>")
@operation("A periodic report", tag="reports", query=ReportQuerySchema, responses={200: ReportSchema},
           description="The figures of `/reports/<year>/<period>/`, in the caller's scope: the office "
                       "gets the consolidated report or any agency's (`agency`), an agency only its own.")
def report(year: int, period: str):
    user = authenticated_user()
    params = load_query(ReportQuerySchema())
    if not can_read_reports(user) or period not in REPORT_PERIODS or not 2000 <= year <= 2100:
        abort(404)
    try:
        agency = report_scope(user, params["agency"])
    except LookupError:
        abort(404)
    window = report_period(year, period)
    figures = compute(window, agency.id if agency else None)
    filer = agency or db.session.scalar(select(Agency).where(Agency.is_office.is_(True)))
    filing = None if filer is None else db.session.scalar(select(ReportFiling).where(
        ReportFiling.agency_id == filer.id, ReportFiling.year == year, ReportFiling.period == period))
    return ReportSchema().dump({
        "year": year, "period": period, "title": window.title, "window_start": window.start,
        "window_last_day": window.end - timedelta(days=1), "as_of": figures.as_of,
        "due_date": due_date(window, consolidated=agency is None or agency.is_office),
        "scope": {"agency": {"id": agency.id, "code": agency.code, "name": agency.name} if agency else None,
                  "label": agency.name if agency else gettext(
                      "Toàn tỉnh (báo cáo tổng hợp của Văn phòng UBND tỉnh)")},
        "columns": [{"key": k, "group": g, "group_label": gettext(GROUPS[g]), "label": gettext(label)}
                    for k, g, label in COLUMNS],
        "total": figures.total, "blocks": figures.blocks,
        "reasons": [{"code": c, "label": gettext(REASON_LABELS.get(c, c)), "count": n} for c, n in figures.reasons],
        "filing": filing,
    })


def _plans_reader():
    user = authenticated_user()
    if not can_read_plans(user):
        abort(404)
    return user


@bp.get("/plans")
@operation("The plans (kế hoạch)", tag="plans", responses={200: PlanListSchema}, errors=(404,),
           description="Office staff and admins (others: 404), the plan in force first.")
def plan_list():
    _plans_reader()
    plans = db.session.scalars(select(Plan).order_by(Plan.in_force.desc(), Plan.issued_on.desc(), Plan.id))
    return {"items": PlanSummarySchema(many=True).dump(plans)}


@bp.get("/plans/<int:plan_id>")
@operation("A plan with its tasks and dashboard figures", tag="plans", query=PlanQuerySchema,
           responses={200: PlanSchema},
           description="The tasks of the plan, each with the figures of `/plans/<id>` for the window "
                       "(`year`, `quarter`; default the current year).")
def plan_detail(plan_id: int):
    _plans_reader()
    params = load_query(PlanQuerySchema())
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        abort(404)
    start, end, label = dashboard_window(params["year"], params["quarter"], utcnow().astimezone(TZ).date())
    rows = {row.task.id: row for row in dashboard(plan, (start, end))}
    return PlanSchema(rows, (start, end - timedelta(days=1), label)).dump(plan)
