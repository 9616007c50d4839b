"""Delivery of the outbox: relay, RQ jobs, e-mail (SMTP), SMS (HTTP gateway) and in-app notices.

Every side effect of a state change is an :class:`~pakn.models.OutboxMessage` row written in
the same transaction as the change (``pakn.operations``). After the commit the relay
(:mod:`notifications.relay`) hands new rows to RQ (``REDIS_URL`` set) or runs them in-process
(the embedded default). The database stays the system of record: ``flask pakn relay``
re-sends whatever is still pending, failed and due, or abandoned by a killed worker.

The delivery job (:func:`notifications.jobs.deliver`) re-reads its row, claims it with a
guarded UPDATE, sends each message with a Message-ID derived from the outbox id, and records
each step, so a job run twice sends once (see the module's docstring for the crash analysis).
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Install the after-commit relay hook and the staff bell; register the pages."""
    from . import relay, web

    relay.install()
    app.context_processor(web.bell_context)
    app.register_blueprint(web.bp)
