"""The operations layer: deadlines on real dates, audit and outbox rows, atomicity, concurrency."""
from __future__ import annotations

import threading
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from pakn.extensions import db
from pakn.models import AuditEvent, CalendarOverlay, Feedback, OutboxMessage, Plan, PlanTask, StageVisit
from pakn.operations import (
    Conflict, Forbidden, InvalidPayload, StaleVersion, SubmitterActor, apply_transition, open_visit,
    receive_feedback, transaction,
)
from pakn.scenarios import SUBMISSION, forward_to
from pakn.text import fold

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


def end_of(y, m, d) -> datetime:
    """23:59:59 local of a day, as the UTC instant stored."""
    return datetime(y, m, d, 23, 59, 59, tzinfo=VN).astimezone(timezone.utc)


def case_by_code(code: str) -> Feedback:
    return db.session.scalar(select(Feedback).where(Feedback.code == code))


def intake(world, received_at: datetime, now: datetime | None = None, **extra) -> Feedback:
    data = {**SUBMISSION, "channel": "post", "received_at": received_at.isoformat(), **extra}
    case, _ = receive_feedback(data, world.user("clerk"), trigger="receive_on_behalf",
                               now=now or received_at)
    return case


# -- deadlines --------------------------------------------------------------------------
def test_an_item_received_before_tet_2026_is_due_after_the_holiday(ctx, world):
    with transaction():
        case = intake(world, local(2026, 2, 13, 10, 0))
    visit = open_visit(case)
    assert visit.stage == "classify"
    # 5 working days counted from Sat 14/2: Tết 16–20/2 is off, so 23, 24, 25, 26, 27/2.
    assert visit.due_at == end_of(2026, 2, 27)
    assert visit.due_date == date(2026, 2, 27)
    skipped = {d["day"] for d in visit.explanation["skipped"]}
    assert {"2026-02-16", "2026-02-20"} <= skipped
    # The answer clock: 20 calendar days from receipt → Thu 5/3/2026, a working day.
    assert case.answer_due_at == end_of(2026, 3, 5)


def test_the_make_up_saturday_counts_and_the_national_day_break_does_not(ctx, world):
    with transaction():
        case = intake(world, local(2026, 8, 18, 9, 0))
    # From Wed 19/8: 19, 20, 21, Sat 22 (make-up working day), then 24/8 → 5th working day is Mon 24/8.
    assert open_visit(case).due_date == date(2026, 8, 24)
    with transaction():
        later = intake(world, local(2026, 8, 27, 9, 0))
    # From Fri 28/8: 28, (29–30 weekend, 31/8–2/9 off), 3, 4, 7, 8/9.
    assert open_visit(later).due_date == date(2026, 9, 8)


def test_culture_day_24_11_2026_is_not_a_working_day(ctx, world):
    with transaction():
        case = intake(world, local(2026, 11, 20, 15, 0))
    # From Mon 23/11: 23, (24 off), 25, 26, 27, 30/11.
    assert open_visit(case).due_date == date(2026, 11, 30)


def test_a_calendar_day_answer_deadline_on_a_weekend_rolls_to_monday(ctx, world):
    with transaction():
        case = intake(world, local(2026, 3, 1, 8, 0))
    # 1/3 + 20 days = Sat 21/3/2026 → Mon 23/3/2026.
    assert case.answer_due_at == end_of(2026, 3, 23)


def test_the_answer_clock_can_count_working_days(app, ctx, world):
    app.config["CLOCK"]["answer_day_unit"] = "working"
    try:
        with transaction():
            case = intake(world, local(2026, 3, 2, 8, 0))
    finally:
        app.config["CLOCK"]["answer_day_unit"] = "calendar"
    # 20 working days from Tue 3/3/2026 (no holiday until 27/4) → Mon 30/3/2026.
    assert case.answer_due_at == end_of(2026, 3, 30)


def test_an_admin_day_off_moves_the_deadline_and_is_explained(ctx, world):
    with transaction():
        db.session.add(CalendarOverlay(day=date(2026, 3, 4), kind="day_off",
                                       note="Nghỉ theo Quyết định 123/QĐ-UBND (thử nghiệm)"))
    with transaction():
        case = intake(world, local(2026, 3, 2, 8, 0))
    visit = open_visit(case)
    # From Tue 3/3: 3, (4 off), 5, 6, 9, 10/3.
    assert visit.due_date == date(2026, 3, 10)
    assert "Quyết định 123/QĐ-UBND" in visit.explanation["explanation"]


def test_return_by_an_agency_gives_a_new_forwarding_limit_and_keeps_the_answer_clock(ctx, world):
    with transaction():
        case = intake(world, local(2026, 3, 2, 8, 0))
        answer_due = case.answer_due_at
        apply_transition(case, "forward", world.user("clerk"), forward_to("SXD", "xay_dung"),
                         now=local(2026, 3, 3, 9, 0))
        apply_transition(case, "return_not_competent", world.user("officer_a"),
                         {"reason": "Thuộc thẩm quyền Sở Nông nghiệp và Môi trường."},
                         now=local(2026, 3, 9, 9, 0))
    visit = open_visit(case)
    assert case.state == "returned" and case.agency_id is None
    assert visit.stage == "classify"
    assert visit.due_date == date(2026, 3, 16)  # 5 working days from Tue 10/3
    with transaction():
        apply_transition(case, "forward", world.user("clerk"), forward_to("STNMT", "dat_dai"),
                         now=local(2026, 3, 10, 9, 0))
    handle = open_visit(case)
    assert case.answer_due_at == answer_due
    assert handle.due_at == answer_due  # still counted from the receipt
    assert handle.agency_id == world.agency_b
    stages = [v.stage for v in db.session.scalars(
        select(StageVisit).where(StageVisit.feedback_id == case.id).order_by(StageVisit.id))]
    assert stages == ["classify", "handle", "classify", "handle"]


def test_the_stage_visit_records_the_plan_task_bound_to_it(ctx, world):
    with transaction():
        plan = Plan(code="62/KH-UBND", title="Kế hoạch kiểm soát thủ tục hành chính năm 2019")
        db.session.add(plan)
        db.session.flush()
        db.session.add(PlanTask(plan_id=plan.id, number="6.2", binding="receive_classify",
                                content="Tiếp nhận, phân loại phản ánh, kiến nghị",
                                expected_product="Văn bản chuyển xử lý"))
    with transaction():
        case = intake(world, local(2026, 3, 2, 8, 0))
    assert open_visit(case).plan_task.number == "6.2"


def test_an_internal_extension_must_be_later_and_is_recorded(ctx, world):
    with transaction():
        case = intake(world, local(2026, 3, 2, 8, 0))
        apply_transition(case, "forward", world.user("clerk"), forward_to("SXD", "xay_dung"),
                         now=local(2026, 3, 3, 9, 0))
    with pytest.raises(Conflict) as refused, transaction():
        apply_transition(case, "record_extension", world.user("lead_a"),
                         {"reason": "Cần lấy ý kiến Bộ Xây dựng.", "new_due_date": "2026-03-20"})
    assert refused.value.code == "extension_not_later"
    with transaction():
        apply_transition(case, "record_extension", world.user("lead_a"),
                         {"reason": "Cần lấy ý kiến Bộ Xây dựng.", "new_due_date": "2026-04-10"},
                         now=local(2026, 3, 15, 9, 0))
    visit = open_visit(case)
    assert visit.extended_due_at == end_of(2026, 4, 10)
    assert visit.due_at == case.answer_due_at  # the legal deadline itself never moves


# -- what every change writes -------------------------------------------------------------
def test_each_change_writes_its_audit_event_and_outbox_rows(ctx, world):
    with transaction():
        case, token = receive_feedback(SUBMISSION, SubmitterActor())
    assert len(token) >= 40 and case.tracking_token_hash != token
    with transaction():
        apply_transition(case, "forward", world.user("clerk"), forward_to("SXD", "xay_dung"))
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.feedback_id == case.id)
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("receive", None, "received"), ("forward", "received", "forwarded")]
    assert events[1].actor_id == world.users["clerk"] and events[1].data["agency"] == "SXD"
    assert events[1].version == case.version
    outbox = db.session.scalars(select(OutboxMessage).where(OutboxMessage.feedback_id == case.id)
                                .order_by(OutboxMessage.id)).all()
    assert [(o.kind, o.status) for o in outbox] == [("submitter.receipt", "pending"), ("agency.forwarded", "pending")]
    assert outbox[1].recipient_agency_id == world.agency_a
    # No personal data is copied into the outbox: the delivering job re-reads the case.
    assert SUBMISSION["submitter_name"] not in str([o.payload for o in outbox])


def test_withdrawal_before_forwarding_notifies_no_agency(ctx, world):
    with transaction():
        case, _ = receive_feedback(SUBMISSION, SubmitterActor())
        apply_transition(case, "withdraw", SubmitterActor(case_id=case.id), {"reason": "Đã được giải quyết."})
    kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.feedback_id == case.id)).all()
    assert sorted(kinds) == ["submitter.receipt", "submitter.withdrawn"]
    assert case.withdrawn_at is not None and open_visit(case) is None


def test_codes_are_sequential_per_local_year(ctx, world):
    with transaction():
        first = intake(world, local(2025, 12, 31, 23, 30))  # still 2025 in Vietnam (16:30 UTC)
        second = intake(world, local(2026, 1, 1, 0, 30))   # 2026 in Vietnam, 31/12 17:30 UTC
        third = intake(world, local(2026, 1, 2, 8, 0))
    assert (first.code, second.code, third.code) == ("PAKN-2025-000001", "PAKN-2026-000001", "PAKN-2026-000002")


def test_a_new_case_reads_back_whole_from_the_database(ctx, world):
    """Everything the intake writes, as a fresh session reads it (not the objects it attached)."""
    extra = {"proposal": "Đề nghị bỏ yêu cầu bản sao   chứng thực.", "submitter_organisation": "HTX Đồng Tâm"}
    with transaction():
        case, token = receive_feedback({**SUBMISSION, **extra}, SubmitterActor())
    case_id, code = case.id, case.code
    db.session.expunge_all()
    stored = db.session.get(Feedback, case_id)
    assert stored.code == code and stored.version == 1 and stored.state == "received"
    assert stored.proposal == extra["proposal"] and stored.withdrawn_at is None
    assert stored.search_text == fold(code, stored.title, stored.content, stored.proposal, stored.submitter_name,
                                      stored.submitter_organisation, stored.external_ref)
    assert "htx dong tam" in stored.search_text and "ban sao chung thuc" in stored.search_text
    [visit] = stored.stage_visits
    assert (visit.stage, visit.agency_id, visit.finished_at) == ("classify", world.office, None)
    assert visit.due_at is not None and visit.remind_at is not None and visit.explanation
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.feedback_id == case_id)).all()
    assert (event.action, event.to_state, event.version) == ("receive", "received", 1)
    assert event.data == {"channel": "web", "code": code}
    [row] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.feedback_id == case_id)).all()
    assert (row.kind, row.status, row.audit_event_id, row.attempts) == ("submitter.receipt", "pending", event.id, 0)
    assert token not in str(row.payload)  # only sealed
    # The case stays usable in the session that wrote it, and later changes are versioned.
    with transaction():
        apply_transition(stored, "forward", world.user("clerk"), forward_to("SXD", "xay_dung"))
    assert stored.version == 2


def test_codes_go_past_six_digits(ctx, world):
    with transaction():
        intake(world, local(2026, 3, 2, 9, 0))
        db.session.execute(text("UPDATE feedback_counter SET last_value = 999998 WHERE year = 2026"))
    with transaction():
        a = intake(world, local(2026, 3, 2, 10, 0))
        b = intake(world, local(2026, 3, 2, 11, 0))
    assert (a.code, b.code) == ("PAKN-2026-999999", "PAKN-2026-1000000")
    db.session.expunge_all()
    assert db.session.get(Feedback, b.id).search_text.startswith("pakn-2026-1000000 ")


# -- refusals ---------------------------------------------------------------------------
def test_payload_errors_name_the_fields(ctx, world):
    with pytest.raises(InvalidPayload) as err, transaction():
        receive_feedback({**SUBMISSION, "submitter_phone": None, "submitter_email": None,
                          "title": "", "status": "published"}, SubmitterActor())
    assert set(err.value.fields) >= {"submitter_phone", "submitter_email", "title", "status"}
    assert db.session.scalar(select(func.count()).select_from(Feedback)) == 0


def test_a_citizen_cannot_enter_items_on_behalf(ctx, world):
    with pytest.raises(Forbidden), transaction():
        receive_feedback({**SUBMISSION, "channel": "post", "received_at": "2026-03-02T08:00:00+07:00"},
                         SubmitterActor(), trigger="receive_on_behalf")


def test_a_received_date_in_the_future_is_refused(ctx, world):
    with pytest.raises(InvalidPayload) as err, transaction():
        intake(world, local(2026, 3, 10, 8, 0), now=local(2026, 3, 9, 8, 0))
    assert "received_at" in err.value.fields


def test_merging_into_itself_is_refused_with_a_reason(ctx, world, make_case):
    code, _ = make_case("received")
    case = case_by_code(code)
    with pytest.raises(Conflict) as err, transaction():
        apply_transition(case, "merge", world.user("clerk"), {"duplicate_of": code})
    assert err.value.code == "duplicate_self"
    assert case_by_code(code).state == "received"


# -- atomicity and concurrency ----------------------------------------------------------
def _counts(case_id: int) -> tuple:
    def count(model):
        return db.session.scalar(select(func.count()).select_from(model).where(model.feedback_id == case_id))
    return count(AuditEvent), count(StageVisit), count(OutboxMessage)


def test_a_failure_mid_operation_leaves_no_partial_rows(ctx, world, make_case, monkeypatch):
    code, _ = make_case("received")
    case = case_by_code(code)
    before = (case.state, case.version, case.agency_id, _counts(case.id))

    def broken(*args, **kwargs):
        raise RuntimeError("injected failure after the state change")

    monkeypatch.setattr("pakn.operations.feedback._write_outbox", broken)
    with pytest.raises(RuntimeError), transaction():
        apply_transition(case, "forward", world.user("clerk"), forward_to("SXD", "xay_dung"))
    db.session.expire_all()
    case = case_by_code(code)
    assert (case.state, case.version, case.agency_id, _counts(case.id)) == before


def test_a_failed_submission_leaves_no_case_and_no_used_code(ctx, world, monkeypatch):
    # Fails once the rows are written (the year's counter taken): the rollback undoes them all.
    monkeypatch.setattr("pakn.operations.intake._attach",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError), transaction():
        receive_feedback(SUBMISSION, SubmitterActor())
    assert db.session.scalar(select(func.count()).select_from(Feedback)) == 0
    monkeypatch.undo()
    with transaction():
        case, _ = receive_feedback(SUBMISSION, SubmitterActor())
    assert case.code.endswith("-000001")


def test_a_stale_version_is_refused(ctx, world, make_case):
    code, _ = make_case("received")
    case = case_by_code(code)
    seen = case.version
    with transaction():
        apply_transition(case, "request_info", world.user("clerk"), {"message": "Xin bổ sung số hồ sơ."},
                         expected_version=seen)
    with pytest.raises(StaleVersion) as err, transaction():
        apply_transition(case, "reject", world.user("lead"), {"reason_code": "unclear"}, expected_version=seen)
    assert err.value.current_state == "needs_info"
    assert case_by_code(code).state == "needs_info"


def test_two_staff_acting_at_once_one_wins_and_one_gets_a_conflict(app, world, make_case):
    """Both load version N; both fire; the database lets exactly one through."""
    code, _ = make_case("received")
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def act(user_key: str, trigger: str, payload: dict) -> None:
        with app.app_context():
            case = case_by_code(code)
            barrier.wait()
            try:
                with transaction():
                    apply_transition(case, trigger, world.user(user_key), payload)
                outcomes.append("ok")
            except (StaleVersion, Conflict):
                outcomes.append("conflict")

    threads = [
        threading.Thread(target=act, args=("clerk", "forward", forward_to("SXD", "xay_dung"))),
        threading.Thread(target=act, args=("lead", "reject", {"reason_code": "unclear"})),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["conflict", "ok"]
    with app.app_context():
        case = case_by_code(code)
        assert case.state in ("forwarded", "rejected")
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.feedback_id == case.id)).all()
        assert sorted(actions) == sorted(["receive", "forward" if case.state == "forwarded" else "reject"])
        assert db.session.scalar(select(func.count()).select_from(StageVisit).where(
            StageVisit.feedback_id == case.id, StageVisit.finished_at.is_(None))) <= 1


# -- the database refuses impossible rows whatever the code does ---------------------------
def test_check_constraints_refuse_a_rejected_case_without_a_reason(ctx, world, make_case):
    code, _ = make_case("received")
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE feedback SET state = 'rejected' WHERE code = :c"), {"c": code})
        db.session.flush()
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE feedback SET state = 'forwarded', agency_id = NULL WHERE code = :c"),
                           {"c": code})
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE feedback SET submitter_phone = NULL, submitter_email = NULL "
                                "WHERE code = :c"), {"c": code})
    db.session.rollback()


def test_the_audit_trail_is_append_only(app, ctx, world, make_case):
    code, _ = make_case("received")
    event = db.session.scalar(select(AuditEvent))
    event.action = "tampered"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    if app.config["BACKEND"] == "postgresql":
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text("DELETE FROM audit_event"))
        db.session.rollback()
