"""SLA figures: how many stage clocks were met, by agency, field and stage, for any period.

For dashboards and reports (issue 8 and the office console)::

    from pakn.deadlines.sla import sla_rows, sla_totals
    rows = sla_rows(date(2026, 1, 1), date(2026, 3, 31))            # by agency, field, stage
    rows = sla_rows(start, end, by=("agency",))                      # any subset of the three
    total = sla_totals(rows)

A stage visit belongs to the period when its legal due date (the local day, ``due_date``)
falls in [start, end]. Each row counts, for its group:

- ``finished_on_time`` / ``finished_late``: visits that ended on or before / after ``due_at``;
- ``open_on_time`` / ``open_overdue``: visits still open, not yet due / past due at ``now``;
- ``stopped``: visits ended by withdrawal (the clock stopped; counted in neither).

The legal due date is used, never an internal extension (the law has none). One GROUP BY
query; nothing is loaded per case.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, null, select

from ..extensions import db
from ..models import Agency, Feedback, Field, StageVisit
from ..models.types import utcnow

DIMENSIONS = ("agency", "field", "stage")
STOPPED_OUTCOMES = ("withdraw",)


@dataclass(frozen=True)
class SlaRow:
    agency_id: int | None
    agency_name: str | None
    field_code: str | None
    field_name: str | None
    stage: str | None
    total: int
    finished_on_time: int
    finished_late: int
    open_on_time: int
    open_overdue: int
    stopped: int

    @property
    def on_time(self) -> int:
        return self.finished_on_time + self.open_on_time

    @property
    def overdue(self) -> int:
        return self.finished_late + self.open_overdue

    @property
    def on_time_rate(self) -> float | None:
        """Share of finished visits that finished on time (None when none finished)."""
        done = self.finished_on_time + self.finished_late
        return self.finished_on_time / done if done else None


def sla_rows(start: date, end: date, *, by: tuple[str, ...] = DIMENSIONS, now: datetime | None = None,
             agency_id: int | None = None) -> list[SlaRow]:
    """The figures for visits due in [``start``, ``end``], grouped by ``by`` (a subset of
    "agency", "field", "stage"), optionally for one agency only. Raises ValueError for an
    unknown dimension or an empty period."""
    unknown = set(by) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown SLA dimension(s): {sorted(unknown)}")
    if end < start:
        raise ValueError("the period ends before it starts")
    now = now or utcnow()
    stopped = StageVisit.outcome.in_(STOPPED_OUTCOMES)
    finished = and_(StageVisit.finished_at.is_not(None), ~stopped)

    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    columns = {
        "agency_id": StageVisit.agency_id if "agency" in by else null(),
        "agency_name": Agency.name if "agency" in by else null(),
        "field_code": Field.code if "field" in by else null(),
        "field_name": Field.name if "field" in by else null(),
        "stage": StageVisit.stage if "stage" in by else null(),
    }
    query = (
        select(*[c.label(name) for name, c in columns.items()],
               func.count().label("total"),
               count(and_(finished, StageVisit.finished_at <= StageVisit.due_at)).label("finished_on_time"),
               count(and_(finished, StageVisit.finished_at > StageVisit.due_at)).label("finished_late"),
               count(and_(StageVisit.finished_at.is_(None), StageVisit.due_at >= now)).label("open_on_time"),
               count(and_(StageVisit.finished_at.is_(None), StageVisit.due_at < now)).label("open_overdue"),
               count(stopped).label("stopped"))
        .select_from(StageVisit)
        .join(Feedback, Feedback.id == StageVisit.feedback_id)
        .outerjoin(Agency, Agency.id == StageVisit.agency_id)
        .outerjoin(Field, Field.id == Feedback.field_id)
        .where(StageVisit.due_date >= start, StageVisit.due_date <= end)
    )
    if agency_id is not None:
        query = query.where(StageVisit.agency_id == agency_id)
    groups = []
    if "agency" in by:
        groups += [StageVisit.agency_id, Agency.name]
    if "field" in by:
        groups += [Field.code, Field.name]
    if "stage" in by:
        groups += [StageVisit.stage]
    if groups:
        query = query.group_by(*groups).order_by(*groups)
    return [SlaRow(**row._mapping) for row in db.session.execute(query)]


def sla_totals(rows: list[SlaRow]) -> SlaRow:
    """The sum of ``rows`` (one row, every dimension None)."""
    keys = ("total", "finished_on_time", "finished_late", "open_on_time", "open_overdue", "stopped")
    return SlaRow(None, None, None, None, None, **{k: sum(getattr(r, k) for r in rows) for k in keys})
