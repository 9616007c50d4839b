"""Staff login and logout: the form, throttling, redirects, session lifetime, what a user sees."""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from flask_login import login_required
from sqlalchemy import func, select, text

from pakn import create_app
from pakn.extensions import db
from pakn.models import LoginAttempt, User

from .conftest import PASSWORD, csrf_token, second_step

GENERIC = "Email hoặc mật khẩu không đúng."


# -- helpers ------------------------------------------------------------------------------
def post_password(client, email: str, password: str = PASSWORD, next: str | None = None, **kwargs):
    """Fill in the real login form (GET for the token, then POST), optionally with ``?next=``:
    the first step only."""
    query = {"next": next} if next is not None else {}
    page = client.get("/auth/login", query_string=query, **kwargs)
    return client.post("/auth/login", query_string=query, data={
        "email": email, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))},
        **kwargs)


def post_login(client, email: str, password: str = PASSWORD, next: str | None = None, **kwargs):
    """Both steps: the password, then (when it was right) the current TOTP code. Returns the
    last response: the refused password page, or the redirect after the code."""
    response = post_password(client, email, password, next, **kwargs)
    if response.status_code == 302 and response.headers["Location"] == "/auth/code":
        return second_step(client, email.strip().lower(), **kwargs)
    return response


def summary(html: str) -> str:
    """The error summary at the top of the login page ("" when there is none)."""
    match = re.search(r'<div class="flash error" role="alert".*?</div>', html, re.S)
    return match.group(0) if match else ""


def attempts(app) -> list[LoginAttempt]:
    """Login attempts as another session sees them, i.e. only what was committed."""
    with app.app_context():
        return list(db.session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)))


def logged_in(client) -> bool:
    return client.get("/staff/").status_code == 200


@pytest.fixture
def fresh_app(tmp_path):
    """A separate app instance, for routes that must not be added to the shared one."""
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
                       "SECRET_KEY": "fresh-test-secret"})


# -- the page -----------------------------------------------------------------------------
def test_login_page_is_vietnamese_accessible_and_carries_a_csrf_token(client):
    response = client.get("/auth/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="vi">' in html
    assert "<h1>Cán bộ đăng nhập</h1>" in html
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Mật khẩu</label>' in html
    assert 'autocomplete="current-password"' in html and 'type="password"' in html
    assert csrf_token(html)
    assert response.headers["Cache-Control"] == "no-store"
    assert summary(html) == ""  # no error summary before anything was posted


def test_login_post_without_csrf_token_is_refused(client, world, app):
    response = client.post("/auth/login", data={"email": "clerk@pakn.test", "password": PASSWORD})
    assert response.status_code == 400
    assert "Phiên làm việc đã hết hạn" in response.get_data(as_text=True)
    assert attempts(app) == []
    assert not logged_in(client)


def test_login_post_with_a_forged_csrf_token_is_refused(client, world):
    client.get("/auth/login")
    response = client.post("/auth/login", data={"email": "clerk@pakn.test", "password": PASSWORD,
                                                "csrf_token": "forged"})
    assert response.status_code == 400
    assert not logged_in(client)


def test_empty_fields_are_reported_next_to_each_field_and_in_the_summary(client, world, app):
    response = post_login(client, "", "")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    top = summary(html)
    assert 'href="#email"' in top and "Vui lòng nhập email." in top
    assert 'href="#password"' in top and "Vui lòng nhập mật khẩu." in top
    assert '<p class="errors" id="email-error">Vui lòng nhập email.</p>' in html
    assert re.search(r'<input[^>]*aria-describedby="email-error"[^>]*aria-invalid="true"|'
                     r'<input[^>]*aria-invalid="true"[^>]*aria-describedby="email-error"', html)
    # The summary comes before the form in reading (and focus) order.
    assert html.index('role="alert"') < html.index("<form")
    assert attempts(app) == []  # nothing was checked, so nothing to count


def test_malformed_email_is_explained(client, world):
    html = post_login(client, "khong-phai-email").get_data(as_text=True)
    assert "Email không đúng định dạng" in summary(html)


def test_wrong_password_gets_one_generic_message_and_the_attempt_is_committed(client, world, app):
    wrong = post_login(client, "clerk@pakn.test", "sai-mat-khau")
    unknown = post_login(client, "khong-ton-tai@pakn.test", "sai-mat-khau")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert GENERIC in summary(response.get_data(as_text=True))
    # Nothing tells an existing account from a missing one.
    assert summary(wrong.get_data(as_text=True)) == summary(unknown.get_data(as_text=True))
    assert [(a.email, a.success) for a in attempts(app)] == [
        ("clerk@pakn.test", False), ("khong-ton-tai@pakn.test", False)]
    assert not logged_in(client)


def test_login_is_case_insensitive_on_the_email(client, world):
    response = post_login(client, "  Clerk@PAKN.test ")
    assert response.status_code == 302
    assert logged_in(client)


# -- throttling ---------------------------------------------------------------------------
def test_account_locks_after_max_failures_even_for_the_right_password_then_unlocks(client, world, app):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert GENERIC in post_login(client, "officer_a@pakn.test", "sai").get_data(as_text=True)

    locked = post_login(client, "officer_a@pakn.test", PASSWORD)
    html = locked.get_data(as_text=True)
    assert locked.status_code == 429
    minutes = app.config["LOGIN_LOCK_MINUTES"]
    assert 0 < int(locked.headers["Retry-After"]) <= minutes * 60 + 1
    assert f"Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút." in html
    assert not logged_in(client)
    # The lock is on the account: another address does not help.
    other = post_login(client, "officer_a@pakn.test", PASSWORD, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 429

    with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=minutes - 1), tick=True):
        assert post_login(client, "officer_a@pakn.test", PASSWORD).status_code == 429
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(minutes=minutes + 1), tick=True):
        response = post_login(client, "officer_a@pakn.test", PASSWORD)
        assert response.status_code == 302
        assert response.headers["Location"] == "/staff/"
        assert logged_in(client)


def test_one_address_failing_across_many_accounts_is_throttled(client, world, monkeypatch):
    monkeypatch.setitem(client.application.config, "LOGIN_IP_MAX_FAILURES", 4)
    for email in ("a@pakn.test", "b@pakn.test", "officer_a@pakn.test", "lead_b@pakn.test"):
        assert post_login(client, email, "doan-bua").status_code == 200
    # Even the right password of an untouched account is refused from this address...
    response = post_login(client, "clerk@pakn.test", PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert not logged_in(client)
    # ...but not from another one.
    response = post_login(client, "clerk@pakn.test", PASSWORD, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert response.status_code == 302


# -- success, redirects, sessions ---------------------------------------------------------
def test_success_opens_the_dashboard_with_the_users_name_and_counts(client, world, make_case, app):
    make_case(state="forwarded", agency="SXD")
    make_case(state="forwarded", agency="STNMT")
    response = post_login(client, "clerk@pakn.test")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie  # permanent
    html = client.get("/staff/").get_data(as_text=True)
    assert "Cán bộ clerk" in html
    assert re.search(r"<td>Đã chuyển xử lý</td><td class=\"num\">2</td>", html)
    assert [(a.step, a.success) for a in attempts(app)] == [("password", True), ("second_factor", True)]


def test_login_starts_a_fresh_session_but_keeps_the_language(client, world):
    client.get("/?lang=vi")
    with client.session_transaction() as s:
        s["planted"] = "by-an-attacker"
    post_login(client, "clerk@pakn.test")
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s["lang"] == "vi"
        assert s.permanent


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example/staff/", "http:evil.example", "javascript:alert(1)",
    "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example", " //evil.example",
    "staff/", "",
])
def test_next_pointing_off_site_is_ignored(client, world, target):
    response = post_login(client, "clerk@pakn.test", next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"


def test_next_on_this_site_is_followed(client, world):
    response = post_login(client, "clerk@pakn.test", next="/staff/?trang=2")
    assert response.headers["Location"] == "/staff/?trang=2"


def test_anonymous_staff_page_goes_to_login_and_back(client, world):
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert "Vui lòng đăng nhập để tiếp tục." in html
    # The form posts back with the same next; logging in lands on the page first asked for.
    action = re.search(r'<form method="post" action="([^"]+)"', html).group(1).replace("&amp;", "&")
    step = client.post(action, data={"email": "clerk@pakn.test", "password": PASSWORD,
                                     "csrf_token": csrf_token(html)})
    assert step.headers["Location"] == "/auth/code"
    landed = second_step(client, "clerk@pakn.test")
    assert landed.headers["Location"] == "/staff/"


def test_disabled_user_cannot_log_in(client, world):
    response = post_login(client, "disabled@pakn.test")
    assert response.status_code == 200
    assert GENERIC in summary(response.get_data(as_text=True))
    assert not logged_in(client)


def test_live_session_ends_when_the_user_is_deactivated(client, world, app):
    post_login(client, "officer_a@pakn.test")
    assert logged_in(client)
    with app.app_context():
        user = world.user("officer_a")
        user.active = False
        user.session_version += 1
        db.session.commit()
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_deactivation_alone_ends_the_session_too(client, world, app):
    post_login(client, "officer_a@pakn.test")
    with app.app_context():
        world.user("officer_a").active = False
        db.session.commit()
    assert not logged_in(client)


def test_password_change_ends_live_sessions(client, world, app):
    post_login(client, "lead@pakn.test")
    assert logged_in(client)
    with app.app_context():
        world.user("lead").set_password("mat-khau-moi-rat-dai-2")
        db.session.commit()
    assert not logged_in(client)
    assert post_login(client, "lead@pakn.test").status_code == 200  # the old password is gone
    assert post_login(client, "lead@pakn.test", "mat-khau-moi-rat-dai-2").status_code == 302


def test_session_ends_a_working_day_after_login_however_active(client, world, app):
    lifetime = app.permanent_session_lifetime
    assert lifetime <= timedelta(hours=12)
    start = datetime.now(timezone.utc)
    with time_machine.travel(start, tick=False):
        post_login(client, "clerk@pakn.test")
    moment = start
    while moment + timedelta(minutes=25) < start + lifetime:  # a request every 25 minutes...
        moment += timedelta(minutes=25)
        with time_machine.travel(moment, tick=False):
            assert logged_in(client)  # ...keeps the session alive (never idle 30 minutes)...
    with time_machine.travel(start + lifetime + timedelta(minutes=5), tick=False):
        assert not logged_in(client)  # ...but not past the limit counted from the login
    with time_machine.travel(start + timedelta(hours=13), tick=False):
        assert not logged_in(client)


def test_session_ends_after_thirty_idle_minutes(client, world, app):
    idle = app.config["SESSION_IDLE_SECONDS"]
    assert idle == 30 * 60
    start = datetime.now(timezone.utc)
    with time_machine.travel(start, tick=False):
        post_login(client, "clerk@pakn.test")
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert logged_in(client)  # 29 minutes idle: still in, and the clock restarts
    with time_machine.travel(start + timedelta(minutes=29 + 29), tick=False):
        assert logged_in(client)
    with time_machine.travel(start + timedelta(minutes=29 + 29 + 31), tick=False):
        response = client.get("/staff/")
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_passwords_are_stored_as_scrypt_hashes(app, world):
    with app.app_context():
        user = world.user("clerk")
        user.set_password("mot-mat-khau-moi-123")
        db.session.commit()
        stored = db.session.execute(text("SELECT password_hash FROM app_user")).scalars().all()
    assert stored and all(h.startswith("scrypt:") for h in stored)
    assert not any(PASSWORD in h or "mot-mat-khau-moi-123" in h for h in stored)


def test_login_is_logged_without_password_or_email(client, world, caplog, monkeypatch):
    # Alembic's fileConfig (migrations/env.py, run in-process by the app fixture) disables
    # loggers that already exist; outside the tests the migration runs in its own process.
    monkeypatch.setattr(logging.getLogger("pakn.auth"), "disabled", False)
    caplog.set_level(logging.INFO, logger="pakn.auth")
    post_login(client, "clerk@pakn.test", "mat-khau-sai-bi-mat")
    post_login(client, "clerk@pakn.test")
    messages = [r.getMessage() for r in caplog.records if r.name == "pakn.auth"]
    assert any(m.startswith("login failed email_hash=") and "ip=127.0.0.1" in m for m in messages)
    assert any(m.startswith("login ok user_id=") for m in messages)
    assert "mat-khau-sai-bi-mat" not in caplog.text and PASSWORD not in caplog.text
    assert "clerk@pakn.test" not in caplog.text


# -- logout -------------------------------------------------------------------------------
def test_logout_needs_post_and_csrf(client, world):
    post_login(client, "clerk@pakn.test")
    response = client.get("/auth/logout")
    assert response.status_code == 405
    assert "Phương thức không được hỗ trợ." in response.get_data(as_text=True)
    assert client.post("/auth/logout").status_code == 400  # no token
    assert logged_in(client)

    page = client.get("/staff/").get_data(as_text=True)
    response = client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Bạn đã đăng xuất." in home
    assert "Cán bộ đăng nhập" in home
    assert not logged_in(client)


def test_a_cookie_copied_before_logout_no_longer_works(client, world):
    post_login(client, "clerk@pakn.test")
    page = client.get("/staff/").get_data(as_text=True)
    stolen = client.get_cookie("session").value
    client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    client.set_cookie("session", stolen)
    assert not logged_in(client)


def test_logged_in_user_visiting_login_goes_to_the_dashboard(client, world):
    post_login(client, "clerk@pakn.test")
    response = client.get("/auth/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"


# -- the API is never redirected to a login page ------------------------------------------
def test_api_without_session_gets_the_json_401_envelope(fresh_app):
    fresh_app.add_url_rule("/api/v1/thu", "probe", login_required(lambda: "ok"))
    fresh_app.add_url_rule("/staff/thu", "probe_html", login_required(lambda: "ok"))
    client = fresh_app.test_client()
    response = client.get("/api/v1/thu")
    assert response.status_code == 401
    assert response.is_json
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.get_json()["error"]["message"] == "Cần đăng nhập."
    assert "Location" not in response.headers
    html = client.get("/staff/thu")
    assert html.status_code == 302 and html.headers["Location"].startswith("/auth/login?next=")


def test_login_attempt_count_matches_requests(client, world, app):
    """Each checked attempt is one row: the commit is not repeated nor lost."""
    for _ in range(3):
        post_login(client, "lead_a@pakn.test", "sai")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 3
