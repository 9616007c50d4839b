"""Deadlines of stage visits: the workflow's deadline specs, the versioned clock settings and the calendar.

Every due date is computed here and nowhere else:

- :func:`set_visit_clock` when a stage visit opens (called by the operations layer);
- :func:`answer_deadline` for the case's legal answer clock (``Feedback.answer_due_at``);
- :func:`pause_clock` / :func:`resume_clock` around a request for information, when the
  settings in force for the visit say the clock pauses;
- :func:`recompute_open_due_dates` when an admin changes the calendar.

A visit stores the clock-settings version it started under (``clock_setting_id``), its rule
(days, unit, anchor) and the working days it was paused, so recomputing never picks up a
newer rule: a case keeps the rule in force when its clock started. :func:`explain_visit` turns
those back into the structured explanation of :func:`workflows.calendar.explain_due`.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import select

from workflows.calendar import (
    TZ, DayKind, DayUnit, Deadline, DeadlineRule, DueExplanation, OverlayDay, WorkingCalendar, explain_due,
    to_local_date,
)
from workflows.engine import DeadlineSpec
from workflows.pakn import WORKFLOW

from .. import reference
from ..extensions import db
from ..models import AuditEvent, CalendarOverlay, ClockSetting, Feedback, StageVisit

#: Settings the configuration does not carry, with their defaults (shared/domain.md).
EXTRA_DEFAULTS = {
    "result_entry_days": 2,  # working days to enter a result once it exists
    "reminder_days": 1,  # remind this many working days before the due date
    "needs_info_pauses": False,  # the law's clock does not stop unless the province says so
}
#: Final states: no clock runs any more.
_STOPPED = tuple(k for k, s in WORKFLOW.states.items() if s.final) + ("published",)


# -- settings ---------------------------------------------------------------------------
def default_settings() -> dict:
    """The legal defaults as configured (``Config.CLOCK``), completed with the extra settings."""
    return {**EXTRA_DEFAULTS, **current_app.config["CLOCK"]}


def current_clock_setting() -> ClockSetting | None:
    """The newest clock-settings version, or None while only the configured defaults apply."""
    return db.session.scalar(select(ClockSetting).order_by(ClockSetting.id.desc()).limit(1))


def current_clock_setting_id() -> int | None:
    """The id of the version in force (None: the configured defaults), kept per process until
    the reference data change (:mod:`pakn.reference`)."""
    return reference.cached("clock_setting_id", lambda: db.session.scalar(
        select(ClockSetting.id).order_by(ClockSetting.id.desc()).limit(1)))


def settings_of(version_id: int | None) -> dict:
    """The settings of a version (None: the configured defaults). Shared: do not change it."""
    if version_id is None:
        return default_settings()

    def load() -> dict:
        row = db.session.get(ClockSetting, version_id)
        return {**default_settings(), **row.as_settings()} if row else default_settings()
    return reference.cached(("clock_settings", version_id), load)


def clock_settings() -> dict:
    """The clock settings in force now (per province; defaults are the legal values)."""
    return settings_of(current_clock_setting_id())


# -- calendar ---------------------------------------------------------------------------
def _load_calendar() -> WorkingCalendar:
    rows = db.session.execute(select(CalendarOverlay.day, CalendarOverlay.kind, CalendarOverlay.note)).all()
    return WorkingCalendar([OverlayDay(day, DayKind(kind), note) for day, kind, note in rows])


def working_calendar() -> WorkingCalendar:
    """The statutory calendar plus the admin overlay: in a request, kept per process until the
    reference data change (:mod:`pakn.reference`); outside one (jobs, the CLI), built once per
    app context, as a batch computes many due dates on one calendar."""
    if has_request_context():
        return reference.cached("calendar", _load_calendar)
    if has_app_context() and "pakn_calendar" in g:
        return g.pakn_calendar
    calendar = _load_calendar()
    if has_app_context():
        g.pakn_calendar = calendar
    return calendar


def forget_calendar() -> None:
    """Forget the calendar this request or app context holds (after the overlay changed)."""
    reference.forget()
    if has_app_context():
        g.pop("pakn_calendar", None)


# -- rules and deadlines ----------------------------------------------------------------
def rule_for(spec: DeadlineSpec, settings: dict | None = None) -> DeadlineRule:
    """The rule of a stage under ``settings`` (default: the settings in force now)."""
    settings = settings if settings is not None else clock_settings()
    unit = DayUnit(settings[spec.unit_setting]) if spec.unit_setting else spec.unit
    return DeadlineRule(int(settings.get(spec.setting, spec.default_days)), unit)


def _end_of_local_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), TZ).astimezone(timezone.utc)


def _start_of_local_day(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), TZ).astimezone(timezone.utc)


def stage_deadline(spec: DeadlineSpec, case: Feedback, entered_at: datetime) -> Deadline:
    """When a visit of a stage with ``spec`` falls due, before any pause: counted from the stage
    entry, or from the case's receipt for the submitter's answer clock (which keeps running
    across returns, under the settings version of the case)."""
    if spec.anchor == "received":
        return working_calendar().deadline(case.received_at, rule_for(spec, settings_of(case.clock_setting_id)))
    return working_calendar().deadline(entered_at, rule_for(spec))


def answer_deadline(case: Feedback) -> DueExplanation:
    """The case's legal answer clock: from receipt, under the case's settings version, moved by
    the working days it was paused."""
    spec = WORKFLOW.stages["handle"].deadline
    return explain_due(working_calendar(), case.received_at, rule_for(spec, settings_of(case.clock_setting_id)),
                       case.answer_paused_days or 0)


def start_case_clock(case: Feedback) -> None:
    """At receipt: pin the settings version in force and compute ``answer_due_at``."""
    case.clock_setting_id = current_clock_setting_id()
    case.answer_paused_days = 0
    case.answer_due_at = answer_deadline(case).due_at


def _visit_start(visit: StageVisit, case: Feedback) -> datetime:
    return case.received_at if (visit.rule or {}).get("anchor") == "received" else visit.entered_at


def _apply(visit: StageVisit, explanation: DueExplanation, settings: dict) -> None:
    visit.due_at, visit.due_date = explanation.due_at, explanation.due_date
    visit.explanation = explanation.as_dict()
    remind_day = working_calendar().subtract_working_days(explanation.due_date, int(settings["reminder_days"]))
    visit.remind_at = _start_of_local_day(remind_day)


def set_visit_clock(visit: StageVisit, spec: DeadlineSpec, case: Feedback) -> None:
    """Open a visit's clock: pin the settings version, store the rule, the due date, its
    explanation and the reminder instant. The answer clock (anchor "received") keeps the
    case's version and its pauses."""
    if spec.anchor == "received":
        version_id, paused = case.clock_setting_id, case.answer_paused_days or 0
    else:
        version_id, paused = current_clock_setting_id(), 0
    settings = settings_of(version_id)
    rule = rule_for(spec, settings)
    start = case.received_at if spec.anchor == "received" else visit.entered_at
    visit.clock_setting_id, visit.paused_days = version_id, paused
    visit.rule = {"setting": spec.setting, "days": rule.days, "unit": rule.unit.value, "anchor": spec.anchor}
    _apply(visit, explain_due(working_calendar(), start, rule, paused), settings)


def visit_explanation(visit: StageVisit, case: Feedback | None = None) -> DueExplanation | None:
    """Recompute the explanation of a visit's due date from its stored rule, start and pauses
    on today's calendar (None for a visit without a clock)."""
    if not visit.rule:
        return None
    case = case or visit.feedback
    rule = DeadlineRule(int(visit.rule["days"]), DayUnit(visit.rule["unit"]))
    return explain_due(working_calendar(), _visit_start(visit, case), rule, visit.paused_days or 0)


def explain_visit(visit: StageVisit) -> dict[str, Any]:
    """Everything needed to explain a visit's due date, for pages and the office console:
    the structured explanation (start, rule, days skipped and why, pauses), the settings
    version, the anchor, the stored due date, any internal extension and the sweep status."""
    case = visit.feedback
    explanation = visit_explanation(visit, case)
    stage = WORKFLOW.stages.get(visit.stage)
    return {
        "visit_id": visit.id, "case_code": case.code, "stage": visit.stage,
        "stage_label": stage.label if stage else visit.stage,
        "anchor": (visit.rule or {}).get("anchor"), "setting": (visit.rule or {}).get("setting"),
        "clock_setting_id": visit.clock_setting_id,
        "due_at": visit.due_at.isoformat() if visit.due_at else None,
        "remind_at": visit.remind_at.isoformat() if visit.remind_at else None,
        "due_status": visit.due_status, "paused_since": visit.paused_at.isoformat() if visit.paused_at else None,
        "extended_due_at": visit.extended_due_at.isoformat() if visit.extended_due_at else None,
        "extension_reason": visit.extension_reason,
        "finished_at": visit.finished_at.isoformat() if visit.finished_at else None,
        "explanation": explanation.as_dict() if explanation else None,
    }


# -- pauses for information --------------------------------------------------------------
def _open_visit(case: Feedback) -> StageVisit | None:
    return db.session.scalar(
        select(StageVisit).where(StageVisit.feedback_id == case.id, StageVisit.finished_at.is_(None)))


def pause_clock(case: Feedback, now: datetime) -> dict:
    """Information was requested: pause the open visit's clock if its settings say so.
    Returns the facts for the audit event."""
    visit = _open_visit(case)
    if visit is None or not settings_of(visit.clock_setting_id)["needs_info_pauses"]:
        return {"clock_paused": False}
    visit.paused_at = now
    return {"clock_paused": True}


def resume_clock(case: Feedback, now: datetime) -> dict:
    """Information arrived: the visit's and the case's due dates move by the working days the
    clock stood still (counted from the day after the request to the day of the answer).
    Returns the facts for the audit event."""
    visit = _open_visit(case)
    if visit is None or visit.paused_at is None:
        return {}
    calendar = working_calendar()
    days = calendar.working_days_between(to_local_date(visit.paused_at), to_local_date(now))
    old_due, old_answer_due = visit.due_at, case.answer_due_at
    visit.paused_at = None
    visit.paused_days = (visit.paused_days or 0) + days
    _apply(visit, visit_explanation(visit, case), settings_of(visit.clock_setting_id))
    visit.due_status = "pending" if visit.due_at != old_due else visit.due_status
    case.answer_paused_days = (case.answer_paused_days or 0) + days
    case.answer_due_at = answer_deadline(case).due_at
    return {"paused_working_days": days,
            "old_due_at": old_due.isoformat() if old_due else None,
            "new_due_at": visit.due_at.isoformat() if visit.due_at else None,
            "old_answer_due_at": old_answer_due.isoformat() if old_answer_due else None,
            "new_answer_due_at": case.answer_due_at.isoformat()}


# -- entering the result ----------------------------------------------------------------
def result_entry_check(case: Feedback, document_date: date | None, now: datetime) -> dict:
    """The result must be entered within ``result_entry_days`` working days of existing (TT 02/2017):
    from the answer document's date, under the case's settings version. Returns the facts kept
    in the audit event of ``submit_answer`` (due date, and whether the entry was late)."""
    if document_date is None:
        return {}
    days = int(settings_of(case.clock_setting_id)["result_entry_days"])
    due = working_calendar().add_working_days(document_date, days)
    return {"result_entry_due": due.isoformat(), "result_entry_late": to_local_date(now) > due}


# -- calendar changes --------------------------------------------------------------------
def recompute_open_due_dates(changed: set[date] | None, actor, reason: str, now: datetime) -> int:
    """Recompute the due dates of open stage visits (and open cases' answer clocks) that depend
    on the ``changed`` days (None: every open clock), after an overlay change. Each visit keeps
    its own rule, start and pauses. Every case whose due date moved gets an audit event
    ``due_date_recomputed`` with the old and new due dates and ``reason``.
    Returns the number of cases changed. Only flushes.
    """
    forget_calendar()
    working_calendar()  # rebuilt with the changed overlay, cached for the recomputation below
    query = select(StageVisit).where(StageVisit.finished_at.is_(None), StageVisit.rule.is_not(None))
    if changed:
        # A changed day can move a due date only if it is not after it; each candidate is
        # then recomputed and compared, so a wider net changes nothing wrongly.
        query = query.where(StageVisit.due_date >= min(changed))
    moved: dict[int, dict] = {}
    for visit in db.session.scalars(query.order_by(StageVisit.id)).yield_per(500):
        case = visit.feedback
        explanation = visit_explanation(visit, case)
        if explanation.due_at == visit.due_at and visit.remind_at is None:
            # A visit opened before reminders existed (migration i6a): give it its reminder instant.
            _apply(visit, explanation, settings_of(visit.clock_setting_id))
        elif explanation.due_at != visit.due_at:
            old = visit.due_at
            _apply(visit, explanation, settings_of(visit.clock_setting_id))
            visit.due_status = "pending"
            moved.setdefault(case.id, {"changes": [], "case": case})["changes"].append({
                "visit_id": visit.id, "stage": visit.stage,
                "old_due_at": old.isoformat() if old else None, "new_due_at": visit.due_at.isoformat(),
                "old_due_date": to_local_date(old).isoformat() if old else None,
                "new_due_date": explanation.due_date.isoformat()})
    cases = select(Feedback).where(Feedback.state.not_in(_STOPPED), Feedback.answered_at.is_(None),
                                   Feedback.answer_due_at.is_not(None))
    if changed:
        cases = cases.where(Feedback.answer_due_at >= _start_of_local_day(min(changed)))
    for case in db.session.scalars(cases.order_by(Feedback.id)).yield_per(500):
        new = answer_deadline(case).due_at
        if new != case.answer_due_at:
            entry = moved.setdefault(case.id, {"changes": [], "case": case})
            entry["answer"] = {"old_answer_due_at": case.answer_due_at.isoformat(),
                               "new_answer_due_at": new.isoformat()}
            case.answer_due_at = new
    db.session.flush()
    for case_id, entry in moved.items():
        case = entry["case"]
        db.session.add(AuditEvent(
            feedback_id=case_id, action="due_date_recomputed", from_state=case.state, to_state=case.state,
            at=now, version=case.version, actor_id=getattr(actor, "user_id", None), actor_role=actor.role,
            actor_label=getattr(actor, "label", actor.role),
            data={"reason": reason, "visits": entry["changes"], **entry.get("answer", {})}))
    db.session.flush()
    return len(moved)


__all__ = [
    "EXTRA_DEFAULTS", "answer_deadline", "clock_settings", "current_clock_setting", "current_clock_setting_id", "default_settings",
    "explain_visit", "forget_calendar", "pause_clock", "recompute_open_due_dates", "resume_clock",
    "result_entry_check", "rule_for", "set_visit_clock", "settings_of", "stage_deadline", "start_case_clock", "visit_explanation",
    "working_calendar",
]
