"""Real services for the notification tests: an SMTP sink (aiosmtpd), an SMS gateway (HTTP),
a private redis-server, and `rq worker` subprocesses — each started by the test, stopped by PID."""
from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, what: str, timeout: float = 60.0, every: float = 0.05):
    """Poll ``predicate`` until it is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        time.sleep(every)


class SmtpSink:
    """Accepts mail on 127.0.0.1; ``script`` holds replies for the next RCPT commands
    (e.g. ``["451 4.3.0 Try again later"]``); ``stall_next()`` makes the next RCPT hang until
    ``release()``. Only messages whose DATA completed are in ``messages``."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.script: list[str] = []
        self.rcpt_attempts = 0
        self.stalled = threading.Event()
        self._stall = False
        self._stall_after = 0
        self._released = threading.Event()
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpSink":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.release()
        self.controller.stop()

    def stall_next(self, after: int = 0) -> None:
        """Make the next RCPT hang (or the one after ``after`` more have passed)."""
        self._stall, self._stall_after, self._released = True, after, threading.Event()
        self.stalled.clear()

    def release(self) -> None:
        self._released.set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            self.rcpt_attempts += 1
            stall = self._stall and self._stall_after == 0
            if self._stall and not stall:
                self._stall_after -= 1
            elif stall:
                self._stall = False
            reply = self.script.pop(0) if self.script else None
        if stall:
            self.stalled.set()
            while not self._released.is_set():
                await asyncio.sleep(0.02)
        if reply and not reply.startswith("250"):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(msg)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    # -- reading what arrived -------------------------------------------------------------
    def to(self, address: str) -> list:
        with self._lock:
            return [m for m, (_, rcpts) in zip(self.messages, self.envelopes) if address in rcpts]

    @staticmethod
    def text(msg) -> str:
        return msg.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(msg) -> str:
        return msg.get_body(preferencelist=("html",)).get_content()


class SmsGatewayServer:
    """A JSON POST endpoint on 127.0.0.1 recording requests; ``statuses`` scripts the replies."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = sink.statuses.pop(0) if sink.statuses else 200
                sink.requests.append({"status": status, "auth": self.headers.get("Authorization"),
                                      "type": self.headers.get("Content-Type"), "json": json.loads(body)})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if status < 300 else b'{"error": "refused"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "SmsGatewayServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RedisServer:
    """A private, persistence-free redis-server on its own port (never the shared one)."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.tmp = tmp
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from redis import Redis

        wait_until(lambda: _pings(Redis.from_url(self.url)), "private redis-server to answer", 20)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _pings(conn) -> bool:
    try:
        return bool(conn.ping())
    except Exception:
        return False


class Workers:
    """`rq worker` processes, each in its own session so a SIGKILL reaches its work horse too."""

    def __init__(self, env: dict, redis_url: str, queue: str, logdir: Path) -> None:
        self.env, self.redis_url, self.queue, self.logdir = env, redis_url, queue, logdir
        self.procs: list[subprocess.Popen] = []

    def start(self, worker_class: str = "notifications.worker.Worker") -> subprocess.Popen:
        rq = str(Path(sys.executable).with_name("rq"))
        log = open(self.logdir / f"worker-{len(self.procs)}.log", "ab")
        proc = subprocess.Popen(
            [rq, "worker", "-u", self.redis_url, "-w", worker_class, "--with-scheduler",
             "--maintenance-interval", "5", self.queue],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> list[int]:
        """SIGKILL the work horse (RQ puts it in a session of its own), then the worker itself,
        as an OOM kill would. Returns the pids killed."""
        horses = _children(proc.pid)
        for pid in horses:
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        return horses + [proc.pid]

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
        self.procs = []

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.logdir.glob("worker-*.log")))
