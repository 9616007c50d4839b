"""E-mail over SMTP: settings, error classes, and a send that records the hand-over point.

The only moment at which a crash leaves us unsure whether the server took a message is
between writing the final "." of DATA and recording the server's 250. :meth:`Mailer.send`
therefore calls ``before_final_dot`` (which commits the delivery as ``handed_over``) right
before writing it. A delivery found ``sending``/``pending`` after a crash was never completed
— a server takes a message only once the final dot arrives, and drops an unfinished DATA when
the connection dies — so it is safe to send again; one found ``handed_over`` may have been
taken, so it is not sent again automatically (see :mod:`notifications.jobs`).
"""
from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Callable

from .errors import PermanentFailure, TemporaryFailure, Uncertain


def _classify(code: int, reply: bytes | str, stage: str) -> Exception:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"{stage}: {code} {text}".strip()
    if 500 <= code < 600:
        return PermanentFailure(message, code)
    return TemporaryFailure(message, code)


#: Open connections kept between jobs of the same worker process (keyed by server and process):
#: a worker sending many messages does not pay for connect, greeting, EHLO and QUIT each time.
_idle: dict[tuple, smtplib.SMTP] = {}


class Mailer:
    """An SMTP connection, taken from this process's idle one or opened on first use."""

    def __init__(self, config) -> None:
        self.host = config["SMTP_HOST"]
        self.port = int(config["SMTP_PORT"])
        self.security = config["SMTP_SECURITY"]
        self.username = config["SMTP_USERNAME"]
        self.password = config["SMTP_PASSWORD"]
        self.timeout = config["SMTP_TIMEOUT"]
        self.sender = parseaddr(config["MAIL_SENDER"])[1]
        # The EHLO name: the sender's domain, never socket.getfqdn() (a DNS lookup per connection).
        self.helo = self.sender.rpartition("@")[2] or "localhost"
        self._key = (self.host, self.port, self.security, self.username, os.getpid())
        self._conn: smtplib.SMTP | None = _idle.pop(self._key, None)
        self._reused = self._conn is not None
        self._unreachable: TemporaryFailure | None = None

    @property
    def configured(self) -> bool:
        return bool(self.host)

    def _connect(self) -> smtplib.SMTP:
        try:
            if self.security == "ssl":
                conn = smtplib.SMTP_SSL(self.host, self.port, local_hostname=self.helo, timeout=self.timeout,
                                        context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(self.host, self.port, local_hostname=self.helo, timeout=self.timeout)
            # Without TCP_NODELAY the final "." (a write of its own, after the hand-over commit)
            # waits for the ACK of the message body, which the server delays by up to 40 ms.
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.ehlo()
            if self.security == "starttls":
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self.username:
                conn.login(self.username, self.password)
        except smtplib.SMTPResponseException as exc:
            # A refusal at greeting or login is the server's or our settings' state, not the
            # message's: try again later rather than giving the message up.
            raise TemporaryFailure(f"connect: {exc.smtp_code} {exc.smtp_error!r}", exc.smtp_code) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"connect: {exc.__class__.__name__}: {exc}") from None
        return conn

    def close(self) -> None:
        """Keep a healthy connection for this process's next job (the server may drop it;
        :meth:`send` then reconnects)."""
        if self._conn is not None:
            stale = _idle.pop(self._key, None)
            if stale is not None:
                try:
                    stale.close()
                except OSError:
                    pass
            _idle[self._key] = self._conn
            self._conn = None

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
            self._conn = None

    def send(self, msg: EmailMessage | bytes, recipient: str, before_final_dot: Callable[[], None]) -> None:
        """Send ``msg`` (a message, or its bytes with CRLF line ends) to ``recipient``; raise
        TemporaryFailure or PermanentFailure.

        Once this Mailer could not connect, later sends fail at once with the same error (the
        rest of a batch is retried later, instead of waiting for a timeout per message)."""
        if self._unreachable is not None:
            raise TemporaryFailure(str(self._unreachable), self._unreachable.code)
        if self._conn is None:
            try:
                self._conn, self._reused = self._connect(), False
            except TemporaryFailure as exc:
                self._unreachable = exc
                raise
        conn = self._conn
        dot_sent = False
        try:
            try:
                code, reply = conn.mail(self.sender)
            except (OSError, smtplib.SMTPServerDisconnected):
                if not self._reused:
                    raise
                self._drop()  # the kept connection timed out on the server: open a new one
                self._conn, self._reused = self._connect(), False
                conn = self._conn
                code, reply = conn.mail(self.sender)
            if code != 250:
                raise _classify(code, reply, "MAIL FROM")
            code, reply = conn.rcpt(recipient)
            if code not in (250, 251):
                raise _classify(code, reply, "RCPT TO")
            code, reply = conn.docmd("DATA")
            if code != 354:
                raise _classify(code, reply, "DATA")
            data = msg if isinstance(msg, bytes) else msg.as_bytes()
            data = re.sub(rb"(?m)^\.", b"..", data)  # dot-stuffing (RFC 5321 §4.5.2)
            if not data.endswith(b"\r\n"):
                data += b"\r\n"
            conn.send(data)
            try:
                before_final_dot()
            except BaseException:
                self._drop()  # mid-DATA: closing the connection makes the server drop the message
                raise
            dot_sent = True
            conn.send(b".\r\n")
            code, reply = conn.getreply()
            if code != 250:
                raise _classify(code, reply, "end of DATA")
        except (TemporaryFailure, PermanentFailure):
            try:
                conn.rset()
            except (OSError, smtplib.SMTPException):
                self._drop()
            raise
        except (OSError, socket.timeout, smtplib.SMTPException) as exc:
            self._drop()
            if dot_sent:  # the server may have taken it before the connection broke
                raise Uncertain(f"after hand-over: {exc.__class__.__name__}: {exc}") from None
            raise TemporaryFailure(f"{exc.__class__.__name__}: {exc}") from None
