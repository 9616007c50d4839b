"""Privacy (issue 10, item 5; reliability.md P1–P3, A5, I10): canary personal data seeded in
cases in every state never appears in a public page, feed, open-data file, statistic, Open311
response, log line or URL; tracking tokens travel only in the tracking link; every CSV and XLSX
export neutralises formulas.
"""
from __future__ import annotations

import csv
import html
import io
import logging
import re
import threading
import urllib.error
import urllib.request
from collections import deque
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.routing import BuildError
from werkzeug.serving import make_server

from pakn.extensions import db
from pakn.models import Agency, Feedback, Field
from pakn.models.types import utcnow
from pakn.operations import apply_transition, transaction
from pakn.portal.limits import limiter_of
from pakn.scenarios import PUBLISH

from .agency_support import staff_client
from .conftest import PASSWORD, csrf_token
from .notify_support import SmtpSink, wait_until
from .portal_support import CANARY, CANARY_MARKERS, FORM, _empty_upload_folder, form_values  # noqa: F401

#: A 12-digit citizen ID number (CCCD), in the content of every canary case.
CANARY_ID = "079203012345"
CANARY_CONTENT = (f"Tôi, số CCCD {CANARY_ID}, nộp hồ sơ cấp giấy phép xây dựng nhà ở riêng lẻ đã 40 ngày "
                  "nhưng chưa có kết quả, cũng không có thông báo lý do.")
MARKERS = (*CANARY_MARKERS, CANARY_ID, "canaryfilexq")
STATES = ("received", "needs_info", "returned", "rejected", "merged", "forwarded", "in_progress",
          "draft_pending_approval", "answer_approved", "answered", "answer_accepted", "notified", "published",
          "closed", "withdrawn")
#: Where the crawl does not go: staff areas (behind a login; the authz matrix covers them).
STAFF_PREFIXES = ("/office", "/agency", "/staff", "/auth", "/admin", "/plans", "/reports", "/notifications",
                  "/api/v1/cases", "/api/v1/auth")
TEXT_TYPES = ("text/", "application/json", "application/atom+xml", "application/xml")


def hits(text: str) -> list[str]:
    return [m for m in MARKERS if m in text]


@pytest.fixture
def canary_cases(app, world, make_case):
    """A canary case in every state (the published and closed ones too), with a private file."""
    codes = {state: make_case(state, **CANARY, content=CANARY_CONTENT)[0] for state in STATES}
    from .authz_support import _upload

    with app.app_context(), transaction():
        for state in ("published", "in_progress"):
            case = db.session.scalar(select(Feedback).where(Feedback.code == codes[state]))
            _upload(case, "canaryfilexq giấy tờ.pdf")
    return codes


def _links(body: str) -> list[str]:
    found = re.findall(r'(?:href|src|action)="([^"]+)"', body)
    found += re.findall(r'<(?:id|link)[^>]*?>(https?://[^<]+)<', body)
    found += re.findall(r'"url":\s*"([^"]+)"', body)
    return [html.unescape(link) for link in found]


def crawl(client, seeds: list[str], limit: int = 1500) -> list[tuple[str, object]]:
    """Every public page reachable from ``seeds`` by links on this site (staff areas excepted)."""
    seen, queue, pages = set(), deque(seeds), []
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        pages.append((url, response))
        if response.status_code in (301, 302, 303):
            queue.append(response.headers["Location"])
        if not response.content_type.startswith(TEXT_TYPES):
            continue
        for link in _links(response.get_data(as_text=True)):
            parts = urlsplit(link)
            if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "localhost"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target.startswith("/") and not target.startswith(STAFF_PREFIXES):
                queue.append(target)
    return pages


def open311_urls(app, codes: dict) -> list[str]:
    """Every GET route of the Open311 blueprint (when it exists), with every case, field or
    format as its arguments (``any(json, xml)`` converters give their own choices)."""
    from itertools import product

    from werkzeug.routing import AnyConverter

    adapter = app.url_map.bind("localhost")
    with app.app_context():
        ids = [str(i) for i in db.session.scalars(select(Feedback.id))]
        fields = list(db.session.scalars(select(Field.code)))
    pool = [*codes.values(), *ids, *fields]
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/open311") or "GET" not in rule.methods:
            continue
        arguments = sorted(rule.arguments)
        choices = [sorted(rule._converters[a].items) if isinstance(rule._converters[a], AnyConverter) else pool
                   for a in arguments]
        for values in product(*choices):
            try:
                urls.append(adapter.build(rule.endpoint, dict(zip(arguments, values))))
            except (BuildError, ValueError, TypeError):
                pass
    return list(dict.fromkeys(urls))


def test_no_public_page_feed_export_or_statistic_shows_personal_data(app, canary_cases):
    codes = list(canary_cases.values())
    seeds = ["/", "/huong-dan", "/gop-y", "/tra-cuu", "/tra-loi", "/tra-loi?q=giấy phép", "/tra-loi/atom.xml",
             "/du-lieu-mo", "/du-lieu-mo/pakn.csv", "/du-lieu-mo/pakn.json", "/thong-ke", "/?lang=en"]
    for code in codes:  # every case by its code: published or not, tracked without a token, receipts
        seeds += [f"/tra-loi/{code}", f"/tra-cuu/{code}", f"/tra-cuu/{code}?token=wrong-token",
                  f"/gop-y/bien-nhan/{code}", f"/api/v1/feedback/{code}", f"/api/v1/feedback/{code}?token=x"]
    seeds += open311_urls(app, canary_cases)
    with app.app_context():
        limiter_of(app).reset()
    pages = crawl(app.test_client(), seeds)
    assert len(pages) > 60
    published = [u for u, r in pages if u.startswith("/tra-loi/PAKN") and r.status_code == 200]
    assert len(published) == 2, published  # the published and the closed case are public
    leaked = []
    for url, response in pages:
        assert response.status_code < 500, url
        found = hits(response.get_data().decode("utf-8", "replace")) + hits(str(response.headers))
        if found:
            leaked.append(f"{url}: {found}")
        # A link followed from here never carries the page's address to another site.
        assert response.headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin"), url
    assert not leaked, "personal data in public responses:\n" + "\n".join(leaked)
    # The published texts are there (the crawl looked at real content).
    body = dict(pages)["/du-lieu-mo/pakn.json"].get_data(as_text=True)
    assert PUBLISH["public_title"] in body and canary_cases["published"] in body


def test_open_data_has_no_personal_data_columns(client, canary_cases):
    rows = list(csv.DictReader(io.StringIO(client.get("/du-lieu-mo/pakn.csv").get_data(as_text=True).lstrip("\ufeff"))))
    items = client.get("/du-lieu-mo/pakn.json").get_json()["items"]
    assert rows and items
    personal = {"submitter_name", "submitter_address", "submitter_phone", "submitter_email", "submitter_organisation",
                "name", "email", "phone", "address", "content"}
    assert not personal & set(rows[0]) and not personal & set(items[0])


# -- logs ---------------------------------------------------------------------------------------
@pytest.fixture
def app_logs(caplog, monkeypatch):
    """Every record of the app and the web server at DEBUG. Alembic's fileConfig (the app
    fixture migrates in-process) disables the loggers that existed then: enable them again, or
    the check would see nothing. SQLAlchemy's echo (statements and rows) is an operator's
    debugging switch, off in production, so it stays at WARNING."""
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            monkeypatch.setattr(logger, "disabled", False)
    sqlalchemy = logging.getLogger("sqlalchemy")
    monkeypatch.setattr(sqlalchemy, "level", logging.WARNING)  # not caplog.set_level: it sets the handler's too
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def mail(app, monkeypatch):
    sink = SmtpSink().start()
    for key, value in {"NOTIFY_AFTER_COMMIT": True, "REDIS_URL": None, "SMTP_HOST": "127.0.0.1",
                       "SMTP_PORT": sink.port, "SMTP_SECURITY": "none", "SMTP_TIMEOUT": 10, "SMS_GATEWAY_URL": "",
                       "NOTIFY_MAX_ATTEMPTS": 2}.items():
        monkeypatch.setitem(app.config, key, value)
    yield sink
    sink.stop()


def _act(code: str, trigger: str, user, payload: dict | None = None) -> None:
    with transaction():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        apply_transition(case, trigger, user, payload or {})


def submit_canary(client) -> tuple[str, str, object]:
    """Submit the canary form through the portal; the code, the tracking link and the receipt page."""
    values = form_values(client.get("/gop-y").get_data(as_text=True))
    response = client.post("/gop-y", data={**FORM, **CANARY, "content": CANARY_CONTENT, **values})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    receipt = client.get(response.headers["Location"])
    link = re.search(r'href="([^"]*/tra-cuu/[^"]*token=[^"]+)"', receipt.get_data(as_text=True)).group(1)
    code = re.search(r"PAKN-\d{4}-\d{6}", response.headers["Location"]).group(0)
    return code, html.unescape(link), receipt


def test_a_full_lifecycle_logs_no_personal_data_token_password_or_cookie(app, world, app_logs, mail):
    """Submit, track, sign in, classify and forward, handle, answer, publish, with every message
    sent, the receipt refused by the mail server quoting the address (a 550 names it)."""
    mail.script = [f"550 5.1.1 <{CANARY['submitter_email']}>: Recipient address rejected"]
    with app.app_context():
        limiter_of(app).reset()
    citizen = app.test_client()
    code, link, _ = submit_canary(citizen)
    token = link.split("token=")[1]
    assert citizen.get(urlsplit(link).path + "?" + urlsplit(link).query).status_code == 303
    citizen.get("/tra-cuu/" + code)
    clerk = staff_client(app, "clerk")
    cookie = clerk.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    staff_client(app, "lead").post("/auth/login", data={"email": "lead@pakn.test", "password": "sai-mat-khau-9"})
    page = clerk.get(f"/office/cases/{code}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    forwarded = clerk.post(f"/office/cases/{code}/actions/forward", data={
        "csrf_token": csrf_token(page), "version": version, "subject": "quy_dinh", "content_category": "2",
        "field": "xay_dung", "agency": "SXD"})
    assert forwarded.status_code == 302, forwarded.get_data(as_text=True)[:400]
    from pakn.scenarios import DRAFT

    with app.app_context():
        user = world.user
        _act(code, "accept", user("officer_a"))
        _act(code, "draft_answer", user("officer_a"), DRAFT)
        _act(code, "approve_answer", user("lead_a"), {"comment": "Đồng ý."})
        _act(code, "submit_answer", user("officer_a"), {"document_number": "125/SXD-QLXD"})
        _act(code, "accept_answer", user("clerk"))
        _act(code, "notify", user("clerk"))
        _act(code, "publish", user("clerk"), PUBLISH)
        dead = db.session.scalar(select(Feedback).where(Feedback.code == code))
        assert dead.state == "published"
    assert mail.messages, "nothing was sent: the lifecycle did not reach the mailer"
    # P6: no message body, to staff or to the submitter, repeats the submitter's personal data.
    for message in mail.messages:
        assert not hits(mail.text(message) + mail.html(message)), message["Subject"]
    # Everything but the test's own SMTP server (aiosmtpd logs the envelopes it receives).
    records = [r for r in app_logs.records if not r.name.startswith(("mail.", "aiosmtpd"))]
    assert {"pakn.auth", "pakn.notifications"} <= {r.name for r in records}
    text = "\n".join(r.getMessage() + "\n" + (r.exc_text or "") for r in records)
    assert "dead" in text  # the refused receipt was logged…
    assert "[email]" in text  # …with the address the server quoted masked
    secrets = {"token": token, "password": PASSWORD, "session cookie": cookie}
    leaked = hits(text) + [name for name, value in secrets.items() if value in text]
    assert not leaked, (leaked, [l for l in text.splitlines() if any(m in l for m in MARKERS)][:5])


def test_an_error_message_never_carries_the_statement_parameters(app, world):
    from sqlalchemy.exc import IntegrityError

    from pakn.models import User

    with app.app_context():
        db.session.add(User(email="clerk@pakn.test", full_name=CANARY["submitter_name"], role="office_clerk",
                            agency_id=world.office, password_hash="x"))
        with pytest.raises(IntegrityError) as caught:
            db.session.flush()
        db.session.rollback()
    assert CANARY["submitter_name"] not in str(caught.value) and "hidden" in str(caught.value)


def test_the_access_log_of_a_live_server_masks_tracking_tokens(app, world, make_case, app_logs):
    code, token = make_case("received", **CANARY)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        opener = urllib.request.build_opener(NoRedirect)
        for path in (f"/tra-cuu/{code}?token={token}", f"/api/v1/feedback/{code}?token={token}", "/tra-loi"):
            try:
                opener.open(base + path).read()
            except urllib.error.HTTPError:
                pass
    finally:
        server.shutdown()
        thread.join()

    def access():  # a request thread logs its line after the client has read the response
        return [r.getMessage() for r in app_logs.records if r.name == "werkzeug"]

    wait_until(lambda: len(access()) >= 3, "the access log lines")
    access = access()
    assert any(f"/tra-cuu/{code}?token=[redacted]" in line for line in access), access
    assert not any(token in line or hits(line) for line in access)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_log_redaction_masks_tokens_addresses_and_phones():
    from pakn.log_privacy import redact

    line = ('127.0.0.1 - - "GET /tra-cuu/PAKN-2026-000001?token=AbC-123_x&lang=en HTTP/1.1" 303 - '
            "550 <ten.nguoi@example.org> 0912 345 678 +84912345678 Bearer abc.def outbox row 12345 "
            '"GET /open311/v2/tokens/Zx_9-aB.json HTTP/1.1"')
    masked = redact(line)
    assert "AbC-123_x" not in masked and "token=[redacted]&lang=en" in masked
    assert "ten.nguoi@example.org" not in masked and "0912 345 678" not in masked and "+84912345678" not in masked
    assert "Bearer [redacted]" in masked and "outbox row 12345" in masked and "PAKN-2026-000001" in masked
    assert "/open311/v2/tokens/[redacted].json" in masked


# -- tracking tokens in URLs --------------------------------------------------------------------
def test_the_tracking_token_travels_only_in_the_tracking_link(app, world, mail):
    """The receipt page and the receipt e-mail carry the tracking link; no other URL the app
    generates (links, redirects, forms) holds the token, and the link itself is answered with a
    redirect that drops it."""
    with app.app_context():
        limiter_of(app).reset()
    citizen = app.test_client()
    code, link, receipt = submit_canary(citizen)
    token = link.split("token=")[1]
    pattern = re.compile(rf"(?:https?://[^/\s\"]+)?/tra-cuu/{code}\?token={re.escape(token)}")
    pages = [receipt.get_data(as_text=True)]
    opened = citizen.get(urlsplit(link).path + "?" + urlsplit(link).query)
    assert opened.status_code == 303 and token not in opened.headers["Location"]
    status = citizen.get(opened.headers["Location"])
    pages.append(status.get_data(as_text=True))
    assert token not in status.get_data(as_text=True)
    message = mail.to(CANARY["submitter_email"])[0]
    pages += [mail.text(message), mail.html(message)]
    for body in pages:
        for url in re.findall(r"(?:href|src|action)=\"([^\"]+)\"", body) + re.findall(r"https?://[^\s\"'<>]+", body):
            url = html.unescape(url).rstrip(".,)")
            if token in url:
                assert pattern.fullmatch(url), url
    assert receipt.headers["Referrer-Policy"] == "same-origin" and receipt.headers["Cache-Control"] == "no-store"


# -- spreadsheets -------------------------------------------------------------------------------
FORMULAS = ("=HYPERLINK(\"http://evil.example\",\"xem\")", "+SUM(1,2)", "-2+3", "@cmd", "\tTAB", "\rCR")


def _cells_of_xlsx(data: bytes) -> list:
    book = load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def test_every_csv_and_xlsx_export_neutralises_formulas(app, world, make_case):
    """A title, a name, an address, a field and an agency name that start like a formula: every
    export writes them as text (CSV with a leading apostrophe, XLSX never as a formula cell)."""
    with app.app_context(), transaction():
        db.session.get(Agency, world.agency_a).name = "=cmd|' /C calc'!A0"
        db.session.scalar(select(Field).where(Field.code == "xay_dung")).name = "+Xây dựng"
    evil = {"title": FORMULAS[0] + " giấy phép xây dựng", "submitter_name": FORMULAS[1] + " Nguyễn Văn A",
            "submitter_address": FORMULAS[3] + " số 5 đường 3/2"}
    code, _ = make_case("notified", **evil)
    make_case("in_progress", **evil)
    with app.app_context(), transaction():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        apply_transition(case, "publish", world.user("clerk"), {
            "public_title": FORMULAS[2] + " thời hạn cấp phép", "public_summary": FORMULAS[4] + " tóm tắt nội dung",
            "public_answer": FORMULAS[5] + " Sở Xây dựng trả lời: thời hạn là 15 ngày làm việc."})
    year = utcnow().year
    office, agency = staff_client(app, "clerk"), staff_client(app, "officer_a")
    csvs = {"/du-lieu-mo/pakn.csv": app.test_client().get("/du-lieu-mo/pakn.csv"),
            "/agency/export.csv?view=all": agency.get("/agency/export.csv?view=all")}
    xlsxs = {"/office/register.xlsx": office.get(f"/office/register.xlsx?from={year}-01-01&to={year}-12-31"),
             "/reports/…/report.xlsx": office.get(f"/reports/{year}/Y/report.xlsx"),
             "/reports/…/report.xlsx?agency": agency.get(f"/reports/{year}/Y/report.xlsx")}
    checked = 0
    for url, response in csvs.items():
        assert response.status_code == 200, url
        for row in csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))):
            for value in row:
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (url, value)
                checked += value.startswith("'")
    for url, response in xlsxs.items():
        assert response.status_code == 200, url
        for cell in _cells_of_xlsx(response.data):
            assert cell.data_type != "f", (url, cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), (url, cell.value)
                checked += cell.value.startswith("'")
    assert checked >= 8  # the evil values were really in the exports, neutralised
