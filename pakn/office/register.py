"""The register book (sổ theo dõi PAKN, domain §6) for a period, as rows and as XLSX.

The rows are read in batches of :data:`BATCH` cases (``yield_per``: a server-side cursor on
PostgreSQL), each batch with one query per related table (events, answers, forwarding
documents, the codes of merged cases' originals), and the XLSX is written row by row by
:mod:`pakn.xlsx` into a file the caller gives; so an export holds one batch in memory whatever
the length of the period (a quarter at 1,000,000 cases is ≈ 25,000 rows, a year ≈ 100,000).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import IO

from flask_babel import format_decimal, gettext
from sqlalchemy import bindparam, select

from workflows.calendar import TZ
from workflows.engine import N_
from workflows.glossary import AnswerOutcome, Channel, Kind, RejectReason, Subject
from workflows.pakn import WORKFLOW

from ..extensions import db
from ..models import Agency, Answer, AuditEvent, Feedback, Field
from ..spreadsheet import safe_texts
from ..xlsx import HEADER, ILLEGAL, TITLE, legal, write_sheet

COLUMNS = [
    N_("STT"), N_("Mã PAKN"), N_("Ngày giờ tiếp nhận"), N_("Kênh"), N_("Người gửi (tên, tổ chức)"),
    N_("Địa chỉ"), N_("Điện thoại"), N_("Thư điện tử"), N_("Tóm tắt"), N_("Loại"), N_("Lĩnh vực"),
    N_("Kết quả phân loại"), N_("Cơ quan được chuyển"), N_("Số, ngày văn bản chuyển"), N_("Hạn xử lý"),
    N_("Ngày trả lời"), N_("Số văn bản trả lời"), N_("Hình thức xử lý"), N_("Ngày thông báo"),
    N_("Ngày công khai"), N_("Đúng/quá hạn"), N_("Ghi chú"),
]
WIDTHS = [5, 18, 16, 14, 24, 30, 13, 24, 40, 18, 16, 20, 26, 20, 11, 11, 16, 22, 11, 11, 14, 24]
CLASSIFY_ACTIONS = ("forward", "handle_in_office", "reject", "merge", "request_info")
#: Cases read per round trip, and per query of their events, answers and documents (an ``IN``
#: list of this many ids; SQLite allows 32,766 parameters).
BATCH = 1000
#: Rows the console's page shows; the XLSX has them all.
PAGE_ROWS = 2000
#: Case rows of one XLSX: a worksheet holds 1,048,576 rows, three of them the title, the period
#: and the header, one kept for the note that the period had more. This is Excel's limit, not
#: a memory one (the export is streamed); the period itself is capped at five years (the view).
SHEET_ROWS = 1_048_576 - 4
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def local_range(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC instants bounding the local days ``start`` … ``end`` (inclusive)."""
    lo = datetime.combine(start, time(0, 0), TZ).astimezone(timezone.utc)
    hi = datetime.combine(end + timedelta(days=1), time(0, 0), TZ).astimezone(timezone.utc)
    return lo, hi


@dataclass
class Register:
    """The first rows of the register of a period (the console's page)."""

    start: date
    end: date
    rows: list[list[str]]
    truncated: bool


@dataclass
class Written:
    """What :func:`write_xlsx` wrote: the number of case rows, and whether the period had more."""

    rows: int
    truncated: bool


def _labels(enum) -> dict[str, str]:
    return {member.value: gettext(member.label) for member in enum}


@lru_cache(maxsize=4096)
def _date_text(ordinal: int) -> str:
    """A local day as ``dd/mm/yyyy``. A period's rows fall on a few hundred days, so each day is
    formatted once (``strftime`` was ≈ 2 µs a call, five calls a row)."""
    return date.fromordinal(ordinal).strftime("%d/%m/%Y")


def _day(moment: datetime | None) -> str:
    return _date_text(moment.astimezone(TZ).toordinal()) if moment else ""


def _minute(moment: datetime | None) -> str:
    """``dd/mm/yyyy HH:MM`` in local time, as ``strftime`` writes it."""
    if not moment:
        return ""
    local = moment.astimezone(TZ)
    return f"{_date_text(local.toordinal())} {local.hour:02}:{local.minute:02}"


CASE_COLUMNS = (
    Feedback.id, Feedback.code, Feedback.received_at, Feedback.channel, Feedback.submitter_name,
    Feedback.submitter_organisation, Feedback.submitter_address, Feedback.submitter_phone,
    Feedback.submitter_email, Feedback.title, Feedback.kind, Feedback.subject, Feedback.field_id,
    Feedback.agency_id, Feedback.state, Feedback.reject_reason_code, Feedback.duplicate_of_id,
    Feedback.withdraw_reason, Feedback.answer_due_at, Feedback.answered_at, Feedback.published_at,
)


def ids_in(column, ids: list[int]):
    """``column IN (…)`` with a batch's ids written into the statement, not bound: 1,000 bound
    parameters cost SQLAlchemy and psycopg ≈ 4 ms of CPU a query to render and convert (three
    queries a batch, ≈ 1 s in a year's register) and the server ≈ 3 ms more to bind. The ids
    are integers read from the database, so nothing typed by a user is written into SQL."""
    return column.in_(bindparam(None, ids, expanding=True, literal_execute=True))


def register_rows(start: date, end: date, now: datetime, limit: int | None = None) -> Iterator[list[str]]:
    """One row per case received in the local period, in order of receipt (at most ``limit``).

    Reads :data:`BATCH` cases at a time, and only the columns the register shows; the agencies'
    and fields' names are read once. Statements: 2 + per batch the cases' fetch and 3 or 4
    queries (events, answers, documents, and the originals of merged cases when there are any).
    """
    lo, hi = local_range(start, end)
    query = (select(*CASE_COLUMNS).where(Feedback.received_at >= lo, Feedback.received_at < hi)
             .order_by(Feedback.received_at, Feedback.id))
    if limit is not None:
        query = query.limit(limit)
    fields = {id_: name for id_, name in db.session.execute(select(Field.id, Field.name))}
    agencies = {id_: name for id_, name, is_office in db.session.execute(
        select(Agency.id, Agency.name, Agency.is_office)) if not is_office}
    channels, kinds, subjects = _labels(Channel), _labels(Kind), _labels(Subject)
    reasons, outcomes = _labels(RejectReason), _labels(AnswerOutcome)
    results = {action: gettext(WORKFLOW.transitions[action].label) for action in CLASSIFY_ACTIONS}
    on_time, late, late_open, in_time = (gettext("Đúng hạn"), gettext("Quá hạn"), gettext("Quá hạn, chưa trả lời"),
                                         gettext("Trong hạn"))
    withdrawn = gettext("Người gửi đã rút")
    n = 0
    with db.session.execute(query.execution_options(yield_per=BATCH)) as result:  # closed if the
        for batch in result.partitions():  # reader stops early (a generator's close)
            ids = [c.id for c in batch]
            classified: dict[int, str] = {}
            notified: dict[int, datetime] = {}
            for feedback_id, action, at in db.session.execute(
                    select(AuditEvent.feedback_id, AuditEvent.action, AuditEvent.at).where(
                        ids_in(AuditEvent.feedback_id, ids), AuditEvent.action.in_(CLASSIFY_ACTIONS + ("notify",)))
                    .order_by(AuditEvent.at, AuditEvent.id)):
                if action == "notify":
                    notified[feedback_id] = at
                else:
                    classified[feedback_id] = action
            answers = {feedback_id: (number, outcome) for feedback_id, number, outcome in db.session.execute(
                select(Answer.feedback_id, Answer.document_number, Answer.outcome).where(
                    ids_in(Answer.feedback_id, ids), Answer.status.in_(("submitted", "accepted")))
                .order_by(Answer.revision))}
            documents = forwarding_documents(ids)
            originals = {c.duplicate_of_id for c in batch if c.state == "merged" and c.duplicate_of_id}
            codes = {id_: code for id_, code in db.session.execute(
                select(Feedback.id, Feedback.code).where(Feedback.id.in_(originals)))} if originals else {}
            # The row's columns unpacked once (by name, a SQLAlchemy row's attribute is ≈ 0.5 µs,
            # thirty of them a case) in the order of CASE_COLUMNS.
            for (id_, code, received_at, channel, name, organisation, address, phone, email, title, kind, subject,
                 field_id, agency_id, state, reject_reason, duplicate_of_id, withdraw_reason, answer_due_at,
                 answered_at, published_at) in batch:
                n += 1
                note = ""
                if state == "rejected":
                    note = reasons.get(reject_reason, reject_reason or "")
                elif state == "merged" and duplicate_of_id:
                    note = gettext("Trùng với %(code)s", code=codes[duplicate_of_id])
                elif state == "withdrawn":
                    note = withdrawn + (f": {withdraw_reason}" if withdraw_reason else "")
                if answered_at and answer_due_at:
                    timeliness = on_time if answered_at <= answer_due_at else late
                elif state in ("rejected", "merged", "withdrawn") or not answer_due_at:
                    timeliness = ""
                elif now > answer_due_at:
                    timeliness = late_open
                else:
                    timeliness = in_time
                kind = kinds.get(kind, kind) if kind else ""
                subject = subjects.get(subject, subject) if subject else ""
                number, outcome = answers.get(id_, ("", None))
                yield [
                    str(n), code, _minute(received_at), channels.get(channel, channel or ""),
                    name + (f" ({organisation})" if organisation else ""), address, phone or "", email or "", title,
                    f"{kind}; {subject}" if kind and subject else kind or subject, fields.get(field_id, ""),
                    results.get(classified.get(id_), ""), agencies.get(agency_id, ""), documents.get(id_, ""),
                    _day(answer_due_at), _day(answered_at), number or "",
                    outcomes.get(outcome, outcome) if outcome else "", _day(notified.get(id_)), _day(published_at),
                    timeliness, note,
                ]


def build_register(start: date, end: date, now: datetime, limit: int = PAGE_ROWS) -> Register:
    """The first ``limit`` rows of the period's register, and whether it has more (the page)."""
    rows = list(register_rows(start, end, now, limit + 1))
    return Register(start, end, rows[:limit], len(rows) > limit)


def forwarding_documents(case_ids: list[int]) -> dict[int, str]:
    """"Số, ngày" of each case's forwarding document, when the documents module made one."""
    from .documents import document_refs

    return document_refs(case_ids)


def write_xlsx(out: IO[bytes], start: date, end: date, now: datetime, province: str,
               limit: int | None = None) -> Written:
    """Write the period's register into ``out`` as an XLSX workbook: a title, the period, the
    header row, one row per case (at most ``limit``, by default :data:`SHEET_ROWS`, then a row
    saying the period had more).

    Rows go into the workbook's zip as they are read (:mod:`pakn.xlsx`; none is kept). Raises
    what the database or the disk raises; then ``out`` holds no usable workbook (its sheet is
    cut short) and the caller discards it.
    """
    limit = SHEET_ROWS if limit is None else limit
    written, truncated = 0, False
    with write_sheet(out, "So theo doi PAKN", WIDTHS, freeze="C4") as sheet:
        sheet.append([gettext("SỔ THEO DÕI PHẢN ÁNH, KIẾN NGHỊ VỀ QUY ĐỊNH HÀNH CHÍNH")], TITLE)
        sheet.append([gettext("Văn phòng UBND tỉnh %(province)s · từ %(start)s đến %(end)s", province=province,
                              start=start.strftime("%d/%m/%Y"), end=end.strftime("%d/%m/%Y"))])
        sheet.append([gettext(name) for name in COLUMNS], HEADER)
        with closing(register_rows(start, end, now, limit + 1)) as rows:
            for row in rows:
                if written == limit:
                    truncated = True
                    break
                # The writer removes characters XML forbids; a text that only starts like a
                # formula once they are gone ("\x01=HYPERLINK(…)") is guarded all the same.
                if ILLEGAL.search("".join(row)):
                    row = [legal(value) for value in row]
                row[1:] = safe_texts(row[1:])
                row[0] = int(row[0])
                sheet.append(row)
                written += 1
        if truncated:
            sheet.append(["", gettext("Kỳ này có hơn %(num)s hồ sơ, quá số dòng tối đa của một trang tính Excel; "
                                      "hãy xuất từng kỳ ngắn hơn.", num=format_decimal(limit))])
    return Written(written, truncated)
