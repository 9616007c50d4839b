"""Bad input on the public form (/gop-y) and the JSON API (POST /api/v1/feedback), fuzzed with
hypothesis and checked case by case (reliability.md I1–I3, I6–I8, I11, I12).

The rule everywhere: never a 500; a clear 4xx in Vietnamese; and when refused, nothing stored
(cases, attachments, outbox rows, audit events, form keys, and files on disk are counted before
and after). Bodies are built by hand where the test client would clean them (lone surrogates,
NUL in file names, broken multipart).
"""
from __future__ import annotations

import io
import json
import re
import unicodedata
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from pakn.extensions import db
from pakn.models import Attachment, AuditEvent, Feedback, OutboxMessage, SubmissionKey
from pakn.scenarios import SUBMISSION

from .portal_support import FORM, _empty_upload_folder, form_values  # noqa: F401 (autouse fixture)
from .test_storage import jpeg_with_gps, simple_pdf

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
FEW = settings(FUZZ, max_examples=15)
#: Every character, lone surrogates included (st.text() leaves those out by default).
ANY_CHAR = st.characters(codec=None, categories=None, exclude_categories=())
BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
CONTROL_MSG = "Có ký tự không hợp lệ (ký tự điều khiển)."
UNICODE_MSG = "Văn bản không đúng bảng mã Unicode (TCVN 6909:2001)."
TOO_LARGE_MSG = "Dữ liệu gửi lên quá lớn"
TEXT_FIELDS = ("title", "content", "proposal", "submitter_name", "submitter_organisation", "submitter_address",
               "submitter_phone", "submitter_email")
VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
VIETNAMESE += VIETNAMESE.upper() + "  "


@pytest.fixture(autouse=True)
def _no_rate_limit(app):
    """Hundreds of posts from one address: the limits are tested in test_portal.py."""
    from pakn.portal.limits import limiter_of

    limiter = limiter_of(app)
    saved, limiter.enabled = limiter.enabled, False
    yield
    limiter.enabled = saved


# -- what is stored ----------------------------------------------------------------------------
def stored(app) -> dict:
    with app.app_context():
        counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m))
                  for m in (Feedback, Attachment, OutboxMessage, AuditEvent, SubmissionKey)}
        db.session.rollback()
    root = Path(app.config["UPLOAD_FOLDER"])
    counts["files"] = sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return counts


def text(response) -> str:
    return response.get_data(as_text=True)


def refused_in_vietnamese(response, status: int | tuple = (400, 413, 415, 422)) -> str:
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, text(response)[:500])
    if response.is_json:
        error = response.get_json()["error"]
        assert error["message"] and error["code"] != "internal_error"
        return json.dumps(error, ensure_ascii=False)
    html = text(response)
    assert '<html lang="vi"' in html or "lang=\"vi\"" in html
    return html


# -- building requests by hand ---------------------------------------------------------------------
def open_form(client) -> dict:
    page = client.get("/gop-y")
    assert page.status_code == 200
    return form_values(text(page))


def multipart(fields: dict[str, bytes | str], files: list[tuple[bytes, bytes]] = (),
              boundary: str = "pakn-boundary-7d1a") -> tuple[bytes, str]:
    """A multipart/form-data body from raw bytes (the test client would re-encode them)."""
    out = io.BytesIO()
    for name, value in fields.items():
        data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + data + b"\r\n")
    for filename, data in files:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="'.encode()
                  + filename + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def post_raw_form(client, changes: dict | None = None, files=(), values: dict | None = None):
    body, content_type = multipart({**FORM, **(values or open_form(client)), **(changes or {})}, files)
    return client.post("/gop-y", data=body, content_type=content_type)


def staff_client(app, key: str):
    """A client of its own, signed in through the login form as ``key``."""
    from .conftest import sign_in

    staff = app.test_client()
    signed_in = sign_in(staff, f"{key}@pakn.test")
    assert signed_in.status_code in (302, 303)
    return staff


@pytest.fixture
def clerk(app, world):
    """An office clerk's client, signed in once for all the examples of a property."""
    return staff_client(app, "clerk")


def post_json(client, payload) -> object:
    """JSON with \\u escapes, so lone surrogates and NUL travel as a real client would send them."""
    return client.post("/api/v1/feedback", data=json.dumps(payload), content_type="application/json")


def expected_text(value: str) -> str:
    return unicodedata.normalize("NFC", value).replace("\r\n", "\n").strip()


# -- I8: NUL, C0/C1 controls, lone surrogates ----------------------------------------------------------
CONTROL_SAMPLES = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f",
                   "\ufffe", "\uffff"]


@pytest.mark.parametrize("name", ["title", "content", "submitter_name", "submitter_address"])
def test_control_characters_in_a_text_field_are_refused_with_nothing_stored(app, client, world, name):
    before = stored(app)
    values = open_form(client)  # a refused form can be sent again with the same key
    for char in CONTROL_SAMPLES:
        value = FORM[name][:10] + char + FORM[name][10:]
        form = post_raw_form(client, {name: value}, values=values)
        assert CONTROL_MSG in refused_in_vietnamese(form, 422), f"U+{ord(char):04X}"
        api = post_json(client, {**SUBMISSION, name: value})
        error = api.get_json()["error"]
        assert api.status_code == 422 and error["fields"][name] == [CONTROL_MSG], f"U+{ord(char):04X}"
    assert stored(app) == before


@pytest.mark.parametrize("name", ["title", "content", "submitter_name"])
def test_lone_surrogates_are_refused_in_the_form_and_the_api(app, client, world, name):
    before = stored(app)
    # In a form they can only arrive as invalid UTF-8 (CESU-8 bytes of U+D800): read as U+FFFD.
    form = post_raw_form(client, {name: FORM[name].encode() + b"\xed\xa0\x80"})
    assert UNICODE_MSG in refused_in_vietnamese(form, 422)
    # In JSON, as a \ud800 escape.
    api = post_json(client, {**SUBMISSION, name: SUBMISSION[name] + "\ud800"})
    assert api.status_code == 422 and api.get_json()["error"]["fields"][name] == [CONTROL_MSG]
    assert stored(app) == before


@pytest.mark.parametrize("name,value", [("field", "xay_dung\x00"), ("field", "\ud800"), ("subject", "quy\x00dinh"),
                                        ("kind", "\x00"), ("submitter_email", "a\x00@b.vn"),
                                        ("submitter_email", "\udc00@b.vn"), ("submitter_phone", "0912\x00345678")])
def test_codes_email_and_phone_with_control_characters_are_4xx_on_both_backends(app, client, world, name, value):
    """Before the Code field, ``field`` with NUL reached PostgreSQL (500) and with a surrogate
    the UTF-8 encoder of either driver (500)."""
    before = stored(app)
    api = post_json(client, {**SUBMISSION, name: value})
    assert api.status_code == 422, text(api)
    assert api.get_json()["error"]["fields"][name]
    # The form cleans codes (subject, field) and checks the rest: a 422 or, for a code made
    # valid by cleaning, an accepted case; never a 500.
    form = post_raw_form(client, {name: value})
    assert form.status_code in (303, 422)
    if form.status_code == 422:
        assert stored(app) == before


def test_json_field_names_with_surrogates_or_nul_are_named_safely_in_the_422(app, client, world):
    """An unknown field is named in the error: a lone surrogate in its name used to crash the
    error response itself."""
    before = stored(app)
    raw = json.dumps({**SUBMISSION, "\ud800x": 1, "y\x00": 2})
    response = client.post("/api/v1/feedback", data=raw, content_type="application/json")
    fields = response.get_json()["error"]["fields"]
    assert response.status_code == 422
    assert fields["\ufffdx"] and fields["y\ufffd"]
    assert stored(app) == before


@FUZZ
@given(name=st.sampled_from(TEXT_FIELDS), value=st.text(ANY_CHAR, max_size=300))
def test_any_text_in_any_form_field_is_stored_nfc_or_refused_in_vietnamese(app, client, world, name, value):
    before = stored(app)
    response = post_raw_form(client, {name: value})
    assert response.status_code in (303, 422), (response.status_code, value)
    if response.status_code == 422:
        assert "<title>Lỗi:" in text(response)
        assert stored(app) == before
        return
    code = response.headers["Location"].rsplit("/", 1)[-1]
    with app.app_context():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        got = getattr(case, name)
    assert got is None or not BAD.search(got)
    if BAD.search(value):
        # Accepted only where an optional field made of nothing but characters Python counts
        # as white space (U+001C–U+001F, U+0085) is left out as blank: nothing of it is stored.
        assert got is None and not value.strip()
    elif name not in ("submitter_phone", "submitter_email"):
        assert got == (expected_text(value) or None)


@FUZZ
@given(data=st.fixed_dictionaries({}, optional={
    key: st.one_of(st.text(ANY_CHAR, max_size=80), st.integers(), st.floats(allow_nan=False), st.booleans(),
                   st.none(), st.lists(st.text(max_size=5), max_size=2), st.dictionaries(st.text(max_size=3),
                                                                                       st.integers(), max_size=2))
    for key in (*SUBMISSION, "field", "subject", "proposal", "submitter_phone")}),
    keep=st.sets(st.sampled_from(sorted(SUBMISSION))),
    extra=st.dictionaries(st.text(ANY_CHAR, min_size=1, max_size=12), st.integers(), max_size=2))
def test_any_json_submission_is_a_201_or_a_clear_4xx(app, client, world, data, keep, extra):
    payload = {**{k: SUBMISSION[k] for k in keep}, **data, **extra}
    before = stored(app)
    response = post_json(client, payload)
    assert response.status_code in (201, 400, 422), (response.status_code, payload)
    if response.status_code != 201:
        error = response.get_json()["error"]
        assert error["code"] in ("invalid_payload", "malformed_json", "json_not_object") and error["message"]
        assert stored(app) == before


# -- I3: malformed multipart ---------------------------------------------------------------------------
MALFORMED = [
    ("multipart/form-data", b"--x\r\n\r\n"),  # no boundary
    ("multipart/form-data; boundary=", b"----\r\n"),
    ("multipart/form-data; boundary=abc", b"garbage without any boundary"),
    ("multipart/form-data; boundary=abc", b"--abc\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nx"),
    ("multipart/form-data; boundary=abc", b"--abc\r\nno-colon-header\r\n\r\nx\r\n--abc--\r\n"),
    ("multipart/form-data; boundary=abc", b"--abc--\r\n"),
    ("multipart/form-data; boundary=\"a\x00b\"", b"--a\x00b\r\n\r\n--a\x00b--"),
    ("multipart/form-data; boundary=" + "b" * 300, b"--" + b"b" * 300 + b"--\r\n"),
    ("multipart/mixed; boundary=abc", b"--abc--\r\n"),
]


def test_malformed_multipart_is_a_400_page_and_nothing_is_stored(app, client, world):
    open_form(client)
    before = stored(app)
    for content_type, body in MALFORMED:
        response = client.post("/gop-y", data=body, content_type=content_type)
        page = refused_in_vietnamese(response, 400)
        assert "Yêu cầu không hợp lệ" in page or "Biểu mẫu không hợp lệ" in page, content_type
        api = client.post("/api/v1/feedback", data=body, content_type=content_type)
        assert api.status_code == 415 and api.get_json()["error"]["code"] == "unsupported_media_type"
    assert stored(app) == before


@FUZZ
@given(cut=st.integers(min_value=0, max_value=4000), junk=st.binary(max_size=40))
def test_a_truncated_or_corrupted_submission_is_never_a_500(app, client, world, cut, junk):
    values = open_form(client)
    body, content_type = multipart({**FORM, **values}, [(b"don.pdf", simple_pdf())])
    assume(cut < len(body) - 4)  # the closing boundary itself cut off: the form may be complete
    before = stored(app)
    response = client.post("/gop-y", data=body[:cut] + junk, content_type=content_type)
    assert response.status_code in (400, 422), response.status_code
    assert stored(app) == before


# -- I1, I2: sizes and part counts ---------------------------------------------------------------------
def test_a_10_mb_text_field_is_a_413_in_vietnamese(app, client, world):
    before = stored(app)
    form = post_raw_form(client, {"content": "Nội dung " * (10 * 1024 * 1024 // 10)})
    assert TOO_LARGE_MSG in refused_in_vietnamese(form, 413)
    api = post_json(client, {**SUBMISSION, "content": "x" * (10 * 1024 * 1024)})
    assert api.status_code == 413 and api.get_json()["error"]["code"] == "payload_too_large"
    assert stored(app) == before


def test_one_text_field_over_500_kb_is_a_413(app, client, world):
    before = stored(app)
    response = post_raw_form(client, {"title": "t" * 500_001})
    assert TOO_LARGE_MSG in refused_in_vietnamese(response, 413)
    assert stored(app) == before


def test_1001_form_parts_are_a_413(app, client, world):
    before = stored(app)
    extra = {f"x{i}": "1" for i in range(1001 - len(FORM) - 2)}
    response = post_raw_form(client, extra)
    assert TOO_LARGE_MSG in refused_in_vietnamese(response, 413)
    assert stored(app) == before
    # 1000 parts are still read (and the unknown ones ignored).
    response = post_raw_form(client, {f"x{i}": "1" for i in range(1000 - len(FORM) - 2)})
    assert response.status_code == 303


def test_a_body_one_byte_over_the_limit_is_a_413_and_leaves_no_file(app, client, world):
    values = open_form(client)
    body, content_type = multipart({**FORM, **values}, [(b"don.pdf", simple_pdf())])
    app.config["MAX_CONTENT_LENGTH"], saved = len(body) - 1, app.config["MAX_CONTENT_LENGTH"]
    try:
        before = stored(app)
        response = client.post("/gop-y", data=body, content_type=content_type)
        assert TOO_LARGE_MSG in refused_in_vietnamese(response, 413)
        assert stored(app) == before
    finally:
        app.config["MAX_CONTENT_LENGTH"] = saved


# -- I7: NFD and NFC Vietnamese ------------------------------------------------------------------------
vietnamese_words = st.text(st.sampled_from(VIETNAMESE), min_size=6, max_size=40).map(str.strip).filter(
    lambda s: len(s) >= 6 and " " not in s[:1])


@FEW
@given(title=vietnamese_words)
def test_nfd_input_is_stored_nfc_and_found_by_either_form(app, client, world, clerk, title):
    nfc, nfd = unicodedata.normalize("NFC", title), unicodedata.normalize("NFD", title)
    response = post_raw_form(client, {"title": nfd, "content": nfd + " — nội dung phản ánh đủ dài."})
    assert response.status_code == 303
    code = response.headers["Location"].rsplit("/", 1)[-1]
    api = post_json(client, {**SUBMISSION, "title": nfd, "submitter_name": unicodedata.normalize("NFD", "Nguyễn Thị Ánh")})
    assert api.status_code == 201
    with app.app_context():
        rows = db.session.execute(select(Feedback.title, Feedback.submitter_name).where(
            Feedback.code.in_([code, api.get_json()["code"]]))).all()
        db.session.rollback()
    assert [r.title for r in rows] == [nfc, nfc]
    assert "Nguyễn Thị Ánh" in [r.submitter_name for r in rows]
    for query in (nfc, nfd):
        inbox = text(clerk.get(f"/office/?state=received&q={quote(query)}"))
        assert code in inbox


def test_nfd_search_on_the_public_answers_finds_the_nfc_answer(app, client, world, make_case):
    from .portal_support import publish

    code, _ = make_case("notified")
    with app.app_context():
        publish(app, code, "Thủ tục cấp giấy phép xây dựng nhà ở", "Hỏi về thủ tục cấp phép xây dựng.",
                "Hồ sơ gồm đơn đề nghị cấp giấy phép xây dựng và bản vẽ thiết kế.",
                lambda: world.user("clerk"))
    for query in ("giấy phép xây dựng", unicodedata.normalize("NFD", "giấy phép xây dựng"), "giay phep xay dung"):
        assert code in text(client.get(f"/tra-loi?q={quote(query)}")), query


# -- I11: header injection ---------------------------------------------------------------------------
INJECTIONS = ["\r\nBcc: ke-gian@example.org", "\nBcc: ke-gian@example.org", "\rBcc: ke-gian@example.org",
              "\u2028Bcc: ke-gian@example.org", "\x85Bcc: ke-gian@example.org"]


@pytest.mark.parametrize("name", ["submitter_name", "submitter_email", "title"])
def test_header_injection_in_names_and_addresses_is_refused(app, client, world, name):
    values = open_form(client)
    for injection in INJECTIONS:
        before = stored(app)
        form = post_raw_form(client, {name: FORM[name] + injection}, values=values)
        api = post_json(client, {**SUBMISSION, name: SUBMISSION[name] + injection})
        if injection.startswith("\u2028") and name != "submitter_email":
            # U+2028 is a line separator to Unicode but not to SMTP; it never reaches a header
            # (the subject is the title's words on one line, addresses never carry names), so
            # text fields keep it as typed.
            assert form.status_code == 303 and api.status_code == 201
            values = open_form(client)
            continue
        refused_in_vietnamese(form, 422)
        assert api.status_code == 422 and api.get_json()["error"]["fields"][name], repr(injection)
        assert stored(app) == before


def test_names_that_look_like_headers_never_become_headers_of_the_mails(app, client, world, monkeypatch):
    from .notify_support import SmtpSink

    sink = SmtpSink().start()
    try:
        for key, value in {"NOTIFY_AFTER_COMMIT": True, "REDIS_URL": None, "SMTP_HOST": "127.0.0.1",
                           "SMTP_PORT": sink.port, "SMTP_SECURITY": "none", "SMS_GATEWAY_URL": ""}.items():
            monkeypatch.setitem(app.config, key, value)
        payload = {**SUBMISSION, "submitter_name": "Bcc: ke-gian@example.org",
                   "title": "=?utf-8?q?=0D=0ABcc:_ke-gian@example.org?= Subject: tiêu đề giả"}
        assert post_json(client, payload).status_code == 201
    finally:
        sink.stop()
    (msg,) = sink.messages
    assert sink.envelopes == [(sink.envelopes[0][0], [SUBMISSION["submitter_email"]])]
    assert msg["Bcc"] is None and len(msg.get_all("Subject")) == 1 and len(msg.get_all("To")) == 1
    assert "ke-gian" not in str(msg["To"]) and "\n" not in str(msg["Subject"])


def test_the_mail_library_refuses_a_header_with_a_line_break_as_a_last_guard(app):
    from notifications.messages import Rendered, email_message

    with app.test_request_context():
        rendered = Rendered(subject="Biên nhận", text="x", html="<p>x</p>")
        with pytest.raises(ValueError):
            email_message(rendered, "a@b.vn\r\nBcc: ke-gian@example.org", "<1@pakn.test>").as_bytes()


# -- I12: fields the submitter must not set ----------------------------------------------------------------
EXTRA = {"status": "published", "state": "published", "agency_id": "2", "agency": "SXD", "is_public": "1",
         "code": "PAKN-2026-999999", "version": "7", "received_at": "2020-01-01T00:00:00+07:00",
         "channel": "vpcp"}


def test_extra_fields_in_the_form_are_ignored(app, client, world):
    response = post_raw_form(client, EXTRA)
    assert response.status_code == 303
    code = response.headers["Location"].rsplit("/", 1)[-1]
    assert code != EXTRA["code"]
    with app.app_context():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        assert (case.state, case.agency_id, case.version, case.channel) == ("received", None, 1, "web")
        assert case.received_at.year != 2020 and case.published_at is None


def test_extra_fields_in_the_api_are_refused_by_name_and_nothing_is_stored(app, client, world):
    before = stored(app)
    response = post_json(client, {**SUBMISSION, **EXTRA, "agency_id": 2, "is_public": True})
    fields = response.get_json()["error"]["fields"]
    assert response.status_code == 422
    assert set(EXTRA) <= set(fields) and fields["status"] == ["Trường không được chấp nhận."]
    assert stored(app) == before


# -- staff search inputs (same cleaning as the public ones) -------------------------------------------------
@pytest.mark.parametrize("url", ["/office/?q=a%00b", "/office/?agency=%00&field=%00", "/office/?after=%00",
                                 "/agency/?q=%00", "/agency/?after=%00"])
def test_nul_in_staff_search_inputs_is_never_a_500(app, client, world, login, make_case, url):
    make_case("forwarded")
    login("clerk" if url.startswith("/office") else "officer_a")
    assert client.get(url).status_code in (200, 400, 422)


@pytest.mark.parametrize("query", ["q=a%00b", "agency=%00", "state=%00", "q=%1B%5B31m"])
def test_nul_in_api_list_parameters_is_a_422(client, world, api_token, query):
    response = client.get(f"/api/v1/cases?{query}", headers=api_token("clerk"))
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_query"


# -- I6 and item 4: file names, and how files are served ------------------------------------------------------
NAMES = st.one_of(
    st.sampled_from(["../../etc/passwd.pdf", "..\\..\\x.pdf", "a\x00.pdf", "CON", "con.pdf", "\u202egnp.pdf",
                     "x" * 300 + ".pdf", unicodedata.normalize("NFD", "đơn kiến nghị.pdf"), ".htaccess",
                     "a\r\nContent-Type: text/html.pdf", "%2e%2e%2fx.pdf", "/abs/path.pdf", "  .pdf"]),
    st.text(ANY_CHAR, min_size=1, max_size=60))


@FEW
@given(name=NAMES)
def test_any_file_name_is_stored_under_a_random_name_and_served_as_an_attachment(app, client, world, clerk, name):
    raw_name = name.encode("utf-8", "surrogatepass").replace(b'"', b"%22").replace(b"\r", b"").replace(b"\n", b"")
    # A name of line breaks only is sent as filename="": what a browser sends for an empty file
    # input, i.e. no file (the form is accepted without one). Not a name to store.
    assume(raw_name)
    response = post_raw_form(client, files=[(raw_name, simple_pdf())])
    assert response.status_code == 303, text(response)[:300]
    code = response.headers["Location"].rsplit("/", 1)[-1]
    with app.app_context():
        row = db.session.scalar(select(Attachment).join(Feedback).where(Feedback.code == code))
        attachment_id, stored_name, shown = row.id, row.stored_name, row.original_name
        db.session.rollback()
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", stored_name)
    assert shown.endswith(".pdf") and len(shown) <= 120 and unicodedata.is_normalized("NFC", shown)
    assert not re.search(r"[/\\\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", shown) and not shown.startswith(".")
    download = clerk.get(f"/office/cases/{code}/attachments/{attachment_id}")
    assert download.status_code == 200 and download.data == simple_pdf()
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="') and f"filename*=UTF-8''{quote(shown, safe='')}" in disposition
    disposition.encode("latin-1")  # a header the server can send
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.headers["Content-Type"] == "application/pdf"


def test_files_are_served_only_through_the_authorised_view(app, client, world, login):
    response = post_raw_form(client, files=[(b"anh.jpg", jpeg_with_gps())])
    code = response.headers["Location"].rsplit("/", 1)[-1]
    with app.app_context():
        row = db.session.scalar(select(Attachment))
        path = f"/office/cases/{code}/attachments/{row.id}"
        stored_name = row.stored_name
    assert client.get(path).status_code == 404  # anonymous
    for guess in (f"/static/{stored_name}", f"/uploads/{stored_name}", f"/instance/uploads/{stored_name[:2]}/{stored_name}",
                  f"/static/../instance/uploads/{stored_name[:2]}/{stored_name}"):
        assert client.get(guess).status_code == 404, guess
    login("officer_b")  # an agency the case was never forwarded to
    assert client.get(path).status_code == 404
    assert client.get(f"/agency/cases/{code}/attachments/{row.id}").status_code == 404
