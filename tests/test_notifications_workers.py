"""Delivery through real Redis and real `rq worker` processes, with faults injected.

Each test starts its own redis-server (on its own port, never the shared one, so it can be
stopped and restarted empty), `rq worker` subprocesses (notifications.worker.Worker: a work
horse forked per job) and an aiosmtpd SMTP server. It asserts what the citizen receives.
"""
from __future__ import annotations

import os

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from sqlalchemy import func, select

from notifications.jobs import job_id
from notifications.relay import relay_pending
from pakn.extensions import db
from pakn.models import Delivery, OutboxMessage
from pakn.operations import transaction
from pakn.scenarios import SUBMISSION

from .notify_support import ROOT, RedisServer, SmtpSink, Workers, wait_until

SUBMITTER = SUBMISSION["submitter_email"]
QUEUE = "notifications-test"


@pytest.fixture
def sink():
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def workers(app, sink, redis_server, tmp_path, monkeypatch, world):
    settings = {"NOTIFY_AFTER_COMMIT": True, "REDIS_URL": redis_server.url, "NOTIFY_QUEUE": QUEUE,
                "SMTP_HOST": "127.0.0.1", "SMTP_PORT": sink.port, "SMTP_SECURITY": "none",
                "NOTIFY_RETRY_BASE": 1, "NOTIFY_RETRY_CAP": 2, "NOTIFY_CLAIM_TIMEOUT": 3,
                "NOTIFY_MAX_ATTEMPTS": 5, "SMS_GATEWAY_URL": "", "PUBLIC_BASE_URL": "https://pakn.vinhlong.test",
                "TRACKING_URL": "https://pakn.vinhlong.test/tra-cuu",
                "MAIL_SENDER": "PAKN Vĩnh Long <no-reply@vinhlong.test>"}
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAKN_TEST_")}
    env.update({
        "DATABASE_URL": str(app.config["SQLALCHEMY_DATABASE_URI"]), "REDIS_URL": redis_server.url,
        "SECRET_KEY": app.config["SECRET_KEY"], "PAKN_INSTANCE_DIR": str(tmp_path),
        "PAKN_NOTIFY_QUEUE": QUEUE, "PAKN_SMTP_HOST": "127.0.0.1", "PAKN_SMTP_PORT": str(sink.port),
        "PAKN_NOTIFY_RETRY_BASE": "1", "PAKN_NOTIFY_RETRY_CAP": "2", "PAKN_NOTIFY_CLAIM_TIMEOUT": "3",
        "PAKN_NOTIFY_MAX_ATTEMPTS": "5", "PYTHONPATH": str(ROOT),
        "PAKN_PUBLIC_BASE_URL": settings["PUBLIC_BASE_URL"], "PAKN_TRACKING_URL": settings["TRACKING_URL"],
        "PAKN_MAIL_SENDER": settings["MAIL_SENDER"],
    })
    pool = Workers(env, redis_server.url, QUEUE, tmp_path)
    yield pool
    pool.stop_all()


def row(app) -> OutboxMessage:
    with app.app_context():
        found = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
        db.session.expunge_all()
        return found


def submit(client) -> str:
    response = client.post("/api/v1/feedback", json=SUBMISSION)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["code"]


def mails(sink, n: int = 1, what: str = "the mail"):
    return wait_until(lambda: len(sink.to(SUBMITTER)) >= n and sink.to(SUBMITTER), what, timeout=90)


def test_a_worker_delivers_the_receipt(app, client, sink, workers):
    workers.start()
    code = submit(client)
    (msg,) = mails(sink)
    assert code in sink.text(msg) and "token=" in sink.text(msg)
    wait_until(lambda: row(app).status == "sent", "row marked sent")


def test_redis_down_during_submission_then_back(app, client, sink, workers, redis_server):
    redis_server.stop()
    code = submit(client)  # the submission succeeds; the row waits in the database
    assert row(app).status == "pending"
    with app.app_context():
        with pytest.raises(Exception):
            relay_pending()  # still down: the relay pass fails, nothing is lost
    redis_server.start()  # back, and empty
    workers.start()
    with app.app_context():
        assert relay_pending() == 1
    (msg,) = mails(sink)
    assert code in sink.text(msg)
    wait_until(lambda: row(app).status == "sent", "row marked sent")
    with app.app_context():
        assert relay_pending() == 0


def test_redis_restarted_empty_loses_queued_jobs_but_not_the_mail(app, client, sink, workers, redis_server):
    submit(client)
    conn = Redis.from_url(redis_server.url)
    assert Job.fetch(job_id(row(app).id), connection=conn).get_status() == "queued"
    redis_server.stop()
    redis_server.start()  # no persistence: the queued job is gone
    assert Job.exists(job_id(row(app).id), connection=Redis.from_url(redis_server.url)) is False
    workers.start()
    with app.app_context():
        assert relay_pending() == 1
    assert len(mails(sink)) == 1


def test_worker_sigkilled_mid_send_gives_exactly_one_mail(app, client, sink, workers):
    sink.stall_next()  # the first conversation hangs at RCPT, mid-send
    first = workers.start()
    submit(client)
    wait_until(sink.stalled.is_set, "the job to reach the SMTP server")
    killed = workers.kill(first)  # SIGKILL work horse and worker
    assert len(killed) >= 2  # the worker, its work horse (and its scheduler process)
    sink.release()
    assert row(app).status == "sending" and not sink.messages
    workers.start()

    def resent():
        with app.app_context():
            relay_pending()  # re-enqueues the row once its claim is stale (3 s here)
        return sink.to(SUBMITTER)

    wait_until(resent, "the mail after the kill", timeout=90, every=0.5)
    wait_until(lambda: row(app).status == "sent", "row marked sent")
    with app.app_context():
        delivery = db.session.scalar(select(Delivery))
        assert (delivery.status, delivery.attempts) == ("sent", 1)
        assert relay_pending() == 0
    assert len(sink.to(SUBMITTER)) == 1 and len(sink.messages) == 1
    assert sink.rcpt_attempts == 2


def test_worker_sigkilled_mid_batch_sends_every_row_once(app, client, sink, workers):
    """One job carries three rows; the worker dies on the second: the first stays sent, the
    second and third are sent once each after the relay re-sends them."""
    code = submit(client)  # the receipt: a job of its own
    with app.app_context():
        case_id = db.session.scalar(select(OutboxMessage.feedback_id))
        with transaction():  # three notices in one commit: one job
            db.session.add_all([OutboxMessage(kind="submitter.progress_update", feedback_id=case_id,
                                              recipient_kind="submitter",
                                              payload={"trigger": "post_progress", "message": f"Tiến độ lần {i}."})
                                for i in range(3)])
    conn = Redis.from_url(workers.redis_url)
    assert len(Queue(QUEUE, connection=conn).job_ids) == 2
    sink.stall_next(after=2)  # the receipt and the first notice pass; the second hangs at RCPT
    first = workers.start()
    wait_until(sink.stalled.is_set, "the job to reach the second notice")
    workers.kill(first)
    sink.release()
    assert len(sink.to(SUBMITTER)) == 2
    with app.app_context():
        assert [r.status for r in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))] == [
            "sent", "sent", "sending", "sending"]
        db.session.rollback()
    workers.start()

    def resent():
        with app.app_context():
            relay_pending()  # re-enqueues the two rows once their claims are stale (3 s here)
        return len(sink.to(SUBMITTER)) >= 4

    wait_until(resent, "the last two notices after the kill", timeout=90, every=0.5)
    with app.app_context():
        wait_until(lambda: not db.session.rollback() and {r.status for r in db.session.scalars(
            select(OutboxMessage))} == {"sent"}, "every row marked sent")
        assert relay_pending() == 0
        assert [d.attempts for d in db.session.scalars(select(Delivery).order_by(Delivery.id))] == [1, 1, 1, 1]
    texts = [sink.text(m) for m in sink.to(SUBMITTER)]
    assert code in texts[0] and sorted(t for t in texts if "Tiến độ lần" in t) == sorted(texts[1:])
    assert [sum(f"Tiến độ lần {i}." in t for t in texts) for i in range(3)] == [1, 1, 1]
    ids = [m["Message-ID"] for m in sink.messages]
    assert len(ids) == 4 and len(set(ids)) == 4
    assert sink.rcpt_attempts == 5


def test_smtp_451_then_250_is_retried_by_rq_and_gives_one_mail(app, client, sink, workers):
    sink.script = ["451 4.7.1 Greylisted, try again"]
    workers.start()
    submit(client)
    assert len(mails(sink)) == 1
    wait_until(lambda: row(app).status == "sent", "row marked sent")
    assert row(app).attempts == 2 and sink.rcpt_attempts == 2


def test_smtp_550_is_dead_and_not_retried(app, client, sink, workers, redis_server):
    sink.script = ["550 5.1.1 Mailbox does not exist"]
    workers.start()
    submit(client)
    wait_until(lambda: row(app).status == "dead", "row marked dead")
    outbox_id = row(app).id
    conn = Redis.from_url(redis_server.url)
    wait_until(lambda: Job.fetch(job_id(outbox_id), connection=conn).get_status() == "finished",
               "the job to finish without a retry scheduled")
    with app.app_context():
        assert relay_pending() == 0
    assert sink.rcpt_attempts == 1 and not sink.messages



def test_every_workflow_message_arrives_with_the_right_text_through_a_worker(app, world, sink, workers):
    from .test_notifications import run_workflow_and_check_mails

    workers.start()  # one worker: the messages are sent in the order they were written

    def unsent() -> int:
        count = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                  .where(OutboxMessage.status != "sent"))
        db.session.rollback()  # see the worker's commits on the next poll
        return count

    with app.app_context():
        run_workflow_and_check_mails(world, sink, lambda: wait_until(lambda: unsent() == 0, "every row sent",
                                                                     timeout=180, every=0.2))
