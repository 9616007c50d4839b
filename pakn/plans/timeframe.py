"""Reading a task's "Thời gian thực hiện" into periods and due dates.

The text is always kept as written; this only adds what can be read from it:

| written                                         | read as                                          |
|-------------------------------------------------|--------------------------------------------------|
| Thường xuyên                                    | ongoing, no bounds                               |
| Thường xuyên trong năm 2019                     | ongoing within 1/1–31/12/2019                    |
| Quý I/2019 · Trong Quý II năm 2019              | period: the quarter                              |
| Quý I-II/ 2019 · Quý II, III năm 2019           | period: first day of the first to last day of the last |
| Quý III hoặc quý IV/2019                        | period: Q3 to Q4 (either)                        |
| Tháng 12/2018 · Tháng 3 đến tháng 7 năm 2019    | period: the months                               |
| Trước ngày 15/7/2019                            | deadline: due before 15/7/2019                   |
| Quý III/2019 (trước ngày 15/7/2019)             | period Q3 with a due date                        |
| Định kỳ hàng quý                                | recurring every quarter                          |
| Báo cáo quý I, II, III (trước ngày 25 của tháng cuối quý); báo cáo năm (trước ngày 25/12) | recurring: Q1–Q3 due before the 25th of the quarter's last month, the year before 25/12 |

Anything else is ``unparsed`` and flagged for an admin. Due dates are exclusive ("trước
ngày 15" = on the 14th at the latest), as the plans write them.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..text import fold

ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_YEAR = re.compile(r"\b((?:19|20)\d{2})\b")
_DEADLINE = re.compile(r"truoc ngay (\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})")
_QUARTERS = re.compile(
    r"quy\s+((?:iv|iii|ii|i)\b(?:\s*(?:-|,|hoac|va|den)\s*(?:quy\s+)?(?:iv|iii|ii|i)\b)*)"
    r"(?:\s*(?:/|nam)\s*((?:19|20)\d{2}))?")
_MONTHS = re.compile(
    r"thang\s+(\d{1,2})(?:\s*/\s*((?:19|20)\d{2}))?"
    r"((?:\s*(?:-|,|den|va)\s*(?:thang\s+)?\d{1,2}\b(?!\s*/\s*\d{1,2}\s*/))*)"
    r"(?:\s*(?:/|nam)\s*((?:19|20)\d{2}))?")
_QUARTERLY_RULE = re.compile(r"quy\s+([ivx,\s]+?)\s*\(\s*truoc ngay (\d{1,2}) cua thang cuoi quy\s*\)")
_ANNUAL_RULE = re.compile(r"nam\s*\(\s*truoc ngay (\d{1,2})\s*/\s*(\d{1,2})\s*\)")


@dataclass
class Timeframe:
    """What was read from a timeframe text (``kind`` is one of pakn.models.plan.TIMEFRAME_KINDS)."""

    text: str
    kind: str
    start: date | None = None
    end: date | None = None
    due_before: date | None = None
    schedule: list[dict] = field(default_factory=list)

    @property
    def parsed(self) -> bool:
        return self.kind != "unparsed"


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    first_month = 3 * (quarter - 1) + 1
    last_month = first_month + 2
    return date(year, first_month, 1), date(year, last_month, calendar.monthrange(year, last_month)[1])


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _quarters(spec: str) -> list[int]:
    """"i-ii" → [1, 2]; "ii, iii" → [2, 3]; "iii hoac quy iv" → [3, 4]."""
    spec = spec.replace("quy", " ")
    numbers: list[int] = []
    for piece in re.split(r"\s*(?:,|hoac|va)\s*", spec):
        ends = [ROMAN[r] for r in re.findall(r"iv|iii|ii|i", piece)]
        if not ends:
            continue
        if re.search(r"-|den", piece) and len(ends) == 2:
            numbers.extend(range(ends[0], ends[1] + 1))
        else:
            numbers.extend(ends)
    return sorted(set(numbers))


def _months(first: str, rest: str) -> list[int]:
    numbers = [int(first)]
    for sep, value in re.findall(r"(-|,|den|va)\s*(?:thang\s+)?(\d{1,2})", rest):
        value = int(value)
        if sep in ("-", "den"):
            numbers.extend(range(numbers[-1] + 1, value + 1))
        else:
            numbers.append(value)
    return sorted(set(n for n in numbers if 1 <= n <= 12))


def parse_timeframe(text: str | None, default_year: int | None = None) -> Timeframe | None:
    """Read ``text``; ``default_year`` (the plan's year) fills a missing year. None for no text."""
    if text is None or not text.strip():
        return None
    original = " ".join(text.split())
    s = fold(original).rstrip(" .;,")
    years = [int(y) for y in _YEAR.findall(s)]
    year = years[-1] if years else default_year
    result = Timeframe(text=original, kind="unparsed")

    # Recurring reports: "quý I, II, III (trước ngày 25 của tháng cuối quý); năm (trước ngày 25/12)".
    quarterly = _QUARTERLY_RULE.search(s)
    annual = _ANNUAL_RULE.search(s)
    if quarterly or annual or "hang quy" in s or "dinh ky" in s:
        if quarterly:
            result.schedule.append({"every": "quarter", "quarters": _quarters(quarterly.group(1)),
                                    "before_day": int(quarterly.group(2))})
        if annual:
            result.schedule.append({"every": "year", "before_month": int(annual.group(2)),
                                    "before_day": int(annual.group(1))})
        if not result.schedule:
            result.schedule.append({"every": "quarter", "quarters": [1, 2, 3, 4]})
        result.kind = "recurring"
        if years:
            result.start, result.end = date(year, 1, 1), date(year, 12, 31)
        return result

    deadline = _DEADLINE.search(s)
    if deadline:
        day, month, dyear = (int(g) for g in deadline.groups())
        try:
            result.due_before = date(dyear, month, day)
        except ValueError:
            return Timeframe(text=original, kind="unparsed")
        s_rest = s[:deadline.start()] + s[deadline.end():]
    else:
        s_rest = s

    if s_rest.startswith("thuong xuyen") or s_rest.startswith("lien tuc"):
        result.kind = "ongoing"
        if years and "nam" in s_rest:
            result.start, result.end = date(year, 1, 1), date(year, 12, 31)
        return result

    quarters = _QUARTERS.search(s_rest)
    months = _MONTHS.search(s_rest)
    if quarters and year:
        numbers = _quarters(quarters.group(1))
        qyear = int(quarters.group(2)) if quarters.group(2) else year
        if numbers:
            result.kind = "period"
            result.start = quarter_bounds(qyear, numbers[0])[0]
            result.end = quarter_bounds(qyear, numbers[-1])[1]
            return result
    if months and year:
        numbers = _months(months.group(1), months.group(3) or "")
        myear = int(months.group(2) or months.group(4) or year)
        if numbers:
            result.kind = "period"
            result.start = date(myear, numbers[0], 1)
            result.end = _month_end(myear, numbers[-1])
            return result
    if result.due_before is not None and not re.sub(r"[\W_]+", "", s_rest):
        result.kind = "deadline"
        result.end = result.due_before - timedelta(days=1)
        return result
    if result.due_before is not None:
        result.kind = "deadline"  # a due date with words we do not read; the text is kept
        result.end = result.due_before - timedelta(days=1)
        return result
    return Timeframe(text=original, kind="unparsed")
