"""The agency dashboard's figures, all within the user's own agency.

* **Workload**: the cases the agency handles now (``workflows.pakn.HANDLING``), by state.
* **Due soon / overdue**: against the legal answer clock (``Feedback.answer_due_at``).
* **On-time rate this quarter**: of the cases whose answer the agency submitted to the
  office this quarter (local calendar quarter, Asia/Ho_Chi_Minh), the share submitted by
  the answer deadline. Counted from the stage visits the agency was responsible for
  (``StageVisit.agency_id``): a ``handle`` visit ended by ``submit_answer``; a case answered
  twice in the quarter (the office returned the first answer) counts once, by its last
  submission. A case the agency returned as not competent is not counted.
* **By officer**: the same per assignee (the current assignee of each case).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import select

from workflows.calendar import TZ
from workflows.pakn import HANDLING, WORKFLOW

from ..access import visible_cases
from ..extensions import db
from ..models import Feedback, StageVisit, User
from .progress import progress_statuses
from .queries import agency_officers


def quarter_start(now: datetime) -> datetime:
    """The first instant of the local calendar quarter containing ``now`` (UTC)."""
    local = now.astimezone(TZ).date()
    first = date(local.year, 3 * ((local.month - 1) // 3) + 1, 1)
    return datetime.combine(first, time(0, 0), TZ).astimezone(timezone.utc)


@dataclass
class Row:
    """Figures of one officer (or of unassigned cases, ``user`` None)."""

    user: User | None
    open: int = 0
    due_soon: int = 0
    overdue: int = 0
    progress_due: int = 0
    answered: int = 0
    on_time: int = 0

    @property
    def rate(self) -> float | None:
        return self.on_time / self.answered if self.answered else None


@dataclass
class Stats:
    quarter_from: datetime
    by_state: list[tuple[str, int]]
    total: Row
    by_officer: list[Row] = field(default_factory=list)


def dashboard_stats(user: User, now: datetime) -> Stats:
    horizon = now + timedelta(days=current_app.config["AGENCY_DUE_SOON_DAYS"])
    open_cases = list(db.session.scalars(visible_cases(user).where(Feedback.state.in_(HANDLING))))
    rows: dict[int | None, Row] = {u.id: Row(u) for u in agency_officers(user.agency_id)}
    total = Row(None)
    statuses = progress_statuses([c for c in open_cases if c.answer_due_at is not None and c.answer_due_at < now],
                                 now)
    by_state: dict[str, int] = defaultdict(int)

    def row_for(assignee_id):
        if assignee_id not in rows:
            rows[assignee_id] = Row(db.session.get(User, assignee_id) if assignee_id else None)
        return rows[assignee_id]

    for case in open_cases:
        by_state[case.state] += 1
        due = case.answer_due_at
        flags = {"open": 1, "due_soon": int(due is not None and now <= due < horizon),
                 "overdue": int(due is not None and due < now)}
        status = statuses.get(case.id) if flags["overdue"] else None
        flags["progress_due"] = int(bool(status and status.required))
        for target in (row_for(case.assignee_id), total):
            for key, value in flags.items():
                setattr(target, key, getattr(target, key) + value)

    start = quarter_start(now)
    visits = db.session.execute(
        select(StageVisit, Feedback.assignee_id).join(Feedback, Feedback.id == StageVisit.feedback_id)
        .where(StageVisit.agency_id == user.agency_id, StageVisit.stage == "handle",
               StageVisit.outcome == "submit_answer", StageVisit.finished_at >= start,
               StageVisit.finished_at <= now)
        .order_by(StageVisit.finished_at)).all()
    last: dict[int, tuple[StageVisit, int | None]] = {}
    for visit, assignee_id in visits:
        last[visit.feedback_id] = (visit, assignee_id)  # ordered: the last submission wins
    for visit, assignee_id in last.values():
        on_time = int(visit.due_at is None or visit.finished_at <= visit.due_at)
        for target in (row_for(assignee_id), total):
            target.answered += 1
            target.on_time += on_time

    order = list(WORKFLOW.states)
    officers = sorted((r for r in rows.values() if r.user is not None),
                      key=lambda r: (r.user.full_name, r.user.id))
    unassigned = [rows[None]] if None in rows else []
    return Stats(start, sorted(by_state.items(), key=lambda kv: order.index(kv[0])), total,
                 officers + unassigned)
