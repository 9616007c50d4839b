"""Working-day calendar and deadlines on real Vietnamese dates (no mocks).

Expected dates come from the published schedules (domain.md §9): Tết 2026
off Mon 16/2 – Fri 20/2; 2/9/2026 off 31/8–2/9 with Sat 22/8/2026 worked;
2025 Hùng Kings Mon 7/4, 30/4–2/5 off with Sat 26/4/2025 worked; 24/11 off
from 2026.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from workflows.calendar import (
    TZ,
    DayKind,
    DayUnit,
    Deadline,
    DeadlineRule,
    OverlayDay,
    SkippedDay,
    WorkingCalendar,
    explain_due,
    to_local_date,
)

UTC = timezone.utc
WD = DayUnit.WORKING
CAL = DayUnit.CALENDAR


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """An aware instant at hh:mm Vietnam time (10:00 by default: safely mid-day)."""
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def end_of_day_utc(y: int, m: int, d: int) -> datetime:
    """23:59:59 Vietnam time (UTC+7, no DST) expressed in UTC."""
    return datetime(y, m, d, 16, 59, 59, tzinfo=UTC)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# --- Tết 2026 ---------------------------------------------------------------

TET_2026_SKIPPED = (
    SkippedDay(date(2026, 2, 14), "Thứ Bảy"),
    SkippedDay(date(2026, 2, 15), "Chủ nhật"),
    SkippedDay(date(2026, 2, 16), "Giao thừa Tết Nguyên Đán"),
    SkippedDay(date(2026, 2, 17), "Tết Nguyên Đán"),
    SkippedDay(date(2026, 2, 18), "Mùng hai Tết Nguyên Đán"),
    SkippedDay(date(2026, 2, 19), "Mùng ba Tết Nguyên Đán"),
    SkippedDay(date(2026, 2, 20), "Mùng bốn Tết Nguyên Đán"),
    SkippedDay(date(2026, 2, 21), "Thứ Bảy"),
    SkippedDay(date(2026, 2, 22), "Chủ nhật"),
)


def test_tet_2026_five_working_days(cal: WorkingCalendar) -> None:
    deadline = cal.deadline(local(2026, 2, 13), DeadlineRule(5, WD))

    assert deadline.due_date == date(2026, 2, 27)
    assert deadline.due_at == datetime(2026, 2, 27, 16, 59, 59, tzinfo=UTC)
    assert deadline.start == datetime(2026, 2, 13, 3, 0, tzinfo=UTC)
    assert deadline.start.utcoffset() == timedelta(0)
    assert deadline.skipped == TET_2026_SKIPPED
    assert deadline.counted_extra == ()


def test_tet_2026_explanation_lists_every_skipped_day(cal: WorkingCalendar) -> None:
    text = cal.deadline(local(2026, 2, 13), DeadlineRule(5, WD)).explain()

    assert "Sự kiện ngày 13/02/2026" in text
    assert "5 ngày làm việc" in text
    assert "tính từ ngày 14/02/2026" in text
    for expected in (
        "14/02/2026 – Thứ Bảy",
        "15/02/2026 – Chủ nhật",
        "16/02/2026 – Giao thừa Tết Nguyên Đán",
        "17/02/2026 – Tết Nguyên Đán",
        "18/02/2026 – Mùng hai Tết Nguyên Đán",
        "19/02/2026 – Mùng ba Tết Nguyên Đán",
        "20/02/2026 – Mùng bốn Tết Nguyên Đán",
    ):
        assert expected in text
    assert text.endswith("Hạn cuối: 23:59:59 ngày 27/02/2026.")
    # Working days are counted, not listed as skipped.
    assert "23/02/2026" not in text


def test_tet_2026_days_are_off(cal: WorkingCalendar) -> None:
    assert [cal.is_working_day(date(2026, 2, d)) for d in range(13, 24)] == [
        True,  # Fri 13
        False, False,  # weekend
        False, False, False, False, False,  # Mon 16 – Fri 20
        False, False,  # weekend
        True,  # Mon 23
    ]
    assert cal.reason_off(date(2026, 2, 17)) == "Tết Nguyên Đán"
    assert cal.reason_off(date(2026, 2, 23)) is None
    assert cal.next_working_day(date(2026, 2, 14)) == date(2026, 2, 23)
    assert cal.working_days_between(date(2026, 2, 13), date(2026, 2, 27)) == 5


# --- Local date of the event --------------------------------------------------


def test_utc_evening_is_already_next_day_in_vietnam(cal: WorkingCalendar) -> None:
    event = datetime(2026, 2, 13, 20, 0, tzinfo=UTC)  # 03:00 on Sat 14/2 local

    assert to_local_date(event) == date(2026, 2, 14)
    deadline = cal.deadline(event, DeadlineRule(5, WD))
    # Counting starts on 15/2; Tết still pushes the fifth working day to 27/2.
    assert deadline.due_date == date(2026, 2, 27)
    assert deadline.skipped == TET_2026_SKIPPED[1:]
    assert "Sự kiện ngày 14/02/2026" in deadline.explain()


def test_local_midnight_boundary_changes_the_deadline(cal: WorkingCalendar) -> None:
    last_second_of_thursday = datetime(2026, 3, 5, 16, 59, 59, tzinfo=UTC)  # Thu 5/3 23:59:59 local
    first_second_of_friday = datetime(2026, 3, 5, 17, 0, 0, tzinfo=UTC)  # Fri 6/3 00:00:00 local

    assert cal.deadline(last_second_of_thursday, DeadlineRule(1, WD)).due_date == date(2026, 3, 6)
    late = cal.deadline(first_second_of_friday, DeadlineRule(1, WD))
    assert late.due_date == date(2026, 3, 9)
    assert late.due_at == end_of_day_utc(2026, 3, 9)
    assert late.start == first_second_of_friday


def test_event_given_in_another_time_zone() -> None:
    paris_evening = datetime(2026, 3, 5, 20, 30, tzinfo=timezone(timedelta(hours=1)))  # 02:30 6/3 local
    assert to_local_date(paris_evening) == date(2026, 3, 6)
    assert to_local_date(local(2026, 3, 5, 23, 59)) == date(2026, 3, 5)


# --- 2/9/2026 with the make-up Saturday 22/8 ------------------------------------


def test_makeup_saturday_22_08_2026_is_counted(cal: WorkingCalendar) -> None:
    deadline = cal.deadline(local(2026, 8, 20), DeadlineRule(2, WD))

    assert deadline.due_date == date(2026, 8, 22)
    assert deadline.due_at == end_of_day_utc(2026, 8, 22)
    assert deadline.skipped == ()
    assert deadline.counted_extra == (
        SkippedDay(date(2026, 8, 22), "Ngày làm bù cho ngày nghỉ 31/08/2026"),
    )
    assert "22/08/2026 – Ngày làm bù cho ngày nghỉ 31/08/2026" in deadline.explain()
    assert cal.is_working_day(date(2026, 8, 22))
    assert cal.reason_off(date(2026, 8, 22)) is None
    assert not cal.is_working_day(date(2026, 8, 23))  # the Sunday stays off


def test_national_day_2026_break(cal: WorkingCalendar) -> None:
    deadline = cal.deadline(local(2026, 8, 28), DeadlineRule(1, WD))

    assert deadline.due_date == date(2026, 9, 3)
    assert deadline.skipped == (
        SkippedDay(date(2026, 8, 29), "Thứ Bảy"),
        SkippedDay(date(2026, 8, 30), "Chủ nhật"),
        SkippedDay(date(2026, 8, 31), "Ngày nghỉ (thay cho ngày 22/08/2026)"),
        SkippedDay(date(2026, 9, 1), "Quốc khánh"),
        SkippedDay(date(2026, 9, 2), "Quốc khánh"),
    )
    assert cal.working_days_between(date(2026, 8, 20), date(2026, 9, 3)) == 8  # 21, 22, 24–28, 3


# --- 24/11 Ngày Văn hóa Việt Nam ------------------------------------------------


def test_vietnam_culture_day_2026(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 25)
    assert cal.reason_off(date(2026, 11, 24)) == "Ngày Văn hóa Việt Nam"
    # It only exists from 2026 (Resolution 80-NQ/TW): Mon 24/11/2025 was worked.
    assert cal.is_working_day(date(2025, 11, 24))


# --- 2025: Hùng Kings, 30/4–1/5 with the make-up Saturday 26/4 ------------------


def test_hung_kings_2025(cal: WorkingCalendar) -> None:
    deadline = cal.deadline(local(2025, 4, 4), DeadlineRule(1, WD))

    assert deadline.due_date == date(2025, 4, 8)
    assert deadline.skipped == (
        SkippedDay(date(2025, 4, 5), "Thứ Bảy"),
        SkippedDay(date(2025, 4, 6), "Chủ nhật"),
        SkippedDay(date(2025, 4, 7), "Ngày Giỗ Tổ Hùng Vương"),
    )


def test_hung_kings_2026_on_sunday_gives_monday_off(cal: WorkingCalendar) -> None:
    assert cal.reason_off(date(2026, 4, 26)) == "Chủ nhật (Ngày Giỗ Tổ Hùng Vương)"
    assert cal.reason_off(date(2026, 4, 27)) == "Ngày Giỗ Tổ Hùng Vương (nghỉ bù)"
    assert cal.add_working_days(date(2026, 4, 24), 1) == date(2026, 4, 28)


def test_makeup_saturday_26_04_2025_is_counted(cal: WorkingCalendar) -> None:
    deadline = cal.deadline(local(2025, 4, 25), DeadlineRule(1, WD))

    assert deadline.due_date == date(2025, 4, 26)
    assert deadline.counted_extra == (
        SkippedDay(date(2025, 4, 26), "Ngày làm bù cho ngày nghỉ 02/05/2025"),
    )
    assert cal.add_working_days(date(2025, 4, 25), 3) == date(2025, 4, 29)  # 26, 28, 29


def test_reunification_and_labour_day_2025(cal: WorkingCalendar) -> None:
    deadline = cal.deadline(local(2025, 4, 28), DeadlineRule(2, WD))

    assert deadline.due_date == date(2025, 5, 5)
    assert deadline.skipped == (
        SkippedDay(date(2025, 4, 30), "Ngày Chiến thắng"),
        SkippedDay(date(2025, 5, 1), "Ngày Quốc tế Lao động"),
        SkippedDay(date(2025, 5, 2), "Ngày nghỉ (thay cho ngày 26/04/2025)"),
        SkippedDay(date(2025, 5, 3), "Thứ Bảy"),
        SkippedDay(date(2025, 5, 4), "Chủ nhật"),
    )
    assert cal.working_days_between(date(2025, 4, 25), date(2025, 5, 5)) == 4  # 26/4, 28/4, 29/4, 5/5


def test_package_swaps_that_cross_a_year_boundary(cal: WorkingCalendar) -> None:
    # Fri 2/1/2015 off, worked on Sat 27/12/2014; Mon 31/12/2018 off, worked on Sat 5/1/2019.
    assert cal.add_working_days(date(2014, 12, 26), 1) == date(2014, 12, 27)
    assert cal.reason_off(date(2015, 1, 2)) == "Ngày nghỉ (thay cho ngày 27/12/2014)"
    deadline = cal.deadline(local(2019, 1, 4), DeadlineRule(1, WD))
    assert deadline.due_date == date(2019, 1, 5)
    assert deadline.counted_extra == (
        SkippedDay(date(2019, 1, 5), "Ngày làm bù cho ngày nghỉ 31/12/2018"),
    )
    # An ordinary Saturday in the same years stays off.
    assert not cal.is_working_day(date(2019, 1, 12))


# --- Calendar-day rules -----------------------------------------------------------


def test_calendar_days_without_roll(cal: WorkingCalendar) -> None:
    deadline = cal.deadline(local(2026, 3, 4), DeadlineRule(20, CAL))

    assert deadline.due_date == date(2026, 3, 24)
    assert deadline.due_at == end_of_day_utc(2026, 3, 24)
    assert deadline.skipped == ()
    assert deadline.counted_extra == ()


def test_calendar_days_landing_on_sunday_roll_to_monday(cal: WorkingCalendar) -> None:
    deadline = cal.deadline(local(2026, 3, 2), DeadlineRule(20, CAL))  # 2/3 + 20 = Sun 22/3

    assert deadline.due_date == date(2026, 3, 23)
    assert deadline.skipped == (SkippedDay(date(2026, 3, 22), "Chủ nhật"),)
    text = deadline.explain()
    assert "Thời hạn: 20 ngày," in text
    assert "ngày thứ 20 là 22/03/2026" in text
    assert text.endswith("23:59:59 ngày 23/03/2026.")


def test_calendar_days_landing_on_saturday_roll_to_monday(cal: WorkingCalendar) -> None:
    deadline = cal.deadline(local(2026, 3, 1), DeadlineRule(20, CAL))  # 1/3 + 20 = Sat 21/3

    assert deadline.due_date == date(2026, 3, 23)
    assert [s.day for s in deadline.skipped] == [date(2026, 3, 21), date(2026, 3, 22)]


def test_calendar_days_landing_in_tet_roll_past_it(cal: WorkingCalendar) -> None:
    deadline = cal.deadline(local(2026, 1, 27), DeadlineRule(20, CAL))  # 27/1 + 20 = Mon 16/2

    assert deadline.due_date == date(2026, 2, 23)
    assert deadline.due_at == end_of_day_utc(2026, 2, 23)
    assert deadline.skipped == TET_2026_SKIPPED[2:]


def test_working_day_rule_of_20_days_differs_from_calendar(cal: WorkingCalendar) -> None:
    # Same event, 20 working days: 28–30/1 (3), 2–6/2 (8), 9–13/2 (13), Tết skipped,
    # 23–27/2 (18), 2/3 (19), 3/3 (20).
    assert cal.deadline(local(2026, 1, 27), DeadlineRule(20, WD)).due_date == date(2026, 3, 3)


# --- Overlay ------------------------------------------------------------------------

EXTRA_DAY_OFF = OverlayDay(date(2026, 3, 6), DayKind.DAY_OFF, "Nghỉ theo Quyết định 123/QĐ-UBND")
WORKED_SATURDAY = OverlayDay(date(2026, 3, 7), DayKind.WORKING_DAY, "Làm bù theo Thông báo 45/TB-UBND")


def test_overlay_day_off_moves_deadline_and_is_reported() -> None:
    cal = WorkingCalendar([EXTRA_DAY_OFF])
    deadline = cal.deadline(local(2026, 3, 5), DeadlineRule(1, WD))

    assert deadline.due_date == date(2026, 3, 9)
    assert deadline.skipped == (
        SkippedDay(date(2026, 3, 6), "Nghỉ theo Quyết định 123/QĐ-UBND"),
        SkippedDay(date(2026, 3, 7), "Thứ Bảy"),
        SkippedDay(date(2026, 3, 8), "Chủ nhật"),
    )
    assert "06/03/2026 – Nghỉ theo Quyết định 123/QĐ-UBND" in deadline.explain()
    # Without the overlay the same event is due the next day.
    assert WorkingCalendar().deadline(local(2026, 3, 5), DeadlineRule(1, WD)).due_date == date(2026, 3, 6)


def test_overlay_day_off_rolls_a_calendar_deadline() -> None:
    cal = WorkingCalendar([OverlayDay(date(2026, 3, 24), DayKind.DAY_OFF, "Nghỉ theo Quyết định 7/QĐ-UBND")])
    deadline = cal.deadline(local(2026, 3, 4), DeadlineRule(20, CAL))

    assert deadline.due_date == date(2026, 3, 25)
    assert deadline.skipped == (SkippedDay(date(2026, 3, 24), "Nghỉ theo Quyết định 7/QĐ-UBND"),)


def test_overlay_working_saturday_is_counted() -> None:
    cal = WorkingCalendar([WORKED_SATURDAY])
    deadline = cal.deadline(local(2026, 3, 6), DeadlineRule(1, WD))

    assert deadline.due_date == date(2026, 3, 7)
    assert deadline.counted_extra == (SkippedDay(date(2026, 3, 7), "Làm bù theo Thông báo 45/TB-UBND"),)
    assert "07/03/2026 – Làm bù theo Thông báo 45/TB-UBND" in deadline.explain()


def test_overlay_overrides_the_package() -> None:
    province_works_31_08 = OverlayDay(date(2026, 8, 31), DayKind.WORKING_DAY, "Tỉnh làm việc theo Công văn 9/UBND")
    province_rests_22_08 = OverlayDay(date(2026, 8, 22), DayKind.DAY_OFF, "Không làm bù theo Công văn 9/UBND")
    cal = WorkingCalendar([province_works_31_08, province_rests_22_08])

    assert cal.is_working_day(date(2026, 8, 31))
    assert not cal.is_working_day(date(2026, 8, 22))
    assert cal.reason_off(date(2026, 8, 22)) == "Không làm bù theo Công văn 9/UBND"

    after_thursday = cal.deadline(local(2026, 8, 20), DeadlineRule(2, WD))
    assert after_thursday.due_date == date(2026, 8, 24)  # 21, then 24 (22 no longer worked)

    after_friday = cal.deadline(local(2026, 8, 28), DeadlineRule(1, WD))
    assert after_friday.due_date == date(2026, 8, 31)
    # A holiday turned into a working day is reported, like a make-up Saturday.
    assert after_friday.counted_extra == (SkippedDay(date(2026, 8, 31), "Tỉnh làm việc theo Công văn 9/UBND"),)


def test_overlay_note_replaces_the_package_name_on_a_holiday() -> None:
    cal = WorkingCalendar([OverlayDay(date(2026, 2, 16), DayKind.DAY_OFF, "Nghỉ Tết theo Thông báo 6150/TB")])
    assert cal.reason_off(date(2026, 2, 16)) == "Nghỉ Tết theo Thông báo 6150/TB"
    assert cal.reason_off(date(2026, 2, 17)) == "Tết Nguyên Đán"


def test_redundant_overlay_working_weekday_is_not_reported() -> None:
    cal = WorkingCalendar([OverlayDay(date(2026, 3, 10), DayKind.WORKING_DAY, "Ngày làm việc bình thường")])
    assert cal.deadline(local(2026, 3, 9), DeadlineRule(1, WD)).counted_extra == ()


def test_overlay_accepts_stored_string_kind() -> None:
    entry = OverlayDay(date(2026, 3, 6), "day_off", "Nghỉ theo Quyết định 123/QĐ-UBND")  # type: ignore[arg-type]
    assert entry.kind is DayKind.DAY_OFF
    assert not WorkingCalendar([entry]).is_working_day(date(2026, 3, 6))


def test_overlay_validation() -> None:
    with pytest.raises(ValueError):
        OverlayDay(date(2026, 3, 6), DayKind.DAY_OFF, "   ")
    with pytest.raises(ValueError):
        OverlayDay(date(2026, 3, 6), "holiday", "Ghi chú")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        OverlayDay(datetime(2026, 3, 6, 0, 0), DayKind.DAY_OFF, "Ghi chú")
    conflicting = OverlayDay(date(2026, 3, 6), DayKind.WORKING_DAY, "Làm việc")
    with pytest.raises(ValueError):
        WorkingCalendar([EXTRA_DAY_OFF, conflicting])
    # An identical duplicate (e.g. the same row read twice) is harmless.
    assert not WorkingCalendar([EXTRA_DAY_OFF, EXTRA_DAY_OFF]).is_working_day(date(2026, 3, 6))


def test_all_days_off_overlay_raises_instead_of_hanging() -> None:
    start = date(2030, 1, 1)
    everything_off = [
        OverlayDay(start + timedelta(days=i), DayKind.DAY_OFF, "Nghỉ (dữ liệu hỏng)") for i in range(4 * 366)
    ]
    cal = WorkingCalendar(everything_off)

    with pytest.raises(ValueError):
        cal.next_working_day(start)
    with pytest.raises(ValueError):
        cal.add_working_days(start, 5)
    with pytest.raises(ValueError):
        cal.deadline(local(2030, 1, 1), DeadlineRule(20, CAL))


def test_long_overlay_gap_below_the_guard_is_crossed() -> None:
    # Two whole years off is absurd but finite: the next working day is still found.
    start = date(2030, 1, 1)
    two_years_off = [OverlayDay(start + timedelta(days=i), DayKind.DAY_OFF, "Nghỉ") for i in range(2 * 365)]
    # 1/1/2032 (Thu) is New Year's Day, so Fri 2/1/2032 is the first working day.
    assert WorkingCalendar(two_years_off).next_working_day(start) == date(2032, 1, 2)


# --- n = 0, invalid input ---------------------------------------------------------


def test_zero_days(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2026, 2, 13), 0) == date(2026, 2, 13)
    assert cal.add_working_days(date(2026, 2, 14), 0) == date(2026, 2, 23)

    on_saturday = cal.deadline(local(2026, 2, 14), DeadlineRule(0, WD))
    assert on_saturday.due_date == date(2026, 2, 23)
    assert on_saturday.skipped == TET_2026_SKIPPED
    on_friday = cal.deadline(local(2026, 2, 13), DeadlineRule(0, CAL))
    assert on_friday.due_date == date(2026, 2, 13)
    assert on_friday.due_at == end_of_day_utc(2026, 2, 13)


def test_negative_days_rejected(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add_working_days(date(2026, 3, 2), -1)
    with pytest.raises(ValueError):
        DeadlineRule(-1, WD)
    with pytest.raises(TypeError):
        DeadlineRule(1.5, CAL)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DeadlineRule(5, "weeks")  # type: ignore[arg-type]


def test_naive_datetime_rejected(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError):
        to_local_date(datetime(2026, 2, 13, 10, 0))
    with pytest.raises(ValueError):
        cal.deadline(datetime(2026, 2, 13, 10, 0), DeadlineRule(5, WD))


def test_datetime_where_a_date_is_expected_is_rejected(cal: WorkingCalendar) -> None:
    # A datetime never equals a date, so it would silently miss every holiday.
    with pytest.raises(TypeError):
        cal.is_working_day(datetime(2026, 2, 17, tzinfo=TZ))
    with pytest.raises(TypeError):
        cal.add_working_days(datetime(2026, 2, 13, tzinfo=TZ), 5)


def test_working_days_between_is_half_open(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert cal.working_days_between(date(2026, 3, 2), date(2026, 3, 3)) == 1
    assert cal.working_days_between(date(2026, 3, 6), date(2026, 3, 8)) == 0  # weekend only
    assert cal.working_days_between(date(2026, 3, 9), date(2026, 3, 2)) == 0  # end before start


def test_add_and_between_agree_over_a_long_range(cal: WorkingCalendar) -> None:
    start = date(2025, 12, 31)
    for n in range(0, 400, 7):
        assert cal.working_days_between(start, cal.add_working_days(start, n)) == n
    # 2026: 261 weekdays, minus 13 weekday days off (1/1, 16–20/2, 27/4, 30/4,
    # 1/5, 31/8, 1/9, 2/9, 24/11), plus the make-up Saturday 22/8 = 249.
    assert cal.working_days_between(date(2025, 12, 31), date(2026, 12, 31)) == 249


# --- Serialisation ----------------------------------------------------------------


def test_as_dict_round_trips_through_json(cal: WorkingCalendar) -> None:
    deadline = cal.deadline(local(2026, 8, 20), DeadlineRule(2, WD))
    data = deadline.as_dict()

    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["start"] == "2026-08-20T03:00:00+00:00"
    assert data["rule"] == {"days": 2, "unit": "working"}
    assert data["due_date"] == "2026-08-22"
    assert data["due_at"] == "2026-08-22T16:59:59+00:00"
    assert data["skipped"] == []
    assert data["counted_extra"] == [{"day": "2026-08-22", "reason": "Ngày làm bù cho ngày nghỉ 31/08/2026"}]
    assert data["explanation"] == deadline.explain()
    assert Deadline.from_dict(json.loads(json.dumps(data))) == deadline


def test_as_dict_of_tet_deadline(cal: WorkingCalendar) -> None:
    deadline = cal.deadline(local(2026, 1, 27), DeadlineRule(20, CAL))
    data = json.loads(json.dumps(deadline.as_dict()))

    assert data["rule"] == {"days": 20, "unit": "calendar"}
    assert data["skipped"][0] == {"day": "2026-02-16", "reason": "Giao thừa Tết Nguyên Đán"}
    assert Deadline.from_dict(data) == deadline


# --- Non-functional -----------------------------------------------------------------


def test_module_does_not_import_flask_or_sqlalchemy() -> None:
    code = (
        "import sys, workflows.calendar; "
        "print(sorted(m for m in ('flask', 'sqlalchemy', 'flask_sqlalchemy') if m in sys.modules))"
    )
    repo_root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo_root
    )
    assert result.stdout.strip() == "[]"


def test_due_at_is_end_of_local_day() -> None:
    deadline = WorkingCalendar().deadline(local(2026, 3, 4), DeadlineRule(1, WD))
    assert deadline.due_at.astimezone(TZ).time() == time(23, 59, 59)
    assert deadline.due_at.astimezone(TZ).date() == deadline.due_date


# -- a calendar asked again --------------------------------------------------------------------
_KEPT = WorkingCalendar([EXTRA_DAY_OFF, WORKED_SATURDAY])  # one calendar for every example, as a process keeps it


@settings(max_examples=300, deadline=None)
@given(day=st.dates(date(2025, 12, 20), date(2027, 3, 1)), minute=st.integers(0, 24 * 60 - 1),
       days=st.integers(0, 30), unit=st.sampled_from([WD, CAL]), paused=st.integers(0, 12),
       before=st.integers(0, 6))
def test_a_calendar_asked_again_answers_as_a_new_one(day, minute, days, unit, paused, before):
    # Cases received on one day share their due dates, so a calendar keeps what it counted; the
    # answers (with every day skipped, the explanation text) must stay those of a new calendar,
    # whatever the time of day, across Tết and the overlay.
    at = datetime.combine(day, time(minute // 60, minute % 60), TZ)
    rule = DeadlineRule(days, unit)
    fresh = WorkingCalendar([EXTRA_DAY_OFF, WORKED_SATURDAY])
    expected = explain_due(fresh, at, rule, paused)
    for _ in range(2):
        got = explain_due(_KEPT, at, rule, paused)
        assert got == expected
        shown = got.as_dict()
        assert shown == expected.as_dict() and shown["start"] == at.astimezone(UTC).isoformat()
        shown["skipped"].append({"day": "x", "reason": "changed by a caller"})  # not kept by the next call
        shown["rule"]["days"] = -1
        assert _KEPT.subtract_working_days(got.due_date, before) == fresh.subtract_working_days(got.due_date, before)
