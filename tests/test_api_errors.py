"""The API refusing things: authentication, tokens and throttling, bad bodies, permissions,
states, versions, and failures that must leave nothing half-written."""
from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from pakn.extensions import db
from pakn.models import ApiToken, AuditEvent, Feedback, FeedbackCounter, LoginAttempt, OutboxMessage, StageVisit, User
from pakn.models.types import utcnow
from pakn.scenarios import SUBMISSION, forward_to
from workflows.pakn import WORKFLOW

from .conftest import PASSWORD, otp_code

API = "/api/v1"
REQUIRED = "Trường này là bắt buộc."
UNKNOWN = "Trường không được chấp nhận."


def token_for(client, email: str, password: str = PASSWORD, **kwargs):
    """Ask for a token with the account's current TOTP code (``otp``)."""
    return client.post(f"{API}/auth/token", json={"email": email, "password": password,
                                                  "otp": otp_code(client.application, email)}, **kwargs)


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def version_of(client, headers: dict, code: str) -> int:
    return client.get(f"{API}/cases/{code}", headers=headers).get_json()["version"]


def post_action(client, headers: dict, code: str, trigger: str, if_match: str | None = None, **kwargs):
    if if_match is not None:
        headers = {**headers, "If-Match": if_match}
    return client.post(f"{API}/cases/{code}/actions/{trigger}", headers=headers, **kwargs)


def snapshot(app, code: str) -> dict:
    """The case row and every row hanging off it, as counts."""
    with app.app_context():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))

        def count(model):
            return db.session.scalar(select(func.count()).select_from(model).where(model.feedback_id == case.id))

        return {"state": case.state, "version": case.version, "agency_id": case.agency_id,
                "events": count(AuditEvent), "visits": count(StageVisit), "outbox": count(OutboxMessage),
                "open_visit": db.session.scalar(select(StageVisit.stage).where(
                    StageVisit.feedback_id == case.id, StageVisit.finished_at.is_(None)))}


def envelope(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert set(error) >= {"code", "message", "fields"}
    if code is not None:
        assert error["code"] == code
    return error


# -- tokens --------------------------------------------------------------------------------------
def test_a_token_is_issued_stored_hashed_and_works(app, client, world):
    response = token_for(client, "officer_a@pakn.test")
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"token", "expires_at"}
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.token_hash != body["token"] and len(row.token_hash) == 64
        assert row.user_id == world.users["officer_a"]
        assert row.expires_at.isoformat() == body["expires_at"]
        hours = (row.expires_at - row.created_at).total_seconds() / 3600
        assert round(hours) == app.config["API_TOKEN_TTL_HOURS"]
    assert client.get(f"{API}/cases", headers=bearer(body["token"])).status_code == 200


def test_bad_credentials_get_one_401_whether_or_not_the_account_exists(app, client, world):
    wrong_password = envelope(token_for(client, "clerk@pakn.test", "sai-mat-khau"), 401, "invalid_credentials")
    no_account = envelope(token_for(client, "khong-ton-tai@pakn.test", "sai-mat-khau"), 401, "invalid_credentials")
    assert wrong_password == no_account
    assert wrong_password["message"] == "Email hoặc mật khẩu không đúng."
    disabled = envelope(token_for(client, "disabled@pakn.test"), 401, "invalid_credentials")
    assert disabled == wrong_password
    with app.app_context():  # every failed attempt was committed, so throttling can count it
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt)
                                 .where(LoginAttempt.success.is_(False))) == 3
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_the_token_request_is_validated(client, world):
    error = envelope(client.post(f"{API}/auth/token", json={"email": "clerk@pakn.test", "remember": True}),
                     422, "invalid_payload")
    assert error["fields"] == {"password": [REQUIRED], "otp": [REQUIRED], "remember": [UNKNOWN]}


def test_the_token_endpoint_is_throttled_after_the_configured_failures(app, client, world):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert token_for(client, "clerk@pakn.test", "sai-mat-khau").status_code == 401
    throttled = token_for(client, "clerk@pakn.test")  # even the right password, while locked
    error = envelope(throttled, 429, "too_many_requests")
    assert int(throttled.headers["Retry-After"]) > 0
    minutes = app.config["LOGIN_LOCK_MINUTES"]
    assert error["message"] == f"Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút."
    # Another account from another address is not affected.
    other = token_for(client, "lead@pakn.test", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 201


def test_the_token_endpoint_is_throttled_per_client_address(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_IP_MAX_FAILURES", 3)
    for n in range(3):
        assert token_for(client, f"doan-{n}@pakn.test", "x").status_code == 401
    envelope(token_for(client, "lead@pakn.test"), 429, "too_many_requests")


def test_deleting_the_token_revokes_it(app, client, world):
    raw = token_for(client, "clerk@pakn.test").get_json()["token"]
    assert client.delete(f"{API}/auth/token", headers=bearer(raw)).status_code == 204
    with app.app_context():
        assert db.session.scalar(select(ApiToken.revoked_at)) is not None
    response = client.get(f"{API}/cases", headers=bearer(raw))
    envelope(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="pakn", error="invalid_token"'
    envelope(client.delete(f"{API}/auth/token"), 401, "unauthorized")


def test_an_expired_token_gets_401(app, client, world):
    raw = token_for(client, "clerk@pakn.test").get_json()["token"]
    with app.app_context():
        db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    envelope(client.get(f"{API}/cases", headers=bearer(raw)), 401, "invalid_token")


def test_a_deactivated_users_token_stops_working(app, client, world):
    raw = token_for(client, "officer_a@pakn.test").get_json()["token"]
    assert client.get(f"{API}/cases", headers=bearer(raw)).status_code == 200
    with app.app_context():
        db.session.execute(update(User).where(User.email == "officer_a@pakn.test").values(active=False))
        db.session.commit()
    envelope(client.get(f"{API}/cases", headers=bearer(raw)), 401, "invalid_token")


@pytest.mark.parametrize("path", ["/cases", "/cases/PAKN-2026-000001", "/cases/PAKN-2026-000001/actions"])
def test_staff_endpoints_without_credentials_get_401_with_a_bearer_challenge(client, world, path):
    response = client.get(API + path)
    error = envelope(response, 401, "unauthorized")
    assert error["message"] == "Cần đăng nhập."
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="pakn"'


@pytest.mark.parametrize("header", ["Bearer ", "Basic Y2xlcms6eA==", "Bearer khong-phai-ma-that", "Token abc"])
def test_a_malformed_or_unknown_authorization_header_gets_401(client, world, header):
    response = client.get(f"{API}/cases", headers={"Authorization": header})
    envelope(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# -- permissions, states, versions ---------------------------------------------------------------
def test_a_role_that_may_not_fire_the_trigger_gets_403_and_nothing_changes(app, client, world, api_token,
                                                                             make_case):
    officer = api_token("officer_a")
    code, _ = make_case("forwarded", agency="SXD")
    before = snapshot(app, code)
    error = envelope(post_action(client, officer, code, "forward",
                                 json={**forward_to("STNMT", "dat_dai"), "version": before["version"]}),
                     403, "role_not_allowed")
    assert error["message"] == "Vai trò của bạn không được thực hiện thao tác «Chuyển xử lý»."
    assert snapshot(app, code) == before
    # A case not (yet) forwarded to the officer's agency does not exist for them: 404, not 403.
    received, _ = make_case("received")
    envelope(post_action(client, officer, received, "forward",
                         json={**forward_to("SXD", "xay_dung"), "version": snapshot(app, received)["version"]}),
             404, "not_found")


def test_an_agency_acting_on_a_case_of_another_agency_through_its_office_role_is_refused(
        app, client, world, api_token, make_case):
    # The office lead sees every case but is not "the agency" of a forwarded case: accept is a
    # permission refusal (403), not a state one.
    code, _ = make_case("forwarded")
    lead = api_token("lead")
    error = envelope(post_action(client, lead, code, "accept", json={"version": version_of(client, lead, code)}),
                     403, "other_agency")
    assert error["message"] == "Hồ sơ không thuộc cơ quan của bạn."


def test_a_trigger_not_allowed_in_the_state_gets_409_with_the_engines_reason(app, client, world, api_token,
                                                                              make_case):
    code, _ = make_case("received")
    clerk = api_token("clerk")
    before = snapshot(app, code)
    error = envelope(post_action(client, clerk, code, "publish",
                                 json={"public_title": "Tiêu đề công khai", "public_summary": "Tóm tắt nội dung",
                                       "public_answer": "Nội dung trả lời công khai đầy đủ.",
                                       "version": before["version"]}), 409, "wrong_state")
    assert error["message"] == "Không thể thực hiện «Công khai kết quả» khi hồ sơ đang ở trạng thái «Đã tiếp nhận»."
    assert snapshot(app, code) == before


def test_the_version_is_required_and_must_be_well_formed(app, client, world, api_token, make_case):
    code, _ = make_case("received")
    clerk = api_token("clerk")
    payload = forward_to("SXD", "xay_dung")
    before = snapshot(app, code)

    error = envelope(post_action(client, clerk, code, "forward", json=payload), 428, "version_required")
    assert error["message"] == "Cần gửi phiên bản hồ sơ đang xem: header If-Match hoặc trường version."
    for if_match in ("abc", "\u00b2", '"\u00b9\u00b2"'):  # superscript digits are digits to str.isdigit
        bad = envelope(post_action(client, clerk, code, "forward", json=payload, if_match=if_match),
                       422, "invalid_version")
        assert list(bad["fields"]) == ["version"]
    envelope(post_action(client, clerk, code, "forward", json={**payload, "version": "2"}), 422, "invalid_version")
    envelope(post_action(client, clerk, code, "forward", json={**payload, "version": before["version"]},
                         if_match=f'"{before["version"] + 1}"'), 422, "invalid_version")
    assert snapshot(app, code) == before

    stale = envelope(post_action(client, clerk, code, "forward", json=payload,
                                 if_match=f'W/"{before["version"] - 1}"'), 409, "stale_version")
    assert stale["current_version"] == before["version"] and stale["current_state"] == "received"
    done = post_action(client, clerk, code, "forward", json=payload,
                       if_match=f'W/"{before["version"]}"')
    assert done.status_code == 200 and done.headers["ETag"] == f'"{before["version"] + 1}"'


def test_unknown_cases_triggers_and_urls_get_json_404_and_405(client, world, api_token, make_case):
    code, _ = make_case("received")
    clerk = api_token("clerk")
    envelope(client.get(f"{API}/cases/PAKN-1999-000001", headers=clerk), 404, "not_found")
    for trigger in ("explode", "receive", "receive_on_behalf"):
        envelope(post_action(client, clerk, code, trigger, json={"version": 1}), 404, "not_found")
    envelope(client.get(f"{API}/khong-co"), 404, "not_found")
    envelope(client.put(f"{API}/feedback", json={}), 405, "method_not_allowed")
    envelope(client.get(f"{API}/auth/token"), 405, "method_not_allowed")
    for number in (2**31, 10**30):  # beyond any row's id (and PostgreSQL's integer): not found, not a 500
        envelope(client.get(f"{API}/plans/{number}", headers=clerk), 404, "not_found")
        envelope(client.get(f"{API}/cases/{code}/attachments/{number}", headers=clerk), 404, "not_found")


# -- bad bodies ----------------------------------------------------------------------------------
def test_unknown_fields_are_refused_by_name(app, client, world, api_token, make_case):
    code, _ = make_case("received")
    clerk = api_token("clerk")
    before = snapshot(app, code)
    error = envelope(post_action(client, clerk, code, "forward",
                                 json={**forward_to("SXD", "xay_dung"), "urgent": True, "version": before["version"]}),
                     422, "invalid_payload")
    assert error["fields"] == {"urgent": [UNKNOWN]}
    assert error["message"] == "Dữ liệu không hợp lệ."
    assert snapshot(app, code) == before
    submitted = envelope(client.post(f"{API}/feedback", json={**SUBMISSION, "state": "published"}),
                         422, "invalid_payload")
    assert submitted["fields"] == {"state": [UNKNOWN]}


def test_missing_and_mistyped_fields_get_vietnamese_messages_per_field(client, world, api_token, make_case):
    clerk = api_token("clerk")
    code, _ = make_case("received")
    error = envelope(post_action(client, clerk, code, "forward", json={"version": version_of(client, clerk, code)}),
                     422, "invalid_payload")
    assert error["fields"] == {name: [REQUIRED] for name in ("subject", "content_category", "field", "agency")}

    error = envelope(client.post(f"{API}/feedback", json={"kind": "phan_anh"}), 422, "invalid_payload")
    for name in ("title", "content", "submitter_name", "submitter_address"):
        assert error["fields"][name] == [REQUIRED]
    assert error["fields"]["submitter_phone"] == ["Cần ít nhất một trong hai: số điện thoại hoặc thư điện tử."]

    error = envelope(client.post(f"{API}/feedback", json={
        **SUBMISSION, "kind": 3, "title": None, "submitter_email": "khong-phai-email", "subject": "khac"}), 422)
    assert error["fields"] == {
        "kind": ["Không phải chuỗi ký tự hợp lệ."],
        "title": ["Trường này không được để trống (null)."],
        "submitter_email": ["Địa chỉ thư điện tử không hợp lệ."],
        "subject": ["Giá trị không hợp lệ. Chọn một trong: hanh_vi, quy_dinh."],
    }

    fwd, _ = make_case("in_progress")
    lead = api_token("lead_a")
    error = envelope(post_action(client, lead, fwd, "record_extension", json={
        "reason": "Gia hạn", "new_due_date": "31/12/2026", "version": version_of(client, lead, fwd)}), 422)
    assert error["fields"] == {"new_due_date": ["Không phải ngày hợp lệ (định dạng YYYY-MM-DD)."]}
    officer_code, _ = make_case("forwarded")
    officer = api_token("officer_a")
    error = envelope(post_action(client, officer, officer_code, "accept", json={
        "assignee": "abc", "version": version_of(client, officer, officer_code)}), 422)
    assert error["fields"] == {"assignee": ["Không phải số nguyên hợp lệ."]}
    for beyond in (0, -1, 2**31, 10**30):  # no account has such a number; PostgreSQL cannot even hold it
        error = envelope(post_action(client, officer, officer_code, "accept", json={
            "assignee": beyond, "version": version_of(client, officer, officer_code)}), 422)
        assert error["fields"] == {"assignee": ["Phải lớn hơn hoặc bằng 1 và nhỏ hơn hoặc bằng 2147483647."]}, beyond


def test_no_payload_schema_keeps_an_english_marshmallow_message(app):
    # Building the app imports the API, which localizes marshmallow once for every schema.
    english = re.compile(r"Not a valid|Missing data|may not be null|Unknown field|Invalid (input|value|type)"
                         r"|Must be|Longer than|Shorter than|Length must|cannot be formatted")
    for transition in WORKFLOW.transitions.values():
        schema = transition.schema()
        assert not english.search(str(schema.error_messages)), transition.trigger
        for name, field in schema.fields.items():
            assert not english.search(str(field.error_messages)), (transition.trigger, name)
            for validator in field.validators:
                assert not english.search(repr(vars(validator))), (transition.trigger, name)


def test_malformed_json_gets_400(client, world):
    for raw in (b'{"title": ', b"{'title': 'x'}", b"", b'{"a": NaN}', b"\xff\xfe\x00"):
        error = envelope(client.post(f"{API}/feedback", data=raw, content_type="application/json"),
                         400, "malformed_json")
        assert error["message"] == "Dữ liệu JSON không đúng cú pháp."


@pytest.mark.parametrize("raw", [json.dumps([SUBMISSION]), '"chuỗi"', "42", "null", "true"])
def test_json_that_is_not_an_object_gets_400(client, world, raw):
    response = client.post(f"{API}/feedback", data=raw.encode(), content_type="application/json")
    error = envelope(response, 400, "json_not_object")
    assert error["message"] == "Dữ liệu gửi lên phải là một đối tượng JSON ({…})."


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_a_body_that_is_not_json_gets_415(app, client, world, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(f"{API}/feedback", data=b'{"kind": "phan_anh"}', headers=headers)
    error = envelope(response, 415, "unsupported_media_type")
    assert "application/json" in error["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Feedback)) == 0


def test_an_oversize_body_gets_413_before_it_is_parsed(app, client, world):
    limit = app.config["API_MAX_JSON_BYTES"]
    big = {**SUBMISSION, "content": "x" * limit}
    error = envelope(client.post(f"{API}/feedback", json=big), 413, "payload_too_large")
    assert str(limit) in error["message"]
    # A streamed body without Content-Length is cut at the limit too.
    raw = ('{"content": "' + "x" * (limit + 10) + '"}').encode()
    streamed = client.post(f"{API}/feedback", input_stream=io.BytesIO(raw),
                           headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    envelope(streamed, 413, "payload_too_large")
    # Just under the limit is read and validated normally (422 for the too-long content).
    fitting = {**SUBMISSION, "content": "x" * (limit - 2000)}
    assert envelope(client.post(f"{API}/feedback", json=fitting), 422)["fields"] == {"content": ["Tối đa 20000 ký tự."]}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Feedback)) == 0


# -- nothing half-written ------------------------------------------------------------------------
def test_a_failure_late_in_an_action_leaves_no_partial_rows(app, client, world, api_token, make_case, monkeypatch):
    code, _ = make_case("received")
    clerk = api_token("clerk")
    before = snapshot(app, code)

    def broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("pakn.operations.feedback._write_outbox", broken)
    response = post_action(client, clerk, code, "forward",
                           json={**forward_to("SXD", "xay_dung"), "version": before["version"]})
    error = envelope(response, 500, "internal_error")
    assert error["message"] == "Đã có lỗi hệ thống. Vui lòng thử lại sau."
    assert "outbox unavailable" not in response.get_data(as_text=True)
    assert snapshot(app, code) == before  # state, version, events, visits, outbox rows

    monkeypatch.undo()
    assert post_action(client, clerk, code, "forward", json={**forward_to("SXD", "xay_dung"),
                                                              "version": before["version"]}).status_code == 200


def test_a_failure_while_receiving_leaves_no_case_and_no_used_code(app, client, world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    # Fails once the rows are written (the year's counter taken): the rollback undoes them all.
    monkeypatch.setattr("pakn.operations.intake._attach", broken)
    envelope(client.post(f"{API}/feedback", json=SUBMISSION), 500, "internal_error")
    with app.app_context():
        for model in (Feedback, AuditEvent, StageVisit, OutboxMessage, FeedbackCounter):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0, model.__name__
    monkeypatch.undo()
    assert client.post(f"{API}/feedback", json=SUBMISSION).get_json()["code"].endswith("-000001")


def test_a_change_committed_between_reading_and_writing_is_a_409_with_the_current_version(
        app, client, world, api_token, make_case, monkeypatch):
    # Another request commits after this one loaded the case (so the version check before
    # the operation passes) but before it writes: the row version catches it at flush.
    import pakn.api.routes as routes

    code, _ = make_case("received")
    clerk = api_token("clerk")
    before = snapshot(app, code)
    real = routes.apply_transition

    def racing(case, *args, **kwargs):
        with db.engine.connect() as other:
            other.execute(update(Feedback).where(Feedback.id == case.id)
                          .values(version=Feedback.version + 1, updated_at=utcnow()))
            other.commit()
        return real(case, *args, **kwargs)

    monkeypatch.setattr(routes, "apply_transition", racing)
    error = envelope(post_action(client, clerk, code, "forward",
                                 json={**forward_to("SXD", "xay_dung"), "version": before["version"]}),
                     409, "stale_version")
    assert error["current_version"] == before["version"] + 1 and error["current_state"] == "received"
    after = snapshot(app, code)
    assert after == {**before, "version": before["version"] + 1}  # only the other writer's change
