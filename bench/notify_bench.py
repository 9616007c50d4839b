"""Time e-mail notifications from the outbox to an SMTP sink through RQ workers, against the
raw RQ throughput of the same worker class, in the same run.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<throwaway db> \
    REDIS_URL=redis://127.0.0.1:6379/<throwaway db number> \
    .venv/bin/python bench/notify_bench.py [--messages 10000] [--raw-jobs 5000] [--workers 2]
        [--classes fork,simple] [--record bench/RESULTS.md]

THE DATABASE AND THE REDIS DB ARE WIPED (schema dropped and migrated; FLUSHDB). Loopback only.

For each worker class (fork = notifications.worker.Worker, a work horse forked per job, RQ's
default; simple = notifications.worker.SimpleWorker, jobs run in the worker process):
  raw    - enqueue N no-op jobs, start W `rq worker --burst` processes, time until they exit;
  notify - write M outbox rows (one e-mail each), relay them to RQ (timed apart: the relay
           is one process doing one enqueue per row), start W burst workers, time until they
           exit; then check the sink got exactly M messages, M distinct Message-IDs, and every
           row is ``sent``.
Reported: drain messages/s (wall, incl. worker start-up) and steady messages/s (first job
start to last job end, from RQ's timestamps), and the ratio notify/raw.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CLASSES = {"fork": "notifications.worker.Worker", "simple": "notifications.worker.SimpleWorker"}
QUEUE = "notifications-bench"


class CountingSink:
    """aiosmtpd handler that keeps only what the check needs: recipients and Message-IDs."""

    def __init__(self):
        self.ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        mid = next((line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                    if line.lower().startswith(b"message-id:")), b"")
        with self.lock:
            self.ids.append(mid.decode())
        return "250 OK"


def reset_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    from pakn.config import database_url

    engine = create_engine(database_url(url))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def run_workers(env, redis_url, cls, n, logdir, label) -> float:
    rq = str(Path(sys.executable).with_name("rq"))
    procs = []
    t0 = time.perf_counter()
    try:
        for i in range(n):
            log = open(logdir / f"{label}-{i}.log", "ab")
            procs.append(subprocess.Popen([rq, "worker", "--burst", "-u", redis_url, "-w", cls, QUEUE],
                                          cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        rcs = [p.wait(timeout=3600) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait()
    if any(rcs):
        raise RuntimeError(f"{label}: worker exit codes {rcs}")
    return time.perf_counter() - t0


def steady_rate(conn, ids) -> float:
    from rq.job import Job

    jobs = [j for j in Job.fetch_many(ids, connection=conn) if j is not None]
    starts = [j.started_at for j in jobs if j.started_at]
    ends = [j.ended_at for j in jobs if j.ended_at]
    if len(ends) != len(ids):
        return float("nan")
    return len(ids) / (max(ends) - min(starts)).total_seconds()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--raw-jobs", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--classes", default="fork,simple")
    ap.add_argument("--record", default=None, help="append the result table to this Markdown file")
    a = ap.parse_args()
    db_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    assert "127.0.0.1" in redis_url or "localhost" in redis_url, "loopback Redis only"

    from aiosmtpd.controller import Controller
    from flask_migrate import upgrade
    from redis import Redis
    from rq import Queue
    from sqlalchemy import func, insert, select

    sink = CountingSink()
    from tests.notify_support import free_port

    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    logdir = ROOT / "bench" / "results" / f"notify-{time.strftime('%Y%m%d-%H%M%S')}"
    logdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}", "PAKN_SMTP_HOST": "127.0.0.1",
           "PAKN_SMTP_PORT": str(smtp_port), "PAKN_NOTIFY_QUEUE": QUEUE, "SECRET_KEY": "bench-secret",
           "PAKN_INSTANCE_DIR": str(logdir), "PAKN_NOTIFY_AFTER_COMMIT": "0"}
    os.environ.update({k: env[k] for k in ("PAKN_SMTP_HOST", "PAKN_SMTP_PORT", "PAKN_NOTIFY_QUEUE", "SECRET_KEY",
                                           "PAKN_INSTANCE_DIR", "PAKN_NOTIFY_AFTER_COMMIT")})

    from bench_jobs import noop
    from pakn import create_app
    from pakn.extensions import db
    from pakn.models import Agency, AgencyLevel, Feedback, OutboxMessage
    from pakn.operations import SubmitterActor, receive_feedback, transaction
    from pakn.scenarios import SUBMISSION
    from notifications.relay import relay_pending

    conn = Redis.from_url(redis_url)
    results = []
    for name in a.classes.split(","):
        cls = CLASSES[name]
        # -- raw RQ: no-op jobs, same worker class ------------------------------------------
        conn.flushdb()
        q = Queue(QUEUE, connection=conn)
        ids = [q.enqueue(noop).id for _ in range(a.raw_jobs)]
        wall = run_workers(env, redis_url, cls, a.workers, logdir, f"raw-{name}")
        raw = {"drain": a.raw_jobs / wall, "steady": steady_rate(conn, ids)}
        print(f"{name} raw RQ: drain {raw['drain']:.0f}/s steady {raw['steady']:.0f}/s", flush=True)

        # -- notifications: outbox rows -> relay -> workers -> SMTP sink -----------------------
        conn.flushdb()
        reset_database(db_url)
        app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "REDIS_URL": redis_url})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            with transaction():
                level = AgencyLevel(code="tinh", name="Cấp tỉnh", rank=0)
                db.session.add(Agency(code="VP", name="Văn phòng UBND tỉnh", level=level, is_office=True))
            with transaction():
                case, _ = receive_feedback(SUBMISSION, SubmitterActor())
            case_id = case.id
            db.session.execute(insert(OutboxMessage), [
                {"kind": "submitter.progress_update", "feedback_id": case_id, "recipient_kind": "submitter",
                 "payload": {"trigger": "post_progress", "message": f"Tiến độ xử lý lần {i}."}}
                for i in range(a.messages)])
            db.session.execute(OutboxMessage.__table__.delete().where(OutboxMessage.kind == "submitter.receipt"))
            db.session.commit()
            del sink.ids[:]
            t0 = time.perf_counter()
            relay_pending()
            relay_rate = a.messages / (time.perf_counter() - t0)
            job_ids = [f"outbox-{i}" for i, in db.session.execute(select(OutboxMessage.id))]
            assert Queue(QUEUE, connection=conn).count == a.messages
            wall = run_workers(env, redis_url, cls, a.workers, logdir, f"notify-{name}")
            sent = db.session.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
            db.session.rollback()
        notify = {"drain": a.messages / wall, "steady": steady_rate(conn, job_ids), "relay": relay_rate}
        ok = len(sink.ids) == a.messages and len(set(sink.ids)) == a.messages and sent == a.messages
        print(f"{name} notifications: drain {notify['drain']:.0f}/s steady {notify['steady']:.0f}/s "
              f"relay {relay_rate:.0f}/s; mails {len(sink.ids)}, distinct Message-IDs {len(set(sink.ids))}, "
              f"rows sent {sent}, ok={ok}", flush=True)
        results.append((name, raw, notify, ok))
    controller.stop()
    conn.flushdb()

    from importlib.metadata import version

    backend = "PostgreSQL" if db_url.startswith("postgres") else "SQLite"
    head = (f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores (shared), {backend}, "
            f"redis-server {conn.info('server')['redis_version']}, rq {version('rq')}, "
            f"{a.workers} workers, {a.messages} e-mails, {a.raw_jobs} no-op jobs")
    lines = [f"Run: {head}.", "",
             "| worker class | raw RQ no-op jobs/s (drain / steady) | e-mails/s outbox → SMTP sink "
             "(drain / steady) | ratio raw ÷ e-mail (drain) | relay enqueue rows/s | all sent once |",
             "|---|---:|---:|---:|---:|---|"]
    for name, raw, notify, ok in results:
        lines.append(f"| {name} (`{CLASSES[name]}`) | {raw['drain']:.0f} / {raw['steady']:.0f} | "
                     f"{notify['drain']:.0f} / {notify['steady']:.0f} | {raw['drain'] / notify['drain']:.2f}× | "
                     f"{notify['relay']:.0f} | {ok} |")
    text = "\n".join(lines)
    print("\n" + text)
    (logdir / "summary.md").write_text(text + "\n")
    if a.record:
        with open(a.record, "a") as fh:
            fh.write("\n" + text + "\n")


if __name__ == "__main__":
    main()
