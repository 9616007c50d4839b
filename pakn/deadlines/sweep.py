"""The deadline sweep: marks due-soon and overdue stage visits, claims each reminder,
escalation and progress-update notice exactly once, and writes one outbox message per
recipient and kind listing the notices it claimed.

Run it from cron (``flask --app wsgi pakn sweep``) or as the periodic RQ job
:func:`pakn.deadlines.jobs.sweep_job` (scheduled by ``rq cron pakn/deadlines/cron.py``).

What a run does, in one transaction, with set-based SQL only (INSERT … SELECT and
UPDATE … WHERE; no case is ever loaded into Python):

1. **Escalation** of every open visit past its legal due date (``due_at``), not paused and
   not yet marked overdue: an ``office.escalation`` notice for the office lead for every
   stage and, for the agency's stage (``handle``), an ``agency.escalation`` for the agency
   lead. The visit becomes ``overdue``; a ``handle`` visit also gets its first
   ``agency.progress_update_due`` notice at once (step 2's, done in the same statement).
2. **Progress updates** while a ``handle`` visit is overdue: ``agency.progress_update_due``
   every ``progress_update_days`` days (the visit's settings version; 7 by law). The notice's
   ``due_at`` ends the period in which the update is due (due date + k periods, k = the
   notice's sequence).
3. **Reminders** ``reminder_days`` working days before the due date (``remind_at``, computed
   with the calendar when the clock started): an ``agency.reminder`` notice for the
   responsible agency (the office for its own stages). The visit becomes ``due_soon``.
4. **Messages**: one outbox row per (kind, recipient) for the notices this run claimed,
   payload ``{"run_id", "count"}``; the delivering job lists the cases from the claims
   (:func:`notices_of`). A daily batch of 100,000 notices over a million open cases is a few
   hundred messages, not 100,000: each agency lead gets one escalation listing its cases.

Exactly once, even when two sweeps run at once: every notice is *claimed* as a
:class:`~pakn.models.DeadlineNotice` row whose (visit, kind, sequence) key is unique, with
``INSERT … ON CONFLICT DO NOTHING``, and the messages list only the claims of their own run
(``run_id``), so a notice appears in exactly one message. On PostgreSQL each batch of a step
is one statement: the candidate visits are taken in index order with ``FOR UPDATE SKIP
LOCKED`` (a second sweep skips what the first is working on instead of waiting), updated,
and the claims inserted from the rows the UPDATE returned. On SQLite the claims come first
and the writers are serialised by the database lock (the first statement of the run is
already a write).

Why it is fast (``bench/sweep_bench.py``, results in ``bench/RESULTS.md``): the outbox gets a
few rows per agency instead of one per notice (each with its indexes and foreign-key
triggers); the candidates are read through the sweep's partial indexes in their order, in
batches of :data:`BATCH` (``ORDER BY … LIMIT``: an index scan whatever the statistics say, so
a sweep that finds nothing reads a few index pages); each visit is updated once per run; JIT
compilation is off for the run (it cost more than the statements it compiled).

The internal extension record (``extended_due_at``) does not move the legal due date: the
law has no extension, only progress updates, so the sweep and the SLA figures use ``due_at``.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select, text

from ..extensions import db
from ..models import Agency
from ..models.types import UTCDateTime, utcnow
from ..operations.clock import default_settings

#: The stage whose clock is the agency's answer (escalated to the agency lead, progress updates).
AGENCY_STAGE = "handle"

NOTICE_KINDS = ("agency.reminder", "agency.escalation", "office.escalation", "agency.progress_update_due")

#: Visits taken per statement on PostgreSQL. Bounds what one statement holds in memory and
#: keeps its plan an ordered scan of the step's partial index.
BATCH = 20_000


@dataclass
class SweepResult:
    """What one sweep did: notices claimed and outbox messages written, per kind, and visits
    newly marked."""

    run_id: str
    now: datetime
    written: dict[str, int] = field(default_factory=dict)  # notices (claims) per kind
    messages: dict[str, int] = field(default_factory=dict)  # outbox rows per kind
    marked_due_soon: int = 0
    marked_overdue: int = 0

    @property
    def total(self) -> int:
        return sum(self.written.values())


class _Dialect:
    """The few SQL fragments that differ between PostgreSQL and SQLite."""

    def __init__(self, name: str) -> None:
        self.pg = name == "postgresql"

    def plus_days(self, column: str, days: str) -> str:
        if self.pg:
            return f"({column} + make_interval(days => {days}))"
        # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff': shift the date-time, keep the fraction.
        return f"(strftime('%Y-%m-%d %H:%M:%S', {column}, '+' || ({days}) || ' days') || substr({column}, 20))"

    def periods_since(self, column: str, days: str) -> str:
        """1 + the number of whole ``days``-day periods from ``column`` to :now."""
        if self.pg:
            return f"(floor(extract(epoch FROM (:now - {column})) / (86400 * {days}))::int + 1)"
        return f"(CAST((julianday(:now) - julianday({column})) / ({days}) AS INTEGER) + 1)"

    def message_payload(self) -> str:
        if self.pg:
            return "jsonb_build_object('run_id', CAST(:run AS text), 'count', count(*))"
        return "json_object('run_id', :run, 'count', count(*))"

    def payload_count(self) -> str:
        return "CAST(payload ->> 'count' AS integer)" if self.pg else "json_extract(payload, '$.count')"


def _statement(sql: str):
    statement = text(sql)
    if ":now" in sql:
        statement = statement.bindparams(bindparam("now", type_=UTCDateTime()))
    return statement


def _execute(sql: str, params: dict) -> int:
    result = db.session.execute(_statement(sql), {k: v for k, v in params.items() if f":{k}" in sql})
    return result.rowcount or 0


_OPEN = "v.finished_at IS NULL AND v.paused_at IS NULL"
_CLAIM = "INSERT INTO deadline_notice (visit_id, kind, sequence, due_at, recipient_agency_id, run_id, created_at) "
_OFFICE = "CAST(:office AS integer)"
_OVERDUE = f"{_OPEN} AND v.due_status <> 'overdue' AND v.due_at < :now"
_SOON = f"{_OPEN} AND v.due_status = 'pending' AND v.remind_at <= :now AND v.due_at >= :now AND v.agency_id IS NOT NULL"
_PROGRESS = f"{_OPEN} AND v.next_progress_at IS NOT NULL AND v.next_progress_at <= :now AND v.agency_id IS NOT NULL"
#: A handle visit with a responsible agency owes progress updates once overdue.
_OWES_PROGRESS = "v.stage = :stage AND v.agency_id IS NOT NULL"
_PERIOD = ("COALESCE((SELECT cs.progress_update_days FROM clock_setting cs"
           " WHERE cs.id = v.clock_setting_id), :period)")


def _pg_batches(pick: str, update: str, claims: str, params: dict) -> int:
    """Run one step on PostgreSQL in batches until it finds fewer than :data:`BATCH` visits.

    Each batch is one statement: ``pick`` selects candidate ids in index order and locks them
    (``FOR UPDATE SKIP LOCKED``), ``update`` (``UPDATE stage_visit v SET …``) changes them and
    returns them as "marked", and ``claims`` (a SELECT over "marked") is inserted into
    ``deadline_notice`` with ON CONFLICT DO NOTHING. Returns the number of visits updated."""
    sql = (f"WITH pick AS ({pick} LIMIT :batch FOR UPDATE SKIP LOCKED),"
           f" marked AS ({update} WHERE v.id = ANY(ARRAY(SELECT id FROM pick))"
           " RETURNING v.id, v.stage, v.due_at, v.agency_id, v.progress_seq, v.next_progress_at),"
           f" claimed AS ({_CLAIM} {claims} ON CONFLICT DO NOTHING)"
           " SELECT count(*) FROM marked")
    statement = _statement(sql)
    values = {k: v for k, v in {**params, "batch": BATCH}.items() if f":{k}" in sql}
    total = 0
    while True:
        marked = db.session.execute(statement, values).scalar() or 0
        total += marked
        if marked < BATCH:
            return total


def _sweep_postgresql(d: _Dialect, params: dict) -> tuple[int, int]:
    """Each batch is one statement (see :func:`_pg_batches`): nothing is read twice and each
    visit is updated once per run."""
    k = d.periods_since("v.due_at", _PERIOD)
    next_due = d.plus_days("v.due_at", f"{k} * {_PERIOD}")
    overdue = _pg_batches(
        f"SELECT v.id FROM stage_visit v WHERE {_OVERDUE} ORDER BY v.due_at",
        "UPDATE stage_visit v SET due_status = 'overdue',"
        f" progress_seq = CASE WHEN {_OWES_PROGRESS} THEN {k} ELSE v.progress_seq END,"
        f" next_progress_at = CASE WHEN {_OWES_PROGRESS} THEN {next_due}"
        " WHEN v.stage = :stage THEN v.due_at END",
        f"SELECT m.id, 'office.escalation', 1, m.due_at, {_OFFICE}, :run, :now FROM marked m"
        " UNION ALL SELECT m.id, 'agency.escalation', 1, m.due_at, m.agency_id, :run, :now FROM marked m"
        f" WHERE m.stage = :stage AND m.agency_id IS NOT NULL AND m.agency_id IS DISTINCT FROM {_OFFICE}"
        " UNION ALL SELECT m.id, 'agency.progress_update_due', m.progress_seq, m.next_progress_at, m.agency_id,"
        " :run, :now FROM marked m WHERE m.stage = :stage AND m.agency_id IS NOT NULL",
        params)
    _pg_batches(
        f"SELECT v.id FROM stage_visit v WHERE {_PROGRESS} ORDER BY v.next_progress_at",
        f"UPDATE stage_visit v SET progress_seq = {k}, next_progress_at = {next_due}",
        "SELECT m.id, 'agency.progress_update_due', m.progress_seq, m.next_progress_at, m.agency_id,"
        " :run, :now FROM marked m",
        params)
    soon = _pg_batches(
        f"SELECT v.id FROM stage_visit v WHERE {_SOON} ORDER BY v.remind_at",
        "UPDATE stage_visit v SET due_status = 'due_soon'",
        "SELECT m.id, 'agency.reminder', 1, m.due_at, m.agency_id, :run, :now FROM marked m",
        params)
    return soon, overdue


def _sweep_portable(d: _Dialect, params: dict) -> tuple[int, int]:
    """SQLite (and any database without UPDATE … RETURNING in a CTE): claim first with INSERT …
    SELECT … ON CONFLICT DO NOTHING, then mark the visits that have their claim. The database
    lock serialises concurrent sweeps; the first statement is already a write."""
    _execute(_CLAIM + f"SELECT v.id, 'office.escalation', 1, v.due_at, {_OFFICE}, :run, :now"
             f" FROM stage_visit v WHERE {_OVERDUE} ON CONFLICT DO NOTHING", params)
    _execute(_CLAIM + "SELECT v.id, 'agency.escalation', 1, v.due_at, v.agency_id, :run, :now"
             f" FROM stage_visit v WHERE {_OVERDUE} AND v.stage = :stage AND v.agency_id IS NOT NULL"
             f" AND v.agency_id <> COALESCE({_OFFICE}, -1) ON CONFLICT DO NOTHING", params)
    overdue = _execute(
        "UPDATE stage_visit SET due_status = 'overdue',"
        " next_progress_at = CASE WHEN stage = :stage THEN due_at ELSE NULL END"
        f" WHERE id IN (SELECT v.id FROM stage_visit v WHERE {_OVERDUE}"
        " AND EXISTS (SELECT 1 FROM deadline_notice n WHERE n.visit_id = v.id"
        " AND n.kind = 'office.escalation'))", params)
    k = d.periods_since("v.due_at", _PERIOD)
    _execute(_CLAIM + f"SELECT v.id, 'agency.progress_update_due', {k}, "
             + d.plus_days("v.due_at", f"{k} * {_PERIOD}") + ", v.agency_id, :run, :now"
             f" FROM stage_visit v WHERE {_PROGRESS} ON CONFLICT DO NOTHING", params)
    _execute("UPDATE stage_visit SET progress_seq = n.sequence, next_progress_at = n.due_at"
             " FROM deadline_notice n WHERE n.visit_id = stage_visit.id AND n.run_id = :run"
             " AND n.kind = 'agency.progress_update_due'", params)
    _execute(_CLAIM + "SELECT v.id, 'agency.reminder', 1, v.due_at, v.agency_id, :run, :now"
             f" FROM stage_visit v WHERE {_SOON} ON CONFLICT DO NOTHING", params)
    soon = _execute(
        f"UPDATE stage_visit SET due_status = 'due_soon' WHERE id IN (SELECT v.id FROM stage_visit v WHERE {_SOON}"
        " AND EXISTS (SELECT 1 FROM deadline_notice n WHERE n.visit_id = v.id"
        " AND n.kind = 'agency.reminder'))", params)
    return soon, overdue


def _write_messages(d: _Dialect, params: dict) -> tuple[dict[str, int], dict[str, int]]:
    """One outbox row per (kind, recipient) for the claims of this run. Returns the notices
    and the messages per kind: a few per recipient, whatever the number of cases."""
    rows = db.session.execute(_statement(
        "INSERT INTO outbox_message (created_at, kind, recipient_kind, recipient_agency_id, payload,"
        " status, attempts, available_at, dedupe_key)"
        " SELECT :now, n.kind, CASE WHEN n.kind LIKE 'office.%' THEN 'office' ELSE 'agency' END,"
        f" n.recipient_agency_id, {d.message_payload()}, 'pending', 0, :now,"
        " 'sweep:' || n.run_id || ':' || n.kind || ':' || COALESCE(CAST(n.recipient_agency_id AS varchar(12)), '-')"
        " FROM deadline_notice n WHERE n.run_id = :run GROUP BY n.run_id, n.kind, n.recipient_agency_id"
        " ORDER BY n.kind, n.recipient_agency_id"
        f" RETURNING kind, {d.payload_count()}"), {"now": params["now"], "run": params["run"]}).all()
    notices: dict[str, int] = {}
    messages: dict[str, int] = {}
    for kind, count in rows:
        notices[kind] = notices.get(kind, 0) + int(count)
        messages[kind] = messages.get(kind, 0) + 1
    return notices, messages


def run_sweep(now: datetime | None = None) -> SweepResult:
    """One sweep at ``now`` (default: the current instant). Only flushes: the caller commits
    (``transaction()``), and a rollback undoes the marks, the claims and the outbox rows together."""
    now = now or utcnow()
    d = _Dialect(db.session.get_bind().dialect.name)
    result = SweepResult(run_id=uuid.uuid4().hex, now=now)
    params = {"now": now, "run": result.run_id, "period": int(default_settings()["progress_update_days"]),
              "stage": AGENCY_STAGE, "office": db.session.scalar(select(Agency.id).where(Agency.is_office.is_(True)))}
    if d.pg:
        # For this transaction only. The statistics cannot tell how many open visits cross a
        # threshold now (the planner multiplies "due before now" over all visits by "not yet
        # overdue"), so it guesses hundreds of thousands where there are a few thousand, or none:
        # without sorts, each batch is an ordered scan of its step's partial index, reading
        # only the entries past the threshold. JIT compilation, which the same guesses trigger,
        # costs more than it saves on batches of a few thousand rows.
        db.session.execute(text("SET LOCAL enable_sort = off"))
        db.session.execute(text("SET LOCAL jit = off"))
        result.marked_due_soon, result.marked_overdue = _sweep_postgresql(d, params)
    else:
        result.marked_due_soon, result.marked_overdue = _sweep_portable(d, params)
    result.written, result.messages = _write_messages(d, params)
    return result


#: Most cases one message lists (the earliest due first); the rest are counted and linked, so a
#: huge backlog never makes a message too large for the mail server.
LIST_LIMIT = 1000


def notices_of(run_id: str, kind: str, recipient_agency_id: int | None, limit: int = LIST_LIMIT) -> list:
    """The notices one sweep message announces: the claims of run ``run_id`` of ``kind`` for
    ``recipient_agency_id``, earliest due first, with their case and stage. Rows of
    (visit_id, sequence, due_at, stage, code, title, agency name); at most ``limit``."""
    from ..models import DeadlineNotice, Feedback, StageVisit

    recipient = (DeadlineNotice.recipient_agency_id.is_(None) if recipient_agency_id is None
                 else DeadlineNotice.recipient_agency_id == recipient_agency_id)
    return db.session.execute(
        select(DeadlineNotice.visit_id, DeadlineNotice.sequence, DeadlineNotice.due_at, StageVisit.stage,
               Feedback.code, Feedback.title, Agency.name)
        .join(StageVisit, StageVisit.id == DeadlineNotice.visit_id)
        .join(Feedback, Feedback.id == StageVisit.feedback_id)
        .outerjoin(Agency, Agency.id == StageVisit.agency_id)
        .where(DeadlineNotice.run_id == run_id, DeadlineNotice.kind == kind, recipient)
        .order_by(DeadlineNotice.due_at, Feedback.code).limit(limit)).all()
