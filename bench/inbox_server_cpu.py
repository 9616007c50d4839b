"""CPU per inbox page as served: one gunicorn sync worker and the PostgreSQL backends it uses.

On the 2-core benchmark machine an inbox page's throughput at wrk -c8 is bounded by the CPU
the whole request costs: the worker's (Python) and the database's. This serves the app with
one sync worker, sends N sequential requests per path (after 5 warm-up requests), and reads
the CPU time (utime + stime, /proc) the worker and its database backends spent, per request.
Time spent waiting is not counted, so a loaded machine changes the figures little.

Read-only like bench/inbox_profile.py: the app's connections run with
``default_transaction_read_only`` on (and an ``application_name`` by which its backends are
found). Staff are signed in with a signed session cookie.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_suite REDIS_URL=redis://127.0.0.1:6379/14 \\
      .venv/bin/python bench/inbox_server_cpu.py [--requests 100] [--agency S19] [--port 58390]
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECRET = "bench-suite-secret"
APP_NAME = "pakn_inbox_cpu"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=100)
    p.add_argument("--agency", default="S19", help="the agency whose officer opens the agency inbox")
    p.add_argument("--port", type=int, default=58390)
    a = p.parse_args()

    import psycopg

    from bench.inbox_profile import AGENCY_PATHS, OFFICE_PATHS, read_only

    url = os.environ["DATABASE_URL"]
    served = read_only(url) + f"%20-c%20application_name%3D{APP_NAME}"
    env = {**os.environ, "DATABASE_URL": served, "SECRET_KEY": SECRET, "PYTHONPATH": str(ROOT),
           "PAKN_INSTANCE_DIR": os.environ.get("PAKN_INSTANCE_DIR") or tempfile.mkdtemp(prefix="pakn-cpu-")}
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    from bench.suite import signed_session
    from pakn import create_app
    from pakn.auth.session import start_session
    from pakn.extensions import db
    from pakn.models import Agency, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": served, "SECRET_KEY": SECRET})
    with app.app_context():
        clerk = db.session.scalar(db.select(User).where(User.role == "office_clerk").order_by(User.id))
        officer = db.session.scalar(db.select(User).join(Agency, Agency.id == User.agency_id).where(
            User.role == "agency_officer", Agency.code == a.agency).order_by(User.id))
        name = app.config.get("SESSION_COOKIE_NAME", "session")
        cookies = {"office": f"{name}={signed_session(app, lambda s: start_session(clerk))}",
                   "agency": f"{name}={signed_session(app, lambda s: start_session(officer))}"}
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", "1", "-k", "sync",
                               "-b", f"127.0.0.1:{a.port}", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{a.port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/gop-y", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        worker = int(Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()[0])

        def backends() -> list[int]:
            with psycopg.connect(url, autocommit=True) as conn:
                return [r[0] for r in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APP_NAME,))]

        paths = [("office", x) for x in OFFICE_PATHS] + [("agency", x) for x in AGENCY_PATHS]
        print(f"{'path':<45} {'worker ms':>9} {'database ms':>11}  (CPU per request)")
        for who, path in paths:
            request = urllib.request.Request(base + path, headers={"Cookie": cookies[who]})
            for _ in range(5):
                urllib.request.urlopen(request).read()
            pids = backends()  # the pool's connections, opened by the warm-up
            w0, b0 = cpu_seconds(worker), sum(cpu_seconds(b) for b in pids)
            for _ in range(a.requests):
                response = urllib.request.urlopen(request)
                response.read()
                assert response.status == 200, (path, response.status)
            w1 = cpu_seconds(worker)
            b1 = sum(cpu_seconds(b) for b in pids if Path(f"/proc/{b}").exists())
            print(f"{path:<45} {(w1 - w0) * 1000 / a.requests:9.1f} {(b1 - b0) * 1000 / a.requests:11.1f}",
                  flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()


if __name__ == "__main__":
    main()
