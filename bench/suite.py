"""The provincial and national scale benchmark (issue 11): one command, ratios against the floor.

    bench/run [--cases 1000000] [--duration 15] [--conns 8] [--only http,rss,batch,sweep,notify]

(``bench/run`` checks wrk and calls this file with the shared venv.) Steps, all on loopback:

1. **Data**: ``bench/generate.py`` loads N cases into the bench database (skipped when it
   already holds exactly N generated cases with this seed; ``--regenerate`` forces it). The
   floor's own table is seeded with N rows too (``ref_app.py seed N``, its own database).
2. **Serve**: pakn (``wsgi:app``) and the floor (``../shared/bench/ref_app.py``) under gunicorn,
   each ``-w 4 -k sync`` (the floor's reference config), on two loopback ports, side by side.
3. **Logins without the form**: staff session cookies are made by a small Python step that
   calls the app's own ``start_session`` in a request context and signs the session with the
   app's session serializer, so a change of the login form (TOTP) does not break the suite.
   The citizen's virtual users fetch the form with a real GET (cookie and CSRF token each).
4. **HTTP** (wrk, ``load.lua``): for each scenario, the floor's counterpart then ours, each a
   warm-up and a measured run of ``--duration`` s at ``--conns`` connections; req/s, p50/p95/p99.
5. **RSS**: RSS of every gunicorn worker (``/proc/<pid>/status`` VmRSS) before and after a run
   of 10,000 requests over a mix of our pages; the same for the floor.
6. **Batch**: the provincial report of a year and of a quarter, the register XLSX of a quarter and of the year
   (``bench/batch.py``, one process each, peak RSS); the deadline sweep
   (``bench/sweep_bench.py``) and notifications vs raw RQ (``bench/notify_bench.py``), each in
   its own throw-away database (``<db>_sweep``, ``<db>_notify``: they wipe what they get).

Output: ``bench/results/suite-<timestamp>/`` (logs, raw wrk lines, ``summary.md``), and the
summary table on stdout. Every loop is bounded in count and time, every process started here
is stopped by its PID at exit (also on Ctrl-C).
"""
from __future__ import annotations

import argparse
import atexit
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
VENV_BIN = Path(sys.executable).parent
SECRET = "bench-suite-secret"
STARTED: list[subprocess.Popen] = []


# -- processes ------------------------------------------------------------------------------
def stop_all() -> None:
    for proc in reversed(STARTED):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


atexit.register(stop_all)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def spawn(cmd, log: Path, **kw) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=open(log, "ab"), stderr=subprocess.STDOUT, **kw)
    STARTED.append(proc)
    return proc


def run_logged(cmd, log: Path, timeout: float, **kw) -> str:
    """Run to completion (bounded by ``timeout``), tee its output to ``log``, return it."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    STARTED.append(proc)
    out = []
    deadline = time.monotonic() + timeout

    def reader():
        for line in proc.stdout:
            out.append(line)
            with open(log, "a") as fh:
                fh.write(line)
            if not line.startswith("INFO  [alembic"):
                print("    " + line.rstrip(), flush=True)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    while proc.poll() is None:
        if time.monotonic() > deadline:
            proc.terminate()
            proc.wait()
            out.append(f"TIMEOUT after {timeout:.0f} s\n")
            break
        time.sleep(0.5)
    t.join(timeout=5)
    return "".join(out)


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children(p):
            out.append(c)
            todo.append(c)
    return out


class PeakRSS:
    """Polls the RSS of a process tree (every 0.5 s, until stopped): the largest one seen."""

    def __init__(self, pid_fn):
        self.pid_fn, self.peak_kb, self._stop = pid_fn, 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.wait(0.5):
            for pid in self.pid_fn():
                self.peak_kb = max(self.peak_kb, rss_kb(pid))

    def stop(self) -> float:
        self._stop.set()
        self._t.join(timeout=2)
        return self.peak_kb / 1024


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    sys.exit(f"server did not answer at {url} within {timeout:.0f} s")


# -- databases ------------------------------------------------------------------------------
def pg_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", url)


def sibling(url: str, suffix: str) -> str:
    base, _, name = pg_url(url).rpartition("/")
    return f"{base}/{name.split('?')[0]}_{suffix}"


def ensure_database(url: str) -> None:
    import psycopg

    base, _, name = pg_url(url).rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def generated_cases(url: str, seed: int, cases: int) -> bool:
    """Whether the database holds a generate.py load of exactly ``cases`` cases of this seed
    (ids 1..N carry the generator's tracking tokens; cases submitted by a load run come after)."""
    import hashlib

    import psycopg

    def token(i: int) -> str:
        return hashlib.sha256(f"bench-{seed}-{i}".encode()).hexdigest()

    try:
        with psycopg.connect(pg_url(url)) as conn:
            rows = dict(conn.execute("SELECT id, tracking_token_hash FROM feedback WHERE id IN (1, %s, %s)",
                                     (cases, cases + 1)).fetchall())
    except Exception:  # noqa: BLE001 - no schema yet
        return False
    return rows.get(1) == token(1) and rows.get(cases) == token(cases) and rows.get(cases + 1) != token(cases + 1)


# -- wrk ------------------------------------------------------------------------------------
def parse_result(text: str) -> dict:
    line = next((ln for ln in text.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        return {"error": text.strip()[-300:]}
    out = {}
    for part in line[7:].split():
        key, _, value = part.partition("=")
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = value
    out["errors"] = sum(int(out[k]) for k in out if k.startswith("err_"))
    return out


def wrk(base: str, env: dict, a, duration: float, log: Path, extra: list[str] | None = None) -> dict:
    cmd = ["wrk", f"-t{a.threads}", f"-c{a.conns}", f"-d{duration:.0f}s", "--timeout", "10s", "--latency",
           "-s", str(HERE / "load.lua"), *(extra or []), base]
    proc = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=duration + 60)
    with open(log, "a") as fh:
        fh.write(f"$ {' '.join(cmd)} {json.dumps(env, ensure_ascii=False)[:300]}\n{proc.stdout}{proc.stderr}\n")
    return parse_result(proc.stdout + proc.stderr)


def checkpoint(a) -> None:
    """Write out what the previous run left dirty (the floor's and our inserts share one
    PostgreSQL server), so that no run pays for the one before it in its latencies."""
    import psycopg

    with psycopg.connect(pg_url(a.database), autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def measure(base: str, env: dict, a, log: Path) -> dict:
    checkpoint(a)
    if a.warmup > 0:
        wrk(base, env, a, a.warmup, log)
    return wrk(base, env, a, a.duration, log)


def write_lines(path: Path, lines) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


# -- the app side ---------------------------------------------------------------------------
def app_env(a) -> dict:
    return {"DATABASE_URL": a.database, "REDIS_URL": a.redis, "SECRET_KEY": SECRET,
            "PAKN_PORTAL_SUBMIT_LIMIT": "1000000 per hour", "PAKN_PORTAL_LOOKUP_LIMIT": "1000000 per hour",
            "PAKN_INSTANCE_DIR": str(a.out / "instance"), "PYTHONPATH": str(ROOT)}


def signed_session(app, setup) -> str:
    """A session cookie value made in a request context: ``setup(session)`` fills it."""
    from flask import session

    with app.test_request_context("/"):
        setup(session)
        return app.session_interface.get_signing_serializer(app).dumps(dict(session))


def prepare(a, base: str) -> dict:
    """Sample cases, staff and citizen cookies, path files for every scenario."""
    import psycopg

    os.environ.update({k: v for k, v in app_env(a).items() if k != "PYTHONPATH"})
    from pakn import create_app
    from pakn.auth.session import start_session
    from pakn.extensions import db
    from pakn.models import User

    rng = random.Random(a.seed)
    d = a.out / "paths"
    d.mkdir(exist_ok=True)
    with psycopg.connect(pg_url(a.database)) as conn:
        n = conn.execute("SELECT max(id) FROM feedback").fetchone()[0] or 0
        ids = sorted({rng.randint(1, n) for _ in range(2000)})
        codes = [r[0] for r in conn.execute("SELECT code FROM feedback WHERE id = ANY(%s)", (ids,))]
        published = [r[0] for r in conn.execute(
            "SELECT code FROM feedback WHERE published_at IS NOT NULL AND id = ANY(%s)", (ids,))]
        tracked = conn.execute("SELECT id, code FROM feedback WHERE id = ANY(%s) ORDER BY id LIMIT 10",
                               (ids,)).fetchall()
        agency = conn.execute("""SELECT a.code, a.id FROM feedback f JOIN agency a ON a.id = f.agency_id
                                 WHERE NOT a.is_office AND f.state IN ('forwarded', 'in_progress')
                                 GROUP BY a.code, a.id ORDER BY count(*) DESC, a.code LIMIT 1""").fetchone()
        field = conn.execute("SELECT code FROM field ORDER BY id LIMIT 1").fetchone()[0]
    app = create_app({"SQLALCHEMY_DATABASE_URI": a.database, "SECRET_KEY": SECRET})
    with app.app_context():
        clerk = db.session.scalar(db.select(User).where(User.role == "office_clerk").order_by(User.id))
        officer = db.session.scalar(db.select(User).where(User.role == "agency_officer", User.agency_id == agency[1]))
        name = app.config.get("SESSION_COOKIE_NAME", "session")
        office_cookie = f"{name}={signed_session(app, lambda s: start_session(clerk))}"
        agency_cookie = f"{name}={signed_session(app, lambda s: start_session(officer))}"
        citizen_cookie = f"{name}={signed_session(app, lambda s: s.__setitem__('tracked', [i for i, _ in tracked]))}"
    # Virtual users of the form: a real GET each (session cookie + CSRF token of that session).
    vus = []
    for _ in range(a.threads):
        resp = urllib.request.urlopen(base + "/gop-y", timeout=30)
        page = resp.read().decode()
        cookie = resp.headers.get("Set-Cookie", "").split(";")[0]
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page)
        if not cookie or token is None:
            sys.exit("could not read the session cookie and CSRF token of /gop-y")
        vus.append(f"{cookie}\t{token.group(1)}")
    q = urllib.parse.quote
    office = ["/office/", "/office/?due=overdue", f"/office/?agency={agency[0]}", f"/office/?field={field}",
              f"/office/?q={q('xay dung')}", "/office/?state=in_progress&sort=due_asc"]
    return {
        "vu_file": write_lines(d / "vus.tsv", vus),
        "office_cookie": office_cookie, "agency_cookie": agency_cookie, "citizen_cookie": citizen_cookie,
        "track": write_lines(d / "track.txt", [f"/tra-cuu/{c}" for _, c in tracked]),
        "answers": write_lines(d / "answers.txt", ["/tra-loi"]),
        "search": write_lines(d / "search.txt", [f"/tra-loi?q={q(w)}" for w in
                                                 ("thu tuc cap phep", "giay phep xay dung", "dat dai",
                                                  "ho so truc tuyen", "phi le phi")]),
        "answer_page": write_lines(d / "answer.txt", [f"/tra-loi/{c}" for c in published[:500]] or ["/tra-loi"]),
        "office": {p: write_lines(d / f"office-{i}.txt", [p]) for i, p in enumerate(office)},
        "case": write_lines(d / "case.txt", [f"/office/cases/{c}" for c in codes[:1000]]),
        "agency": {p: write_lines(d / f"agency-{i}.txt", [p]) for i, p in enumerate(
            ["/agency/", "/agency/?view=overdue", "/agency/?view=all", f"/agency/?q={q('giay phep')}"])},
        "open311": write_lines(d / "open311.txt", ["/open311/v2/requests.json"]),
        "mix": write_lines(d / "mix.txt", office + [f"/office/cases/{c}" for c in codes[:200]]),
        "floor_code": write_lines(d / "floor-code.txt", [f"/cases/SEED{rng.randint(1, a.cases):08d}"
                                                         for _ in range(1000)]),
        "floor_list": write_lines(d / "floor-list.txt", ["/cases?page=1"]),
        "agency_code": agency[0],
    }


def worker_rss(master: int) -> list[int]:
    return [rss_kb(p) for p in children(master)]


def http(a, ours: str, floor: str, gpid: int, fpid: int, prep: dict, log: Path) -> list[dict]:
    rows = []

    def pair(name, target, env, floor_env, cookie=None):
        if a.scenarios and not re.search(a.scenarios, name):
            return
        print(f"  {name} …", flush=True)
        env = {**env, **({"COOKIE": cookie} if cookie else {})}
        # --rounds: the floor and ours alternated; the round of the median ratio is reported
        # (this machine's speed drifts by tens of percent from one half-minute to the next).
        runs = []
        for _ in range(a.rounds if floor_env else 1):
            f = measure(floor, floor_env, a, log) if floor_env else None
            o = measure(ours, env, a, log)
            runs.append((o.get("rps", 0) / f["rps"] if f and f.get("rps") else 0, f, o))
        _, f, o = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
        row = {"name": name, "target": target, "ours": o, "floor": f}
        if len(runs) > 1:
            row["rounds"] = [(run[1].get("rps", 0), run[2].get("rps", 0), run[0]) for run in runs]
        if "p95" in target and a.latency_conns:
            # The latency targets, also without queueing: one connection per core. With -c8 on
            # 4 workers and 2 cores a request waits for ~3 others; a province's office has
            # about one request in flight at a time.
            row["ours_unqueued"] = measure(ours, env, argparse.Namespace(
                **{**vars(a), "conns": a.latency_conns, "threads": min(a.threads, a.latency_conns)}), log)
        rows.append(row)
        fr = f"floor {f.get('rps', 0):.0f} req/s, " if f else ""
        print(f"    {fr}ours {o.get('rps', 0):.0f} req/s p50 {o.get('p50_ms', 0):.1f} p95 {o.get('p95_ms', 0):.1f} "
              f"p99 {o.get('p99_ms', 0):.1f} ms errors {o.get('errors', '?')}", flush=True)
        if "ours_unqueued" in row:
            u = row["ours_unqueued"]
            print(f"    at -c{a.latency_conns}: {u.get('rps', 0):.0f} req/s p50 {u.get('p50_ms', 0):.1f} "
                  f"p95 {u.get('p95_ms', 0):.1f} p99 {u.get('p99_ms', 0):.1f} ms", flush=True)

    floor_post = {"MODE": "floor_post"}
    floor_code = {"MODE": "paths", "PATHS_FILE": str(prep["floor_code"])}
    floor_list = {"MODE": "paths", "PATHS_FILE": str(prep["floor_list"])}
    paths = lambda p: {"MODE": "paths", "PATHS_FILE": str(p)}  # noqa: E731
    before = count_cases(a)
    pair("citizen submission POST /gop-y", "≥ 0.5× floor POST; p99 < 100 ms",
         {"MODE": "submit", "VU_FILE": str(prep["vu_file"])}, floor_post)
    created = count_cases(a) - before
    if rows:
        rows[-1]["note"] = f"{created:,} cases created by the load (warm-up included)"
    drop_load_cases(a)  # the next scenarios measure the generated cases
    pair("tracking page /tra-cuu/<code>", "(vs floor GET one row)", paths(prep["track"]), floor_code,
         prep["citizen_cookie"])
    pair("public answer list /tra-loi", "≥ 0.5× floor list", paths(prep["answers"]), floor_list)
    pair("public answer search /tra-loi?q= (no diacritics)", "≥ 0.5× floor list", paths(prep["search"]), floor_list)
    pair("published answer /tra-loi/<code>", "(vs floor GET one row)", paths(prep["answer_page"]), floor_code)
    for p, f in prep["office"].items():
        pair(f"office inbox {p}", "p95 < 100 ms", paths(f), None, prep["office_cookie"])
    pair("office case page /office/cases/<code>", "(vs floor GET one row)", paths(prep["case"]), floor_code,
         prep["office_cookie"])
    for p, f in prep["agency"].items():
        pair(f"agency inbox {p} ({prep['agency_code']})", "p95 < 100 ms", paths(f), None, prep["agency_cookie"])
    try:
        status = urllib.request.urlopen(ours + "/open311/v2/requests.json", timeout=30).status
    except urllib.error.HTTPError as err:
        status = err.code
    if a.scenarios and not re.search(a.scenarios, "Open311 GET /open311/v2/requests.json"):
        pass
    elif status == 200:
        pair("Open311 GET /open311/v2/requests.json", "(vs floor list)", paths(prep["open311"]), floor_list)
    else:
        msg = f"SKIP Open311: GET /open311/v2/requests.json answered {status} on this build (route absent)"
        print("  " + msg, flush=True)
        rows.append({"name": "Open311 GET /open311/v2/requests.json", "skip": msg})
    return rows


#: What a case submitted by the load writes, children first: the load's cases are removed
#: before each run (below), so that every run measures the generated cases only.
_LOAD_ROWS = (
    ("delivery", "outbox_id IN (SELECT id FROM outbox_message WHERE feedback_id > %(n)s)"),
    ("notification", "feedback_id > %(n)s OR outbox_id IN (SELECT id FROM outbox_message WHERE feedback_id > %(n)s)"),
    ("outbox_message", "feedback_id > %(n)s"),
    ("audit_event", "feedback_id > %(n)s"),
    ("stage_visit", "feedback_id > %(n)s"),
    ("case_assignment", "feedback_id > %(n)s"),
    ("submission_key", "feedback_id > %(n)s"),
    ("generated_document", "feedback_id > %(n)s"),
    ("attachment", "feedback_id > %(n)s"),
    ("answer", "feedback_id > %(n)s"),
    ("feedback", "id > %(n)s"),
)


def drop_load_cases(a) -> int:
    """Delete the cases earlier runs' submission loads created (ids above the generated ones),
    then VACUUM ANALYZE what they touched. Left in place they pile up run after run (20,000 a
    submission run, all received the same day and open) and the inboxes are no longer measured
    on the generated cases: 200,000 of them made the overdue list walk every recent case."""
    import psycopg

    with psycopg.connect(pg_url(a.database), autocommit=True) as conn:
        extra = conn.execute("SELECT count(*) FROM feedback WHERE id > %s", (a.cases,)).fetchone()[0]
        if not extra:
            return 0
        with conn.transaction():
            # The bench database only: audit_event is append-only by trigger (pakn's rule), and the
            # replica role skips triggers for this transaction (the rows go children first).
            conn.execute("SET LOCAL session_replication_role = replica")
            for table, where in _LOAD_ROWS:
                conn.execute(f"DELETE FROM {table} WHERE {where}", {"n": a.cases})
        for table in ("feedback", "stage_visit", "audit_event", "outbox_message", "submission_key"):
            conn.execute(f"VACUUM ANALYZE {table}")
        return extra


def count_cases(a) -> int:
    import psycopg

    with psycopg.connect(pg_url(a.database)) as conn:
        return conn.execute("SELECT count(*) FROM feedback").fetchone()[0]


def thread_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def rss_run(a, base: str, master: int, env: dict, log: Path, total: int = 10_000, limit_s: int = 900) -> dict:
    """RSS of the workers before and after ``total`` requests. Each wrk thread stops sending
    after its share (load.lua, MAX_REQUESTS), but wrk itself waits for -d; once its CPU time
    has only its main thread left (every load thread stopped) it gets SIGINT, on which it
    prints its summary."""
    before = worker_rss(master)
    per_thread = -(-total // a.threads)
    cmd = ["wrk", f"-t{a.threads}", f"-c{a.conns}", f"-d{limit_s}s", "--timeout", "10s", "--latency",
           "-s", str(HERE / "load.lua"), base]
    proc = subprocess.Popen(cmd, env={**os.environ, **env, "MAX_REQUESTS": str(per_thread)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    STARTED.append(proc)
    deadline = time.monotonic() + limit_s + 30
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(1)
        if thread_count(proc.pid) == 1:
            proc.send_signal(signal.SIGINT)
            break
    out = proc.communicate(timeout=60)[0]
    with open(log, "a") as fh:
        fh.write(f"$ {' '.join(cmd)} (RSS run, {total} requests)\n{out}\n")
    result = parse_result(out)
    after = worker_rss(master)
    return {"before_mb": [b / 1024 for b in before], "after_mb": [x / 1024 for x in after],
            "requests": result.get("requests", 0), "errors": result.get("errors", "?")}


# -- batch ----------------------------------------------------------------------------------
def batch(a, log: Path) -> list[dict]:
    rows = []
    env = {**os.environ, "PAKN_BENCH_DATABASE_URL": a.database}
    year = a.report_year
    for figure, label, target, extra in (("report-year", "report-year", "< 5 s, memory bounded", []),
                                         ("report-quarter", "report-quarter", "(< 5 s)", ["--period", "Q2"]),
                                         ("register-xlsx", "register-xlsx Q2", "(memory bounded)", ["--quarter", "2"]),
                                         ("register-xlsx", "register-xlsx year", "(memory bounded)", ["--quarter", "0"])):
        print(f"  {label} {year} …", flush=True)
        out = run_logged([sys.executable, str(HERE / "batch.py"), figure, "--year", str(year), *extra], log,
                         timeout=1800, env=env, cwd=ROOT)
        m = re.search(r"BATCH name=\S+ seconds=([\d.]+) rss_mb=(\d+) rss_before_mb=(\d+) (.*)", out)
        rows.append({"name": f"{label} {year}", "target": target,
                     **({"seconds": float(m.group(1)), "rss_mb": int(m.group(2)), "rss_before_mb": int(m.group(3)),
                         "detail": m.group(4)} if m else {"error": out[-300:]})})
    return rows


def sweep(a, log: Path) -> dict:
    url = sibling(a.database, "sweep")
    ensure_database(url)
    print(f"  sweep_bench.py --cases {a.sweep_cases} --scenarios steady ({url.rsplit('/', 1)[-1]}) …", flush=True)
    out = run_logged([sys.executable, str(HERE / "sweep_bench.py"), "--cases", str(a.sweep_cases),
                      "--scenarios", "steady"], log, timeout=7200,
                     env={**os.environ, "PAKN_BENCH_DATABASE_URL": url}, cwd=ROOT)
    # Two output formats: "[steady] load L s; sweep S s (…); immediate re-sweep R s … peak RSS M MB"
    # (issue 6) and "[steady] loaded in L s …" then "[steady] sweep S s, … (…); immediate
    # re-sweep R s … peak RSS M MB" (the sweep branch).
    load = re.search(r"\[steady\] load(?:ed in)? ([\d.]+) s", out)
    m = re.search(r"\[steady\] (?:load [\d.]+ s; )?sweep ([\d.]+) s[^(]*\((.*)\); immediate re-sweep ([\d.]+) s.*"
                  r"peak RSS (\d+) MB", out)
    if not (m and load):
        return {"error": out[-400:]}
    return {"load_s": float(load.group(1)), "seconds": float(m.group(1)), "detail": m.group(2),
            "resweep_s": float(m.group(3)), "rss_mb": int(m.group(4))}


def notify(a, log: Path) -> dict:
    url = sibling(a.database, "notify")
    ensure_database(url)
    print(f"  notify_bench.py --messages {a.notify_messages} --raw-jobs {a.raw_jobs} --classes simple …", flush=True)
    me = os.getpid()
    peak = PeakRSS(lambda: [p for p in descendants(me) if b"rq" in _cmdline(p)])
    out = run_logged([sys.executable, str(HERE / "notify_bench.py"), "--messages", str(a.notify_messages),
                      "--raw-jobs", str(a.raw_jobs), "--classes", "simple"], log, timeout=7200,
                     env={**os.environ, "DATABASE_URL": url, "REDIS_URL": a.redis}, cwd=ROOT)
    worker_peak = peak.stop()
    raw = re.search(r"simple raw RQ: drain (\d+)/s steady (\S+)/s", out)
    mail = re.search(r"simple notifications: drain (\d+)/s steady (\S+)/s.*ok=(\w+)", out)
    if not (raw and mail):
        return {"error": out[-400:]}
    return {"raw": float(raw.group(1)), "mail": float(mail.group(1)), "ok": mail.group(3) == "True",
            "worker_rss_mb": worker_peak}


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


# -- report ---------------------------------------------------------------------------------
def fmt_http(rows: list[dict]) -> list[str]:
    out = ["| scenario | target | ours req/s | floor req/s | ratio | ours p50 / p95 / p99 ms | floor p50 / p99 ms "
           "| errors | ours at 1 connection per core: req/s, p50 / p95 / p99 ms |", "|---|---|---:|---:|---:|---|---|---:|---|"]
    for r in rows:
        if "skip" in r:
            out.append(f"| {r['name']} | – | skipped | | | {r['skip']} | | |")
            continue
        o, f = r["ours"], r["floor"]
        if "error" in o:
            out.append(f"| {r['name']} | {r['target']} | failed: {o['error'][:80]} | | | | | |")
            continue
        ratio = f"{o['rps'] / f['rps']:.2f}×" if f and f.get("rps") else "–"
        frps = f"{f['rps']:.0f}" if f and f.get("rps") else "–"
        flat = f"{f['p50_ms']:.1f} / {f['p99_ms']:.1f}" if f and f.get("rps") else "–"
        notes = [r["note"]] if r.get("note") else []
        if r.get("rounds"):
            notes.append(f"median of {len(r['rounds'])} alternated rounds, ours / floor req/s: " + ", ".join(
                f"{o_rps:.0f} / {f_rps:.0f} = {ratio:.2f}×" for f_rps, o_rps, ratio in r["rounds"]))
        note = f" ({'; '.join(notes)})" if notes else ""
        u = r.get("ours_unqueued")
        unqueued = (f"{u['rps']:.0f}, {u['p50_ms']:.1f} / {u['p95_ms']:.1f} / {u['p99_ms']:.1f}"
                    if u and "rps" in u else "")
        out.append(f"| {r['name']}{note} | {r['target']} | {o['rps']:.0f} | {frps} | {ratio} | "
                   f"{o['p50_ms']:.1f} / {o['p95_ms']:.1f} / {o['p99_ms']:.1f} | {flat} | {o['errors']:.0f} | {unqueued} |")
    return out


def summary(a, meta: dict, results: dict) -> str:
    lines = [f"### bench/run --cases {a.cases} — {meta['date']}", "",
             f"- machine: {meta['machine']}; load average at start {meta['load']}",
             f"- versions: {meta['versions']}",
             f"- command: `{meta['command']}`",
             f"- wrk -t{a.threads} -c{a.conns}, {a.warmup} s warm-up + {a.duration} s measured per run; "
             "gunicorn -w 4 -k sync for both apps", ""]
    if "http" in results:
        lines += ["HTTP (ratio = ours ÷ floor req/s, measured one after the other in the same run):", ""]
        lines += fmt_http(results["http"]) + [""]
    if "rss" in results:
        r = results["rss"]
        for side in ("ours", "floor"):
            s = r[side]
            if not s["before_mb"]:
                continue
            growth = [(b2 - b1) / b1 * 100 for b1, b2 in zip(s["before_mb"], s["after_mb"]) if b1]
            lines.append(f"- gunicorn worker RSS, {side}, before → after {s['requests']:.0f} requests "
                         f"(errors {s['errors']}): " + ", ".join(f"{b:.0f} → {x:.0f} MB" for b, x in
                                                                 zip(s["before_mb"], s["after_mb"]))
                         + (f"; largest change {max(growth, key=abs):+.1f} % (target ± 10 %)" if growth else ""))
        lines.append(f"- peak RSS of one gunicorn worker over the whole HTTP phase: ours {r['peak_ours_mb']:.0f} MB, "
                     f"floor {r['peak_floor_mb']:.0f} MB")
        lines.append("")
    batch_rows = results.get("batch", [])
    if batch_rows or "sweep" in results or "notify" in results:
        lines += ["| batch figure | target | ours | floor | ratio | peak RSS | detail |", "|---|---|---:|---:|---:|---:|---|"]
        for b in batch_rows:
            if "error" in b:
                lines.append(f"| {b['name']} | {b['target']} | failed | | | | {b['error'][:100]} |")
            else:
                lines.append(f"| {b['name']} | {b['target']} | {b['seconds']:.2f} s | – | – | {b['rss_mb']} MB "
                             f"(+{b['rss_mb'] - b['rss_before_mb']} MB) | {b['detail']} |")
        s = results.get("sweep")
        if s:
            if "error" in s:
                lines.append(f"| deadline sweep, {a.sweep_cases:,} open cases | < 10 s | failed | | | | "
                             f"{s['error'][-120:]} |")
            else:
                lines.append(f"| deadline sweep, {a.sweep_cases:,} open cases (steady day) | < 10 s | "
                             f"{s['seconds']:.2f} s | – | – | {s['rss_mb']} MB | {s['detail']}; re-sweep "
                             f"{s['resweep_s']:.2f} s; load {s['load_s']:.0f} s |")
        n = results.get("notify")
        if n:
            if "error" in n:
                lines.append(f"| notifications, 2 SimpleWorkers | ≥ 0.5× raw RQ | failed | | | | {n['error'][-120:]} |")
            else:
                lines.append(f"| notifications outbox → SMTP sink, 2 SimpleWorkers | ≥ 0.5× raw RQ | "
                             f"{n['mail']:.0f} mails/s | {n['raw']:.0f} no-op jobs/s | {n['mail'] / n['raw']:.2f}× | "
                             f"{n['worker_rss_mb']:.0f} MB (largest rq process) | all sent once: {n['ok']} |")
        lines.append("")
    return "\n".join(lines)


def versions() -> str:
    from importlib.metadata import version

    pg = "?"
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]
    except Exception:  # noqa: BLE001
        pass
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0].strip()
    return (f"Python {sys.version.split()[0]}, " + ", ".join(f"{p} {version(p)}" for p in
            ("flask", "sqlalchemy", "psycopg", "gunicorn", "rq")) + f", PostgreSQL {pg}, {wrk_v}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--database", default=os.environ.get("PAKN_BENCH_DATABASE_URL",
                                                         "postgresql://postgres@127.0.0.1:5432/bench_suite"))
    ap.add_argument("--redis", default=os.environ.get("PAKN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"))
    ap.add_argument("--floor-dir", default=str(ROOT.parent / "shared" / "bench"))
    ap.add_argument("--only", default="http,rss,batch,sweep,notify")
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--scenarios", default="", help="only the HTTP scenarios whose name matches this regular "
                    "expression, e.g. 'submission|office inbox' (default: all)")
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=1,
                    help="runs of each scenario that has a floor counterpart, the floor and ours "
                         "alternated; the median ratio is reported (default 1)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--threads", type=int, default=4, help="wrk threads = virtual users of the form")
    ap.add_argument("--latency-conns", type=int, default=2,
                    help="the latency targets again at this many connections (0: not)")
    ap.add_argument("--port", type=int, default=58180)
    ap.add_argument("--sweep-cases", type=int, default=None, help="open cases of the sweep (default --cases)")
    ap.add_argument("--notify-messages", type=int, default=10000)
    ap.add_argument("--raw-jobs", type=int, default=5000)
    ap.add_argument("--report-year", type=int, default=datetime.now(timezone.utc).year - 1)
    a = ap.parse_args()
    a.sweep_cases = a.sweep_cases or a.cases
    only = set(a.only.split(","))
    for url in (a.database, a.redis):
        host = urllib.parse.urlsplit(url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            sys.exit(f"loopback only: {url}")
    if "bench" not in a.database.rsplit("/", 1)[-1]:
        sys.exit("the bench database's name must contain 'bench' (it is wiped)")
    a.out = HERE / "results" / f"suite-{time.strftime('%Y%m%d-%H%M%S')}"
    a.out.mkdir(parents=True)
    log = a.out / "suite.log"
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{os.cpu_count()} cores, " + next((ln.split(":", 1)[1].strip() for ln in
                                                          open("/proc/cpuinfo") if ln.startswith("model name")), "?"),
            "load": " ".join(open("/proc/loadavg").read().split()[:3]), "versions": versions(),
            "command": "bench/run " + " ".join(sys.argv[1:])}
    print(f"bench/run: results in {a.out}", flush=True)
    results: dict = {}
    ensure_database(a.database)

    if only & {"http", "rss", "batch"}:
        if a.regenerate or not generated_cases(a.database, a.seed, a.cases):
            print(f"[data] generating {a.cases:,} cases", flush=True)
            run_logged([sys.executable, str(HERE / "generate.py"), "--cases", str(a.cases), "--seed", str(a.seed)],
                       a.out / "generate.log", timeout=6 * 3600,
                       env={**os.environ, "PAKN_BENCH_DATABASE_URL": a.database}, cwd=ROOT)
            if not generated_cases(a.database, a.seed, a.cases):
                sys.exit("the data generator did not finish")
        else:
            print(f"[data] {a.database.rsplit('/', 1)[-1]} already holds the {a.cases:,} generated cases; "
                  "migrating it to this code's schema", flush=True)
            run_logged([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], a.out / "generate.log",
                       timeout=3600, env={**os.environ, **app_env(a)}, cwd=ROOT)
            dropped = drop_load_cases(a)
            if dropped:
                print(f"[data] removed {dropped:,} cases earlier submission loads had created", flush=True)

    if only & {"http", "rss"}:
        floor_url = sibling(a.database, "floor")
        ensure_database(floor_url)
        floor_env = {**os.environ, "DATABASE_URL": floor_url.replace("postgresql://", "postgresql+psycopg://", 1)}
        print(f"[floor] seeding {a.cases:,} rows into {floor_url.rsplit('/', 1)[-1]}", flush=True)
        run_logged([sys.executable, "ref_app.py", "seed", str(a.cases)], a.out / "floor.log", timeout=3600,
                   env=floor_env, cwd=a.floor_dir)
        gunicorn = str(VENV_BIN / "gunicorn")
        ours_port, floor_port = a.port, a.port + 1
        g = spawn([gunicorn, "-w", "4", "-k", "sync", "-b", f"127.0.0.1:{ours_port}", "--log-level", "warning",
                   "wsgi:app"], a.out / "gunicorn-ours.log", cwd=ROOT, env={**os.environ, **app_env(a)})
        f = spawn([gunicorn, "-w", "4", "-k", "sync", "-b", f"127.0.0.1:{floor_port}", "--log-level", "warning",
                   "ref_app:create_app()"], a.out / "gunicorn-floor.log", cwd=a.floor_dir, env=floor_env)
        ours, floor = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{floor_port}"
        wait_http(ours + "/gop-y")
        wait_http(floor + "/hello")
        prep = prepare(a, ours)
        peak_ours = PeakRSS(lambda: children(g.pid))
        peak_floor = PeakRSS(lambda: children(f.pid))
        if "http" in only:
            print("[http]", flush=True)
            results["http"] = http(a, ours, floor, g.pid, f.pid, prep, a.out / "wrk.log")
        if "rss" in only:
            print("[rss] 10,000 requests each", flush=True)
            mix = {"MODE": "paths", "PATHS_FILE": str(prep["mix"]), "COOKIE": prep["office_cookie"]}
            results["rss"] = {
                "ours": rss_run(a, ours, g.pid, mix, a.out / "wrk.log"),
                "floor": rss_run(a, floor, f.pid, {"MODE": "paths", "PATHS_FILE": str(prep["floor_code"])},
                                 a.out / "wrk.log")}
        po, pf = peak_ours.stop(), peak_floor.stop()
        if "rss" in results:
            results["rss"].update(peak_ours_mb=po, peak_floor_mb=pf)
        stop_all()
        STARTED.clear()
    if "batch" in only:
        print("[batch]", flush=True)
        results["batch"] = batch(a, a.out / "batch.log")
    if "sweep" in only:
        print("[sweep]", flush=True)
        results["sweep"] = sweep(a, a.out / "sweep.log")
    if "notify" in only:
        print("[notify]", flush=True)
        results["notify"] = notify(a, a.out / "notify.log")
    (a.out / "results.json").write_text(json.dumps(results, indent=1, default=str, ensure_ascii=False))
    text = summary(a, meta, results)
    (a.out / "summary.md").write_text(text + "\n")
    print("\n" + text)


if __name__ == "__main__":
    main()
