"""Time e-mail notifications from the outbox to an SMTP sink through RQ workers, against the
raw RQ throughput of the same worker class, in the same run.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<throwaway db> \
    REDIS_URL=redis://127.0.0.1:6379/<throwaway db number> \
    .venv/bin/python bench/notify_bench.py [--messages 10000] [--raw-jobs 5000] [--workers 2]
        [--batch 20] [--classes fork,simple] [--record bench/RESULTS.md]

THE DATABASE AND THE REDIS DB ARE WIPED (schema dropped and migrated; FLUSHDB). Loopback only.

For each worker class (fork = notifications.worker.Worker, a work horse forked per job, RQ's
default; simple = notifications.worker.SimpleWorker, jobs run in the worker process):
  raw    - enqueue N no-op jobs (one job per message: the floor of "one RQ job per
           notification"), start W `rq worker --burst` processes, time until they exit;
  notify - write M outbox rows (one e-mail each), relay them to RQ as the product does (one
           job per --batch rows, each row claimed and recorded on its own; timed apart), start
           an SMTP sink in its own process (bench/smtp_sink.py) and W burst workers, time until
           the workers exit; then check the sink got exactly M messages with M distinct
           Message-IDs, and every row is ``sent``.
Reported: drain messages/s (wall, incl. worker start-up), steady messages/s (first job start
to last job end, from RQ's timestamps), the ratio e-mails/s ÷ raw jobs/s (target ≥ 0.5,
i.e. within 2x), and the load average before and after each phase (the machine is shared).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CLASSES = {"fork": "notifications.worker.Worker", "simple": "notifications.worker.SimpleWorker"}
QUEUE = "notifications-bench"


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


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def start_sink(port: int, outfile: Path) -> subprocess.Popen:
    """The SMTP sink, in a process of its own (bench/smtp_sink.py)."""
    sink = subprocess.Popen([sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(port), str(outfile)],
                            stdout=subprocess.PIPE)
    if sink.stdout.readline().strip() != b"ready":
        sink.kill()
        raise RuntimeError("the SMTP sink did not start")
    return sink


def stop_sink(sink: subprocess.Popen, outfile: Path) -> list[bytes]:
    """Stop the sink (by its pid) and read the Message-IDs it received."""
    sink.terminate()
    sink.wait(60)
    return outfile.read_bytes().split()


def steady_rate(conn, ids, count: int | None = None) -> float:
    """``count`` (default: one per job) ÷ (last job end − first job start), from RQ's timestamps."""
    from rq.job import Job

    jobs = [j for j in Job.fetch_many(ids, connection=conn) if j is not None]
    starts = [j.started_at for j in jobs if j.started_at]
    ends = [j.ended_at for j in jobs if j.ended_at]
    if len(ends) != len(ids):
        return float("nan")
    return (count or len(ids)) / (max(ends) - min(starts)).total_seconds()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--raw-jobs", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--classes", default="fork,simple")
    ap.add_argument("--batch", type=int, default=20, help="outbox rows per RQ job (NOTIFY_BATCH_SIZE)")
    ap.add_argument("--record", default=None, help="append the result table to this Markdown file")
    a = ap.parse_args()
    db_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    assert "127.0.0.1" in redis_url or "localhost" in redis_url, "loopback Redis only"

    from flask_migrate import upgrade
    from redis import Redis
    from rq import Queue
    from sqlalchemy import func, insert, select

    from tests.notify_support import free_port

    smtp_port = free_port()
    logdir = ROOT / "bench" / "results" / f"notify-{time.strftime('%Y%m%d-%H%M%S')}"
    logdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}", "PAKN_SMTP_HOST": "127.0.0.1",
           "PAKN_SMTP_PORT": str(smtp_port), "PAKN_NOTIFY_QUEUE": QUEUE, "SECRET_KEY": "bench-secret",
           "PAKN_INSTANCE_DIR": str(logdir), "PAKN_NOTIFY_AFTER_COMMIT": "0",
           "PAKN_NOTIFY_BATCH_SIZE": str(a.batch)}
    os.environ.update({k: env[k] for k in ("PAKN_SMTP_HOST", "PAKN_SMTP_PORT", "PAKN_NOTIFY_QUEUE", "SECRET_KEY",
                                           "PAKN_INSTANCE_DIR", "PAKN_NOTIFY_AFTER_COMMIT", "PAKN_NOTIFY_BATCH_SIZE")})

    from bench_jobs import noop
    from pakn import create_app
    from pakn.extensions import db
    from pakn.models import Agency, AgencyLevel, OutboxMessage
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
        ids = [q.enqueue(noop, result_ttl=7200).id for _ in range(a.raw_jobs)]  # timestamps kept for "steady"
        load = loadavg()
        wall = run_workers(env, redis_url, cls, a.workers, logdir, f"raw-{name}")
        raw = {"drain": a.raw_jobs / wall, "steady": steady_rate(conn, ids), "load": load + " → " + loadavg()}
        print(f"{name} raw RQ: drain {raw['drain']:.0f}/s steady {raw['steady']:.0f}/s; load {raw['load']}",
              flush=True)

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
            sink = start_sink(smtp_port, logdir / f"sink-{name}.ids")
            try:
                t0 = time.perf_counter()
                relay_pending()
                relay_rate = a.messages / (time.perf_counter() - t0)
                q = Queue(QUEUE, connection=conn)
                job_ids = q.job_ids
                load = loadavg()
                wall = run_workers(env, redis_url, cls, a.workers, logdir, f"notify-{name}")
                load += " → " + loadavg()
            finally:
                ids = stop_sink(sink, logdir / f"sink-{name}.ids")
            sent = db.session.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
            db.session.rollback()
        notify = {"drain": a.messages / wall, "steady": steady_rate(conn, job_ids, a.messages), "relay": relay_rate,
                  "jobs": len(job_ids), "load": load}
        ok = len(ids) == a.messages and len(set(ids)) == a.messages and sent == a.messages
        print(f"{name} notifications: drain {notify['drain']:.0f}/s steady {notify['steady']:.0f}/s "
              f"relay {relay_rate:.0f}/s; {len(job_ids)} jobs; mails {len(ids)}, distinct Message-IDs "
              f"{len(set(ids))}, rows sent {sent}, ok={ok}; load {load}", flush=True)
        results.append((name, raw, notify, ok))
    conn.flushdb()

    from importlib.metadata import version

    backend = "PostgreSQL" if db_url.startswith("postgres") else "SQLite"
    head = (f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores (shared), {backend}, "
            f"redis-server {conn.info('server')['redis_version']}, rq {version('rq')}, "
            f"{a.workers} workers, {a.messages} e-mails in jobs of {a.batch} rows, {a.raw_jobs} no-op jobs "
            f"(one per message); SMTP sink in its own process")
    lines = [f"Run: {head}.", "",
             "| worker class | raw RQ no-op jobs/s (drain / steady) | e-mails/s outbox → SMTP sink "
             "(drain / steady) | ratio e-mail ÷ raw (drain / steady) | delivery jobs | relay enqueue rows/s "
             "| all sent once | load average (raw; e-mail) |",
             "|---|---:|---:|---:|---:|---:|---|---|"]
    for name, raw, notify, ok in results:
        lines.append(f"| {name} (`{CLASSES[name]}`) | {raw['drain']:.0f} / {raw['steady']:.0f} | "
                     f"{notify['drain']:.0f} / {notify['steady']:.0f} | {notify['drain'] / raw['drain']:.2f} / "
                     f"{notify['steady'] / raw['steady']:.2f} | {notify['jobs']} | {notify['relay']:.0f} | {ok} | "
                     f"{raw['load']}; {notify['load']} |")
    text = "\n".join(lines)
    print("\n" + text)
    (logdir / "summary.md").write_text(text + "\n")
    if a.record:
        with open(a.record, "a") as fh:
            fh.write("\n" + text + "\n")


if __name__ == "__main__":
    main()
