"""The relay: moves outbox rows to RQ after commit, or runs them in-process; re-sends later.

After-commit: a session hook collects the ids of the outbox rows each flush inserts; when
the transaction commits, they are enqueued (``REDIS_URL`` set), up to ``NOTIFY_BATCH_SIZE``
rows per job (job id ``outbox-<id>`` for a one-row job), or delivered in-process (no
``REDIS_URL``: the embedded default). The operations layer keeps its single commit; nothing
here can fail it: an enqueue error is logged and the rows stay ``pending`` in the database.
In a web request with ``NOTIFY_HANDOFF_MS`` set, the ids go to the process's
:class:`Handoff` instead, whose thread enqueues what the process's requests committed within
that window as one job (and what is left when the process exits).

Periodic: :func:`relay_pending` (``flask pakn relay``, a loop, or ``--once``) re-sends every
row that is still pending (Redis was down at commit, or restarted empty), failed and due, or
``sending`` with a stale claim (a killed worker). Redis is never the system of record.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
from datetime import datetime, timedelta

from flask import Flask, current_app, has_app_context, has_request_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import and_, event, or_, select

from pakn.extensions import db
from pakn.models import OutboxMessage
from pakn.models.outbox import NEW_OUTBOX_IDS as _KEY
from pakn.models.types import utcnow

from . import jobs

log = logging.getLogger("pakn.notifications")
_installed = False


# -- after commit --------------------------------------------------------------------------
def install() -> None:
    """Listen on Flask-SQLAlchemy sessions (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(FlaskSession, "after_flush", _collect)
    event.listen(FlaskSession, "after_commit", _after_commit)
    event.listen(FlaskSession, "after_soft_rollback", _forget)
    _installed = True


def _collect(session, flush_context) -> None:
    ids = [obj.id for obj in session.new if isinstance(obj, OutboxMessage)]
    if ids:
        session.info.setdefault(_KEY, []).extend(ids)


def _forget(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction rolled back
        session.info.pop(_KEY, None)


def _after_commit(session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the rows are not committed yet
        return
    ids = session.info.pop(_KEY, None)
    if not ids or not has_app_context():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("NOTIFY_AFTER_COMMIT", True):
        return
    if has_request_context() and app.config.get("REDIS_URL") and app.config.get("NOTIFY_HANDOFF_MS"):
        handoff(app).add(ids)
        return
    try:
        relay_ids(app, ids)
    except Exception:  # never fail the request that committed: the periodic relay re-sends
        log.exception("relay after commit failed; %d outbox rows stay pending", len(ids))


# -- the web process's hand-off --------------------------------------------------------------
class Handoff:
    """The outbox rows this process's requests committed, enqueued by one thread of it.

    A request only appends its row ids (no Redis round trip, no RQ job built in the request).
    The thread waits ``NOTIFY_HANDOFF_MS`` after the first id, or until ``NOTIFY_BATCH_SIZE``
    ids are in, and enqueues them as one job. Nothing is lost when it cannot: the rows are
    committed ``pending``, and ``pakn relay`` sends whatever a dead process (or Redis) left;
    at a normal exit the process enqueues what it still holds.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.window = app.config["NOTIFY_HANDOFF_MS"] / 1000
        self.size = app.config["NOTIFY_BATCH_SIZE"]
        self._start_empty()
        os.register_at_fork(after_in_child=self._start_empty)  # the parent's ids, lock and thread are its own
        atexit.register(self.flush)

    def _start_empty(self) -> None:
        self.ids: list[int] = []
        self.ready = threading.Condition()
        self.thread: threading.Thread | None = None

    def add(self, ids: list[int]) -> None:
        with self.ready:
            first = not self.ids
            self.ids.extend(ids)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="pakn-outbox-handoff", daemon=True)
                self.thread.start()
            # Woken only when its wait can end (a first id, a full batch): waking it for every
            # id made it take the GIL from the requests once a commit (4 % of a submission).
            if first or len(self.ids) >= self.size:
                self.ready.notify()

    def _take(self) -> list[int]:
        """The ids to enqueue now: waits for a first one, then the window or a full batch."""
        with self.ready:
            while not self.ids:
                self.ready.wait()
            if len(self.ids) < self.size:
                self.ready.wait_for(lambda: len(self.ids) >= self.size, timeout=self.window)
            ids, self.ids = self.ids, []
            return ids

    def _run(self) -> None:
        while True:
            self._send(self._take())

    def _send(self, ids: list[int]) -> None:
        try:
            relay_ids(self.app, ids)
        except Exception:  # Redis down or slow: the rows stay pending, `pakn relay` sends them
            log.exception("hand-off to RQ failed; %d outbox rows stay pending", len(ids))

    def flush(self) -> None:
        """Enqueue what is held now (at the process's exit)."""
        with self.ready:
            ids, self.ids = self.ids, []
        if ids:
            self._send(ids)


def handoff(app: Flask) -> Handoff:
    """The app's hand-off in this process."""
    found = app.extensions.get("pakn_handoff")
    if found is None:
        found = app.extensions["pakn_handoff"] = Handoff(app)
    return found


# -- Redis ---------------------------------------------------------------------------------
def redis_connection(app: Flask):
    from redis import Redis

    cache = app.extensions.setdefault("pakn_redis", {})
    url = app.config["REDIS_URL"]
    if url not in cache:
        cache[url] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    return cache[url]


def queue(app: Flask):
    """The app's notification queue (kept per app and queue name: built once, not per commit)."""
    from rq import Queue

    cache = app.extensions.setdefault("pakn_queues", {})
    key = (app.config["NOTIFY_QUEUE"], app.config["REDIS_URL"])
    if key not in cache:
        cache[key] = Queue(key[0], connection=redis_connection(app))
    return cache[key]


def retry_policy(config):
    from rq import Retry

    tries = max(config["NOTIFY_MAX_ATTEMPTS"] - 1, 1)
    return Retry(max=tries, interval=[jobs.backoff(n, config) for n in range(1, tries + 1)])


#: Redis key naming the job that carries an outbox row (one job carries up to
#: ``NOTIFY_BATCH_SIZE`` rows), so that the periodic relay can tell whether it is still coming.
_ROW_JOB = "pakn:outbox-job:{}"
_ROW_JOB_TTL = 7 * 86400  # as long as a failed job is kept


def batches(ids: list[int], size: int) -> list[list[int]]:
    return [ids[k:k + size] for k in range(0, len(ids), size)]


def enqueue(q, outbox_ids: list[int], config) -> None:
    """One job for these rows, and which job carries each row: one Redis round trip."""
    jid = jobs.batch_job_id(outbox_ids)
    with q.connection.pipeline() as pipe:
        q.enqueue(jobs.deliver_many, outbox_ids, job_id=jid, retry=retry_policy(config),
                  job_timeout=max(config["SMTP_TIMEOUT"] * 4, 60) * len(outbox_ids), result_ttl=600,
                  failure_ttl=_ROW_JOB_TTL, pipeline=pipe,
                  description=f"deliver outbox rows {', '.join(map(str, outbox_ids))}")
        for outbox_id in outbox_ids:
            pipe.set(_ROW_JOB.format(outbox_id), jid, ex=_ROW_JOB_TTL)
        pipe.execute()


def relay_ids(app: Flask, ids: list[int]) -> int:
    """Hand these rows over now, ``NOTIFY_BATCH_SIZE`` per job; returns how many were handed over."""
    if app.config.get("REDIS_URL"):
        q = queue(app)
        done = 0
        for chunk in batches(ids, app.config["NOTIFY_BATCH_SIZE"]):
            enqueue(q, chunk, app.config)  # a Redis error propagates: the rest stays pending
            done += len(chunk)
        return done
    for chunk in batches(ids, app.config["NOTIFY_BATCH_SIZE"]):
        try:
            jobs.deliver_many(chunk)
        except Exception as exc:  # recorded on the rows; retried by the periodic relay
            log.info("in-process delivery of outbox rows %s: %s", chunk, exc)
    return len(ids)


# -- periodic ------------------------------------------------------------------------------
def due_rows(now: datetime, after_id: int = 0, limit: int = 1000) -> list[tuple[int, str]]:
    """The next ``limit`` undelivered, due rows with an id above ``after_id`` (keyset paging)."""
    config = current_app.config
    stale = now - timedelta(seconds=config["NOTIFY_CLAIM_TIMEOUT"])
    return list(db.session.execute(
        select(OutboxMessage.id, OutboxMessage.status)
        .where(OutboxMessage.id > after_id,
               or_(OutboxMessage.status == "pending",
                   and_(OutboxMessage.status == "failed", OutboxMessage.available_at <= now),
                   and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < stale)))
        .order_by(OutboxMessage.id).limit(limit)).tuples())


def relay_pending(now: datetime | None = None) -> int:
    """Re-send what the database says is undelivered and due. Returns how many were handed over.

    With Redis, a row whose job is still waiting in Redis (queued, scheduled for a retry) is
    left alone; any other (no job: Redis lost it; or a job that died) is enqueued again.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = now or utcnow()
    done, after_id = 0, 0
    while True:
        rows = due_rows(now, after_id)
        db.session.rollback()  # end the read transaction before delivering
        if not rows:
            return done
        after_id = rows[-1][0]
        done += _hand_over(app, rows)


def _hand_over(app: Flask, rows: list[tuple[int, str]]) -> int:
    if not app.config.get("REDIS_URL"):
        return relay_ids(app, [i for i, _ in rows])
    from rq.job import Job, JobStatus

    conn = redis_connection(app)
    carriers = [(found.decode() if found else jobs.job_id(outbox_id)) for (outbox_id, _), found
                in zip(rows, conn.mget([_ROW_JOB.format(i) for i, _ in rows]))]
    unique = list(dict.fromkeys(carriers))
    existing = dict(zip(unique, Job.fetch_many(unique, connection=conn)))
    waiting = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
    todo = []
    for (outbox_id, status), carrier in zip(rows, carriers):
        job = existing[carrier]
        if job is not None and status != "sending":
            try:
                state = job.get_status(refresh=False)
            except Exception:  # an unreadable job hash: enqueue anew
                state = None
            if state in waiting or (state == JobStatus.STARTED and status == "pending"):
                continue  # its job is still coming
        todo.append(outbox_id)
    return relay_ids(app, todo)


def relay_once(now: datetime | None = None, digests: bool = True) -> dict:
    """One pass of ``flask pakn relay``: the day's digests when due, then the re-send."""
    from pakn.operations import transaction

    from .digests import digest_due, write_digests

    now = now or utcnow()
    written = 0
    if digests and digest_due(now, current_app.config["DIGEST_HOUR"]):
        with transaction():
            written = write_digests(now=now)
    return {"digests": written, "relayed": relay_pending(now)}
