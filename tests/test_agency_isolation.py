"""Strict agency isolation: agency B asks for every agency-A URL and gets 404 (or an empty list),
with none of A's data anywhere in the body."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from pakn.extensions import db
from pakn.models import Feedback
from pakn.operations import apply_transition, transaction

from pakn.models import Attachment, GeneratedDocument

from .agency_support import clean_uploads, DRAFT, fill, post_draft_with_files, staff_client  # noqa: F401  (clean_uploads: autouse fixture)
from .test_storage import simple_pdf
from .conftest import csrf_token

from pakn.agency_portal.forms import FORMS
from pakn.agency_portal.queries import VIEWS

#: Every URL of the portal naming an agency-A object: all must answer 404 to agency B.
A_URLS = [("GET", "/agency/cases/{code}"), ("GET", "/agency/cases/{code}/draft"),
          ("GET", "/agency/cases/{code}/attachments/{attachment_id}"),
          ("GET", "/agency/cases/{b_code}/attachments/{attachment_id}"),
          ("GET", "/agency/cases/{answered}"),
          ("GET", "/agency/cases/{answered}/attachments/{pdf_id}"),
          ("GET", "/agency/cases/{answered}/attachments/{docx_id}"),
          ("GET", "/agency/cases/{b_code}/attachments/{pdf_id}"),
          ("GET", "/agency/cases/{b_code}/attachments/{docx_id}")] + [
    ("POST", f"/agency/cases/{{code}}/actions/{trigger}") for trigger in FORMS]
#: Lists, counts, searches, exports and the dashboard, and whether B's own forwarded case shows.
B_PAGES = [(f"/agency/?view={key}", key in ("open", "new", "all")) for key in VIEWS] + [
    ("/agency/?view=all&q={code}", False), ("/agency/?view=all&q=canary", False),
    ("/agency/?view=open&q=tran thi canary", False),
    ("/agency/export.csv?view=all", True), ("/agency/export.csv?view=all&q=canary", False),
    ("/agency/?view=done", False), ("/agency/?view=done&q=01/SXD", False), ("/agency/dashboard", False),
]

#: Unique marks of agency A's case: none may reach agency B.
CANARY_TITLE = "Canary-7Q Giấy phép xây dựng trạm BTS phường Long Châu"
CANARY_NAME = "Trần Thị Canary"
CANARY_DRAFT = "Dự thảo canary-7Q chỉ Sở Xây dựng được xem."


@pytest.fixture
def a_case(app, world, make_case):
    """Agency A's case, drafted (answer text), with a pending request for information."""
    code, _ = make_case("in_progress", title=CANARY_TITLE, submitter_name=CANARY_NAME,
                        submitter_email="canary.7q@example.com")
    officer = staff_client(app, "officer_a")
    assert fill(officer, code, "agency_request_info", {"message": "Đề nghị bổ sung canary-7Q."}).status_code == 302
    response = post_draft_with_files(officer, code, [("canary-7Q rà soát.pdf", simple_pdf())],
                                     {**DRAFT, "body": CANARY_DRAFT + " " + DRAFT["body"]})
    assert response.status_code == 302
    b_code, _ = make_case("in_progress", agency="STNMT")  # B's own case, to try A's file through it
    # A second case of A, answered: its numbered văn bản trả lời (DOCX and PDF).
    answered, _ = make_case("answer_approved", title=CANARY_TITLE + " (2)")
    assert fill(officer, answered, "submit_answer",
                {"signer_name": "Cán bộ lead_a", "signer_authority": "GIÁM ĐỐC"}).status_code == 302
    with app.app_context():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        attachment = db.session.scalar(select(Attachment).where(Attachment.feedback_id == case.id))
        document = db.session.scalar(select(GeneratedDocument))
        return {"code": code, "id": case.id, "version": case.version, "attachment_id": attachment.id,
                "b_code": b_code, "answered": answered, "pdf_id": document.pdf_attachment_id,
                "docx_id": document.docx_attachment_id}


def assert_no_a_data(body: str, a_case: dict) -> None:
    # The code as shown or linked (the page may echo the URL or search typed by B, not A's data).
    shown = [f">{code}<" for code in (a_case["code"], a_case["answered"])]
    linked = [f"cases/{code}\"" for code in (a_case["code"], a_case["answered"])]
    exported = [f"{code}," for code in (a_case["code"], a_case["answered"])]
    for canary in (*shown, *linked, *exported, CANARY_TITLE, CANARY_NAME, CANARY_DRAFT, "canary.7q@example.com",
                   "canary-7Q", "Cán bộ officer_a"):
        assert canary not in body, canary


@pytest.mark.parametrize("method, url", A_URLS, ids=[f"{m} {u}" for m, u in A_URLS])
def test_agency_b_gets_404_for_every_agency_a_url(app, world, a_case, method, url):
    # B's lead for actions (a lead may do the most), B's officer for reading.
    client = staff_client(app, "lead_b" if method == "POST" else "officer_b")
    target = url.format(**a_case)
    if method == "GET":
        response = client.get(target)
        assert not response.data.startswith((b"%PDF", b"PK"))
    else:
        token = csrf_token(client.get("/agency/").get_data(as_text=True))
        trigger = target.rsplit("/", 1)[-1]
        response = client.post(target, data={"csrf_token": token, f"{trigger}-version": str(a_case["version"]),
                                             f"{trigger}-message": "Thử can thiệp hồ sơ của cơ quan khác.",
                                             f"{trigger}-comment": "Thử duyệt.", f"{trigger}-reason": "Thử trả lại."})
    assert response.status_code == 404
    assert_no_a_data(response.get_data(as_text=True), a_case)
    with app.app_context():  # and nothing changed
        assert db.session.get(Feedback, a_case["id"]).version == a_case["version"]


@pytest.mark.parametrize("who", ["officer_b"])
@pytest.mark.parametrize("url, shows_b", B_PAGES, ids=[u for u, _ in B_PAGES])
def test_agency_b_lists_counts_searches_exports_and_dashboard_exclude_agency_a(app, world, a_case, make_case,
                                                                            who, url, shows_b):
    b_code, _ = make_case("forwarded", agency="STNMT")
    response = staff_client(app, who).get(url.format(**a_case))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert_no_a_data(body, a_case)
    # The page does list B's own case where it belongs: the checks above look at real content.
    assert (b_code in body) is shows_b
    if "q=" in url and "export" not in url:
        assert '<span class="count">1</span>' not in body  # no count reveals A's hit


def test_the_api_keeps_agency_a_from_agency_b_too(client, world, a_case, api_token):
    headers = api_token("officer_b")
    for url in (f"/api/v1/cases/{a_case['code']}", f"/api/v1/cases/{a_case['code']}/actions"):
        response = client.get(url, headers=headers)
        assert response.status_code == 404
        assert_no_a_data(response.get_data(as_text=True), a_case)
    listed = client.get("/api/v1/cases", query_string={"q": "canary"}, headers=headers).get_json()
    assert listed["items"] == [] and listed["total"] == 0
    response = client.post(f"/api/v1/cases/{a_case['code']}/actions/approve_answer",
                           json={"version": a_case["version"]}, headers=api_token("lead_b"))
    assert response.status_code == 404


def test_a_case_moved_to_agency_b_leaves_a_and_keeps_a_drafts_from_b(app, world, a_case):
    lead_a = staff_client(app, "lead_a")
    html = lead_a.get(f"/agency/cases/{a_case['code']}").get_data(as_text=True)
    with app.app_context(), transaction():
        case = db.session.get(Feedback, a_case["id"])
        apply_transition(case, "send_back_draft", world.user("lead_a"), {"comment": "Chưa đủ căn cứ."})
        apply_transition(case, "return_not_competent", world.user("lead_a"),
                         {"reason": "Thuộc thẩm quyền của Sở Nông nghiệp và Môi trường."})
        apply_transition(case, "forward", world.user("clerk"), {
            "subject": "quy_dinh", "content_category": "2", "field": "dat_dai", "agency": "STNMT"})
    # A's open page posts an old form: refused, as the case is no longer A's.
    response = lead_a.post(f"/agency/cases/{a_case['code']}/actions/post_progress", data={
        "csrf_token": csrf_token(html), "post_progress-version": str(a_case["version"] + 3),
        "post_progress-message": "Cập nhật tiến độ từ trang cũ."})
    assert response.status_code == 404
    assert a_case["code"] not in lead_a.get("/agency/?view=all").get_data(as_text=True)
    # B now sees the case, but not A's draft, comments or request.
    body = staff_client(app, "officer_b").get(f"/agency/cases/{a_case['code']}").get_data(as_text=True)
    assert CANARY_TITLE in body
    assert CANARY_DRAFT not in body and "Chưa đủ căn cứ." not in body and "canary-7Q" not in body
