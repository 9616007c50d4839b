"""Log lines without personal data or secrets (ASVS 16.2.5, reliability.md P2).

The app's own messages name ids, never people; what could still carry personal data is text
from outside: the access log's request line (a tracking link's ``?token=``), an SMTP server's
refusal quoting the recipient's address, an exception message. :class:`Redactor` masks
tracking and API tokens, e-mail addresses and phone numbers in the message and the formatted
traceback of every record logged on the app's loggers and on the web servers' access loggers.
"""
from __future__ import annotations

import logging
import re

#: The loggers records are created on: the app's (Flask's ``app.logger`` is "pakn"), and the
#: development and production web servers' access and error logs.
LOGGERS = ("pakn", "pakn.auth", "pakn.notifications", "werkzeug", "gunicorn.access", "gunicorn.error")

_TOKEN = re.compile(r"(?i)\b(token=|Bearer\s+)[^&\s\"'<>]+")
#: A tracking token as a path segment (Open311's ``/tokens/<token>.json``).
_PATH_TOKEN = re.compile(r"(/tokens/)[^/.\s\"'?<>]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w.])(?:\+84|0)(?:[\s.-]?\d){9,10}(?![\w.])")


def redact(text: str) -> str:
    """``text`` with tokens, e-mail addresses and phone numbers masked."""
    text = _TOKEN.sub(lambda m: m.group(1) + "[redacted]", text)
    text = _PATH_TOKEN.sub(lambda m: m.group(1) + "[redacted]", text)
    text = _EMAIL.sub("[email]", text)
    return _PHONE.sub("[phone]", text)


class Redactor(logging.Filter):
    """Rewrites a record's message (and traceback) with :func:`redact`; never drops a record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install() -> None:
    """Put the redactor on every logger of :data:`LOGGERS` (once)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, Redactor) for f in logger.filters):
            logger.addFilter(Redactor())
