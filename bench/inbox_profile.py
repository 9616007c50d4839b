"""Profile the office and agency inboxes in-process: ms per request, SQL statements, EXPLAIN.

Read-only: the app's connections run with ``default_transaction_read_only`` on, so a
request that tried to write would fail instead of changing the bench database. Staff are
signed in with a signed session cookie (as bench/suite.py does), not through the login form.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_suite REDIS_URL=redis://127.0.0.1:6379/14 \\
      .venv/bin/python bench/inbox_profile.py [--repeat 30] [--explain] [--profile PATH-SUBSTRING]

Per path it prints the first (cold: the per-process count caches empty) request's time and
statements, then the median and 95th percentile of ``--repeat`` warm requests.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OFFICE_PATHS = ["/office/", "/office/?due=overdue", "/office/?agency=S08", "/office/?field=LV01",
                "/office/?q=xay%20dung", "/office/?state=in_progress&sort=due_asc"]
AGENCY_PATHS = ["/agency/", "/agency/?view=overdue", "/agency/?view=all", "/agency/?q=giay%20phep"]
EXTRA_OFFICE = ["/office/?due=overdue&lang=en", "/office/?due=today", "/office/?due=week&sort=received_asc", "/office/?clerk=none",
                "/office/?state=forwarded&state=in_progress", "/office/?kind=kien_nghi&channel=web"]
EXTRA_AGENCY = ["/agency/?view=overdue&lang=en", "/agency/?view=done", "/agency/?view=due_soon", "/agency/?view=new", "/agency/?view=returned"]
SECRET = "bench-suite-secret"


def read_only(url: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-c%20default_transaction_read_only%3Don"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) every statement once")
    p.add_argument("--profile", default=None, help="cProfile the warm requests of paths containing this")
    p.add_argument("--agency", default="S08")
    p.add_argument("--only", default=None, help="only paths containing this")
    p.add_argument("--dump", default=None, help="write each page (CSRF tokens blanked) into this directory")
    p.add_argument("--extra", action="store_true", help="also a second page, English, and other filters")
    p.add_argument("--counts", type=int, default=0, metavar="N",
                   help="only time the counts of each path, uncached, N times (median, max)")
    a = p.parse_args()

    os.environ.setdefault("SECRET_KEY", SECRET)
    os.environ.setdefault("PAKN_INSTANCE_DIR", tempfile.mkdtemp(prefix="pakn-inbox-"))
    from sqlalchemy import event, select, text

    from pakn import create_app
    from pakn.auth.session import start_session
    from pakn.extensions import db
    from pakn.models import Agency, User

    url = os.environ["DATABASE_URL"]
    app = create_app({"SQLALCHEMY_DATABASE_URI": read_only(url), "SECRET_KEY": os.environ["SECRET_KEY"]})
    statements: list[tuple[str, object]] = []
    with app.app_context():
        clerk = db.session.scalar(select(User).where(User.role == "office_clerk").order_by(User.id))
        officer = db.session.scalar(select(User).join(Agency, Agency.id == User.agency_id).where(
            User.role == "agency_officer", Agency.code == a.agency).order_by(User.id))

        @event.listens_for(db.engine, "before_cursor_execute")
        def _count(conn, cursor, statement, parameters, context, executemany):
            statements.append((statement, parameters))

    def cookie(user) -> str:
        from flask import session

        with app.test_request_context("/"):
            start_session(user)
            return app.session_interface.get_signing_serializer(app).dumps(dict(session))

    if a.counts:
        return time_counts(app, clerk, officer, a)
    cookies = {"office": cookie(clerk), "agency": cookie(officer)}
    client = app.test_client()
    paths = [("office", x) for x in OFFICE_PATHS] + [("agency", x) for x in AGENCY_PATHS]
    if a.extra:
        paths += [("office", x) for x in EXTRA_OFFICE] + [("agency", x) for x in EXTRA_AGENCY]
    if a.only:
        paths = [(w, x) for w, x in paths if a.only in x]
    print(f"{'path':<45} {'cold ms':>8} {'stmts':>5} {'warm p50':>9} {'p95':>7} {'cpu p50':>8} {'stmts':>5}  bytes")
    explained = []
    for who, path in paths:
        client.set_cookie("session", cookies[who])

        def get():
            statements.clear()
            t, c = time.perf_counter(), time.process_time()
            resp = client.get(path)
            ms, cpu = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
            assert resp.status_code == 200, (path, resp.status_code, resp.data[:500])
            cpus.append(cpu)
            return ms, len(statements), resp

        cpus: list[float] = []
        cold, cold_n, _ = get()
        cold_statements = list(statements)
        cpus.clear()
        times = []
        prof = cProfile.Profile() if a.profile and a.profile in path else None
        for _ in range(a.repeat):
            if prof:
                prof.enable()
            ms, n, resp = get()
            if prof:
                prof.disable()
            times.append(ms)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        if a.dump:
            body = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', resp.get_data(True))
            Path(a.dump).mkdir(parents=True, exist_ok=True)
            (Path(a.dump) / (re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") + ".html")).write_text(body)
            nxt = re.search(r'href="([^"]*after=[^"]*)"', body)
            if nxt and a.extra:
                page2 = client.get(nxt.group(1).replace("&amp;", "&"))
                (Path(a.dump) / (re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") + "_page2.html")).write_text(
                    re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', page2.get_data(True)))
        print(f"{path:<45} {cold:8.1f} {cold_n:5d} {statistics.median(times):9.1f} {p95:7.1f} "
              f"{statistics.median(cpus):8.1f} {n:5d}  "
              f"{len(resp.data)}", flush=True)
        if prof:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
        explained.append((path, cold_statements))
    if a.explain:
        with app.app_context():
            conn = db.engine.raw_connection()
            try:
                cur = conn.cursor()
                for path, stmts in explained:
                    print(f"\n===== {path}")
                    for sql, params in stmts:
                        if not sql.lstrip().upper().startswith("SELECT"):
                            continue
                        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                        plan = [r[0] for r in cur.fetchall()]
                        total = plan[-1]
                        print(f"-- {' '.join(sql.split())[:300]}\n   {total}")
                        if any(w in "\n".join(plan) for w in ("Seq Scan", "Sort")) or "Execution Time" in total \
                                and float(total.split()[2]) > 5:
                            print("\n".join("   " + line for line in plan[:40]))
                conn.rollback()
            finally:
                conn.close()


def time_counts(app, clerk, officer, a) -> None:
    """The counts each path shows, computed without the per-process cache ``a.counts`` times."""
    from urllib.parse import parse_qs, urlsplit

    from werkzeug.datastructures import MultiDict

    from pakn.agency_portal import queries
    from pakn.extensions import db
    from pakn.models.types import utcnow
    from pakn.office.inbox import parse_filter, state_counts

    paths = [("office", x) for x in OFFICE_PATHS] + [("agency", x) for x in AGENCY_PATHS]
    if a.only:
        paths = [(w, x) for w, x in paths if a.only in x]
    print(f"{'path':<45} {'counts ms p50':>13} {'max':>7}")
    seen = set()
    for who, path in paths:
        args = MultiDict([(k, v) for k, vs in parse_qs(urlsplit(path).query).items() for v in vs])
        key = (who, args.get("q"), tuple(sorted(args.items(multi=True))) if who == "office" else None)
        if key in seen:  # the agency's views share one set of counts per search text
            continue
        seen.add(key)
        with app.test_request_context(path):
            user = db.session.get(type(clerk), (clerk if who == "office" else officer).id)
            times = []
            kept = app.config.get("COUNT_CACHE_SECONDS", 30)
            app.config["COUNT_CACHE_SECONDS"] = 0  # MarkedCache.get computes every time
            try:
                for _ in range(a.counts):
                    now = utcnow()
                    t = time.perf_counter()
                    if who == "office":
                        state_counts(user, parse_filter(args), now)
                    else:
                        queries.counts(user, args.get("q"), now)
                    times.append((time.perf_counter() - t) * 1000)
                    db.session.rollback()
            finally:
                app.config["COUNT_CACHE_SECONDS"] = kept
        print(f"{path:<45} {statistics.median(times):13.1f} {max(times):7.1f}", flush=True)


if __name__ == "__main__":
    main()
