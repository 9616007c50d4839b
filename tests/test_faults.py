"""Faults injected with real processes, on both backends (reliability.md F1, F2, F7, F8).

* The upload folder is full: a child process runs the portal in its own mount namespace
  (``unshare -m``) with a 1 MiB tmpfs on the upload folder, filled up first: a real ENOSPC.
* Redis is frozen (SIGSTOP: connections hang instead of being refused) during a submission of
  the public form, then killed and restarted empty: the relay re-sends each pending row once.
* The SMTP server stalls: before it has the message (socket timeout, retried, one mail) and
  after it has it but before it answers (never re-sent: one mail, flagged to staff).

Every process is started by the test and ended by PID; the shared Redis and PostgreSQL are
never touched.
"""
from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys

import pytest
from redis import Redis
from rq.job import Job
from sqlalchemy import func, select

from notifications.jobs import job_id
from notifications.relay import relay_pending
from pakn import create_app
from pakn.extensions import db
from pakn.models import Attachment, AuditEvent, Delivery, Feedback, OutboxMessage, SubmissionKey
from pakn.scenarios import SUBMISSION

from .notify_support import ROOT, RedisServer, SmtpSink, Workers, wait_until
from .portal_support import FORM, form_values
from .test_notifications_workers import QUEUE, mails, row, sink, submit, workers  # noqa: F401 (fixtures)
from .test_notifications_workers import redis_server  # noqa: F401 (fixture)

SUBMITTER = SUBMISSION["submitter_email"]


def count(app, model) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.count()).select_from(model))
        db.session.rollback()
        return found


# -- F8: the upload folder is full ------------------------------------------------------------
def test_upload_folder_full_gives_a_503_keeps_the_form_and_leaves_no_row_and_no_file(app, world, tmp_path):
    mount = tmp_path / "uploads-on-tmpfs"
    mount.mkdir()
    script = 'mount -t tmpfs -o size=1m,mode=0700 pakn-full "$1" && exec "$2" -m tests.disk_full_child "$3" "$1" "$4"'
    as_user = [] if os.geteuid() == 0 else ["--map-root-user"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAKN_TEST_", "DATABASE_URL", "REDIS_URL"))}
    env.update({"PAKN_INSTANCE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)})
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", *as_user, "sh", "-c", script, "sh", str(mount),
         sys.executable, str(app.config["SQLALCHEMY_DATABASE_URI"]), app.config["SECRET_KEY"]],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])

    for refused in ("one_file_too_big", "second_file_does_not_fit"):
        outcome = report[refused]
        assert outcome["status"] == 503, (refused, outcome)
        assert outcome["message"] and outcome["kept"], (refused, outcome)  # told why; what was typed kept
        assert outcome["files"] == [] and outcome["tmp"] == [], (refused, outcome)  # no partial, no orphan
    done = report["space_again"]
    assert done["status"] == 303 and len(done["files"]) == 2 and done["tmp"] == []
    # Only the last submission exists, with its two files, receipt row and form key.
    assert count(app, Feedback) == 1 and count(app, Attachment) == 2
    assert count(app, OutboxMessage) == 1 and count(app, SubmissionKey) == 1
    assert not list(mount.iterdir())  # the tmpfs lived only in the child's namespace


# -- F1 + F2: Redis frozen during a form submission, then back empty --------------------------------
def post_form(client):
    page = client.get("/gop-y")
    assert page.status_code == 200
    return client.post("/gop-y", data={**FORM, **form_values(page.get_data(as_text=True))},
                       content_type="multipart/form-data")


def test_redis_frozen_during_form_submissions_then_restarted_empty(app, world, tmp_path, sink):  # noqa: F811
    server = RedisServer(tmp_path).start()
    portal = None
    pool = None
    try:
        settings = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "UPLOAD_FOLDER")}
        portal = create_app({**settings, "TESTING": True, "REDIS_URL": server.url, "NOTIFY_QUEUE": QUEUE,
                             "NOTIFY_AFTER_COMMIT": True, "NOTIFY_HANDOFF_MS": 0, "PORTAL_SUBMIT_LIMIT": "1 per hour",
                             "SMTP_HOST": "127.0.0.1", "SMTP_PORT": sink.port, "SMTP_SECURITY": "none"})
        client = portal.test_client()
        first = post_form(client)  # Redis up: counted there, job queued there
        assert first.status_code == 303
        first_id = row(app).id
        assert Job.fetch(job_id(first_id), connection=Redis.from_url(server.url)).get_status() == "queued"

        os.kill(server.proc.pid, signal.SIGSTOP)  # connections now hang until their timeout
        frozen = post_form(client)
        assert frozen.status_code == 303  # the limiter fell back to memory; the relay gave up
        assert client.get(frozen.headers["Location"]).status_code == 200  # the receipt
        # The in-memory limit still holds while Redis is frozen: refused, and never a 500.
        assert post_form(client).status_code == 429
        with app.app_context():
            rows = db.session.execute(select(OutboxMessage.id, OutboxMessage.status).order_by(OutboxMessage.id)).all()
            db.session.rollback()
        assert [status for _, status in rows] == ["pending", "pending"]
        assert count(app, Feedback) == 2

        server.proc.send_signal(signal.SIGKILL)  # gone, with the first job in it
        server.proc.wait(10)
        server.start()  # same port, empty (no persistence)
        assert not Job.exists(job_id(first_id), connection=Redis.from_url(server.url))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAKN_TEST_")}
        env.update({"DATABASE_URL": str(app.config["SQLALCHEMY_DATABASE_URI"]), "REDIS_URL": server.url,
                    "SECRET_KEY": app.config["SECRET_KEY"], "PAKN_INSTANCE_DIR": str(tmp_path),
                    "PAKN_NOTIFY_QUEUE": QUEUE, "PAKN_SMTP_HOST": "127.0.0.1", "PAKN_SMTP_PORT": str(sink.port),
                    "PYTHONPATH": str(ROOT)})
        pool = Workers(env, server.url, QUEUE, tmp_path)
        pool.start()
        with portal.app_context():
            assert relay_pending() == 2  # each pending row once
            assert relay_pending() == 0  # both jobs now wait in Redis: not enqueued again
        citizen = FORM["submitter_email"]
        wait_until(lambda: len(sink.to(citizen)) >= 2, "both receipts", timeout=90)

        def all_sent():
            with app.app_context():
                statuses = set(db.session.scalars(select(OutboxMessage.status)))
                db.session.rollback()
            return statuses == {"sent"}

        wait_until(all_sent, "both rows sent")
        with portal.app_context():
            assert relay_pending() == 0
        assert len(sink.to(citizen)) == 2 and len(sink.messages) == 2
        assert len({m["Message-ID"] for m in sink.to(citizen)}) == 2
    finally:
        if pool is not None:
            pool.stop_all()
        if server.proc is not None and server.proc.poll() is None:
            server.proc.send_signal(signal.SIGCONT)
        server.stop()
        if portal is not None:
            with portal.app_context():
                db.engine.dispose()


def test_a_retry_scheduled_in_redis_survives_redis_restarting_empty(app, client, sink, workers,  # noqa: F811
                                                                    redis_server, monkeypatch):  # noqa: F811
    """F2: the 451's retry waits in RQ's ScheduledJobRegistry; Redis loses it; the database does not."""
    from rq.registry import ScheduledJobRegistry

    monkeypatch.setitem(app.config, "NOTIFY_RETRY_BASE", 5)
    workers.env["PAKN_NOTIFY_RETRY_BASE"] = "5"
    sink.script = ["451 4.7.1 Greylisted, try again"]
    workers.start()
    submit(client)
    wait_until(lambda: row(app).status == "failed", "the 451 recorded")
    conn = Redis.from_url(redis_server.url)
    wait_until(lambda: job_id(row(app).id) in ScheduledJobRegistry(QUEUE, connection=conn).get_job_ids(),
               "the retry scheduled in Redis")
    workers.stop_all()
    redis_server.stop()
    redis_server.start()  # empty: the scheduled retry is gone
    assert not ScheduledJobRegistry(QUEUE, connection=Redis.from_url(redis_server.url)).get_job_ids()
    workers.start()
    assert row(app).status == "failed" and row(app).available_at is not None

    def resent():  # the relay hands the row over once its available_at has passed
        with app.app_context():
            relay_pending()
        return sink.to(SUBMITTER)

    wait_until(resent, "the mail after Redis lost the retry", timeout=90, every=0.5)
    wait_until(lambda: row(app).status == "sent", "row marked sent")
    assert len(sink.to(SUBMITTER)) == 1 and sink.rcpt_attempts == 2


# -- F7: SMTP stalls --------------------------------------------------------------------------------
def test_smtp_stalling_before_it_has_the_message_times_out_then_one_mail(app, client, sink, workers):  # noqa: F811
    workers.env["PAKN_SMTP_TIMEOUT"] = "2"
    sink.stall_next()  # the first conversation hangs at RCPT for as long as the test lasts
    workers.start()
    submit(client)
    wait_until(sink.stalled.is_set, "the job to reach the SMTP server")
    # The socket timeout ends the stalled conversation; the retry (RQ, 1 s later) sends it.
    (msg,) = mails(sink)
    wait_until(lambda: row(app).status == "sent", "row marked sent")
    assert row(app).attempts == 2 and sink.rcpt_attempts == 2
    with app.app_context():
        delivery = db.session.scalar(select(Delivery))
        assert delivery.status == "sent"
        assert relay_pending() == 0
    sink.release()
    assert len(sink.to(SUBMITTER)) == 1


class _DataStallingSink(SmtpSink):
    """Takes the message, then does not answer the final dot until released."""

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        self.stalled.set()
        while not self._released.is_set():
            await asyncio.sleep(0.02)
        return reply


@pytest.fixture
def data_staller():
    server = _DataStallingSink().start()
    yield server
    server.stop()


def test_smtp_stalling_after_the_final_dot_is_never_sent_twice_and_is_flagged(app, client, data_staller,
                                                                              workers, monkeypatch):  # noqa: F811
    # The workers fixture points at its own sink; point this test's processes at the staller.
    monkeypatch.setitem(app.config, "SMTP_PORT", data_staller.port)
    workers.env.update({"PAKN_SMTP_PORT": str(data_staller.port), "PAKN_SMTP_TIMEOUT": "2"})
    workers.start()
    submit(client)
    wait_until(data_staller.stalled.is_set, "the server to have the message")
    wait_until(lambda: row(app).status == "dead", "row given up as uncertain", timeout=60)
    with app.app_context():
        delivery = db.session.scalar(select(Delivery))
        assert delivery.status == "uncertain"
        flag = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notification_failed"))
        assert flag.data["reason"] == "uncertain"
        assert relay_pending() == 0  # nothing re-sends it: staff decide on /admin/outbox
    data_staller.release()
    assert len(data_staller.to(SUBMITTER)) == 1 and len(data_staller.messages) == 1
