"""The JSON API end to end: what a client sees (status, body) and what the database holds.

Every test runs on SQLite and, with PAKN_TEST_DATABASE_URL, on PostgreSQL (``app`` is
parametrized). Cases are driven through the API itself wherever the test is about the API;
factories (``make_case``) only set the scene.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from pakn.extensions import db
from pakn.models import Answer, AuditEvent, Feedback, OutboxMessage, StageVisit
from pakn.models.types import utcnow
from pakn.operations import apply_transition, receive_feedback, transaction
from pakn.scenarios import DRAFT, PUBLISH, SUBMISSION, forward_to
from workflows.glossary import REJECT_GUIDANCE

from .conftest import csrf_token

API = "/api/v1"
STAFF_NAME = "Cán bộ"  # every staff account of the test world is "Cán bộ <key>"


# -- helpers ---------------------------------------------------------------------------------
def submit(client, **overrides):
    return client.post(f"{API}/feedback", json={**SUBMISSION, **overrides})


def citizen(client, code: str, token: str) -> dict:
    response = client.get(f"{API}/feedback/{code}", headers={"X-Tracking-Token": token})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def detail(client, headers: dict, code: str) -> dict:
    response = client.get(f"{API}/cases/{code}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def act(client, headers: dict, code: str, trigger: str, payload: dict | None = None, version: int | None = None):
    """Fire a staff action with the version read just before (or the one given)."""
    if version is None:
        version = detail(client, headers, code)["version"]
    return client.post(f"{API}/cases/{code}/actions/{trigger}", json=payload or {},
                       headers={**headers, "If-Match": f'"{version}"'})


def ok(response, state: str) -> dict:
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == state
    return body


def submitter_act(client, code: str, token: str, trigger: str, payload: dict):
    return client.post(f"{API}/feedback/{code}/actions/{trigger}", json=payload,
                       headers={"X-Tracking-Token": token})


def db_case(app, code: str) -> dict:
    """What the database holds about a case: its row, and the counts of its related rows."""
    with app.app_context():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))

        def count(model):
            return db.session.scalar(select(func.count()).select_from(model).where(model.feedback_id == case.id))

        return {"state": case.state, "version": case.version, "agency_id": case.agency_id,
                "answer_due_at": case.answer_due_at, "events": count(AuditEvent),
                "visits": count(StageVisit), "outbox": count(OutboxMessage), "answers": count(Answer)}


def old_case(app, world, days_ago: int, steps=()) -> tuple[str, str]:
    """A case received ``days_ago`` days ago by post, with ``steps`` done on that day."""
    received = utcnow() - timedelta(days=days_ago)
    with app.app_context(), transaction():
        case, token = receive_feedback(
            {**SUBMISSION, "channel": "post", "received_at": received.isoformat()}, world.user("clerk"),
            trigger="receive_on_behalf", now=received)
        for trigger, who, payload in steps:
            apply_transition(case, trigger, world.user(who), dict(payload), now=received)
        return case.code, token


# -- the happy path ---------------------------------------------------------------------------
def test_a_case_goes_from_submission_to_closing_through_the_api_alone(app, client, world, api_token):
    receipt = submit(client)
    assert receipt.status_code == 201
    body = receipt.get_json()
    code, token = body["code"], body["tracking_token"]
    assert code.startswith("PAKN-") and len(token) >= 40
    assert receipt.headers["Location"] == f"{API}/feedback/{code}"
    assert body["state"] == "received" and body["state_label"] == "Đã tiếp nhận"
    assert [d["kind"] for d in body["deadlines"]] == ["stage", "answer"]
    classify, answer = body["deadlines"]
    assert classify["stage"] == "classify" and "5 ngày làm việc" in classify["explanation"]
    assert answer["due_at"] == datetime.fromisoformat(answer["due_at"]).isoformat()
    assert "20 ngày" in answer["explanation"]
    assert date.fromisoformat(answer["due_date"]).strftime("%d/%m/%Y") in answer["explanation"]
    with app.app_context():
        stored = db.session.scalar(select(Feedback).where(Feedback.code == code))
        assert stored.tracking_token_hash != token  # only the hash is kept
        assert stored.answer_due_at.isoformat() == answer["due_at"]

    clerk, officer, lead = api_token("clerk"), api_token("officer_a"), api_token("lead_a")
    version = detail(client, clerk, code)["version"]
    steps = [
        (clerk, "forward", forward_to("SXD", "xay_dung"), "forwarded"),
        (officer, "accept", {}, "in_progress"),
        (officer, "draft_answer", DRAFT, "draft_pending_approval"),
        (lead, "approve_answer", {"comment": "Đồng ý ban hành, lưu ý thể thức."}, "answer_approved"),
        (officer, "submit_answer", {"document_number": "125/SXD-QLXD"}, "answered"),
        (clerk, "accept_answer", {}, "answer_accepted"),
        (clerk, "notify", {}, "notified"),
        (clerk, "publish", PUBLISH, "published"),
        (clerk, "close", {}, "closed"),
    ]
    for headers, trigger, payload, state in steps:
        result = ok(act(client, headers, code, trigger, payload, version), state)
        assert result["version"] == version + 1, trigger
        version = result["version"]

        view = citizen(client, code, token)
        text = json.dumps(view, ensure_ascii=False)
        assert view["state"] == state
        assert STAFF_NAME not in text  # never a staff name
        assert "Đồng ý ban hành, lưu ý thể thức." not in text  # never an internal note
        assert view["agency_name"] == "Sở Xây dựng"
        if state in ("published", "closed"):
            assert view["answer"]["public_title"] == PUBLISH["public_title"]
            assert view["answer"]["public_summary"] == PUBLISH["public_summary"]
            assert view["answer"]["public_answer"] == PUBLISH["public_answer"]
            assert view["answer"]["published_at"]
        else:
            assert view["answer"] is None
            assert DRAFT["body"] not in text and DRAFT["findings"] not in text

    final = citizen(client, code, token)
    assert [e["action"] for e in final["timeline"]] == [
        "receive", "forward", "accept", "submit_answer", "accept_answer", "notify", "publish", "close"]
    assert final["deadlines"] == []  # a closed case has no running deadline

    staff = detail(client, clerk, code)
    assert staff["state"] == "closed" and staff["version"] == version
    assert staff["submitter"]["email"] == SUBMISSION["submitter_email"]
    assert [(a["revision"], a["status"]) for a in staff["answers"]] == [(1, "accepted")]
    assert staff["answers"][0]["document_number"] == "125/SXD-QLXD"
    # Forwarding issues the forwarding document in the same transaction, as in the console.
    assert [e["action"] for e in staff["timeline"]] == ["receive", "forward", "document.issued"] + [
        s[1] for s in steps[1:]]
    labels = {e["action"]: e["actor"]["label"] for e in staff["timeline"]}
    assert labels["accept"] == "Cán bộ officer_a" and labels["approve_answer"] == "Cán bộ lead_a"
    assert [v["stage"] for v in staff["stage_visits"]] == ["classify", "handle", "check", "publish"]
    assert all(v["finished_at"] for v in staff["stage_visits"])
    assert db_case(app, code)["state"] == "closed" and db_case(app, code)["events"] == 11


# -- side paths --------------------------------------------------------------------------------
def test_request_info_then_the_submitter_supplies_it_with_the_tracking_token(app, client, world, api_token):
    body = submit(client).get_json()
    code, token = body["code"], body["tracking_token"]
    clerk = api_token("clerk")
    question = "Đề nghị ông/bà cho biết số biên nhận hồ sơ và ngày nộp."
    ok(act(client, clerk, code, "request_info", {"message": question}), "needs_info")

    view = citizen(client, code, token)
    assert view["state"] == "needs_info" and view["state_label"] == "Chờ bổ sung thông tin"
    assert view["timeline"][-1]["message"] == question

    supplied = {"message": "Biên nhận số 123/BN ngày 02/10/2026 tại bộ phận một cửa."}
    assert submitter_act(client, code, "sai-ma-theo-doi", "supply_info", supplied).status_code == 404
    response = submitter_act(client, code, token, "supply_info", supplied)
    assert response.status_code == 200
    assert response.get_json()["state"] == "received"
    assert response.get_json()["timeline"][-1]["action"] == "supply_info"
    events = detail(client, clerk, code)["timeline"]
    assert events[-1]["action"] == "supply_info" and events[-1]["actor"]["role"] == "submitter"
    assert events[-1]["data"]["message"] == supplied["message"]
    # A second supply is not allowed: the case is no longer waiting for information.
    again = submitter_act(client, code, token, "supply_info", supplied)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "wrong_state"


def test_a_rejection_shows_its_reason_and_guidance_to_the_citizen(app, client, world, api_token):
    body = submit(client).get_json()
    code, token = body["code"], body["tracking_token"]
    ok(act(client, api_token("clerk"), code, "reject", {"reason_code": "complaint"}), "rejected")

    view = citizen(client, code, token)
    assert view["state"] == "rejected"
    assert view["rejection"] == {"reason_code": "complaint", "reason_label": "Khiếu nại",
                                 "guidance": REJECT_GUIDANCE["complaint"]}
    assert view["timeline"][-1]["message"] == REJECT_GUIDANCE["complaint"]
    assert view["deadlines"] == []
    assert db_case(app, code)["state"] == "rejected"


def test_a_case_is_merged_into_its_duplicate_but_never_into_itself(app, client, world, api_token, make_case):
    first, _ = make_case("received")
    second, token = make_case("received")
    clerk = api_token("clerk")

    itself = act(client, clerk, second, "merge", {"duplicate_of": second})
    assert itself.status_code == 409
    assert itself.get_json()["error"]["code"] == "duplicate_self"
    assert itself.get_json()["error"]["message"] == "Không thể gộp một PAKN vào chính nó."
    unknown = act(client, clerk, second, "merge", {"duplicate_of": "PAKN-1999-000001"})
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["fields"] == {"duplicate_of": ["Không tìm thấy PAKN có mã này."]}
    assert db_case(app, second)["state"] == "received"

    ok(act(client, clerk, second, "merge", {"duplicate_of": first, "note": "Cùng nội dung."}), "merged")
    view = citizen(client, second, token)
    assert view["merged_into"] == first and view["state_label"] == "Đã gộp vào PAKN trùng"
    assert "Cùng nội dung." not in json.dumps(view, ensure_ascii=False)


def test_the_office_handles_a_case_within_its_own_competence(app, client, world, api_token, make_case):
    code, token = make_case("received")
    clerk = api_token("clerk")
    payload = {"subject": "quy_dinh", "content_category": "2", "field": "xay_dung"}
    ok(act(client, clerk, code, "handle_in_office", payload), "in_progress")

    staff = detail(client, clerk, code)
    assert staff["agency"] == {"code": "VP", "name": "Văn phòng UBND tỉnh"}
    assert staff["assignee"]["id"] == world.users["clerk"]
    assert staff["field"] == {"code": "xay_dung", "name": "Xây dựng"}
    assert citizen(client, code, token)["agency_name"] == "Văn phòng UBND tỉnh"
    actions = client.get(f"{API}/cases/{code}/actions", headers=clerk).get_json()
    assert "draft_answer" in [a["trigger"] for a in actions["available"]]


def test_a_case_returned_as_not_competent_is_forwarded_to_agency_b_with_a_new_classify_deadline(
        app, client, world, api_token):
    code, token = old_case(app, world, 10, [("forward", "clerk", forward_to("SXD", "xay_dung"))])
    before = db_case(app, code)
    officer_a, clerk, officer_b = api_token("officer_a"), api_token("clerk"), api_token("officer_b")
    first_classify = detail(client, clerk, code)["stage_visits"][0]

    reason = "Nội dung thuộc thẩm quyền của Sở Nông nghiệp và Môi trường."
    ok(act(client, officer_a, code, "return_not_competent", {"reason": reason, "suggested_agency": "STNMT"}),
       "returned")
    assert client.get(f"{API}/cases/{code}", headers=officer_a).status_code == 404  # no longer A's
    staff = detail(client, clerk, code)
    assert [v["stage"] for v in staff["stage_visits"]] == ["classify", "handle", "classify"]
    new_classify = staff["stage_visits"][-1]
    assert new_classify["finished_at"] is None
    assert new_classify["due_date"] > first_classify["due_date"]  # counted from the return, not receipt
    assert staff["deadlines"][0]["due_at"] == new_classify["due_at"]
    view = citizen(client, code, token)
    assert view["agency_name"] is None and reason not in json.dumps(view, ensure_ascii=False)

    ok(act(client, clerk, code, "forward", forward_to("STNMT", "dat_dai")), "forwarded")
    after = db_case(app, code)
    assert after["answer_due_at"] == before["answer_due_at"]  # the submitter's clock kept running
    staff_b = detail(client, officer_b, code)
    handle = staff_b["stage_visits"][-1]
    assert handle["stage"] == "handle" and handle["agency"]["code"] == "STNMT"
    assert handle["due_at"] == before["answer_due_at"].isoformat()
    assert citizen(client, code, token)["agency_name"] == "Sở Nông nghiệp và Môi trường"


def test_the_office_returns_an_answer_and_the_agency_drafts_again(app, client, world, api_token, make_case):
    code, token = make_case("answered")
    clerk, officer = api_token("clerk"), api_token("officer_a")
    message = "Đề nghị bổ sung căn cứ pháp lý cụ thể trong văn bản trả lời."
    ok(act(client, clerk, code, "return_answer", {"message": message}), "in_progress")

    staff = detail(client, officer, code)
    assert staff["answers"][-1]["status"] == "returned"
    assert staff["answers"][-1]["review_comment"] == message
    with app.app_context():
        kinds = db.session.scalars(select(OutboxMessage.kind).join(Feedback).where(Feedback.code == code)).all()
    assert "agency.answer_returned" in kinds
    assert message not in json.dumps(citizen(client, code, token), ensure_ascii=False)

    ok(act(client, officer, code, "draft_answer", {**DRAFT, "legal_refs": "Điều 95 Luật Xây dựng 2014."}),
       "draft_pending_approval")
    assert [a["revision"] for a in detail(client, officer, code)["answers"]] == [1, 2]


def test_a_lead_sends_a_draft_back_and_the_officer_redrafts(app, client, world, api_token, make_case):
    code, token = make_case("draft_pending_approval")
    lead, officer = api_token("lead_a"), api_token("officer_a")
    comment = "Cần nêu rõ thời hạn khắc phục."
    ok(act(client, lead, code, "send_back_draft", {"comment": comment}), "in_progress")
    ok(act(client, officer, code, "draft_answer", DRAFT), "draft_pending_approval")

    answers = detail(client, lead, code)["answers"]
    assert [(a["revision"], a["status"]) for a in answers] == [(1, "sent_back"), (2, "pending_approval")]
    assert answers[0]["review_comment"] == comment and answers[0]["reviewed_by"]["name"] == "Cán bộ lead_a"
    view = citizen(client, code, token)
    text = json.dumps(view, ensure_ascii=False)
    assert comment not in text and DRAFT["summary"] not in text
    assert not {"draft_answer", "send_back_draft"} & {e["action"] for e in view["timeline"]}


def test_a_progress_update_reaches_the_citizen_without_changing_the_state(app, client, world, api_token, make_case):
    code, token = make_case("in_progress")
    officer = api_token("officer_a")
    version = detail(client, officer, code)["version"]
    message = "Sở đang làm việc với bộ phận một cửa để xác minh, dự kiến trả lời trong tuần tới."
    result = ok(act(client, officer, code, "post_progress", {"message": message}, version), "in_progress")
    assert result["version"] == version + 1
    last = citizen(client, code, token)["timeline"][-1]
    assert last["action"] == "post_progress" and last["message"] == message
    assert last["label"] == "Cập nhật tiến độ xử lý"


def test_an_extension_must_be_later_than_the_current_due_date_and_stays_internal(
        app, client, world, api_token, make_case):
    code, token = make_case("in_progress")
    lead = api_token("lead_a")
    due = date.fromisoformat(detail(client, lead, code)["deadlines"][0]["due_date"])
    before = db_case(app, code)

    same = act(client, lead, code, "record_extension", {"reason": "Cần thêm thời gian xác minh.",
                                                         "new_due_date": due.isoformat()})
    assert same.status_code == 409
    assert same.get_json()["error"]["code"] == "extension_not_later"
    assert same.get_json()["error"]["message"] == (
        f"Thời hạn gia hạn phải sau thời hạn hiện tại ({due.strftime('%d/%m/%Y')}).")
    assert db_case(app, code) == before

    reason = "Cần lấy ý kiến Sở Tư pháp."
    later = (due + timedelta(days=10)).isoformat()
    ok(act(client, lead, code, "record_extension", {"reason": reason, "new_due_date": later}), "in_progress")
    deadline = detail(client, lead, code)["deadlines"][0]
    assert deadline["extension_reason"] == reason
    assert deadline["extended_due_at"] == f"{later}T16:59:59+00:00"  # 23:59:59 in Việt Nam (UTC+7)
    view = citizen(client, code, token)
    text = json.dumps(view, ensure_ascii=False)
    assert reason not in text and "extended_due_at" not in text
    assert view["deadlines"][0]["due_date"] == due.isoformat()  # the legal date is unchanged


def test_the_submitter_withdraws_before_the_answer_but_not_after(app, client, world, make_case):
    code, token = make_case("in_progress")
    response = client.post(f"{API}/feedback/{code}/actions/withdraw?token={token}",
                           json={"reason": "Đã được giải quyết trực tiếp."})
    assert response.status_code == 200
    assert response.get_json()["state"] == "withdrawn" and response.get_json()["withdrawn_at"]
    assert db_case(app, code)["state"] == "withdrawn"

    answered, answered_token = make_case("answered")
    before = db_case(app, answered)
    refused = submitter_act(client, answered, answered_token, "withdraw", {})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "wrong_state"
    assert refused.get_json()["error"]["message"] == (
        "Không thể thực hiện «Rút phản ánh, kiến nghị» khi hồ sơ đang ở trạng thái "
        "«Đã có văn bản trả lời, chờ kiểm tra».")
    assert db_case(app, answered) == before
    # Only the submitter's own triggers exist on this endpoint.
    assert submitter_act(client, answered, answered_token, "accept_answer", {}).status_code == 404


# -- concurrency and scope ---------------------------------------------------------------------
def test_two_people_acting_on_the_same_version_one_wins_the_other_gets_409(app, client, world, api_token,
                                                                           make_case):
    code, _ = make_case("received")
    clerk, lead = api_token("clerk"), api_token("lead")
    seen = detail(client, clerk, code)["version"]
    assert detail(client, lead, code)["version"] == seen

    ok(act(client, clerk, code, "forward", forward_to("SXD", "xay_dung"), seen), "forwarded")
    late = act(client, lead, code, "reject", {"reason_code": "unclear"}, seen)
    assert late.status_code == 409
    error = late.get_json()["error"]
    assert error["code"] == "stale_version"
    assert error["current_version"] == seen + 1 and error["current_state"] == "forwarded"
    assert db_case(app, code)["state"] == "forwarded"


def test_an_agency_never_sees_another_agencys_cases(app, client, world, api_token, make_case):
    code_a, _ = make_case("forwarded", agency="SXD")
    code_b, _ = make_case("forwarded", agency="STNMT")
    officer_b, officer_a, clerk = api_token("officer_b"), api_token("officer_a"), api_token("clerk")
    before = db_case(app, code_a)

    assert client.get(f"{API}/cases/{code_a}", headers=officer_b).status_code == 404
    assert client.get(f"{API}/cases/{code_a}/actions", headers=officer_b).status_code == 404
    response = act(client, officer_b, code_a, "accept", {}, before["version"])
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert db_case(app, code_a) == before

    def listed(headers, query=""):
        return [c["code"] for c in client.get(f"{API}/cases{query}", headers=headers).get_json()["items"]]

    assert listed(officer_b) == [code_b]
    assert listed(officer_b, "?agency=SXD") == []
    assert listed(officer_a) == [code_a]
    assert sorted(listed(clerk)) == sorted([code_a, code_b])


# -- the list ----------------------------------------------------------------------------------
def test_the_case_list_filters_pages_and_links_to_the_next_page(app, client, world, api_token, make_case):
    received, _ = make_case("received", title="Thủ tục cấp phép biển quảng cáo LED ngoài trời")
    fwd_a, _ = make_case("forwarded", agency="SXD")
    fwd_b, _ = make_case("forwarded", agency="STNMT")
    overdue, _ = old_case(app, world, 30)
    clerk = api_token("clerk")

    def codes(query: str) -> list[str]:
        response = client.get(f"{API}/cases{query}", headers=clerk)
        assert response.status_code == 200, response.get_json()
        return [c["code"] for c in response.get_json()["items"]]

    assert set(codes("?state=forwarded")) == {fwd_a, fwd_b}
    assert set(codes("?state=received,forwarded")) == {received, fwd_a, fwd_b, overdue}
    assert set(codes("?state=received&state=forwarded")) == {received, fwd_a, fwd_b, overdue}
    assert codes("?agency=STNMT") == [fwd_b]
    assert codes("?overdue=1") == [overdue]
    assert codes("?q=led") == [received]  # case-insensitive
    assert codes("?q=QUẢNG CÁO") == [received]  # Vietnamese letters fold too, on SQLite as well
    assert codes("?q=bien quang cao") == [received]  # and diacritics are ignored
    assert codes(f"?q={fwd_b[-6:]}") == [fwd_b]  # the code
    assert codes("?q=%25") == []  # a wildcard is searched literally
    item = client.get(f"{API}/cases?overdue=1", headers=clerk).get_json()["items"][0]
    assert item["overdue"] is True and item["open_stage"]["stage"] == "classify"

    first = client.get(f"{API}/cases?per_page=3", headers=clerk).get_json()
    assert first["total"] == 4 and len(first["items"]) == 3 and first["page"] == 1
    assert first["next"] == f"{API}/cases?per_page=3&page=2"
    second = client.get(first["next"], headers=clerk).get_json()
    assert len(second["items"]) == 1 and second["next"] is None
    assert {c["code"] for c in first["items"] + second["items"]} == {received, fwd_a, fwd_b, overdue}


def test_bad_list_parameters_get_422_per_field_in_vietnamese(client, world, api_token):
    response = client.get(f"{API}/cases?state=received,bogus&page=0&per_page=101&overdue=maybe&agency=XYZ"
                          "&sort=asc", headers=api_token("clerk"))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_query"
    assert error["fields"] == {
        "state": ["Trạng thái không tồn tại: bogus."],
        "page": ["Phải lớn hơn hoặc bằng 1."],
        "per_page": ["Phải lớn hơn hoặc bằng 1 và nhỏ hơn hoặc bằng 100."],
        "overdue": ["Không phải giá trị đúng/sai hợp lệ."],
        "agency": ["Cơ quan không tồn tại."],
        "sort": ["Trường không được chấp nhận."],
    }
    assert client.get(f"{API}/cases?page=abc", headers=api_token("clerk")).get_json()["error"]["fields"] == {
        "page": ["Không phải số nguyên hợp lệ."]}
    # The app-wide language switch is not an unknown parameter.
    assert client.get(f"{API}/cases?lang=vi", headers=api_token("clerk")).status_code == 200


# -- the actions a user may take ----------------------------------------------------------------
def test_the_actions_endpoint_describes_payloads_and_explains_refusals(client, world, api_token, make_case):
    code, _ = make_case("received")
    body = client.get(f"{API}/cases/{code}/actions", headers=api_token("clerk")).get_json()
    assert body["state"] == "received" and isinstance(body["version"], int)
    available = {a["trigger"]: a for a in body["available"]}
    assert set(available) == {"request_info", "reject", "merge", "handle_in_office", "forward", "withdraw"}
    forward = available["forward"]
    assert forward["label"] == "Chuyển xử lý" and forward["target"] == "forwarded"
    assert forward["target_label"] == "Đã chuyển xử lý"
    fields = {f["name"]: f for f in forward["payload"]["fields"]}
    assert fields["agency"]["required"] is True and fields["agency"]["refers_to"] == "agency.code"
    assert fields["subject"]["choices"] == ["hanh_vi", "quy_dinh"]
    assert fields["subject"]["choice_labels"]["quy_dinh"] == "Quy định hành chính"
    assert fields["note"] == {"name": "note", "type": "string", "required": False, "nullable": True,
                              "min_length": 1, "max_length": 5000, "multiline": True}
    assert forward["payload"]["unknown"] == "raise"
    refused = {a["trigger"]: a["reason"] for a in body["refused"]}
    assert refused["accept_answer"]["code"] == "wrong_state"
    assert refused["accept_answer"]["message"] == (
        "Không thể thực hiện «Chấp nhận kết quả trả lời» khi hồ sơ đang ở trạng thái «Đã tiếp nhận».")

    fwd, _ = make_case("forwarded")
    officer = client.get(f"{API}/cases/{fwd}/actions", headers=api_token("officer_a")).get_json()
    assert [a["trigger"] for a in officer["available"]] == [
        "accept", "return_not_competent", "agency_request_info", "post_progress"]
    reasons = {a["trigger"]: a["reason"] for a in officer["refused"]}
    assert reasons["forward"] == {"code": "role_not_allowed", "kind": "role",
                                  "message": "Vai trò của bạn không được thực hiện thao tác «Chuyển xử lý»."}
    assert reasons["record_extension"]["code"] == "role_not_allowed"
    dates = {f["name"]: f for f in next(
        a for a in client.get(f"{API}/cases/{fwd}/actions", headers=api_token("lead_a")).get_json()["available"]
        if a["trigger"] == "record_extension")["payload"]["fields"]}
    assert dates["new_due_date"]["type"] == "string" and dates["new_due_date"]["format"] == "date"


def test_a_logged_in_staff_session_can_use_the_api(app, client, world, login, make_case):
    code, _ = make_case("received")
    assert login("clerk").status_code == 302
    listed = client.get(f"{API}/cases")
    assert listed.status_code == 200 and [c["code"] for c in listed.get_json()["items"]] == [code]
    version = client.get(f"{API}/cases/{code}").get_json()["version"]
    # Riding on the session cookie, a state change needs the session's CSRF token in a header.
    body = {**forward_to("SXD", "xay_dung"), "version": version}
    refused = client.post(f"{API}/cases/{code}/actions/forward", json=body)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf"
    token = csrf_token(client.get("/staff/").get_data(as_text=True))
    response = client.post(f"{API}/cases/{code}/actions/forward", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["version"] == version + 1
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "forward")).one()
        assert event.actor_id == world.users["clerk"]


@pytest.mark.parametrize("where", ["header", "query"])
def test_the_tracking_token_is_checked_and_the_view_is_404_when_it_does_not_match(client, world, make_case,
                                                                                  where):
    code, token = make_case("received")
    other_code, other_token = make_case("received")

    def get(c, t):
        if where == "header":
            return client.get(f"{API}/feedback/{c}", headers={"X-Tracking-Token": t})
        return client.get(f"{API}/feedback/{c}?token={t}")

    assert get(code, token).status_code == 200
    for c, t in [(code, other_token), (other_code, token), (code, ""), ("PAKN-1999-000001", token)]:
        response = get(c, t)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert client.get(f"{API}/feedback/{code}").status_code == 404


def test_a_new_case_starts_at_version_1_and_the_json_keeps_vietnamese_readable(app, client, world):
    response = submit(client, title="Thủ tục đăng ký hộ kinh doanh")
    assert response.status_code == 201
    body = response.get_data(as_text=True)
    assert "\\u" not in body and any(ord(ch) > 127 for ch in body)  # UTF-8, not \\u escapes
    assert db_case(app, response.get_json()["code"])["version"] == 1


def test_using_an_api_token_records_when_it_was_last_used(app, client, world, api_token):
    from pakn.models import ApiToken

    clerk = api_token("clerk")
    with app.app_context():
        assert db.session.scalar(select(ApiToken.last_used_at)) is None
    assert client.get(f"{API}/cases", headers=clerk).status_code == 200
    with app.app_context():
        used = db.session.scalar(select(ApiToken.last_used_at))
    assert used is not None and utcnow() - used < timedelta(minutes=1)


def test_a_token_acts_only_within_its_scopes(app, client, world, api_token, make_case):
    code, _ = make_case("received")
    reader = api_token("clerk", scopes=("read",))
    assert detail(client, reader, code)["state"] == "received"
    refused = act(client, reader, code, "forward", forward_to("SXD", "xay_dung"), 1)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "insufficient_scope"
    assert 'scope="write"' in refused.headers["WWW-Authenticate"]
    assert "không được cấp quyền" in refused.get_json()["error"]["message"]
    assert db_case(app, code)["state"] == "received"

    open311_only = api_token("clerk", scopes=("open311",))
    assert client.get(f"{API}/cases/{code}", headers=open311_only).status_code == 403
    ok(act(client, api_token("clerk"), code, "forward", forward_to("SXD", "xay_dung"), 1), "forwarded")
