"""The PAKN statistics of a reporting period (domain §8), per agency and field, in SQL.

One query builds a fact row per case (its responsible agency — the handling agency, or the
office for cases not forwarded — its field, and the instants that matter), and one
``GROUP BY agency, field`` adds them up with ``SUM(CASE …)``. Every view (HTML, XLSX, PDF,
an agency's own report, the consolidated provincial report, the charts) reads these same
rows, so their numbers agree. The columns balance:

    from previous period + new = not accepted + merged + withdrawn + answered + in progress

where a case "ends" when it is rejected, merged, withdrawn or answered, and "in progress"
is counted at the end of the window (or now, for the current period).
"""
from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from datetime import datetime

from sqlalchemy import and_, bindparam, case, exists, func, literal, or_, select, text

from workflows.engine import N_
from workflows.glossary import AnswerOutcome, Channel, Kind, RejectReason, Subject

from ..extensions import db
from ..models import Agency, Answer, AuditEvent, Feedback, Field, StageVisit
from ..models.types import UTCDateTime, utcnow
from .periods import ReportPeriod

#: (key, group, label): the report's columns, in order.
GROUPS = {
    "received": N_("Tiếp nhận"),
    "classification": N_("Phân loại"),
    "processed": N_("Đã trả lời"),
    "in_progress": N_("Đang xử lý"),
    "outcomes": N_("Kết quả xử lý"),
}
COLUMNS: list[tuple[str, str, str]] = [
    ("previous", "received", N_("Từ kỳ trước chuyển sang")),
    ("new", "received", N_("Mới tiếp nhận")),
    *((f"channel_{c.value}", "received", c.label) for c in Channel),
    *((f"subject_{s.value}", "received", s.label) for s in Subject),
    ("subject_none", "received", N_("Chưa phân loại hành vi/quy định")),
    *((f"kind_{k.value}", "received", k.label) for k in Kind),
    ("rejected", "classification", N_("Không tiếp nhận")),
    ("merged", "classification", N_("Gộp vào PAKN trùng")),
    ("withdrawn", "classification", N_("Người gửi rút")),
    ("forwarded", "classification", N_("Chuyển xử lý")),
    ("own", "classification", N_("Thuộc thẩm quyền UBND tỉnh")),
    ("answered", "processed", N_("Tổng số")),
    ("answered_on_time", "processed", N_("Đúng hạn")),
    ("answered_late", "processed", N_("Quá hạn")),
    ("published", "processed", N_("Đã công khai")),
    ("open", "in_progress", N_("Tổng số")),
    ("open_on_time", "in_progress", N_("Trong hạn")),
    ("open_late", "in_progress", N_("Quá hạn")),
    *((f"outcome_{o.value}", "outcomes", o.label) for o in
      (AnswerOutcome.AMEND, AnswerOutcome.REPEAL, AnswerOutcome.PROPOSE, AnswerOutcome.NEW_RULE)),
]
KEYS = [key for key, _, _ in COLUMNS]


@dataclass
class Row:
    agency_id: int
    agency: str
    field_id: int | None
    field: str | None
    values: dict[str, int]


@dataclass
class AgencyBlock:
    agency_id: int
    agency: str
    rows: list[Row]
    total: dict[str, int]


@dataclass
class Report:
    period: ReportPeriod
    as_of: datetime
    agency_id: int | None  # None: the consolidated provincial report
    blocks: list[AgencyBlock]
    total: dict[str, int]
    reasons: list[tuple[str, int]] = dataclass_field(default_factory=list)  # (reason code, count)


def _ts(name: str, value: datetime):
    return bindparam(name, value, type_=UTCDateTime())


def compute(period: ReportPeriod, agency_id: int | None = None, now: datetime | None = None) -> Report:
    """The report of ``period`` for one agency (its rows only) or, with None, the whole province."""
    now = now or utcnow()
    ws, we = period.starts_at, period.ends_at
    as_of = min(we, now)
    office_id = db.session.scalar(select(Agency.id).where(Agency.is_office.is_(True)))
    f = Feedback
    ended_rejected = (select(func.max(StageVisit.finished_at))
                      .where(StageVisit.feedback_id == f.id, StageVisit.outcome.in_(("reject", "merge")))
                      .scalar_subquery())
    ended_at = case((f.state.in_(("rejected", "merged")), ended_rejected),
                    (f.state == "withdrawn", f.withdrawn_at), else_=f.answered_at)

    def event_in_window(action: str):
        return exists().where(AuditEvent.feedback_id == f.id, AuditEvent.action == action,
                              AuditEvent.at >= _ts("ws_" + action, ws), AuditEvent.at < _ts("we_" + action, we))

    def outcome(code: str):
        return exists().where(Answer.feedback_id == f.id, Answer.status.in_(("submitted", "accepted")),
                              Answer.outcome == code)

    agency_key = func.coalesce(f.agency_id, literal(office_id))
    facts = select(
        f.id.label("id"), agency_key.label("agency_id"), f.field_id.label("field_id"), f.channel, f.subject,
        f.kind, f.state, f.received_at, f.answered_at, f.answer_due_at, f.published_at,
        ended_at.label("ended_at"),
        case((event_in_window("forward"), 1), else_=0).label("forwarded"),
        case((event_in_window("handle_in_office"), 1), else_=0).label("own"),
        *(case((outcome(o.value), 1), else_=0).label(f"outcome_{o.value}") for o in
          (AnswerOutcome.AMEND, AnswerOutcome.REPEAL, AnswerOutcome.PROPOSE, AnswerOutcome.NEW_RULE)),
    ).where(f.received_at < _ts("we", we), or_(
        # Only the cases a column can count: those not ended before the window (ended_at as
        # above, spelt out per state so that most rows are decided by plain columns of the
        # index ix_feedback_report_facts), published in it, or forwarded / handled in it.
        # Every column of any other case is 0, so the sums are the same, and the per-case
        # subqueries run for a window's cases instead of for ten years of them.
        and_(f.state.not_in(("rejected", "merged", "withdrawn")),
             or_(f.answered_at.is_(None), f.answered_at >= _ts("ws_answered", ws))),
        and_(f.state == "withdrawn", f.withdrawn_at >= _ts("ws_withdrawn", ws)),
        f.published_at >= _ts("ws_published", ws),
        # A rejection or merger is the case's last change, so updated_at bounds it from below:
        # old rejected cases are passed over without looking up their stage visits.
        and_(f.state.in_(("rejected", "merged")), f.updated_at >= _ts("ws_updated", ws),
             or_(ended_rejected.is_(None), ended_rejected >= _ts("ws_rejected", ws))),
        f.id.in_(select(AuditEvent.feedback_id).where(
            AuditEvent.action.in_(("forward", "handle_in_office")),
            AuditEvent.at >= _ts("ws_events", ws), AuditEvent.at < _ts("we_events", we)))))
    if agency_id is not None:
        facts = facts.where(agency_key == agency_id)
    c = facts.subquery("facts")

    start, end, at = _ts("start", ws), _ts("end", we), _ts("as_of", as_of)
    new = and_(c.c.received_at >= start, c.c.received_at < end)
    ended_in = and_(c.c.ended_at >= start, c.c.ended_at < end)
    answered_in = and_(c.c.answered_at >= start, c.c.answered_at < end,
                       c.c.state.not_in(("rejected", "merged", "withdrawn")))
    open_at_end = or_(c.c.ended_at.is_(None), c.c.ended_at >= end)
    conditions = {
        "previous": and_(c.c.received_at < start, or_(c.c.ended_at.is_(None), c.c.ended_at >= start)),
        "new": new,
        **{f"channel_{ch.value}": and_(new, c.c.channel == ch.value) for ch in Channel},
        **{f"subject_{s.value}": and_(new, c.c.subject == s.value) for s in Subject},
        "subject_none": and_(new, c.c.subject.is_(None)),
        **{f"kind_{k.value}": and_(new, c.c.kind == k.value) for k in Kind},
        "rejected": and_(ended_in, c.c.state == "rejected"),
        "merged": and_(ended_in, c.c.state == "merged"),
        "withdrawn": and_(ended_in, c.c.state == "withdrawn"),
        "forwarded": c.c.forwarded == 1,
        "own": c.c.own == 1,
        "answered": answered_in,
        "answered_on_time": and_(answered_in, c.c.answered_at <= c.c.answer_due_at),
        "answered_late": and_(answered_in, c.c.answered_at > c.c.answer_due_at),
        "published": and_(c.c.published_at >= start, c.c.published_at < end),
        "open": open_at_end,
        "open_on_time": and_(open_at_end, or_(c.c.answer_due_at.is_(None), c.c.answer_due_at >= at)),
        "open_late": and_(open_at_end, c.c.answer_due_at < at),
        **{f"outcome_{o.value}": and_(answered_in, getattr(c.c, f"outcome_{o.value}") == 1) for o in
           (AnswerOutcome.AMEND, AnswerOutcome.REPEAL, AnswerOutcome.PROPOSE, AnswerOutcome.NEW_RULE)},
    }
    sums = [func.sum(case((cond, 1), else_=0)).label(key) for key, cond in conditions.items()]
    grouped = (select(c.c.agency_id, c.c.field_id, *sums)
               .group_by(c.c.agency_id, c.c.field_id))
    if db.session.get_bind().dialect.name == "postgresql":
        # The statement's many subqueries push its estimated cost far above jit_above_cost, and
        # compiling it with LLVM took 10 of its 14 s (EXPLAIN ANALYZE over 200,000 cases,
        # bench/RESULTS.md); it runs once per request, so compiling never pays. SET LOCAL: only
        # for this transaction.
        db.session.execute(text("SET LOCAL jit = off"))
    names = dict(db.session.execute(select(Agency.id, Agency.name)).all())
    fields = dict(db.session.execute(select(Field.id, Field.name)).all())
    blocks: dict[int, AgencyBlock] = {}
    for row in db.session.execute(grouped).mappings():
        values = {key: int(row[key] or 0) for key in KEYS}
        if not any(values.values()):
            continue
        block = blocks.setdefault(row["agency_id"], AgencyBlock(row["agency_id"], names.get(row["agency_id"], "?"),
                                                                [], dict.fromkeys(KEYS, 0)))
        block.rows.append(Row(row["agency_id"], block.agency, row["field_id"], fields.get(row["field_id"]), values))
        for key in KEYS:
            block.total[key] += values[key]
    ordered = sorted(blocks.values(), key=lambda b: (b.agency_id != office_id, b.agency))
    for block in ordered:
        block.rows.sort(key=lambda r: (r.field is None, r.field or ""))
    total = {key: sum(b.total[key] for b in ordered) for key in KEYS}

    reasons_q = (select(Feedback.reject_reason_code, func.count())
                 .where(Feedback.id.in_(select(c.c.id).where(ended_in, c.c.state == "rejected")))
                 .group_by(Feedback.reject_reason_code).order_by(Feedback.reject_reason_code))
    reasons = [(code, count) for code, count in db.session.execute(reasons_q).all()]
    return Report(period, as_of, agency_id, ordered, total, reasons)


REASON_LABELS = {r.value: r.label for r in RejectReason}
