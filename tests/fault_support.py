"""Real processes for the fault tests: a throwaway PostgreSQL cluster, and a tmpfs upload
folder that is full. Each is started by the test and stopped by it (by PID or by its own
data directory), never the shared services on 5432/6379.

The cluster is made with ``initdb`` and run with ``pg_ctl``. PostgreSQL refuses to run as
root, so when the suite runs as root (CI) both run as the ``postgres`` OS user through
``runuser -u postgres --``, with the data directory in a temporary folder owned by that user.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .notify_support import free_port, wait_until


def _pg_bin(name: str) -> str:
    """A PostgreSQL server program: on PATH, or in Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise RuntimeError(f"{name} not found: install the PostgreSQL server (postgresql-15)")
    return candidates[-1]


class PgCluster:
    """A private PostgreSQL cluster on its own port, trust auth on 127.0.0.1 only.

    ``restart(mode)`` is ``pg_ctl restart -m fast|immediate``; ``stop(mode)`` and ``start()``
    likewise. ``destroy()`` stops it (immediate) and removes the data directory.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="pakn-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([*self._as, *args], check=True, timeout=timeout, capture_output=True, text=True)

    def init(self) -> "PgCluster":
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-instructions", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
                       "fsync = on\nsynchronous_commit = on\nmax_connections = 40\nshared_buffers = 16MB\n")
        return self

    def pg_ctl(self, *args: str) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", *args,
                  timeout=90)

    def start(self) -> "PgCluster":
        self.pg_ctl("start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("stop", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        self.pg_ctl("restart", "-m", mode)

    def running(self) -> bool:
        result = subprocess.run([*self._as, _pg_bin("pg_ctl"), "-D", str(self.data), "status"],
                                capture_output=True, text=True)
        return result.returncode == 0

    def destroy(self) -> None:
        try:
            if self.data.exists() and self.running():
                self.stop("immediate")
        finally:
            pid_file = self.data / "postmaster.pid"
            if pid_file.exists():  # pg_ctl failed: end the postmaster by its own PID
                try:
                    os.kill(int(pid_file.read_text().split()[0]), 9)
                    time.sleep(0.5)
                except (OSError, ValueError):
                    pass
            shutil.rmtree(self.root, ignore_errors=True)


def wait_for_database(url: str, timeout: float = 30) -> None:
    """Until ``url`` accepts a connection (after a start or restart)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)

    def answers() -> bool:
        try:
            with engine.connect() as conn:
                return conn.execute(text("select 1")).scalar() == 1
        except Exception:
            return False

    try:
        wait_until(answers, "the database to accept connections", timeout, every=0.2)
    finally:
        engine.dispose()
