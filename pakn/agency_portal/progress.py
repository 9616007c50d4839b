"""Progress updates once a case is overdue (TT 02/2017, QĐ 574: "07 ngày một lần").

The rule as the portal applies it (days from ``CLOCK["progress_update_days"]``, default 7):

* the legal answer clock is ``Feedback.answer_due_at`` (20 days from receipt); an internal
  extension record does not move it (the law has no extension, only progress updates);
* the first update is due when the answer becomes late, i.e. at ``answer_due_at``;
* each later one is due ``progress_update_days`` calendar days after the previous update
  (an update posted shortly before the deadline counts for its own period too):
  ``next_due = max(answer_due_at, last_update + days)``;
* it is required while the agency still handles the case (answer not yet submitted).

The update itself is the workflow's ``post_progress`` transition, whose outbox row
``submitter.progress_update`` carries it to the submitter.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from workflows.pakn import HANDLING

from ..extensions import db
from ..models import AuditEvent, Feedback


@dataclass(frozen=True)
class ProgressStatus:
    """Where a case stands with its progress updates."""

    overdue: bool  # the answer is late
    last_update_at: datetime | None
    next_due_at: datetime  # when the next update is due (the answer deadline if none yet)
    required: bool  # an update is due now

    @property
    def days(self) -> int:
        return int(current_app.config["CLOCK"]["progress_update_days"])


def last_progress_update(case: Feedback) -> datetime | None:
    return db.session.scalar(select(func.max(AuditEvent.at)).where(
        AuditEvent.feedback_id == case.id, AuditEvent.action == "post_progress"))


def progress_status(case: Feedback, now: datetime) -> ProgressStatus | None:
    """The case's progress-update status, or None when no update can be asked for
    (not being handled by an agency, or no answer clock)."""
    if not _asked(case):
        return None
    return _status(case, last_progress_update(case), now)


def _asked(case) -> bool:
    """Whether a progress update can be asked for: being handled by an agency, with an answer clock."""
    return case.state in HANDLING and case.answer_due_at is not None


def progress_statuses(cases: list[Feedback], now: datetime) -> dict[int, ProgressStatus | None]:
    """:func:`progress_status` of each case by id, with one query for the whole list (an inbox
    page) instead of one per case."""
    return statuses(cases, last_progress_updates(cases), now)


def last_progress_updates(cases) -> dict[int, datetime]:
    """The last progress update of each case (``id``, ``state``, ``answer_due_at``) an update
    can be asked for, by id (cases without any are absent): one query for the list."""
    asked = sorted(c.id for c in cases if _asked(c))
    return dict(db.session.execute(
        select(AuditEvent.feedback_id, func.max(AuditEvent.at))
        .where(AuditEvent.feedback_id.in_(asked), AuditEvent.action == "post_progress")
        .group_by(AuditEvent.feedback_id)).all()) if asked else {}


def statuses(cases, last: dict[int, datetime], now: datetime) -> dict[int, ProgressStatus | None]:
    """:func:`progress_status` of each case by id, given :func:`last_progress_updates`."""
    return {c.id: _status(c, last.get(c.id), now) if _asked(c) else None for c in cases}


def _status(case: Feedback, last: datetime | None, now: datetime) -> ProgressStatus:
    days = int(current_app.config["CLOCK"]["progress_update_days"])
    next_due = case.answer_due_at if last is None else max(case.answer_due_at, last + timedelta(days=days))
    overdue = now > case.answer_due_at
    return ProgressStatus(overdue=overdue, last_update_at=last, next_due_at=next_due,
                          required=overdue and now >= next_due)
