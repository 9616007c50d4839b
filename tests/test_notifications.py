"""Notifications delivered in-process (no Redis): every message's text, idempotence, retries,
permanent failures flagged to staff, SMS through a gateway, the staff bell, digests.

A real SMTP server (aiosmtpd) and a real HTTP SMS gateway run on 127.0.0.1 for each test.
"""
from __future__ import annotations

import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from flask import current_app
import time_machine
from sqlalchemy import func, select

from notifications import kinds
from notifications.errors import RetryLater
from notifications.jobs import backoff, deliver, deliver_many
from notifications.relay import relay_pending
from pakn.deadlines.sweep import run_sweep
from pakn.extensions import db
from pakn.models import AuditEvent, Delivery, Feedback, Notification, OutboxMessage, StageVisit, User
from pakn.models.types import utcnow
from pakn.operations import SubmitterActor, apply_transition, find_by_tracking, receive_feedback, transaction
from pakn.scenarios import DRAFT, SUBMISSION, forward_to

from .conftest import csrf_token
from workflows.calendar import TZ

from .notify_support import SmsGatewayServer, SmtpSink, free_port
from .test_deadlines import concurrent_sweeps
from .test_web import compiled_catalogs, english  # noqa: F401 (fixtures)

SUBMITTER = SUBMISSION["submitter_email"]


@pytest.fixture
def sink():
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture
def notify(app, sink, monkeypatch):
    """Deliver after every commit, in-process, to the test's SMTP sink."""
    for key, value in {"NOTIFY_AFTER_COMMIT": True, "REDIS_URL": None, "SMTP_HOST": "127.0.0.1",
                       "SMTP_PORT": sink.port, "SMTP_SECURITY": "none", "SMTP_TIMEOUT": 10,
                       "MAIL_SENDER": "PAKN Vĩnh Long <no-reply@vinhlong.test>",
                       "TRACKING_URL": "https://pakn.vinhlong.test/tra-cuu", "SMS_GATEWAY_URL": "",
                       "PUBLIC_BASE_URL": "https://pakn.vinhlong.test",
                       "NOTIFY_RETRY_BASE": 30, "NOTIFY_RETRY_CAP": 600, "NOTIFY_MAX_ATTEMPTS": 5}.items():
        monkeypatch.setitem(app.config, key, value)
    return sink


def rows(kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def subject(msg) -> str:
    return str(msg["Subject"])


def one(messages, pattern: str):
    found = [m for m in messages if re.search(pattern, subject(m))]
    assert len(found) == 1, (pattern, [subject(m) for m in messages])
    return found[0]


def act(code: str, trigger: str, user: User, payload: dict | None = None) -> None:
    with transaction():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        apply_transition(case, trigger, user, payload or {})


# -- templates ---------------------------------------------------------------------------
def test_every_kind_the_workflow_sweep_and_digests_emit_has_text_and_html_templates(app):
    names = set(app.jinja_env.list_templates())
    emitted = set(kinds.workflow_kinds()) | set(kinds.SWEEP_KINDS) | set(kinds.DIGEST_KINDS)
    assert {"submitter.receipt", "agency.forwarded", "submitter.answered"} <= emitted
    for kind in emitted:
        assert f"emails/{kind}.txt" in names and f"emails/{kind}.html" in names, kind
        if not kind.startswith("submitter."):
            assert kind in kinds.LABELS, f"no in-app label for {kind}"


def test_backoff_doubles_and_is_capped(app):
    config = {"NOTIFY_RETRY_BASE": 30, "NOTIFY_RETRY_CAP": 3600}
    assert [backoff(n, config) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


# -- every message, with its text -----------------------------------------------------------
def test_receipt_carries_code_and_a_working_tracking_link_and_the_token_is_erased(ctx, world, notify):
    with transaction():
        case, token = receive_feedback(SUBMISSION, SubmitterActor())
    msg = one(notify.to(SUBMITTER), re.escape(case.code))
    text, html = notify.text(msg), notify.html(msg)
    assert "Xác nhận đã tiếp nhận phản ánh, kiến nghị" in subject(msg)
    assert case.code in text and SUBMISSION["title"] in text and case.code in html
    link = re.search(r"https://pakn\.vinhlong\.test/tra-cuu/\S+", text).group(0)
    url = urlparse(link)
    assert url.path == f"/tra-cuu/{case.code}"
    assert find_by_tracking(case.code, parse_qs(url.query)["token"][0]) is not None
    # The link opens the submitter's status page on the portal.
    browser = current_app.test_client()
    opened = browser.get(f"{url.path}?{url.query}")
    assert opened.status_code == 303 and opened.headers["Location"].endswith(f"/tra-cuu/{case.code}")
    assert case.code in browser.get(opened.headers["Location"]).get_data(as_text=True)
    assert msg["Message-ID"].startswith(f"<pakn.outbox-{rows()[0].id}.")
    assert "Vĩnh Long" in str(msg["From"])
    row = rows("submitter.receipt")[0]
    assert row.status == "sent" and "tracking_sealed" not in row.payload  # the token is gone
    assert token not in str(row.payload)


def test_each_workflow_message_arrives_with_the_right_text(ctx, world, notify):
    run_workflow_and_check_mails(world, notify, wait=lambda: None)


def run_workflow_and_check_mails(world, notify, wait):
    """Drive one case through every message-writing step, then check each mail's text.

    ``wait()`` returns once every outbox row is delivered (immediately in-process; with RQ
    workers it polls). Shared with tests/test_notifications_workers.py.
    """
    clerk, officer, lead = world.user("clerk"), world.user("officer_a"), world.user("lead_a")
    with transaction():
        db.session.get(type(clerk.agency), world.agency_a).email = "vanthu@sxd.vinhlong.test"
        db.session.get(type(clerk.agency), world.office).email = "vanthu@vp.vinhlong.test"
        case, _ = receive_feedback(SUBMISSION, SubmitterActor())
    code = case.code
    act(code, "request_info", clerk, {"message": "Đề nghị cho biết số biên nhận hồ sơ."})
    with transaction():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        apply_transition(case, "supply_info", SubmitterActor(case_id=case.id), {"message": "Số biên nhận 123/BN."})
    act(code, "forward", clerk, {"subject": "quy_dinh", "content_category": "2", "field": "xay_dung", "agency": "SXD"})
    act(code, "return_not_competent", officer, {"reason": "Thuộc thẩm quyền UBND cấp xã.", "suggested_agency": "STNMT"})
    act(code, "forward", clerk, {"subject": "quy_dinh", "content_category": "2", "field": "xay_dung", "agency": "SXD"})
    act(code, "accept", officer)
    act(code, "post_progress", officer, {"message": "Sở đang làm việc với bộ phận một cửa."})
    act(code, "draft_answer", officer, DRAFT)
    act(code, "send_back_draft", lead, {"comment": "Bổ sung căn cứ pháp lý."})
    act(code, "draft_answer", officer, DRAFT)
    act(code, "approve_answer", lead)
    act(code, "submit_answer", officer, {"document_number": "125/SXD-QLXD"})
    act(code, "return_answer", clerk, {"message": "Trả lời chưa đúng trọng tâm nội dung phản ánh."})
    act(code, "draft_answer", officer, DRAFT)
    act(code, "approve_answer", lead)
    act(code, "submit_answer", officer, {"document_number": "126/SXD-QLXD"})
    act(code, "accept_answer", clerk)
    act(code, "notify", clerk)
    act(code, "publish", clerk, {"public_title": "Thời hạn cấp giấy phép xây dựng",
                                 "public_summary": "Tóm tắt công khai.", "public_answer": DRAFT["body"]})

    wait()
    db.session.expire_all()
    assert {r.status for r in rows()} == {"sent"}, [(r.kind, r.status, r.last_error) for r in rows()]
    mine = notify.to(SUBMITTER)
    assert "Số biên nhận hồ sơ" not in "".join(subject(m) for m in mine)
    info = one(mine, "Đề nghị bổ sung thông tin")
    assert "Đề nghị cho biết số biên nhận hồ sơ." in notify.text(info) and code in notify.text(info)
    assert "token=" not in notify.text(info)  # later messages: the page and the code, never a token
    progress = one(mine, "Cập nhật tiến độ")
    assert "Sở đang làm việc với bộ phận một cửa." in notify.text(progress) and "Sở Xây dựng" in notify.text(progress)
    answered = one(mine, "Kết quả trả lời phản ánh")
    assert DRAFT["body"] in notify.text(answered) and "126/SXD-QLXD" in notify.text(answered)
    published = one(mine, "đã được công khai")
    assert "Thời hạn cấp giấy phép xây dựng" in notify.text(published)
    for msg in mine:  # a submitter's mails never name them or echo their contact details
        assert SUBMISSION["submitter_name"] not in notify.text(msg) + notify.html(msg)

    # The agency: every active member and the agency's own address.
    for address in ("officer_a@pakn.test", "lead_a@pakn.test", "vanthu@sxd.vinhlong.test"):
        got = notify.to(address)
        assert len([m for m in got if "chuyển đến Sở Xây dựng" in subject(m)]) == 2, address
        assert SUBMISSION["submitter_name"] not in notify.text(got[0])
    forwarded = notify.to("officer_a@pakn.test")[0]
    assert "Kính gửi Sở Xây dựng," in notify.text(forwarded) and "Hạn trả lời người gửi" in notify.text(forwarded)
    assert "https://pakn.vinhlong.test/agency/cases/" + code in notify.text(forwarded)
    # Kinds meant for the lead reach the lead only; a sent-back draft reaches its author.
    assert len([m for m in notify.to("lead_a@pakn.test") if "chờ lãnh đạo duyệt" in subject(m)]) == 3
    assert not [m for m in notify.to("officer_a@pakn.test") if "chờ lãnh đạo duyệt" in subject(m)]
    sent_back = one(notify.to("officer_a@pakn.test"), "trả lại để sửa")
    assert "Bổ sung căn cứ pháp lý." in notify.text(sent_back) and "Kính gửi Cán bộ officer_a," in notify.text(sent_back)
    returned = one(notify.to("officer_a@pakn.test"), "trả lại kết quả trả lời")
    assert "Trả lời chưa đúng trọng tâm" in notify.text(returned)
    # The office: its staff and its address.
    for address in ("clerk@pakn.test", "lead@pakn.test", "vanthu@vp.vinhlong.test"):
        office_mail = notify.to(address)
        back = one(office_mail, "không thuộc thẩm quyền")
        assert "Thuộc thẩm quyền UBND cấp xã." in notify.text(back)
        assert "Sở Nông nghiệp và Môi trường" in notify.text(back) and "Sở Xây dựng đã trả lại" in notify.text(back)
        assert one(office_mail, "bổ sung thông tin")
        submitted = [m for m in office_mail if "đã gửi văn bản trả lời" in subject(m)]
        assert len(submitted) == 2 and "125/SXD-QLXD" in notify.text(submitted[0])
    assert not notify.to("disabled@pakn.test")  # inactive accounts get nothing
    # One Message-ID per message: nothing sent twice.
    ids = [m["Message-ID"] for m in notify.messages]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("trigger,payload,pattern,expected", [
    ("reject", {"reason_code": "complaint"}, "không tiếp nhận",
     ["Lý do: Khiếu nại", "Khiếu nại được giải quyết theo Luật Khiếu nại"]),
    ("withdraw", {"reason": "Đã được giải quyết."}, "Xác nhận rút", ["không tiếp tục xử lý"]),
])
def test_rejection_gives_reason_and_guidance_and_withdrawal_is_confirmed(ctx, world, notify, trigger, payload,
                                                                         pattern, expected):
    with transaction():
        case, _ = receive_feedback(SUBMISSION, SubmitterActor())
    act(case.code, trigger, world.user("clerk"), payload)
    text = notify.text(one(notify.to(SUBMITTER), pattern))
    for fragment in expected:
        assert fragment in text


def test_merge_names_the_case_it_was_merged_into(ctx, world, notify, make_case):
    first, _ = make_case()
    with transaction():
        case, _ = receive_feedback(SUBMISSION, SubmitterActor())
    act(case.code, "merge", world.user("clerk"), {"duplicate_of": first})
    assert first in notify.text(one(notify.to(SUBMITTER), "được gộp"))


def test_withdrawal_after_forwarding_tells_the_agency(ctx, world, notify, make_case):
    code, _ = make_case("forwarded")
    act(code, "withdraw", world.user("clerk"), {"reason": "Người gửi đề nghị rút."})
    assert "Người gửi đề nghị rút." in notify.text(one(notify.to("officer_a@pakn.test"), "đã rút"))


def test_an_agencys_request_for_information_and_the_reply_reach_the_right_people(ctx, world, notify, make_case):
    code, _ = make_case("in_progress")
    act(code, "agency_request_info", world.user("officer_a"), {"message": "Đề nghị cung cấp số biên nhận."})
    request = notify.text(one(notify.to(SUBMITTER), "Đề nghị bổ sung thông tin"))
    assert "Sở Xây dựng đề nghị" in request and "Đề nghị cung cấp số biên nhận." in request
    assert f"tra-cuu?code={code}" in request  # the look-up page, where the reply form is
    act(code, "supply_info_to_agency", SubmitterActor(case_id=db.session.scalar(
        select(Feedback.id).where(Feedback.code == code))), {"message": "Biên nhận số 123/BN ngày 02/11/2026."})
    told = one(notify.to("officer_a@pakn.test"), "bổ sung thông tin cho cơ quan")
    assert code in notify.text(told) and f"/agency/cases/{code}" in notify.text(told)


def test_the_forwarding_notice_carries_the_forwarding_document(ctx, app, world, notify, make_case, tmp_path,
                                                                monkeypatch):
    from pakn.office.documents import attach_forwarding_document

    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    code, _ = make_case("received")
    with transaction():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        apply_transition(case, "forward", world.user("clerk"), forward_to("SXD", "xay_dung"))
        document = attach_forwarding_document(case, world.user("clerk"))
        reference = document.reference
    mail = one(notify.to("officer_a@pakn.test"), re.escape(code))
    files = {part.get_filename(): part.get_content_type() for part in mail.iter_attachments()}
    assert sorted(files.values()) == ["application/pdf",
                                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document"]
    pdf = next(part for part in mail.iter_attachments() if part.get_content_type() == "application/pdf")
    assert pdf.get_content().startswith(b"%PDF") and reference


# -- idempotence and failures --------------------------------------------------------------
def test_a_job_run_twice_sends_once(ctx, world, notify, monkeypatch, app):
    monkeypatch.setitem(app.config, "NOTIFY_AFTER_COMMIT", False)
    with transaction():
        receive_feedback(SUBMISSION, SubmitterActor())
    row = rows()[0]
    assert row.status == "pending" and not notify.messages
    assert deliver(row.id) == "sent"
    assert deliver(row.id) == "not due or already done"
    relay_pending()
    assert len(notify.messages) == 1 and notify.rcpt_attempts == 1


def progress_rows(case_id: int, n: int) -> list[int]:
    """``n`` progress notices to the submitter of ``case_id``, written in one transaction."""
    with transaction():
        added = [OutboxMessage(kind="submitter.progress_update", feedback_id=case_id, recipient_kind="submitter",
                               payload={"trigger": "post_progress", "message": f"Tiến độ lần {i}."})
                 for i in range(n)]
        db.session.add_all(added)
    return [row.id for row in added]


def test_one_job_delivers_a_batch_each_row_on_its_own(ctx, world, notify, monkeypatch, app):
    """One job, four rows: a row already sent is skipped, a greylisted one is retried alone."""
    monkeypatch.setitem(app.config, "NOTIFY_AFTER_COMMIT", False)
    with transaction():
        case, _ = receive_feedback(SUBMISSION, SubmitterActor())
    receipt = rows()[0].id
    first, second, third = progress_rows(case.id, 3)
    assert deliver(first) == "sent"
    notify.script = ["250 OK", "451 4.7.1 Greylisted, try again"]  # the receipt passes, the 2nd row waits
    with pytest.raises(RetryLater):
        deliver_many([receipt, first, second, third])
    db.session.expire_all()
    assert [r.status for r in rows()] == ["sent", "sent", "failed", "sent"]
    texts = [notify.text(m) for m in notify.to(SUBMITTER)]
    assert len(texts) == 3 and "Tiến độ lần 2." in texts[-1] and not any("Tiến độ lần 1." in t for t in texts)
    later = rows()[2].available_at + timedelta(seconds=1)
    with time_machine.travel(later):
        assert deliver_many([receipt, first, second, third]) == {
            receipt: "not due or already done", first: "not due or already done", second: "sent",
            third: "not due or already done"}
    ids = [m["Message-ID"] for m in notify.messages]
    assert len(ids) == 4 and len(set(ids)) == 4
    assert ids[-1].startswith(f"<pakn.outbox-{second}.")  # the greylisted row, once, after its backoff
    assert relay_pending() == 0


def test_a_row_taken_over_by_another_job_is_not_handed_over_twice(ctx, world, notify, monkeypatch, app):
    """A job stuck past the claim timeout finds the row claimed by another job: it drops its
    unfinished message instead of completing it, so the citizen gets one mail."""
    monkeypatch.setitem(app.config, "NOTIFY_AFTER_COMMIT", False)
    monkeypatch.setitem(app.config, "NOTIFY_CLAIM_TIMEOUT", 1)
    with transaction():
        receive_feedback(SUBMISSION, SubmitterActor())
    outbox_id = rows()[0].id
    notify.stall_next()  # the first job hangs at RCPT
    outcome = {}

    def first_job():
        with app.app_context():
            outcome["first"] = deliver(outbox_id)

    thread = threading.Thread(target=first_job)
    thread.start()
    assert notify.stalled.wait(30)
    with time_machine.travel(utcnow() + timedelta(seconds=5)):  # its claim looks abandoned
        assert relay_pending() == 1  # a second job re-claims the row and sends the mail
    notify.release()
    thread.join(60)
    assert outcome["first"] == "taken over by another job"
    db.session.expire_all()
    assert rows()[0].status == "sent" and rows()[0].attempts == 2
    assert len(notify.messages) == 1 and notify.rcpt_attempts == 2
    assert db.session.scalar(select(Delivery.attempts)) == 1


def test_smtp_451_then_250_gives_one_mail_after_backoff(ctx, world, notify):
    notify.script = ["451 4.3.0 Mailbox temporarily unavailable"]
    with transaction():
        receive_feedback(SUBMISSION, SubmitterActor())
    db.session.expire_all()
    row = rows()[0]
    assert (row.status, row.attempts, len(notify.messages)) == ("failed", 1, 0)
    assert "451" in row.last_error
    assert relay_pending() == 0  # not due before its backoff
    with time_machine.travel(row.available_at + timedelta(seconds=1)):  # the backoff has passed
        assert relay_pending() == 1
    db.session.expire_all()
    assert rows()[0].status == "sent" and len(notify.messages) == 1 and notify.rcpt_attempts == 2


def test_smtp_unreachable_is_temporary(ctx, world, notify, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())  # nothing listens there
    with transaction():
        receive_feedback(SUBMISSION, SubmitterActor())
    db.session.expire_all()
    row = rows()[0]
    assert row.status == "failed" and "connect" in row.last_error


def test_smtp_550_is_flagged_on_the_case_and_on_the_admin_page_and_not_retried(
        app, world, notify, client, login, make_case):
    notify.script = ["550 5.1.1 User unknown"]
    code, _ = make_case()
    with app.app_context():
        row = rows()[0]
        assert row.status == "dead" and "550" in row.last_error
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notification_failed"))
        assert event.data["code"] == 550 and event.data["kind"] == "submitter.receipt"
        assert SUBMITTER not in str(event.data)  # the flag names no address
        with time_machine.travel(utcnow() + timedelta(days=2)):
            assert relay_pending() == 0  # no retry storm
        outbox_id = row.id
    assert notify.rcpt_attempts == 1 and not notify.messages

    login("clerk")
    assert client.get("/admin/outbox").status_code == 404  # admins only
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/staff/").get_data(as_text=True))})
    login("admin")
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert f'id="outbox-{outbox_id}"' in page and code in page and "550 5.1.1 User unknown" in page
    assert "Gửi lại" in page
    assert client.post(f"/admin/outbox/{outbox_id}/retry").status_code == 400  # CSRF required
    response = client.post(f"/admin/outbox/{outbox_id}/retry", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert len(notify.to(SUBMITTER)) == 1  # the address was fixed on the server: one mail now
    with app.app_context():
        assert rows()[0].status == "sent"
    assert f'id="outbox-{outbox_id}"' not in client.get("/admin/outbox").get_data(as_text=True)


def test_a_delivery_interrupted_after_hand_over_is_not_sent_again(ctx, world, notify, app, monkeypatch):
    """Killed between the final dot and recording the 250: maybe delivered, so never re-sent blindly."""
    monkeypatch.setitem(app.config, "NOTIFY_AFTER_COMMIT", False)
    with transaction():
        receive_feedback(SUBMISSION, SubmitterActor())
    row = rows()[0]
    long_ago = utcnow() - timedelta(hours=1)
    with transaction():
        row.status, row.claimed_at, row.attempts = "sending", long_ago, 1
        db.session.add(Delivery(outbox_id=row.id, channel="email", address=SUBMITTER, status="handed_over",
                                attempts=1, handed_over_at=long_ago, message_id="<x@vinhlong.test>"))
    assert relay_pending() == 1
    db.session.expire_all()
    delivery = db.session.scalar(select(Delivery))
    assert (delivery.status, rows()[0].status, len(notify.messages)) == ("uncertain", "dead", 0)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notification_failed")).data[
        "reason"] == "uncertain"


# -- SMS -------------------------------------------------------------------------------------
def test_sms_gateway_gets_json_with_token_retries_5xx_and_stops_on_4xx(ctx, world, notify, app, monkeypatch):
    gateway = SmsGatewayServer().start()
    try:
        monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", gateway.url)
        monkeypatch.setitem(app.config, "SMS_GATEWAY_TOKEN", "sms-secret")
        phone_only = {**SUBMISSION, "submitter_email": None}
        gateway.statuses = [503]
        with transaction():
            case, _ = receive_feedback(phone_only, SubmitterActor())
        db.session.expire_all()
        assert rows()[0].status == "failed"
        with time_machine.travel(rows()[0].available_at + timedelta(seconds=1)):
            relay_pending()
        db.session.expire_all()
        assert rows()[0].status == "sent"
        first, second = gateway.requests
        assert first["json"] == second["json"]  # same message_id: the gateway can drop a repeat
        assert second["auth"] == "Bearer sms-secret" and second["type"].startswith("application/json")
        assert second["json"]["to"] == "+84912345678"
        assert case.code in second["json"]["text"] and f"tra-cuu/{case.code}?token=" in second["json"]["text"]
        assert not notify.messages  # no e-mail on file: SMS only

        gateway.statuses = [400]
        with transaction():
            receive_feedback(phone_only, SubmitterActor())
        db.session.expire_all()
        assert rows()[1].status == "dead" and len(gateway.requests) == 3
    finally:
        gateway.stop()


def test_sms_as_well_as_email_when_configured(ctx, world, notify, app, monkeypatch):
    gateway = SmsGatewayServer().start()
    try:
        monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", gateway.url)
        monkeypatch.setitem(app.config, "SUBMITTER_SMS", "always")
        with transaction():
            receive_feedback(SUBMISSION, SubmitterActor())
        assert len(gateway.requests) == 1 and len(notify.to(SUBMITTER)) == 1
    finally:
        gateway.stop()


# -- in-app ----------------------------------------------------------------------------------
def test_bell_counts_unread_and_mark_read(app, world, notify, client, login, make_case):
    code, _ = make_case("forwarded")
    make_case("forwarded")
    login("officer_a")
    page = client.get("/staff/").get_data(as_text=True)
    assert re.search(r'class="bell"[^>]*>Thông báo <span class="count">2</span>', page)
    listing = client.get("/notifications").get_data(as_text=True)
    assert "PAKN mới được chuyển đến cơ quan" in listing and code in listing
    assert "Bạn có 2 thông báo chưa đọc." in listing
    with app.app_context():
        mine = list(db.session.scalars(select(Notification).where(Notification.user_id == world.users["officer_a"])
                                       .order_by(Notification.id)))
        theirs = db.session.scalar(select(Notification).where(Notification.user_id == world.users["lead_a"]))
        assert len(mine) == 2
    assert client.post(f"/notifications/{mine[0].id}/read").status_code == 400  # CSRF
    token = csrf_token(listing)
    assert client.post(f"/notifications/{theirs.id}/read", data={"csrf_token": token}).status_code == 404
    client.post(f"/notifications/{mine[0].id}/read", data={"csrf_token": token})
    assert 'class="count">1</span>' in client.get("/staff/").get_data(as_text=True)
    client.post("/notifications/read-all", data={"csrf_token": token})
    assert 'class="count">0</span>' in client.get("/notifications").get_data(as_text=True)
    with app.app_context():  # the lead's own notices are untouched
        assert db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == world.users["lead_a"], Notification.read_at.is_(None))) == 2
    assert client.get("/notifications?lang=en").status_code == 200


def test_notifications_need_login(client):
    assert client.get("/notifications").status_code == 302


# -- sweep kinds and digests -------------------------------------------------------------------
def test_single_case_reminder_and_escalation_rows_are_delivered(ctx, world, notify, make_case):
    """One row per case: the office console's one-click reminder, and rows an earlier version
    of the sweep wrote (still delivered after an upgrade)."""
    code, _ = make_case("in_progress")
    case = db.session.scalar(select(Feedback).where(Feedback.code == code))
    visit = db.session.scalar(select(StageVisit).where(StageVisit.feedback_id == case.id,
                                                       StageVisit.finished_at.is_(None)))
    payload = {"visit_id": visit.id, "stage": visit.stage, "due_at": visit.due_at.isoformat()}
    with transaction():
        for kind, recipient in (("agency.reminder", "agency"), ("agency.escalation", "agency"),
                                ("office.escalation", "office"), ("agency.progress_update_due", "agency")):
            db.session.add(OutboxMessage(kind=kind, feedback_id=case.id, recipient_kind=recipient,
                                         recipient_agency_id=world.office if recipient == "office" else world.agency_a,
                                         payload=payload if kind != "agency.progress_update_due"
                                         else {"visit_id": visit.id, "due_at": payload["due_at"]}))
    due = visit.due_date.strftime("%d/%m/%Y")
    reminder = one(notify.to("officer_a@pakn.test"), "Nhắc hạn")
    assert due in subject(reminder) and "Xử lý, trả lời" in notify.text(reminder)
    assert one(notify.to("lead_a@pakn.test"), "Quá hạn")
    assert not [m for m in notify.to("officer_a@pakn.test") if "Quá hạn" in subject(m)]  # lead only
    assert "Sở Xây dựng" in notify.text(one(notify.to("lead@pakn.test"), "Quá hạn"))
    assert one(notify.to("officer_a@pakn.test"), "cập nhật tiến độ")


def _overdue_at(codes: list[str]):
    """An instant one day after the latest due date of the open visits of ``codes``."""
    dues = db.session.scalars(select(StageVisit.due_at).join(Feedback).where(
        Feedback.code.in_(codes), StageVisit.finished_at.is_(None))).all()
    return max(dues) + timedelta(days=1)


def _listed(msg, codes) -> list[str]:
    """The codes a sweep message lists, once per line it has (text part)."""
    return [code for code in codes for line in SmtpSink.text(msg).splitlines() if line.startswith(f"- {code} |")]


def test_the_sweep_sends_each_lead_one_message_listing_all_its_cases(app, world, notify, make_case, client, login):
    codes = [make_case("in_progress")[0] for _ in range(3)]
    other = make_case("in_progress", agency="STNMT")[0]
    with app.app_context():
        at = _overdue_at(codes + [other])
        with transaction():
            result = run_sweep(at)
        assert result.written == {"agency.escalation": 4, "office.escalation": 4, "agency.progress_update_due": 4}
        assert result.messages == {"agency.escalation": 2, "office.escalation": 1, "agency.progress_update_due": 2}
        assert all(r.feedback_id is None for r in rows("agency.escalation"))
        relay_pending(at)
        assert {r.status for r in rows("agency.escalation") + rows("office.escalation")} == {"sent"}
        due_on = db.session.scalar(select(StageVisit.due_at).join(Feedback).where(
            Feedback.code == codes[0], StageVisit.finished_at.is_(None))).astimezone(TZ).strftime("%d/%m/%Y")

    escalation = one(notify.to("lead_a@pakn.test"), "Quá hạn")
    assert subject(escalation) == "Quá hạn: 3 phản ánh, kiến nghị đã quá hạn xử lý"
    assert sorted(_listed(escalation, codes + [other])) == sorted(codes)  # each of its cases, once
    text, html = notify.text(escalation), notify.html(escalation)
    assert "Kính gửi" in text and "Xử lý, trả lời" in text and due_on in text
    assert f"https://pakn.vinhlong.test/agency/cases/{codes[0]}" in text and f"/agency/cases/{codes[2]}" in html
    assert "https://pakn.vinhlong.test/agency/?view=overdue" in text
    assert not [m for m in notify.to("officer_a@pakn.test") if "Quá hạn" in subject(m)]  # the lead's message
    assert sorted(_listed(one(notify.to("lead_b@pakn.test"), "Quá hạn"), codes + [other])) == [other]

    office = one(notify.to("lead@pakn.test"), "Quá hạn")
    assert sorted(_listed(office, codes + [other])) == sorted(codes + [other])
    assert "Sở Xây dựng" in notify.text(office) and "Sở Nông nghiệp và Môi trường" in notify.text(office)
    assert f"https://pakn.vinhlong.test/office/cases/{other}" in notify.text(office)

    progress = one(notify.to("officer_a@pakn.test"), "cập nhật tiến độ")
    assert sorted(_listed(progress, codes + [other])) == sorted(codes) and "lần 1" in notify.text(progress)

    login("lead_a")  # in-app: one notice per message, with the number of cases
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count("PAKN quá hạn xử lý") == 1 and "3 hồ sơ" in page


def test_a_one_case_sweep_message_names_the_case_in_its_subject(ctx, world, notify, make_case):
    code = make_case("in_progress")[0]
    at = _overdue_at([code])
    with transaction():
        run_sweep(at)
    relay_pending(at)
    msg = one(notify.to("lead_a@pakn.test"), "Quá hạn")
    assert subject(msg).startswith(f"[{code}] Quá hạn:") and "hạn ngày" in subject(msg)
    assert _listed(msg, [code]) == [code]


def test_a_sweep_message_lists_the_earliest_cases_and_counts_the_rest(ctx, world, notify, make_case, monkeypatch):
    import pakn.deadlines.sweep

    monkeypatch.setattr(pakn.deadlines.sweep, "LIST_LIMIT", 2)  # as if the agency had 1,001 overdue cases
    codes = [make_case("in_progress")[0] for _ in range(3)]
    at = _overdue_at(codes)
    with transaction():
        run_sweep(at)
    relay_pending(at)
    msg = one(notify.to("lead_a@pakn.test"), "Quá hạn")
    assert "3 phản ánh, kiến nghị" in subject(msg) and len(_listed(msg, codes)) == 2
    assert "còn 1 hồ sơ khác, xem đầy đủ tại: https://pakn.vinhlong.test/agency/?view=overdue" in notify.text(msg)
    assert "còn <strong>1</strong> hồ sơ khác" in notify.html(msg)


def test_two_concurrent_sweeps_list_each_case_once_in_the_messages_sent(app, world, notify, make_case):
    if app.config["BACKEND"] != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (SQLite serialises writers)")
    codes = [make_case("in_progress")[0] for _ in range(6)]
    with app.app_context():
        at = _overdue_at(codes)
    concurrent_sweeps(app, at)
    with app.app_context():
        relay_pending(at)
    for address, pattern in (("lead_a@pakn.test", "Quá hạn"), ("lead@pakn.test", "Quá hạn"),
                             ("officer_a@pakn.test", "cập nhật tiến độ")):
        sent = [m for m in notify.to(address) if re.search(pattern, subject(m))]
        listed = [code for m in sent for code in _listed(m, codes)]
        assert sorted(listed) == sorted(codes), (address, [subject(m) for m in sent])


def test_digests_are_written_once_a_day_and_list_overdue_cases(ctx, world, notify, runner, app):
    from pakn.scenarios import SUBMISSION as S

    old = utcnow() - timedelta(days=40)
    with transaction():
        case, _ = receive_feedback({**S, "channel": "post", "received_at": old.isoformat()}, world.user("clerk"),
                                   trigger="receive_on_behalf", now=old)
    act(case.code, "forward", world.user("clerk"),
        {"subject": "quy_dinh", "content_category": "2", "field": "xay_dung", "agency": "SXD"})
    assert "digests written: 2" in runner.invoke(args=["pakn", "digests"]).output
    assert "digests written: 0" in runner.invoke(args=["pakn", "digests"]).output
    digest = one(notify.to("clerk@pakn.test"), "quá hạn ngày")
    assert case.code in notify.text(digest) and "Sở Xây dựng" in notify.text(digest)
    agency_digest = one(notify.to("lead_a@pakn.test"), "Tổng hợp phản ánh, kiến nghị của Sở Xây dựng")
    assert case.code in notify.text(agency_digest) and "QUÁ HẠN" in notify.text(agency_digest)
    assert not [m for m in notify.to("officer_a@pakn.test") if "Tổng hợp" in subject(m)]


# -- Redis unavailable -------------------------------------------------------------------------
def test_a_dead_redis_never_fails_the_submission(app, world, client, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_AFTER_COMMIT", True)
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    response = client.post("/api/v1/feedback", json=SUBMISSION)
    assert response.status_code == 201, response.get_data(as_text=True)
    with app.app_context():
        assert [(r.kind, r.status) for r in rows()] == [("submitter.receipt", "pending")]
    login_page = client.get("/auth/login")
    assert login_page.status_code == 200


def test_relay_command_sends_what_is_pending(ctx, world, notify, runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_AFTER_COMMIT", False)  # as if Redis had been down at commit
    with transaction():
        receive_feedback(SUBMISSION, SubmitterActor())
    assert not notify.messages
    monkeypatch.setitem(app.config, "DIGEST_HOUR", 24)  # no digests in this pass
    result = runner.invoke(args=["pakn", "relay", "--once"])
    assert result.exit_code == 0 and "rows handed over: 1" in result.output
    assert len(notify.to(SUBMITTER)) == 1
    assert "rows handed over: 0" in runner.invoke(args=["pakn", "relay", "--once"]).output


def test_notification_pages_in_english(app, english, world, notify, client, login, make_case):
    make_case("forwarded")
    login("officer_a")
    page = client.get("/notifications?lang=en").get_data(as_text=True)
    assert "New feedback forwarded to your agency" in page and "Mark all as read" in page
    assert "You have 1 unread notification." in page
