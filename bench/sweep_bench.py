"""Time the deadline sweep over 1,000,000 open cases on PostgreSQL.

Usage (a separate, throw-away database, created if missing, dropped and recreated)::

    PAKN_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_sweep \
        .venv/bin/python bench/sweep_bench.py --scenarios steady --keep   # load (~4-7 min), sweep
    PAKN_BENCH_DATABASE_URL=... .venv/bin/python bench/sweep_bench.py --reuse   # same data again
    PAKN_BENCH_DATABASE_URL=... .venv/bin/python bench/sweep_bench.py --continue-day 1   # next day

``--keep`` saves the loaded state as the template database ``<name>_loaded``; ``--reuse``
copies it back instead of loading (before/after comparisons on the same data).

The schema comes from the real migrations. Cases and their open stage visits are created in
the database with ``generate_series`` (never through the ORM): 30 % waiting to be classified
(5 working days), 60 % with an agency (20 days), 10 % waiting for the office check
(2 working days), received over the last 60 days (hashed, so stages and ages do not correlate),
spread over 40 agencies. No row is written twice, then VACUUM ANALYZE. Due dates are
approximations (calendar arithmetic in SQL); the sweep does not care how they were computed.

Two scenarios are timed, each as the whole ``run_sweep`` in one committed transaction:

* **steady**: the state a sweep running every few minutes leaves behind. Visits already past
  their reminder or due instant the previous day are marked (and claimed) as such; the
  timed sweep handles one day's worth of new reminders, escalations and progress updates.
* **cold**: nothing has ever been swept (first run after deployment, or after an outage):
  every past-due visit is escalated at once. This is the worst case.

Printed per sweep: wall time, the PostgreSQL backend's CPU time (from /proc, when the database
runs on this machine: less disturbed by a busy machine than the wall clock), WAL written,
notices and outbox messages, the immediate re-sweep, the peak RSS of this process (the sweep
loads no case into Python) and the load average.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from pakn import create_app  # noqa: E402
from pakn.extensions import db  # noqa: E402

NOW = datetime(2026, 6, 10, 1, 0, tzinfo=timezone.utc)  # 08:00 in Vietnam, a Wednesday


def reset(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


LOAD = [
    # the province: an office and 40 agencies
    """INSERT INTO agency_level (id, code, name, rank) VALUES (1, 'tinh', 'Cấp tỉnh', 0), (2, 'so', 'Sở', 1)""",
    """INSERT INTO agency (id, code, name, level_id, is_office, active, created_at)
       VALUES (1, 'VP', 'Văn phòng UBND tỉnh', 1, true, true, :now)""",
    """INSERT INTO agency (id, code, name, level_id, is_office, active, created_at)
       SELECT g, 'CQ' || g, 'Cơ quan ' || g, 2, false, true, :now FROM generate_series(2, 41) g""",
    # the cases: stage by id modulo 10 (0-2 classify, 3-8 handle, 9 check)
    """INSERT INTO feedback (id, code, tracking_token_hash, kind, title, content, channel, submitter_name,
         submitter_address, submitter_phone, received_at, state, agency_id, version, search_text,
         created_at, updated_at, answer_paused_days, answer_due_at)
       SELECT g, 'B-' || g, md5(g::text), 'phan_anh', 'PAKN thử tải ' || g, 'Nội dung', 'web', 'Người gửi',
         'Địa chỉ', '0900000000',
         r.received_at,
         CASE WHEN g % 10 < 3 THEN 'received' WHEN g % 10 < 9 THEN 'in_progress' ELSE 'answered' END,
         CASE WHEN g % 10 < 3 THEN NULL ELSE 2 + g % 40 END, 1, '', :now, :now, 0, r.received_at + interval '20 days'
       FROM generate_series(1, :cases) g, LATERAL (SELECT :now - make_interval(days => abs(hashtext(g::text)) % 60,
         mins => abs(hashtext(g::text || 'm')) % 600) AS received_at) r""",
    # one open visit each, due by its stage's rule (approximated in calendar days), reminded from
    # 00:00 local time the day before; in the steady scenario, with the marks that the sweeps of
    # the days before NOW left (due soon, overdue, progress updates announced), so that no row
    # is written twice (an UPDATE of a million rows would leave the table half dead tuples).
    """INSERT INTO stage_visit (id, feedback_id, stage, entered_at, due_at, due_date, rule, agency_id,
         remind_at, due_status, paused_days, progress_seq, next_progress_at)
       SELECT id, id, stage, received_at, due_at, due_date, rule, agency_id, remind_at,
         CASE WHEN NOT :steady THEN 'pending' WHEN due_at < :yesterday THEN 'overdue'
              WHEN remind_at <= :yesterday THEN 'due_soon' ELSE 'pending' END,
         0, CASE WHEN :steady AND due_at < :yesterday AND stage = 'handle' THEN periods ELSE 0 END,
         CASE WHEN :steady AND due_at < :yesterday AND stage = 'handle'
              THEN due_at + make_interval(days => 7 * periods) END
       FROM (SELECT v.*, floor(extract(epoch FROM (:yesterday - v.due_at)) / (7 * 86400))::int + 1 AS periods
             FROM (SELECT f.id, s.stage, f.received_at, COALESCE(f.agency_id, 1) AS agency_id,
                     date_trunc('day', f.received_at + make_interval(days => s.days))
                       + interval '16 hours 59 minutes 59 seconds' AS due_at,
                     (f.received_at + make_interval(days => s.days))::date AS due_date,
                     date_trunc('day', f.received_at + make_interval(days => s.days)) - interval '31 hours'
                       AS remind_at,
                     jsonb_build_object('setting', s.setting, 'days', s.days, 'unit', s.unit,
                                        'anchor', s.anchor) AS rule
                   FROM feedback f
                   JOIN (VALUES ('received', 'classify', 7, 'forward_days', 'working', 'entry'),
                                ('in_progress', 'handle', 20, 'answer_days', 'calendar', 'received'),
                                ('answered', 'check', 3, 'check_days', 'working', 'entry'))
                        AS s(state, stage, days, setting, unit, anchor) ON s.state = f.state) v) w""",
]

# The claims of the notices that the sweeps of the days before NOW wrote.
STEADY = [
    """INSERT INTO deadline_notice (visit_id, kind, sequence, due_at, recipient_agency_id, run_id, created_at)
       SELECT id, 'agency.reminder', 1, due_at, agency_id, 'earlier', :yesterday
       FROM stage_visit WHERE remind_at <= :yesterday""",
    """INSERT INTO deadline_notice (visit_id, kind, sequence, due_at, recipient_agency_id, run_id, created_at)
       SELECT id, 'office.escalation', 1, due_at, 1, 'earlier', :yesterday
       FROM stage_visit WHERE due_status = 'overdue'""",
    """INSERT INTO deadline_notice (visit_id, kind, sequence, due_at, recipient_agency_id, run_id, created_at)
       SELECT id, 'agency.escalation', 1, due_at, agency_id, 'earlier', :yesterday
       FROM stage_visit WHERE due_status = 'overdue' AND stage = 'handle'""",
    """INSERT INTO deadline_notice (visit_id, kind, sequence, due_at, recipient_agency_id, run_id, created_at)
       SELECT v.id, 'agency.progress_update_due', s, v.due_at, v.agency_id, 'earlier', :yesterday
       FROM stage_visit v, generate_series(1, v.progress_seq) s WHERE v.progress_seq > 0""",
]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def engine_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def maintenance(url: str, *statements: str) -> None:
    """Statements that cannot run in a transaction (VACUUM, CREATE DATABASE), in autocommit."""
    engine = create_engine(engine_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for sql in statements:
            conn.execute(text(sql))
    engine.dispose()


def load(app, url: str, cases: int, steady: bool) -> float:
    """The province, ``cases`` open cases with one open visit each and (steady) the claims of the
    days before, then VACUUM ANALYZE: the state of a running, autovacuumed database."""
    started = time.perf_counter()
    params = {"now": NOW, "cases": cases, "steady": steady, "yesterday": NOW - timedelta(days=1)}
    with app.app_context():
        db.session.execute(text("TRUNCATE outbox_message, deadline_notice, stage_visit, feedback, agency,"
                                " agency_level RESTART IDENTITY CASCADE"))
        for sql in LOAD + (STEADY if steady else []):
            db.session.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
        db.session.commit()
    maintenance(url, "VACUUM (ANALYZE)")
    return time.perf_counter() - started


def _backend_cpu(pid: int) -> float | None:
    """CPU seconds of the PostgreSQL backend ``pid`` (when it runs on this machine): a measure
    that a busy machine disturbs less than the wall clock."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_sweep(app, now: datetime = NOW) -> dict:
    """The whole ``run_sweep`` in one committed transaction, then an immediate second sweep at
    the same instant (which must write nothing)."""
    from pakn.deadlines.sweep import run_sweep
    from pakn.operations import transaction

    with app.app_context():
        pid, lsn = db.session.execute(text("SELECT pg_backend_pid(), pg_current_wal_lsn()")).one()
        db.session.commit()
        before_load, cpu = loadavg(), _backend_cpu(pid)
        started = time.perf_counter()
        with transaction():
            result = run_sweep(now)
        elapsed = time.perf_counter() - started
        cpu = None if cpu is None else _backend_cpu(pid) - cpu
        wal = float(db.session.execute(text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), :lsn)"),
                                       {"lsn": lsn}).scalar())
        db.session.commit()
        again = time.perf_counter()
        with transaction():
            second = run_sweep(now)
        rerun = time.perf_counter() - again
    assert second.total == 0, "a second sweep at the same instant must write nothing"
    return {"elapsed": elapsed, "rerun": rerun, "result": result, "cpu": cpu, "wal_mb": wal / 1e6,
            "load": f"{before_load} → {loadavg()}"}


def report(label: str, run: dict) -> str:
    r = run["result"]
    cpu = f", PostgreSQL backend CPU {run['cpu']:.1f} s" if run["cpu"] is not None else ""
    return (f"[{label}] sweep {run['elapsed']:.2f} s{cpu}, WAL {run['wal_mb']:.0f} MB"
            f" ({r.marked_due_soon:,} due soon, {r.marked_overdue:,} overdue; notices "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(r.written.items()))
            + f"; {sum(r.messages.values()):,} outbox messages); immediate re-sweep {run['rerun']:.2f} s writes"
            f" nothing; peak RSS {rss_mb():.0f} MB; load average {run['load']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--scenarios", default="steady,cold", help="comma-separated: steady, cold")
    parser.add_argument("--continue-day", type=int, default=0,
                        help="no reload: sweep the database as the previous run left it, N days after the"
                             " first sweep instant (the next daily batch of a running system)")
    parser.add_argument("--keep", action="store_true",
                        help="steady: keep the loaded state as the template database <name>_loaded")
    parser.add_argument("--reuse", action="store_true",
                        help="steady: copy the template <name>_loaded (made by --keep) instead of loading")
    args = parser.parse_args()
    url = os.environ.get("PAKN_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_sweep")
    name = url.rsplit("/", 1)[1]
    if "bench" not in name:
        sys.exit("refusing to wipe a database whose name does not contain 'bench'")
    server = url.rsplit("/", 1)[0] + "/postgres"
    if args.continue_day:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        print(report(f"day +{args.continue_day}", timed_sweep(app, NOW + timedelta(days=args.continue_day))),
              flush=True)
        return
    if args.reuse:
        started = time.perf_counter()
        maintenance(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                    f'CREATE DATABASE "{name}" TEMPLATE "{name}_loaded"')
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():  # a template saved by older code gets the migrations since (untimed)
            upgrade(directory=os.path.join(app.root_path, "..", "migrations"))
            db.engine.dispose()
        print(f"copied {name}_loaded in {time.perf_counter() - started:.1f} s; sweep at {NOW.isoformat()}")
        print(report("steady", timed_sweep(app)), flush=True)
        return
    engine = create_engine(engine_url(server))
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).scalar()
    engine.dispose()
    if not exists:
        maintenance(server, f'CREATE DATABASE "{name}"')
    reset(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=os.path.join(app.root_path, "..", "migrations"))
    print(f"{args.cases:,} open cases, sweep at {NOW.isoformat()}")
    for scenario in args.scenarios.split(","):
        load_s = load(app, url, args.cases, steady=scenario == "steady")
        print(f"[{scenario}] loaded in {load_s:.0f} s (load average {loadavg()})", flush=True)
        if scenario == "steady" and args.keep:
            with app.app_context():
                db.engine.dispose()
            maintenance(server, f'DROP DATABASE IF EXISTS "{name}_loaded"',
                        f'CREATE DATABASE "{name}_loaded" TEMPLATE "{name}"')
        print(report(scenario, timed_sweep(app)), flush=True)


if __name__ == "__main__":
    main()
