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
from sqlalchemy.orm import aliased

from workflows.engine import N_
from workflows.glossary import AnswerOutcome, Channel, Kind, RejectReason, Subject

from ..extensions import db
from ..models import Agency, Answer, AuditEvent, Feedback, Field, StageVisit
from ..models.types import UTCDateTime, utcnow
from .periods import ReportPeriod

#: The outcomes the report counts (domain §8), in column order.
OUTCOMES = (AnswerOutcome.AMEND, AnswerOutcome.REPEAL, AnswerOutcome.PROPOSE, AnswerOutcome.NEW_RULE)

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
    *((f"outcome_{o.value}", "outcomes", o.label) for o in OUTCOMES),
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

    # The outcomes of a case's answers, as bits (one per outcome column), looked up only for
    # the cases answered in the window (the only ones those columns count): one index probe
    # per such case, instead of four hashed scans of every answer (EXPLAIN ANALYZE, 1,000,000
    # cases: 6 s, bench/RESULTS.md). SUM(DISTINCT bit) is the OR of the bits.
    bits = case(*((Answer.outcome == o.value, literal(1 << i)) for i, o in enumerate(OUTCOMES)), else_=literal(0))
    outcome_bits = case(
        (and_(f.answered_at >= _ts("ws_outcome", ws), f.answered_at < _ts("we_outcome", we)),
         select(func.coalesce(func.sum(bits.distinct()), 0))
         .where(Answer.feedback_id == f.id, Answer.status.in_(("submitted", "accepted"))).scalar_subquery()),
        else_=literal(0))

    # Read from the row for rejected cases only: the other columns come from the covering
    # index ix_feedback_report_facts (an index-only scan), which does not hold the reason.
    same = aliased(Feedback)
    reject_reason = case((f.state == "rejected", select(same.reject_reason_code).where(same.id == f.id)
                          .scalar_subquery()), else_=None)
    agency_key = func.coalesce(f.agency_id, literal(office_id))
    facts = select(
        f.id.label("id"), agency_key.label("agency_id"), f.field_id.label("field_id"), f.channel, f.subject,
        f.kind, f.state, f.received_at, f.answered_at, f.answer_due_at, f.published_at,
        reject_reason.label("reject_reason_code"), ended_at.label("ended_at"),
        case((event_in_window("forward"), 1), else_=0).label("forwarded"),
        case((event_in_window("handle_in_office"), 1), else_=0).label("own"),
        outcome_bits.label("outcome_bits"),
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
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    # One fact row per case, computed once: inlined as a subquery, each of the thirty sums
    # below re-ran the per-case subqueries of ``ended_at`` and the events (EXPLAIN ANALYZE over
    # 1,000,000 cases: 7.7 of 10.8 s in the aggregate, bench/RESULTS.md).
    c = facts.cte("facts")
    if postgresql:
        c = c.prefix_with("MATERIALIZED")

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
        **{f"outcome_{o.value}": and_(answered_in, c.c.outcome_bits.op("&")(1 << i) != 0)
           for i, o in enumerate(OUTCOMES)},
    }
    sums = [func.sum(case((cond, 1), else_=0)).label(key) for key, cond in conditions.items()]
    # The reasons of the rejections ended in the window come out of the same pass: the rows are
    # grouped by that reason too (None for every other case), and its "rejected" sums add up.
    reason = case((conditions["rejected"], c.c.reject_reason_code), else_=None).label("reason")
    grouped = (select(c.c.agency_id, c.c.field_id, reason, *sums)
               .group_by(c.c.agency_id, c.c.field_id, reason))
    if postgresql:
        # The statement's many subqueries push its estimated cost far above jit_above_cost, and
        # compiling it with LLVM took 10 of its 14 s (EXPLAIN ANALYZE over 200,000 cases,
        # bench/RESULTS.md); it runs once per request, so compiling never pays. SET LOCAL: only
        # for this transaction.
        db.session.execute(text("SET LOCAL jit = off"))
        # The fact rows of a province-year (about 110,000 of 1,000,000 cases) sorted for the
        # GROUP BY in memory rather than in temporary files (12 MB at the default 4 MB).
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
    names = dict(db.session.execute(select(Agency.id, Agency.name)).all())
    fields = dict(db.session.execute(select(Field.id, Field.name)).all())
    cells: dict[tuple[int, int | None], dict[str, int]] = {}
    rejected_by_reason: dict[str | None, int] = {}
    for row in db.session.execute(grouped).mappings():
        values = cells.setdefault((row["agency_id"], row["field_id"]), dict.fromkeys(KEYS, 0))
        for key in KEYS:
            values[key] += int(row[key] or 0)
        if row["rejected"]:
            rejected_by_reason[row["reason"]] = rejected_by_reason.get(row["reason"], 0) + int(row["rejected"])
    blocks: dict[int, AgencyBlock] = {}
    for (row_agency, row_field), values in cells.items():
        if not any(values.values()):
            continue
        block = blocks.setdefault(row_agency, AgencyBlock(row_agency, names.get(row_agency, "?"),
                                                          [], dict.fromkeys(KEYS, 0)))
        block.rows.append(Row(row_agency, block.agency, row_field, fields.get(row_field), values))
        for key in KEYS:
            block.total[key] += values[key]
    ordered = sorted(blocks.values(), key=lambda b: (b.agency_id != office_id, b.agency))
    for block in ordered:
        block.rows.sort(key=lambda r: (r.field is None, r.field or ""))
    total = {key: sum(b.total[key] for b in ordered) for key in KEYS}

    reasons = sorted(rejected_by_reason.items(), key=lambda item: (item[0] is None, item[0] or ""))
    return Report(period, as_of, agency_id, ordered, total, reasons)


REASON_LABELS = {r.value: r.label for r in RejectReason}
