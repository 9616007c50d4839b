"""Operations of the calendar and clock administration: every change is audited and only flushes.

- :func:`add_overlay_day` / :func:`remove_overlay_day`: one overlay entry (an extra day off or a
  make-up working day) with its legal basis;
- :func:`parse_overlay_csv` (preview, per-row errors) and :func:`import_overlay_year` (the
  year's overlay becomes the file's content);
- :func:`save_clock_settings`: a new version of the clock settings.

A calendar change recomputes the due dates of the open clocks that depend on the changed days
(:func:`pakn.operations.clock.recompute_open_due_dates`), recording on each affected case the
old and new due date and why. The calendar-level event is an audit row without a case.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from workflows.calendar import DayKind
from workflows.engine import N_

from ..extensions import db
from ..models import AuditEvent, CalendarOverlay, ClockSetting
from ..models.clock_setting import CLOCK_FIELDS
from ..operations.clock import forget_calendar, recompute_open_due_dates
from ..operations.errors import Conflict, InvalidPayload

KIND_LABELS = {DayKind.DAY_OFF.value: N_("Ngày nghỉ bổ sung"),
               DayKind.WORKING_DAY.value: N_("Ngày làm việc bù")}
#: Accepted spellings of the kind column of a CSV file.
_KIND_WORDS = {"day_off": "day_off", "nghi": "day_off", "nghỉ": "day_off", "ngay nghi": "day_off",
               "ngày nghỉ": "day_off", "working_day": "working_day", "lam bu": "working_day",
               "làm bù": "working_day", "lam viec": "working_day", "làm việc": "working_day",
               "ngày làm việc bù": "working_day", "ngay lam viec bu": "working_day"}
MAX_CSV_ROWS = 400


def _audit(action: str, actor, data: dict, now: datetime) -> None:
    db.session.add(AuditEvent(feedback_id=None, action=action, at=now, data=data,
                              actor_id=getattr(actor, "user_id", None), actor_role=actor.role,
                              actor_label=getattr(actor, "label", actor.role)))


def _entry_dict(day: date, kind: str, note: str) -> dict:
    return {"day": day.isoformat(), "kind": kind, "note": note}


def add_overlay_day(day: date, kind: str, note: str, actor, now: datetime) -> int:
    """Add an overlay entry. Raises InvalidPayload for a blank basis or unknown kind, Conflict if
    the day already has an entry. Returns the number of cases whose due dates moved."""
    note = (note or "").strip()
    if kind not in KIND_LABELS:
        raise InvalidPayload({"kind": [N_("Loại ngày không hợp lệ.")]})
    if not note:
        raise InvalidPayload({"note": [N_("Vui lòng ghi căn cứ pháp lý (ví dụ: Thông báo 9441/TB-BNV).")]})
    if db.session.scalar(select(CalendarOverlay.id).where(CalendarOverlay.day == day)) is not None:
        raise Conflict(N_("Ngày %(day)s đã có trong lịch bổ sung; hãy xoá mục cũ trước."),
                       {"day": day.strftime("%d/%m/%Y")})
    db.session.add(CalendarOverlay(day=day, kind=kind, note=note, created_by_id=getattr(actor, "user_id", None),
                                   created_at=now))
    db.session.flush()
    _audit("calendar.overlay_added", actor, _entry_dict(day, kind, note), now)
    return recompute_open_due_dates({day}, actor, f"Lịch bổ sung: thêm {day:%d/%m/%Y} ({note})", now)


def remove_overlay_day(entry_id: int, actor, now: datetime) -> int:
    """Remove an overlay entry (LookupError if there is none). Returns the number of cases moved."""
    entry = db.session.get(CalendarOverlay, entry_id)
    if entry is None:
        raise LookupError(entry_id)
    data = _entry_dict(entry.day, entry.kind, entry.note)
    day = entry.day
    db.session.delete(entry)
    db.session.flush()
    _audit("calendar.overlay_removed", actor, data, now)
    return recompute_open_due_dates({day}, actor, f"Lịch bổ sung: xoá {day:%d/%m/%Y} ({data['note']})", now)


@dataclass
class CsvRow:
    """One row of an imported file, with its errors (empty when the row is good)."""

    line: int
    raw: list[str]
    day: date | None = None
    kind: str | None = None
    note: str | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class CsvPreview:
    """What an import would do: the parsed rows, and the days added, changed and removed."""

    year: int
    rows: list[CsvRow]
    errors: list[str] = field(default_factory=list)  # errors of the whole file
    added: list[CsvRow] = field(default_factory=list)
    changed: list[tuple[CalendarOverlay, CsvRow]] = field(default_factory=list)
    removed: list[CalendarOverlay] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and all(not r.errors for r in self.rows)


def _parse_day(text: str) -> date | None:
    text = text.strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_overlay_csv(content: str, year: int) -> CsvPreview:
    """Parse a year's overlay: columns ``ngày`` (dd/mm/yyyy or yyyy-mm-dd), ``loại`` (nghỉ /
    làm bù, or day_off / working_day) and ``căn cứ`` (the legal basis); a header row is
    optional; comma or semicolon separated. Every row error is reported, nothing is written.
    (Messages are Vietnamese source strings with %-parameters, translated by the page.)"""
    preview = CsvPreview(year=year, rows=[])
    text = content.lstrip("\ufeff")
    if not text.strip():
        preview.errors.append(N_("Tệp trống."))
        return preview
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    seen: dict[date, int] = {}
    for number, raw in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
        if not any(cell.strip() for cell in raw):
            continue
        if number == 1 and _parse_day(raw[0]) is None and raw[0].strip().lower() in (
                "ngày", "ngay", "day", "date"):
            continue  # header
        if len(preview.rows) >= MAX_CSV_ROWS:
            preview.errors.append(N_("Tệp có quá nhiều dòng (tối đa 400)."))
            break
        row = CsvRow(line=number, raw=raw)
        preview.rows.append(row)
        if len(raw) < 3:
            row.errors.append(N_("Cần đủ 3 cột: ngày, loại, căn cứ pháp lý."))
            continue
        row.day = _parse_day(raw[0])
        if row.day is None:
            row.errors.append(N_("Ngày không hợp lệ (dùng dd/mm/yyyy)."))
        elif row.day.year != year:
            row.errors.append(N_("Ngày không thuộc năm đang nhập."))
        elif row.day in seen:
            row.errors.append(N_("Ngày trùng với một dòng phía trên."))
        else:
            seen[row.day] = number
        row.kind = _KIND_WORDS.get(raw[1].strip().lower())
        if row.kind is None:
            row.errors.append(N_("Loại phải là «nghỉ» hoặc «làm bù»."))
        row.note = ",".join(raw[2:]).strip()
        if not row.note:
            row.errors.append(N_("Thiếu căn cứ pháp lý."))
        elif len(row.note) > 1000:
            row.errors.append(N_("Căn cứ pháp lý quá dài."))
    if not preview.rows and not preview.errors:
        preview.errors.append(N_("Tệp không có dòng dữ liệu nào."))
    if preview.ok:
        existing = {e.day: e for e in db.session.scalars(select(CalendarOverlay).where(
            CalendarOverlay.day >= date(year, 1, 1), CalendarOverlay.day <= date(year, 12, 31)))}
        for row in preview.rows:
            old = existing.pop(row.day, None)
            if old is None:
                preview.added.append(row)
            elif (old.kind, old.note) != (row.kind, row.note):
                preview.changed.append((old, row))
        preview.removed = sorted(existing.values(), key=lambda e: e.day)
    return preview


def import_overlay_year(content: str, year: int, actor, now: datetime) -> tuple[CsvPreview, int]:
    """Make the year's overlay the file's content (add, change, remove), audited, then recompute
    the open due dates depending on the changed days. Raises InvalidPayload if any row is bad.
    Returns the preview and the number of cases whose due dates moved."""
    preview = parse_overlay_csv(content, year)
    if not preview.ok:
        raise InvalidPayload({"file": [N_("Tệp có lỗi; chưa nhập dòng nào.")]})
    changed_days = set()
    for entry in preview.removed:
        changed_days.add(entry.day)
        db.session.delete(entry)
    for old, row in preview.changed:
        changed_days.add(row.day)
        old.kind, old.note = row.kind, row.note
    db.session.flush()
    for row in preview.added:
        changed_days.add(row.day)
        db.session.add(CalendarOverlay(day=row.day, kind=row.kind, note=row.note,
                                       created_by_id=getattr(actor, "user_id", None), created_at=now))
    db.session.flush()
    _audit("calendar.overlay_imported", actor, {
        "year": year,
        "added": [_entry_dict(r.day, r.kind, r.note) for r in preview.added],
        "changed": [{"day": r.day.isoformat(), "old_kind": o.kind, "kind": r.kind, "note": r.note}
                    for o, r in preview.changed],
        "removed": [e.day.isoformat() for e in preview.removed]}, now)
    forget_calendar()
    moved = recompute_open_due_dates(changed_days, actor, f"Nhập lịch bổ sung năm {year}", now) if changed_days else 0
    return preview, moved


def save_clock_settings(values: dict, note: str, actor, now: datetime) -> ClockSetting:
    """Add a version of the clock settings (the form validated the ranges; the database's CHECK
    constraints hold them too). Open clocks keep the version they started under."""
    note = (note or "").strip()
    if not note:
        raise InvalidPayload({"note": [N_("Vui lòng ghi lý do hoặc căn cứ thay đổi.")]})
    row = ClockSetting(**{name: values[name] for name in CLOCK_FIELDS}, note=note,
                       created_by_id=getattr(actor, "user_id", None), created_at=now)
    db.session.add(row)
    db.session.flush()
    _audit("clock.settings_saved", actor, {"version": row.id, **row.as_settings(), "note": note}, now)
    return row
