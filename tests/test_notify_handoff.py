"""The web process's hand-off (``NOTIFY_HANDOFF_MS``): rows committed by requests within the
window go to RQ as one job from a thread of the process, and a process that dies holding
rows loses no mail (``pakn relay`` sends them). Real redis-server, `rq worker` processes and an
SMTP server, as in test_notifications_workers.py."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from notifications.relay import relay_pending
from pakn.extensions import db
from pakn.models import OutboxMessage
from pakn.scenarios import SUBMISSION

from .notify_support import ROOT, wait_until
from .portal_support import FORM, form_values
from .test_notifications_workers import QUEUE, SUBMITTER, redis_server, sink, submit, workers  # noqa: F401

#: A web process of the app, its requests through the test client: sends ``n`` forms, says so,
#: then either exits normally or waits to be killed.
WEB_PROCESS = """
import sys, time
from wsgi import app
n, then = int(sys.argv[1]), sys.argv[2]
client = app.test_client()
for _ in range(n):
    response = client.post("/api/v1/feedback", json=%r)
    assert response.status_code == 201, response.get_data(as_text=True)
print("sent", flush=True)
if then == "wait":
    time.sleep(600)
""" % (SUBMISSION,)


@pytest.fixture
def window(app, monkeypatch):
    """Delivery after commit, through the hand-off with a window of ``ms``."""
    def set_to(ms: int) -> None:
        monkeypatch.setitem(app.config, "NOTIFY_HANDOFF_MS", ms)
        app.extensions.pop("pakn_handoff", None)  # built again with this window
    yield set_to
    app.extensions.pop("pakn_handoff", None)


def statuses(app) -> list[str]:
    with app.app_context():
        found = [r.status for r in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        db.session.rollback()
        return found


def jobs_waiting(redis_server) -> list:
    queue = Queue(QUEUE, connection=Redis.from_url(redis_server.url))
    return [job.args[0] for job in queue.jobs]


def test_forms_sent_within_the_window_go_as_one_job_and_each_submitter_gets_one_mail(
        app, client, sink, workers, redis_server, window):
    window(1500)
    codes = [submit(client) for _ in range(3)]
    assert statuses(app) == ["pending"] * 3  # committed: the database holds them from the start
    carried = wait_until(lambda: jobs_waiting(redis_server), "the hand-off's job", timeout=30)
    assert len(carried) == 1 and len(carried[0]) == 3  # one job for the three rows
    workers.start()
    wait_until(lambda: len(sink.to(SUBMITTER)) >= 3, "three receipts", timeout=90)
    wait_until(lambda: statuses(app) == ["sent"] * 3, "rows marked sent")
    time.sleep(0.5)
    assert sorted(code for msg in sink.to(SUBMITTER) for code in codes if code in sink.text(msg)) == sorted(codes)
    with app.app_context():
        assert relay_pending() == 0  # nothing left to re-send


def test_web_forms_reach_their_submitters_through_the_hand_off(app, client, sink, workers, redis_server, window):
    # The public form: its one statement commits on its own, and its receipt row still goes
    # to RQ through the process's hand-off.
    window(300)
    codes = []
    for _ in range(2):
        values = form_values(client.get("/gop-y").get_data(as_text=True))
        sent = client.post("/gop-y", data={**FORM, **values})
        assert sent.status_code == 303
        codes.append(sent.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    workers.start()
    citizen = FORM["submitter_email"]
    wait_until(lambda: len(sink.to(citizen)) >= 2, "both receipts", timeout=90)
    assert sorted(code for msg in sink.to(citizen) for code in codes if code in sink.text(msg)) == sorted(codes)
    wait_until(lambda: statuses(app) == ["sent", "sent"], "rows marked sent")


def test_without_a_window_each_commit_is_enqueued_at_once(app, client, workers, redis_server, window):
    window(0)
    submit(client)
    submit(client)
    assert [len(ids) for ids in jobs_waiting(redis_server)] == [1, 1]  # no thread, no wait


def _web_process(workers, n: int, then: str, handoff_ms: int) -> subprocess.Popen:
    env = {**workers.env, "PAKN_NOTIFY_HANDOFF_MS": str(handoff_ms), "PAKN_NOTIFY_AFTER_COMMIT": "1"}
    proc = subprocess.Popen([sys.executable, "-c", WEB_PROCESS, str(n), then], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "sent", proc.stderr.read()
    return proc


def test_a_web_process_exiting_within_the_window_enqueues_what_it_holds(app, sink, workers, redis_server):
    proc = _web_process(workers, 2, "exit", handoff_ms=600_000)  # a window it never reaches
    assert proc.wait(60) == 0, proc.stderr.read()
    assert [len(ids) for ids in jobs_waiting(redis_server)] == [2]
    workers.start()
    wait_until(lambda: len(sink.to(SUBMITTER)) >= 2, "both receipts", timeout=90)


def test_a_web_process_killed_holding_rows_loses_no_mail(app, sink, workers, redis_server):
    proc = _web_process(workers, 2, "wait", handoff_ms=600_000)
    proc.send_signal(signal.SIGKILL)  # as an OOM kill: no exit handler runs
    proc.wait(30)
    assert jobs_waiting(redis_server) == [] and statuses(app) == ["pending", "pending"]
    workers.start()
    with app.app_context():
        assert relay_pending() == 2  # the relay's pass finds them in the database
    wait_until(lambda: len(sink.to(SUBMITTER)) >= 2, "both receipts", timeout=90)
    wait_until(lambda: statuses(app) == ["sent", "sent"], "rows marked sent")
    time.sleep(0.5)
    assert len(sink.to(SUBMITTER)) == 2
