"""The plan dashboard: per task, who leads it, its period, the stage bound to it, the cases
handled under it in the chosen window, the on-time rate, what is overdue now, and its due
dates (next one, and whether the last one was met).

Case figures come from the stage visits, which record the task that assigned them: one
``GROUP BY plan_task_id`` query for the whole plan. Due dates come from the parsed
timeframe: a one-off date ("Trước ngày 15/7/2019"), the end of a period ("Quý I/2019"), or
a recurring rule (the quarterly and annual reports). A report's due date is met when every
agency that must file (the office, for the consolidated report) filed before it; another
task's when an admin recorded it done before it.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, case, func, select

from workflows.calendar import TZ

from ..extensions import db
from ..models import Agency, Plan, PlanTask, ReportFiling, StageVisit
from ..models.types import utcnow
from ..reports.periods import due_date, report_period
from .binding import stages_of


@dataclass
class Due:
    before: date  # exclusive
    label: str  # e.g. "Q1/2026", or "" for a one-off date
    met: bool | None  # None: not yet due and not yet done
    detail: str = ""  # e.g. "12/13" agencies filed on time


@dataclass
class TaskRow:
    task: PlanTask
    stages: list[str]
    handled: int = 0
    on_time: int = 0
    overdue_now: int = 0
    entered: int = 0
    next_due: Due | None = None
    last_due: Due | None = None
    dues: list[Due] = dataclass_field(default_factory=list)

    @property
    def on_time_rate(self) -> float | None:
        return None if not self.handled else self.on_time / self.handled


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(), TZ).astimezone(timezone.utc)


def report_agencies(binding: str) -> list[int]:
    """Who must file: the office for the consolidated report; every other active agency otherwise."""
    office = select(Agency.id).where(Agency.is_office.is_(True))
    if binding == "report_consolidated":
        return list(db.session.scalars(office))
    return list(db.session.scalars(select(Agency.id).where(Agency.active.is_(True), Agency.is_office.is_(False))))


def _report_dues(task: PlanTask, years: list[int], today: date) -> list[Due]:
    consolidated = task.binding == "report_consolidated"
    required = report_agencies(task.binding or "report")
    dues = []
    for year in years:
        for rule in task.schedule or []:
            periods = ([f"Q{q}" for q in rule.get("quarters", []) if q <= 3] if rule.get("every") == "quarter"
                       else ["Y"])
            if rule.get("every") == "quarter" and not rule.get("before_day"):
                continue
            for code in periods:
                period = report_period(year, code)
                before = due_date(period, consolidated)
                filed = db.session.execute(
                    select(ReportFiling.agency_id, ReportFiling.filed_at)
                    .where(ReportFiling.year == year, ReportFiling.period == code,
                           ReportFiling.agency_id.in_(required))).all()
                on_time = sum(1 for _, at in filed if at < _utc(before))
                if required and on_time == len(required):
                    met = True
                else:
                    met = False if before <= today else None
                dues.append(Due(before, period.title, met, f"{on_time}/{len(required)}"))
    return sorted(dues, key=lambda d: d.before)


def task_dues(task: PlanTask, today: date) -> list[Due]:
    """The due dates of a task, in order."""
    if task.binding in ("report", "report_consolidated") and task.schedule:
        years = sorted({today.year - 1, today.year, today.year + 1} if not task.period_start
                       else set(range(task.period_start.year, task.period_end.year + 1)))
        return _report_dues(task, years, today)
    before = task.due_before or (task.period_end + timedelta(days=1) if task.timeframe_kind == "period"
                                 and task.period_end else None)
    if before is None:
        return []
    if task.done_on is not None:
        met = task.done_on < before
    else:
        met = False if before <= today else None
    return [Due(before, "", met)]


def dashboard_window(year: int | None, quarter: int | None, today: date) -> tuple[date, date, str]:
    """The local-date window [start, end) of a dashboard and its label: a quarter of ``year``
    ("Q2/2026"), or the whole year ("2026"); the current year when ``year`` is None."""
    year = year or today.year
    if quarter:
        start = date(year, 3 * (quarter - 1) + 1, 1)
        end = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
        return start, end, f"Q{quarter}/{year}"
    return date(year, 1, 1), date(year + 1, 1, 1), str(year)


def dashboard(plan: Plan, window: tuple[date, date], now: datetime | None = None) -> list[TaskRow]:
    """The rows of ``plan``'s dashboard for the local-date window [start, end)."""
    now = now or utcnow()
    today = now.astimezone(TZ).date()
    start, end = _utc(window[0]), _utc(window[1])
    rows = {t.id: TaskRow(t, stages_of(t.binding) if t.binding else []) for t in plan.tasks if not t.is_group}
    if rows:
        finished_in = and_(StageVisit.finished_at >= start, StageVisit.finished_at < end)
        figures = db.session.execute(
            select(StageVisit.plan_task_id,
                   func.count(func.distinct(case((finished_in, StageVisit.feedback_id)))),
                   func.count(func.distinct(case((and_(finished_in, StageVisit.finished_at <= StageVisit.due_at),
                                                  StageVisit.feedback_id)))),
                   func.count(func.distinct(case((and_(StageVisit.finished_at.is_(None), StageVisit.due_at < now),
                                                  StageVisit.feedback_id)))),
                   func.count(func.distinct(case((and_(StageVisit.entered_at >= start, StageVisit.entered_at < end),
                                                  StageVisit.feedback_id)))))
            .where(StageVisit.plan_task_id.in_(list(rows)))
            .group_by(StageVisit.plan_task_id)).all()
        for task_id, handled, on_time, overdue, entered in figures:
            row = rows[task_id]
            row.handled, row.on_time, row.overdue_now, row.entered = handled, on_time, overdue, entered
    for row in rows.values():
        row.dues = task_dues(row.task, today)
        row.next_due = next((d for d in row.dues if d.before > today), None)
        row.last_due = next((d for d in reversed(row.dues) if d.before <= today), None)
    return [rows[t.id] for t in plan.tasks if t.id in rows]
