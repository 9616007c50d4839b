"""Pages shared by everyone: home, language, dashboard scope, security headers, error pages."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import get_babel

from pakn import create_app

from .conftest import csrf_token, sign_in

TRANSLATIONS = Path(__file__).resolve().parent.parent / "pakn" / "translations"


# -- helpers ------------------------------------------------------------------------------
def log_in(client, key: str):
    response = sign_in(client, f"{key}@pakn.test")
    assert response.status_code == 302, response.get_data(as_text=True)


def shows_case(html: str, code: str) -> bool:
    return re.search(rf"<td>{re.escape(code)}</td>", html) is not None


@pytest.fixture(scope="session")
def compiled_catalogs():
    """Compile each .po next to itself when its .mo is missing or older (a fresh clone has only the .po)."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            with po_path.open("rb") as po:
                catalog = read_po(po, locale=po_path.parent.parent.name)
            tmp = mo_path.with_suffix(".mo.tmp")
            with tmp.open("wb") as mo:
                write_mo(mo, catalog)
            tmp.replace(mo_path)  # atomic: a parallel run never reads half a file


@pytest.fixture
def english(app, compiled_catalogs):
    """The app with its catalogs compiled and any translation loaded before that forgotten."""
    with app.app_context():
        get_babel(app).instance.domain_instance.cache.clear()
    return app


@pytest.fixture
def fresh_app(tmp_path):
    """A separate app instance, production-like (not TESTING), for routes added by a test."""
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
                       "SECRET_KEY": "fresh-test-secret", "TESTING": False, "DEBUG": False})


# -- home and language --------------------------------------------------------------------
def test_home_is_in_vietnamese_by_default(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="vi">' in html
    assert "<h1>Phản ánh, kiến nghị về quy định hành chính</h1>" in html
    assert "Cán bộ đăng nhập" in html
    assert "Văn phòng UBND tỉnh Vĩnh Long" in html


def test_home_in_english_with_lang_en_and_the_choice_sticks(client, english):
    html = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "<h1>Feedback and recommendations on administrative regulations</h1>" in html
    assert "Staff sign-in" in html
    assert re.search(r"Vĩnh Long Provincial People(&#39;|')s Committee Office", html)
    assert "Phản ánh, kiến nghị về quy định hành chính" not in html
    # Remembered in the session, until switched back.
    assert "<h1>Feedback and recommendations" in client.get("/").get_data(as_text=True)
    back = client.get("/lang/vi", query_string={"next": "/"})
    assert back.status_code == 302 and back.headers["Location"] == "/"
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)


def test_login_page_in_english(client, english):
    html = client.get("/auth/login?lang=en").get_data(as_text=True)
    assert '<label for="password">Password</label>' in html
    page = client.post("/auth/login", data={"email": "", "password": "",
                                            "csrf_token": csrf_token(html)}).get_data(as_text=True)
    assert "Please enter your email." in page


def test_unknown_language_is_not_offered(client):
    assert client.get("/lang/xx").status_code == 404
    assert '<html lang="vi">' in client.get("/?lang=xx").get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "javascript:alert(1)",
                                    "/\\evil.example", "evil.example"])
def test_language_switch_never_redirects_off_site(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/\t/evil.example", "/\n/evil.example"])
def test_language_switch_refuses_control_characters(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_language_switch_keeps_a_path_on_this_site(client):
    response = client.get("/lang/en", query_string={"next": "/auth/login?next=/staff/"})
    assert response.headers["Location"] == "/auth/login?next=/staff/"


# -- the staff dashboard ------------------------------------------------------------------
def test_anonymous_dashboard_redirects_to_login(client):
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/staff/"
    assert response.headers["Cache-Control"] == "no-store"


def test_office_clerk_sees_every_case(client, make_case):
    in_a, _ = make_case(state="forwarded", agency="SXD")
    in_b, _ = make_case(state="forwarded", agency="STNMT")
    received, _ = make_case()
    log_in(client, "clerk")
    html = client.get("/staff/").get_data(as_text=True)
    assert all(shows_case(html, code) for code in (in_a, in_b, received))
    assert re.search(r'<td>Đã chuyển xử lý</td><td class="num">2</td>', html)
    assert re.search(r'<td>Đã tiếp nhận</td><td class="num">1</td>', html)


def test_agency_officer_sees_only_their_agencys_cases(client, make_case):
    in_a, _ = make_case(state="forwarded", agency="SXD")
    in_b, _ = make_case(state="forwarded", agency="STNMT")
    received, _ = make_case()
    log_in(client, "officer_b")
    response = client.get("/staff/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Cán bộ officer_b" in html and "Sở Nông nghiệp và Môi trường" in html
    assert shows_case(html, in_b)
    assert not shows_case(html, in_a) and not shows_case(html, received)
    assert re.search(r'<td>Đã chuyển xử lý</td><td class="num">1</td>', html)
    assert "Đã tiếp nhận" not in html


def test_dashboard_without_cases_says_so(client, world):
    log_in(client, "officer_a")
    html = client.get("/staff/").get_data(as_text=True)
    assert "Chưa có PAKN nào." in html


def test_dashboard_is_never_cached(client, world):
    log_in(client, "clerk")
    response = client.get("/staff/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


# -- security headers on every response ---------------------------------------------------
@pytest.mark.parametrize("method, path, status", [
    ("GET", "/", 200), ("GET", "/auth/login", 200), ("GET", "/staff/", 302),
    ("GET", "/khong-co-trang-nay", 404), ("GET", "/static/pakn.css", 200),
    ("GET", "/api/v1/khong-co", 404), ("GET", "/auth/logout", 405), ("POST", "/auth/login", 400),
    ("GET", "/lang/en", 302),
])
def test_security_headers_on_every_response(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    h = response.headers
    csp = h["Content-Security-Policy"]
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert h["X-Frame-Options"] == "DENY"
    if response.mimetype == "text/html":
        assert "charset=utf-8" in h["Content-Type"]


def test_security_headers_on_a_logged_in_page(client, world):
    log_in(client, "clerk")
    response = client.get("/staff/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# -- error pages --------------------------------------------------------------------------
def test_404_page_is_in_vietnamese(client):
    response = client.get("/khong-co-trang-nay")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert '<html lang="vi">' in html
    assert "<h1>Không tìm thấy trang hoặc hồ sơ.</h1>" in html
    assert "Về trang chủ" in html


def test_404_page_in_english_after_choosing_it(client, english):
    client.get("/lang/en")
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert "<h1>The page or case was not found.</h1>" in response.get_data(as_text=True)


def test_api_404_is_the_json_envelope(client):
    response = client.get("/api/v1/khong-co")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_html_500_page_shows_no_traceback(fresh_app):
    def boom():
        raise RuntimeError("bi-mat: postgresql://user:secret@db/pakn")

    fresh_app.add_url_rule("/hong", "boom", boom)
    response = fresh_app.test_client().get("/hong")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "<h1>Đã có lỗi hệ thống. Vui lòng thử lại sau.</h1>" in html
    for leak in ("Traceback", "RuntimeError", "bi-mat", "secret", "File \""):
        assert leak not in html
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_api_500_is_the_json_envelope_without_details(fresh_app):
    def boom():
        raise RuntimeError("bi-mat")

    fresh_app.add_url_rule("/api/v1/hong", "api_boom", boom)
    response = fresh_app.test_client().get("/api/v1/hong")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "bi-mat" not in response.get_data(as_text=True)
