"""The inbox query: filters, sorting, counts per state and keyset paging.

Filters come from the query string so a filtered list is a URL: it can be bookmarked,
saved under a name (:class:`pakn.models.SavedFilter`) and carried to the case page, whose
"next case" link continues in the same list. Paging is by keyset (the last row's sort
value and id), so a page is as fast at row 10,000 as at row 1 and never skips or repeats
a case when others arrive meanwhile.
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime, time, timedelta, timezone
from functools import cache
from typing import Any, NamedTuple
from urllib.parse import urlencode

from flask_babel import get_locale, get_translations, gettext
from sqlalchemy import Select, and_, bindparam, func, literal, or_, select
from sqlalchemy.orm import aliased, joinedload

from workflows.calendar import TZ
from workflows.engine import N_
from workflows.glossary import Channel, ContentCategory, Kind, Subject
from workflows.pakn import STAGED_STATES, WORKFLOW

from flask import current_app, get_template_attribute, has_request_context, request, url_for
from jinja2.filters import do_truncate
from markupsafe import Markup

from ..access import scope_cases, sees_all_cases
from .. import reference
from ..caching import MarkedCache, app_cache
from ..extensions import db
from ..models import Agency, AuditEvent, CaseAssignment, Feedback, Field, StageVisit, User
from ..models.types import UTCDateTime
from ..text import clean_input, like_pattern
from ..web.filters import localdate

PAGE_SIZE = 50
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=timezone.utc)

SORTS = {
    "received_desc": N_("Mới tiếp nhận trước"),
    "received_asc": N_("Tiếp nhận sớm trước"),
    "due_asc": N_("Hạn gần nhất trước"),
}
DUE_FILTERS = {"overdue": N_("Quá hạn"), "today": N_("Đến hạn hôm nay"), "week": N_("Đến hạn trong tuần")}
#: Query-string keys of a filter (everything but the paging cursor).
FILTER_KEYS = ("state", "due", "agency", "field", "channel", "kind", "from", "to", "q", "clerk", "sort")


@dataclass
class InboxFilter:
    states: list[str] = dc_field(default_factory=list)
    due: str | None = None
    agency: str | None = None
    field: str | None = None
    channel: str | None = None
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    clerk: str | None = None  # a user id, or "none"
    sort: str = "received_desc"
    after: str | None = None
    errors: list[str] = dc_field(default_factory=list)

    def query_args(self, with_cursor: bool = False) -> list[tuple[str, str]]:
        """The filter as query-string pairs (for links, saved filters and the next case)."""
        args = [("state", s) for s in self.states]
        for key, value in (("due", self.due), ("agency", self.agency), ("field", self.field),
                           ("channel", self.channel), ("kind", self.kind),
                           ("from", self.date_from.isoformat() if self.date_from else None),
                           ("to", self.date_to.isoformat() if self.date_to else None),
                           ("q", self.q or None), ("clerk", self.clerk)):
            if value:
                args.append((key, value))
        if self.sort != "received_desc":
            args.append(("sort", self.sort))
        if with_cursor and self.after:
            args.append(("after", self.after))
        return args

    def query_string(self) -> str:
        return urlencode(self.query_args())


def _date(value: str | None, errors: list[str], label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(gettext("%(label)s không hợp lệ (dd/mm/yyyy).", label=gettext(label)))
        return None


def parse_filter(args) -> InboxFilter:
    """Read a filter from request args; unknown values are dropped with a message, never a 500."""
    f = InboxFilter()
    f.states = [s for s in args.getlist("state") if s in WORKFLOW.states]
    if len(f.states) != len([s for s in args.getlist("state") if s]):
        f.errors.append(gettext("Bỏ qua trạng thái không hợp lệ."))
    f.due = args.get("due") if args.get("due") in DUE_FILTERS else None
    f.agency = clean_input(args.get("agency"), 50) or None
    f.field = clean_input(args.get("field"), 50) or None
    f.channel = args.get("channel") if args.get("channel") in Channel.codes() else None
    f.kind = args.get("kind") if args.get("kind") in Kind.codes() else None
    f.date_from = _date(args.get("from"), f.errors, N_("Từ ngày"))
    f.date_to = _date(args.get("to"), f.errors, N_("Đến ngày"))
    f.q = clean_input(args.get("q"), 200)
    clerk = args.get("clerk") or ""
    f.clerk = clerk if clerk == "none" or clerk.isdigit() else None
    f.sort = args.get("sort") if args.get("sort") in SORTS else "received_desc"
    f.after = args.get("after") or None
    return f


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), TZ).astimezone(timezone.utc)


def _open_visit_join():
    return and_(StageVisit.feedback_id == Feedback.id, StageVisit.finished_at.is_(None))


def due_key():
    """The sort value of the due order: the open visit's due instant, cases without one last."""
    return func.coalesce(StageVisit.due_at, literal(FAR_FUTURE, UTCDateTime()))


def _filtered(query: Select, f: InboxFilter, now: datetime, *, states: bool = True) -> Select:
    if states and f.states:
        query = query.where(Feedback.state.in_(f.states))
    today = now.astimezone(TZ).date()
    if f.due == "overdue":
        query = query.where(StageVisit.due_at < now)
    elif f.due == "today":
        query = query.where(StageVisit.due_date == today)
    elif f.due == "week":
        query = query.where(StageVisit.due_date >= today,
                            StageVisit.due_date <= today + timedelta(days=6 - today.weekday()))
    if f.agency:
        query = query.where(Feedback.agency_id == select(Agency.id).where(Agency.code == f.agency).scalar_subquery())
    if f.field:
        query = query.where(Feedback.field_id == select(Field.id).where(Field.code == f.field).scalar_subquery())
    if f.channel:
        query = query.where(Feedback.channel == f.channel)
    if f.kind:
        query = query.where(Feedback.kind == f.kind)
    if f.date_from:
        query = query.where(Feedback.received_at >= _local_start(f.date_from))
    if f.date_to:
        query = query.where(Feedback.received_at < _local_start(f.date_to + timedelta(days=1)))
    if f.q:
        query = query.where(Feedback.search_text.like(like_pattern(f.q), escape="\\"))
    if f.clerk == "none":
        # NOT EXISTS, not "the left-joined clerk IS NULL": PostgreSQL estimates that as one row
        # (clerk_id is NOT NULL) and sorted every case of the province for each page (1 s at 100k).
        assigned = aliased(CaseAssignment)  # the page's own join of the clerk must not correlate
        query = query.where(~select(assigned.feedback_id).where(assigned.feedback_id == Feedback.id).exists())
    elif f.clerk:
        query = query.where(CaseAssignment.clerk_id == int(f.clerk))
    return query


def _base(user: User, columns, f: InboxFilter | None = None) -> Select:
    """The user's cases with their open visit and their clerk (each at most one row per case,
    so neither join changes a count). Given ``f``, only the joins its filters read: a count of
    a province's cases then scans one index instead of joining a million rows twice."""
    query = select(*columns).select_from(Feedback)
    if f is None or f.due:
        query = query.outerjoin(StageVisit, _open_visit_join())
    if f is None or (f.clerk and f.clerk != "none"):
        query = query.outerjoin(CaseAssignment, CaseAssignment.feedback_id == Feedback.id)
    return scope_cases(query, user)


def encode_cursor(value: datetime, case_id: int) -> str:
    return base64.urlsafe_b64encode(f"{value.isoformat()}|{case_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, _, case_id = raw.partition("|")
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            return None
        return moment, int(case_id)
    except (ValueError, UnicodeDecodeError):
        return None


def _sort_column(f: InboxFilter):
    return due_key() if f.sort == "due_asc" else Feedback.received_at


def _ordered(query: Select, f: InboxFilter, cursor: tuple[datetime, int] | None) -> Select:
    col = _sort_column(f)
    descending = f.sort == "received_desc"
    if cursor is not None:
        value, case_id = cursor
        if descending:
            query = query.where(or_(col < value, and_(col == value, Feedback.id < case_id)))
        else:
            query = query.where(or_(col > value, and_(col == value, Feedback.id > case_id)))
    if descending:
        return query.order_by(col.desc(), Feedback.id.desc())
    return query.order_by(col.asc(), Feedback.id.asc())


@dataclass
class InboxRow:
    """What one row of the inbox shows (office/inbox.html): plain values read by one select,
    so a page builds no ORM objects and loads none of the cases' texts."""
    id: int
    code: str
    version: int
    received_at: datetime
    channel: str
    title: str
    state: str
    field_name: str
    agency_name: str
    due_at: datetime | None
    due_date: date | None
    urgency: str
    clerk_id: int | None
    sort_value: datetime


@dataclass
class InboxPage:
    rows: list[InboxRow]
    next_cursor: str | None
    counts: dict[str, int]
    total: int
    #: The states whose figure is a lower bound (:data:`SETTLED_COUNT_LIMIT`), shown as "more than".
    more: frozenset[str] = frozenset()
    #: ``total`` is a lower bound: a counted state is in ``more``, or a text search matched
    #: more than :data:`SEARCH_COUNT_LIMIT` cases (``search_more``: no figure per state then).
    total_more: bool = False
    search_more: bool = False


def inbox_page(user: User, f: InboxFilter, now: datetime, limit: int = PAGE_SIZE) -> InboxPage:
    """One page of the inbox, the counts per state under the other filters, and the total."""
    cursor = decode_cursor(f.after) if f.after else None
    if f.after and cursor is None:
        f.errors.append(gettext("Vị trí trang không hợp lệ; hiển thị từ đầu danh sách."))
    result = _page_rows(user, f, cursor, now, limit + 1)
    rows = [InboxRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] or "", r[8] or r[9] or "", r[10], r[11],
                     _urgency(r[10], r[11], now), r[12], r[13]) for r in result[:limit]]
    next_cursor = None
    if len(result) > limit:
        last = rows[-1]
        next_cursor = encode_cursor(last.sort_value, last.id)
    counted = state_counts(user, f, now)
    if counted.search_more:
        return InboxPage(rows, next_cursor, {}, SEARCH_COUNT_LIMIT, total_more=True, search_more=True)
    shown = [k for k in counted.counts if not f.states or k in f.states]
    return InboxPage(rows, next_cursor, counted.counts, sum(counted.counts[k] for k in shown), counted.more,
                     total_more=any(k in counted.more for k in shown))


#: Pages kept per web process (each ≤ 51 rows of short columns: ~30 kB at most).
PAGE_CACHE_SIZE = 64


@dataclass(frozen=True)
class _Rows:
    rows: list
    #: The rows hold until this instant: a due filter's answer changes with the clock.
    valid_until: datetime


def _page_rows(user: User, f: InboxFilter, cursor: tuple[datetime, int] | None, now: datetime,
               limit: int) -> list:
    """``limit`` rows of the list ``f`` from ``cursor``, kept per process like the counts (the
    same marker: until a case changes or the reference data do, at most ``COUNT_CACHE_SECONDS``)
    and, under a due filter, until the clock changes the answer (:func:`_valid_until`).

    Why: some lists are costly to find however few rows they show. At 1,000,000 cases the
    overdue list walks ~14,000 recent cases to find its 51 (25 ms of the database's CPU on
    every view; a field's list ~10 ms), while the office reloads the same lists all day."""
    def compute() -> _Rows:
        query = _filtered(scope_cases(_page_select(f.sort), user), f, now)
        if f.sort == "due_asc":
            rows = _by_due(query, cursor, limit)
        else:
            rows = db.session.execute(_ordered(query, f, cursor).limit(limit)).all()
        return _Rows(rows, _valid_until(f, now))

    scope = (True, None) if sees_all_cases(user) else (False, user.agency_id)
    key = (scope, tuple(f.query_args(with_cursor=True)), limit)
    return changes_cache("office-inbox-pages", PAGE_CACHE_SIZE).get(
        key, compute, current_app.config.get("COUNT_CACHE_SECONDS", 30),
        fresh=lambda held: now < held.valid_until).rows


def _valid_until(f: InboxFilter, now: datetime) -> datetime:
    """Until when the list ``f`` read at ``now`` stays the same if no case changes: «overdue»
    (``due_at < now``) until the next open visit falls due; «today» and «this week» (local
    due days) until the next local midnight; the other filters do not read the clock."""
    if f.due == "overdue":
        return db.session.scalar(select(func.min(StageVisit.due_at)).where(
            StageVisit.finished_at.is_(None), StageVisit.due_at >= now)) or FAR_FUTURE
    if f.due:
        return _local_start(now.astimezone(TZ).date() + timedelta(days=1))
    return FAR_FUTURE


@cache
def _page_select(sort: str) -> Select:
    """The columns and joins of an inbox page in the order ``sort``, before the user's scope,
    the filters and the order: built once per process (a select is immutable; building this
    one, its 14 columns and two aliases, took ~0.4 ms of CPU on every page).

    Aliases: the agency and field filters are subqueries over Agency and Field, which must
    not correlate with the joins that fetch the row's names."""
    agency, field = aliased(Agency), aliased(Field)
    return (select(Feedback.id, Feedback.code, Feedback.version, Feedback.received_at, Feedback.channel,
                   Feedback.title, Feedback.state, field.name, agency.short_name, agency.name,
                   StageVisit.due_at, StageVisit.due_date, CaseAssignment.clerk_id,
                   _sort_column(InboxFilter(sort=sort)).label("sort_value"))
            .select_from(Feedback).outerjoin(StageVisit, _open_visit_join())
            .outerjoin(CaseAssignment, CaseAssignment.feedback_id == Feedback.id)
            .outerjoin(field, field.id == Feedback.field_id).outerjoin(agency, agency.id == Feedback.agency_id))


def _by_due(query: Select, cursor: tuple[datetime, int] | None, limit: int) -> list:
    """``limit`` rows of ``query`` in the due order (:func:`due_key`, then id) after ``cursor``,
    read as two index-ordered parts: the cases whose open visit has a due date, walking the
    open visits by due date (``ix_stage_visit_open_due``) until enough cases pass the filters,
    then the cases without one, by id. Ordering by ``due_key()`` itself made PostgreSQL join
    and sort every matching case first (14,863 in progress at 1M cases: 300 ms; now 2 ms)."""
    rows = []
    if cursor is None or cursor[0] < FAR_FUTURE:
        dated = query.where(StageVisit.due_at.is_not(None))
        if cursor is not None:
            value, case_id = cursor
            dated = dated.where(or_(StageVisit.due_at > value,
                                    and_(StageVisit.due_at == value, Feedback.id > case_id)))
        rows = db.session.execute(dated.order_by(StageVisit.due_at, Feedback.id).limit(limit)).all()
    if len(rows) < limit:
        undated = query.where(StageVisit.due_at.is_(None))
        if cursor is not None and cursor[0] >= FAR_FUTURE:
            undated = undated.where(Feedback.id > cursor[1])
        rows += db.session.execute(undated.order_by(Feedback.id).limit(limit - len(rows))).all()
    return rows


def inbox_query(user: User, f: InboxFilter, now: datetime) -> Select:
    """The cases of the list ``f`` describes, in its order, from its cursor on (no limit):
    the same filters and order as the inbox page, for the JSON API."""
    cursor = decode_cursor(f.after) if f.after else None
    query = _base(user, (Feedback, _sort_column(f).label("sort_value")))
    return _ordered(_filtered(query, f, now), f, cursor).options(
        joinedload(Feedback.agency), joinedload(Feedback.field))


def inbox_total(user: User, f: InboxFilter, now: datetime) -> int:
    """How many cases the list ``f`` holds (whatever the cursor)."""
    return db.session.scalar(_filtered(_base(user, (func.count(),), f), f, now))


def changes_cache(name: str = "case-counts", size: int = MarkedCache.SIZE) -> MarkedCache:
    """The cache ``name`` of values over cases (counts, pages): every change of a case writes
    an audit event (the operations layer), so the newest audit event id (one index probe)
    moves whenever any of them may have moved (:func:`_changes_marker`)."""
    return app_cache(name, _changes_marker, size)


_NEWEST_EVENT = select(func.max(AuditEvent.id))
_NEWEST_EVENT_AND_TOKEN = select(func.max(AuditEvent.id), reference.TOKEN)
_MARKER_KEY = "pakn.case_changes_marker"


def _changes_marker() -> Any:
    """The newest audit event id and the reference token (names of agencies and fields shown
    in rows and menus, codes the filters read), in one statement; the rest of the request uses
    that token (:func:`pakn.reference.note_token`), so the inbox's menus and the agency's name
    cost no statement of their own. A GET reads it once for all its cached values (a GET
    changes no case); a request that may change one reads it at every use."""
    if has_request_context() and request.method in ("GET", "HEAD"):
        held = request.environ.get(_MARKER_KEY)
        if held is None:
            held = request.environ[_MARKER_KEY] = _read_changes_marker()
        return held
    return _read_changes_marker()


def _read_changes_marker() -> Any:
    if not reference.migrated():
        return db.session.scalar(_NEWEST_EVENT), None
    newest, token = db.session.execute(_NEWEST_EVENT_AND_TOKEN).one()
    reference.note_token(token)
    return newest, token


#: Published and the final states: they only grow (850,000 of 1,000,000 generated cases over
#: ten years). Their counts stop at :data:`SETTLED_COUNT_LIMIT` and the page says "more than":
#: the office works on the staged cases, and the exact figures of a period are the reports'.
SETTLED_STATES = tuple(key for key in WORKFLOW.states if key not in STAGED_STATES)
#: A settled state's count reads at most this many index entries: the five of them 50,000 entries
#: at 10,000 took 33 ms at 1M cases (load 6.5), at 2,000 a fifth of that.
SETTLED_COUNT_LIMIT = 2000
#: A text search counts at most this many matches and says «Hơn 500 kết quả; thêm từ khoá…»,
#: as the public answer list does: the exact count of a common word ("xay dung": 113,000 of
#: 1,000,000 cases) rechecked every candidate's text (1.7 s); the first 501 matches of a
#: sequential scan take 24 ms, and nobody pages through more than ten pages of a search.
SEARCH_COUNT_LIMIT = 500


@dataclass
class StateCounts:
    """Cases per state under a filter. The states in ``more`` hold more cases than their
    figure (which is the limit); ``search_more``: a text search matched more than
    :data:`SEARCH_COUNT_LIMIT` cases, and there is no figure per state (``counts`` is empty)."""
    counts: dict[str, int]
    more: frozenset[str] = frozenset()
    search_more: bool = False


def state_in(states) -> Any:
    """``state IN (…)`` with the states written into the statement: PostgreSQL uses a partial
    index (``ix_feedback_open_cases``) only for a condition it can prove implies the index's,
    which a prepared statement's parameters never do."""
    return Feedback.state.in_(bindparam(None, list(states), expanding=True, literal_execute=True))


def state_counts(user: User, f: InboxFilter, now: datetime) -> StateCounts:
    """Cases per state under the filter's other conditions (with a text search, under all of
    them), each count bounded whatever the province's size (:func:`count_states`). Cached until
    a case changes, and at most ``COUNT_CACHE_SECONDS`` (the due filters move with the clock)."""
    scope = (True, None) if sees_all_cases(user) else (False, user.agency_id)
    key = ("office-inbox", scope,
           tuple((k, v) for k, v in f.query_args() if k != "sort" and (f.q or k != "state")))
    return changes_cache().get(key, lambda: count_states(user, f, now),
                               current_app.config.get("COUNT_CACHE_SECONDS", 30))


def count_states(user: User, f: InboxFilter, now: datetime) -> StateCounts:
    """The counts of :func:`state_counts`, uncached, as (at 1,000,000 cases, EXPLAIN ANALYZE):

    * the staged states exactly, from the partial index of the cases in their stages (some
      20,000: 9 ms); under a due filter, its open visits (index-only) joined to that index —
      only a staged case has an open visit, so the other states count none;
    * each settled state up to :data:`SETTLED_COUNT_LIMIT` (index-only ranges of the state,
      agency-and-state or field-and-state indexes);
    * with a text search, the states of its first ``SEARCH_COUNT_LIMIT + 1`` matches in one
      statement: exact when there are no more.
    """
    if f.q:
        sample = _filtered(_base(user, (Feedback.state,), f), f, now).limit(SEARCH_COUNT_LIMIT + 1).subquery()
        counts = dict(db.session.execute(select(sample.c.state, func.count()).group_by(sample.c.state)).all())
        if sum(counts.values()) > SEARCH_COUNT_LIMIT:
            return StateCounts({}, search_more=True)
        return StateCounts(counts)

    def matching(*columns) -> Select:
        return _filtered(_base(user, columns, f), f, now, states=False)

    counts = dict(db.session.execute(
        matching(Feedback.state, func.count()).where(state_in(STAGED_STATES)).group_by(Feedback.state)).all())
    if f.due:
        return StateCounts(counts)
    capped = db.session.execute(select(*(
        select(func.count()).select_from(
            matching(literal(1)).where(Feedback.state == state).limit(SETTLED_COUNT_LIMIT + 1).subquery())
        .scalar_subquery().label(state) for state in SETTLED_STATES))).one()
    more = set()
    for state, n in zip(SETTLED_STATES, capped):
        if n > SETTLED_COUNT_LIMIT:
            counts[state] = SETTLED_COUNT_LIMIT
            more.add(state)
        elif n:
            counts[state] = n
    return StateCounts(counts, frozenset(more))


def next_case(user: User, f: InboxFilter, current: Feedback, now: datetime) -> Feedback | None:
    """The case after ``current`` in the list ``f`` describes (one click to the next case)."""
    if f.sort == "due_asc":
        visit = db.session.scalar(select(StageVisit).where(
            StageVisit.feedback_id == current.id, StageVisit.finished_at.is_(None)))
        value = visit.due_at if visit and visit.due_at else FAR_FUTURE
    else:
        value = current.received_at
    query = _base(user, (Feedback,))
    query = _ordered(_filtered(query, f, now), f, (value, current.id)).limit(1)
    return db.session.scalar(query)


def urgency(visit: StageVisit | None, now: datetime) -> str:
    """A CSS class for a due date: overdue, today, soon (within 2 days), ok, or none."""
    if visit is None or visit.finished_at is not None:
        return "none"
    return _urgency(visit.due_at, visit.due_date, now)


def _urgency(due_at: datetime | None, due_date: date | None, now: datetime) -> str:
    """:func:`urgency` of an open visit due at ``due_at`` (local day ``due_date``)."""
    if due_at is None:
        return "none"
    if due_at < now:
        return "overdue"
    today = now.astimezone(TZ).date()
    if due_date == today:
        return "today"
    if due_date is not None and due_date <= today + timedelta(days=2):
        return "soon"
    return "ok"


URGENCY_LABELS = {"overdue": N_("Quá hạn"), "today": N_("Hạn hôm nay"), "soon": N_("Sắp đến hạn"),
                  "ok": N_("Trong hạn"), "none": ""}


def office_clerks() -> list[User]:
    from workflows.glossary import OFFICE_ROLES

    return list(db.session.scalars(select(User).where(User.active.is_(True), User.role.in_(OFFICE_ROLES))
                                   .order_by(User.full_name)))


def choices() -> dict[str, Any]:
    """Options of the filter and bulk forms: the agencies' and fields' menus rendered once per
    change of those tables (:func:`menus`), the clerks as rows (no ORM objects)."""
    from workflows.glossary import OFFICE_ROLES

    return {
        "states": list(WORKFLOW.states.values()), "menus": menus(),
        "clerks": db.session.execute(select(User.id, User.full_name).where(
            User.active.is_(True), User.role.in_(OFFICE_ROLES)).order_by(User.full_name)).all(),
    }


@dataclass(frozen=True)
class Menu:
    """A select's options, each rendered once unselected and once selected (the ``option``
    macro of office/_macros.html): a page joins strings instead of rendering ~100 options."""
    options: tuple[tuple[str, Markup, Markup], ...]

    def html(self, *selected: str | None) -> Markup:
        """The options, those whose value is among ``selected`` marked selected."""
        return Markup("".join(on if value in selected else off for value, off, on in self.options))

    @classmethod
    def of(cls, pairs) -> Menu:
        """The menu of (value, label) ``pairs``, in their order."""
        option = get_template_attribute("office/_macros.html", "option")
        return cls(tuple((value, option(value, label, False), option(value, label, True)) for value, label in pairs))


def menus() -> dict[str, Menu]:
    """The inbox's agency and field menus (filter and bulk forms), kept per process until an
    agency or a field changes (:mod:`pakn.reference`'s token; names are data, not translated,
    so one set serves every language)."""
    return reference.cached("office-inbox-menus", _load_menus)


def _load_menus() -> dict[str, Menu]:
    agencies = db.session.execute(select(Agency.code, Agency.name, Agency.short_name, Agency.is_office)
                                  .where(Agency.active.is_(True)).order_by(Agency.name)).all()
    fields = db.session.execute(select(Field.code, Field.name).where(Field.active.is_(True))
                                .order_by(Field.name)).all()
    return {"agencies": Menu.of((a.code, a.short_name or a.name) for a in agencies),
            "forward_agencies": Menu.of((a.code, a.name) for a in agencies if not a.is_office),
            "fields": Menu.of((x.code, x.name) for x in fields)}


_LABELS: dict[str, tuple[Any, dict[str, Any]]] = {}


def labels() -> dict[str, Any]:
    """The inbox's labels in the request's language (states, channels, urgencies, the filter
    form's options), translated once per catalog Flask-Babel loads (a new catalog object, e.g.
    after its cache is cleared, translates them again): a page of 50 rows would otherwise
    translate some 300 strings on every request."""
    locale, catalog = str(get_locale()), get_translations()
    held = _LABELS.get(locale)
    if held is None or held[0] is not catalog:
        held = _LABELS[locale] = (catalog, _translated_labels())
    return held[1]


def _translated_labels() -> dict[str, Any]:
    labels = {
        "states": {key: gettext(state.label) for key, state in WORKFLOW.states.items()},
        "channels": {key: gettext(label) for key, label in Channel.choices()},
        "kinds": [(key, gettext(label)) for key, label in Kind.choices()],
        "dues": {key: gettext(label) for key, label in DUE_FILTERS.items()},
        "sorts": {key: gettext(label) for key, label in SORTS.items()},
        "urgency": {key: gettext(label) if label else "" for key, label in URGENCY_LABELS.items()},
        "subjects": [(key, gettext(label)) for key, label in Subject.choices()],
        "categories": [(key, gettext(label)) for key, label in ContentCategory.choices()],
        "select": gettext("Chọn %(code)s"),  # %(code)s filled per row
    }
    # The filter and bulk forms' fixed menus, rendered with the labels (as the agencies' are).
    env = current_app.jinja_env
    labels["menus"] = {
        "states": Menu.of(labels["states"].items()), "dues": Menu.of(labels["dues"].items()),
        "channels": Menu.of(labels["channels"].items()), "kinds": Menu.of(labels["kinds"]),
        "sorts": Menu.of(labels["sorts"].items()), "subjects": Menu.of(labels["subjects"]),
        "categories": Menu.of((k, f"{k}. {do_truncate(env, label, 50)}")
                              for k, label in labels["categories"]),
    }
    return labels


class RowView(NamedTuple):
    """One row of office/inbox.html, each cell the text it shows. Built in Python once per
    row: the template's filters, label look-ups and formats per cell were most of a page's
    rendering (50 rows × 9 cells)."""
    code: str
    version: int
    select_label: str
    link: str
    received: str
    channel: str
    title: str
    field_name: str
    agency_name: str
    state: str
    urgency: str
    due_iso: str
    due_text: str
    urgency_label: str


def row_views(rows: list[InboxRow], labels: dict[str, Any], link) -> list[RowView]:
    """The cells of ``rows`` as office/inbox.html showed them with its filters (``localdate``,
    ``truncate(90)``, ``format``), in the request's language (``labels``); ``link``: see
    :func:`case_links`."""
    env = current_app.jinja_env
    channels, states, urgency, select_label = labels["channels"], labels["states"], labels["urgency"], labels["select"]
    return [RowView(r.code, r.version, select_label % {"code": r.code}, link(r.code), localdate(r.received_at),
                    channels[r.channel], do_truncate(env, r.title, 90), r.field_name, r.agency_name, states[r.state],
                    r.urgency, r.due_at.isoformat() if r.due_at else "",
                    r.due_date.strftime("%d/%m/%Y") if r.due_at else "", urgency[r.urgency])
            for r in rows]


#: Case codes are PAKN-2026-000123: nothing in them is quoted in a URL path.
_PLAIN_CODE = re.compile(r"[A-Za-z0-9-]+")
_CODE_SLOT = "0CODE0"


def code_links(endpoint: str, **values):
    """``link(code)``: the URL of ``endpoint`` for a case code (and ``values``), as ``url_for``
    builds it, with the route built once per page instead of once per row."""
    template = url_for(endpoint, code=_CODE_SLOT, **values)

    def link(code: str) -> str:
        if _PLAIN_CODE.fullmatch(code):
            return template.replace(_CODE_SLOT, code, 1)  # the path comes before the query
        return url_for(endpoint, code=code, **values)
    return link


def case_links(list_qs: str):
    """``link(code)``: the office case page's URL carrying the list ``list_qs``."""
    return code_links("office.case_page", list=list_qs or None)
