"""The submitter answers a request for more information from the status page."""
from sqlalchemy import select

from pakn.extensions import db
from pakn.models import AuditEvent, Feedback, OutboxMessage
from pakn.operations import apply_transition, transaction

from .conftest import csrf_token

REPLY = "Tôi nộp hồ sơ ngày 02/11/2026 tại bộ phận một cửa, biên nhận số 123/BN."


def _case(app, code: str) -> Feedback:
    with app.app_context():
        return db.session.scalar(select(Feedback).where(Feedback.code == code))


def _open_status(client, code: str, token: str) -> str:
    assert client.get(f"/tra-cuu/{code}?token={token}").status_code == 303
    return client.get(f"/tra-cuu/{code}").get_data(as_text=True)


def _reply(client, code: str, html: str, message: str):
    return client.post(f"/tra-cuu/{code}/bo-sung", data={"message": message, "csrf_token": csrf_token(html)})


def test_the_submitter_answers_the_offices_request_and_the_case_returns_to_classification(app, client, make_case):
    code, token = make_case("needs_info")
    html = _open_status(client, code, token)
    assert "Gửi thông tin bổ sung" in html and "Văn phòng UBND tỉnh đề nghị bạn bổ sung" in html
    response = _reply(client, code, html, REPLY)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã gửi thông tin bổ sung" in page and "Người gửi đã bổ sung thông tin" in page
    assert "Gửi thông tin bổ sung</button>" not in page  # nothing more is awaited
    assert _case(app, code).state == "received"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "supply_info"))
        assert event.data["message"] == REPLY and event.actor_role == "submitter"


def test_the_submitter_answers_the_agencys_request_and_the_agency_is_told(app, client, world, make_case):
    code, token = make_case("in_progress")
    with app.app_context(), transaction():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        apply_transition(case, "agency_request_info", world.user("officer_a"),
                         {"message": "Đề nghị cung cấp số biên nhận hồ sơ."})
    html = _open_status(client, code, token)
    assert "Cơ quan xử lý đề nghị bạn bổ sung" in html and "Đề nghị cung cấp số biên nhận hồ sơ." in html
    assert _reply(client, code, html, REPLY).status_code == 303
    case = _case(app, code)
    assert case.state == "in_progress" and case.info_requested_at is None
    with app.app_context():
        kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.feedback_id == case.id)).all()
    assert "agency.info_supplied" in kinds


def test_an_empty_reply_is_refused_next_to_the_field_and_changes_nothing(app, client, make_case):
    code, token = make_case("needs_info")
    html = _open_status(client, code, token)
    response = _reply(client, code, html, "   ")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error-summary"' in page and 'id="message-error"' in page
    assert _case(app, code).state == "needs_info"


def test_no_reply_without_an_open_request_or_without_tracking_the_case(app, client, make_case):
    code, token = make_case("forwarded")
    html = _open_status(client, code, token)
    assert "Gửi thông tin bổ sung</button>" not in html
    html = client.get("/tra-cuu").get_data(as_text=True)  # a page with a form, for a valid CSRF token
    response = _reply(client, code, html, REPLY)
    assert response.status_code == 409 and "không chờ bổ sung thông tin" in response.get_data(as_text=True)
    other, _ = make_case("needs_info")
    assert _reply(client, other, html, REPLY).status_code == 404  # this browser never tracked it
    assert _case(app, other).state == "needs_info"
