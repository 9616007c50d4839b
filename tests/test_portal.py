"""The citizen portal over HTTP: submission and every bad input, anti-abuse, receipt, tracking,
published answers, open data, statistics, and no personal data on any public response."""
from __future__ import annotations

import csv
import io
import json
import re
import threading
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from pakn import create_app
from pakn.extensions import db
from pakn.models import Attachment, Feedback, OutboxMessage, SubmissionKey
from pakn.storage import attachment_path

from .conftest import csrf_token
from .portal_support import (  # noqa: F401  (_empty_upload_folder: autouse fixture)
    CANARY, CANARY_MARKERS, FORM, _empty_upload_folder, form_values, publish,
)
from .test_storage import jpeg_with_gps, simple_pdf
from .test_web import compiled_catalogs, english  # noqa: F401  (fixtures)


def open_form(client, path="/gop-y") -> dict:
    page = client.get(path)
    assert page.status_code == 200
    return form_values(page.get_data(as_text=True))


def post_form(client, values: dict | None = None, **changes):
    data = {**FORM, **(values or open_form(client)), **changes}
    return client.post("/gop-y", data=data, content_type="multipart/form-data")


def count_cases(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Feedback))


def text(response) -> str:
    return response.get_data(as_text=True)


# -- the form -----------------------------------------------------------------------------------
def test_form_has_labels_for_every_input_and_a_honeypot_hidden_from_people(client, world):
    html = text(client.get("/gop-y"))
    assert "<h1>Gửi phản ánh, kiến nghị</h1>" in html
    for name in ("title", "content", "proposal", "submitter_name", "submitter_organisation", "submitter_address",
                 "submitter_phone", "submitter_email", "attachments", "field", "declaration", "website"):
        assert f'<label for="{name}"' in html, name
    assert '<option value="xay_dung">Xây dựng</option>' in html
    assert re.search(r'<div class="hp" aria-hidden="true">', html)
    assert re.search(r'id="website"[^>]*tabindex="-1"|tabindex="-1"[^>]*id="website"', html)
    assert 'enctype="multipart/form-data"' in html


def test_valid_submission_creates_one_case_with_its_receipt_outbox_row(app, client, world):
    response = post_form(client, field="xay_dung")
    assert response.status_code == 303
    receipt_url = response.headers["Location"]
    assert re.fullmatch(r"/gop-y/bien-nhan/PAKN-\d{4}-\d{6}", receipt_url)
    with app.app_context():
        case = db.session.scalar(select(Feedback))
        assert case.title == FORM["title"] and case.channel == "web" and case.state == "received"
        assert case.submitter_phone == "0912345678" and case.field.code == "xay_dung"
        assert case.subject == "quy_dinh"
        kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.feedback_id == case.id)).all()
        assert kinds == ["submitter.receipt"]
        code = case.code
    page = client.get(receipt_url)
    html = text(page)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Đã gửi thành công" in html and code in html
    assert "Hạn phân loại, chuyển xử lý" in html and "Hạn trả lời" in html
    assert re.search(r"\d{2}/\d{2}/\d{4}", html)
    link = re.search(r'href="(http://localhost/tra-cuu/PAKN-[^"?]+\?token=[^"]+)"', html)
    assert link, "no tracking link with its token"
    # The receipt is this browser's only: another client gets 404.
    assert app.test_client().get(receipt_url).status_code == 404


def test_english_form_and_receipt(client, world, english):
    html = text(client.get("/gop-y?lang=en"))
    assert "Submit feedback or a recommendation" in html
    response = post_form(client, form_values(html))
    assert response.status_code == 303
    assert "Sent successfully" in text(client.get(response.headers["Location"]))
    refused = text(post_form(client, form_values(text(client.get("/gop-y"))), declaration=""))
    assert "Declaration: Tick the declaration to send." in refused


# -- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("changes, field, message", [
    ({"content": "   \n\t  "}, "content", "Không được để trống."),
    ({"content": ""}, "content", "Không được để trống."),
    ({"content": "quá ngắn"}, "content", "Tối thiểu 20 ký tự."),
    ({"title": "x" * 251}, "title", "Tối đa 250 ký tự."),
    ({"submitter_email": "not-an-email"}, "submitter_email", "Địa chỉ thư điện tử không hợp lệ."),
    ({"submitter_email": "a@b.vn\r\nBcc: x@y.z"}, "submitter_email", "Địa chỉ thư điện tử không hợp lệ."),
    ({"submitter_phone": "12345"}, "submitter_phone", "Số điện thoại không hợp lệ"),
    ({"submitter_phone": "", "submitter_email": ""}, "submitter_phone",
     "Cần ít nhất một trong hai: số điện thoại hoặc thư điện tử."),
    ({"submitter_name": ""}, "submitter_name", "Không được để trống."),
    ({"submitter_address": " "}, "submitter_address", "Không được để trống."),
    ({"kind": "kien_nghi", "proposal": ""}, "proposal", "Kiến nghị cần nêu phương án xử lý"),
    ({"title": "Tiêu đề\x07 có ký tự lạ"}, "title", "Có ký tự không hợp lệ"),
    ({"content": "Nội dung có ký tự NUL \x00 ở giữa, đủ dài để hợp lệ."}, "content", "Có ký tự không hợp lệ"),
    ({"declaration": ""}, "declaration", "Cần đánh dấu ô cam đoan để gửi."),
    ({"field": "khong_co"}, "field", "Lĩnh vực không tồn tại."),
])
def test_bad_input_is_refused_next_to_its_field_with_a_summary_and_everything_kept(
        app, client, world, changes, field, message):
    response = post_form(client, **changes)
    html = text(response)
    assert response.status_code == 422, html[:500]
    assert count_cases(app) == 0
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    assert message in summary
    assert ".:" not in summary  # a field is named by a label, not by a sentence ending in a stop
    if field == "declaration":
        assert "Lời cam đoan: Cần đánh dấu ô cam đoan để gửi." in summary
    anchor = {"declaration": "declaration"}.get(field, field)
    assert f'href="#{anchor}"' in summary
    group = re.search(rf'<(?:div|fieldset) class="field[^"]*has-error[^"]*"[^>]*>.*?</(?:div|fieldset)>|'
                      rf'<div class="field checkbox has-error">.*?</div>', html, re.S)
    assert group and message in html.split(f'id="{field}-error"')[1][:400], f"no message beside {field}"
    # What was typed is kept (the long title too, as typed).
    kept = {**FORM, **changes}
    for name in ("submitter_name", "submitter_address"):
        if kept[name].strip():
            assert f'value="{kept[name]}"' in html
    assert FORM["content"][:30] in html or field == "content"
    assert "<title>Lỗi:" in html


def test_text_in_a_legacy_encoding_is_refused(app, client, world):
    values = open_form(client)
    body = {**FORM, **values}
    # "Nội dung" typed in TCVN3 (ABC): bytes that are not UTF-8.
    raw = b"N\xa4i dung ph\xb9n \xb8nh b\xa5ng b\xa0ng m\xb5 c\xfb, kh\xabng ph\xb6i Unicode"
    boundary = "XyZpakn"
    parts = []
    for name, value in body.items():
        data = raw if name == "content" else value.encode()
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + data + b"\r\n")
    payload = b"".join(parts) + f"--{boundary}--\r\n".encode()
    response = client.post("/gop-y", data=payload, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 422
    assert "bảng mã Unicode (TCVN 6909:2001)" in text(response)
    assert count_cases(app) == 0


def uploaded_files(app) -> list[str]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_attachments_are_stored_privately_with_image_metadata_stripped(app, client, world):
    before = uploaded_files(app)
    response = post_form(client, attachments=[(io.BytesIO(jpeg_with_gps()), "ảnh hiện trường.jpg"),
                                              (io.BytesIO(simple_pdf()), "don.pdf")])
    assert response.status_code == 303
    with app.app_context():
        rows = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
        assert [(r.original_name, r.content_type, r.is_public) for r in rows] == [
            ("ảnh hiện trường.jpg", "image/jpeg", False), ("don.pdf", "application/pdf", False)]
        stored = Image.open(attachment_path(rows[0]))
        assert not stored.getexif().get_ifd(0x8825) and b"CanonMarker" not in attachment_path(rows[0]).read_bytes()
    assert len(uploaded_files(app)) == len(before) + 2


@pytest.mark.parametrize("files, message", [
    ([(b"MZ\x90\x00\x03" + b"\x00" * 200, "hoso.pdf")], "không đúng định dạng cho phép"),
    ([(b"<html><script>alert(1)</script></html>", "anh.jpg")], "không đúng định dạng cho phép"),
    ([(b"", "rong.pdf")], "không có nội dung"),
    ([(b"%PDF-1.4\n" + b"0" * 100, "cut.pdf")], "bị hỏng hoặc không đọc được"),
    ([(b"%PDF", f"t{i}.pdf") for i in range(6)], "Chỉ được gửi tối đa 5 tệp."),
])
def test_bad_files_are_refused_with_nothing_created_and_no_stray_file(app, client, world, files, message):
    before = uploaded_files(app)
    if message.startswith("Chỉ"):
        files = [(simple_pdf(), name) for _, name in files]
    response = post_form(client, attachments=[(io.BytesIO(data), name) for data, name in files])
    html = text(response)
    assert response.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    assert message in summary and 'href="#attachments"' in summary
    assert "vui lòng chọn lại tệp đính kèm" in html
    assert 'id="attachments-error"' in html
    assert f'value="{FORM["submitter_name"]}"' in html  # everything typed is kept
    assert count_cases(app) == 0
    assert uploaded_files(app) == before


def test_a_file_over_the_per_file_limit_is_refused(app, client, world):
    saved, app.config["UPLOAD_MAX_FILE_BYTES"] = app.config["UPLOAD_MAX_FILE_BYTES"], 1000
    try:
        response = post_form(client, attachments=[(io.BytesIO(simple_pdf() + b"%" * 2000), "lon.pdf")])
        assert response.status_code == 422 and "vượt quá dung lượng cho phép" in text(response)
        assert count_cases(app) == 0
    finally:
        app.config["UPLOAD_MAX_FILE_BYTES"] = saved


def test_a_failure_after_the_files_are_written_leaves_no_stray_file(app, client, world, monkeypatch):
    from pakn.portal import attachments

    store = attachments.store_submission_files

    def broken(*args, **kwargs):
        store(*args, **kwargs)  # the files are on disk, then the transaction fails
        raise RuntimeError("database went away")

    before = uploaded_files(app)
    monkeypatch.setattr(attachments, "store_submission_files", broken)
    response = post_form(client, attachments=[(io.BytesIO(simple_pdf()), "don.pdf")])
    assert response.status_code == 500
    assert count_cases(app) == 0 and uploaded_files(app) == before


def test_body_over_the_size_limit_gets_413(app, client, world):
    values = open_form(client)
    big = io.BytesIO(b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    response = client.post("/gop-y", data={**FORM, **values, "attachments": (big, "big.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert count_cases(app) == 0


def test_unknown_kind_is_refused(app, client, world):
    response = post_form(client, kind="khieu_nai")
    assert response.status_code == 422 and count_cases(app) == 0


# -- anti-abuse ------------------------------------------------------------------------------------
def test_honeypot_filled_creates_nothing(app, client, world):
    response = post_form(client, website="http://spam.example")
    assert response.status_code == 400
    assert "Không gửi được biểu mẫu" in text(response)
    assert count_cases(app) == 0


def test_missing_or_bad_csrf_token_creates_nothing_and_keeps_what_was_typed(app, client, world):
    values = open_form(client)
    response = post_form(client, {**values, "csrf_token": "forged"})
    html = text(response)
    assert response.status_code == 400
    assert "Phiên làm việc đã hết hạn" in html
    assert f'value="{FORM["submitter_name"]}"' in html and FORM["content"][:40] in html
    assert count_cases(app) == 0
    # The re-rendered form carries a fresh token: sending it again works.
    assert post_form(client, form_values(html)).status_code == 303


def test_missing_form_key_is_refused(app, client, world):
    values = open_form(client)
    response = post_form(client, {**values, "form_key": ""})
    assert response.status_code == 400 and count_cases(app) == 0


def test_the_same_form_sent_twice_makes_one_case_and_the_same_receipt(app, client, world):
    values = open_form(client)
    first = post_form(client, values)
    second = post_form(client, values)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count_cases(app) == 1
    # Even from a browser that lost the first response's cookie (double click): same receipt.
    other = app.test_client()
    with other.session_transaction() as s:
        with client.session_transaction() as mine:
            s.update(mine)
        s.pop("receipt", None)
    third = other.post("/gop-y", data={**FORM, **values}, content_type="multipart/form-data")
    assert third.status_code == 303 and third.headers["Location"] == first.headers["Location"]
    html = text(other.get(third.headers["Location"]))
    assert "Đã gửi thành công" in html and "?token=" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SubmissionKey)) == 1


def test_the_same_form_key_with_other_content_is_a_conflict(app, client, world):
    values = open_form(client)
    assert post_form(client, values).status_code == 303
    response = post_form(client, values, title="Một nội dung hoàn toàn khác trước")
    assert response.status_code == 409
    assert "Biểu mẫu này đã được gửi" in text(response)
    assert count_cases(app) == 1


def test_parallel_submissions_of_one_form_make_one_case(app, world):
    if app.config["BACKEND"] == "sqlite":
        pytest.skip("SQLite serialises writers; the parallel race is exercised on PostgreSQL")
    client = app.test_client()
    values = open_form(client)
    with client.session_transaction() as s:
        cookie_session = dict(s)
    results = []

    def send():
        c = app.test_client()
        with c.session_transaction() as s:
            s.update(cookie_session)
        results.append(c.post("/gop-y", data={**FORM, **values}, content_type="multipart/form-data"))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [303] * 4
    assert len({r.headers["Location"] for r in results}) == 1
    assert count_cases(app) == 1


def test_rate_limit_per_address_answers_429_and_other_addresses_go_on(app, world):
    app.config["PORTAL_SUBMIT_LIMIT"] = "2 per hour"
    try:
        client = app.test_client()
        for _ in range(2):
            assert post_form(client).status_code == 303
        refused = post_form(client)
        assert refused.status_code == 429
        assert "Quá nhiều yêu cầu" in text(refused)
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "203.0.113.7"
        page = other.get("/gop-y")
        response = other.post("/gop-y", data={**FORM, **form_values(text(page))}, content_type="multipart/form-data")
        assert response.status_code == 303
        assert count_cases(app) == 3
    finally:
        app.config["PORTAL_SUBMIT_LIMIT"] = create_app.__globals__["Config"]().PORTAL_SUBMIT_LIMIT


def test_rotating_x_forwarded_for_does_not_escape_the_limit(app, world):
    app.config["PORTAL_SUBMIT_LIMIT"] = "1 per hour"
    try:
        client = app.test_client()
        assert post_form(client).status_code == 303
        values = open_form(client)
        response = client.post("/gop-y", data={**FORM, **values}, content_type="multipart/form-data",
                               headers={"X-Forwarded-For": "198.51.100.23"})
        assert response.status_code == 429
        assert count_cases(app) == 1
    finally:
        app.config["PORTAL_SUBMIT_LIMIT"] = create_app.__globals__["Config"]().PORTAL_SUBMIT_LIMIT


def test_tracking_lookups_are_rate_limited(app, world, make_case):
    code, _ = make_case()
    app.config["PORTAL_LOOKUP_LIMIT"] = "3 per 10 minutes"
    try:
        client = app.test_client()
        token = csrf_token(text(client.get("/tra-cuu")))
        statuses = [client.post("/tra-cuu", data={"code": code, "contact": f"guess{i}@x.vn", "csrf_token": token}
                                ).status_code for i in range(4)]
        assert statuses == [422, 422, 422, 429]
        # Reading pages is never limited.
        assert client.get("/tra-cuu").status_code == 200
    finally:
        app.config["PORTAL_LOOKUP_LIMIT"] = create_app.__globals__["Config"]().PORTAL_LOOKUP_LIMIT


def test_redis_down_falls_back_to_memory_limits_and_never_500(tmp_path):
    from flask_migrate import upgrade
    import os

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'r.sqlite3'}",
                      "SECRET_KEY": "redis-down", "REDIS_URL": "redis://127.0.0.1:1/0",
                      "PORTAL_SUBMIT_LIMIT": "2 per hour", "UPLOAD_FOLDER": str(tmp_path / "up")})
    with app.app_context():
        upgrade(directory=os.path.join(app.root_path, "..", "migrations"))
        from pakn.models import Agency, AgencyLevel
        from pakn.operations import transaction
        with transaction():
            db.session.add(Agency(code="VP", name="Văn phòng UBND tỉnh", is_office=True,
                                  level=AgencyLevel(code="tinh", name="Cấp tỉnh")))
    client = app.test_client()
    statuses = [post_form(client).status_code for _ in range(3)]
    assert statuses == [303, 303, 429]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Feedback)) == 2
        db.engine.dispose()


# -- similar answers ------------------------------------------------------------------------------
def test_check_similar_lists_published_answers_without_creating_anything(app, client, world, make_case):
    code, _ = make_case("notified")
    publish(app, code, "Cấp giấy chứng nhận quyền sử dụng đất lần đầu",
            "Hỏi về thời hạn cấp giấy chứng nhận quyền sử dụng đất.",
            "Thời hạn cấp giấy chứng nhận quyền sử dụng đất lần đầu là không quá 20 ngày làm việc.",
            lambda: world_user(world, "clerk"))
    values = open_form(client)
    response = client.post("/gop-y", data={**FORM, **values, "action": "similar",
                                           "title": "cap giay chung nhan quyen su dung dat cham"},
                           content_type="multipart/form-data")
    html = text(response)
    assert response.status_code == 200
    assert "Câu trả lời đã công khai có nội dung tương tự" in html
    assert f'href="/tra-loi/{code}"' in html
    assert 'value="cap giay chung nhan quyen su dung dat cham"' in html  # kept
    assert count_cases(app) == 1  # only the published one
    unrelated = client.post("/gop-y", data={**FORM, **values, "action": "similar", "title": "Đăng ký kết hôn",
                                            "content": "Thủ tục đăng ký kết hôn có yếu tố nước ngoài rườm rà."},
                            content_type="multipart/form-data")
    assert "Chưa có câu trả lời nào tương tự" in text(unrelated)


def world_user(world, key):
    return world.user(key)


# -- tracking -----------------------------------------------------------------------------------------
def test_track_by_code_and_email_or_phone(app, client, world, make_case):
    code, _ = make_case("in_progress")
    for contact in ("AN.NGUYEN@example.com", "0912 345 678", "+84912345678"):
        c = app.test_client()
        page = c.get("/tra-cuu")
        response = c.post("/tra-cuu", data={"code": code.lower(), "contact": contact,
                                            "csrf_token": csrf_token(text(page))})
        assert response.status_code == 303, contact
        status = c.get(response.headers["Location"])
        assert status.status_code == 200 and status.headers["Cache-Control"] == "no-store"
        html = text(status)
        assert "Đang xử lý" in html and "Sở Xây dựng" in html


def test_track_with_wrong_contact_says_nothing_about_which_part_was_wrong(app, client, world, make_case):
    code, _ = make_case()
    page = client.get("/tra-cuu")
    for data in ({"code": code, "contact": "someone@else.vn"}, {"code": "PAKN-2000-000001", "contact": "0912345678"}):
        response = client.post("/tra-cuu", data={**data, "csrf_token": csrf_token(text(page))})
        assert response.status_code == 422
        assert "Không tìm thấy PAKN có mã và thông tin liên hệ này" in text(response)
    empty = client.post("/tra-cuu", data={"code": "", "contact": "", "csrf_token": csrf_token(text(page))})
    assert 'href="#code"' in text(empty) and 'href="#contact"' in text(empty)
    # Without a lookup, the status page sends to the lookup form.
    assert client.get(f"/tra-cuu/{code}").headers["Location"].startswith("/tra-cuu?code=")


def test_token_link_opens_the_status_page_and_leaves_no_token_in_the_address(app, world, make_case):
    code, token = make_case("forwarded")
    client = app.test_client()
    response = client.get(f"/tra-cuu/{code}", query_string={"token": token})
    assert response.status_code == 303 and response.headers["Location"] == f"/tra-cuu/{code}"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Đã chuyển xử lý" in text(client.get(f"/tra-cuu/{code}"))
    assert app.test_client().get(f"/tra-cuu/{code}", query_string={"token": "x" * 43}).status_code == 404
    assert app.test_client().get(f"/tra-cuu/{code}", query_string={"token": ""}).status_code == 404


def test_timeline_shows_public_events_but_no_staff_names_or_internal_notes(app, world, make_case):
    code, token = make_case("notified")
    client = app.test_client()
    client.get(f"/tra-cuu/{code}", query_string={"token": token})
    html = text(client.get(f"/tra-cuu/{code}"))
    for label in ("Đã tiếp nhận phản ánh, kiến nghị", "Đã chuyển xử lý đến cơ quan có thẩm quyền",
                  "Cơ quan đã nhận xử lý", "Cơ quan đã có văn bản trả lời", "Đã thông báo kết quả trả lời"):
        assert label in html, label
    assert "Kết quả trả lời" in html and "125/SXD-QLXD" in html  # the delivered answer
    for key in world.users:  # staff names in the test world are "Cán bộ <key>"
        assert f"Cán bộ {key}" not in html
    assert "Đồng ý ban hành." not in html  # the lead's approval comment is internal
    assert "dự thảo" not in html.lower()
    for marker in ("Nguyễn Văn An", "0912345678", "an.nguyen@example.com", "Số 12, đường 30/4"):
        assert marker not in html


def test_a_rejected_case_shows_the_reason_and_where_to_go(app, world, make_case):
    code, token = make_case("rejected")
    client = app.test_client()
    client.get(f"/tra-cuu/{code}", query_string={"token": token})
    html = text(client.get(f"/tra-cuu/{code}"))
    assert "Không tiếp nhận" in html
    from workflows.glossary import REJECT_GUIDANCE
    assert REJECT_GUIDANCE["complaint"][:40] in html
    assert "Hạn trả lời" not in html  # no clock runs for a rejected case


def test_the_status_page_in_english(app, world, make_case, english):
    code, token = make_case("forwarded")
    client = app.test_client()
    client.get("/?lang=en")
    client.get(f"/tra-cuu/{code}", query_string={"token": token})
    html = text(client.get(f"/tra-cuu/{code}"))
    assert "Forwarded to the competent agency" in html and "History" in html


# -- published answers ---------------------------------------------------------------------------------
@pytest.fixture
def published(app, world, make_case):
    """Three published cases: two on construction (xây dựng), one on land (đất đai)."""
    codes = []
    texts = [("Cấp phép xây dựng nhà ở riêng lẻ", "Thời hạn cấp phép xây dựng.", "Sở Xây dựng trả lời: tối đa 15 ngày."),
             ("Quy hoạch xây dựng khu dân cư", "Điều chỉnh quy hoạch xây dựng.", "Sở Xây dựng trả lời về quy hoạch."),
             ("Gia hạn sử dụng đất nông nghiệp", "Thủ tục gia hạn sử dụng đất.", "Không cần làm thủ tục gia hạn.")]
    for i, (title, summary, answer) in enumerate(texts):
        code, _ = make_case("notified", agency="SXD" if i < 2 else "STNMT", **CANARY)
        publish(app, code, title, summary, answer, lambda: world.user("clerk"))
        codes.append(code)
    return codes


def test_search_without_diacritics_finds_answers_with_them(client, published):
    html = text(client.get("/tra-loi", query_string={"q": "xay dung"}))
    assert "Cấp phép xây dựng nhà ở riêng lẻ" in html and "Quy hoạch xây dựng khu dân cư" in html
    assert "Gia hạn sử dụng đất nông nghiệp" not in html
    assert "2 kết quả" in html
    html = text(client.get("/tra-loi", query_string={"q": "ĐẤT NÔNG"}))
    assert "Gia hạn sử dụng đất nông nghiệp" in html and "1 kết quả" in html
    assert "0 kết quả" in text(client.get("/tra-loi", query_string={"q": "%"}))


def test_search_never_looks_at_private_fields(client, published):
    for q in ("Canarynamexq", "canarymailxq", "Canaryaddrxq", "0987650321", "bo phan mot cua"):
        assert "0 kết quả" in text(client.get("/tra-loi", query_string={"q": q})), q


def test_filters_and_paging(app, client, published):
    html = text(client.get("/tra-loi", query_string={"agency": "STNMT"}))
    assert "Gia hạn sử dụng đất nông nghiệp" in html and "1 kết quả" in html
    assert "3 kết quả" in text(client.get("/tra-loi", query_string={"field": "xay_dung", "kind": "phan_anh"}))
    assert "0 kết quả" in text(client.get("/tra-loi", query_string={"kind": "kien_nghi"}))
    assert "0 kết quả" in text(client.get("/tra-loi", query_string={"year": "2001"}))
    app.config["PORTAL_PAGE_SIZE"] = 2
    try:
        first = text(client.get("/tra-loi"))
        assert "Trang 1 / 2" in first and 'rel="next"' in first
        second = text(client.get("/tra-loi", query_string={"page": 2}))
        assert "Trang 2 / 2" in second and "Cấp phép xây dựng nhà ở riêng lẻ" in second
        assert client.get("/tra-loi", query_string={"page": "abc"}).status_code == 200
    finally:
        app.config["PORTAL_PAGE_SIZE"] = 20


def test_answer_detail_shows_question_answer_and_dates_only(client, published):
    response = client.get(f"/tra-loi/{published[0]}")
    html = text(response)
    assert response.status_code == 200
    assert "<h1>Cấp phép xây dựng nhà ở riêng lẻ</h1>" in html
    assert "Sở Xây dựng trả lời: tối đa 15 ngày." in html and "Ngày công khai" in html and "Ngày trả lời" in html


def test_unpublished_cases_are_not_public(client, world, make_case):
    code, _ = make_case("notified")
    assert client.get(f"/tra-loi/{code}").status_code == 404
    assert code not in text(client.get("/tra-loi"))
    assert code not in text(client.get("/du-lieu-mo/pakn.csv"))


def test_atom_feed_csv_and_json(client, published):
    feed = client.get("/tra-loi/atom.xml")
    assert feed.status_code == 200 and feed.mimetype == "application/atom+xml"
    import xml.etree.ElementTree as ET
    root = ET.fromstring(feed.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert len(root.findall("a:entry", ns)) == 3
    assert {e.find("a:title", ns).text for e in root.findall("a:entry", ns)} >= {"Cấp phép xây dựng nhà ở riêng lẻ"}

    data = client.get("/du-lieu-mo/pakn.csv")
    assert data.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(data.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 3 and rows[0]["agency"] and rows[0]["published_date"]
    assert set(rows[0]) == {"code", "kind", "field", "agency", "title", "summary", "answer", "received_date",
                            "answered_date", "published_date", "url"}

    body = json.loads(client.get("/du-lieu-mo/pakn.json", query_string={"q": "xay dung"}).data)
    assert body["count"] == 2 and {i["title"] for i in body["items"]} == {
        "Cấp phép xây dựng nhà ở riêng lẻ", "Quy hoạch xây dựng khu dân cư"}


def test_csv_cells_cannot_run_as_formulas(app, client, world, make_case):
    code, _ = make_case("notified")
    publish(app, code, "=HYPERLINK(\"http://evil\")", "+SUM(1)", "@cmd trả lời đủ dài để hợp lệ ở đây.",
            lambda: world.user("clerk"))
    rows = list(csv.DictReader(io.StringIO(text(client.get("/du-lieu-mo/pakn.csv")).lstrip("\ufeff"))))
    assert rows[0]["title"].startswith("'=") and rows[0]["summary"].startswith("'+")
    assert rows[0]["answer"].startswith("'@")


def test_statistics_for_the_current_year(client, published, make_case):
    make_case("received")
    html = text(client.get("/thong-ke"))
    assert "Thống kê năm" in html
    kpis = re.search(r'<ul class="kpis">(.*?)</ul>', html, re.S).group(1)
    assert "<strong>4</strong> đã tiếp nhận" in kpis and "<strong>3</strong> đã trả lời" in kpis
    assert "<strong>100%</strong> trả lời đúng hạn" in kpis
    assert re.search(r"<th scope=\"row\" role=\"rowheader\">Sở Xây dựng</th><td role=\"cell\" class=\"num\" data-label=\"Tiếp nhận\">2</td>", html)
    assert re.search(r"<th scope=\"row\" role=\"rowheader\">Xây dựng</th><td role=\"cell\" class=\"num\" data-label=\"Tiếp nhận\">3</td>", html)


def test_nul_and_control_characters_in_public_inputs_never_give_a_500(app, client, published):
    """PostgreSQL refuses NUL in text; every public input must be cleaned before a query."""
    for url in ("/tra-loi?q=x%00y", "/tra-loi?field=%00", "/tra-loi?agency=a%00", "/tra-loi/PAKN%00",
                "/tra-cuu/PAKN-2026-000001%00", "/tra-cuu/PAKN%00?token=a%00b", "/tra-cuu?code=%00",
                "/du-lieu-mo/pakn.csv?q=%00", "/du-lieu-mo/pakn.json?field=%00", "/tra-loi/atom.xml?q=%01%00"):
        assert client.get(url).status_code in (200, 303, 404), url
    token = csrf_token(text(client.get("/tra-cuu")))
    response = client.post("/tra-cuu", data={"code": "PAKN\x00", "contact": "a\x00@b.vn", "csrf_token": token})
    assert response.status_code == 422
    values = open_form(client)
    similar = client.post("/gop-y", data={**FORM, **values, "action": "similar", "title": "xay\x00dung"},
                          content_type="multipart/form-data")
    assert similar.status_code == 200
    refused = post_form(client, field="xay_dung\x00\x01zz")
    assert refused.status_code == 422 and "Lĩnh vực không tồn tại." in text(refused)


# -- privacy: no personal data anywhere public ------------------------------------------------------
def test_no_public_page_feed_or_export_contains_personal_data(app, client, published, make_case):
    make_case("received", **CANARY)
    make_case("rejected", **CANARY)
    pages = ["/", "/huong-dan", "/gop-y", "/tra-cuu", "/tra-loi", "/tra-loi?q=xay+dung", "/tra-loi?page=2",
             "/tra-loi/atom.xml", "/du-lieu-mo", "/du-lieu-mo/pakn.csv", "/du-lieu-mo/pakn.json", "/thong-ke",
             "/api/v1/cases", "/?lang=en", "/tra-loi?lang=en"]
    pages += [f"/tra-loi/{c}" for c in published]
    with app.app_context():
        pages += [f"/tra-cuu/{c}" for c in db.session.scalars(select(Feedback.code))]
    seen = 0
    for url in pages:
        response = client.get(url, follow_redirects=True)
        body = response.get_data(as_text=True)
        for marker in CANARY_MARKERS:
            assert marker not in body, f"{marker} on {url}"
        seen += response.status_code == 200
    assert seen >= len(pages) - 1


def test_similar_answers_never_reveal_personal_data(app, client, published):
    values = open_form(client)
    html = text(client.post("/gop-y", data={**FORM, **values, "action": "similar", "title": "xay dung nha o",
                                             "content": "cap phep xay dung nha o rieng le qua lau"},
                            content_type="multipart/form-data"))
    assert "Cấp phép xây dựng nhà ở riêng lẻ" in html
    for marker in CANARY_MARKERS:
        assert marker not in html
