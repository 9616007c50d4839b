"""Reference data, read by every submission and every due-date computation, kept per process.

A submission used to read the field list, the field, the province settings, the calendar
overlay, the clock-settings version in force (twice), the office and the plan task bound to
its stage: nine statements before its own INSERTs (bench/RESULTS.md, issue 11). These rows
change a few times a year, by an admin.

Exactness comes from the database, not from a time limit: triggers (migration ``i12a``) give
``reference_version.token`` a new random value in the same transaction as any change of the
tables in :data:`TABLES`, whoever makes it (the ORM, a bulk UPDATE, a CSV import, psql). Each
request reads the token once (one primary-key probe) and uses the values cached for that
token; a different token empties the process's cache. So a case received after an admin's
change commits is computed under the new data, in every worker. A random token, not a
counter: a counter re-created from zero (a wiped row) could repeat a value a process holds.

Values cached here are plain data (ids, tuples, dicts, a calendar), never ORM instances, which
belong to one session. Outside a request (jobs, CLI, tests calling operations directly), the
token is read on every call, so a change made earlier in the same app context is always seen.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable, Hashable

from flask import current_app, has_request_context, request
from sqlalchemy import column, inspect, select, table

from .extensions import db

#: The tables whose changes give the token a new value (the triggers of migration i12a).
TABLES = ("field", "province_setting", "calendar_overlay", "clock_setting", "agency", "plan", "plan_task")

#: The token as a scalar subquery: read alone, or in the same statement as another marker.
TOKEN = select(column("token")).select_from(table("reference_version")).where(column("id") == 1).scalar_subquery()
_TOKEN = select(TOKEN)
_ENVIRON_KEY = "pakn.reference_token"
_UNREAD = object()


class _Store:
    def __init__(self) -> None:
        self.token: Any = _UNREAD
        self.values: dict[Hashable, Any] = {}
        self.lock = threading.Lock()
        self.migrated = False


def _store() -> _Store:
    return current_app.extensions.setdefault("pakn_reference", _Store())


def _migrated() -> bool:
    """Whether the marker's table exists (checked until it does: an instance not migrated yet
    reads every value uncached, and each reader keeps its own fallback)."""
    store = _store()
    if not store.migrated:
        store.migrated = inspect(db.engine).has_table("reference_version")
    return store.migrated


def _token() -> Any:
    if has_request_context():
        token = request.environ.get(_ENVIRON_KEY, _UNREAD)
        if token is _UNREAD:
            token = request.environ[_ENVIRON_KEY] = db.session.execute(_TOKEN).scalar()
        return token
    return db.session.execute(_TOKEN).scalar()


def migrated() -> bool:
    """Whether :data:`TOKEN` can be read (the table exists): a caller reading it beside its
    own marker checks this first, as :func:`cached` does."""
    return _migrated()


def note_token(token: Any) -> None:
    """``token`` was read in this request beside another marker (one statement instead of
    two): :func:`cached` uses it as the request's token, unless the request read one already
    (a request keeps the first token it saw, so its values agree with each other)."""
    if has_request_context():
        request.environ.setdefault(_ENVIRON_KEY, token)


def cached(key: Hashable, load: Callable[[], Any]) -> Any:
    """The value of ``key`` for the reference data as they are now (``load()`` once per change).

    The token is read before ``load`` runs: should an admin's change commit in between, the
    value is kept under the older token, and the next request (which sees the new token)
    loads again. The reverse order could keep old rows under the new token.
    """
    if not _migrated():
        return load()
    store = _store()
    token = _token()
    with store.lock:
        if store.token != token:
            store.token, store.values = token, {}
        if key in store.values:
            return store.values[key]
    value = load()
    with store.lock:
        if store.token == token:
            store.values[key] = value
    return value


def forget() -> None:
    """Read the token again at the next access: after this request changed reference data
    itself (its own transaction sees the new token), so the rest of the request sees them."""
    if has_request_context():
        request.environ.pop(_ENVIRON_KEY, None)
        request.environ.pop(_ASSUMED, None)


# -- one round trip less for a request that writes: the token read in its write ---------------
_ASSUMED = "pakn.reference_assumed"


class Changed(Exception):
    """The reference data changed since the token a request assumed: run it again."""


def assumed() -> bool:
    """Whether this request's token is assumed, not read: its write must read the token in the
    same statement (:data:`TOKEN`) and hand it to :func:`confirm`."""
    return has_request_context() and _ASSUMED in request.environ


def assumed_token() -> Any:
    """The token this request assumes (with :func:`assumed`)."""
    return request.environ[_ASSUMED]


def confirm(token: Any) -> None:
    """``token`` was read by this request's write: raise :class:`Changed` if it is not the
    token the request assumed (the caller's transaction rolls back, :func:`optimistic` runs
    the view again, reading the token first)."""
    if has_request_context() and request.environ.pop(_ASSUMED, _UNREAD) not in (_UNREAD, token):
        raise Changed()


def optimistic(view: Callable) -> Callable:
    """Run ``view`` under the token this process read last, without reading it (one round trip
    less on the busiest write, the citizen's submission: bench/RESULTS.md).

    The view's write reads the token in its own statement and confirms it (:func:`confirm`).
    A view that ends without a write reads it before it answers. Either way a changed token
    means the view ran on older reference data: it runs again, reading the token first, and
    only that run's response (and writes) count. Values the first run loaded while
    assuming the old token are kept under it, which no later request trusts without the same
    check: every other request reads the token first.
    """
    @functools.wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        last = _store().token if _migrated() else _UNREAD
        if last is not _UNREAD and _ENVIRON_KEY not in request.environ:
            request.environ[_ENVIRON_KEY] = request.environ[_ASSUMED] = last
        try:
            response = view(*args, **kwargs)
            if assumed():
                confirm(db.session.execute(_TOKEN).scalar())
            return response
        except Changed:
            db.session.rollback()
            forget()
            return view(*args, **kwargs)
    return run
