"""Reporting periods: the window a report covers and the date it is due.

Quarterly reports cover Q1–Q3, the annual report the year (domain §8, the seed plans).
The window is configurable (``REPORT_WINDOW_START_DAY``): 1 (default) gives calendar
quarters; 15 gives "from the 15th of the month before the period to the 14th of its last
month" (the cut-off some provinces use). Due dates come from the plan in force — the
timeframe of the task bound to ``report`` (agencies) or ``report_consolidated`` (the
office), e.g. "trước ngày 25 của tháng cuối quý", "trước ngày 25/12" — and otherwise from
the settings. Every due date is exclusive ("before the 25th").
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from flask import current_app

from workflows.calendar import TZ
from workflows.engine import N_

from ..models.report_filing import REPORT_PERIODS

PERIOD_LABELS = {"Q1": N_("Quý I"), "Q2": N_("Quý II"), "Q3": N_("Quý III"), "Y": N_("Năm")}


@dataclass(frozen=True)
class ReportPeriod:
    year: int
    period: str
    start: date  # first day of the window (local)
    end: date  # first day after the window (local)

    @property
    def label(self) -> str:
        return PERIOD_LABELS[self.period]

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time(), TZ).astimezone(timezone.utc)

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.end, time(), TZ).astimezone(timezone.utc)

    @property
    def title(self) -> str:
        """"Quý II năm 2026" or "Năm 2026", translated."""
        from flask import has_request_context
        from flask_babel import gettext as translate

        def gettext(message: str, **params) -> str:  # Vietnamese outside a request (jobs, CLI)
            return translate(message, **params) if has_request_context() else message % params if params else message

        if self.period == "Y":
            return gettext("Năm %(year)d", year=self.year)
        return gettext("%(quarter)s năm %(year)d", quarter=gettext(PERIOD_LABELS[self.period]), year=self.year)

    @property
    def quarter(self) -> int | None:
        return None if self.period == "Y" else int(self.period[1])


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def report_period(year: int, period: str) -> ReportPeriod:
    """The window of ``period`` (Q1, Q2, Q3 or Y) of ``year``."""
    if period not in REPORT_PERIODS:
        raise ValueError(period)
    start_day = int(current_app.config.get("REPORT_WINDOW_START_DAY", 1))
    first_month = 1 if period == "Y" else 3 * (int(period[1]) - 1) + 1
    last_month = 12 if period == "Y" else first_month + 2
    if start_day <= 1:
        start = date(year, first_month, 1)
        end_year, end_month = _shift_month(year, last_month, 1)
        end = date(end_year, end_month, 1)
    else:
        sy, sm = _shift_month(year, first_month, -1)
        start = _day(sy, sm, start_day)
        end = _day(year, last_month, start_day)
    return ReportPeriod(year, period, start, end)


def _schedule_of(binding: str) -> list[dict]:
    from ..plans.binding import bound_task

    task = bound_task(binding)
    return list(task.schedule or []) if task is not None else []


def due_date(period: ReportPeriod, consolidated: bool = False) -> date:
    """The exclusive due date of the agencies' report (or of the office's consolidated report)."""
    config = current_app.config
    schedule = _schedule_of("report_consolidated" if consolidated else "report")
    quarterly = next((r for r in schedule if r.get("every") == "quarter" and r.get("before_day")), None)
    annual = next((r for r in schedule if r.get("every") == "year"), None)
    if period.period == "Y":
        month, day = ((annual["before_month"], annual["before_day"]) if annual else
                      (12, config["REPORT_OFFICE_DUE_DAY"] if consolidated else config["REPORT_AGENCY_DUE_DAY"]))
        return _day(period.year, month, day)
    day = quarterly["before_day"] if quarterly else (
        config["REPORT_OFFICE_DUE_DAY"] if consolidated else config["REPORT_AGENCY_DUE_DAY"])
    return _day(period.year, 3 * period.quarter, day)


def periods_of(year: int) -> list[ReportPeriod]:
    return [report_period(year, p) for p in REPORT_PERIODS]


def current_period(today: date) -> ReportPeriod:
    """The period whose report is due next (the quarter of ``today``; Q4 belongs to the annual report)."""
    quarter = (today.month - 1) // 3 + 1
    return report_period(today.year, "Y" if quarter == 4 else f"Q{quarter}")
