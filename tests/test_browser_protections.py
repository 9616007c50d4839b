"""Browser-facing protections over the whole URL map (reliability rows S1, S2, S7, P4, P5).

Every test here iterates ``app.url_map``: a route added later is covered without editing
this file. The only way to escape the CSRF test is to be listed in :data:`CSRF_EXEMPT`
with its reason, and the list is compared with what the app actually exempts.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from pakn import create_app
from pakn.extensions import csrf, db
from pakn.models import Feedback
from pakn.web.security import CACHEABLE_ENDPOINTS

from .conftest import csrf_token, sign_in
from .portal_support import FORM, form_values

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_REFUSAL = "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ."

#: The only routes without Flask-WTF's CSRF check, and why each is safe without it.
CSRF_EXEMPT = {
    # The JSON API authenticates staff with a bearer token in the Authorization header, which
    # a cross-site page cannot make the browser send; it requires an application/json body
    # (415 otherwise), which a cross-site HTML form cannot send without a CORS preflight that
    # this app never grants; and a state-changing call riding on the session cookie instead
    # must carry the CSRF token in X-CSRFToken (pakn/api/auth.py). Checked in test_the_api_*.
    "blueprint:api": "bearer tokens, JSON bodies only, X-CSRFToken with the session",
    # The public submission form checks the same CSRF token itself, after reading the form,
    # so that an expired token keeps everything the citizen typed (tests/test_portal.py,
    # test_missing_or_bad_csrf_token_creates_nothing_and_keeps_what_was_typed): without a
    # valid token it answers 400 with the localized message and creates nothing.
    "view:pakn.portal.routes.submit": "checks its own token in the view",
    # Open311 GeoReport v2 clients authenticate every write with the api_key in the request
    # itself (an open311-scoped token), never with the session cookie: a forged cross-site
    # request carries no credential (pakn/open311/__init__.py; tests/test_open311.py).
    "blueprint:open311": "api_key in the request, never the session cookie",
}

_SAMPLE_VALUES = {"int": 1, "default": "PAKN-2026-000001", "path": "pakn.css", "string": "x"}
_NAMED_VALUES = {"year": 2026, "period": "q1", "code": "PAKN-2026-000001", "filename": "pakn.css",
                 "lang": "vi"}


def _sample(rule, name: str):
    choices = getattr(rule._converters[name], "items", None)  # <any(a, b):name>: one of them
    if choices:
        return sorted(choices)[0]
    if name in _NAMED_VALUES and not (name == "code" and rule.endpoint == "web.set_language"):
        return _NAMED_VALUES[name]
    if rule.endpoint == "web.set_language":
        return "en"
    converter = rule._converters[name]
    if isinstance(converter, IntegerConverter):  # werkzeug's, or pakn's bounded subclass
        return _SAMPLE_VALUES["int"]
    return _SAMPLE_VALUES.get(type(converter).__name__.replace("Converter", "").lower(), "x")


def url_of(app, rule) -> str:
    """A concrete URL of ``rule``, with sample values for its variables."""
    values = {name: _sample(rule, name) for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, values, force_external=False)


def _rules_of(app, methods: set[str]):
    return sorted((r for r in app.url_map.iter_rules() if r.methods & methods), key=lambda r: r.rule)


def _listing_app():
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "listing-only"})


def _is_exempt(app, endpoint: str) -> bool:
    view = app.view_functions[endpoint]
    blueprint = endpoint.rpartition(".")[0]
    return (f"blueprint:{blueprint}" in CSRF_EXEMPT
            or f"view:{view.__module__}.{view.__name__}" in CSRF_EXEMPT)


#: The routes, read from an app built for listing only (the tests use the real ``app``).
_LISTING = _listing_app()
GET_ENDPOINTS = [r.endpoint for r in _rules_of(_LISTING, {"GET"})]
UNSAFE_ENDPOINTS = [(r.endpoint, m) for r in _rules_of(_LISTING, STATE_CHANGING)
                    for m in sorted(r.methods & STATE_CHANGING)]
#: Documented exemptions are checked by their own tests below.
PROTECTED_ENDPOINTS = [(e, m) for e, m in UNSAFE_ENDPOINTS if not _is_exempt(_LISTING, e)]


def rule_of(app, endpoint: str):
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)


def assert_security_headers(response, where: str) -> None:
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    for directive in ("base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp, (where, csp)
    assert "default-src 'self'" in csp or "default-src 'none'" in csp, (where, csp)
    assert "object-src 'none'" in csp or "default-src 'none'" in csp, (where, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, (where, csp)
    assert h.get("X-Content-Type-Options") == "nosniff", where
    assert h.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"), where
    assert h.get("X-Frame-Options") == "DENY", where
    if response.mimetype.startswith("text/"):  # JSON is UTF-8 by definition (RFC 8259)
        assert "charset=utf-8" in h["Content-Type"].lower(), (where, h["Content-Type"])


# -- headers on every GET route ------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", GET_ENDPOINTS)
def test_every_get_route_answers_with_the_security_headers(app, client, world, endpoint):
    rule = rule_of(app, endpoint)
    url = url_of(app, rule)
    response = client.get(url)
    assert response.status_code < 500, (url, response.status_code)
    assert_security_headers(response, url)
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: HSTS means nothing
    if endpoint not in CACHEABLE_ENDPOINTS:
        assert response.headers["Cache-Control"] == "no-store", url
    # TRACE is never allowed (it would echo the request, cookies included).
    trace = client.open(url, method="TRACE")
    assert trace.status_code == 405, url
    assert_security_headers(trace, f"TRACE {url}")


@pytest.mark.parametrize("key", ["admin", "clerk", "officer_a"])
def test_every_get_route_seen_by_staff_is_never_cached(app, client, world, make_case, key):
    code, _ = make_case(state="forwarded")
    assert sign_in(client, f"{key}@pakn.test").status_code == 302
    for endpoint in GET_ENDPOINTS:
        rule = rule_of(app, endpoint)
        url = url_of(app, rule).replace("PAKN-2026-000001", code)
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        assert_security_headers(response, url)
        assert response.headers["Cache-Control"] == "no-store", (url, response.headers.get("Cache-Control"))


@pytest.mark.parametrize("path, status", [
    ("/khong-co-trang-nay", 404), ("/api/v1/khong-co", 404), ("/static/khong-co.css", 404),
    ("/static/pakn.css", 200), ("/auth/logout", 405), ("/api/v1/auth/token", 405),
])
def test_error_pages_and_static_files_carry_the_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_security_headers(response, path)


def test_a_forced_500_in_production_config_is_generic_and_carries_the_headers(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}",
                      "SECRET_KEY": "production-like", "TESTING": False, "DEBUG": False})
    assert not app.debug and not app.testing

    def boom():
        raise RuntimeError("bi-mat: postgresql://pakn:hunter2@db/pakn")

    app.add_url_rule("/hong", "boom", boom)
    app.add_url_rule("/api/v1/hong", "api_boom", boom)
    client = app.test_client()
    for path in ("/hong", "/api/v1/hong"):
        response = client.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        for leak in ("Traceback", "RuntimeError", "bi-mat", "hunter2", 'File "', "werkzeug"):
            assert leak not in body, (path, leak)
        assert_security_headers(response, path)
        assert response.headers["Cache-Control"] == "no-store"
    assert "Đã có lỗi hệ thống. Vui lòng thử lại sau." in client.get("/hong").get_data(as_text=True)
    assert client.open("/hong", method="TRACE").status_code == 405


def test_hsts_over_https_directly_and_behind_the_proxy(tmp_path, client):
    direct = client.get("/", base_url="https://localhost")
    hsts = direct.headers["Strict-Transport-Security"]
    max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))
    assert max_age >= 365 * 24 * 3600 and "includeSubDomains" in hsts
    assert "Strict-Transport-Security" in client.get("/khong-co", base_url="https://localhost").headers

    proxied = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}",
                          "SECRET_KEY": "proxy", "PROXY_COUNT": 1}).test_client()
    behind = proxied.get("/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert behind.headers["Strict-Transport-Security"] == hsts
    assert "Strict-Transport-Security" not in proxied.get("/").headers
    # Without a proxy configured, a client cannot claim HTTPS with a header.
    assert "Strict-Transport-Security" not in client.get("/", headers={"X-Forwarded-Proto": "https"}).headers


def test_templates_hold_no_inline_script_or_style():
    from pathlib import Path

    templates = Path(__file__).resolve().parent.parent / "templates"
    # An inline script (a <script> without src), any <style>, style=, on…= and javascript: URLs;
    # <script src="…"> from our own origin is what the CSP allows.
    pattern = re.compile(r"<script(?![^>]*\ssrc=)|<style|\sstyle=|\son[a-z]+=|(href|src|action)=[\"']\s*javascript:",
                         re.I)
    offenders = [str(p.relative_to(templates)) for p in templates.rglob("*.html")
                 if not p.is_relative_to(templates / "emails") and pattern.search(p.read_text())]
    assert offenders == []  # e-mails are not pages: no CSP applies, and mail clients need inline style


# -- CSRF on every state-changing route ---------------------------------------------------------------
def _exempt_here(app) -> set[str]:
    """What ``app`` exempts from CSRF (the extension object is shared by every app a test
    builds, so views of other apps are left out)."""
    blueprints = {f"blueprint:{name}" for name, bp in app.blueprints.items() if bp in csrf._exempt_blueprints}
    views = {f"{v.__module__}.{v.__name__}" for v in app.view_functions.values()}
    return blueprints | {f"view:{v}" for v in csrf._exempt_views if v in views}


def test_the_csrf_exemptions_are_exactly_the_documented_ones(app):
    assert _exempt_here(app) == set(CSRF_EXEMPT)


@pytest.mark.parametrize("endpoint, method", PROTECTED_ENDPOINTS)
def test_every_state_changing_route_refuses_a_request_without_a_valid_token(app, client, world, endpoint, method):
    url = url_of(app, rule_of(app, endpoint))
    anonymous = client.open(url, method=method, data={"x": "1"})
    assert anonymous.status_code == 400, (method, url, anonymous.status_code)
    assert CSRF_REFUSAL in anonymous.get_data(as_text=True)

    assert sign_in(client, "admin@pakn.test").status_code == 302
    token = csrf_token(client.get("/staff/").get_data(as_text=True))
    # A well-signed token of another browser's session is as useless as a forged one.
    someone_else = csrf_token(app.test_client().get("/auth/login").get_data(as_text=True))
    for data in ({"x": "1"}, {"x": "1", "csrf_token": "forged"}, {"csrf_token": someone_else}):
        refused = client.open(url, method=method, data=data)
        assert refused.status_code == 400, (method, url, data, refused.status_code)
        assert CSRF_REFUSAL in refused.get_data(as_text=True)
        assert_security_headers(refused, url)
    # Over HTTPS a valid token is not enough: the Referer must be this site.
    for headers in ({"Referer": "https://evil.example/trang"}, {}):
        foreign = client.open(url, method=method, data={"csrf_token": token}, base_url="https://localhost",
                              headers=headers)
        assert foreign.status_code == 400, (method, url, headers, foreign.status_code)


def test_the_api_needs_a_csrf_header_when_riding_on_the_session_and_takes_only_json(app, client, world,
                                                                                    make_case):
    code, tracking = make_case(state="received")
    assert sign_in(client, "clerk@pakn.test").status_code == 302  # a logged-in browser...
    token = csrf_token(client.get("/staff/").get_data(as_text=True))
    checked = 0
    for endpoint, method in UNSAFE_ENDPOINTS:
        if not endpoint.startswith("api.") or endpoint in ("api.create_token", "api.submit_feedback",
                                                             "api.submitter_action"):
            continue  # these take no session: credentials, anonymous JSON, the tracking token
        url = url_of(app, rule_of(app, endpoint)).replace("PAKN-2026-000001", code)
        url = re.sub(r"/actions/x$", "/actions/forward", url)  # a real trigger
        response = client.open(url, method=method, json={}, headers={"If-Match": '"1"'})
        assert response.status_code in (400, 401), (url, response.status_code)  # ...is not enough
        if response.status_code == 400:
            assert response.get_json()["error"]["code"] == "csrf"
            allowed = client.open(url, method=method, json={}, headers={"If-Match": '"1"', "X-CSRFToken": token})
            assert allowed.status_code != 400 or allowed.get_json()["error"]["code"] != "csrf", url
            checked += 1
    assert checked >= 1
    # A cross-site form can only send form-encoded, multipart or text/plain bodies: all refused.
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain"):
        for url in ("/api/v1/feedback", "/api/v1/auth/token", f"/api/v1/feedback/{code}/actions/withdraw",
                    f"/api/v1/cases/{code}/actions/forward"):
            response = client.post(url, data='{"a": 1}', content_type=content_type,
                                   headers={"X-CSRFToken": token, "X-Tracking-Token": tracking})
            assert response.status_code in (400, 415), (url, content_type, response.status_code)
            assert response.is_json
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Feedback)) == 1


def test_the_submission_form_refuses_a_post_without_its_token(app, client, world):
    values = form_values(client.get("/gop-y").get_data(as_text=True))
    response = client.post("/gop-y", data={**FORM, "form_key": values["form_key"]})
    assert response.status_code == 400
    assert "Phiên làm việc đã hết hạn" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Feedback)) == 0


# -- cookies ---------------------------------------------------------------------------------------
def _cookie(response, name: str) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    assert cookies, response.headers.getlist("Set-Cookie")
    return cookies[-1]


def test_the_session_cookie_is_httponly_and_lax(client, world):
    response = sign_in(client, "clerk@pakn.test")
    cookie = _cookie(response, "session")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Domain=" not in cookie
    assert "Secure" not in cookie  # PAKN_SECURE_COOKIES is off in the tests (plain HTTP)


def test_with_secure_cookies_the_session_cookie_is_a_host_cookie(tmp_path, monkeypatch):
    monkeypatch.setenv("PAKN_SECURE_COOKIES", "1")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 's.sqlite3'}", "SECRET_KEY": "secure"})
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    response = app.test_client().get("/auth/login", base_url="https://localhost")
    cookie = _cookie(response, "__Host-session")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie, cookie
    assert "Domain=" not in cookie  # required by the __Host- prefix
    assert not [c for c in response.headers.getlist("Set-Cookie") if not c.startswith("__Host-")]


# -- denied access is logged (S9) ---------------------------------------------------------------------
@pytest.fixture
def access_log(caplog, monkeypatch):
    import logging

    # Alembic's fileConfig (run in-process by the app fixture) disables existing loggers.
    monkeypatch.setattr(logging.getLogger("pakn.access"), "disabled", False)
    caplog.set_level(logging.WARNING, logger="pakn.access")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "pakn.access"]


def test_a_case_out_of_scope_is_logged_with_user_route_and_object(app, client, world, make_case, access_log):
    code, _ = make_case(state="forwarded", agency="SXD")
    assert sign_in(client, "officer_b@pakn.test").status_code == 302
    assert client.get(f"/agency/cases/{code}").status_code == 404
    assert client.get("/office/").status_code == 404
    lines = access_log()
    assert any(f"status=404" in m and f"user_id={world.users['officer_b']}" in m and "role=agency_officer" in m
               and "route='/agency/cases/<code>'" in m and f"'code': '{code}'" in m for m in lines), lines
    assert any("route='/office/'" in m for m in lines)


def test_csrf_refusals_and_api_401s_are_logged_and_crlf_cannot_forge_a_line(app, client, world, access_log):
    client.post("/auth/logout")
    client.get("/api/v1/cases")
    assert client.get("/api/v1/cases/PAKN%0d%0aaccess%20denied%20status=200").status_code == 401
    lines = access_log()
    assert any("status=400 reason=csrf" in m and "route='/auth/logout'" in m for m in lines), lines
    assert any("status=401 reason=unauthorized" in m and "role=anonymous" in m for m in lines), lines
    assert all("\n" not in m and "\r" not in m for m in lines)
    # Anonymous 404s (crawlers) are not logged as denials.
    client.get("/khong-co")
    assert len(access_log()) == len(lines)


# -- header injection through a name or an address (I11) ----------------------------------------------
@pytest.mark.parametrize("field, value", [
    ("submitter_name", "Lê Văn Bình\r\nBcc: ke-xau@example.org"),
    ("submitter_name", "Lê Văn Bình\nBcc: ke-xau@example.org"),
    ("submitter_email", "binh@example.com\r\nBcc: ke-xau@example.org"),
    ("submitter_email", "binh@example.com\nSubject: gia mao"),
    ("title", "Tiêu đề\r\nBcc: ke-xau@example.org"),
])
def test_a_line_break_in_a_header_bound_field_is_refused(app, client, world, field, value):
    from pakn.scenarios import SUBMISSION

    response = client.post("/api/v1/feedback", json={**SUBMISSION, field: value})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Feedback)) == 0
