"""Batches of items forwarded down by the Government Office (VPCP), from CSV or JSON.

:func:`parse_batch` reads a file into rows, each checked on its own (our format, the intake
payload schema, the field, the dates, duplicates in the file, items already imported), for a
preview. :func:`import_batch` then creates one case per good row through
:func:`pakn.operations.receive_feedback` (trigger ``receive_on_behalf``, channel ``vpcp``),
**one transaction per row**, so a bad row never stops the others, and writes one audit event
for the whole run. Items are unique by ``(channel, external_ref)`` (a database constraint),
so importing the same file twice creates each case once: the second run reports the rows as
already imported.

The format (the README has examples): one item per CSV row (a header row with these column
names, UTF-8, comma-separated) or per object of a JSON list (or ``{"items": [...]}``):

``external_id`` (required)       the national system's reference, e.g. ``VPCP-2026-001234``
``original_received_at`` (req.)  when the Government Office received it
``received_at`` (required)       when the province received it: the deadlines count from it
``kind`` (required)              ``phan_anh``/``kien_nghi`` (or «Phản ánh»/«Kiến nghị»)
``title``, ``content`` (req.)    as the submitter wrote them
``proposal``                     required for a kiến nghị
``field``                        a field (lĩnh vực) code, optional
``submitter_name``, ``submitter_address`` (required), ``submitter_organisation``,
``submitter_phone``, ``submitter_email`` (one of the two required)
``attachment_urls``              links to the attachments in the national system, separated
                                 by spaces or ``;`` (a list in JSON): listed on the case as
                                 references, never fetched

Dates are ``dd/mm/yyyy`` or ``yyyy-mm-dd``, optionally followed by a time ``HH:MM``, in the
province's time zone, or an ISO 8601 instant with its offset.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workflows.calendar import TZ
from workflows.engine import N_
from workflows.glossary import Channel, Kind
from workflows.payloads import IntakeSchema

from .extensions import db
from .models import AuditEvent, Feedback, Field
from .models.types import utcnow
from .operations import InvalidPayload, OperationError, receive_feedback, transaction
from .operations.feedback import _actor_fields
from .text import fold

COLUMNS = ("external_id", "original_received_at", "received_at", "kind", "title", "content", "proposal",
           "field", "submitter_name", "submitter_organisation", "submitter_address", "submitter_phone",
           "submitter_email", "attachment_urls")
REQUIRED_COLUMNS = ("external_id", "original_received_at", "received_at", "kind", "title", "content",
                    "submitter_name", "submitter_address")
#: Largest file (bytes) and number of items in one batch.
MAX_BATCH_BYTES = 400_000
MAX_BATCH_ROWS = 1000
_KIND_WORDS = {fold("Phản ánh"): Kind.PHAN_ANH.value, fold("Kiến nghị"): Kind.KIEN_NGHI.value}
_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2}))?$")

#: The statuses of a row: would be created / was created, already imported, refused.
NEW, CREATED, ALREADY, ERROR = "new", "created", "already", "error"


@dataclass
class RowProblem:
    """One problem of a row: the column it concerns (None: the whole row), a msgid and its params."""

    column: str | None
    message: str
    params: dict = field(default_factory=dict)

    def text(self, translate=lambda s: s) -> str:
        message = translate(self.message)
        return message % self.params if self.params else message


@dataclass
class BatchRow:
    line: int  # the CSV line or the JSON item's position (from 1)
    external_id: str | None
    title: str | None
    payload: dict | None = None
    status: str = NEW
    problems: list[RowProblem] = field(default_factory=list)
    code: str | None = None  # the case created or found

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class BatchPreview:
    """A parsed batch: its rows, and problems of the file itself (then nothing is imported)."""

    format: str
    rows: list[BatchRow] = field(default_factory=list)
    errors: list[RowProblem] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError
    return value.strip() or None


def parse_moment(raw: str | None) -> datetime | None:
    """A date (start of that local day), local date and time, or ISO instant; None if unreadable."""
    if not raw:
        return None
    match = _DATE.match(raw.strip())
    try:
        if match:
            day, month, year, hour, minute = match.groups()
            return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), tzinfo=TZ)
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=TZ)


def _split_urls(value: Any) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise TypeError
        urls = [v.strip() for v in value if v.strip()]
    elif isinstance(value, str):
        urls = [u for u in re.split(r"[\s;|]+", value) if u]
    else:
        raise TypeError
    return urls or None


def _items(content: str, fmt: str, preview: BatchPreview) -> list[tuple[int, dict]]:
    """The raw items of the file with their line (CSV) or position (JSON)."""
    if fmt == "json":
        try:
            data = json.loads(content)
        except ValueError:
            preview.errors.append(RowProblem(None, N_("Tệp JSON không đọc được.")))
            return []
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            data = data["items"]
        if not isinstance(data, list):
            preview.errors.append(RowProblem(None, N_("Tệp JSON phải là một danh sách các mục (hoặc {\"items\": [...]}).")))
            return []
        return list(enumerate(data, 1))
    reader = csv.DictReader(io.StringIO(content))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        preview.errors.append(RowProblem(None, N_("Tệp trống.")))
        return []
    reader.fieldnames = header
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if unknown:
        preview.errors.append(RowProblem(None, N_("Cột không có trong định dạng: %(columns)s."),
                                         {"columns": ", ".join(unknown)}))
    if missing:
        preview.errors.append(RowProblem(None, N_("Thiếu cột bắt buộc: %(columns)s."),
                                         {"columns": ", ".join(missing)}))
    if unknown or missing:
        return []
    items = []
    try:
        for record in reader:
            extra = record.pop(None, None)
            if extra and any(v.strip() for v in extra):
                record["__extra__"] = True
            items.append((reader.line_num, record))
    except csv.Error:
        preview.errors.append(RowProblem(None, N_("Tệp CSV không đọc được.")))
        return []
    return items


def _row(line: int, item: Any, now: datetime) -> BatchRow:
    """One item as a checked intake payload."""
    if not isinstance(item, dict):
        return BatchRow(line, None, None, status=ERROR, problems=[RowProblem(None, N_("Mục không phải là một đối tượng."))])
    row = BatchRow(line, None, None)
    values: dict[str, Any] = {}
    if item.pop("__extra__", False):
        row.problems.append(RowProblem(None, N_("Dòng có nhiều ô hơn dòng tiêu đề.")))
    for key in item:
        if key not in COLUMNS:
            row.problems.append(RowProblem(key, N_("Trường không có trong định dạng.")))
    for column in COLUMNS:
        try:
            values[column] = (_split_urls(item.get(column)) if column == "attachment_urls"
                              else _text(item.get(column)))
        except TypeError:
            row.problems.append(RowProblem(column, N_("Phải là một chuỗi ký tự.")))
            values[column] = None
    row.external_id, row.title = values["external_id"], values["title"]
    if not row.external_id:
        row.problems.append(RowProblem("external_id", N_("Thiếu mã hồ sơ của hệ thống quốc gia.")))
    elif len(row.external_id) > 100:
        row.problems.append(RowProblem("external_id", N_("Mã hồ sơ tối đa 100 ký tự.")))
    moments = {}
    for column in ("original_received_at", "received_at"):
        if values[column] is None:
            row.problems.append(RowProblem(column, N_("Không được để trống.")))
            continue
        moments[column] = parse_moment(values[column])
        if moments[column] is None:
            row.problems.append(RowProblem(column, N_("Ngày không hợp lệ (dd/mm/yyyy hoặc yyyy-mm-dd).")))
    received, original = moments.get("received_at"), moments.get("original_received_at")
    if received and received > now:
        row.problems.append(RowProblem("received_at", N_("Ngày tiếp nhận không được ở tương lai.")))
    if received and original and original > received:
        row.problems.append(RowProblem("original_received_at",
                                       N_("Ngày tiếp nhận gốc (tại VPCP) phải trước ngày tỉnh tiếp nhận.")))
    kind = values["kind"]
    if kind and kind not in Kind.codes():
        kind = _KIND_WORDS.get(fold(kind), kind)
    if values["field"] and db.session.scalar(
            select(Field.id).where(Field.code == values["field"], Field.active.is_(True))) is None:
        row.problems.append(RowProblem("field", N_("Lĩnh vực không tồn tại.")))
    payload = {
        "channel": Channel.VPCP.value, "external_ref": row.external_id,
        "received_at": received.isoformat() if received else None,
        "original_received_at": original.isoformat() if original else None,
        "kind": kind, "title": values["title"], "content": values["content"], "proposal": values["proposal"],
        "field": values["field"], "submitter_name": values["submitter_name"],
        "submitter_organisation": values["submitter_organisation"],
        "submitter_address": values["submitter_address"], "submitter_phone": values["submitter_phone"],
        "submitter_email": values["submitter_email"], "reference_urls": values["attachment_urls"],
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    try:
        IntakeSchema().load(payload)
    except ValidationError as err:
        reported = {p.column for p in row.problems}
        for name, messages in err.normalized_messages().items():
            column = {"external_ref": "external_id", "reference_urls": "attachment_urls"}.get(name, name)
            if column in reported:
                continue  # already said more precisely above
            flat = messages if isinstance(messages, list) else [m for v in messages.values() for m in v]
            row.problems += [RowProblem(column, str(m)) for m in dict.fromkeys(flat)]
    row.payload = payload
    if row.problems:
        row.status = ERROR
    return row


def detect_format(filename: str | None, content: str) -> str:
    """``json`` or ``csv``: from the file name's extension, else from the first character."""
    name = (filename or "").lower()
    if name.endswith(".json"):
        return "json"
    if name.endswith(".csv"):
        return "csv"
    return "json" if content.lstrip()[:1] in ("[", "{") else "csv"


def parse_batch(content: str, fmt: str, now: datetime | None = None) -> BatchPreview:
    """Every row of the batch, checked, with the ones already imported marked (nothing written)."""
    now = now or utcnow()
    preview = BatchPreview(format=fmt)
    items = _items(content, fmt, preview)
    if not items and not preview.errors:
        preview.errors.append(RowProblem(None, N_("Tệp không có mục nào.")))
    if len(items) > MAX_BATCH_ROWS:
        preview.errors.append(RowProblem(None, N_("Tệp có quá nhiều mục (tối đa %(max)s)."),
                                         {"max": MAX_BATCH_ROWS}))
        return preview
    seen: dict[str, int] = {}
    for line, item in items:
        row = _row(line, item, now)
        if row.external_id:
            if row.external_id in seen:
                row.problems.append(RowProblem("external_id", N_("Trùng mã hồ sơ với dòng %(line)s."),
                                               {"line": seen[row.external_id]}))
                row.status = ERROR
            seen.setdefault(row.external_id, line)
        preview.rows.append(row)
    ids = [r.external_id for r in preview.rows if r.status == NEW]
    if ids:
        known = dict(db.session.execute(select(Feedback.external_ref, Feedback.code).where(
            Feedback.channel == Channel.VPCP.value, Feedback.external_ref.in_(ids))).all())
        for row in preview.rows:
            if row.status == NEW and row.external_id in known:
                row.status, row.code = ALREADY, known[row.external_id]
    return preview


def _already(external_id: str) -> str | None:
    return db.session.scalar(select(Feedback.code).where(
        Feedback.channel == Channel.VPCP.value, Feedback.external_ref == external_id))


def import_batch(content: str, fmt: str, actor, *, source: str | None = None, dry_run: bool = False,
                 now: datetime | None = None) -> BatchPreview:
    """Create a case for every good row not imported yet, each in its own transaction, and
    audit the run. Commits (one transaction per row, then the audit event); with ``dry_run``
    writes nothing and returns the preview. Rows refused by the operations layer (e.g. a
    received date gone into the future) are reported as errors; the others still go in."""
    now = now or utcnow()
    preview = parse_batch(content, fmt, now)
    if dry_run or preview.errors:
        return preview
    for row in preview.rows:
        if row.status != NEW:
            continue
        try:
            with transaction():
                case, _token = receive_feedback(row.payload, actor, trigger="receive_on_behalf", now=now)
                row.status, row.code = CREATED, case.code
        except IntegrityError:  # imported meanwhile by another run: the unique constraint caught it
            row.code = _already(row.external_id)
            if row.code is None:
                raise
            row.status = ALREADY
        except InvalidPayload as err:
            row.status = ERROR
            row.problems += [RowProblem(name, str(m)) for name, messages in err.fields.items()
                             for m in (messages if isinstance(messages, list) else [messages])]
        except OperationError as err:
            row.status = ERROR
            row.problems.append(RowProblem(None, err.message, err.params))
    with transaction():
        db.session.add(AuditEvent(feedback_id=None, action="intake.batch_imported", at=now, data={
            "source": (source or "")[:200], "format": fmt,
            "created": [{"line": r.line, "external_id": r.external_id, "code": r.code}
                        for r in preview.rows if r.status == CREATED],
            "already": [{"line": r.line, "external_id": r.external_id, "code": r.code}
                        for r in preview.rows if r.status == ALREADY],
            "errors": [{"line": r.line, "external_id": r.external_id,
                        "problems": [f"{p.column or ''}: {p.text()}" for p in r.problems]}
                       for r in preview.rows if r.status == ERROR],
        }, **_actor_fields(actor)))
    return preview
