"""The API beyond the workflow: intake, files, documents, answers, publication, reports,
plans, reference data, the inbox's filters, scopes and revocation, and the description.

Every test runs on SQLite and, with PAKN_TEST_DATABASE_URL, on PostgreSQL.
"""
from __future__ import annotations

import base64
import json
import re
from datetime import timedelta, timezone

import pytest
from sqlalchemy import func, select

from pakn.extensions import db
from pakn.models import Attachment, Feedback
from pakn.models.types import utcnow
from pakn.operations import receive_feedback, transaction
from pakn.scenarios import DRAFT, SUBMISSION, forward_to
from workflows.calendar import TZ

from .plan_helpers import BEN_TRE
from .test_storage import simple_pdf

API = "/api/v1"
INTAKE = {**SUBMISSION, "channel": "post", "external_ref": "CV-77/2026"}
PERSONAL = (SUBMISSION["submitter_name"], SUBMISSION["submitter_phone"], SUBMISSION["submitter_email"],
            SUBMISSION["submitter_address"])


@pytest.fixture(autouse=True)
def _own_upload_folder(request, tmp_path, monkeypatch):
    if "app" in request.fixturenames:
        monkeypatch.setitem(request.getfixturevalue("app").config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def case_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Feedback))


def version(client, headers, code) -> int:
    return client.get(f"{API}/cases/{code}", headers=headers).get_json()["version"]


def act(client, headers, code, trigger, payload):
    return client.post(f"{API}/cases/{code}/actions/{trigger}", json=payload,
                       headers={**headers, "If-Match": f'"{version(client, headers, code)}"'})


# -- intake on behalf ---------------------------------------------------------------------------
def test_intake_with_a_real_received_date_counts_the_deadlines_from_it(app, client, world, api_token, login):
    clerk = api_token("clerk")
    received = (utcnow() - timedelta(days=9)).astimezone(TZ).replace(hour=9, minute=30, second=0, microsecond=0)
    response = client.post(f"{API}/cases", headers=clerk, json={
        **INTAKE, "received_at": received.isoformat(),
        "attachments": [{"filename": "ban-quet-đơn.pdf", "content": b64(simple_pdf())}]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    code = body["code"]
    assert response.headers["Location"] == f"{API}/cases/{code}"
    assert body["state"] == "received" and len(body["tracking_token"]) >= 40
    assert [a["name"] for a in body["attachments"]] == ["ban-quet-đơn.pdf"]
    answer = next(d for d in body["deadlines"] if d["kind"] == "answer")
    assert received.strftime("%d/%m/%Y") in answer["explanation"]

    with app.app_context():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        assert case.channel == "post" and case.received_at == received.astimezone(timezone.utc)
        assert case.answer_due_at.isoformat() == answer["due_at"]
        # The console's operation, given the same received date, computes the same clock.
        with transaction():
            same, _ = receive_feedback({**INTAKE, "external_ref": "CV-78/2026", "received_at": received.isoformat()},
                                       world.user("clerk"), trigger="receive_on_behalf")
        assert same.answer_due_at == case.answer_due_at
        assert case.answer_due_at < utcnow() + timedelta(days=12)  # not counted from today

    # The scan is listed and downloads with the console's headers.
    listed = client.get(f"{API}/cases/{code}/attachments", headers=clerk).get_json()["items"]
    assert [a["name"] for a in listed] == ["ban-quet-đơn.pdf"] and listed[0]["content_type"] == "application/pdf"
    download = client.get(listed[0]["url"], headers=clerk)
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="ban-quet-don.pdf"')
    assert "filename*=UTF-8''ban-quet-%C4%91%C6%A1n.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == ("default-src 'none'; img-src 'self'; sandbox; "
                                                          "base-uri 'none'; frame-ancestors 'none'")
    assert "no-store" in download.headers["Cache-Control"]
    # The same headers as the console's download of the same file.
    login("clerk")
    console = client.get(f"/office/cases/{code}/attachments/{listed[0]['id']}")
    assert console.status_code == 200
    for name in ("Content-Type", "Content-Disposition", "X-Content-Type-Options", "Content-Security-Policy",
                 "Cross-Origin-Resource-Policy"):
        assert download.headers[name] == console.headers[name], name
    assert "no-store" in console.headers["Cache-Control"]  # a staff session's pages: always no-store


def test_intake_is_refused_per_field_by_scope_and_by_role_and_nothing_is_created(app, client, world, api_token):
    now = utcnow().isoformat()
    before = case_count(app)
    reader = api_token("clerk", scopes=("read",))
    refused = client.post(f"{API}/cases", headers=reader, json={**INTAKE, "received_at": now})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "insufficient_scope"
    agency = client.post(f"{API}/cases", headers=api_token("officer_a"), json={**INTAKE, "received_at": now})
    assert agency.status_code == 403
    clerk = api_token("clerk")
    extra = client.post(f"{API}/cases", headers=clerk,
                        json={**INTAKE, "received_at": now, "status": "closed", "agency_id": world.agency_b})
    assert extra.status_code == 422
    assert extra.get_json()["error"]["fields"] == {"status": ["Trường không được chấp nhận."],
                                                  "agency_id": ["Trường không được chấp nhận."]}
    future = client.post(f"{API}/cases", headers=clerk,
                         json={**INTAKE, "received_at": (utcnow() + timedelta(days=2)).isoformat()})
    assert future.status_code == 422 and "received_at" in future.get_json()["error"]["fields"]
    bad64 = client.post(f"{API}/cases", headers=clerk, json={
        **INTAKE, "received_at": now, "attachments": [{"filename": "a.pdf", "content": "không phải base64"}]})
    assert bad64.status_code == 422
    assert bad64.get_json()["error"]["fields"] == {
        "attachments": {"0": {"content": ["Nội dung tệp phải được mã hóa base64."]}}}
    fake = client.post(f"{API}/cases", headers=clerk, json={
        **INTAKE, "received_at": now, "attachments": [{"filename": "scan.pdf", "content": b64(b"MZ\x90 not a pdf")}]})
    assert fake.status_code == 422 and fake.get_json()["error"]["code"] == "upload_rejected"
    assert "scan.pdf" in fake.get_json()["error"]["fields"]["attachments"][0]
    assert case_count(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_citizen_submission_with_staff_fields_is_refused_per_field(app, client, world):
    before = case_count(app)
    response = client.post(f"{API}/feedback", json={**SUBMISSION, "status": "published", "agency_id": 1})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"status": ["Trường không được chấp nhận."],
                                                     "agency_id": ["Trường không được chấp nhận."]}
    assert case_count(app) == before


# -- files, documents, answers: role views ---------------------------------------------------------
def test_an_agency_sees_its_cases_documents_and_files_and_another_agency_gets_404(app, client, world, api_token,
                                                                                make_case):
    officer_a, officer_b, clerk = api_token("officer_a"), api_token("officer_b"), api_token("clerk")
    code, _ = make_case("received")
    other, _ = make_case("received")
    # Forwarding through the API issues the forwarding document, as the console does.
    for case, agency in ((code, "SXD"), (other, "STNMT")):
        assert act(client, clerk, case, "forward", forward_to(agency, "xay_dung")).status_code == 200

    documents = client.get(f"{API}/cases/{code}/documents", headers=officer_a).get_json()["items"]
    assert [d["kind"] for d in documents] == ["forwarding"]
    assert re.fullmatch(r"\d{2,}/VP-KSTT", documents[0]["reference"])
    pdf = client.get(documents[0]["pdf_url"], headers=officer_a)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    docx = client.get(documents[0]["docx_url"], headers=officer_a)
    assert docx.status_code == 200 and docx.data.startswith(b"PK")

    for path in ("", "/documents", "/attachments", "/answers", "/actions"):
        response = client.get(f"{API}/cases/{code}{path}", headers=officer_b)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found", path
    assert client.get(documents[0]["pdf_url"], headers=officer_b).status_code == 404
    # A file of case A through case B's URL is absent, whoever asks.
    file_id = documents[0]["pdf_url"].rsplit("/", 1)[1]
    assert client.get(f"{API}/cases/{other}/attachments/{file_id}", headers=clerk).status_code == 404
    assert client.get(f"{API}/cases/{other}/attachments/{file_id}", headers=officer_b).status_code == 404
    # The other agency's forwarding document is not listed for A.
    assert client.get(f"{API}/cases/{other}/documents", headers=clerk).get_json()["items"][0]["kind"] == "forwarding"


def test_a_draft_carries_files_and_answers_are_listed_in_the_callers_view(app, client, world, api_token, make_case):
    code, _ = make_case("in_progress", agency="SXD")
    officer_a, clerk = api_token("officer_a"), api_token("clerk")
    response = act(client, officer_a, code, "draft_answer", {
        **DRAFT, "attachments": [{"filename": "phu-luc.pdf", "content": b64(simple_pdf())}]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "draft_pending_approval"

    answers = client.get(f"{API}/cases/{code}/answers", headers=officer_a).get_json()["items"]
    assert [(a["revision"], a["status"]) for a in answers] == [(1, "pending_approval")]
    assert answers[0]["summary"] == DRAFT["summary"]
    assert client.get(f"{API}/cases/{code}/answers", headers=clerk).get_json()["items"] == answers
    assert client.get(f"{API}/cases/{code}/answers", headers=api_token("officer_b")).status_code == 404
    files = client.get(f"{API}/cases/{code}/attachments", headers=officer_a).get_json()["items"]
    assert [(f["name"], f["answer_id"] is not None) for f in files] == [("phu-luc.pdf", True)]

    # A refused file leaves no draft behind.
    again, _ = make_case("in_progress", agency="SXD")
    refused = act(client, officer_a, again, "draft_answer", {
        **DRAFT, "attachments": [{"filename": "x.pdf", "content": b64(b"not a pdf")}]})
    assert refused.status_code == 422
    assert client.get(f"{API}/cases/{again}", headers=officer_a).get_json()["state"] == "in_progress"


# -- publication (public) -------------------------------------------------------------------------
def test_published_answers_are_searched_filtered_and_paged_without_personal_data(app, client, world, make_case):
    first, _ = make_case("published", agency="SXD")
    second, _ = make_case("published", agency="STNMT")
    unpublished, _ = make_case("answered", agency="SXD")

    response = client.get(f"{API}/answers")
    assert response.status_code == 200 and "Authorization" not in response.request.headers
    body = response.get_json()
    assert [a["code"] for a in body["items"]] == [second, first] and body["total"] == 2
    text = json.dumps(body, ensure_ascii=False)
    for personal in PERSONAL:
        assert personal not in text
    item = body["items"][0]
    assert set(item) == {"code", "kind", "kind_label", "title", "summary", "answer", "field", "agency",
                         "received_at", "answered_at", "published_at"}
    assert item["agency"] == {"code": "STNMT", "name": "Sở Nông nghiệp và Môi trường"}

    def codes(query):
        response = client.get(f"{API}/answers{query}")
        assert response.status_code == 200, response.get_json()
        return [a["code"] for a in response.get_json()["items"]]

    assert codes("?q=giay phep xay dung") == [second, first]  # without diacritics
    assert codes("?q=GIẤY PHÉP") == [second, first]
    assert codes("?q=khong co trong van ban") == []
    assert codes("?agency=SXD") == [first]
    assert codes("?field=xay_dung&agency=STNMT") == [second]
    assert codes(f"?year={utcnow().astimezone(TZ).year}") == [second, first]
    assert codes("?year=2001") == []

    page = client.get(f"{API}/answers?per_page=1").get_json()
    assert [a["code"] for a in page["items"]] == [second] and page["next_cursor"]
    rest = client.get(page["next"]).get_json()
    assert [a["code"] for a in rest["items"]] == [first] and rest["next_cursor"] is None and rest["next"] is None
    assert codes(f"?per_page=1&after={page['next_cursor']}") == [first]
    bad = client.get(f"{API}/answers?after=nonsense&sort=x")
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"after", "sort"}

    one = client.get(f"{API}/answers/{first}")
    assert one.status_code == 200 and one.get_json()["code"] == first
    assert client.get(f"{API}/answers/{unpublished}").status_code == 404


# -- reference data, reports, plans ------------------------------------------------------------
def test_fields_and_agencies_are_public(client, world):
    assert {f["code"]: f["name"] for f in client.get(f"{API}/fields").get_json()["items"]} == {
        "dat_dai": "Đất đai", "xay_dung": "Xây dựng"}
    agencies = client.get(f"{API}/agencies").get_json()["items"]
    assert agencies[0]["code"] == "VP" and agencies[0]["is_office"] is True
    assert {a["code"] for a in agencies} == {"VP", "SXD", "STNMT"}


def test_a_report_has_the_reports_figures_in_the_callers_scope(app, client, world, api_token, make_case):
    make_case("received")
    make_case("forwarded", agency="SXD")
    make_case("forwarded", agency="STNMT")
    year = utcnow().astimezone(TZ).year
    clerk, officer_a = api_token("clerk"), api_token("officer_a")

    report = client.get(f"{API}/reports/{year}/Y", headers=clerk)
    assert report.status_code == 200, report.get_json()
    body = report.get_json()
    assert body["scope"]["agency"] is None and body["total"]["new"] == 3
    assert body["title"] == f"Năm {year}"
    keys = [c["key"] for c in body["columns"]]
    assert set(body["total"]) == set(keys) and "answered_on_time" in keys
    by_agency = {b["agency"]["name"]: b["total"]["new"] for b in body["blocks"]}
    assert by_agency["Sở Nông nghiệp và Môi trường"] == 1

    own = client.get(f"{API}/reports/{year}/Y", headers=officer_a).get_json()
    assert own["scope"]["agency"]["code"] == "SXD" and own["total"]["new"] == 1
    assert client.get(f"{API}/reports/{year}/Y?agency={world.agency_a}", headers=officer_a).status_code == 200
    assert client.get(f"{API}/reports/{year}/Y?agency={world.agency_b}", headers=officer_a).status_code == 404
    office_view = client.get(f"{API}/reports/{year}/Y?agency={world.agency_b}", headers=clerk).get_json()
    assert office_view["scope"]["agency"]["code"] == "STNMT" and office_view["total"]["new"] == 1
    # The HTML report shows the same scope's figures.
    assert client.get(f"{API}/reports/{year}/Q4", headers=clerk).status_code == 404
    assert client.get(f"{API}/reports/1999/Y", headers=clerk).status_code == 404
    assert client.get(f"{API}/reports/{year}/Y").status_code == 401


def test_plans_are_the_offices_with_their_tasks(app, client, world, api_token):
    from pakn.plans.importer import apply_import
    from pakn.plans.parse import parse_text

    with app.app_context(), transaction():
        plan = apply_import(parse_text(BEN_TRE.read_text(encoding="utf-8"))).plan
        plan_id, code = plan.id, plan.code
    clerk = api_token("clerk")
    plans = client.get(f"{API}/plans", headers=clerk).get_json()["items"]
    assert [(p["id"], p["code"]) for p in plans] == [(plan_id, code)] and plans[0]["task_count"] > 5
    detail = client.get(f"{API}/plans/{plan_id}?year=2026&quarter=2", headers=clerk).get_json()
    assert detail["window_start"] == "2026-04-01" and detail["window_last_day"] == "2026-06-30"
    tasks = detail["tasks"]
    assert len([t for t in tasks if not t["is_group"]]) == plans[0]["task_count"]
    leaf = next(t for t in tasks if not t["is_group"])
    assert leaf["figures"]["handled"] == 0 and leaf["content"]
    assert all(t["figures"] is None for t in tasks if t["is_group"])
    for who in ("officer_a", "lead_a"):
        assert client.get(f"{API}/plans", headers=api_token(who)).status_code == 404
        assert client.get(f"{API}/plans/{plan_id}", headers=api_token(who)).status_code == 404
    assert client.get(f"{API}/plans/{plan_id}?quarter=5", headers=clerk).status_code == 422
    assert client.get(f"{API}/plans/999999", headers=clerk).status_code == 404


# -- the case list: the inbox's filters, keyset paging ---------------------------------------------
def test_the_case_list_has_the_inbox_filters_and_pages_by_keyset(app, client, world, api_token, make_case):
    old = (utcnow() - timedelta(days=40)).astimezone(TZ)
    with app.app_context(), transaction():
        phoned, _ = receive_feedback({**INTAKE, "channel": "phone", "field": "dat_dai", "external_ref": None,
                                      "received_at": old.isoformat()}, world.user("clerk"),
                                     trigger="receive_on_behalf", now=old)
        phoned = phoned.code
    web, _ = make_case("received")
    fwd, _ = make_case("forwarded", agency="SXD")
    clerk = api_token("clerk")

    def codes(query):
        response = client.get(f"{API}/cases{query}", headers=clerk)
        assert response.status_code == 200, response.get_json()
        return [c["code"] for c in response.get_json()["items"]]

    assert codes("?channel=phone") == [phoned]
    assert codes("?field=dat_dai") == [phoned]
    assert codes("?field=xay_dung") == [fwd]  # classified into the field when forwarded
    assert codes("?kind=kien_nghi") == []
    assert codes(f"?to={(old + timedelta(days=1)).date().isoformat()}") == [phoned]
    assert codes(f"?from={(old + timedelta(days=1)).date().isoformat()}") == [fwd, web]
    assert codes("?due=overdue") == [phoned] == codes("?overdue=true")
    assert codes("?clerk=none") == [fwd, web, phoned]

    first = client.get(f"{API}/cases?per_page=2&after=", headers=clerk)
    assert first.status_code == 422  # an empty cursor is not a cursor
    first = client.get(f"{API}/cases?per_page=2", headers=clerk).get_json()
    assert [c["code"] for c in first["items"]] == [fwd, web] and first["total"] == 3
    second = client.get(f"{API}/cases?per_page=2&after={first['next_cursor']}", headers=clerk).get_json()
    assert [c["code"] for c in second["items"]] == [phoned] and second["page"] is None
    assert second["next_cursor"] is None and second["next"] is None
    bad = client.get(f"{API}/cases?after=xyz&due=later&field=nope&channel=fax", headers=clerk)
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"after", "due", "field", "channel"}
    # An agency's list under the same filters holds only its own cases.
    assert [c["code"] for c in client.get(f"{API}/cases?field=xay_dung",
                                          headers=api_token("officer_b")).get_json()["items"]] == []


# -- tokens ------------------------------------------------------------------------------------------
def test_a_revoked_token_reaches_nothing_and_a_read_token_only_reads(app, client, world, api_token, make_case):
    code, _ = make_case("forwarded", agency="SXD")
    token = api_token("officer_a")
    assert client.get(f"{API}/cases/{code}/attachments", headers=token).status_code == 200
    assert client.delete(f"{API}/auth/token", headers=token).status_code == 204
    for path in (f"/cases/{code}/attachments", f"/cases/{code}/documents", f"/cases/{code}/answers",
                 f"/reports/{utcnow().year}/Y", "/cases"):
        response = client.get(f"{API}{path}", headers=token)
        assert response.status_code == 401 and response.get_json()["error"]["code"] == "invalid_token", path
    reader = api_token("officer_a", scopes=("read",))
    assert client.get(f"{API}/cases/{code}/documents", headers=reader).status_code == 200
    refused = act(client, reader, code, "accept", {})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "insufficient_scope"


# -- the description and its page ---------------------------------------------------------------------
def test_the_openapi_document_validates_and_describes_every_endpoint(app, client, world):
    from openapi_spec_validator import validate

    from workflows.pakn import WORKFLOW

    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.content_type == "application/json"
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.0")
    paths = spec["paths"]
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in (
                "api.openapi", "api.docs", "api.docs_asset", "api.case_action", "api.submitter_action"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in paths[path], (method, path)
    schemas = spec["components"]["schemas"]
    forward = paths["/api/v1/cases/{code}/actions/forward"]["post"]
    body = forward["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schemas[body]["required"]) == {"agency", "subject", "content_category", "field"}
    assert schemas[body]["additionalProperties"] is False
    assert {"401", "403", "404", "409", "422", "428"} <= set(forward["responses"])
    for trigger, transition in WORKFLOW.transitions.items():
        if not transition.creates and set(transition.roles) - {"submitter", "system"}:
            assert f"/api/v1/cases/{{code}}/actions/{trigger}" in paths, trigger
    for path, item in paths.items():
        for method, op in item.items():
            for status, answer in op["responses"].items():
                if int(status) >= 400:
                    assert answer["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorEnvelope"}, (path, method, status)
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerToken"]["scheme"] == "bearer" and schemes["trackingToken"]["name"] == "X-Tracking-Token"
    assert paths["/api/v1/cases"]["post"]["x-required-scope"] == "write"
    assert paths["/api/v1/cases"]["get"]["responses"]["401"]["headers"]["WWW-Authenticate"]["required"] is True
    assert "Retry-After" in paths["/api/v1/auth/token"]["post"]["responses"]["429"]["headers"]
    assert paths["/api/v1/answers"]["get"]["security"] == []


def test_the_docs_page_loads_everything_from_our_origin_under_the_csp(client, world):
    page = client.get(f"{API}/docs")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    html = page.get_data(as_text=True)
    assert "<script>" not in html and "style=" not in html  # no inline script or style
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") for u in urls)
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert "swagger-ui" in client.get("/static/api/docs.js").get_data(as_text=True)
    assert client.get(f"{API}/docs/assets/../../pakn/config.py").status_code == 404


def test_submitting_through_the_api_issues_the_answer_document_as_the_agency_portal(app, client, world,
                                                                                    api_token, make_case):
    code, _ = make_case("answer_approved", agency="SXD")
    officer_a = api_token("officer_a")
    bad = act(client, officer_a, code, "submit_answer", {"signer_name": "", "signer_authority": "GIÁM ĐỐC",
                                                         "document_number": "1/SXD"})
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"] == {
        "signer_name": ["Nhập họ tên người ký (tối đa 200 ký tự)."],
        "document_number": ["Trường không được chấp nhận."]}
    done = act(client, officer_a, code, "submit_answer", {"signer_name": "Lê Văn Cường",
                                                          "signer_authority": "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["state"] == "answered"
    documents = client.get(f"{API}/cases/{code}/documents", headers=officer_a).get_json()["items"]
    answer_doc = next(d for d in documents if d["kind"] == "answer")
    assert re.fullmatch(r"\d{2,}/SXD(-[A-Z]+)?", answer_doc["reference"]), answer_doc["reference"]
    answers = client.get(f"{API}/cases/{code}/answers", headers=officer_a).get_json()["items"]
    assert answers[-1]["document_number"] == answer_doc["reference"]
    pdf = client.get(answer_doc["pdf_url"], headers=officer_a)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    # The other agency sees none of it.
    assert client.get(answer_doc["pdf_url"], headers=api_token("officer_b")).status_code == 404
