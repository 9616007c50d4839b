"""The agency portal through the web UI: inbox, accept and assign, draft, approval loop, submit,
return as not competent, request for information, stale forms, roles."""
from __future__ import annotations

import re

from sqlalchemy import select

from pakn.extensions import db
from pakn.models import Answer, AuditEvent, OutboxMessage
from pakn.operations import apply_transition, transaction

from .agency_support import clean_uploads, DRAFT, case_by_code, fill, listed_codes, staff_client  # noqa: F401  (clean_uploads: autouse fixture)
from .conftest import csrf_token


def answers_of(code):
    case = case_by_code(code)
    return list(db.session.scalars(select(Answer).where(Answer.feedback_id == case.id).order_by(Answer.revision)))


def test_the_agency_path_from_forwarded_to_accepted_by_the_office(app, world, make_case):
    code, _ = make_case("forwarded")
    lead, officer = staff_client(app, "lead_a"), staff_client(app, "officer_a")

    # The new case is in the lead's inbox, under "Mới chuyển đến", with its count.
    html = lead.get("/agency/?view=new").get_data(as_text=True)
    assert listed_codes(html) == [code]
    assert re.search(r'Mới chuyển đến <span class="count">1</span>', html)

    # The lead accepts and assigns it to the officer.
    response = fill(lead, code, "accept", {"assignee": str(world.users["officer_a"]), "note": "Giao anh An."})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/agency/cases/{code}")
    with app.app_context():
        case = case_by_code(code)
        assert case.state == "in_progress" and case.assignee_id == world.users["officer_a"]
    assert listed_codes(officer.get("/agency/?view=mine").get_data(as_text=True)) == [code]
    assert listed_codes(lead.get("/agency/?view=mine").get_data(as_text=True)) == []

    # The officer drafts in structured parts; the lead sends the draft back with comments.
    assert "Soạn dự thảo văn bản trả lời" in officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    assert fill(officer, code, "draft_answer", DRAFT).status_code == 302
    html = officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    assert "Chờ lãnh đạo duyệt dự thảo trả lời" in html and "<strong>phù hợp</strong>" in html
    assert "Giữ nguyên quy định, có giải thích" in html
    # Only a lead approves: the officer gets no form and a refusal if they post anyway.
    assert 'name="approve_answer-version"' not in html
    assert "Vai trò của bạn không được thực hiện thao tác «Duyệt dự thảo trả lời»." in html
    refused = officer.post(f"/agency/cases/{code}/actions/approve_answer", data={
        "csrf_token": csrf_token(html), "approve_answer-version": str(case_version(app, code))})
    assert refused.status_code == 403
    assert "Vai trò của bạn không được thực hiện thao tác «Duyệt dự thảo trả lời»." in refused.get_data(as_text=True)

    assert listed_codes(lead.get("/agency/?view=approval").get_data(as_text=True)) == [code]
    assert fill(lead, code, "send_back_draft", {"comment": "Bổ sung căn cứ Nghị định 175/2024."}).status_code == 302
    with app.app_context():
        assert case_by_code(code).state == "in_progress"
        assert [a.status for a in answers_of(code)] == ["sent_back"]
        sent_back = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "agency.draft_sent_back"))
        assert sent_back.recipient_user_id == world.users["officer_a"]

    # The officer redrafts from the prefilled form, seeing the lead's comment.
    page = officer.get(f"/agency/cases/{code}/draft").get_data(as_text=True)
    assert "Bổ sung căn cứ Nghị định 175/2024." in page and "Luật Xây dựng 2014" in page
    redraft = {**DRAFT, "legal_refs": "Luật Xây dựng 2014; Nghị định 175/2024/NĐ-CP."}
    assert fill(officer, code, "draft_answer", redraft).status_code == 302

    # Only an approved answer can be submitted.
    html = officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    assert 'name="submit_answer-version"' not in html
    assert "Không thể thực hiện «Gửi văn bản trả lời» khi hồ sơ đang ở trạng thái" in html
    assert fill(lead, code, "approve_answer", {"comment": "Đồng ý."}).status_code == 302
    # Submitting issues the numbered văn bản trả lời, signed by the approving lead by default.
    html = officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    assert 'value="Cán bộ lead_a"' in html
    assert fill(officer, code, "submit_answer", {"signer_name": "Cán bộ lead_a",
                                                 "signer_authority": "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC"}).status_code == 302
    with app.app_context():
        case = case_by_code(code)
        assert case.state == "answered"
        assert [a.status for a in answers_of(code)] == ["sent_back", "submitted"]
        submitted = answers_of(code)[1]
        assert submitted.legal_refs == "Luật Xây dựng 2014; Nghị định 175/2024/NĐ-CP."
        assert submitted.document_number == "01/SXD" and submitted.document_date is not None
        assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "office.answer_submitted"))
        from pakn.models import GeneratedDocument
        document = db.session.scalar(select(GeneratedDocument).where(GeneratedDocument.feedback_id == case.id))
        assert document.kind == "answer" and document.answer_id == submitted.id
        assert document.content["signer"]["authority"] == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]
        assert not any("<" in p for p in document.content["paragraphs"])  # no markup printed
        pdf_id, docx_id = document.pdf_attachment_id, document.docx_attachment_id
    html = officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    assert "Văn bản trả lời số 01/SXD" in html
    assert "<strong>Ban hành văn bản</strong>" in html
    assert '<span class="muted">Số văn bản:</span> 01/SXD' in html
    pdf = officer.get(f"/agency/cases/{code}/attachments/{pdf_id}")
    docx = officer.get(f"/agency/cases/{code}/attachments/{docx_id}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert docx.status_code == 200 and docx.data.startswith(b"PK")
    with app.app_context():
        # The office checks and accepts the answer.
        case = case_by_code(code)
        with transaction():
            apply_transition(case, "accept_answer", world.user("clerk"), {})
    html = officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    assert "Đã kiểm tra, chờ thông báo" in html and "Văn phòng đã chấp nhận" in html
    assert listed_codes(officer.get("/agency/?view=done").get_data(as_text=True)) == [code]
    assert listed_codes(officer.get("/agency/").get_data(as_text=True)) == []


def case_version(app, code) -> int:
    with app.app_context():
        return case_by_code(code).version


def test_invalid_draft_keeps_what_was_typed_with_localized_messages(app, world, make_case):
    code, _ = make_case("in_progress")
    officer = staff_client(app, "officer_a")
    response = fill(officer, code, "draft_answer", {**DRAFT, "outcome": "", "body": "Ngắn."})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Trường này là bắt buộc." in html and "Tối thiểu 20 ký tự." in html
    assert "Trả lời về thời hạn cấp giấy phép xây dựng nhà ở riêng lẻ." in html  # kept
    with app.app_context():
        assert case_by_code(code).state == "in_progress" and answers_of(code) == []


def test_a_stale_form_is_refused_and_a_case_moved_away_answers_404(app, world, make_case):
    code, _ = make_case("in_progress")
    officer, lead = staff_client(app, "officer_a"), staff_client(app, "lead_a")
    html = officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    old = {"csrf_token": csrf_token(html), "post_progress-version": str(case_version(app, code)),
           "post_progress-message": "Đang phối hợp với Sở Tài chính để rà soát."}
    # Someone else changes the case meanwhile: the old form is refused, the text is kept.
    assert fill(lead, code, "post_progress", {"message": "Cập nhật của lãnh đạo."}).status_code == 302
    stale = officer.post(f"/agency/cases/{code}/actions/post_progress", data=old)
    assert stale.status_code == 409
    text = stale.get_data(as_text=True)
    assert "Hồ sơ vừa được người khác cập nhật" in text and "Đang phối hợp với Sở Tài chính" in text

    # The lead returns the case as not competent: it leaves the agency's views at once.
    response = fill(lead, code, "return_not_competent", {
        "reason": "Nội dung thuộc thẩm quyền của Sở Nông nghiệp và Môi trường.", "suggested_agency": "STNMT"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/agency/")
    with app.app_context():
        case = case_by_code(code)
        assert case.state == "returned" and case.agency_id is None
        returned = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "office.returned_by_agency"))
        assert returned.recipient_agency_id == world.office
    assert officer.get(f"/agency/cases/{code}").status_code == 404
    assert code not in officer.get("/agency/?view=all").get_data(as_text=True)
    old["post_progress-version"] = str(case_version(app, code))
    assert officer.post(f"/agency/cases/{code}/actions/post_progress", data=old).status_code == 404

    # Forwarded to agency B: B sees A's reason for returning it, none of A's internal notes.
    with app.app_context(), transaction():
        apply_transition(case_by_code(code), "forward", world.user("clerk"),
                         {"subject": "quy_dinh", "content_category": "2", "field": "dat_dai",
                          "agency": "STNMT", "note": "Đề nghị Sở xử lý theo thẩm quyền."})
    html = staff_client(app, "officer_b").get(f"/agency/cases/{code}").get_data(as_text=True)
    assert "Nội dung thuộc thẩm quyền của Sở Nông nghiệp và Môi trường." in html
    assert "Đề nghị Sở xử lý theo thẩm quyền." in html
    assert "Đang phối hợp" not in html and "Cập nhật của lãnh đạo." not in html


def test_classification_and_routing_cannot_be_changed_from_the_portal(app, world, make_case):
    code, _ = make_case("forwarded")
    lead = staff_client(app, "lead_a")
    html = lead.get(f"/agency/cases/{code}").get_data(as_text=True)
    for trigger in ("forward", "handle_in_office", "reject", "merge", "accept_answer", "publish"):
        response = lead.post(f"/agency/cases/{code}/actions/{trigger}", data={
            "csrf_token": csrf_token(html), f"{trigger}-version": str(case_version(app, code)),
            f"{trigger}-agency": "STNMT"})
        assert response.status_code == 404, trigger
    # Extra fields on an agency form are ignored, never applied.
    response = fill(lead, code, "accept", {"agency": "STNMT", "subject": "hanh_vi", "field": "dat_dai"})
    assert response.status_code == 302
    with app.app_context():
        case = case_by_code(code)
        assert case.state == "in_progress" and case.agency_id == world.agency_a
        assert case.subject == "quy_dinh" and case.field.code == "xay_dung"
        assert case.assignee_id == world.users["lead_a"]  # accepting without a choice: myself


def test_other_roles_are_kept_out_of_the_portal(app, world, client):
    assert client.get("/agency/").status_code == 302  # anonymous: to the login page
    for key in ("clerk", "lead", "admin"):
        assert staff_client(app, key).get("/agency/").status_code == 403
    officer = staff_client(app, "officer_a")
    response = officer.get("/agency/")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert officer.get("/agency/export.csv").headers["Cache-Control"] == "no-store"


def test_a_form_without_its_csrf_token_is_refused(app, world, make_case):
    code, _ = make_case("forwarded")
    lead = staff_client(app, "lead_a")
    response = lead.post(f"/agency/cases/{code}/actions/accept",
                         data={"accept-version": str(case_version(app, code))})
    assert response.status_code == 400 and "Phiên làm việc đã hết hạn" in response.get_data(as_text=True)
    with app.app_context():
        assert case_by_code(code).state == "forwarded"


def test_request_for_information_goes_to_the_submitter_and_the_reply_comes_back(app, world, make_case, client):
    code, token = make_case("in_progress")
    officer = staff_client(app, "officer_a")
    message = "Đề nghị ông/bà cung cấp số biên nhận hồ sơ và ngày hẹn trả kết quả."
    assert fill(officer, code, "agency_request_info", {"message": message}).status_code == 302
    with app.app_context():
        case = case_by_code(code)
        assert case.state == "in_progress" and case.info_requested_at is not None
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "submitter.info_requested"))
        assert row.recipient_kind == "submitter" and row.feedback_id == case.id
        assert row.payload["trigger"] == "agency_request_info"
    html = officer.get("/agency/?view=info").get_data(as_text=True)
    assert listed_codes(html) == [code] and "Chờ người gửi bổ sung" in html
    # The submitter sees the request with their tracking token and replies through the API.
    tracked = client.get(f"/api/v1/feedback/{code}", query_string={"token": token}).get_json()
    assert any(e.get("message") == message for e in tracked["timeline"])
    reply = client.post(f"/api/v1/feedback/{code}/actions/supply_info_to_agency", query_string={"token": token},
                        json={"message": "Biên nhận số 123/BN, hẹn trả ngày 20/10/2026."})
    assert reply.status_code == 200, reply.get_json()
    with app.app_context():
        case = case_by_code(code)
        assert case.info_requested_at is None
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "agency.info_supplied"))
        assert row.recipient_agency_id == world.agency_a
    html = officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    assert "Biên nhận số 123/BN, hẹn trả ngày 20/10/2026." in html
    assert listed_codes(officer.get("/agency/?view=info").get_data(as_text=True)) == []
    # No open request: a second reply is refused with a reason.
    again = client.post(f"/api/v1/feedback/{code}/actions/supply_info_to_agency", query_string={"token": token},
                        json={"message": "Thêm thông tin khác nữa."})
    assert again.status_code == 409
    assert again.get_json()["error"]["message"] == (
        "Cơ quan xử lý không có đề nghị bổ sung thông tin nào đang chờ trả lời.")


def test_a_pending_request_ends_when_the_case_leaves_the_agency(app, world, make_case):
    code, _ = make_case("in_progress")
    officer = staff_client(app, "officer_a")
    assert fill(officer, code, "agency_request_info", {"message": "Đề nghị bổ sung bản sao giấy tờ."}).status_code == 302
    assert fill(officer, code, "return_not_competent",
                {"reason": "Không thuộc thẩm quyền của Sở Xây dựng."}).status_code == 302
    with app.app_context():
        case = case_by_code(code)
        assert case.state == "returned" and case.info_requested_at is None


def test_inbox_search_ignores_diacritics_and_pages_by_keyset(app, world, make_case):
    codes = [make_case("forwarded", title=f"Thủ tục cấp phép đất đai số {i}")[0] for i in range(27)]
    other = make_case("forwarded", title="Chậm giao đất ở, đèn đường")[0]
    lead = staff_client(app, "lead_a")
    html = lead.get("/agency/?view=new&q=dat dai").get_data(as_text=True)
    first = listed_codes(html)
    assert len(first) == 25 and other not in first
    assert re.search(r'Mới chuyển đến <span class="count">27</span>', html)
    cursor = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    second = listed_codes(lead.get(cursor).get_data(as_text=True))
    assert len(second) == 2 and set(first + second) == set(codes)
    assert lead.get("/agency/?view=new&after=garbage").status_code == 400
    assert lead.get("/agency/?view=nope").status_code == 404


def test_inbox_counts_of_all_and_done_stop_at_their_limit(app, world, make_case, monkeypatch):
    from pakn.office import inbox

    monkeypatch.setattr(inbox, "SEARCH_COUNT_LIMIT", 2)
    monkeypatch.setattr(inbox, "SETTLED_COUNT_LIMIT", 3)
    for _ in range(2):
        make_case("forwarded", title="Chậm giao đất ở, đèn đường")
    make_case("answered", title="Chậm giao đất sản xuất")
    make_case("answered", title="Cống thoát nước hỏng")
    lead = staff_client(app, "lead_a")
    html = lead.get("/agency/").get_data(as_text=True)
    assert re.search(r'Đang xử lý <span class="count">2</span>', html)
    assert re.search(r'Đã trả lời <span class="count">2</span>', html)
    assert re.search(r'Tất cả <span class="count">hơn 3</span>', html)
    html = lead.get("/agency/?q=giao+dat").get_data(as_text=True)
    assert re.search(r'Mới chuyển đến <span class="count">2</span>', html)
    assert re.search(r'Tất cả <span class="count">hơn 2</span>', html)
    assert re.search(r'Đã trả lời <span class="count">1</span>', html)
    html = lead.get("/agency/?q=den+duong").get_data(as_text=True)
    assert re.search(r'Tất cả <span class="count">2</span>', html)
    assert re.search(r'Đã trả lời <span class="count">0</span>', html)


def test_export_is_csv_of_the_view_with_formulas_neutralised(app, world, make_case):
    code, _ = make_case("forwarded", title="=HYPERLINK(\"http://evil\") chậm cấp phép")
    response = staff_client(app, "officer_a").get("/agency/export.csv?view=open")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert code in body and "'=HYPERLINK" in body
    assert "an.nguyen@example.com" not in body and "0912345678" not in body


def test_answer_rich_text_is_sanitized_on_the_server(app, world, make_case):
    code, _ = make_case("in_progress")
    officer = staff_client(app, "officer_a")
    nasty = {**DRAFT,
             "findings": '<p onclick="steal()">Phù hợp<script>alert(1)</script></p>',
             "body": ('Nội dung trả lời đầy đủ cho người gửi. <a href="javascript:alert(2)">xem</a> '
                      '<a href="https://vinhlong.gov.vn/van-ban">văn bản</a><img src=x onerror=alert(3)>')}
    assert fill(officer, code, "draft_answer", nasty).status_code == 302
    with app.app_context():
        [answer] = answers_of(code)
        for text in (answer.findings, answer.body):
            assert "script" not in text and "onclick" not in text and "javascript:" not in text
            assert "onerror" not in text and "<img" not in text
        assert answer.findings == "<p>Phù hợp</p>"
        assert 'href="https://vinhlong.gov.vn/van-ban"' in answer.body
    html = officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    assert "alert(" not in html and "javascript:" not in html
    # A part left empty by the sanitizer is refused, not stored empty.
    with app.app_context(), transaction():
        apply_transition(case_by_code(code), "send_back_draft", world.user("lead_a"), {"comment": "Sửa lại."})
    response = fill(officer, code, "draft_answer", {**DRAFT, "findings": "<script>alert(1)</script>"})
    assert response.status_code == 422
    assert "Nội dung không còn gì sau khi loại bỏ mã không được phép." in response.get_data(as_text=True)


def test_the_timeline_hides_office_internal_notes(app, world, make_case):
    code, _ = make_case("answered")
    with app.app_context(), transaction():
        apply_transition(case_by_code(code), "return_answer", world.user("clerk"),
                         {"message": "Trả lời chưa đúng trọng tâm kiến nghị."})
        apply_transition(case_by_code(code), "record_extension", world.user("lead"),
                         {"reason": "Văn phòng ghi nhận nội bộ để theo dõi.", "new_due_date": "2099-01-01"})
    html = staff_client(app, "officer_a").get(f"/agency/cases/{code}").get_data(as_text=True)
    assert "Trả lời chưa đúng trọng tâm kiến nghị." in html  # addressed to the agency
    assert "Văn phòng ghi nhận nội bộ để theo dõi." not in html  # the office's own record
    assert "Ghi nhận gia hạn nội bộ" in html  # the milestone itself is shown
    assert listed_codes(staff_client(app, "officer_a").get("/agency/?view=returned").get_data(as_text=True)) == [code]
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "record_extension"))


from .test_web import compiled_catalogs, english  # noqa: E402,F401  (fixtures)


def test_the_portal_speaks_english_when_asked(app, world, make_case, english):
    code, _ = make_case("forwarded")
    officer = staff_client(app, "officer_a")
    html = officer.get("/agency/?lang=en").get_data(as_text=True)
    assert "Inbox" in html and "Newly forwarded" in html and "Hộp hồ sơ" not in html
    page = officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    assert "Ask the submitter for more information" in page and "Answer due to the submitter" in page
    officer.get("/agency/?lang=vi")


# -- attachments of the answer -----------------------------------------------------------------
from .agency_support import post_draft_with_files  # noqa: E402
from .test_storage import simple_pdf  # noqa: E402


def test_draft_attachments_are_stored_listed_and_served_only_through_their_case(app, world, make_case):
    code, _ = make_case("in_progress")
    other, _ = make_case("in_progress")
    officer = staff_client(app, "officer_a")
    response = post_draft_with_files(officer, code, [("Báo cáo rà soát.pdf", simple_pdf())])
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        [answer] = answers_of(code)
        from pakn.models import Attachment
        [attachment] = db.session.scalars(select(Attachment).where(Attachment.answer_id == answer.id)).all()
        att_id = attachment.id
    html = officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    assert "Báo cáo rà soát.pdf" in html and f"/agency/cases/{code}/attachments/{att_id}" in html
    download = officer.get(f"/agency/cases/{code}/attachments/{att_id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    # The same file through another (visible) case's URL, or an unknown id: 404.
    assert officer.get(f"/agency/cases/{other}/attachments/{att_id}").status_code == 404
    assert officer.get(f"/agency/cases/{code}/attachments/{att_id + 999}").status_code == 404


def test_a_disguised_file_is_refused_and_nothing_typed_is_lost(app, world, make_case):
    code, _ = make_case("in_progress")
    officer = staff_client(app, "officer_a")
    response = post_draft_with_files(officer, code, [("quyet-dinh.pdf", b"MZ\x90\x00 not a pdf at all")])
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "không đúng định dạng cho phép" in html
    assert "Trả lời về thời hạn cấp giấy phép xây dựng nhà ở riêng lẻ." in html
    with app.app_context():
        from pakn.models import Attachment
        assert answers_of(code) == [] and db.session.scalars(select(Attachment)).all() == []


def test_submission_needs_a_signer_and_numbers_follow_the_agency_register(app, world, make_case):
    first, _ = make_case("answer_approved")
    second, _ = make_case("answer_approved")
    officer = staff_client(app, "officer_a")
    response = fill(officer, first, "submit_answer", {"signer_name": "", "signer_authority": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nhập họ tên người ký" in html and "Nhập thẩm quyền ký" in html
    signer = {"signer_name": "Lê Văn Cường", "signer_authority": "GIÁM ĐỐC"}
    assert fill(officer, second, "submit_answer", signer).status_code == 302
    assert fill(officer, first, "submit_answer", signer).status_code == 302
    with app.app_context():
        assert answers_of(second)[-1].document_number == "01/SXD"
        assert answers_of(first)[-1].document_number == "02/SXD"


def test_only_a_lead_records_an_internal_extension_and_it_stays_internal(app, world, make_case, client):
    code, token = make_case("in_progress")
    officer, lead = staff_client(app, "officer_a"), staff_client(app, "lead_a")
    assert 'name="record_extension-version"' not in officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    bad = fill(lead, code, "record_extension", {"new_due_date": "2026-01-01", "reason": "Cần lấy ý kiến Bộ."})
    assert bad.status_code == 409 and "Thời hạn gia hạn phải sau thời hạn hiện tại" in bad.get_data(as_text=True)
    ok = fill(lead, code, "record_extension", {"new_due_date": "2099-12-31", "reason": "Cần lấy ý kiến Bộ Xây dựng."})
    assert ok.status_code == 302
    assert "Gia hạn nội bộ đến 31/12/2099" in officer.get(f"/agency/cases/{code}").get_data(as_text=True)
    tracked = client.get(f"/api/v1/feedback/{code}", query_string={"token": token}).get_data(as_text=True)
    assert "Cần lấy ý kiến Bộ Xây dựng." not in tracked and "2099" not in tracked
