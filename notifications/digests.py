"""Daily digests: the office's list of overdue cases, and each agency's cases in hand.

:func:`write_digests` writes the day's ``office.overdue_digest`` and ``agency.daily_digest``
outbox rows once per day (a unique ``dedupe_key`` per day and agency, so running it again,
from two relays at once, adds nothing). The rows carry only ``{"date"}``; the delivering job
lists the cases as they are when it runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pakn.extensions import db
from pakn.models import Agency, Feedback, OutboxMessage, StageVisit, User
from pakn.models.types import utcnow
from workflows.calendar import TZ
from workflows.pakn import WORKFLOW




@dataclass
class DigestRow:
    code: str
    title: str
    stage: str
    agency: str
    due_on: str
    overdue_days: int  # > 0 when overdue


def _due(visit: StageVisit) -> datetime | None:
    return visit.extended_due_at or visit.due_at


def _rows(query, now: datetime) -> list[DigestRow]:
    out = []
    for visit, case, agency_name in db.session.execute(query):
        due = _due(visit)
        overdue = (now.astimezone(TZ).date() - due.astimezone(TZ).date()).days if due else 0
        out.append(DigestRow(case.code, case.title, WORKFLOW.stages[visit.stage].label, agency_name or "",
                             due.astimezone(TZ).strftime("%d/%m/%Y") if due else "", max(overdue, 0)))
    return out


def _open_visits():
    return (select(StageVisit, Feedback, Agency.name)
            .join(Feedback, Feedback.id == StageVisit.feedback_id)
            .outerjoin(Agency, Agency.id == StageVisit.agency_id)
            .where(StageVisit.finished_at.is_(None))
            .order_by(func.coalesce(StageVisit.extended_due_at, StageVisit.due_at), Feedback.id))


def overdue_rows(day: str | None = None, now: datetime | None = None) -> list[DigestRow]:
    """Every open stage visit past its (possibly extended) due time, most overdue first."""
    now = now or utcnow()
    query = _open_visits().where(func.coalesce(StageVisit.extended_due_at, StageVisit.due_at) < now)
    return _rows(query, now)


def agency_rows(agency_id: int | None, day: str | None = None, now: datetime | None = None) -> list[DigestRow]:
    """The agency's open stage visits, by due date (overdue ones first)."""
    now = now or utcnow()
    return _rows(_open_visits().where(StageVisit.agency_id == agency_id), now)


def _add_once(key: str, **fields) -> bool:
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(OutboxMessage(dedupe_key=key, **fields))
    except IntegrityError:  # another relay wrote it first
        return False
    return True


def write_digests(day: date | None = None, now: datetime | None = None) -> int:
    """Write the day's digest rows that do not exist yet; returns how many were written.

    Flushes only; the caller commits (``transaction()``), and the relay sends them after commit.
    """
    now = now or utcnow()
    day = day or now.astimezone(TZ).date()
    written = 0
    office = db.session.scalar(select(Agency).where(Agency.is_office.is_(True)))
    if office is not None and overdue_rows(now=now):
        written += _add_once(f"office.overdue_digest:{day.isoformat()}", kind="office.overdue_digest",
                             recipient_kind="office", recipient_agency_id=office.id,
                             payload={"date": day.isoformat()})
    agencies = db.session.scalars(
        select(Agency).where(Agency.id.in_(select(StageVisit.agency_id).where(StageVisit.finished_at.is_(None))),
                             Agency.is_office.is_(False)).order_by(Agency.id))
    for agency in agencies:
        if not agency.email and db.session.scalar(
                select(User.id).where(User.agency_id == agency.id, User.active.is_(True)).limit(1)) is None:
            continue  # nobody to read it: an agency without accounts gets its cases by e-mail only
        written += _add_once(f"agency.daily_digest:{agency.id}:{day.isoformat()}", kind="agency.daily_digest",
                             recipient_kind="agency", recipient_agency_id=agency.id,
                             payload={"date": day.isoformat()})
    return written


def digest_due(now: datetime, hour: int) -> bool:
    """Whether the day's digests should be written by now (from ``hour`` local time)."""
    return now.astimezone(TZ).hour >= hour


