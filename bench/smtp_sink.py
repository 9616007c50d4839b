"""A counting SMTP sink in its own process, for notify_bench.py (loopback only).

    python bench/smtp_sink.py PORT OUTFILE

Accepts every message (aiosmtpd) and keeps only its Message-ID. Prints "ready" once listening;
on SIGTERM or SIGINT it writes one Message-ID per line to OUTFILE and exits. Running it apart
from the bench process keeps the bench's own work (and the sink's) off the workers' process.
"""
from __future__ import annotations

import signal
import sys
import threading


class CountingSink:
    def __init__(self) -> None:
        self.ids: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        mid = next((line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                    if line.lower().startswith(b"message-id:")), b"")
        self.ids.append(mid)
        return "250 OK"


def main() -> None:
    from aiosmtpd.controller import Controller

    port, outfile = int(sys.argv[1]), sys.argv[2]
    sink = CountingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    with open(outfile, "wb") as fh:
        fh.write(b"".join(mid + b"\n" for mid in sink.ids))


if __name__ == "__main__":
    main()
