"""The register book (sổ theo dõi PAKN, domain §6) for a period, as rows and as XLSX."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from workflows.calendar import TZ
from workflows.engine import N_
from workflows.glossary import AnswerOutcome, Channel, Kind, RejectReason, Subject

from ..extensions import db
from ..models import Answer, AuditEvent, Feedback
from ..spreadsheet import safe_row
from ..web.filters import localdate, localtime

COLUMNS = [
    N_("STT"), N_("Mã PAKN"), N_("Ngày giờ tiếp nhận"), N_("Kênh"), N_("Người gửi (tên, tổ chức)"),
    N_("Địa chỉ"), N_("Điện thoại"), N_("Thư điện tử"), N_("Tóm tắt"), N_("Loại"), N_("Lĩnh vực"),
    N_("Kết quả phân loại"), N_("Cơ quan được chuyển"), N_("Số, ngày văn bản chuyển"), N_("Hạn xử lý"),
    N_("Ngày trả lời"), N_("Số văn bản trả lời"), N_("Hình thức xử lý"), N_("Ngày thông báo"),
    N_("Ngày công khai"), N_("Đúng/quá hạn"), N_("Ghi chú"),
]
CLASSIFY_ACTIONS = ("forward", "handle_in_office", "reject", "merge", "request_info")
MAX_ROWS = 20000


def _local(moment: datetime | None, with_time: bool = False) -> str:
    return localtime(moment) if with_time else localdate(moment)


def _label(enum, code: str | None) -> str:
    if not code:
        return ""
    for member in enum:
        if member.value == code:
            return gettext(member.label)
    return code


def local_range(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants bounding the local days ``start`` … ``end`` (inclusive)."""
    lo = datetime.combine(start, time(0, 0), TZ).astimezone(timezone.utc)
    hi = datetime.combine(end + timedelta(days=1), time(0, 0), TZ).astimezone(timezone.utc)
    return lo, hi


@dataclass
class Register:
    start: date
    end: date
    rows: list[list[str]]
    truncated: bool


def build_register(start: date, end: date, now: datetime, limit: int = MAX_ROWS) -> Register:
    """One row per case received in the local period, in order of receipt."""
    lo, hi = local_range(start, end)
    cases = db.session.scalars(
        select(Feedback).where(Feedback.received_at >= lo, Feedback.received_at < hi)
        .options(joinedload(Feedback.agency), joinedload(Feedback.field), joinedload(Feedback.duplicate_of))
        .order_by(Feedback.received_at, Feedback.id).limit(limit + 1)).unique().all()
    truncated = len(cases) > limit
    cases = cases[:limit]
    ids = [c.id for c in cases]
    events: dict[int, list[AuditEvent]] = {}
    answers: dict[int, Answer] = {}
    documents: dict[int, str] = {}
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        for e in db.session.scalars(select(AuditEvent).where(
                AuditEvent.feedback_id.in_(chunk), AuditEvent.action.in_(CLASSIFY_ACTIONS + ("notify",)))
                .order_by(AuditEvent.at, AuditEvent.id)):
            events.setdefault(e.feedback_id, []).append(e)
        for a in db.session.scalars(select(Answer).where(
                Answer.feedback_id.in_(chunk), Answer.status.in_(("submitted", "accepted")))
                .order_by(Answer.revision)):
            answers[a.feedback_id] = a
        documents.update(forwarding_documents(chunk))
    rows = []
    for n, c in enumerate(cases, 1):
        evs = events.get(c.id, [])
        classify = [e for e in evs if e.action in CLASSIFY_ACTIONS]
        last = classify[-1] if classify else None
        notified = next((e for e in reversed(evs) if e.action == "notify"), None)
        answer = answers.get(c.id)
        result, note = "", ""
        if last is not None:
            from workflows.pakn import WORKFLOW

            result = gettext(WORKFLOW.transitions[last.action].label)
        if c.state == "rejected":
            note = _label(RejectReason, c.reject_reason_code)
        elif c.state == "merged" and c.duplicate_of:
            note = gettext("Trùng với %(code)s", code=c.duplicate_of.code)
        elif c.state == "withdrawn":
            note = gettext("Người gửi đã rút") + (f": {c.withdraw_reason}" if c.withdraw_reason else "")
        if c.answered_at and c.answer_due_at:
            timeliness = gettext("Đúng hạn") if c.answered_at <= c.answer_due_at else gettext("Quá hạn")
        elif c.state in ("rejected", "merged", "withdrawn") or not c.answer_due_at:
            timeliness = ""
        elif now > c.answer_due_at:
            timeliness = gettext("Quá hạn, chưa trả lời")
        else:
            timeliness = gettext("Trong hạn")
        kind = "; ".join(x for x in (_label(Kind, c.kind), _label(Subject, c.subject)) if x)
        rows.append([
            str(n), c.code, _local(c.received_at, True), _label(Channel, c.channel),
            c.submitter_name + (f" ({c.submitter_organisation})" if c.submitter_organisation else ""),
            c.submitter_address, c.submitter_phone or "", c.submitter_email or "", c.title, kind,
            c.field.name if c.field else "", result,
            c.agency.name if c.agency and not c.agency.is_office else "", documents.get(c.id, ""),
            _local(c.answer_due_at), _local(c.answered_at), answer.document_number or "" if answer else "",
            _label(AnswerOutcome, answer.outcome) if answer else "", _local(notified.at) if notified else "",
            _local(c.published_at), timeliness, note,
        ])
    return Register(start, end, rows, truncated)


def forwarding_documents(case_ids: list[int]) -> dict[int, str]:
    """"Số, ngày" of each case's forwarding document, when the documents module made one."""
    from .documents import document_refs

    return document_refs(case_ids)


def as_xlsx(register: Register, province: str) -> bytes:
    """The register as an XLSX workbook: a title, the header row, one row per case."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "So theo doi PAKN"
    ws.append([gettext("SỔ THEO DÕI PHẢN ÁNH, KIẾN NGHỊ VỀ QUY ĐỊNH HÀNH CHÍNH")])
    ws.append([gettext("Văn phòng UBND tỉnh %(province)s · từ %(start)s đến %(end)s", province=province,
                       start=register.start.strftime("%d/%m/%Y"), end=register.end.strftime("%d/%m/%Y"))])
    ws.append([gettext(c) for c in COLUMNS])
    for cell in ws[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws["A1"].font = Font(bold=True, size=13)
    for row in register.rows:
        ws.append([int(row[0])] + safe_row(row[1:]))
    widths = [5, 18, 16, 14, 24, 30, 13, 24, 40, 18, 16, 20, 26, 20, 11, 11, 16, 22, 11, 11, 14, 24]
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "C4"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
