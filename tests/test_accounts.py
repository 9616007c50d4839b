"""Staff accounts: the second factor (TOTP, recovery codes, enrolment, reset), throttling of
both login steps, password rules, the API's second factor (reliability rows S3–S6, A10)."""
from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
import time_machine
from sqlalchemy import func, select, text

from pakn.auth.passwords import MAX_LENGTH, MIN_LENGTH, common_passwords, password_problem
from pakn.extensions import db
from pakn.models import ApiToken, AuditEvent, LoginAttempt, RecoveryCode, User

from .conftest import PASSWORD, csrf_token, enrol, otp_code, otp_secret, second_step, sign_in

API = "/api/v1"
BAD_CODE = "Mã xác thực không đúng hoặc đã được dùng."


# -- helpers ----------------------------------------------------------------------------------
def post_password(client, email: str, password: str = PASSWORD, **kwargs):
    page = client.get("/auth/login", **kwargs)
    return client.post("/auth/login", data={"email": email, "password": password,
                                            "csrf_token": csrf_token(page.get_data(as_text=True))}, **kwargs)


def post_code(client, code: str, **kwargs):
    page = client.get("/auth/code", **kwargs)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post("/auth/code", data={"code": code, "csrf_token": csrf_token(page.get_data(as_text=True))},
                       **kwargs)


def logged_in(client) -> bool:
    return client.get("/staff/").status_code == 200


def log_out(client) -> None:
    page = client.get("/staff/").get_data(as_text=True)
    assert client.post("/auth/logout", data={"csrf_token": csrf_token(page)}).status_code == 302


def unenrol(app, key: str) -> None:
    """An account that never set up its second factor (as created by ``pakn create-user``)."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == f"{key}@pakn.test"))
        user.totp_secret = None
        user.totp_confirmed_at = None
        db.session.commit()


def enrolled_codes(client, app, key: str) -> list[str]:
    """Enrol ``key`` at its first login; the recovery codes shown once."""
    unenrol(app, key)
    response = post_password(client, f"{key}@pakn.test")
    assert response.headers["Location"] == "/auth/enrol"
    page = enrol(client, f"{key}@pakn.test")
    assert page.status_code == 200
    return re.findall(r'<li class="code">([A-Z0-9-]+)</li>', page.get_data(as_text=True))


def current_code(email: str) -> str:
    return pyotp.TOTP(otp_secret(email)).now()


def token_request(client, email: str, otp: str | None, password: str = PASSWORD, **kwargs):
    body = {"email": email, "password": password}
    if otp is not None:
        body["otp"] = otp
    return client.post(f"{API}/auth/token", json=body, **kwargs)


# -- the second step ---------------------------------------------------------------------------
def test_the_right_password_alone_does_not_log_in(client, world):
    response = post_password(client, "clerk@pakn.test")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/code"
    assert not logged_in(client)
    page = client.get("/auth/code")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Xác thực hai bước</h1>" in html
    assert 'autocomplete="one-time-code"' in html and '<label for="code">Mã xác thực</label>' in html
    assert page.headers["Cache-Control"] == "no-store"
    assert not logged_in(client)


@pytest.mark.parametrize("key", ["clerk", "lead", "officer_a", "lead_a", "admin"])
def test_every_staff_role_needs_the_code(client, world, key):
    assert post_password(client, f"{key}@pakn.test").headers["Location"] == "/auth/code"
    assert not logged_in(client)
    response = second_step(client, f"{key}@pakn.test")
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    assert logged_in(client)


def test_a_wrong_code_is_refused_and_counted(client, world, app):
    post_password(client, "lead@pakn.test")
    right = current_code("lead@pakn.test")
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for bad in (wrong, "12345", "abcdef", "1234567"):
        response = post_code(client, bad)
        assert response.status_code == 200
        assert BAD_CODE in response.get_data(as_text=True)
        assert not logged_in(client)
    with app.app_context():
        rows = db.session.execute(select(LoginAttempt.step, LoginAttempt.success).order_by(LoginAttempt.id)).all()
    assert rows == [("password", True)] + [("second_factor", False)] * 4


def test_an_empty_code_is_explained(client, world):
    post_password(client, "lead@pakn.test")
    html = post_code(client, "").get_data(as_text=True)
    assert '<li><a href="#code">Vui lòng nhập mã xác thực.</a></li>' in html


def test_a_code_is_accepted_once_even_within_its_30_seconds(client, world, app):
    moment = datetime(2026, 12, 1, 2, 0, 5, tzinfo=timezone.utc)
    with time_machine.travel(moment, tick=False):
        code = current_code("clerk@pakn.test")
        post_password(client, "clerk@pakn.test")
        assert post_code(client, code).headers["Location"] == "/staff/"
        log_out(client)
        post_password(client, "clerk@pakn.test")
        replay = post_code(client, code)  # the same code, same window: someone who saw it
        assert replay.status_code == 200 and BAD_CODE in replay.get_data(as_text=True)
        assert not logged_in(client)
    # An older code (the previous step) is refused too, once a later one was used.
    with time_machine.travel(moment + timedelta(seconds=30), tick=False):
        post_password(client, "clerk@pakn.test")
        assert post_code(client, current_code("clerk@pakn.test")).status_code == 302
        log_out(client)
        post_password(client, "clerk@pakn.test")
        assert BAD_CODE in post_code(client, code).get_data(as_text=True)


def test_a_code_from_the_next_window_is_accepted_for_clock_drift(client, world, app):
    moment = datetime(2026, 12, 1, 2, 0, 5, tzinfo=timezone.utc)
    totp = pyotp.TOTP(otp_secret("clerk@pakn.test"))
    with time_machine.travel(moment, tick=False):
        post_password(client, "clerk@pakn.test")
        assert post_code(client, totp.at(moment + timedelta(seconds=30))).status_code == 302
    client = app.test_client()
    with time_machine.travel(moment + timedelta(minutes=5), tick=False):
        post_password(client, "clerk@pakn.test")
        stale = post_code(client, totp.at(moment + timedelta(minutes=3)))  # two minutes old
        assert BAD_CODE in stale.get_data(as_text=True)


def test_the_code_page_without_a_password_first_goes_back_to_the_login(client, world):
    response = client.get("/auth/code")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert "Phiên đăng nhập đã hết hạn" in client.get("/auth/login").get_data(as_text=True)
    assert client.get("/auth/enrol").headers["Location"] == "/auth/login"


def test_a_pending_login_expires_after_five_minutes(client, world):
    start = datetime.now(timezone.utc)
    with time_machine.travel(start, tick=False):
        post_password(client, "clerk@pakn.test")
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        response = client.get("/auth/code")
        assert response.status_code == 302 and response.headers["Location"] == "/auth/login"


def test_a_pending_login_ends_when_the_account_is_deactivated(client, world, app):
    post_password(client, "officer_a@pakn.test")
    with app.app_context():
        world.user("officer_a").active = False
        db.session.commit()
    assert client.get("/auth/code").headers["Location"] == "/auth/login"


def test_the_login_goes_on_to_next_after_the_code(client, world):
    page = client.get("/auth/login", query_string={"next": "/office/?state=received"})
    client.post("/auth/login", query_string={"next": "/office/?state=received"}, data={
        "email": "clerk@pakn.test", "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert second_step(client, "clerk@pakn.test").headers["Location"] == "/office/?state=received"


def test_a_session_planted_before_the_code_step_is_not_kept(client, world):
    post_password(client, "clerk@pakn.test")
    with client.session_transaction() as s:
        s["planted"] = "x"
    second_step(client, "clerk@pakn.test")
    with client.session_transaction() as s:
        assert "planted" not in s and "_pending_login" not in s


# -- throttling of the code step -----------------------------------------------------------------
def test_wrong_codes_lock_the_account_like_wrong_passwords(client, world, app):
    limit = app.config["LOGIN_MAX_FAILURES"]
    post_password(client, "officer_b@pakn.test")
    for _ in range(limit):
        assert BAD_CODE in post_code(client, "000000").get_data(as_text=True)
    locked = post_code(client, current_code("officer_b@pakn.test"))  # even the right code
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Bạn đã đăng nhập sai quá nhiều lần" in locked.get_data(as_text=True)
    assert not logged_in(client)
    # The password step is locked for the account too, from any address.
    assert post_password(client, "officer_b@pakn.test", environ_base={"REMOTE_ADDR": "10.0.0.3"}).status_code == 429


def test_the_right_password_does_not_reset_the_count_of_wrong_codes(client, world, app):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        post_password(client, "lead_b@pakn.test")
        post_code(client, "000000")
    assert post_password(client, "lead_b@pakn.test").status_code == 302  # the password is right...
    post_code(client, "000000")
    assert post_password(client, "lead_b@pakn.test").status_code == 429  # ...but the account is locked


def test_twenty_wrong_passwords_from_five_addresses_lock_the_account_and_are_logged(client, world, app, caplog,
                                                                                    monkeypatch):
    monkeypatch.setattr(logging.getLogger("pakn.auth"), "disabled", False)
    caplog.set_level(logging.INFO, logger="pakn.auth")
    statuses = [post_password(client, "lead_a@pakn.test", f"doan-sai-{n}",
                              environ_base={"REMOTE_ADDR": f"10.0.1.{n % 5}"}).status_code for n in range(20)]
    limit = app.config["LOGIN_MAX_FAILURES"]
    assert statuses[:limit] == [200] * limit and set(statuses[limit:]) == {429}
    assert post_password(client, "lead_a@pakn.test", environ_base={"REMOTE_ADDR": "10.0.1.9"}).status_code == 429
    messages = [r.getMessage() for r in caplog.records if r.name == "pakn.auth"]
    assert sum(m.startswith("login failed") for m in messages) == limit
    assert sum(m.startswith("login throttled") for m in messages) == 20 - limit + 1
    second_step_ok = sign_in(app.test_client(), "clerk@pakn.test")
    assert second_step_ok.status_code == 302
    assert any(m.startswith("login ok user_id=") for m in
               [r.getMessage() for r in caplog.records if r.name == "pakn.auth"])


# -- enrolment ---------------------------------------------------------------------------------
def test_an_account_without_a_second_factor_enrols_at_its_first_login(client, world, app):
    unenrol(app, "officer_a")
    response = post_password(client, "officer_a@pakn.test")
    assert response.headers["Location"] == "/auth/enrol"
    assert not logged_in(client)
    page = client.get("/auth/enrol")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "<h1>Thiết lập xác thực hai bước</h1>" in html
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    assert len(secret) == 32
    uri = re.search(r'id="totp-uri">([^<]+)<', html).group(1).replace("&amp;", "&")
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == secret and parsed.name == "officer_a@pakn.test" and parsed.issuer == "PAKN Vĩnh Long"
    assert '<svg' in html and '<title>Mã QR để thêm tài khoản vào ứng dụng xác thực</title>' in html
    # Reloading the page keeps the same secret (an app already set up keeps working).
    assert secret in client.get("/auth/enrol").get_data(as_text=True).replace(" ", "")
    with app.app_context():
        stored = db.session.execute(text("SELECT totp_secret FROM app_user WHERE email = 'officer_a@pakn.test'"))
        assert secret not in stored.scalar()  # sealed, not in clear

    wrong = client.post("/auth/enrol", data={"code": "000000", "csrf_token": csrf_token(html)})
    assert wrong.status_code == 200 and BAD_CODE in wrong.get_data(as_text=True)
    assert not logged_in(client)

    done = client.post("/auth/enrol", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(html)})
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    assert "<h1>Đã bật xác thực hai bước</h1>" in page
    codes = re.findall(r'<li class="code">([A-Z0-9-]+)</li>', page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", c) for c in codes)
    assert '<a href="/staff/">' in page
    assert logged_in(client)
    with app.app_context():
        hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(hashes) == 10 and not any(c in h or c.replace("-", "") in h for c in codes for h in hashes)
        events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == world.users["officer_a"]))
        assert list(events) == ["second_factor_enrolled"]

    # From now on the login asks for the code, never again for enrolment.
    log_out(client)
    assert post_password(client, "officer_a@pakn.test").headers["Location"] == "/auth/code"
    assert client.get("/auth/enrol").headers["Location"] == "/auth/code"
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(seconds=60), tick=True):
        assert post_code(client, pyotp.TOTP(secret).now()).status_code == 302


def test_each_recovery_code_works_once(client, world, app):
    codes = enrolled_codes(client, app, "lead_a")
    log_out(client)
    post_password(client, "lead_a@pakn.test")
    response = post_code(client, codes[3].lower().replace("-", " "))  # typed loosely
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    assert "còn lại 9 mã" in client.get("/staff/").get_data(as_text=True)
    log_out(client)
    post_password(client, "lead_a@pakn.test")
    again = post_code(client, codes[3])
    assert again.status_code == 200 and BAD_CODE in again.get_data(as_text=True)
    assert post_code(client, "ABCD-EFGH-JKLM").status_code == 200  # never issued
    assert post_code(client, codes[4]).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)
                                 .where(RecoveryCode.used_at.is_not(None))) == 2


# -- reset by an admin -----------------------------------------------------------------------------
def test_the_admin_page_lists_second_factors_and_resets_one(app, world, client, login):
    officer = app.test_client()
    assert sign_in(officer, "officer_a@pakn.test").status_code == 302
    login("admin")
    assert '<a href="/auth/second-factor">Xác thực hai bước của cán bộ</a>' in client.get("/staff/").get_data(
        as_text=True)
    page = client.get("/auth/second-factor")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "<h1>Xác thực hai bước của cán bộ</h1>" in html
    row = re.search(rf'<tr id="user-{world.users["officer_a"]}">.*?</tr>', html, re.S).group(0)
    assert "officer_a@pakn.test" in row and "Đã thiết lập từ" in row

    url = f"/auth/second-factor/{world.users['officer_a']}/reset"
    assert client.post(url).status_code == 400  # no CSRF token
    response = client.post(url, data={"csrf_token": csrf_token(html)})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/second-factor"
    assert "Đã đặt lại xác thực hai bước của Cán bộ officer_a" in client.get("/auth/second-factor").get_data(
        as_text=True)
    # The officer's live session ended, and the next login enrols again.
    assert not logged_in(officer)
    assert post_password(officer, "officer_a@pakn.test").headers["Location"] == "/auth/enrol"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "second_factor_reset"))
        assert event.actor_id == world.users["admin"] and event.data == {"user_id": world.users["officer_a"]}
        assert db.session.get(User, world.users["officer_a"]).totp_secret is None


@pytest.mark.parametrize("key", ["clerk", "lead", "officer_a", "lead_a"])
def test_only_admins_reach_the_second_factor_administration(app, world, client, login, key):
    login(key)
    assert client.get("/auth/second-factor").status_code == 404
    html = client.get("/staff/").get_data(as_text=True)
    assert "/auth/second-factor" not in html
    response = client.post(f"/auth/second-factor/{world.users['clerk']}/reset", data={"csrf_token": csrf_token(html)})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(User, world.users["clerk"]).totp_secret is not None


def test_anonymous_visitors_are_sent_to_the_login(client, world):
    assert client.get("/auth/second-factor").headers["Location"].startswith("/auth/login")


def test_the_command_line_resets_a_second_factor(app, world, runner):
    result = runner.invoke(args=["pakn", "reset-second-factor", "--email", "Admin@pakn.test"])
    assert result.exit_code == 0, result.output
    assert "admin@pakn.test reset" in result.output
    with app.app_context():
        assert not db.session.get(User, world.users["admin"]).second_factor_enrolled
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "second_factor_reset"))
        assert event.actor_id is None and event.actor_label == "command line"
    assert runner.invoke(args=["pakn", "reset-second-factor", "--email", "nobody@pakn.test"]).exit_code != 0


# -- the API's second factor ---------------------------------------------------------------------------
def test_the_api_token_needs_the_second_factor(client, world, app):
    email = "officer_a@pakn.test"
    missing = token_request(client, email, None)
    assert missing.status_code == 422
    assert missing.get_json()["error"]["fields"] == {"otp": ["Trường này là bắt buộc."]}

    wrong = token_request(client, email, "000000")
    assert wrong.status_code == 401
    assert wrong.get_json()["error"]["code"] == "invalid_otp"
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")

    code = otp_code(app, email)
    assert token_request(client, email, code).status_code == 201
    replay = token_request(client, email, code)
    assert replay.status_code == 401 and replay.get_json()["error"]["code"] == "invalid_otp"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1


def test_the_api_refuses_an_account_that_never_enrolled(client, world, app):
    unenrol(app, "clerk")
    response = token_request(client, "clerk@pakn.test", "123456")
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "second_factor_not_enrolled"
    assert "đăng nhập trên trang web một lần để thiết lập" in error["message"]


def test_a_wrong_password_with_a_right_code_is_the_generic_refusal(client, world, app):
    response = token_request(client, "clerk@pakn.test", otp_code(app, "clerk@pakn.test"), password="sai-mat-khau")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "invalid_credentials"


def test_the_api_accepts_a_recovery_code_once(client, world, app):
    codes = enrolled_codes(app.test_client(), app, "lead")
    assert token_request(client, "lead@pakn.test", codes[0]).status_code == 201
    assert token_request(client, "lead@pakn.test", codes[0]).status_code == 401


def test_wrong_api_codes_are_throttled(client, world, app):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert token_request(client, "admin@pakn.test", "000000").status_code == 401
    locked = token_request(client, "admin@pakn.test", otp_code(app, "admin@pakn.test"))
    assert locked.status_code == 429 and locked.get_json()["error"]["code"] == "too_many_requests"


# -- passwords ---------------------------------------------------------------------------------
def test_password_length_is_counted_in_code_points():
    assert password_problem("a" * (MIN_LENGTH - 1))[0].startswith("Mật khẩu phải có ít nhất")
    assert password_problem("Hoa-sen-8") is None
    assert password_problem("x" * 64) is None
    assert password_problem("ẩ" * 63 + "b") is None
    assert password_problem("y" * MAX_LENGTH) is None
    assert password_problem("y" * (MAX_LENGTH + 1))[0].startswith("Mật khẩu không được dài quá")
    # Seven Vietnamese letters typed decomposed (base + combining marks) are still seven.
    decomposed = unicodedata.normalize("NFD", "mậtkhẩu")
    assert len(decomposed) > 8 and password_problem(decomposed) is not None
    assert password_problem(unicodedata.normalize("NFD", "mậtkhẩuu")) is None


def test_the_most_common_passwords_are_refused_whatever_their_case():
    common = common_passwords()
    assert len(common) >= 10_000
    for word in ("password", "12345678", "iloveyou", "PassWord1", "QWERTYUIOP", "sunshine"):
        assert password_problem(word) is not None, word
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    top = [w for w in FREQUENCY_LISTS["passwords"][:3000] if len(w) >= MIN_LENGTH]
    assert top and all(password_problem(w) is not None for w in top)
    assert password_problem("Hồ-Gươm-lúc-bình-minh") is None


def test_the_password_may_not_be_the_email():
    assert password_problem("binh.tv@vinhlong.gov.vn", "Binh.TV@vinhlong.gov.vn") is not None
    assert password_problem("binh.tv.", "binh.tv.@vinhlong.gov.vn") is not None


@pytest.mark.parametrize("password, message", [
    ("ngan-7c", "at least 8 characters"),
    ("password1", "most common passwords"),
    ("x" * 129, "at most 128 characters"),
    ("moi.nguoi", "the same as the e-mail"),
])
def test_create_user_applies_the_password_rules(app, runner, world, password, message):
    result = runner.invoke(args=["pakn", "create-user", "--name", "Người Mới", "--email", "moi.nguoi@pakn.test",
                                 "--role", "office_clerk", "--agency", "VP", "--password", password])
    assert result.exit_code != 0 and message in result.output, result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "moi.nguoi@pakn.test")) is None


def test_a_new_account_enrols_at_its_first_login(app, runner, world):
    result = runner.invoke(args=["pakn", "create-user", "--name", "Người Mới", "--email", "moi@pakn.test",
                                 "--role", "agency_officer", "--agency", "SXD", "--password", "Sen-nở-giữa-hè"])
    assert result.exit_code == 0, result.output
    assert "second factor" in result.output
    client = app.test_client()
    page = sign_in(client, "moi@pakn.test", "Sen-nở-giữa-hè")
    assert page.status_code == 200 and "Đã bật xác thực hai bước" in page.get_data(as_text=True)
    assert logged_in(client)


def test_a_password_typed_composed_or_decomposed_is_the_same(app, world, client):
    password = "Phở-bò-Nam-Định"
    with app.app_context():
        world.user("clerk").set_password(unicodedata.normalize("NFD", password))
        db.session.commit()
    assert sign_in(client, "clerk@pakn.test", unicodedata.normalize("NFC", password)).status_code == 302


# -- one's own account ---------------------------------------------------------------------------
def post_account_form(client, action: str, data: dict):
    page = client.get("/auth/account")
    assert page.status_code == 200
    return client.post(f"/auth/account/{action}", data={**data, "csrf_token": csrf_token(page.get_data(as_text=True))})


def test_the_account_page_shows_the_second_factor_and_needs_a_login(client, world, login):
    assert client.get("/auth/account").headers["Location"].startswith("/auth/login")
    login("officer_b")
    assert '<a href="/auth/account">Tài khoản của tôi</a>' in client.get("/staff/").get_data(as_text=True)
    page = client.get("/auth/account")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "<h1>Tài khoản của tôi</h1>" in html and "Mã khôi phục còn lại: 0." in html
    assert '<label for="new_password">Mật khẩu mới</label>' in html
    assert 'autocomplete="new-password"' in html and "None" not in html


@pytest.mark.parametrize("current, new, confirm, message", [
    ("sai-mat-khau-hien-tai", "Cau-hoi-moi-2026", "Cau-hoi-moi-2026", "Mật khẩu hiện tại không đúng."),
    (PASSWORD, "password123", "password123", "Mật khẩu này quá phổ biến"),
    (PASSWORD, "ngan-1", "ngan-1", "Mật khẩu phải có ít nhất 8 ký tự."),
    (PASSWORD, "lead_a@pakn.test", "lead_a@pakn.test", "Mật khẩu không được trùng với email."),
    (PASSWORD, "Cau-hoi-moi-2026", "Cau-hoi-moi-2027", "Hai lần nhập mật khẩu mới không khớp."),
])
def test_a_password_change_is_refused_with_a_reason(client, world, login, app, current, new, confirm, message):
    login("lead_a")
    response = post_account_form(client, "password", {"current_password": current, "new_password": new,
                                                      "confirm": confirm})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert world.user("lead_a").check_password(PASSWORD)


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(client, world, login, app):
    other = app.test_client()
    assert sign_in(other, "lead_a@pakn.test").status_code == 302
    login("lead_a")
    response = post_account_form(client, "password", {"current_password": PASSWORD,
                                                      "new_password": "Mùa-nước-nổi-2026", "confirm": "Mùa-nước-nổi-2026"})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/account"
    assert "Đã đổi mật khẩu." in client.get("/auth/account").get_data(as_text=True)
    assert logged_in(client) and not logged_in(other)
    assert post_password(app.test_client(), "lead_a@pakn.test").status_code == 200  # the old one is gone
    assert sign_in(app.test_client(), "lead_a@pakn.test", "Mùa-nước-nổi-2026").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "password_changed"))


def test_new_recovery_codes_replace_the_old_ones(client, world, app):
    old = enrolled_codes(client, app, "clerk")
    wrong = post_account_form(client, "recovery-codes", {"code": "000000"})
    assert wrong.status_code == 422 and BAD_CODE in wrong.get_data(as_text=True)
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(seconds=90), tick=True):
        page = client.get("/auth/account").get_data(as_text=True)
        secret = None  # the enrolment drew a new secret: read it back as the app holds it
        with app.app_context():
            from pakn.sealing import unseal

            secret = unseal(world.user("clerk").totp_secret)
        response = client.post("/auth/account/recovery-codes", data={"code": pyotp.TOTP(secret).now(),
                                                                     "csrf_token": csrf_token(page)})
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        new = re.findall(r'<li class="code">([A-Z0-9-]+)</li>', html)
        assert len(new) == 10 and not set(new) & set(old)
        log_out(client)
        post_password(client, "clerk@pakn.test")
        assert BAD_CODE in post_code(client, old[0]).get_data(as_text=True)
        assert post_code(client, new[0]).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "second_factor_recovery_codes_renewed")) == 1
