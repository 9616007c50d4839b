"""Clocks of real cases on real dates (time-travel), the deadline sweep and its exactly-once claims.

Dates: Tết 2026 off Mon 16/2 – Fri 20/2 (with the weekends 14–22/2); Sat 22/8/2026 a make-up
working day for Mon 31/8 (Notice 9441/TB-BNV).
"""
from __future__ import annotations

import threading
from datetime import date, datetime, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from pakn.deadlines.sweep import run_sweep
from pakn.extensions import db
from pakn.models import AuditEvent, ClockSetting, DeadlineNotice, Feedback, OutboxMessage, StageVisit
from pakn.operations import apply_transition, open_visit, transaction
from pakn.operations.clock import recompute_open_due_dates
from workflows.calendar import TZ

UTC = timezone.utc


def local(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def end_of_day(y, m, d) -> datetime:
    return datetime(y, m, d, 16, 59, 59, tzinfo=UTC)


def case_by_code(code: str) -> Feedback:
    return db.session.scalar(select(Feedback).where(Feedback.code == code))


def visit_of(code: str) -> StageVisit:
    return open_visit(case_by_code(code))


def sweep(at: datetime):
    with transaction():
        return run_sweep(at.astimezone(UTC))


def outbox(kind: str) -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                              .order_by(OutboxMessage.id)).all()


def claims(kind: str) -> list[DeadlineNotice]:
    return db.session.scalars(select(DeadlineNotice).where(DeadlineNotice.kind == kind)
                              .order_by(DeadlineNotice.sequence, DeadlineNotice.id)).all()


# -- clocks on real dates -----------------------------------------------------------------
def test_received_the_day_before_tet_2026_is_due_after_the_holiday(app, make_case):
    with time_machine.travel(local(2026, 2, 13), tick=False):
        code, _ = make_case("received")
    with app.app_context():
        visit = visit_of(code)
        # 5 working days from Fri 13/2: the whole Tết break (14–22/2) is skipped.
        assert visit.due_date == date(2026, 2, 27)
        assert visit.due_at == end_of_day(2026, 2, 27)
        reasons = {item["day"]: item["reason"] for item in visit.explanation["skipped"]}
        assert reasons["2026-02-17"] == "Tết Nguyên Đán"
        assert len(reasons) == 9
        # The 20-day answer clock: 13/2 + 20 = Thu 5/3, a working day.
        assert case_by_code(code).answer_due_at == end_of_day(2026, 3, 5)


def test_makeup_saturday_22_08_2026_counts(app, make_case):
    with time_machine.travel(local(2026, 8, 20), tick=False):  # Thursday
        code, _ = make_case("received")
    with app.app_context():
        visit = visit_of(code)
        # Fri 21, Sat 22 (make-up day), Mon 24, Tue 25, Wed 26 → 5 working days.
        assert visit.due_date == date(2026, 8, 26)
        counted = [item["day"] for item in visit.explanation["counted_extra"]]
        assert counted == ["2026-08-22"]


def test_a_case_keeps_the_clock_settings_in_force_when_its_clock_started(app, make_case, world):
    with app.app_context(), transaction():
        db.session.add(ClockSetting(forward_days=5, answer_days=20, answer_day_unit="calendar",
                                    progress_update_days=7, result_entry_days=2, check_days=2, publish_days=2,
                                    reminder_days=1, needs_info_pauses=False, note="Mặc định theo luật"))
    with time_machine.travel(local(2026, 3, 2), tick=False):  # Monday
        old_code, _ = make_case("received")
    with app.app_context(), transaction():
        db.session.add(ClockSetting(forward_days=3, answer_days=15, answer_day_unit="working",
                                    progress_update_days=7, result_entry_days=2, check_days=2, publish_days=2,
                                    reminder_days=1, needs_info_pauses=False, note="QĐ rút ngắn thời hạn"))
    with time_machine.travel(local(2026, 3, 2, 11), tick=False):
        new_code, _ = make_case("received")
    with app.app_context():
        old, new = visit_of(old_code), visit_of(new_code)
        assert (old.due_date, new.due_date) == (date(2026, 3, 9), date(2026, 3, 5))
        assert old.clock_setting_id != new.clock_setting_id
        assert case_by_code(old_code).answer_due_at == end_of_day(2026, 3, 23)  # 2/3 + 20 days
        assert case_by_code(new_code).answer_due_at == end_of_day(2026, 3, 23)  # 15 working days
    # Forwarded later, the old case's answer clock still uses the old version's 20 calendar days.
    with time_machine.travel(local(2026, 3, 4), tick=False), app.app_context(), transaction():
        apply_transition(case_by_code(old_code), "forward", world.user("clerk"),
                         {"subject": "quy_dinh", "content_category": "2", "field": "xay_dung", "agency": "SXD"})
    with app.app_context():
        handle = visit_of(old_code)
        assert handle.stage == "handle" and handle.rule["days"] == 20 and handle.rule["unit"] == "calendar"
        assert handle.due_at == end_of_day(2026, 3, 23)


def test_return_by_agency_gives_a_new_forwarding_limit_and_the_answer_clock_keeps_running(app, make_case, world):
    with time_machine.travel(local(2026, 3, 2), tick=False):
        code, _ = make_case("forwarded")
    with app.app_context():
        answer_due = case_by_code(code).answer_due_at
    with time_machine.travel(local(2026, 3, 10), tick=False), app.app_context(), transaction():
        apply_transition(case_by_code(code), "return_not_competent", world.user("officer_a"),
                         {"reason": "Nội dung thuộc thẩm quyền của UBND cấp xã."})
    with app.app_context():
        visit = visit_of(code)
        assert visit.stage == "classify" and visit.due_date == date(2026, 3, 17)  # 5 WD from 10/3
        assert case_by_code(code).answer_due_at == answer_due
    with time_machine.travel(local(2026, 3, 11), tick=False), app.app_context(), transaction():
        apply_transition(case_by_code(code), "forward", world.user("clerk"),
                         {"subject": "quy_dinh", "content_category": "2", "field": "xay_dung", "agency": "STNMT"})
    with app.app_context():
        assert visit_of(code).due_at == answer_due  # counted from receipt, not from the new forwarding


def _pausing_settings():
    with transaction():
        db.session.add(ClockSetting(forward_days=5, answer_days=20, answer_day_unit="calendar",
                                    progress_update_days=7, result_entry_days=2, check_days=2, publish_days=2,
                                    reminder_days=1, needs_info_pauses=True, note="Tạm dừng khi chờ bổ sung"))


def test_needs_information_pauses_the_clock_when_the_settings_say_so(app, make_case, world):
    with app.app_context():
        _pausing_settings()
    with time_machine.travel(local(2026, 3, 2), tick=False):  # Monday
        code, _ = make_case("needs_info")
    with app.app_context():
        visit = visit_of(code)
        assert visit.paused_at is not None and visit.due_date == date(2026, 3, 9)
    with time_machine.travel(local(2026, 3, 5), tick=False), app.app_context(), transaction():  # Thursday
        apply_transition(case_by_code(code), "supply_info", world.user("clerk"),
                         {"message": "Số hồ sơ 123, nộp ngày 02/10/2026."})
    with app.app_context():
        case, visit = case_by_code(code), visit_of(code)
        # Paused Tue 3, Wed 4, Thu 5: 3 working days later.
        assert visit.paused_at is None and visit.paused_days == 3
        assert visit.due_date == date(2026, 3, 12)
        assert case.answer_due_at == end_of_day(2026, 3, 26)  # Sun 22/3 → Mon 23/3, +3 WD
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.feedback_id == case.id,
                                                           AuditEvent.action == "supply_info"))
        assert event.data["paused_working_days"] == 3
        assert "tạm dừng 3 ngày làm việc" in visit.explanation["explanation"]


@pytest.mark.parametrize("pausing", [True, False])
def test_an_agencys_request_for_information_follows_the_same_pause_setting(app, make_case, world, pausing):
    if pausing:
        with app.app_context():
            _pausing_settings()
    with time_machine.travel(local(2026, 3, 2), tick=False), app.app_context():  # Monday
        code, _ = make_case("in_progress")
        with transaction():
            apply_transition(case_by_code(code), "agency_request_info", world.user("officer_a"),
                             {"message": "Đề nghị cung cấp số biên nhận hồ sơ."})
    with time_machine.travel(local(2026, 3, 5), tick=False), app.app_context(), transaction():  # Thursday
        apply_transition(case_by_code(code), "supply_info_to_agency", world.user("officer_a"),
                         {"message": "Biên nhận số 123/BN."})
    with app.app_context():
        case = case_by_code(code)
        # Received Mon 2/3: due Sun 22/3 → Mon 23/3; paused Tue 3, Wed 4, Thu 5 → 3 working days later.
        assert case.answer_due_at == (end_of_day(2026, 3, 26) if pausing else end_of_day(2026, 3, 23))
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.feedback_id == case.id,
                                                           AuditEvent.action == "supply_info_to_agency"))
        assert event.data.get("paused_working_days") == (3 if pausing else None)


def test_needs_information_does_not_pause_by_default(app, make_case, world):
    with time_machine.travel(local(2026, 3, 2), tick=False):
        code, _ = make_case("needs_info")
    with time_machine.travel(local(2026, 3, 5), tick=False), app.app_context(), transaction():
        apply_transition(case_by_code(code), "supply_info", world.user("clerk"), {"message": "Đã bổ sung."})
    with app.app_context():
        assert visit_of(code).due_date == date(2026, 3, 9) and visit_of(code).paused_days == 0


def test_withdrawal_stops_the_clocks(app, make_case, world):
    with time_machine.travel(local(2026, 3, 2), tick=False):
        code, _ = make_case("in_progress")
    with time_machine.travel(local(2026, 3, 3), tick=False), app.app_context(), transaction():
        apply_transition(case_by_code(code), "withdraw", world.user("clerk"), {"reason": "Người gửi rút."})
    with app.app_context():
        assert visit_of(code) is None
        result = sweep(local(2026, 5, 1))
        assert result.total == 0


# -- calendar changes -----------------------------------------------------------------------
def test_a_calendar_change_moves_open_due_dates_and_records_why(app, make_case, world):
    from pakn.models import CalendarOverlay

    with time_machine.travel(local(2026, 3, 2), tick=False):  # Monday
        open_code, _ = make_case("received")
        closed_code, _ = make_case("rejected")
    with app.app_context(), transaction():
        db.session.add(CalendarOverlay(day=date(2026, 3, 4), kind="day_off", note="Nghỉ theo QĐ 12/QĐ-UBND"))
        db.session.flush()
        changed = recompute_open_due_dates({date(2026, 3, 4)}, world.user("admin"), "Thêm ngày nghỉ 04/03/2026",
                                           datetime.now(UTC))
    with app.app_context():
        assert changed == 1
        visit = visit_of(open_code)
        assert visit.due_date == date(2026, 3, 10)
        assert {"day": "2026-03-04", "reason": "Nghỉ theo QĐ 12/QĐ-UBND"} in visit.explanation["skipped"]
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.feedback_id == case_by_code(open_code).id, AuditEvent.action == "due_date_recomputed"))
        assert event.data["reason"] == "Thêm ngày nghỉ 04/03/2026"
        assert event.data["visits"][0]["old_due_date"] == "2026-03-09"
        assert event.data["visits"][0]["new_due_date"] == "2026-03-10"
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.feedback_id == case_by_code(closed_code).id,
            AuditEvent.action == "due_date_recomputed")) == 0


# -- the sweep ------------------------------------------------------------------------------
def test_reminder_before_due_then_escalation_after_due_each_once(app, make_case, world):
    with time_machine.travel(local(2026, 3, 2), tick=False):  # due Mon 9/3 (5 WD)
        code, _ = make_case("received")
    with app.app_context():
        visit_id = visit_of(code).id
        assert sweep(local(2026, 3, 5)).total == 0  # Thursday: not yet
        first = sweep(local(2026, 3, 6, 8))  # Friday: 1 working day before the due date
        assert first.written == {"agency.reminder": 1}
        assert sweep(local(2026, 3, 6, 9)).total == 0
        [reminder] = outbox("agency.reminder")  # one message per recipient, listing the run's claims
        assert reminder.payload == {"run_id": first.run_id, "count": 1} and reminder.feedback_id is None
        assert reminder.recipient_kind == "agency" and reminder.recipient_agency_id == world.office
        [notice] = claims("agency.reminder")
        assert (notice.visit_id, notice.sequence, notice.due_at, notice.run_id) == (
            visit_id, 1, end_of_day(2026, 3, 9), first.run_id)
        assert db.session.get(StageVisit, visit_id).due_status == "due_soon"

        assert sweep(local(2026, 3, 9, 23, 59)).total == 0  # still on the due day
        late = sweep(local(2026, 3, 10, 0, 1))
        assert late.written == {"office.escalation": 1}  # an office stage: no agency lead to escalate to
        assert sweep(local(2026, 3, 11)).total == 0
        [escalation] = outbox("office.escalation")
        assert escalation.payload == {"run_id": late.run_id, "count": 1} and escalation.recipient_kind == "office"
        assert [(n.visit_id, n.recipient_agency_id) for n in claims("office.escalation")] == [(visit_id, world.office)]
        assert db.session.get(StageVisit, visit_id).due_status == "overdue"


def test_overdue_agency_stage_escalates_to_both_leads_and_requires_progress_every_7_days(app, make_case, world):
    with time_machine.travel(local(2026, 3, 2), tick=False):
        code, _ = make_case("in_progress")  # answer due 22/3 (Sunday) → Mon 23/3
    with app.app_context():
        visit_id = visit_of(code).id
        assert visit_of(code).due_date == date(2026, 3, 23)
        result = sweep(local(2026, 3, 24, 8))
        assert result.written == {"agency.escalation": 1, "office.escalation": 1,
                                  "agency.progress_update_due": 1}
        [agency_escalation] = outbox("agency.escalation")
        assert agency_escalation.recipient_agency_id == world.agency_a
        assert agency_escalation.payload == {"run_id": result.run_id, "count": 1}
        [notice] = claims("agency.escalation")
        assert (notice.visit_id, notice.due_at, notice.recipient_agency_id) == (
            visit_id, end_of_day(2026, 3, 23), world.agency_a)
        [progress] = claims("agency.progress_update_due")
        assert (progress.visit_id, progress.sequence, progress.due_at) == (visit_id, 1, end_of_day(2026, 3, 30))
        for day in (25, 26, 27, 28, 29, 30):
            assert sweep(local(2026, 3, day, 8)).total == 0  # within the first 7 days
        assert sweep(local(2026, 3, 31, 8)).written == {"agency.progress_update_due": 1}
        assert sweep(local(2026, 4, 6, 8)).total == 0
        assert sweep(local(2026, 4, 7, 8)).written == {"agency.progress_update_due": 1}
        assert [(n.sequence, n.due_at) for n in claims("agency.progress_update_due")] == [
            (1, end_of_day(2026, 3, 30)), (2, end_of_day(2026, 4, 6)), (3, end_of_day(2026, 4, 13))]
        assert len(outbox("agency.progress_update_due")) == 3  # one message per sweep that found some
        assert len(outbox("agency.escalation")) == 1


def test_sweep_command(app, make_case, runner):
    with time_machine.travel(local(2026, 3, 2), tick=False):
        make_case("received")
    result = runner.invoke(args=["pakn", "sweep", "--now", "2026-03-10T08:00:00+07:00"])
    assert result.exit_code == 0, result.output
    assert "office.escalation 1" in result.output
    again = runner.invoke(args=["pakn", "sweep", "--now", "2026-03-10T08:00:00+07:00"])
    assert "no notices" in again.output


def concurrent_sweeps(app, at: datetime, count: int = 4) -> None:
    """``count`` sweeps at the instant ``at``, started together, each in its own transaction."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def worker():
        try:
            with app.app_context():
                barrier.wait()
                with transaction():
                    run_sweep(at)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_two_concurrent_sweeps_write_each_notice_once(app, make_case):
    if app.config["BACKEND"] != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (SQLite serialises writers)")
    with time_machine.travel(local(2026, 3, 2), tick=False):
        codes = [make_case("in_progress")[0] for _ in range(6)] + [make_case("received")[0] for _ in range(6)]
    for at in (local(2026, 3, 6, 8), local(2026, 3, 24, 8)):
        concurrent_sweeps(app, at.astimezone(UTC))
    with app.app_context():
        expected = {"agency.reminder": 6, "office.escalation": 12, "agency.escalation": 6,
                    "agency.progress_update_due": 6}
        counts = dict(db.session.execute(select(DeadlineNotice.kind, func.count())
                                         .group_by(DeadlineNotice.kind)).all())
        assert counts == expected and sum(counts.values()) == 30
        # Each claim is announced by exactly one message: the one of its own run and recipient.
        listed: dict[str, int] = {}
        for row in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind.in_(list(expected)))):
            mine = db.session.scalar(select(func.count()).select_from(DeadlineNotice).where(
                DeadlineNotice.run_id == row.payload["run_id"], DeadlineNotice.kind == row.kind,
                DeadlineNotice.recipient_agency_id == row.recipient_agency_id))
            assert row.payload["count"] == mine
            listed[row.kind] = listed.get(row.kind, 0) + mine
        assert listed == expected
        assert len(codes) == 12


def test_result_entered_later_than_2_working_days_is_recorded(app, make_case, world):
    with time_machine.travel(local(2026, 8, 20), tick=False):  # Thursday
        code, _ = make_case("answer_approved")
    with time_machine.travel(local(2026, 8, 26), tick=False), app.app_context(), transaction():
        apply_transition(case_by_code(code), "submit_answer", world.user("officer_a"),
                         {"document_number": "125/SXD-QLXD", "document_date": "2026-08-20"})
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "submit_answer"))
        # 2 working days from Thu 20/8: Fri 21, Sat 22 (make-up day) → 22/8; entered on 26/8.
        assert event.data["result_entry_due"] == "2026-08-22" and event.data["result_entry_late"] is True


def test_recompute_deadlines_command_gives_old_visits_their_reminder(app, make_case, runner):
    with time_machine.travel(local(2026, 3, 2), tick=False):
        code, _ = make_case("received")
    with app.app_context(), transaction():
        visit_of(code).remind_at = None  # as left by the migration for visits opened before it
    result = runner.invoke(args=["pakn", "recompute-deadlines"])
    assert result.exit_code == 0 and "0 case(s)" in result.output
    with app.app_context():
        assert visit_of(code).remind_at == datetime(2026, 3, 5, 17, 0, tzinfo=UTC)  # 00:00 Fri 6/3 in Vietnam


def test_rq_job_function_runs_a_committed_sweep(app, make_case, monkeypatch):
    from pakn.deadlines.jobs import sweep_job

    with time_machine.travel(local(2026, 3, 2), tick=False):
        make_case("received")
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("SECRET_KEY", "test-only-secret-key")
    result = sweep_job("2026-03-10T08:00:00+07:00")
    assert result["written"] == {"office.escalation": 1} and result["marked_overdue"] == 1
    assert sweep_job("2026-03-10T08:05:00+07:00")["written"] == {}
    with app.app_context():
        assert len(outbox("office.escalation")) == 1
