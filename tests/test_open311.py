"""Open311 GeoReport v2 (/open311/v2): discovery, services, filing and following requests in
JSON and XML, with the standard's field names and error format, and no personal data out."""
from __future__ import annotations

import json
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from pakn.auth.tokens import issue_token
from pakn.extensions import db
from pakn.models import AuditEvent, Feedback, OutboxMessage
from pakn.models.types import utcnow
from pakn.operations import SystemActor, apply_transition, receive_feedback, transaction
from pakn.scenarios import SUBMISSION, drive, path_to
from workflows.calendar import TZ

BASE = "/open311/v2"
# Canaries: personal data that must never come out of a GET.
NAME_FIRST, NAME_LAST = "Trần Thị", "Canary"
PHONE = "0987654321"
EMAIL = "canary.open311@example.com"
HOME = "Số 99 hẻm Canary, phường 2, tỉnh Vĩnh Long"
PLACE = "chợ phường Canary"
CONTENT = ("Thủ tục đăng ký hộ kinh doanh yêu cầu nộp bản sao chứng thực giấy tờ đã có trong cơ sở dữ liệu "
           "quốc gia về dân cư, gây tốn thời gian và chi phí cho người dân.")


@pytest.fixture
def key(app, world):
    """``key(scopes=("open311",))`` → a raw api_key issued to the admin."""
    def make(scopes=("open311",), name="Ứng dụng thành phố"):
        with app.app_context(), transaction():
            raw, _ = issue_token(world.user("admin"), name=name, scopes=scopes)
        return raw
    return make


def _form(api_key: str | None, **overrides) -> dict:
    data = {
        "api_key": api_key, "service_code": "xay_dung", "description": CONTENT,
        "first_name": NAME_FIRST, "last_name": NAME_LAST, "phone": PHONE, "email": EMAIL,
        "lat": "10.2537", "long": "105.9722", "address_string": PLACE,
        "media_url": "https://anh.example.org/ho-so/1.jpg",
        "attribute[kind]": "phan_anh",
        "attribute[subject]": "Yêu cầu bản sao chứng thực giấy tờ đã có trên cơ sở dữ liệu",
        "attribute[submitter_address]": HOME,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _errors(response) -> list[dict]:
    """The standard's error list, from JSON or XML."""
    if response.mimetype == "text/xml":
        root = ET.fromstring(response.data)
        assert root.tag == "errors"
        return [{"code": int(e.findtext("code")), "description": e.findtext("description")}
                for e in root.findall("error")]
    body = response.get_json()
    assert isinstance(body, list)
    return body


def _case(code: str) -> Feedback:
    return db.session.scalar(select(Feedback).where(Feedback.code == code))


def _post(client, api_key, fmt="json", **overrides):
    return client.post(f"{BASE}/requests.{fmt}", data=_form(api_key, **overrides))


def _drive(app, world, code: str, state: str, publish: dict | None = None) -> None:
    with app.app_context(), transaction():
        case = _case(code)
        steps = path_to(state, "SXD", world.fields[0])
        if publish:
            steps = [(t, w, publish if t == "publish" else p) for t, w, p in steps]
        who = {"clerk": "clerk", "lead": "lead", "officer": "officer_a", "agency_lead": "lead_a"}
        drive(case, steps, lambda k: world.user(who[k]), apply_transition)


# -- discovery and services ---------------------------------------------------------------------
def test_discovery_in_both_formats(client, world):
    body = client.get(f"{BASE}/discovery.json").get_json()
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert "api_key" in body["key_service"]

    root = ET.fromstring(client.get(f"{BASE}/discovery.xml").data)
    assert root.tag == "discovery"
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


def test_services_one_per_field(client, world):
    services = client.get(f"{BASE}/services.json").get_json()
    assert {s["service_code"]: s["service_name"] for s in services} == {"xay_dung": "Xây dựng", "dat_dai": "Đất đai"}
    assert all(s["metadata"] is True and s["type"] == "realtime" for s in services)

    response = client.get(f"{BASE}/services.xml")
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "services"
    assert sorted(s.findtext("service_code") for s in root.findall("service")) == ["dat_dai", "xay_dung"]
    assert root.find("service/metadata").text == "true"


def test_service_definition_has_our_attributes(client, world):
    body = client.get(f"{BASE}/services/xay_dung.json").get_json()
    assert body["service_code"] == "xay_dung"
    attributes = {a["code"]: a for a in body["attributes"]}
    assert list(attributes) == ["kind", "subject", "proposal", "submitter_address", "organisation"]
    kind = attributes["kind"]
    assert kind["datatype"] == "singlevaluelist" and kind["required"] is True and kind["order"] == 1
    assert {v["key"]: v["name"] for v in kind["values"]} == {"phan_anh": "Phản ánh", "kien_nghi": "Kiến nghị"}
    assert attributes["subject"]["required"] is True and "Tiêu đề" in attributes["subject"]["description"]
    for a in body["attributes"]:
        assert {"variable", "code", "datatype", "required", "datatype_description", "order", "description"} <= set(a)

    root = ET.fromstring(client.get(f"{BASE}/services/xay_dung.xml").data)
    assert root.tag == "service_definition"
    first = root.find("attributes/attribute")
    assert first.findtext("code") == "kind" and first.findtext("required") == "true"
    assert [v.findtext("key") for v in first.findall("values/value")] == ["phan_anh", "kien_nghi"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_is_404_in_the_standard_format(client, world, fmt):
    response = client.get(f"{BASE}/services/khong_co.{fmt}")
    assert response.status_code == 404
    (error,) = _errors(response)
    assert error["code"] == 404 and "khong_co" in error["description"]


# -- POST requests ------------------------------------------------------------------------------
def test_post_json_creates_the_case_with_field_kind_and_submitter(app, client, key):
    api_key = key()
    response = _post(client, api_key)
    assert response.status_code == 200, response.data
    (created,) = response.get_json()
    code = created["service_request_id"]
    assert code.startswith("PAKN-") and created["account_id"] is None
    assert "Hạn trả lời" in created["service_notice"]
    assert "token" not in created  # the tracking token goes to the submitter, not to the client
    with app.app_context():
        case = _case(code)
        assert case.channel == "api" and case.state == "received"
        assert case.field.code == "xay_dung" and case.kind == "phan_anh"
        assert case.title == "Yêu cầu bản sao chứng thực giấy tờ đã có trên cơ sở dữ liệu"
        assert case.content == CONTENT
        assert case.submitter_name == f"{NAME_FIRST} {NAME_LAST}"
        assert (case.submitter_phone, case.submitter_email, case.submitter_address) == (PHONE, EMAIL, HOME)
        assert (case.location_lat, case.location_long, case.location_address) == (10.2537, 105.9722, PLACE)
        assert case.reference_urls == ["https://anh.example.org/ho-so/1.jpg"]
        assert case.answer_due_at is not None
        receipt = db.session.scalar(select(OutboxMessage).where(OutboxMessage.feedback_id == case.id))
        assert receipt.kind == "submitter.receipt"  # the receipt carries the tracking link
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.feedback_id == case.id))
        assert event.action == "receive_on_behalf" and event.actor_label == "Open311: Ứng dụng thành phố"


def test_post_xml_and_json_body_with_attribute_object(app, client, key):
    api_key = key()
    response = _post(client, api_key, fmt="xml", **{
        "attribute[kind]": "kien_nghi", "attribute[proposal]": "Bỏ yêu cầu nộp bản sao đối với giấy tờ đã có.",
        "attribute[organisation]": "Hộ kinh doanh Canary"})
    assert response.status_code == 200 and response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "service_requests"
    code = root.findtext("request/service_request_id")
    assert code.startswith("PAKN-") and root.find("request/service_notice").text

    body = {"api_key": api_key, "service_code": "dat_dai", "description": CONTENT, "first_name": "Lê",
            "last_name": "Bình", "email": "binh@example.com",
            "attribute": {"kind": "phan_anh", "subject": "Thủ tục đăng ký đất đai rườm rà",
                          "submitter_address": "Xã Long Hồ, tỉnh Vĩnh Long"}}
    response = client.post(f"{BASE}/requests.json", json=body)
    assert response.status_code == 200, response.data
    with app.app_context():
        kien_nghi = _case(code)
        assert kien_nghi.kind == "kien_nghi" and kien_nghi.submitter_organisation == "Hộ kinh doanh Canary"
        assert kien_nghi.proposal.startswith("Bỏ yêu cầu")
        other = _case(response.get_json()[0]["service_request_id"])
        assert other.field.code == "dat_dai" and other.location_lat is None and other.submitter_phone is None


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_errors_in_the_standard_format(client, key, fmt):
    missing = _post(client, None, fmt=fmt)
    assert missing.status_code == 403
    assert _errors(missing) == [{"code": 403, "description": "Thiếu api_key."}]

    read_only = _post(client, key(scopes=("read", "write")), fmt=fmt)
    assert read_only.status_code == 403 and "api_key" in _errors(read_only)[0]["description"]
    assert _post(client, "khong-phai-khoa", fmt=fmt).status_code == 403

    api_key = key()
    no_service = _post(client, api_key, fmt=fmt, service_code=None)
    assert no_service.status_code == 400
    assert _errors(no_service)[0]["description"] == "service_code: bắt buộc."
    assert _post(client, api_key, fmt=fmt, service_code="khong_co").status_code == 400

    bad = _post(client, api_key, fmt=fmt, description="ngắn", **{"attribute[kind]": "khieu_nai", "email": None,
                                                                "phone": None})
    assert bad.status_code == 400
    described = {e["description"].split(":")[0] for e in _errors(bad)}
    assert {"description", "attribute[kind]", "phone", "email"} <= described
    assert all(e["code"] == 400 for e in _errors(bad))
    assert any("Tối thiểu 20 ký tự" in e["description"] for e in _errors(bad))

    unknown = _post(client, api_key, fmt=fmt, **{"attribute[color]": "red"})
    assert unknown.status_code == 400 and "attribute[color]" in _errors(unknown)[0]["description"]
    half = _post(client, api_key, fmt=fmt, long=None)
    assert half.status_code == 400 and _errors(half)[0]["description"].startswith("lat, long")
    assert _post(client, api_key, fmt=fmt, lat="91", long="0").status_code == 400
    assert _post(client, api_key, fmt=fmt, lat="abc").status_code == 400


def test_post_is_rate_limited_per_key(app, client, key):
    app.config["OPEN311_POST_LIMIT"] = "2 per hour"
    try:
        api_key, other = key(), key()
        assert [_post(client, api_key).status_code for _ in range(3)] == [200, 200, 429]
        (error,) = _errors(_post(client, api_key))
        assert error["code"] == 429
        assert _post(client, other).status_code == 200  # another client has its own budget
    finally:
        app.config["OPEN311_POST_LIMIT"] = "120 per hour;1000 per day"


def test_unknown_path_and_method(client, world):
    assert _errors(client.get(f"{BASE}/services.csv"))[0]["code"] == 404
    response = client.get(f"{BASE}/khong-co.xml")
    assert response.status_code == 404 and response.mimetype == "text/xml"
    wrong_method = client.put(f"{BASE}/requests.json")
    assert wrong_method.status_code == 405 and _errors(wrong_method)[0]["code"] == 405
    assert client.post(f"{BASE}/services.xml").status_code == 405


# -- GET requests -------------------------------------------------------------------------------
def _old_case(app, days: int) -> str:
    """A case received ``days`` ago (an item entered later with its real received date)."""
    with app.app_context(), transaction():
        received = (utcnow() - timedelta(days=days)).isoformat()
        case, _ = receive_feedback({**SUBMISSION, "channel": "post", "received_at": received, "field": "dat_dai"},
                                   SystemActor(), trigger="receive_on_behalf")
        return case.code


def test_get_requests_filters_and_window(app, client, key, make_case):
    api_key = key()
    new = _post(client, api_key).get_json()[0]["service_request_id"]
    rejected, _ = make_case("rejected")
    old = _old_case(app, 120)
    recent_land = _old_case(app, 10)

    listed = [r["service_request_id"] for r in client.get(f"{BASE}/requests.json").get_json()]
    assert set(listed) == {new, rejected, recent_land}  # the last 90 days by default, newest first
    assert listed[-1] == recent_land

    assert [r["service_request_id"] for r in client.get(f"{BASE}/requests.json?service_code=dat_dai").get_json()] \
        == [recent_land]
    closed = client.get(f"{BASE}/requests.json?status=closed").get_json()
    assert [r["service_request_id"] for r in closed] == [rejected]
    assert {r["service_request_id"] for r in client.get(f"{BASE}/requests.json?status=open").get_json()} \
        == {new, recent_land}

    start = (utcnow() - timedelta(days=130)).astimezone(TZ).isoformat(timespec="seconds")
    end = (utcnow() - timedelta(days=100)).astimezone(TZ).isoformat(timespec="seconds")
    window = client.get(f"{BASE}/requests.json", query_string={"start_date": start, "end_date": end}).get_json()
    assert [r["service_request_id"] for r in window] == [old]
    only_start = client.get(f"{BASE}/requests.json", query_string={"start_date": start}).get_json()
    assert [r["service_request_id"] for r in only_start] == [old]  # 90 days from the start

    by_id = client.get(f"{BASE}/requests.json", query_string={
        "service_request_id": f"{old},{new}", "status": "closed"}).get_json()  # other filters ignored
    assert {r["service_request_id"] for r in by_id} == {old, new}

    xml = ET.fromstring(client.get(f"{BASE}/requests.xml?status=closed").data)
    assert xml.tag == "service_requests"
    assert [r.findtext("service_request_id") for r in xml.findall("request")] == [rejected]
    assert xml.find("request/status").text == "closed"

    too_long = client.get(f"{BASE}/requests.json", query_string={
        "start_date": "2026-01-01T00:00:00+07:00", "end_date": "2026-06-01T00:00:00+07:00"})
    assert too_long.status_code == 400 and "90" in _errors(too_long)[0]["description"]
    assert client.get(f"{BASE}/requests.xml?start_date=hom-qua").status_code == 400
    assert _errors(client.get(f"{BASE}/requests.json?status=pending"))[0]["description"].startswith("status")


def test_get_one_request_and_unknown(app, client, key):
    code = _post(client, key()).get_json()[0]["service_request_id"]
    (one,) = client.get(f"{BASE}/requests/{code}.json").get_json()
    assert one["service_request_id"] == code and one["status"] == "open"
    assert one["status_notes"] == "Đã tiếp nhận"
    assert one["service_code"] == "xay_dung" and one["service_name"] == "Xây dựng"
    assert one["description"] is None and one["agency_responsible"] is None  # nothing published yet
    with app.app_context():
        case = _case(code)
        assert one["expected_datetime"] == case.answer_due_at.astimezone(TZ).isoformat(timespec="seconds")
        assert one["requested_datetime"] == case.received_at.astimezone(TZ).isoformat(timespec="seconds")
    expected_fields = {"service_request_id", "status", "status_notes", "service_name", "service_code",
                       "description", "agency_responsible", "service_notice", "requested_datetime",
                       "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
                       "long", "media_url"}
    assert set(one) == expected_fields

    root = ET.fromstring(client.get(f"{BASE}/requests/{code}.xml").data)
    assert root.findtext("request/service_request_id") == code
    assert {child.tag for child in root.find("request")} == expected_fields

    for fmt in ("json", "xml"):
        missing = client.get(f"{BASE}/requests/PAKN-2020-999999.{fmt}")
        assert missing.status_code == 404 and _errors(missing)[0]["code"] == 404


@pytest.mark.parametrize("state, status", [
    ("received", "open"), ("needs_info", "open"), ("forwarded", "open"), ("answered", "open"),
    ("notified", "open"), ("published", "closed"), ("closed", "closed"), ("rejected", "closed"),
    ("merged", "closed"), ("withdrawn", "closed"),
])
def test_status_mapping(client, make_case, state, status):
    code, _ = make_case(state)
    (one,) = client.get(f"{BASE}/requests/{code}.json").get_json()
    assert one["status"] == status


def test_published_answer_gives_notes_agency_and_public_address(app, client, key, world):
    from pakn.scenarios import PUBLISH

    api_key = key()
    plain = _post(client, api_key).get_json()[0]["service_request_id"]
    named = _post(client, api_key).get_json()[0]["service_request_id"]
    _drive(app, world, plain, "published")
    _drive(app, world, named, "closed", publish={
        **PUBLISH, "public_summary": f"Phản ánh về thủ tục tại {PLACE.capitalize()} đã được giải quyết."})

    (one,) = client.get(f"{BASE}/requests/{plain}.json").get_json()
    assert one["status"] == "closed"
    assert one["status_notes"] == PUBLISH["public_answer"]
    assert one["agency_responsible"] == "Sở Xây dựng"
    assert one["description"].startswith(PUBLISH["public_title"])
    assert one["address"] is None  # the place is not in the published text
    with app.app_context():
        assert one["expected_datetime"] == _case(plain).answer_due_at.astimezone(TZ).isoformat(timespec="seconds")

    root = ET.fromstring(client.get(f"{BASE}/requests/{named}.xml").data)
    assert root.findtext("request/address") == PLACE  # named by the published text, so public
    assert root.findtext("request/agency_responsible") == "Sở Xây dựng"
    assert root.findtext("request/status_notes") == PUBLISH["public_answer"]


def test_rejected_notes_say_why(client, make_case):
    code, _ = make_case("rejected")
    (one,) = client.get(f"{BASE}/requests/{code}.json").get_json()
    assert one["status_notes"] == "Không tiếp nhận: Khiếu nại"


def test_tokens_answer_the_case_code(client, make_case):
    code, token = make_case()
    for fmt in ("json", "xml"):
        response = client.get(f"{BASE}/tokens/{token}.{fmt}")
        assert response.status_code == 200
    assert client.get(f"{BASE}/tokens/{token}.json").get_json() == [{"service_request_id": code, "token": token}]
    root = ET.fromstring(client.get(f"{BASE}/tokens/{token}.xml").data)
    assert root.findtext("request/service_request_id") == code
    assert client.get(f"{BASE}/tokens/khong-co.json").status_code == 404


def test_no_personal_data_in_any_get(app, client, key, world):
    api_key = key()
    open_code = _post(client, api_key).get_json()[0]["service_request_id"]
    published_code = _post(client, api_key).get_json()[0]["service_request_id"]
    _drive(app, world, published_code, "published")
    with app.app_context():
        # the tracking token is not known here (it went to the receipt): look one up by a new case
        case, token = None, None
        with transaction():
            case, token = receive_feedback({
                **SUBMISSION, "submitter_name": f"{NAME_FIRST} {NAME_LAST}", "submitter_phone": PHONE,
                "submitter_email": EMAIL, "submitter_address": HOME, "channel": "api",
                "received_at": utcnow().isoformat(), "location_address": PLACE, "location_lat": 10.25,
                "location_long": 105.97}, SystemActor(), trigger="receive_on_behalf")
    pages = []
    for fmt in ("json", "xml"):
        pages += [client.get(f"{BASE}/requests.{fmt}"),
                  client.get(f"{BASE}/requests.{fmt}?service_request_id={open_code},{published_code}"),
                  client.get(f"{BASE}/requests/{open_code}.{fmt}"),
                  client.get(f"{BASE}/requests/{published_code}.{fmt}"),
                  client.get(f"{BASE}/tokens/{token}.{fmt}")]
    assert all(p.status_code == 200 for p in pages)
    text = "\n".join(p.get_data(as_text=True) for p in pages)
    assert open_code in text and published_code in text
    for canary in ("Canary", "canary", PHONE, EMAIL, HOME, "105.97", "10.25", "anh.example.org", CONTENT[:40]):
        assert canary not in text, canary
    # and the JSON answers are well-formed lists of the standard's objects
    assert all(isinstance(json.loads(p.data), list) for p in pages if p.mimetype == "application/json")
