"""PostgreSQL restarted or stopped under the app, on a throwaway cluster (reliability.md F4, F5).

Each test module starts its own cluster (``initdb`` + ``pg_ctl`` on a free port, as the
``postgres`` OS user when run as root) and removes it at the end, even on failure; the shared
server on 5432 is never touched. The restart is real: ``pg_ctl restart -m fast`` (backends
terminated, clean shutdown) or ``-m immediate`` (crash, WAL recovery on start), done from inside
the request, between its first write and its commit, so the request is in flight when its
connection dies.

What is asserted: the request in flight gets a 503 in Vietnamese (HTML page or the JSON
envelope) with no trace, SQL or driver name; nothing of it is stored (no case, outbox row,
audit event, attachment row or file); what was committed before the crash is still there; the
very next request succeeds in the same app (``pakn.liveness`` replaces the dead pooled
connections). Then a delivery job running while the database is down fails and is retried by
RQ with backoff, the outbox row stays pending, and once the database is back one mail arrives.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from flask_migrate import upgrade
from redis import Redis
from rq.job import Job
from sqlalchemy import create_engine, event, func, select, text

from notifications.jobs import job_id
from notifications.relay import relay_pending
from pakn import create_app
from pakn.extensions import db
from pakn.models import Agency, AgencyLevel, Attachment, AuditEvent, Feedback, OutboxMessage
from pakn.operations import transaction
from pakn.scenarios import SUBMISSION

from .fault_support import PgCluster, wait_for_database
from .notify_support import ROOT, RedisServer, SmtpSink, Workers, wait_until
from .portal_support import FORM, form_values
from .test_storage import simple_pdf

LEAKS = ("Traceback", "psycopg", "OperationalError", "sqlalchemy", "INSERT", "SELECT", "postgres")
MODES = ["fast", "immediate"]


@pytest.fixture(scope="module")
def cluster():
    pg = PgCluster()
    try:
        pg.init().start()
        wait_for_database(pg.url)
        yield pg
    finally:
        pg.destroy()


def _fresh_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def pg_app(cluster, tmp_path):
    """The app on the throwaway cluster, migrated, with the office; jobs off unless a test says."""
    if not cluster.running():
        cluster.start()
    wait_for_database(cluster.url)
    _fresh_schema(cluster.url)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": cluster.url, "SECRET_KEY": "pg-faults",
                      "REDIS_URL": None, "UPLOAD_FOLDER": str(tmp_path / "uploads"),
                      "NOTIFY_AFTER_COMMIT": False, "NOTIFY_HANDOFF_MS": 0, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade(directory=os.path.join(app.root_path, "..", "migrations"))
        with transaction():
            db.session.add(Agency(code="VP", name="Văn phòng UBND tỉnh", is_office=True,
                                  level=AgencyLevel(code="tinh", name="Cấp tỉnh")))
    yield app
    with app.app_context():
        db.engine.dispose()


def counts(app) -> dict:
    with app.app_context():
        found = {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                 for model in (Feedback, OutboxMessage, AuditEvent, Attachment)}
        db.session.rollback()
        return found


def files(app) -> list[str]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def submit_api(client):
    return client.post("/api/v1/feedback", json=SUBMISSION)


def submit_form(client, **extra):
    page = client.get("/gop-y")
    assert page.status_code == 200
    return client.post("/gop-y", data={**FORM, **form_values(page.get_data(as_text=True)), **extra},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("mode", MODES)
def test_a_restart_between_requests_is_invisible(pg_app, cluster, mode):
    """pakn.liveness: the pooled connections died with the server; the next request gets a new one."""
    client = pg_app.test_client()
    assert submit_api(client).status_code == 201
    assert client.get("/tra-loi").status_code == 200  # a second pooled connection, used and returned
    cluster.restart(mode)
    assert submit_api(client).status_code == 201
    assert submit_form(client).status_code == 303
    assert client.get("/tra-loi").status_code == 200
    assert counts(pg_app)["Feedback"] == 3


def _restart_inside(monkeypatch, target, name: str, cluster, mode: str, after: bool) -> list:
    """Make ``target.name`` restart the server before (or after) doing its work, once."""
    real = getattr(target, name)
    calls = []

    def restarting(*args, **kwargs):
        if not calls and not after:
            calls.append(mode)
            cluster.restart(mode)
        result = real(*args, **kwargs)
        if not calls and after:
            calls.append(mode)
            cluster.restart(mode)
        return result

    monkeypatch.setattr(target, name, restarting)
    return calls


@pytest.mark.parametrize("mode", MODES)
def test_api_submission_in_flight_gets_a_503_and_leaves_nothing(pg_app, cluster, monkeypatch, mode):
    import pakn.api.routes as routes

    client = pg_app.test_client()
    assert submit_api(client).status_code == 201  # committed before the crash: must survive it
    before = counts(pg_app)
    # The case, its audit event and outbox rows are flushed (uncommitted) when the server goes.
    calls = _restart_inside(monkeypatch, routes, "receive_feedback", cluster, mode, after=True)
    response = submit_api(client)
    assert calls == [mode]
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "10"
    error = response.get_json()["error"]
    assert error["code"] == "database_unavailable"
    assert error["message"] == "Hệ thống tạm thời không phục vụ được. Vui lòng thử lại sau."
    body = response.get_data(as_text=True)
    assert not [leak for leak in LEAKS if leak in body]
    assert counts(pg_app) == before
    monkeypatch.undo()
    again = submit_api(client)  # same app, no restart of it
    assert again.status_code == 201
    assert counts(pg_app)["Feedback"] == before["Feedback"] + 1


@pytest.mark.parametrize("mode", MODES)
def test_form_submission_with_a_file_in_flight_gets_a_503_page_and_no_orphan_file(pg_app, cluster, monkeypatch,
                                                                                  mode):
    from pakn.portal import attachments

    client = pg_app.test_client()
    assert submit_form(client).status_code == 303
    before, stored = counts(pg_app), files(pg_app)
    # The case is written, the file stored and its row flushed; the server goes before the commit.
    calls = _restart_inside(monkeypatch, attachments, "store_submission_files", cluster, mode, after=True)
    response = submit_form(client, attachments=[(io.BytesIO(simple_pdf()), "đơn kiến nghị.pdf")])
    assert calls == [mode]
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Hệ thống tạm thời không phục vụ được. Vui lòng thử lại sau." in html
    assert not [leak for leak in LEAKS if leak in html]
    assert counts(pg_app) == before
    assert files(pg_app) == stored  # the file written for the rolled-back case is gone
    monkeypatch.undo()
    assert submit_form(client, attachments=[(io.BytesIO(simple_pdf()), "đơn.pdf")]).status_code == 303
    assert counts(pg_app)["Attachment"] == before["Attachment"] + 1


def test_form_whose_connection_dies_before_its_statement_gets_a_503_page_then_the_next_works(pg_app, cluster):
    """The form without files writes its case in one autocommit statement on the driver's
    cursor: a connection ended after the pool checked it out (the server killed the backend)
    still gives the 503 page, writes nothing, and leaves the pool, so the next form goes in."""
    client = pg_app.test_client()
    assert submit_form(client).status_code == 303
    before = counts(pg_app)
    page = client.get("/gop-y")
    killer = create_engine(cluster.url)
    killed = []

    def terminate(dbapi_connection, record, proxy):
        if not killed:
            killed.append(dbapi_connection.info.backend_pid)
            with killer.begin() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": killed[0]})

    with pg_app.app_context():
        event.listen(db.engine, "checkout", terminate)
    try:
        response = client.post("/gop-y", data={**FORM, **form_values(page.get_data(as_text=True))})
    finally:
        with pg_app.app_context():
            event.remove(db.engine, "checkout", terminate)
        killer.dispose()
    assert killed
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html
    assert "Hệ thống tạm thời không phục vụ được. Vui lòng thử lại sau." in html
    assert not [leak for leak in LEAKS if leak in html]
    assert counts(pg_app) == before
    assert submit_form(client).status_code == 303
    assert counts(pg_app)["Feedback"] == before["Feedback"] + 1


def test_a_read_while_the_server_is_down_is_a_503_then_works_when_it_is_back(pg_app, cluster):
    client = pg_app.test_client()
    assert client.get("/tra-loi").status_code == 200
    cluster.stop("immediate")
    try:
        down = client.get("/tra-loi")
        assert down.status_code == 503
        assert "Hệ thống tạm thời không phục vụ được" in down.get_data(as_text=True)
        api = client.get("/api/v1/feedback/PAKN-2026-000001?token=x")
        assert api.status_code == 503 and api.get_json()["error"]["code"] == "database_unavailable"
    finally:
        cluster.start()
    assert client.get("/tra-loi").status_code == 200


# -- F5: the database goes away under a delivery job ---------------------------------------------
QUEUE = "notifications-pgfault"


@pytest.fixture
def job_world(pg_app, cluster, tmp_path, monkeypatch):
    sink = SmtpSink().start()
    redis_server = RedisServer(tmp_path).start()
    settings = {"REDIS_URL": redis_server.url, "NOTIFY_QUEUE": QUEUE, "NOTIFY_AFTER_COMMIT": True,
                "SMTP_HOST": "127.0.0.1", "SMTP_PORT": sink.port, "SMTP_SECURITY": "none",
                "NOTIFY_RETRY_BASE": 1, "NOTIFY_RETRY_CAP": 2, "NOTIFY_MAX_ATTEMPTS": 8, "NOTIFY_CLAIM_TIMEOUT": 3}
    for key, value in settings.items():
        monkeypatch.setitem(pg_app.config, key, value)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAKN_TEST_")}
    env.update({"DATABASE_URL": cluster.url, "REDIS_URL": redis_server.url, "SECRET_KEY": "pg-faults",
                "PAKN_INSTANCE_DIR": str(tmp_path), "PAKN_NOTIFY_QUEUE": QUEUE, "PAKN_SMTP_HOST": "127.0.0.1",
                "PAKN_SMTP_PORT": str(sink.port), "PAKN_NOTIFY_RETRY_BASE": "1", "PAKN_NOTIFY_RETRY_CAP": "2",
                "PAKN_NOTIFY_MAX_ATTEMPTS": "8", "PAKN_NOTIFY_CLAIM_TIMEOUT": "3", "PYTHONPATH": str(ROOT)})
    pool = Workers(env, redis_server.url, QUEUE, tmp_path)
    try:
        yield sink, redis_server, pool
    finally:
        pool.stop_all()
        redis_server.stop()
        sink.stop()


def test_database_down_while_a_job_runs_retries_with_backoff_and_sends_one_mail(pg_app, cluster, job_world):
    sink, redis_server, workers = job_world
    client = pg_app.test_client()
    response = submit_api(client)  # committed; its job waits in Redis (no worker yet)
    assert response.status_code == 201
    with pg_app.app_context():
        outbox_id = db.session.scalar(select(OutboxMessage.id))
        db.session.rollback()
    conn = Redis.from_url(redis_server.url)
    assert Job.fetch(job_id(outbox_id), connection=conn).get_status() == "queued"
    cluster.stop("immediate")
    try:
        workers.start()
        # The job cannot claim its row: it fails, and RQ schedules the retry (interval 1, 2, 2 … s).
        def retried_twice():
            job = Job.fetch(job_id(outbox_id), connection=conn)
            return job.retries_left is not None and job.retries_left <= 5 and job

        job = wait_until(retried_twice, "RQ to retry the job twice while the database is down", timeout=90,
                         every=0.2)
        assert job.get_status() in ("scheduled", "queued", "started")
        assert "OperationalError" in workers.logs()
        assert not sink.messages
    finally:
        cluster.start()
    wait_for_database(cluster.url)
    with pg_app.app_context():
        row = db.session.get(OutboxMessage, outbox_id)
        # The job could write nothing: the row is as the submission left it, or released by
        # the job's own crash record if the server came back between two of its statements.
        assert row.status in ("pending", "failed", "sending", "sent")
        db.session.rollback()

    def delivered():
        with pg_app.app_context():
            relay_pending()  # whichever comes first: RQ's next retry or the relay's pass
            status = db.session.get(OutboxMessage, outbox_id).status
            db.session.rollback()
        return status == "sent"

    wait_until(delivered, "the mail once the database is back", timeout=90, every=0.5)
    assert len(sink.to(SUBMISSION["submitter_email"])) == 1 and len(sink.messages) == 1


def test_many_jobs_on_the_forking_worker_keep_the_connection_count_flat(pg_app, cluster, job_world):
    """F10: each work horse disposes the pool it inherited (close=False) and opens its own; the
    horses' connections end with them, so 30 jobs never hold more than one or two at a time."""
    sink, redis_server, workers = job_world
    workers.env["DATABASE_URL"] = cluster.url + "?application_name=pakn-horse"
    client = pg_app.test_client()
    for _ in range(30):
        assert submit_api(client).status_code == 201  # 30 jobs queued before any worker runs
    workers.start()
    probe = create_engine(cluster.url)
    seen: list[int] = []

    def drained() -> bool:
        with probe.connect() as conn:
            seen.append(conn.execute(text("select count(*) from pg_stat_activity "
                                          "where application_name = 'pakn-horse'")).scalar())
            unsent = conn.execute(text("select count(*) from outbox_message where status <> 'sent'")).scalar()
        return unsent == 0

    try:
        wait_until(drained, "30 mails through the forking worker", timeout=240, every=0.2)
    finally:
        probe.dispose()
    assert len(sink.messages) == 30 and len({m["Message-ID"] for m in sink.messages}) == 30
    assert 1 <= max(seen) <= 2, seen  # seen at work, never piling up
    logs = workers.logs()
    assert not [word for word in ("SSL", "protocol", "server closed the connection", "Traceback") if word in logs]
