"""The deadline sweep: marks due-soon and overdue stage visits and writes reminders,
escalations and progress-update notices to the outbox, each exactly once.

Run it from cron (``flask --app wsgi pakn sweep``) or as the periodic RQ job
:func:`pakn.deadlines.jobs.sweep_job` (scheduled by ``rq cron pakn/deadlines/cron.py``).

What a run does, in one transaction, with set-based SQL only (INSERT … SELECT and
UPDATE … WHERE; no case is ever loaded into Python):

1. **Escalation** of every open visit past its legal due date (``due_at``), not paused and
   not yet marked overdue: an ``office.escalation`` to the office lead for every stage and, for
   the agency's stage (``handle``), an ``agency.escalation`` to the agency lead; payload
   ``{"visit_id", "stage", "due_at"}``. The visit becomes ``overdue``.
2. **Progress updates** while a ``handle`` visit is overdue: ``agency.progress_update_due``
   at once, then every ``progress_update_days`` days (the visit's settings version; 7 by
   law); payload ``{"visit_id", "due_at"}`` where ``due_at`` ends the period in which the
   update is due (due date + k periods, k = the notice's sequence).
3. **Reminders** ``reminder_days`` working days before the due date (``remind_at``, computed
   with the calendar when the clock started): an ``agency.reminder`` to the responsible
   agency (the office for its own stages), payload ``{"visit_id", "stage", "due_at"}``. The
   visit becomes ``due_soon``.

Exactly once, even when two sweeps run at once: every notice is *claimed* as a
:class:`~pakn.models.DeadlineNotice` row whose (visit, kind, sequence) key is unique, with
``INSERT … ON CONFLICT DO NOTHING``; the outbox rows are then written only for the claims
this run inserted (its ``run_id``). On PostgreSQL each step is one statement: the candidate
visits are taken with ``FOR UPDATE SKIP LOCKED`` (a second sweep skips what the first is
working on instead of waiting), updated, and the claims inserted from the rows the UPDATE
returned. On SQLite the claims come first and the writers are serialised by the database
lock (the first statement of the run is already a write).

The internal extension record (``extended_due_at``) does not move the legal due date: the
law has no extension, only progress updates, so the sweep and the SLA figures use ``due_at``.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, text

from ..extensions import db
from ..models.types import UTCDateTime, utcnow
from ..operations.clock import default_settings

#: The stage whose clock is the agency's answer (escalated to the agency lead, progress updates).
AGENCY_STAGE = "handle"

NOTICE_KINDS = ("agency.reminder", "agency.escalation", "office.escalation", "agency.progress_update_due")


@dataclass
class SweepResult:
    """What one sweep wrote: outbox rows per kind, and visits newly marked."""

    run_id: str
    now: datetime
    written: dict[str, int] = field(default_factory=dict)
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

    def iso(self, column: str) -> str:
        if self.pg:
            return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')"
        return f"strftime('%Y-%m-%dT%H:%M:%S+00:00', {column})"

    def json(self, *pairs: str) -> str:
        return ("jsonb_build_object(" if self.pg else "json_object(") + ", ".join(pairs) + ")"


def _execute(sql: str, params: dict, scalar: bool = False) -> int:
    statement = text(sql)
    if ":now" in sql:
        statement = statement.bindparams(bindparam("now", type_=UTCDateTime()))
    result = db.session.execute(statement, {k: v for k, v in params.items() if f":{k}" in sql})
    return (result.scalar() or 0) if scalar else (result.rowcount or 0)


_OPEN = "v.finished_at IS NULL AND v.paused_at IS NULL"
_CLAIM = "INSERT INTO deadline_notice (visit_id, kind, sequence, due_at, recipient_agency_id, run_id, created_at) "
_OFFICE = "(SELECT a.id FROM agency a WHERE a.is_office LIMIT 1)"
_OVERDUE = f"{_OPEN} AND v.due_status <> 'overdue' AND v.due_at < :now"
_SOON = f"{_OPEN} AND v.due_status = 'pending' AND v.remind_at <= :now AND v.due_at >= :now"
_PROGRESS = f"{_OPEN} AND v.next_progress_at IS NOT NULL AND v.next_progress_at <= :now AND v.agency_id IS NOT NULL"
_PERIOD = ("COALESCE((SELECT cs.progress_update_days FROM clock_setting cs"
           " WHERE cs.id = v.clock_setting_id), :period)")


def _pg_step(d: _Dialect, params: dict, update: str, claims: str, payload: str) -> tuple[int, dict]:
    """One PostgreSQL statement: ``update`` (a CTE "marked" locking its candidates with FOR UPDATE
    SKIP LOCKED and RETURNING them), ``claims`` (INSERT … ON CONFLICT DO NOTHING RETURNING
    what was claimed), then the outbox rows of exactly those claims. Returns the number of
    visits updated and the outbox rows written per kind."""
    row = db.session.execute(text(
        f"WITH marked AS ({update}), office AS (SELECT {_OFFICE} AS id),"
        f" claims AS ({_CLAIM} {claims} ON CONFLICT DO NOTHING"
        " RETURNING visit_id, kind, due_at, recipient_agency_id),"
        " sent AS (INSERT INTO outbox_message (created_at, kind, feedback_id, recipient_kind,"
        " recipient_agency_id, payload, status, attempts, available_at)"
        " SELECT :now, c.kind, m.feedback_id,"
        " CASE WHEN c.kind LIKE 'office.%' THEN 'office' ELSE 'agency' END, c.recipient_agency_id,"
        f" {payload}, 'pending', 0, :now FROM claims c JOIN marked m ON m.id = c.visit_id"
        " ORDER BY c.visit_id, c.kind RETURNING kind)"
        " SELECT (SELECT count(*) FROM marked),"
        " (SELECT coalesce(jsonb_object_agg(kind, n), '{}'::jsonb)"
        "  FROM (SELECT kind, count(*) AS n FROM sent GROUP BY kind) k)"
    ).bindparams(bindparam("now", type_=UTCDateTime())),
        {k: v for k, v in params.items() if k in ("now", "run", "period", "stage")}).one()
    return int(row[0]), dict(row[1])


def _sweep_postgresql(d: _Dialect, params: dict) -> tuple[int, int, dict]:
    """Each step is one statement: the candidate visits are locked with FOR UPDATE SKIP LOCKED
    (a concurrent sweep skips them), updated, the claims inserted from what the UPDATE
    returned (ON CONFLICT DO NOTHING guards claims that exist already) and the outbox rows
    written from the claims actually inserted. Nothing is read twice."""
    with_stage = d.json("'visit_id'", "c.visit_id", "'stage'", "m.stage", "'due_at'", d.iso("c.due_at"))
    without_stage = d.json("'visit_id'", "c.visit_id", "'due_at'", d.iso("c.due_at"))
    written: dict[str, int] = {}
    overdue, kinds = _pg_step(
        d, params,
        "UPDATE stage_visit v SET due_status = 'overdue',"
        " next_progress_at = CASE WHEN v.stage = :stage THEN v.due_at END"
        f" FROM (SELECT v.id FROM stage_visit v WHERE {_OVERDUE} FOR UPDATE SKIP LOCKED) pick"
        " WHERE v.id = pick.id RETURNING v.id, v.feedback_id, v.stage, v.due_at, v.agency_id",
        "SELECT m.id, 'office.escalation', 1, m.due_at, office.id, :run, :now FROM marked m, office"
        " UNION ALL SELECT m.id, 'agency.escalation', 1, m.due_at, m.agency_id, :run, :now FROM marked m, office"
        " WHERE m.stage = :stage AND m.agency_id IS NOT NULL AND m.agency_id IS DISTINCT FROM office.id",
        with_stage)
    written.update(kinds)
    k = d.periods_since("v.due_at", _PERIOD)
    _, kinds = _pg_step(
        d, params,
        f"UPDATE stage_visit v SET progress_seq = {k},"
        f" next_progress_at = {d.plus_days('v.due_at', f'{k} * {_PERIOD}')}"
        f" FROM (SELECT v.id FROM stage_visit v WHERE {_PROGRESS} FOR UPDATE SKIP LOCKED) pick"
        " WHERE v.id = pick.id"
        " RETURNING v.id, v.feedback_id, v.stage, v.progress_seq, v.next_progress_at, v.agency_id",
        "SELECT m.id, 'agency.progress_update_due', m.progress_seq, m.next_progress_at, m.agency_id,"
        " :run, :now FROM marked m",
        without_stage)
    written.update(kinds)
    soon, kinds = _pg_step(
        d, params,
        "UPDATE stage_visit v SET due_status = 'due_soon'"
        f" FROM (SELECT v.id FROM stage_visit v WHERE {_SOON} AND v.agency_id IS NOT NULL"
        " FOR UPDATE SKIP LOCKED) pick WHERE v.id = pick.id"
        " RETURNING v.id, v.feedback_id, v.stage, v.due_at, v.agency_id",
        "SELECT m.id, 'agency.reminder', 1, m.due_at, m.agency_id, :run, :now FROM marked m",
        with_stage)
    written.update(kinds)
    return soon, overdue, written


def _sweep_portable(d: _Dialect, params: dict) -> tuple[int, int, dict]:
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
             f" FROM stage_visit v WHERE {_SOON} AND v.agency_id IS NOT NULL ON CONFLICT DO NOTHING", params)
    soon = _execute(
        f"UPDATE stage_visit SET due_status = 'due_soon' WHERE id IN (SELECT v.id FROM stage_visit v WHERE {_SOON}"
        " AND EXISTS (SELECT 1 FROM deadline_notice n WHERE n.visit_id = v.id"
        " AND n.kind = 'agency.reminder'))", params)

    # The outbox rows, one per claim of this run.
    with_stage = d.json("'visit_id'", "n.visit_id", "'stage'", "v.stage", "'due_at'", d.iso("n.due_at"))
    without_stage = d.json("'visit_id'", "n.visit_id", "'due_at'", d.iso("n.due_at"))
    _execute(
        "INSERT INTO outbox_message (created_at, kind, feedback_id, recipient_kind, recipient_agency_id,"
        " payload, status, attempts, available_at)"
        " SELECT :now, n.kind, v.feedback_id,"
        " CASE WHEN n.kind LIKE 'office.%' THEN 'office' ELSE 'agency' END, n.recipient_agency_id,"
        f" CASE WHEN n.kind = 'agency.progress_update_due' THEN {without_stage} ELSE {with_stage} END,"
        " 'pending', 0, :now"
        " FROM deadline_notice n JOIN stage_visit v ON v.id = n.visit_id WHERE n.run_id = :run"
        " ORDER BY n.id", params)
    counts = db.session.execute(
        text("SELECT kind, count(*) FROM deadline_notice WHERE run_id = :run GROUP BY kind"),
        {"run": params["run"]}).all()
    return soon, overdue, {kind: count for kind, count in counts}


def run_sweep(now: datetime | None = None) -> SweepResult:
    """One sweep at ``now`` (default: the current instant). Only flushes: the caller commits
    (``transaction()``), and a rollback undoes the claims and the outbox rows together."""
    now = now or utcnow()
    d = _Dialect(db.session.get_bind().dialect.name)
    result = SweepResult(run_id=uuid.uuid4().hex, now=now)
    params = {"now": now, "run": result.run_id,
              "period": int(default_settings()["progress_update_days"]), "stage": AGENCY_STAGE}
    step = _sweep_postgresql if d.pg else _sweep_portable
    result.marked_due_soon, result.marked_overdue, result.written = step(d, params)
    return result
