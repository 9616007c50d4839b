"""Scripted fault run (reliability.md L5, D6): a real gunicorn, 20 parallel 50 MB uploads, and
a worker killed with SIGKILL in the middle of an upload.

    .venv/bin/python tests/faults/upload_flood.py   # 1–2 min on the shared 2-core machine; a Markdown table

It makes its own SQLite instance in a temporary folder, starts gunicorn (2 sync workers) on a
free port, and stops it by PID at the end, also on failure. Checked:

* L5: 20 clients at once each send a multipart body announced as 50 MB (Content-Length): every
  one gets 413 before the server reads the body; 2 more stream 50 MB chunked (no length): 413
  once the limit is passed. Meanwhile a reader gets the public answers page: the workers are
  not starved (its slowest answer is reported). Nothing is stored.
* D6: a submission with a 5 MB file is cut off by SIGKILL of the gunicorn worker reading it:
  no case, no file in the upload folder (the body was still in the request's own temporary
  file, which died with the process); the master starts a new worker and the next submission
  succeeds.

Exit status 0 when every check holds.
"""
from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

MB = 1024 * 1024
BOUNDARY = "floodboundary"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Site:
    def __init__(self, port: int):
        self.port = port

    def get_form(self) -> tuple[str, str, str]:
        """(cookie, csrf token, form key) of a fresh form."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", "/gop-y")
        response = conn.getresponse()
        html = response.read().decode()
        cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        key = re.search(r'name="form_key"[^>]*value="([0-9a-f]{32})"', html).group(1)
        conn.close()
        return cookie, token, key

    def form_head(self, token: str, key: str) -> bytes:
        from tests.portal_support import FORM

        parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n'
                 for n, v in {**FORM, "csrf_token": token, "form_key": key}.items()]
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="lon.pdf"\r\n'
                     "Content-Type: application/pdf\r\n\r\n")
        return "".join(parts).encode()

    def raw(self, cookie: str, length: int | None) -> socket.socket:
        """A connection with the request line and headers sent; the caller sends the body."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        lines = [f"POST /gop-y HTTP/1.1", f"Host: 127.0.0.1:{self.port}", f"Cookie: {cookie}",
                 f"Content-Type: multipart/form-data; boundary={BOUNDARY}", "Connection: close"]
        lines.append(f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return sock


def status_of(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    match = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(match.group(1)) if match else 0


def upload_50mb(site: Site, results: list, start: threading.Event, chunked: bool) -> None:
    """Send a 50 MB upload, announced by Content-Length (or streamed chunked); record
    (status, seconds until the status line arrived)."""
    cookie, token, key = site.get_form()
    head = site.form_head(token, key)
    start.wait()
    began = time.monotonic()
    sock = site.raw(cookie, None if chunked else 50 * MB)
    try:
        if chunked:
            block = b"\0" * MB
            for data in [head] + [block] * 50:
                sock.sendall(b"%x\r\n%s\r\n" % (len(data), data))
            sock.sendall(b"0\r\n\r\n")
        else:
            sock.sendall(head + b"\0" * MB)  # the server may answer (and close) before all of it
    except OSError:
        pass
    try:
        results.append((status_of(sock), time.monotonic() - began))
    except OSError:
        results.append((0, time.monotonic() - began))
    sock.close()


def reader(site: Site, timings: list, stop: threading.Event) -> None:
    while not stop.is_set():
        began = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=30)
        conn.request("GET", "/tra-loi")
        status = conn.getresponse().status
        conn.close()
        timings.append((status, time.monotonic() - began))
        time.sleep(0.05)


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def cases(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("select count(*) from feedback").fetchone()[0]


def main() -> int:
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="pakn-flood-"))
    db, uploads = work / "pakn.sqlite3", work / "uploads"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PAKN_", "DATABASE_URL", "REDIS_URL"))},
           "DATABASE_URL": f"sqlite:///{db}", "PAKN_UPLOAD_FOLDER": str(uploads), "PAKN_INSTANCE_DIR": str(work),
           "SECRET_KEY": "flood-run", "PAKN_PORTAL_SUBMIT_LIMIT": "1000 per hour", "PYTHONPATH": str(ROOT)}
    python = str(Path(sys.executable))
    subprocess.run([python, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([python, "-c", "from pakn import create_app\nfrom pakn.extensions import db\n"
                    "from pakn.models import Agency, AgencyLevel\nfrom pakn.operations import transaction\n"
                    "app = create_app()\nwith app.app_context(), transaction():\n"
                    "    db.session.add(Agency(code='VP', name='Văn phòng UBND tỉnh', is_office=True,"
                    " level=AgencyLevel(code='tinh', name='Cấp tỉnh')))\n"], cwd=ROOT, env=env, check=True)
    port = free_port()
    gunicorn = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-w", "2", "-b", f"127.0.0.1:{port}",
                                 "--timeout", "60", "wsgi:app"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=open(work / "gunicorn.log", "wb"))
    rows: list[tuple[str, str, str, bool]] = []
    try:
        site = Site(port)
        deadline = time.monotonic() + 30
        while True:
            try:
                site.get_form()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

        # -- L5 ------------------------------------------------------------------------------
        results: list = []
        timings: list = []
        start, stop = threading.Event(), threading.Event()
        threads = [threading.Thread(target=upload_50mb, args=(site, results, start, i >= 20)) for i in range(22)]
        for t in threads:
            t.start()
        time.sleep(1)  # every client has its form
        watcher = threading.Thread(target=reader, args=(site, timings, stop))
        watcher.start()
        start.set()
        for t in threads:
            t.join(120)
        stop.set()
        watcher.join(30)
        statuses = sorted({s for s, _ in results})
        slowest = max(t for _, t in results)
        announced = sorted(t for _, t in results[:])
        read_ok = all(s == 200 for s, _ in timings) and bool(timings)
        rows.append(("L5: 20 uploads announced as 50 MB + 2 chunked 50 MB, at once",
                     "413 for all 22, nothing stored",
                     f"statuses {statuses} ({len(results)} answers); slowest answer {slowest:.2f} s; "
                     f"median {announced[len(announced) // 2]:.2f} s; cases stored: {cases(db)}",
                     statuses == [413] and len(results) == 22 and cases(db) == 0))
        reader_max = max(t for _, t in timings) if timings else float("nan")
        rows.append(("L5: GET /tra-loi during the flood", "200, workers not starved",
                     f"{len(timings)} GETs, all 200: {read_ok}; slowest {reader_max:.2f} s", read_ok))

        # -- D6 ------------------------------------------------------------------------------
        cookie, token, key = site.get_form()
        head = site.form_head(token, key)
        from tests.test_storage import simple_pdf

        pdf = simple_pdf([b"<< /Length %d >>\nstream\n" % (5 * MB) + b"0" * (5 * MB) + b"\nendstream"])
        tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        sock = site.raw(cookie, len(head) + len(pdf) + len(tail))
        sock.sendall(head + pdf[: 2 * MB])  # half-way through the file
        time.sleep(0.5)
        killed = children(gunicorn.pid)
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        try:
            sock.sendall(pdf[2 * MB:] + tail)
            answer = status_of(sock)
        except OSError:
            answer = 0
        sock.close()
        files = [p for p in uploads.rglob("*") if p.is_file()] if uploads.exists() else []
        rows.append(("D6: gunicorn workers SIGKILLed mid-upload (5 MB file, 2 MB sent)",
                     "no case, no file, no temporary file",
                     f"killed {len(killed)} workers; client saw {answer or 'connection closed'}; "
                     f"cases {cases(db)}; files under the upload folder {len(files)}",
                     cases(db) == 0 and not files and answer in (0, 500, 502)))
        deadline = time.monotonic() + 30
        while len(children(gunicorn.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        cookie, token, key = site.get_form()
        body = site.form_head(token, key) + pdf + tail
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/gop-y", body=body, headers={
            "Cookie": cookie, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
        after = conn.getresponse().status
        conn.close()
        files = [p for p in uploads.rglob("*") if p.is_file()]
        rows.append(("D6: the next submission, same 5 MB file", "303, one case, one file",
                     f"{after}; cases {cases(db)}; files {len(files)}", after == 303 and cases(db) == 1 and len(files) == 1))
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        try:
            gunicorn.wait(20)
        except subprocess.TimeoutExpired:
            gunicorn.kill()
            gunicorn.wait(10)
        shutil.rmtree(work, ignore_errors=True)

    print("| check | expected | result | ok |\n|---|---|---|---|")
    for check, expected, result, ok in rows:
        print(f"| {check} | {expected} | {result} | {'yes' if ok else '**no**'} |")
    print(f"\n{len(rows)} checks, {sum(ok for *_, ok in rows)} held, in {time.monotonic() - began:.0f} s")
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
