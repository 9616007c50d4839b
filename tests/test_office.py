"""The office console through the web UI (HTTP client, real CSRF), on every backend."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from pakn.extensions import db
from pakn.models import AuditEvent, CaseAssignment, Feedback, OutboxMessage, RoutingRule, SavedFilter, StageVisit
from pakn.operations import transaction
from pakn.scenarios import SUBMISSION

from .conftest import csrf_token
from .test_web import compiled_catalogs, english  # noqa: F401  (fixtures)

INTAKE = {
    "channel": "post", "kind": "phan_anh", "subject": "quy_dinh", "content_category": "2",
    "title": "Thủ tục cấp phép xây dựng nhà ở riêng lẻ kéo dài quá hạn",
    "content": ("Ông Trần Văn Bình, số điện thoại 0987 654 321, nộp hồ sơ xin cấp phép xây dựng tại "
                "số 45 đường Lê Lợi, phường 2 từ ngày 02/10/2026 nhưng quá hạn vẫn chưa được giải quyết."),
    "submitter_name": "Trần Văn Bình",
    "submitter_address": "Số 45, đường Lê Lợi, phường 2, tỉnh Vĩnh Long",
    "submitter_phone": "0987654321",
    "submitter_email": "binh.tran@example.com",
    "external_ref": "CV-123/2026",
}


@pytest.fixture(autouse=True)
def _own_upload_folder(request, tmp_path, monkeypatch):
    """Files stored by these tests go to a folder of their own (the app is shared by the session)."""
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))


def docx_plain_text(data: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def pdf_plain_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def page(client, url: str):
    response = client.get(url)
    return response, response.get_data(as_text=True)


def post_form(client, url: str, data: dict, form_url: str | None = None):
    """Post ``data`` with the CSRF token of the page holding the form."""
    html = client.get(form_url or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(html), **data})


def version_of(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Feedback.version).where(Feedback.code == code))


def case_row(app, code: str) -> Feedback:
    with app.app_context():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        db.session.expunge(case)
        return case


def act(client, app, code: str, trigger: str, data: dict, version: int | None = None):
    url = f"/office/cases/{code}"
    return post_form(client, f"{url}/actions/{trigger}",
                     {"version": version if version is not None else version_of(app, code), **data}, url)


# -- access ---------------------------------------------------------------------------------------
OFFICE_URLS = ["/office/", "/office/intake", "/office/board", "/office/register", "/office/register.xlsx",
               "/office/routing-rules", "/office/cases/{code}", "/office/cases/{code}/next"]


@pytest.mark.parametrize("who", [None, "officer_a", "lead_a", "disabled"])
def test_everyone_but_the_office_gets_404_everywhere(client, login, make_case, who):
    code, _ = make_case("forwarded")  # a case of agency A: agency A's staff still get 404 here
    if who:
        login(who)
    for url in OFFICE_URLS:
        assert client.get(url.format(code=code)).status_code == 404, url
    # With a valid CSRF token (any page has one), every form target is absent too.
    token = csrf_token(client.get("/staff/", follow_redirects=True).get_data(as_text=True))
    for url in ("/office/bulk", f"/office/cases/{code}/actions/forward", "/office/routing-rules",
                "/office/board/remind/1", "/office/filters", f"/office/cases/{code}/assign", "/office/intake"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url


def test_admin_reaches_only_the_routing_rules(client, login):
    login("admin")
    assert client.get("/office/routing-rules").status_code == 200
    assert client.get("/office/").status_code == 404
    assert client.get("/office/intake").status_code == 404


def test_office_clerk_sees_the_console(client, login, make_case):
    code, _ = make_case()
    login("clerk")
    response, html = page(client, "/office/")
    assert response.status_code == 200
    assert code in html and "Hộp hồ sơ" in html
    assert 'accesskey="f"' in html and "autofocus" in html


# -- the full office path -------------------------------------------------------------------------
def add_rule(app, world, **kw):
    from pakn.models import Agency, Field

    with app.app_context(), transaction():
        rule = RoutingRule(kind=kw.get("kind", "field"), agency=db.session.get(Agency, kw.get("agency", world.agency_a)),
                           priority=0, active=True)
        if rule.kind == "field":
            rule.field = db.session.scalar(select(Field).where(Field.code == kw.get("field", "xay_dung")))
        else:
            rule.set_keyword(kw["keyword"])
        db.session.add(rule)


def agency_answers(app, world, code: str) -> None:
    """The agency's part (its portal is another issue): accept, draft, approve, submit."""
    from pakn.operations import apply_transition
    from pakn.scenarios import DRAFT

    draft = {**DRAFT, "body": ("Sở Xây dựng trả lời ông Trần Văn Bình (điện thoại 0987 654 321, thư "
                               "binh.tran@example.com): hồ sơ tại số 45 đường Lê Lợi, phường 2 đã được cấp "
                               "phép; Sở đã chấn chỉnh việc luân chuyển hồ sơ để bảo đảm đúng hạn.")}
    with app.app_context():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        for trigger, who, payload in (("accept", "officer_a", {}), ("draft_answer", "officer_a", draft),
                                      ("approve_answer", "lead_a", {}),
                                      ("submit_answer", "officer_a", {"document_number": "77/SXD-QLXD"})):
            with transaction():
                apply_transition(case, trigger, world.user(who), payload)


def test_the_full_office_path(app, client, login, world):
    add_rule(app, world, field="xay_dung")
    login("clerk")
    # 1. Intake on behalf, with the real received date (deadlines count from it).
    received = (datetime.now(timezone.utc) - timedelta(days=3)).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh")).replace(second=0, microsecond=0)
    from .test_storage import simple_pdf

    scan = (io.BytesIO(simple_pdf()), "ban-quet-don.pdf")
    response = post_form(client, "/office/intake", {**INTAKE, "field": "xay_dung", "attachments": [scan],
                                                    "received_at": received.strftime("%Y-%m-%dT%H:%M")})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    code = re.search(r"Đã tiếp nhận (PAKN-\d{4}-\d{6})", html).group(1)
    token = re.search(r"<code>([^<]+)</code>", html).group(1)  # for the submitter, shown once
    case = case_row(app, code)
    assert case.channel == "post" and case.state == "received"
    assert case.received_at == received.astimezone(timezone.utc)
    assert "ban-quet-don.pdf" in html

    # The scan is on the case page and downloads only through the console's checked view.
    response, html = page(client, f"/office/cases/{code}")
    link = re.search(r'href="(/office/cases/[^"]+/attachments/(\d+))"', html)
    download = client.get(link.group(1))
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    assert "attachment" in download.headers["Content-Disposition"]
    assert client.get(f"/office/cases/PAKN-1999-000001/attachments/{link.group(2)}").status_code == 404

    # 2. Classify with the suggested agency: the rule's agency is shown and preselected.
    response, html = page(client, f"/office/cases/{code}")
    assert "Gợi ý phân loại" in html and "Quy tắc theo lĩnh vực «Xây dựng»" in html
    assert re.search(r'<option value="SXD" selected>Sở Xây dựng</option>', html)
    assert "Cách tính hạn" in html and "5 ngày làm việc" in html
    response = act(client, app, code, "forward", {"agency": "SXD", "subject": "quy_dinh",
                                                  "content_category": "2", "field": "xay_dung"})
    assert response.status_code == 302, response.get_data(as_text=True)
    forwarded = case_row(app, code)
    assert forwarded.state == "forwarded"

    # The forwarding document: DOCX and PDF on the case, naming the case and its due date,
    # and referenced in the notice to the agency.
    due = forwarded.answer_due_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh"))
    html = page(client, f"/office/cases/{code}")[1]
    docs = html[html.index("Văn bản đã ban hành"):html.index("Tệp đính kèm")]
    assert re.search(r"Văn bản chuyển xử lý số \d{2,}/VP-KSTT", docs)
    docx_url = re.search(r'href="([^"]+)">DOCX</a>', docs).group(1)
    pdf_url = re.search(r'href="([^"]+)">PDF</a>', docs).group(1)
    docx_text = docx_plain_text(client.get(docx_url).data)
    pdf_text = pdf_plain_text(client.get(pdf_url).data)
    for text in (docx_text, pdf_text):
        assert code in text and due.strftime("%d/%m/%Y") in text and "Sở Xây dựng" in text
    with app.app_context():
        notice = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "agency.forwarded"))
        from pakn.models import GeneratedDocument

        document = db.session.scalar(select(GeneratedDocument))
        assert notice.payload["document_id"] == document.id
        assert notice.payload["document_reference"] == document.reference
        document_reference = document.reference
        assert {notice.payload["docx_attachment_id"], notice.payload["pdf_attachment_id"]} == {
            document.docx_attachment_id, document.pdf_attachment_id}

    # 3. The agency answers; the office checks and accepts it.
    agency_answers(app, world, code)
    response, html = page(client, f"/office/cases/{code}")
    assert "Chấp nhận kết quả trả lời" in html and "77/SXD-QLXD" in html
    assert "Đã gửi Văn phòng, chờ kiểm tra" in html
    assert '<br><span class="muted">Sở Xây dựng</span>' in html  # the stage's responsible agency
    assert act(client, app, code, "accept_answer", {}).status_code == 302
    assert act(client, app, code, "notify", {}).status_code == 302

    # 4. Redaction: the proposed public texts have the personal data masked.
    response, html = page(client, f"/office/cases/{code}")
    form = html[html.index('id="action-publish"'):]
    answer_box = re.search(r'<textarea id="publish-public_answer"[^>]*>([^<]*)</textarea>', form).group(1)
    summary_box = re.search(r'<textarea id="publish-public_summary"[^>]*>([^<]*)</textarea>', form).group(1)
    for secret in ("Trần Văn Bình", "0987 654 321", "binh.tran@example.com", "45 đường Lê Lợi"):
        assert secret not in answer_box and secret not in summary_box
    assert "[…]" in answer_box and "đã được cấp phép" in answer_box
    # Staff cannot put personal data back without noticing: it is refused first.
    title = "Thủ tục cấp phép xây dựng nhà ở riêng lẻ kéo dài"
    response = act(client, app, code, "publish", {"public_title": title, "public_summary": summary_box,
                                                  "public_answer": answer_box + " Liên hệ 0987654321."})
    assert response.status_code == 422
    assert "vẫn còn dữ liệu cá nhân" in response.get_data(as_text=True)
    assert case_row(app, code).state == "notified"
    response = act(client, app, code, "publish", {"public_title": title, "public_summary": summary_box,
                                                  "public_answer": answer_box})
    assert response.status_code == 302, response.get_data(as_text=True)
    published = case_row(app, code)
    assert published.state == "published"
    assert published.public_answer == answer_box.replace("&#34;", '"')

    # 5. The published data hold only the redacted text.
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/staff/").get_data(as_text=True))})
    public = client.get(f"/api/v1/feedback/{code}", query_string={"token": token}).get_json()
    published_json = str(public["answer"])
    assert "đã được cấp phép" in published_json
    for secret in ("Trần Văn Bình", "0987", "binh.tran", "Lê Lợi"):
        assert secret not in published_json
    with app.app_context():
        row = db.session.scalar(select(Feedback).where(Feedback.code == code))
        public_text = " ".join([row.public_title, row.public_summary, row.public_answer, row.public_search_text])
    for secret in ("Trần Văn Bình", "tran van binh", "0987", "binh.tran", "Lê Lợi", "le loi"):
        assert secret not in public_text

    # 6. The register book names the forwarding document.
    from openpyxl import load_workbook

    login("clerk")
    sheet = load_workbook(io.BytesIO(client.get("/office/register.xlsx").data)).active
    header = [c.value for c in sheet[3]]
    row = dict(zip(header, next(sheet.iter_rows(min_row=4, values_only=True))))
    assert row["Mã PAKN"] == code and row["Số, ngày văn bản chuyển"].startswith(document_reference + " ngày ")
    assert row["Kênh"] == "Văn bản qua bưu chính" and row["Ngày công khai"]


# -- inbox -----------------------------------------------------------------------------------------
def codes_in(html: str) -> list[str]:
    return re.findall(r'<td class="code"><a href="/office/cases/(PAKN-\d{4}-\d{6})', html)


def test_inbox_filters_counts_and_diacritics_free_search(client, login, make_case):
    dat = make_case(title="Thủ tục giao đất ở tại xã bị chậm trễ")[0]
    fwd = make_case("forwarded")[0]
    rej = make_case("rejected")[0]
    login("clerk")
    html = page(client, "/office/?q=giao+dat")[1]
    assert codes_in(html) == [dat]
    html = page(client, "/office/?state=forwarded")[1]
    assert codes_in(html) == [fwd]
    assert re.search(r"Đã chuyển xử lý</a>: <span class=\"num\">1</span>", html)
    assert re.search(r"Không tiếp nhận</a>: <span class=\"num\">1</span>", html)  # counts ignore the state filter
    assert set(codes_in(page(client, "/office/?agency=SXD")[1])) == {fwd}
    assert rej not in codes_in(page(client, "/office/?channel=post")[1])
    assert set(codes_in(page(client, "/office/?kind=phan_anh")[1])) == {dat, fwd, rej}
    assert codes_in(page(client, "/office/?from=2000-01-01&to=2000-01-02")[1]) == []
    response, html = page(client, "/office/?from=not-a-date&state=bogus&sort=x&after=%%%")
    assert response.status_code == 200 and "không hợp lệ" in html


def test_inbox_due_filters_from_the_open_stage(app, client, login, make_case):
    late, fresh = make_case()[0], make_case()[0]
    with app.app_context(), transaction():
        visit = db.session.scalar(select(StageVisit).join(Feedback).where(Feedback.code == late,
                                                                          StageVisit.finished_at.is_(None)))
        visit.due_at = datetime.now(timezone.utc) - timedelta(hours=1)
    login("clerk")
    html = page(client, "/office/?due=overdue")[1]
    assert codes_in(html) == [late]
    assert re.search(r"Đã tiếp nhận</a>: <span class=\"num\">1</span>", html)  # counted from the open visits
    html = page(client, "/office/?sort=due_asc")[1]
    assert codes_in(html) == [late, fresh]
    assert 'class="due overdue"' in html


def test_inbox_counts_stop_at_their_limits_and_say_more_than(client, login, make_case, monkeypatch):
    from pakn.office import inbox

    monkeypatch.setattr(inbox, "SEARCH_COUNT_LIMIT", 2)
    monkeypatch.setattr(inbox, "SETTLED_COUNT_LIMIT", 2)
    rejected = [make_case("rejected", title="Chậm giao đất ở cho hộ gia đình")[0] for _ in range(3)]
    forwarded = make_case("forwarded", title="Chậm giao đất xây nhà xưởng")[0]
    make_case("forwarded", title="Đèn đường hỏng đã lâu")
    login("clerk")
    html = page(client, "/office/")[1]
    # The cases in their stages are counted exactly; a settled state up to its limit.
    assert re.search(r"Đã chuyển xử lý</a>: <span class=\"num\">2</span>", html)
    assert re.search(r"Không tiếp nhận</a>: <span class=\"num\">hơn 2</span>", html)
    assert "Hơn 4 hồ sơ" in html
    html = page(client, "/office/?q=giao+dat")[1]
    assert set(codes_in(html)) == {*rejected, forwarded}
    assert "Hơn 2 hồ sơ" in html and "Hơn 2 kết quả; thêm từ khoá hoặc bộ lọc để thu hẹp." in html
    assert 'class="counts"' not in html  # no figure per state from a partial count
    html = page(client, "/office/?q=giao+dat&state=forwarded")[1]
    assert codes_in(html) == [forwarded] and "1 hồ sơ" in html and "Hơn" not in html
    assert re.search(r"Đã chuyển xử lý</a>: <span class=\"num\">1</span>", html)
    html = page(client, "/office/?q=giao+dat&lang=en")[1]
    assert "More than 2 cases" in html and "More than 2 results; add words or filters" in html


def test_keyset_paging_walks_every_case_once(app, client, login, make_case, monkeypatch):
    from pakn.office import inbox

    monkeypatch.setattr(inbox, "PAGE_SIZE", 2)
    made = [make_case()[0] for _ in range(5)]
    login("clerk")
    seen, url = [], "/office/"
    while url:
        html = page(client, url)[1]
        seen += codes_in(html)
        nxt = re.search(r'href="(/office/\?[^"]*after=[^"]+)"[^>]*rel="next"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert seen == list(reversed(made))


def test_saved_filters_are_per_user(app, client, login, make_case):
    make_case()
    login("clerk")
    response = post_form(client, "/office/filters", {"name": "Quá hạn của tôi", "query": "due=overdue&bogus=1"},
                         "/office/")
    assert response.status_code == 302
    html = page(client, "/office/")[1]
    assert '<a href="/office/?due=overdue">Quá hạn của tôi</a>' in html
    with app.app_context():
        assert db.session.scalar(select(SavedFilter.query)) == "due=overdue"
    client.post("/auth/logout", data={"csrf_token": csrf_token(html)})
    login("lead")
    assert "Quá hạn của tôi" not in page(client, "/office/")[1]


def test_next_case_is_one_click_away_in_the_same_list(client, login, make_case):
    first, second = make_case()[0], make_case()[0]
    make_case("forwarded")
    login("clerk")
    html = page(client, "/office/?state=received")[1]
    assert codes_in(html) == [second, first]
    html = page(client, f"/office/cases/{second}?list=state%3Dreceived")[1]
    link = re.search(r'href="(/office/cases/[^"]+/next[^"]*)"', html).group(1).replace("&amp;", "&")
    response = client.get(link)
    assert response.status_code == 302 and f"/office/cases/{first}" in response.headers["Location"]
    response = client.get(f"/office/cases/{first}/next?state=received")
    assert response.headers["Location"].startswith("/office/")  # the end of the list: back to it


def test_bulk_forward_reports_each_case(app, client, login, make_case):
    ok1, ok2 = make_case(field="xay_dung")[0], make_case(field="dat_dai")[0]
    unclassified = make_case()[0]
    done = make_case("forwarded")[0]
    stale = make_case(field="xay_dung")[0]
    login("clerk")
    picked = [f"{c}:{version_of(app, c)}" for c in (ok1, ok2, unclassified, done)] + [f"{stale}:0"]
    response = post_form(client, "/office/bulk", {"action": "forward", "agency": "STNMT", "content_category": "2",
                                                  "case": picked}, "/office/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Thành công: 2; không thực hiện được: 3." in html, re.sub(r"\s+", " ", html[html.find("<h1>"):])
    rows = {c: re.search(rf"{c}</a></td>\s*<td>(.*?)</td>", html, re.S).group(1) for c in picked and
            (ok1, ok2, unclassified, done, stale)}
    assert "Thành công" in rows[ok1] and "Thành công" in rows[ok2]
    assert "Lĩnh vực: Trường này là bắt buộc." in rows[unclassified]
    assert "Không thể thực hiện «Chuyển xử lý» khi hồ sơ đang ở trạng thái «Đã chuyển xử lý»" in rows[done]
    assert "vừa được người khác cập nhật" in rows[stale]
    assert case_row(app, ok1).state == "forwarded" and case_row(app, unclassified).state == "received"
    with app.app_context():
        from pakn.models import GeneratedDocument

        documents = db.session.scalars(select(GeneratedDocument).join(Feedback, Feedback.id == GeneratedDocument.feedback_id)
                                       .order_by(GeneratedDocument.number)).all()
        assert [d.number for d in documents] == [1, 2]  # one numbered document per forwarded case
        assert {db.session.get(Feedback, d.feedback_id).code for d in documents} == {ok1, ok2}


def test_bulk_assign_to_a_clerk(app, client, login, make_case, world):
    a, b = make_case()[0], make_case("closed")[0]
    login("lead")
    picked = [f"{c}:{version_of(app, c)}" for c in (a, b)]
    response = post_form(client, "/office/bulk", {"action": "assign", "clerk": world.users["clerk"], "case": picked},
                         "/office/")
    html = response.get_data(as_text=True)
    assert "Thành công: 1; không thực hiện được: 1." in html and "Hồ sơ đã kết thúc" in html
    with app.app_context():
        rows = db.session.scalars(select(CaseAssignment)).all()
        assert [r.clerk_id for r in rows] == [world.users["clerk"]]
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assign_clerk")) is not None
    client.post("/auth/logout", data={"csrf_token": csrf_token(html)})
    login("clerk")
    assert codes_in(page(client, f"/office/?clerk={world.users['clerk']}")[1]) == [a]


# -- case page: stale forms, refusals, duplicates, answer check -------------------------------------
def test_a_stale_form_shows_the_current_state_and_changes_nothing(app, client, login, make_case, world):
    code = make_case(field="xay_dung")[0]
    login("clerk")
    seen = version_of(app, code)
    # Someone else rejects the case meanwhile.
    from pakn.operations import apply_transition

    with app.app_context(), transaction():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        apply_transition(case, "reject", world.user("lead"), {"reason_code": "complaint"})
    response = act(client, app, code, "forward", {"agency": "SXD", "subject": "quy_dinh", "content_category": "2",
                                                  "field": "xay_dung", "note": "Ghi chú của tôi"}, version=seen)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "vừa được người khác cập nhật: trạng thái hiện tại là «Không tiếp nhận»" in html
    assert "<strong>Không tiếp nhận</strong>" in html  # the page shows the case as it is now
    row = case_row(app, code)
    assert row.state == "rejected" and row.agency_id is None


def test_refused_actions_are_listed_with_their_reason(client, login, make_case):
    code = make_case("forwarded")[0]
    login("clerk")
    html = page(client, f"/office/cases/{code}")[1]
    assert "Thao tác không thực hiện được và lý do" in html
    assert ("<strong>Chuyển xử lý</strong>: Không thể thực hiện «Chuyển xử lý» khi hồ sơ đang ở trạng thái "
            "«Đã chuyển xử lý».") in html
    assert "<strong>Duyệt dự thảo trả lời</strong>: Vai trò của bạn không được thực hiện" in html


def test_invalid_action_input_is_shown_again_with_errors(app, client, login, make_case):
    code = make_case()[0]
    login("clerk")
    response = act(client, app, code, "request_info", {"message": "Hỏi"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Tối thiểu 5 ký tự." in html and ">Hỏi</textarea>" in html
    assert case_row(app, code).state == "received"


def test_duplicate_suggestion_finds_a_near_identical_case(app, client, login, make_case):
    original = make_case("forwarded", agency="STNMT")[0]
    unrelated = make_case(title="Phí thẩm định hồ sơ môi trường quá cao",
                          content="Mức phí thẩm định báo cáo đánh giá tác động môi trường cao hơn nhiều tỉnh lân cận, "
                                  "đề nghị xem xét giảm phí cho doanh nghiệp nhỏ.")[0]
    copy = make_case(content=SUBMISSION["content"].replace("15 ngày", "mười lăm ngày"),
                     submitter_name="Lê Thị Hoa")[0]
    login("clerk")
    html = page(client, f"/office/cases/{copy}")[1]
    dup = html[html.index("PAKN có thể trùng"):]
    assert f'<a href="/office/cases/{original}">{original}</a>' in dup
    assert unrelated not in dup
    assert f"Gộp vào {original}" in dup
    # How the similar case was routed is an agency suggestion.
    assert "Sở Nông nghiệp và Môi trường" in html[html.index("Cơ quan gợi ý"):html.index("PAKN có thể trùng")]
    response = post_form(client, f"/office/cases/{copy}/actions/merge",
                         {"version": version_of(app, copy), "duplicate_of": original}, f"/office/cases/{copy}")
    assert response.status_code == 302
    assert case_row(app, copy).state == "merged"


def test_the_office_returns_an_off_content_answer(app, client, login, make_case):
    code = make_case("answered")[0]
    login("clerk")
    response = act(client, app, code, "return_answer", {"message": "Văn bản trả lời chưa đúng nội dung phản ánh."})
    assert response.status_code == 302
    assert case_row(app, code).state == "in_progress"
    with app.app_context():
        kinds = db.session.scalars(select(OutboxMessage.kind).join(Feedback).where(Feedback.code == code)).all()
    assert "agency.answer_returned" in kinds


def test_intake_errors_keep_what_was_typed(client, login):
    login("clerk")
    response = post_form(client, "/office/intake", {**INTAKE, "submitter_phone": "", "submitter_email": "",
                                                    "received_at": "2999-01-01T08:00"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Cần ít nhất một trong hai" in html
    assert 'value="Trần Văn Bình"' in html and "CV-123/2026" in html


def test_intake_of_an_item_already_received_with_the_same_reference_is_refused(app, client, login):
    login("clerk")
    item = {**INTAKE, "channel": "vpcp", "external_ref": "VPCP-2026-0042", "received_at": "2026-11-02T08:00"}
    assert post_form(client, "/office/intake", item).status_code == 200
    again = post_form(client, "/office/intake", {**item, "title": "Gửi lại lần hai"})
    html = again.get_data(as_text=True)
    assert again.status_code == 422
    assert "Mục này đã được tiếp nhận" in html and 'value="Gửi lại lần hai"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Feedback.id))) == 1


# -- routing rules ---------------------------------------------------------------------------------
def test_routing_rules_are_managed_by_the_office_lead(app, client, login, make_case):
    login("lead")
    response = post_form(client, "/office/routing-rules", {"kind": "keyword", "keyword": "Đất đai",
                                                           "agency": "STNMT", "priority": "5"})
    assert response.status_code == 302
    bad = post_form(client, "/office/routing-rules", {"kind": "keyword", "keyword": "", "agency": ""})
    assert bad.status_code == 422 and "Chọn cơ quan được gợi ý." in bad.get_data(as_text=True)
    code = make_case(title="Cấp giấy chứng nhận quyền sử dụng dat dai chậm")[0]
    html = page(client, f"/office/cases/{code}")[1]
    assert "Quy tắc theo từ khóa «Đất đai»" in html
    with app.app_context():
        rule_id = db.session.scalar(select(RoutingRule.id))
    post_form(client, f"/office/routing-rules/{rule_id}/toggle", {}, "/office/routing-rules")
    assert "Quy tắc theo từ khóa" not in page(client, f"/office/cases/{code}")[1]
    client.post("/auth/logout", data={"csrf_token": csrf_token(html)})
    login("clerk")
    assert client.get("/office/routing-rules").status_code == 404


# -- register book -----------------------------------------------------------------------------------
def test_register_export_has_one_row_per_case_of_the_period(app, client, login, make_case):
    from openpyxl import load_workbook

    codes = [make_case("published")[0], make_case("rejected")[0], make_case("forwarded")[0]]
    outside = make_case()[0]
    with app.app_context(), transaction():
        old = db.session.scalar(select(Feedback).where(Feedback.code == outside))
        old.received_at = datetime(2025, 1, 15, 3, 0, tzinfo=timezone.utc)
    login("clerk")
    today = datetime.now(timezone.utc).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh")).date()
    html = page(client, f"/office/register?from={today.replace(day=1)}&to={today}")[1]
    assert "Kết quả phân loại" in html and codes[0] in html and outside not in html
    response = client.get(f"/office/register.xlsx?from={today.replace(day=1)}&to={today}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    header = [c.value for c in sheet[3]]
    assert header[:4] == ["STT", "Mã PAKN", "Ngày giờ tiếp nhận", "Kênh"] and "Đúng/quá hạn" in header
    assert [r[1] for r in rows] == codes
    assert [r[0] for r in rows] == [1, 2, 3]
    by_code = {r[1]: dict(zip(header, r)) for r in rows}
    assert by_code[codes[0]]["Ngày công khai"] and by_code[codes[0]]["Số văn bản trả lời"] == "125/SXD-QLXD"
    assert by_code[codes[1]]["Kết quả phân loại"] == "Không tiếp nhận" and by_code[codes[1]]["Ghi chú"] == "Khiếu nại"
    assert by_code[codes[2]]["Cơ quan được chuyển"] == "Sở Xây dựng"
    assert by_code[codes[2]]["Người gửi (tên, tổ chức)"] == "Nguyễn Văn An"



def bulk_cases(app, world, n: int) -> list[str]:
    """Insert ``n`` cases received 40 minutes apart from 08:00 on 1 January 2025 (local time), in
    one executemany each for cases, events and answers (the operations layer would take minutes):
    every 10th case rejected, every 7th otherwise forwarded, every 11th notified, every 13th with a
    submitted answer, the one before last merged into the first. Returns the codes in order."""
    from sqlalchemy import insert

    from pakn.models import Answer

    first = datetime(2025, 1, 1, 1, 0, tzinfo=timezone.utc)
    cases = []
    for i in range(1, n + 1):
        received = first + timedelta(minutes=40 * (i - 1))
        state = "rejected" if i % 10 == 0 else "merged" if i == n - 1 else "received"
        cases.append({
            "code": f"PAKN-2025-{i:06d}", "tracking_token_hash": f"{i:064d}", "kind": "phan_anh",
            "channel": "web", "title": f"Thủ tục số {i}", "content": "Nội dung phản ánh.",
            "submitter_name": f"Người gửi {i}", "submitter_address": "Phường 1", "submitter_phone": "0900000000",
            "received_at": received, "state": state, "answer_due_at": received + timedelta(days=20),
            "reject_reason_code": "complaint" if state == "rejected" else None, "version": 1,
            "search_text": "", "duplicate_of_id": None})
    with app.app_context(), transaction():
        db.session.execute(insert(Feedback.__table__), cases[:1])
        ids = [db.session.scalar(select(Feedback.id).where(Feedback.code == cases[0]["code"]))]
        cases[n - 2]["duplicate_of_id"] = ids[0]
        db.session.execute(insert(Feedback.__table__), cases[1:])
        ids = list(db.session.scalars(select(Feedback.id).where(Feedback.code.like("PAKN-2025-%"))
                                      .order_by(Feedback.code)))
        events, answers = [], []
        for i, (case_id, case) in enumerate(zip(ids, cases), 1):
            action = "reject" if case["state"] == "rejected" else "forward" if i % 7 == 0 else None
            for name, at in ((action, timedelta(hours=1)), ("notify" if i % 11 == 0 else None, timedelta(days=2))):
                if name:
                    events.append({"feedback_id": case_id, "at": case["received_at"] + at, "action": name,
                                   "actor_role": "office_clerk", "actor_label": "Cán bộ clerk", "data": {}})
            if i % 13 == 0:
                answers.append({"feedback_id": case_id, "revision": 1, "agency_id": world.agency_a,
                                "status": "submitted", "summary": "Tóm tắt", "findings": "Kết quả",
                                "outcome": "keep", "body": "Trả lời", "document_number": f"{i}/SXD-QLXD"})
        db.session.execute(insert(AuditEvent.__table__), events)
        db.session.execute(insert(Answer.__table__), answers)
    return [c["code"] for c in cases]


def test_register_export_of_a_quarter_streams_every_row_in_few_statements(app, client, login, world,
                                                                         monkeypatch):
    """3,000 cases (three reading batches): the download has all of them, in order, each with its
    own events and answer; the statements do not grow with the rows; the page shows 2,000."""
    from openpyxl import load_workbook
    from sqlalchemy import event

    from pakn.office import routes_more

    codes = bulk_cases(app, world, 3000)
    monkeypatch.setattr(routes_more, "XLSX_SPOOL_BYTES", 64 * 1024)  # this one is sent from disk
    login("clerk")
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get("/office/register.xlsx?from=2025-01-01&to=2025-03-31")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    body = response.data
    assert response.headers["Content-Disposition"] == 'attachment; filename="so-theo-doi-pakn_2025-01-01_2025-03-31.xlsx"'
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Cache-Control"] == "no-store" and int(response.headers["Content-Length"]) == len(body)
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet["A1"].value == "SỔ THEO DÕI PHẢN ÁNH, KIẾN NGHỊ VỀ QUY ĐỊNH HÀNH CHÍNH" and sheet["A1"].font.b
    assert "từ 01/01/2025 đến 31/03/2025" in sheet["A2"].value
    header = [c.value for c in sheet[3]]
    assert header[:2] == ["STT", "Mã PAKN"] and len(header) == 22 and sheet["B3"].font.b
    assert sheet.freeze_panes == "C4" and sheet.column_dimensions["I"].width == 40
    rows = [dict(zip(header, r)) for r in sheet.iter_rows(min_row=4, values_only=True)]
    assert [r["Mã PAKN"] for r in rows] == codes
    assert [r["STT"] for r in rows] == list(range(1, 3001))
    for i, row in enumerate(rows, 1):
        received = datetime(2025, 1, 1, 8, 0) + timedelta(minutes=40 * (i - 1))  # local time
        assert row["Ngày giờ tiếp nhận"] == received.strftime("%d/%m/%Y %H:%M"), i
        assert row["Kết quả phân loại"] == ("Không tiếp nhận" if i % 10 == 0 else "Chuyển xử lý" if i % 7 == 0
                                            else None), i
        assert row["Ngày thông báo"] == ((received + timedelta(days=2)).strftime("%d/%m/%Y") if i % 11 == 0
                                         else None), i
        assert row["Số văn bản trả lời"] == (f"{i}/SXD-QLXD" if i % 13 == 0 else None), i
        assert row["Hình thức xử lý"] == ("Giữ nguyên quy định, có giải thích" if i % 13 == 0 else None), i
        assert row["Ghi chú"] == ("Khiếu nại" if i % 10 == 0 else "Trùng với PAKN-2025-000001" if i == 2999
                                  else None), i
        assert row["Người gửi (tên, tổ chức)"] == f"Người gửi {i}"
    # The cases' rows, their events, answers, documents: a few statements per 1,000 cases.
    assert len(statements) < 40, len(statements)

    html = page(client, "/office/register?from=2025-01-01&to=2025-03-31")[1]
    assert "2000 hồ sơ" in html and "Chỉ hiển thị 2.000 dòng đầu; tệp Excel có đủ." in html
    assert "PAKN-2025-002000" in html and "PAKN-2025-002001" not in html


def test_register_export_beyond_a_worksheet_says_the_period_had_more(app, client, login, world, monkeypatch):
    from openpyxl import load_workbook

    from pakn.office import register

    codes = bulk_cases(app, world, 150)
    monkeypatch.setattr(register, "SHEET_ROWS", 100)  # Excel's 1,048,572, scaled down
    login("clerk")
    response = client.get("/office/register.xlsx?from=2025-01-01&to=2025-03-31")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(min_row=4, values_only=True))
    assert [r[1] for r in rows[:-1]] == codes[:100]
    assert rows[-1][1].startswith("Kỳ này có hơn 100 hồ sơ") and rows[-1][0] is None


def test_a_failed_register_export_leaves_no_file_behind(app, client, login, world, monkeypatch, tmp_path):
    """A database error half-way: a 500, and the rows already written (names, phones) are never
    in a file another process could open: the export goes into the response's unnamed file."""
    import tempfile

    from pakn.office import register, routes_more

    bulk_cases(app, world, 150)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(routes_more, "XLSX_SPOOL_BYTES", 1)  # on disk from the first row
    monkeypatch.setattr(register, "BATCH", 50)
    real, seen = register.forwarding_documents, []

    def failing(case_ids):
        seen.append(sorted(p.name for p in tmp_path.iterdir()))
        if len(seen) == 2:
            raise RuntimeError("the database went away")
        return real(case_ids)

    monkeypatch.setattr(register, "forwarding_documents", failing)
    login("clerk")
    response = client.get("/office/register.xlsx?from=2025-01-01&to=2025-03-31")
    assert response.status_code == 500
    assert seen == [[], []]  # nothing named in the temporary folder, before or during the failure
    assert list(tmp_path.iterdir()) == []

# -- deadline board --------------------------------------------------------------------------------
def test_deadline_board_and_one_click_reminder(app, client, login, make_case):
    code = make_case("in_progress")[0]
    with app.app_context(), transaction():
        visit = db.session.scalar(select(StageVisit).join(Feedback).where(Feedback.code == code,
                                                                          StageVisit.finished_at.is_(None)))
        visit.due_at = datetime.now(timezone.utc) - timedelta(days=1)
        visit_id = visit.id
    login("clerk")
    html = page(client, "/office/board")[1]
    assert "Sở Xây dựng" in html and "Quá hạn: 1" in html and code in html
    response = post_form(client, f"/office/board/remind/{visit_id}", {}, "/office/board")
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "agency.reminder"))
        assert row.payload == {"visit_id": visit_id, "stage": "handle", "due_at": row.payload["due_at"]}
        assert row.recipient_kind == "agency" and row.recipient_agency_id is not None
    response = post_form(client, f"/office/board/remind-agency/{row.recipient_agency_id}", {}, "/office/board")
    assert "Đã gửi 1 nhắc việc tới Sở Xây dựng." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_intake_refuses_a_fake_scan_and_creates_nothing(app, client, login):
    login("clerk")
    fake = (io.BytesIO(b"MZ\x90\x00 not really a pdf"), "scan.pdf")
    response = post_form(client, "/office/intake", {**INTAKE, "field": "xay_dung", "attachments": [fake],
                                                    "received_at": "2026-11-02T08:00"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "scan.pdf" in html
    assert 'value="Trần Văn Bình"' in html
    with app.app_context():
        assert db.session.scalar(select(Feedback.id)) is None


def test_the_console_speaks_english_when_chosen(client, login, make_case, english):
    code = make_case()[0]
    login("clerk")
    html = page(client, "/office/?lang=en")[1]
    assert "Inbox" in html and "Search (diacritics optional)" in html and "Hộp hồ sơ" not in html
    html = page(client, f"/office/cases/{code}")[1]
    assert "Case details" in html and "How the due date was computed" in html


def test_keyset_paging_by_due_date_puts_cases_without_a_clock_last(app, client, login, make_case, monkeypatch):
    from pakn.office import inbox

    monkeypatch.setattr(inbox, "PAGE_SIZE", 2)
    done = [make_case("rejected")[0], make_case("closed")[0]]  # no open stage: no due date
    open_ = [make_case()[0], make_case("forwarded")[0], make_case()[0]]
    with app.app_context(), transaction():  # distinct due instants, in a known order
        for hours, code in zip((3, 1, 2), open_):
            visit = db.session.scalar(select(StageVisit).join(Feedback).where(
                Feedback.code == code, StageVisit.finished_at.is_(None)))
            visit.due_at = datetime(2030, 1, 1, tzinfo=timezone.utc) + timedelta(hours=hours)
    login("clerk")
    seen, url = [], "/office/?sort=due_asc"
    while url:
        html = page(client, url)[1]
        seen += codes_in(html)
        nxt = re.search(r'href="(/office/\?[^"]*after=[^"]+)"[^>]*rel="next"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert seen == [open_[1], open_[2], open_[0]] + done  # ties (no due date) in creation order
    # "Next case" follows the same order.
    response = client.get(f"/office/cases/{open_[2]}/next?sort=due_asc")
    assert f"/office/cases/{open_[0]}" in response.headers["Location"]


def test_staff_may_confirm_that_a_flagged_text_is_not_personal_data(app, client, login, make_case):
    code = make_case("notified")[0]
    login("clerk")
    text = {"public_title": "Thời hạn cấp giấy phép xây dựng", "public_summary": "Phản ánh về thời hạn cấp phép.",
            "public_answer": "Mọi thắc mắc xin gọi đường dây nóng của Sở Xây dựng 0270 3822 111."}
    assert act(client, app, code, "publish", text).status_code == 422
    assert act(client, app, code, "publish", {**text, "confirm_redaction": "1"}).status_code == 302
    assert case_row(app, code).public_answer == text["public_answer"]


def test_only_the_expected_next_step_opens_by_itself(client, login, make_case):
    received, forwarded = make_case()[0], make_case("forwarded")[0]
    login("clerk")
    html = page(client, f"/office/cases/{received}")[1]
    assert '<details class="action" id="action-forward" open>' in html
    html = page(client, f"/office/cases/{forwarded}")[1]
    assert '<details class="action" id="action-withdraw">' in html  # a side path stays closed
