"""Working-day calendar and deadline arithmetic for Vietnam.

A day is a working day when it is Monday–Friday and not a statutory holiday,
or a weekend day that the government turned into a make-up working day.
Holidays and make-up days come from the ``holidays`` package (lunar Tết,
Hùng Kings, compensatory days and the yearly swaps it knows about); an overlay
maintained by an admin (database rows citing a legal decision) wins over both
the package and the weekday rule, because the yearly civil-service schedule is
announced late and the package only guesses it for future years.

Counting follows Bộ luật Dân sự 2015 Art. 147–148: the count starts the day
after the event's local date (Asia/Ho_Chi_Minh), a last day that is not a
working day rolls forward to the next working day, and a day ends at
23:59:59 local time. Instants are returned as aware UTC datetimes.

This module must stay free of Flask and SQLAlchemy: jobs, the CLI and tests
use it directly, and the app layer maps database rows to ``OverlayDay``.
User-facing strings are plain Vietnamese literals; the app layer translates.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "TZ",
    "DayKind",
    "OverlayDay",
    "DayUnit",
    "DeadlineRule",
    "SkippedDay",
    "Deadline",
    "WorkingCalendar",
    "to_local_date",
]

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# The legal end of a day (BLDS Art. 148: "24 giờ của ngày cuối cùng"), kept as
# the last whole second so that it still falls on the due date.
END_OF_DAY = time(23, 59, 59)

# An overlay can in principle switch off every day. Rather than loop forever,
# give up after this many consecutive non-working days: no real schedule comes
# anywhere near it (the longest break, Tết, is about 9 days).
MAX_CONSECUTIVE_DAYS_OFF = 3 * 366

_WEEKDAY_NAMES = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
_SATURDAY = 5
_DATE_FORMAT = "%d/%m/%Y"  # same format the package uses inside swap names


class DayKind(str, Enum):
    """What an overlay entry makes of its day: an extra day off or a make-up working day."""

    DAY_OFF = "day_off"
    WORKING_DAY = "working_day"


class DayUnit(str, Enum):
    """The unit a time limit is counted in: working days or calendar days."""

    WORKING = "working"
    CALENDAR = "calendar"


def _require_plain_date(value: object, name: str) -> date:
    # datetime is a subclass of date but never compares equal to one, so a
    # datetime slipping in would silently miss every holiday lookup.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} phải là kiểu date (không phải datetime): {value!r}")
    return value


def _fmt(day: date) -> str:
    return day.strftime(_DATE_FORMAT)


@dataclass(frozen=True)
class OverlayDay:
    """One admin-maintained calendar correction: ``day`` becomes ``kind``, for the reason in ``note``.

    ``note`` cites the legal decision (e.g. "Nghỉ theo Thông báo 9441/TB-BNV") and is
    shown to users as the reason. Raises TypeError if ``day`` is not a plain date and
    ValueError if ``kind`` is not a DayKind value or ``note`` is blank.
    """

    day: date
    kind: DayKind
    note: str

    def __post_init__(self) -> None:
        _require_plain_date(self.day, "day")
        # Accept the stored string value ("day_off") as well as the member.
        object.__setattr__(self, "kind", DayKind(self.kind))
        if not isinstance(self.note, str) or not self.note.strip():
            raise ValueError(f"Ngày {_fmt(self.day)} trong lịch bổ sung thiếu ghi chú căn cứ pháp lý")


@dataclass(frozen=True)
class DeadlineRule:
    """A time limit: ``days`` days counted in ``unit`` (working or calendar days).

    Raises TypeError if ``days`` is not an int and ValueError if it is negative or
    ``unit`` is not a DayUnit value.
    """

    days: int
    unit: DayUnit

    def __post_init__(self) -> None:
        if isinstance(self.days, bool) or not isinstance(self.days, int):
            raise TypeError(f"Số ngày phải là số nguyên: {self.days!r}")
        if self.days < 0:
            raise ValueError(f"Số ngày không được âm: {self.days}")
        object.__setattr__(self, "unit", DayUnit(self.unit))

    def describe(self) -> str:
        """The rule in Vietnamese, e.g. "5 ngày làm việc" or "20 ngày"."""
        if self.unit is DayUnit.WORKING:
            return f"{self.days} ngày làm việc"
        return f"{self.days} ngày"


@dataclass(frozen=True)
class SkippedDay:
    """A day with the Vietnamese reason it matters for a deadline.

    Used both for non-working days passed over ("Thứ Bảy", "Tết Nguyên Đán", an
    overlay note) and for weekend days counted as make-up working days.
    """

    day: date
    reason: str


def _day_to_dict(item: SkippedDay) -> dict[str, str]:
    return {"day": item.day.isoformat(), "reason": item.reason}


def _day_from_dict(data: Mapping[str, Any]) -> SkippedDay:
    return SkippedDay(day=date.fromisoformat(data["day"]), reason=data["reason"])


def _list_days(items: Iterable[SkippedDay]) -> str:
    # "date – reason" rather than "date (reason)": package names carry their own parentheses.
    return "; ".join(f"{_fmt(item.day)} – {item.reason}" for item in items)


@dataclass(frozen=True)
class Deadline:
    """A computed deadline together with the days that explain it.

    ``start`` is the event as an aware UTC datetime; ``due_date`` is the local
    (Asia/Ho_Chi_Minh) last day and ``due_at`` its 23:59:59 local end in UTC.
    ``skipped`` lists the non-working days passed over (for calendar-day rules,
    only those passed over when rolling the last day forward); ``counted_extra``
    lists days counted although normally off: make-up weekend days (package or
    overlay) and overlay working days that override a package holiday.
    """

    start: datetime
    rule: DeadlineRule
    due_date: date
    due_at: datetime
    skipped: tuple[SkippedDay, ...] = ()
    counted_extra: tuple[SkippedDay, ...] = ()

    def explain(self) -> str:
        """One Vietnamese paragraph explaining how ``due_date`` was reached.

        Mentions the event's local date, the rule, the skipped days with reasons,
        the make-up days counted and the final "23:59:59 ngày dd/mm/yyyy".
        """
        event_day = to_local_date(self.start)
        first_counted = event_day + timedelta(days=1)
        parts = [f"Sự kiện ngày {_fmt(event_day)} (giờ Việt Nam)."]

        if self.rule.days == 0:
            parts.append(
                f"Thời hạn: {self.rule.describe()}, hạn là chính ngày sự kiện"
                " (hoặc ngày làm việc kế tiếp nếu đó là ngày nghỉ)."
            )
            if self.skipped:
                parts.append(f"Các ngày nghỉ được bỏ qua: {_list_days(self.skipped)}.")
        elif self.rule.unit is DayUnit.WORKING:
            parts.append(f"Thời hạn: {self.rule.describe()}, tính từ ngày {_fmt(first_counted)}.")
            if self.skipped:
                parts.append(f"Không tính các ngày nghỉ: {_list_days(self.skipped)}.")
        else:
            nominal_last = event_day + timedelta(days=self.rule.days)
            parts.append(
                f"Thời hạn: {self.rule.describe()}, tính từ ngày {_fmt(first_counted)};"
                f" ngày thứ {self.rule.days} là {_fmt(nominal_last)}."
            )
            if self.skipped:
                parts.append(
                    "Ngày cuối rơi vào ngày nghỉ nên chuyển sang ngày làm việc kế tiếp,"
                    f" bỏ qua: {_list_days(self.skipped)}."
                )
        if self.counted_extra:
            parts.append(f"Có tính các ngày làm việc bù: {_list_days(self.counted_extra)}.")
        parts.append(f"Hạn cuối: {END_OF_DAY:%H:%M:%S} ngày {_fmt(self.due_date)}.")
        return " ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (ISO 8601 strings) for the database and the API.

        Includes the Vietnamese ``explanation``; ``Deadline.from_dict`` reads it back.
        """
        return {
            "start": self.start.isoformat(),
            "rule": {"days": self.rule.days, "unit": self.rule.unit.value},
            "due_date": self.due_date.isoformat(),
            "due_at": self.due_at.isoformat(),
            "skipped": [_day_to_dict(item) for item in self.skipped],
            "counted_extra": [_day_to_dict(item) for item in self.counted_extra],
            "explanation": self.explain(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Deadline:
        """Rebuild a Deadline from ``as_dict()`` output (``explanation`` is ignored).

        Raises KeyError for a missing field and ValueError for a malformed value.
        """
        start = datetime.fromisoformat(data["start"])
        due_at = datetime.fromisoformat(data["due_at"])
        if start.tzinfo is None or due_at.tzinfo is None:
            raise ValueError("Thời điểm lưu trữ phải kèm múi giờ")
        return cls(
            start=start.astimezone(timezone.utc),
            rule=DeadlineRule(days=data["rule"]["days"], unit=DayUnit(data["rule"]["unit"])),
            due_date=date.fromisoformat(data["due_date"]),
            due_at=due_at.astimezone(timezone.utc),
            skipped=tuple(_day_from_dict(item) for item in data["skipped"]),
            counted_extra=tuple(_day_from_dict(item) for item in data["counted_extra"]),
        )


@dataclass(frozen=True)
class _PackageYear:
    """What the ``holidays`` package says about one year, frozen for cheap lookups."""

    days_off: Mapping[date, str]  # holiday -> Vietnamese name(s)
    makeup_days: Mapping[date, str]  # make-up working weekend day -> Vietnamese reason


@functools.lru_cache(maxsize=None)
def _package_year(year: int) -> _PackageYear:
    # Building a `holidays` object costs far more than a dict lookup, so each year
    # is built once per process and shared by every WorkingCalendar instance
    # (the overlay is per instance; the package data is global).
    #
    # Neighbouring years are loaded too: a swap can cross a year boundary
    # (2/1/2015 off, paid back on Sat 27/12/2014), and the day off that names a
    # make-up Saturday may live in the next or previous year.
    package = holidays.country_holidays("VN", years=(year - 1, year, year + 1), language="vi")
    days_off = {day: name for day, name in package.items() if day.year == year}

    # `weekend_workdays` is not limited to the requested years: every instance
    # carries the package's cross-year swaps (27/12/2014, 5/1/2019). Keep only
    # this year's days so each cached entry describes exactly its own year.
    makeup_days = {}
    for day in sorted(d for d in package.weekend_workdays if d.year == year):
        makeup_days[day] = _makeup_reason(day, package)
    return _PackageYear(MappingProxyType(days_off), MappingProxyType(makeup_days))


def _makeup_reason(makeup_day: date, package: Mapping[date, str]) -> str:
    # The package keeps make-up days as a bare set; the only link to the day off
    # they pay for is that day's name, "Ngày nghỉ (thay cho ngày 22/08/2026)".
    needle = f"(thay cho ngày {_fmt(makeup_day)})"
    for day_off, name in sorted(package.items()):
        if needle in name:
            return f"Ngày làm bù cho ngày nghỉ {_fmt(day_off)}"
    return "Ngày làm bù"


def _package_classify(day: date) -> tuple[bool, str | None]:
    """(is ``day`` a working day, reason) according to the weekday rule and the package alone."""
    package = _package_year(day.year)
    weekday = day.weekday()
    if weekday >= _SATURDAY:
        makeup_reason = package.makeup_days.get(day)
        if makeup_reason is not None:
            return True, makeup_reason
        weekday_name = _WEEKDAY_NAMES[weekday]
        holiday = package.days_off.get(day)
        # A holiday on a weekend is off anyway; naming both tells the user why
        # the following weekday is a compensatory day off.
        return False, f"{weekday_name} ({holiday})" if holiday else weekday_name
    holiday = package.days_off.get(day)
    if holiday is not None:
        return False, holiday
    return True, None


def to_local_date(instant: datetime) -> date:
    """The calendar date of ``instant`` in Asia/Ho_Chi_Minh.

    Raises ValueError for a naive datetime (its time zone would be a guess) and
    TypeError for anything that is not a datetime.
    """
    if not isinstance(instant, datetime):
        raise TypeError(f"Cần một datetime có múi giờ: {instant!r}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"Thời điểm không có múi giờ: {instant.isoformat()}")
    return instant.astimezone(TZ).date()


def _end_of_local_day_utc(day: date) -> datetime:
    return datetime.combine(day, END_OF_DAY, tzinfo=TZ).astimezone(timezone.utc)


class WorkingCalendar:
    """Vietnam's working days: Mon–Fri, minus package holidays, plus make-up days, with an overlay on top.

    ``overlay`` entries (from the admin-maintained table) override both the
    package and the weekday rule. Raises ValueError if the same day appears
    twice in the overlay with different contents.
    """

    def __init__(self, overlay: Iterable[OverlayDay] = ()) -> None:
        self._overlay: dict[date, OverlayDay] = {}
        # Counts already made on this calendar (it does not change once built): every case
        # received on a day gets the same due dates, and a batch (the sweep) asks again and
        # again for the same few days. Keyed by the dates and numbers asked for.
        self._counts: dict[tuple, Any] = {}
        for entry in overlay:
            if not isinstance(entry, OverlayDay):
                raise TypeError(f"Lịch bổ sung chỉ nhận OverlayDay: {entry!r}")
            existing = self._overlay.get(entry.day)
            if existing is not None and existing != entry:
                raise ValueError(
                    f"Ngày {_fmt(entry.day)} xuất hiện hai lần trong lịch bổ sung với nội dung khác nhau"
                )
            self._overlay[entry.day] = entry

    def _classify(self, day: date) -> tuple[bool, str | None]:
        """(is ``day`` a working day, the reason worth reporting).

        For a day off the reason says why it is off. For a working day it says
        why it is worked although the weekday rule or the package would have it
        off (a make-up Saturday, an overlay working day); otherwise it is None.
        """
        working, reason = _package_classify(day)
        entry = self._overlay.get(day)
        if entry is None:
            return working, reason
        if entry.kind is DayKind.DAY_OFF:
            return False, entry.note
        # An overlay working day on an ordinary weekday changes nothing worth reporting.
        is_exception = not working or reason is not None
        return True, entry.note if is_exception else None

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day. Raises TypeError if ``day`` is not a plain date."""
        _require_plain_date(day, "day")
        return self._classify(day)[0]

    def reason_off(self, day: date) -> str | None:
        """Why ``day`` is not a working day, in Vietnamese ("Thứ Bảy", "Tết Nguyên Đán", the overlay note).

        Returns None if ``day`` is a working day. Raises TypeError if ``day`` is not a plain date.
        """
        _require_plain_date(day, "day")
        working, reason = self._classify(day)
        return None if working else reason

    def _walk(self, first: date) -> Iterator[tuple[date, bool, str | None]]:
        """Classify ``first`` and every following day, forever, unless no working day shows up.

        Raises ValueError after MAX_CONSECUTIVE_DAYS_OFF consecutive days off,
        which only a broken overlay can cause.
        """
        day = first
        days_off_in_a_row = 0
        while True:
            working, reason = self._classify(day)
            if working:
                days_off_in_a_row = 0
            else:
                days_off_in_a_row += 1
                if days_off_in_a_row > MAX_CONSECUTIVE_DAYS_OFF:
                    raise ValueError(
                        f"Không tìm thấy ngày làm việc nào trong {MAX_CONSECUTIVE_DAYS_OFF} ngày"
                        f" kể từ {_fmt(day - timedelta(days=MAX_CONSECUTIVE_DAYS_OFF))};"
                        " kiểm tra lại lịch bổ sung"
                    )
            yield day, working, reason
            day += timedelta(days=1)

    def next_working_day(self, day: date) -> date:
        """The first working day on or after ``day``.

        Raises TypeError if ``day`` is not a plain date and ValueError if no working
        day exists within MAX_CONSECUTIVE_DAYS_OFF days.
        """
        _require_plain_date(day, "day")
        return self._roll_forward(day)[0]

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (counting starts the day after ``start``).

        ``n == 0`` gives ``start`` itself, rolled forward to a working day. Raises
        TypeError for a non-date ``start`` or non-int ``n``, and ValueError for a
        negative ``n`` or when no working day can be found (see ``next_working_day``).
        """
        _require_plain_date(start, "start")
        rule = DeadlineRule(n, DayUnit.WORKING)  # validates n
        return self._count_working_days(start, rule.days)[0]

    def deadline(self, event_at: datetime, rule: DeadlineRule) -> Deadline:
        """The deadline of ``rule`` for an event at the aware instant ``event_at``.

        The event is first converted to its Asia/Ho_Chi_Minh date; counting starts
        the next day. Working-day rules end on the n-th working day; calendar-day
        rules end n days later, rolled forward to a working day. Raises ValueError
        for a naive ``event_at`` or when no working day can be found.
        """
        if not isinstance(rule, DeadlineRule):
            raise TypeError(f"Cần một DeadlineRule: {rule!r}")
        event_day = to_local_date(event_at)
        key = ("deadline", event_day, rule)
        found = self._counts.get(key)
        if found is None:
            if rule.unit is DayUnit.WORKING:
                due_date, skipped, counted_extra = self._count_working_days(event_day, rule.days)
            else:
                due_date, skipped = self._roll_forward(event_day + timedelta(days=rule.days))
                # Calendar days count every day, so make-up days change nothing here.
                counted_extra = ()
            found = self._counts[key] = (due_date, _end_of_local_day_utc(due_date), skipped, counted_extra)
        due_date, due_at, skipped, counted_extra = found
        return Deadline(
            start=event_at.astimezone(timezone.utc),
            rule=rule,
            due_date=due_date,
            due_at=due_at,
            skipped=skipped,
            counted_extra=counted_extra,
        )

    def working_days_between(self, start: date, end: date) -> int:
        """The number of working days in the half-open range (``start``, ``end``].

        Returns 0 when ``end <= start``. Raises TypeError if either is not a plain date.
        """
        _require_plain_date(start, "start")
        _require_plain_date(end, "end")
        count = 0
        day = start + timedelta(days=1)
        while day <= end:
            count += self._classify(day)[0]
            day += timedelta(days=1)
        return count

    # -- issue 6 ----------------------------------------------------------------------
    def year_days(self, year: int) -> list[CalendarDay]:
        """Every day of ``year`` with whether it is worked, why, and where that comes from."""
        days = []
        day = date(year, 1, 1)
        package = _package_year(year)
        while day.year == year:
            working, reason = self._classify(day)
            if day in self._overlay:
                source = "overlay"
            elif day in package.days_off or day in package.makeup_days:
                source = "holiday"
            elif day.weekday() >= _SATURDAY:
                source = "weekend"
            else:
                source = "weekday"
            days.append(CalendarDay(day, working, reason, source))
            day += timedelta(days=1)
        return days

    def subtract_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day before ``day`` (``n == 0``: ``day`` itself)."""
        _require_plain_date(day, "day")
        key = ("before", day, n)
        if key in self._counts:
            return self._counts[key]
        DeadlineRule(n, DayUnit.WORKING)  # validates n
        counted, current, off_in_a_row = 0, day, 0
        while counted < n:
            current -= timedelta(days=1)
            if self._classify(current)[0]:
                counted, off_in_a_row = counted + 1, 0
            else:
                off_in_a_row += 1
                if off_in_a_row > MAX_CONSECUTIVE_DAYS_OFF:
                    raise ValueError("Không tìm thấy ngày làm việc; kiểm tra lại lịch bổ sung")
        self._counts[key] = current
        return current

    def _shift(self, deadline: Deadline, paused_working_days: int) -> tuple[date, tuple[SkippedDay, ...]]:
        """Move a due date by the working days its clock stood still, with the days passed over."""
        if paused_working_days <= 0:
            return deadline.due_date, ()
        key = ("shift", deadline.due_date, paused_working_days)
        if key not in self._counts:
            due, skipped, _extra = self._count_working_days(deadline.due_date, paused_working_days)
            self._counts[key] = due, skipped
        return self._counts[key]

    def _roll_forward(self, day: date) -> tuple[date, tuple[SkippedDay, ...]]:
        skipped: list[SkippedDay] = []
        for current, working, reason in self._walk(day):
            if working:
                return current, tuple(skipped)
            skipped.append(SkippedDay(current, reason or ""))
        raise AssertionError("unreachable: _walk never ends without raising")  # pragma: no cover

    def _count_working_days(
        self, start: date, n: int
    ) -> tuple[date, tuple[SkippedDay, ...], tuple[SkippedDay, ...]]:
        if n == 0:
            due, rolled_over = self._roll_forward(start)
            return due, rolled_over, ()
        skipped: list[SkippedDay] = []
        counted_extra: list[SkippedDay] = []
        counted = 0
        for day, working, reason in self._walk(start + timedelta(days=1)):
            if not working:
                skipped.append(SkippedDay(day, reason or ""))
                continue
            if reason is not None:  # worked although normally off: worth showing
                counted_extra.append(SkippedDay(day, reason))
            counted += 1
            if counted == n:
                return day, tuple(skipped), tuple(counted_extra)
        raise AssertionError("unreachable: _walk never ends without raising")  # pragma: no cover


# -- issue 6: year view, reminders, pauses and structured explanations ------------------
__all__ += ["CalendarDay", "DueExplanation", "explain_due"]


@dataclass(frozen=True)
class CalendarDay:
    """One day of the year view: whether it is worked, why (None for an ordinary weekday),
    and where the answer comes from: "weekday", "weekend", "holiday" (the package, its
    compensatory and make-up days included) or "overlay" (an admin entry)."""

    day: date
    working: bool
    reason: str | None
    source: str


@dataclass(frozen=True)
class DueExplanation:
    """How a due date was reached, as data: what the admin page, the office console and the
    API show. ``base`` is the plain deadline of the rule; ``paused_working_days`` moved it to
    ``due_date`` (skipping ``pause_skipped``) when the clock was paused for information."""

    base: Deadline
    paused_working_days: int
    pause_skipped: tuple[SkippedDay, ...]
    due_date: date
    due_at: datetime

    def explain(self) -> str:
        text = self.base.explain()
        if self.paused_working_days:
            text += (f" Thời hạn tạm dừng {self.paused_working_days} ngày làm việc khi chờ bổ sung"
                     f" thông tin, nên hạn cuối dời đến 23:59:59 ngày {_fmt(self.due_date)}.")
        return text

    def as_dict(self) -> dict[str, Any]:
        parts = _explanation_parts(to_local_date(self.base.start), self.base.rule, self.base.due_date,
                                   self.base.skipped, self.base.counted_extra, self.paused_working_days,
                                   self.pause_skipped, self.due_date, self.due_at)
        # A new dict with new lists every time: the caller may keep or change it.
        return {"start": self.base.start.isoformat(),
                **{k: ([dict(d) for d in v] if isinstance(v, tuple) else dict(v) if isinstance(v, dict) else v)
                   for k, v in parts.items()}}


@functools.lru_cache(maxsize=4096)
def _explanation_parts(event_day: date, rule: DeadlineRule, base_due_date: date, skipped: tuple[SkippedDay, ...],
                       counted_extra: tuple[SkippedDay, ...], paused: int, pause_skipped: tuple[SkippedDay, ...],
                       due_date: date, due_at: datetime) -> dict[str, Any]:
    """Everything :meth:`DueExplanation.as_dict` says but the start instant: the same for every
    event of a day under one rule (cases received on one day share it), so built once. Lists
    are tuples here; ``as_dict`` copies them out."""
    explanation = DueExplanation(Deadline(datetime.combine(event_day, time(12), TZ), rule, base_due_date,
                                          _end_of_local_day_utc(base_due_date), skipped, counted_extra),
                                 paused, pause_skipped, due_date, due_at)
    return {
        "event_date": event_day.isoformat(),
        "first_counted_day": (event_day + timedelta(days=1)).isoformat(),
        "rule": {"days": rule.days, "unit": rule.unit.value, "text": rule.describe()},
        "base_due_date": base_due_date.isoformat(),
        "skipped": tuple(_day_to_dict(item) for item in skipped),
        "counted_extra": tuple(_day_to_dict(item) for item in counted_extra),
        "paused_working_days": paused,
        "pause_skipped": tuple(_day_to_dict(item) for item in pause_skipped),
        "due_date": due_date.isoformat(),
        "due_at": due_at.isoformat(),
        "explanation": explanation.explain(),
    }


def explain_due(calendar: "WorkingCalendar", event_at: datetime, rule: DeadlineRule,
                paused_working_days: int = 0) -> DueExplanation:
    """The due date of ``rule`` for an event at ``event_at`` on ``calendar``, moved by
    ``paused_working_days`` working days, with every day skipped and why.

    This is THE explanation of a due date: the stage-visit clocks, the admin explain page
    and the office console all call it. Raises like :meth:`WorkingCalendar.deadline`, and
    ValueError for a negative ``paused_working_days``.
    """
    if paused_working_days < 0:
        raise ValueError("Số ngày tạm dừng không được âm")
    base = calendar.deadline(event_at, rule)
    due, skipped = calendar._shift(base, paused_working_days)
    return DueExplanation(base, paused_working_days, skipped, due, _end_of_local_day_utc(due))

