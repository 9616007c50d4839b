"""Deadlines of stage visits: the workflow's deadline specs, the clock settings and the calendar."""
from __future__ import annotations

from datetime import datetime

from flask import current_app, g, has_app_context
from sqlalchemy import select

from workflows.calendar import DayKind, DayUnit, Deadline, DeadlineRule, OverlayDay, WorkingCalendar
from workflows.engine import DeadlineSpec

from ..extensions import db
from ..models import CalendarOverlay, Feedback


def clock_settings() -> dict:
    """The clock settings in force (per province; defaults are the legal values)."""
    return current_app.config["CLOCK"]


def working_calendar() -> WorkingCalendar:
    """The statutory calendar plus the admin overlay, built once per app context."""
    if has_app_context() and "pakn_calendar" in g:
        return g.pakn_calendar
    rows = db.session.scalars(select(CalendarOverlay)).all()
    calendar = WorkingCalendar([OverlayDay(r.day, DayKind(r.kind), r.note) for r in rows])
    if has_app_context():
        g.pakn_calendar = calendar
    return calendar


def rule_for(spec: DeadlineSpec) -> DeadlineRule:
    """The rule of a stage under the settings in force."""
    settings = clock_settings()
    unit = DayUnit(settings[spec.unit_setting]) if spec.unit_setting else spec.unit
    return DeadlineRule(int(settings.get(spec.setting, spec.default_days)), unit)


def stage_deadline(spec: DeadlineSpec, case: Feedback, entered_at: datetime) -> Deadline:
    """When a visit of a stage with ``spec`` falls due: counted from the stage entry, or from
    the case's receipt for the submitter's answer clock (which keeps running across returns)."""
    start = case.received_at if spec.anchor == "received" else entered_at
    return working_calendar().deadline(start, rule_for(spec))
