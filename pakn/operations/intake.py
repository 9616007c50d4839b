"""Writing a new case: the case, its first stage visit, its audit event, its outbox rows and
any row bound to it (the web form's idempotency key), in one statement on PostgreSQL.

Why not the ORM's unit of work: a submission is the one write the public drives, and the
busiest. Flushing five new objects cost ≈ 2 ms of Python per case and six round trips, and
the year's code counter, taken first, stayed locked through all of them until the commit, so
concurrent submissions queued behind each other (bench/RESULTS.md, issue 11). Here the rows
are still built as ORM objects by the same helpers every transition uses (clock, visit,
audit, outbox), then written with Core:

* PostgreSQL: one ``INSERT … RETURNING`` whose data-modifying CTEs bump the counter (an
  upsert: the year's first case creates its row), insert the case with its code, and the
  other rows with the case's id (and the event's id for the outbox), each selected from the
  one before. One round trip; the counter's row lock is held only from that statement to the
  commit. When the caller writes nothing else (``alone``: the web form without files) the
  statement is its own transaction, in autocommit: no BEGIN, no COMMIT. A request that
  assumed the reference data's token writes nothing if the token changed (the counter's
  upsert is conditional on it), so the view can run again with nothing to undo.
* SQLite (the embedded default): the same rows, one statement each, in the same order.

Afterwards the objects are attached to the session as if loaded (``make_transient_to_detached``),
so the caller uses ``case.id``, ``case.code`` and relationships without a query, and the
outbox ids are handed to the relay like those of a flush. Objects written in their own
transaction (``alone``) hold the same values but stay out of the session.
"""
from __future__ import annotations

import functools
import re
from datetime import date, datetime
from typing import Any, Iterable

from sqlalchemy import BigInteger, Integer, Text, bindparam, case as when, cast, func, insert, literal_column, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import make_transient_to_detached

from .. import reference
from ..extensions import db
from ..models import AuditEvent, Feedback, OutboxMessage, StageVisit
from ..models.outbox import NEW_OUTBOX_IDS
from ..text import fold

_FEEDBACK = Feedback.__table__
#: Code digits: at least six (PAKN-2026-000123), more past 999,999 (as Python's ``:06d``).
_WIDTH = 6


def code_of(year: int, value: int) -> str:
    return f"PAKN-{year}-{value:0{_WIDTH}d}"


@functools.cache
def _column_plan(mapper) -> tuple[tuple[str, str, Any, bool, Any], ...]:
    """(attribute key, column key, Python default, default is callable, the function it wraps)
    per column but the key."""
    plan = []
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if column.primary_key:
            continue
        default = column.default
        if default is not None and not (default.is_scalar or default.is_callable):
            default = None  # a sequence or SQL expression: the database's business
        call = default is not None and default.is_callable
        plan.append((attr.key, column.key, default.arg if default is not None else _UNSET, call,
                     getattr(default.arg, "__wrapped__", default.arg) if call else None))
    return tuple(plan)


_UNSET = object()
#: A default's value that may be written as SQL text in a statement kept per shape: the
#: models' constant defaults (0, "pending", False) are such, the same for every case.
_LITERAL = re.compile(r"[a-z_]{1,40}")


def _column_values(obj: Any, calls: dict) -> tuple[dict[str, Any], dict[str, Any]]:
    """The columns to INSERT for a transient object, as the ORM would: every column set on it,
    else with its Python default; a column neither set nor defaulted is left out (NULL, or its
    server default). Also the columns that took their default: column → how the statement
    writes it, ``("=", SQL text)`` or ``("@", bind name)``. A callable default is called once
    per ``calls`` (one write) when its value is immutable: the created_at of the case and of
    its rows is one instant, and one bound value."""
    state = db.inspect(obj)
    held = state.dict
    out, defaulted = {}, {}
    for key, column, default, call, function in _column_plan(state.mapper):
        if key in held:
            out[column] = held[key]
        elif default is _UNSET:
            continue
        elif not call:
            out[column] = default
            sql = _literal(default)
            if sql is not None:
                defaulted[column] = ("=", sql)
        elif function in calls:
            out[column] = calls[function]
            defaulted[column] = ("@", _shared_name(function))
        else:
            out[column] = value = default(None)
            if isinstance(value, (datetime, date, str, int)):
                calls[function] = value
                defaulted[column] = ("@", _shared_name(function))
    return out, defaulted


def _literal(value: Any) -> Any:
    """The SQL text of a constant default (a string in quotes), or None to bind it like any
    value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and _LITERAL.fullmatch(value):
        return f"'{value}'"
    return None


_SHARED: dict[Any, str] = {}


def _shared_name(function: Any) -> str:
    """The bind name of a callable default's value shared by the rows of one write."""
    return _SHARED.setdefault(function, f"d{len(_SHARED)}")


def _search_rest(case: Feedback) -> str:
    """``search_text`` without the code: ``fold(code, rest…)`` is ``fold(code) + " " + fold(rest…)``
    (the code is ASCII without spaces, and fold trims and collapses spaces at the seam)."""
    rest = fold(case.title, case.content, case.proposal, case.submitter_name, case.submitter_organisation,
                case.external_ref)
    return " " + rest if rest else ""


#: The next value of a year's counter, creating the row for the year's first case (PostgreSQL
#: and SQLite ≥ 3.35 share this syntax). Text, because SQLAlchemy's ``on_conflict_do_update``
#: has no cache key: the whole intake statement would be compiled again for every case.
_COUNTER_NEXT = text(
    "INSERT INTO feedback_counter (year, last_value) VALUES (:counter_year, 1) "
    "ON CONFLICT (year) DO UPDATE SET last_value = feedback_counter.last_value + 1 RETURNING last_value"
).bindparams(bindparam("counter_year", type_=Integer)).columns(last_value=Integer)
#: The same, only while the reference data's token is still the one the request assumed
#: (:mod:`pakn.reference`): otherwise no number is taken and, as every other row of the intake
#: statement is selected from the one before, nothing at all is written.
_COUNTER_NEXT_IF_TOKEN = text(
    "INSERT INTO feedback_counter (year, last_value) SELECT :counter_year, 1 "
    "WHERE (SELECT token FROM reference_version WHERE id = 1) = :assumed_token "
    "ON CONFLICT (year) DO UPDATE SET last_value = feedback_counter.last_value + 1 RETURNING last_value"
).bindparams(bindparam("counter_year", type_=Integer), bindparam("assumed_token", type_=BigInteger)) \
    .columns(last_value=Integer)


def write_new_case(case: Feedback, year: int, visit: StageVisit | None, event: AuditEvent,
                   outbox: list[OutboxMessage], bound: Iterable[Any] = (), alone: bool = False) -> None:
    """Insert ``case`` (its code the next of ``year``), ``visit``, ``event``, ``outbox`` and the
    ``bound`` rows (each with a ``feedback_id`` column), then attach them to the session.
    ``event.data`` gets the case's code. Flushes nothing else; the caller commits.

    ``alone``: the caller writes nothing else in its transaction (the web form without files).
    On PostgreSQL the statement, which writes every row, is then its own transaction: run
    outside the session's, it needs no BEGIN and no COMMIT (two round trips less), and the
    objects, already committed, are not attached to the session (they hold their ids and
    written values; the outbox ids still go to the relay when the caller's block commits)."""
    bound = list(bound)
    rest = _search_rest(case)
    calls: dict = {}
    rows = {"case": _column_values(case, calls),
            "visit": _column_values(visit, calls) if visit is not None else None,
            "event": _column_values(event, calls), "outbox": [_column_values(o, calls) for o in outbox],
            "bound": [_column_values(b, calls) for b in bound]}
    values = {"case": rows["case"][0], "visit": rows["visit"][0] if visit is not None else None,
              "event": rows["event"][0], "outbox": [row[0] for row in rows["outbox"]],
              "bound": [row[0] for row in rows["bound"]]}
    values["case"]["version"] = 1  # the version counter starts at 1 (the ORM's version_id_col)
    tables = tuple(type(b).__table__ for b in bound)
    if db.session.get_bind().dialect.name == "postgresql":
        ids = _write_postgresql(year, rest, rows, tables, calls, alone)
    else:
        ids = _write_sequential(year, rest, values, tables)
    _attach(case, visit, event, outbox, bound, values, ids, rest, session=not ids["committed"])


def _columns(table, row: dict, skip: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The columns of ``row`` the statement writes: a NULL is left out where the column has no
    server default (NULL is what it gets), which keeps the statement short (see below)."""
    return tuple(k for k, v in row.items()
                 if k not in skip and (v is not None or table.c[k].server_default is not None))


def _shape(table, row: tuple[dict, dict], skip: tuple[str, ...]) -> tuple:
    """The columns written, each with how: None (its own bound value) or a default's form."""
    values, defaulted = row
    return tuple((k, defaulted.get(k)) for k in _columns(table, values, skip))


@functools.cache
def _position(table) -> dict[str, int]:
    return {k: i for i, k in enumerate(table.c.keys())}


def _binds(table, prefix: str, columns: tuple) -> dict[str, Any]:
    """The SQL of each column: a typed placeholder named by prefix and column position (short
    names), a constant default as SQL text, a shared default's placeholder."""
    at = _position(table)
    out = {}
    for k, how in columns:
        kind = table.c[k].type
        if how is None:
            out[k] = bindparam(f"{prefix}{at[k]}", type_=kind)
        elif how[0] == "=":
            out[k] = literal_column(how[1], kind)
        else:
            out[k] = bindparam(how[1], type_=kind)
    return out


def _params(table, prefix: str, row: dict, columns: tuple) -> dict[str, Any]:
    at = _position(table)
    return {f"{prefix}{at[k]}": row[k] for k, how in columns if how is None}


_SKIP = {"f": ("code", "search_text"), "v": ("feedback_id",), "e": ("feedback_id", "data"),
         "o": ("feedback_id", "audit_event_id"), "b": ("feedback_id",)}


def _postgresql_statement(case: tuple, visit: tuple | None, event: tuple, outbox: tuple, bound: tuple,
                          token: bool):
    """The intake statement for one shape of rows (the columns written in each), built once
    (by :func:`_compiled`, which keeps it compiled).

    Built once because building it per case cost more Python than the ORM's flush (its
    construction and cache key: ≈ 100 columns). Shapes are few: the web form's optional fields.
    Columns left NULL are not written, constant defaults are SQL text and the rows' shared
    defaults (created_at…) one bound value: psycopg keeps its conversion of a query of at most
    4 KB and 50 bound values (parsed again on every execution above either).
    """
    counter = (_COUNTER_NEXT_IF_TOKEN if token else _COUNTER_NEXT).cte("counter")
    n = counter.c.last_value
    # Constants as SQL text, not bound values: psycopg keeps its conversion of a query of at
    # most 50 bound values, and this one is near that with every optional field filled in.
    digits = when((n < literal_column(str(10 ** _WIDTH)), func.lpad(cast(n, Text), literal_column(str(_WIDTH)),
                                                                    literal_column("'0'"))), else_=cast(n, Text))

    def insert_from(table, values: dict, *sources):
        """INSERT … SELECT from ``sources``: a row for each row they hold, so none when the
        counter took no number (the token changed)."""
        names = list(values)
        return insert(table).from_select(names, select(*(values[k] for k in names)).select_from(*sources)) \
            .returning(table.c.id)

    f = insert_from(_FEEDBACK, {**_binds(_FEEDBACK, "f", case),
                                "code": bindparam("code_prefix", type_=Text) + digits,
                                "search_text": bindparam("search_prefix", type_=Text) + digits
                                + bindparam("search_rest", type_=Text)}, counter) \
        .returning(_FEEDBACK.c.code).cte("f")
    picks = [select(f.c.id).scalar_subquery(), select(f.c.code).scalar_subquery()]
    if visit is not None:
        t = StageVisit.__table__
        v = insert_from(t, {**_binds(t, "v", visit), "feedback_id": f.c.id}, f).cte("v")
        picks.append(select(v.c.id).scalar_subquery())
    t = AuditEvent.__table__
    data = cast(bindparam("e_data", type_=JSONB), JSONB).op("||")(
        func.jsonb_build_object(literal_column("'code'"), f.c.code))
    e = insert_from(t, {**_binds(t, "e", event), "feedback_id": f.c.id, "data": data}, f).cte("e")
    picks.append(select(e.c.id).scalar_subquery())
    t = OutboxMessage.__table__
    for k, columns in enumerate(outbox):
        o = insert_from(t, {**_binds(t, f"o{k}_", columns), "feedback_id": f.c.id, "audit_event_id": e.c.id},
                        f, e).cte(f"o{k}")
        picks.append(select(o.c.id).scalar_subquery())
    for k, (t, columns) in enumerate(bound):
        b = insert_from(t, {**_binds(t, f"b{k}_", columns), "feedback_id": f.c.id}, f).cte(f"b{k}")
        picks.append(select(b.c.id).scalar_subquery())
    if token:  # the reference data's token, for a request that assumed it (reference.optimistic)
        picks.append(reference.TOKEN)
    # One row whatever was written (each id a scalar subquery, NULL when nothing was). Every
    # CTE is referenced, so each is rendered (PostgreSQL runs a data-modifying CTE once whether
    # or not it is read; SQLAlchemy renders only those used).
    return select(*picks)


@functools.lru_cache(maxsize=256)
def _compiled(dialect, *shape) -> tuple[str, tuple, dict]:
    """The intake statement's SQL for one shape, compiled once, the bound values' type
    conversions (JSONB…) and the values fixed in the statement. Executed as the driver's SQL:
    SQLAlchemy's per-execution work on a statement of this size (its cache key, the
    parameters' assembly) is done once here; errors, events and the connection's transaction
    stay SQLAlchemy's."""
    compiled = _postgresql_statement(*shape).compile(dialect=dialect)
    processors = tuple((name, process) for name, bind in compiled.binds.items()
                       if (process := bind.type._cached_bind_processor(dialect)) is not None)
    constants = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
    return compiled.string, processors, constants


def _write_postgresql(year: int, rest: str, rows: dict, bound_tables: tuple, calls: dict, alone: bool) -> dict:
    t_v, t_e, t_o = StageVisit.__table__, AuditEvent.__table__, OutboxMessage.__table__
    case = _shape(_FEEDBACK, rows["case"], _SKIP["f"])
    visit = _shape(t_v, rows["visit"], _SKIP["v"]) if rows["visit"] is not None else None
    event = _shape(t_e, rows["event"], _SKIP["e"])
    outbox = tuple(_shape(t_o, row, _SKIP["o"]) for row in rows["outbox"])
    bound = tuple((t, _shape(t, row, _SKIP["b"])) for t, row in zip(bound_tables, rows["bound"]))
    event_values = rows["event"][0]
    params = {"counter_year": year, "code_prefix": f"PAKN-{year}-", "search_prefix": f"pakn-{year}-",
              "search_rest": rest, "e_data": event_values.get("data") or {},
              **{_shared_name(f): v for f, v in calls.items()},
              **_params(_FEEDBACK, "f", rows["case"][0], case), **_params(t_e, "e", event_values, event)}
    if visit is not None:
        params.update(_params(t_v, "v", rows["visit"][0], visit))
    for k, (row, columns) in enumerate(zip(rows["outbox"], outbox)):
        params.update(_params(t_o, f"o{k}_", row[0], columns))
    for k, (row, (t, columns)) in enumerate(zip(rows["bound"], bound)):
        params.update(_params(t, f"b{k}_", row[0], columns))
    assumed = reference.assumed()
    if assumed:
        params["assumed_token"] = reference.assumed_token()
    sql, processors, constants = _compiled(db.engine.dialect, case, visit, event, outbox, bound, assumed)
    params.update(constants)  # the values written into the statement (the token's row id)
    for name, process in processors:
        params[name] = process(params[name])
    committed = alone and not db.session().in_transaction()
    if committed:
        got = list(_autocommit_row(sql, params))
    else:
        got = list(db.session.connection().exec_driver_sql(sql, params).one())
    if assumed:
        reference.confirm(got.pop())  # a changed token: nothing was written, the view runs again
    ids = {"committed": committed, "case": got.pop(0), "code": got.pop(0)}
    ids["visit"] = got.pop(0) if visit is not None else None
    ids["event"] = got.pop(0)
    ids["outbox"] = [got.pop(0) for _ in outbox]
    ids["bound"] = [got.pop(0) for _ in bound]
    return ids


def _autocommit_row(sql: str, params: dict) -> tuple:
    """The one row of ``sql`` run as its own transaction on a pooled connection in autocommit.

    On the driver's cursor: SQLAlchemy's execution (its context, its result's metadata built
    from the cursor's description, the isolation level set and reset around the checkout)
    cost more Python than the statement's own conversion. What it did that matters is kept:
    a driver error becomes SQLAlchemy's (``IntegrityError`` for a form sent twice, the
    database's unavailability for a 503) and a broken connection leaves the pool."""
    fairy = db.engine.raw_connection()  # the pool's checkout: pakn.liveness checks the connection
    connection = fairy.driver_connection
    try:
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchone()
        finally:
            if not connection.broken:
                connection.autocommit = False
    except db.engine.dialect.loaded_dbapi.Error as err:
        invalidated = db.engine.dialect.is_disconnect(err, connection, None)
        if invalidated:
            fairy.invalidate(err)
        raise sa_exc.DBAPIError.instance(sql, None, err, db.engine.dialect.loaded_dbapi.Error,
                                         hide_parameters=True, dialect=db.engine.dialect,
                                         connection_invalidated=invalidated) from err
    finally:
        fairy.close()


@functools.lru_cache(maxsize=256)
def _insert_statement(table, columns: tuple[str, ...]):
    return insert(table).values(_binds(table, "r", tuple((k, None) for k in columns))).returning(table.c.id)


def _write_sequential(year: int, rest: str, values: dict, bound_tables: tuple) -> dict:
    session = db.session
    if reference.assumed():
        reference.confirm(session.execute(select(reference.TOKEN)).scalar())
    code = code_of(year, session.execute(_COUNTER_NEXT, {"counter_year": year}).scalar_one())

    def add(table, row: dict) -> int:
        columns = _columns(table, row)
        return session.execute(_insert_statement(table, columns),
                               {f"r{_position(table)[k]}": row[k] for k in columns}).scalar_one()

    ids: dict[str, Any] = {"committed": False, "code": code}
    ids["case"] = add(_FEEDBACK, {**values["case"], "code": code, "search_text": code.casefold() + rest})
    ids["visit"] = (add(StageVisit.__table__, {**values["visit"], "feedback_id": ids["case"]})
                    if values["visit"] is not None else None)
    ids["event"] = add(AuditEvent.__table__, {**values["event"], "feedback_id": ids["case"],
                                              "data": {**values["event"]["data"], "code": code}})
    ids["outbox"] = [add(OutboxMessage.__table__, {**row, "feedback_id": ids["case"], "audit_event_id": ids["event"]})
                     for row in values["outbox"]]
    ids["bound"] = [add(t, {**row, "feedback_id": ids["case"]}) for t, row in zip(bound_tables, values["bound"])]
    return ids


@functools.cache
def _nulls(table) -> dict[str, None]:
    """The columns that are NULL when an INSERT leaves them out (no server default)."""
    return {c.key: None for c in table.c if c.server_default is None}


def _attach(case, visit, event, outbox, bound, values, ids, rest: str, session: bool = True) -> None:
    """Give the objects their ids and written values, then put them in the session as loaded
    (``session``; otherwise they stay out of it, holding what was written)."""
    code = ids["code"]
    filled = [(case, values["case"], ids["case"], {"code": code, "search_text": code.casefold() + rest}),
              (event, values["event"], ids["event"],
               {"feedback_id": ids["case"], "data": {**values["event"]["data"], "code": code}})]
    if visit is not None:
        filled.append((visit, values["visit"], ids["visit"], {"feedback_id": ids["case"]}))
    filled += [(o, row, i, {"feedback_id": ids["case"], "audit_event_id": ids["event"]})
               for o, row, i in zip(outbox, values["outbox"], ids["outbox"])]
    filled += [(b, row, i, {"feedback_id": ids["case"]}) for b, row, i in zip(bound, values["bound"], ids["bound"])]
    for obj, row, pk, written in filled:
        # As loaded from the database: make_transient_to_detached() takes what the instance
        # holds as its committed state (the column keys are the attribute keys here). Columns
        # not written are NULL, so they are known too: no later access loads the row again.
        state = db.inspect(obj)
        state.dict.update({**_nulls(type(obj).__table__), **row, **written, "id": pk})
        if session:
            make_transient_to_detached(obj)
    if session:
        for obj, *_ in filled:
            db.session.add(obj)
    db.session.info.setdefault(NEW_OUTBOX_IDS, []).extend(ids["outbox"])
