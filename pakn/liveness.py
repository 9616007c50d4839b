"""Pooled PostgreSQL connections checked at checkout without a round trip.

A connection that sat in the pool may have died with its server (a restart, a crash, an
``idle_session_timeout``). SQLAlchemy's ``pool_pre_ping`` finds out with a ``SELECT 1`` on every
checkout: one round trip more on every request (on the citizen's submission, one in six of
its statements: bench/RESULTS.md). A server that ends a connection says so on the socket —
PostgreSQL sends a FATAL message, then closes it — and an idle connection receives nothing
else. So the socket is polled instead (no waiting, no traffic): nothing to read, the
connection is used; anything to read, it is pinged as before, and a failed ping hands the
pool a :class:`~sqlalchemy.exc.DisconnectionError`, after which it opens a new connection.
A silent loss (a cable cut, no FIN) is found by neither check, only by the statement's own
error, as before.
"""
from __future__ import annotations

import select

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

_EVENTS = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL


def watch(engine: Engine) -> None:
    """Check ``engine``'s PostgreSQL connections at each checkout (psycopg 3 connections)."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection, record, proxy) -> None:
        if getattr(dbapi_connection, "pgconn", None) is None:  # not psycopg 3: nothing to poll
            return
        if dbapi_connection.closed or dbapi_connection.broken:
            raise DisconnectionError("the pooled connection is closed")
        poller = select.poll()
        try:
            poller.register(dbapi_connection.pgconn.socket, _EVENTS)
        except Exception:  # no socket any more
            raise DisconnectionError("the pooled connection has no socket") from None
        if not poller.poll(0):
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception:
            alive = False
        if not alive:
            raise DisconnectionError("the server closed the pooled connection")
