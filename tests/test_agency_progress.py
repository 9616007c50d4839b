"""Overdue cases: the 7-day progress updates, shown as due, posted, sent to the submitter; and the
agency dashboard's figures (workload, due soon, overdue, on-time rate this quarter, by officer)."""
from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from pakn.extensions import db
from pakn.models import OutboxMessage
from pakn.models.types import utcnow
from pakn.operations import apply_transition, receive_feedback, transaction
from pakn.scenarios import SUBMISSION, drive, path_to
from workflows.calendar import TZ

from .agency_support import clean_uploads, case_by_code, fill, listed_codes, staff_client  # noqa: F401  (clean_uploads: autouse fixture)


def make_overdue(app, world, state: str = "in_progress", days_ago: int = 25, **extra) -> str:
    """A case received ``days_ago`` days ago by post and driven to ``state`` now (so its
    20-day answer deadline has passed)."""
    with app.app_context():
        with transaction():
            data = {**SUBMISSION, "channel": "post", **extra,
                    "received_at": (utcnow() - timedelta(days=days_ago)).isoformat()}
            case, _ = receive_feedback(data, world.user("clerk"), trigger="receive_on_behalf")
            who = {"clerk": "clerk", "lead": "lead", "officer": "officer_a", "agency_lead": "lead_a"}
            drive(case, path_to(state, "SXD", "xay_dung"), lambda k: world.user(who[k]), apply_transition)
        return case.code


def test_an_overdue_case_asks_for_a_progress_update_and_sends_it_to_the_submitter(app, world, make_case):
    code = make_overdue(app, world)
    on_time, _ = make_case("in_progress")
    officer = staff_client(app, "officer_a")

    html = officer.get("/agency/?view=overdue").get_data(as_text=True)
    assert listed_codes(html) == [code] and "Phải cập nhật tiến độ" in html
    page = officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    status = re.search(r'<dd id="progress-status">(.*?)</dd>', page, re.S).group(1)
    with app.app_context():
        due = case_by_code(code).answer_due_at
    assert "Phải cập nhật tiến độ cho người gửi: đến hạn từ" in status
    assert due.astimezone(TZ).strftime("%d/%m/%Y") in status
    assert "<details class=\"action\" open>\n    <summary>Cập nhật tiến độ xử lý</summary>" in page
    # A case within its deadline only says when updates would start.
    other = officer.get(f"/agency/cases/{on_time}").get_data(as_text=True)
    assert "phải cập nhật tiến độ cho người gửi 7 ngày một lần" in other

    message = "Sở đang lấy ý kiến Sở Tư pháp; dự kiến trả lời trước ngày 30/12/2026."
    assert fill(officer, code, "post_progress", {"message": message}).status_code == 302
    with app.app_context():
        case = case_by_code(code)
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "submitter.progress_update"))
        assert row.recipient_kind == "submitter" and row.feedback_id == case.id and row.status == "pending"
        assert row.payload["trigger"] == "post_progress"
        posted_at = row.created_at
    page = officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    status = re.search(r'<dd id="progress-status">(.*?)</dd>', page, re.S).group(1)
    assert "Lần cập nhật tiếp theo đến hạn:" in status and "Phải cập nhật" not in status
    assert (posted_at + timedelta(days=7)).astimezone(TZ).strftime("%d/%m/%Y %H:%M") in status
    assert message in page  # on the timeline
    assert "Phải cập nhật tiến độ" not in officer.get("/agency/?view=overdue").get_data(as_text=True)

    # Seven days later the next update is due again.
    with time_machine.travel(utcnow() + timedelta(days=7, minutes=1)):
        later = staff_client(app, "officer_a")
        assert "Phải cập nhật tiến độ" in later.get("/agency/?view=overdue").get_data(as_text=True)


def test_the_dashboard_counts_workload_overdue_and_the_on_time_rate_by_officer(app, world, make_case):
    late = make_overdue(app, world, "answered")  # answered this quarter, after its deadline
    make_case("answered")  # answered this quarter, on time
    make_overdue(app, world, "in_progress")  # open and overdue, assigned to officer_a
    fresh, _ = make_case("forwarded")  # new, not yet assigned
    make_case("forwarded", agency="STNMT")  # another agency's: never counted
    html = staff_client(app, "lead_a").get("/agency/dashboard").get_data(as_text=True)
    assert re.search(r"<dt>Đang xử lý</dt><dd><a [^>]*>2</a></dd>", html)
    assert re.search(r"<dt>Quá hạn</dt><dd><a [^>]*>1</a></dd>", html)
    assert re.search(r"<dt>Phải cập nhật tiến độ</dt><dd>1</dd>", html)
    assert re.search(r'<dd id="on-time-rate">50% \(1/2 hồ sơ\)</dd>', html)
    officer_row = re.search(r"<tr><td>Cán bộ officer_a</td>(.*?)</tr>", html, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', officer_row) == ["1", "0", "1", "1", "2", "1", "50%"]
    unassigned = re.search(r"<tr><td>Chưa giao</td>(.*?)</tr>", html, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', unassigned)[:3] == ["1", "0", "0"]
    assert "Cán bộ officer_b" not in html
    with app.app_context():
        assert case_by_code(late).state == "answered" and case_by_code(fresh).state == "forwarded"


# -- the agency-side request for information, as workflow data ---------------------------------
import pytest  # noqa: E402

from pakn.operations import SubmitterActor  # noqa: E402
from workflows.pakn import WORKFLOW  # noqa: E402

INFO_TABLE = [
    ("forwarded", "officer_a", "agency_request_info", None),
    ("in_progress", "lead_a", "agency_request_info", None),
    ("in_progress", "officer_b", "agency_request_info", "other_agency"),
    ("in_progress", "clerk", "agency_request_info", "other_agency"),
    ("draft_pending_approval", "officer_a", "agency_request_info", "wrong_state"),
    ("received", "officer_a", "agency_request_info", "wrong_state"),
    ("in_progress", "own_submitter", "supply_info_to_agency", "no_info_request"),
    ("needs_info", "own_submitter", "supply_info_to_agency", "wrong_state"),
]


@pytest.mark.parametrize("state, who, trigger, expected", INFO_TABLE,
                         ids=[f"{s}-{w}-{t}" for s, w, t, _ in INFO_TABLE])
def test_who_may_ask_the_submitter_for_information_and_when(app, world, make_case, state, who, trigger, expected):
    code, _ = make_case(state)
    with app.app_context():
        case = case_by_code(code)
        actor = SubmitterActor(case_id=case.id) if who == "own_submitter" else world.user(who)
        answer = {a.transition.trigger: a for a in WORKFLOW.available_transitions(case, actor)}[trigger]
        assert answer.allowed if expected is None else answer.refusal.code == expected


@pytest.mark.parametrize("who, expected", [("own_submitter", None), ("other_submitter", "not_own_case"),
                                           ("officer_a", None), ("officer_b", "other_agency"),
                                           ("clerk", "other_agency")])
def test_who_may_reply_to_an_open_request(app, world, make_case, who, expected):
    code, _ = make_case("in_progress")
    with app.app_context():
        with transaction():
            apply_transition(case_by_code(code), "agency_request_info", world.user("officer_a"),
                             {"message": "Đề nghị bổ sung bản chụp biên nhận."})
        case = case_by_code(code)
        actor = {"own_submitter": SubmitterActor(case_id=case.id),
                 "other_submitter": SubmitterActor(case_id=case.id + 1000)}.get(who) or world.user(who)
        refusal = WORKFLOW.refusal(case, "supply_info_to_agency", actor)
        assert refusal is None if expected is None else refusal.code == expected
