"""Time the deadline sweep over 1,000,000 open cases on PostgreSQL.

Usage (a separate, throw-away database: it is dropped and recreated)::

    createdb -h 127.0.0.1 -U postgres bench_sweep
    PAKN_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_sweep \
        /work/main/.venv/bin/python bench/sweep_bench.py [--cases 1000000]

The schema comes from the real migrations. Cases and their open stage visits are created in
the database with ``generate_series`` (never through the ORM): 30 % waiting to be classified
(5 working days), 60 % with an agency (20 days), 10 % waiting for the office check
(2 working days), received over the last 60 days (hashed, so stages and ages do not correlate), spread over 40 agencies. Due dates are
approximations (calendar arithmetic in SQL); the sweep does not care how they were computed.

Two scenarios are timed, each as the whole ``run_sweep`` in one committed transaction:

* **steady**: the state a sweep running every few minutes leaves behind. Visits already past
  their reminder or due instant the previous day are marked (and claimed) as such; the
  timed sweep handles one day's worth of new reminders, escalations and progress updates.
* **cold**: nothing has ever been swept (first run after deployment, or after an outage):
  every past-due visit is escalated at once. This is the worst case.

Memory: the peak RSS of this Python process is printed; the sweep loads no case into Python.
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
         created_at, updated_at, answer_paused_days)
       SELECT g, 'B-' || g, md5(g::text), 'phan_anh', 'PAKN thử tải ' || g, 'Nội dung', 'web', 'Người gửi',
         'Địa chỉ', '0900000000',
         :now - make_interval(days => abs(hashtext(g::text)) % 60, mins => abs(hashtext(g::text || 'm')) % 600),
         CASE WHEN g % 10 < 3 THEN 'received' WHEN g % 10 < 9 THEN 'in_progress' ELSE 'answered' END,
         CASE WHEN g % 10 < 3 THEN NULL ELSE 2 + g % 40 END, 1, '', :now, :now, 0
       FROM generate_series(1, :cases) g""",
    # one open visit each, due by its stage's rule (approximated in calendar days)
    """INSERT INTO stage_visit (id, feedback_id, stage, entered_at, due_at, due_date, rule, agency_id,
         due_status, paused_days, progress_seq)
       SELECT f.id, f.id, s.stage, f.received_at,
         date_trunc('day', f.received_at + make_interval(days => s.days)) + interval '16 hours 59 minutes 59 seconds',
         (f.received_at + make_interval(days => s.days))::date,
         jsonb_build_object('setting', s.setting, 'days', s.days, 'unit', s.unit, 'anchor', s.anchor),
         COALESCE(f.agency_id, 1), 'pending', 0, 0
       FROM feedback f
       JOIN (VALUES ('received', 'classify', 7, 'forward_days', 'working', 'entry'),
                    ('in_progress', 'handle', 20, 'answer_days', 'calendar', 'received'),
                    ('answered', 'check', 3, 'check_days', 'working', 'entry'))
            AS s(state, stage, days, setting, unit, anchor) ON s.state = f.state""",
    """UPDATE stage_visit SET remind_at = date_trunc('day', due_at) - interval '1 day 7 hours'""",
    """UPDATE feedback f SET answer_due_at = f.received_at + interval '20 days'""",
]

# What earlier sweeps would have left behind, as of the day before NOW.
STEADY = [
    """UPDATE stage_visit SET due_status = 'due_soon'
       WHERE remind_at <= :yesterday AND due_at >= :yesterday""",
    """INSERT INTO deadline_notice (visit_id, kind, sequence, due_at, recipient_agency_id, run_id, created_at)
       SELECT id, 'agency.reminder', 1, due_at, agency_id, 'earlier', :yesterday
       FROM stage_visit WHERE remind_at <= :yesterday""",
    """UPDATE stage_visit SET due_status = 'overdue',
         progress_seq = CASE WHEN stage = 'handle'
           THEN floor(extract(epoch FROM (:yesterday - due_at)) / (7 * 86400))::int + 1 ELSE 0 END,
         next_progress_at = CASE WHEN stage = 'handle'
           THEN due_at + make_interval(days => 7 * (floor(extract(epoch FROM (:yesterday - due_at))
                                                    / (7 * 86400))::int + 1)) END
       WHERE due_at < :yesterday""",
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


def load(app, cases: int, steady: bool) -> float:
    started = time.perf_counter()
    with app.app_context():
        db.session.execute(text("TRUNCATE outbox_message, deadline_notice, stage_visit, feedback, agency,"
                                " agency_level RESTART IDENTITY CASCADE"))
        for sql in LOAD:
            db.session.execute(text(sql), {"now": NOW, "cases": cases})
        if steady:
            for sql in STEADY:
                db.session.execute(text(sql), {"yesterday": NOW - timedelta(days=1)})
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return time.perf_counter() - started


def timed_sweep(app, now: datetime = NOW) -> tuple[float, object, float]:
    from pakn.deadlines.sweep import run_sweep
    from pakn.operations import transaction

    with app.app_context():
        started = time.perf_counter()
        with transaction():
            result = run_sweep(now)
        elapsed = time.perf_counter() - started
        again = time.perf_counter()
        with transaction():
            second = run_sweep(now)
        rerun = time.perf_counter() - again
    assert second.total == 0, "a second sweep at the same instant must write nothing"
    return elapsed, result, rerun


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--scenarios", default="steady,cold", help="comma-separated: steady, cold")
    parser.add_argument("--continue-day", type=int, default=0,
                        help="no reload: sweep the database as the previous run left it, N days after the"
                             " first sweep instant (the next daily batch of a running system)")
    args = parser.parse_args()
    url = os.environ.get("PAKN_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_sweep")
    if "bench" not in url:
        sys.exit("refusing to wipe a database whose name does not contain 'bench'")
    if args.continue_day:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        elapsed, result, rerun = timed_sweep(app, NOW + timedelta(days=args.continue_day))
        print(f"[day +{args.continue_day}] sweep {elapsed:.2f} s ({result.marked_due_soon:,} due soon, "
              f"{result.marked_overdue:,} overdue; " + ", ".join(f"{k} {v:,}" for k, v in sorted(result.written.items()))
              + f"); immediate re-sweep {rerun:.2f} s writes nothing; peak RSS {rss_mb():.0f} MB", flush=True)
        return
    reset(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=os.path.join(app.root_path, "..", "migrations"))
    print(f"{args.cases:,} open cases, sweep at {NOW.isoformat()}")
    for scenario in args.scenarios.split(","):
        load_s = load(app, args.cases, steady=scenario == "steady")
        elapsed, result, rerun = timed_sweep(app)
        print(f"[{scenario}] load {load_s:.1f} s; sweep {elapsed:.2f} s "
              f"({result.marked_due_soon:,} due soon, {result.marked_overdue:,} overdue; "
              + ", ".join(f"{k} {v:,}" for k, v in sorted(result.written.items()))
              + f"); immediate re-sweep {rerun:.2f} s writes nothing; peak RSS {rss_mb():.0f} MB", flush=True)


if __name__ == "__main__":
    main()
