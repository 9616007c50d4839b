"""The selects behind the agency portal, always built on :func:`pakn.access.visible_cases`.

Every list, count, search and export starts from the user's visible cases, so an agency
never reads a row of another agency: a case moved elsewhere (returned as not competent,
forwarded again) drops out of every view at the next request.

Inbox views (``view=``): what an agency works on, with the legal answer clock
(``Feedback.answer_due_at``, which keeps running across returns) as the urgency:

* ``open`` every case the agency is handling (the default);
* ``new`` forwarded, not yet accepted; ``mine`` assigned to me and still open;
* ``approval`` drafts waiting for the lead; ``returned`` answers the office returned;
* ``info`` waiting for the submitter's reply to our request for more information;
* ``due_soon`` open and due within ``AGENCY_DUE_SOON_DAYS``; ``overdue`` open and past due;
* ``done`` answered (the office checks, notifies, publishes); ``all`` everything.

Paging is keyset paging (no OFFSET): open views run by due date, oldest first; ``done``
and ``all`` by receipt, newest first. The cursor is the last row's sort value and id.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, NamedTuple

from flask import current_app, url_for
from sqlalchemy import Select, and_, func, literal, or_, select

from workflows.engine import N_
from workflows.pakn import HANDLING

from ..access import visible_cases
from ..extensions import db
from ..models import Answer, Feedback, User
from ..text import like_pattern
from ..web.filters import localdate
from .progress import last_progress_updates

PAGE_SIZE = 25
#: What an inbox row shows (agency/inbox.html) and its cursor needs: the page leaves the texts
#: (content, proposal, the folded search copies, kilobytes per case) in the database.
ROW_COLUMNS = (Feedback.id, Feedback.code, Feedback.title, Feedback.state, Feedback.agency_id,
               Feedback.assignee_id, Feedback.received_at, Feedback.answer_due_at, Feedback.info_requested_at,
               Feedback.version)
#: Largest export, rows (a CSV of one agency's cases; far above any agency's yearly volume).
EXPORT_LIMIT = 10000


def _latest_answer_status():
    return (select(Answer.status).where(Answer.feedback_id == Feedback.id)
            .order_by(Answer.revision.desc()).limit(1).scalar_subquery())


def _open(q: Select, user: User, now: datetime) -> Select:
    return q.where(Feedback.state.in_(HANDLING))


def _due_soon(q: Select, user: User, now: datetime) -> Select:
    horizon = now + timedelta(days=current_app.config["AGENCY_DUE_SOON_DAYS"])
    return _open(q, user, now).where(Feedback.answer_due_at >= now, Feedback.answer_due_at < horizon)


@dataclass(frozen=True)
class View:
    key: str
    label: str
    where: Callable[[Select, User, datetime], Select]
    newest_first: bool = False  # False: by answer due date, oldest first


VIEWS: dict[str, View] = {v.key: v for v in [
    View("open", N_("Đang xử lý"), _open),
    View("new", N_("Mới chuyển đến"), lambda q, u, now: q.where(Feedback.state == "forwarded")),
    View("mine", N_("Giao cho tôi"), lambda q, u, now: _open(q, u, now).where(Feedback.assignee_id == u.id)),
    View("due_soon", N_("Sắp đến hạn"), _due_soon),
    View("overdue", N_("Quá hạn"), lambda q, u, now: _open(q, u, now).where(Feedback.answer_due_at < now)),
    View("returned", N_("Văn phòng trả lại"),
         lambda q, u, now: q.where(Feedback.state == "in_progress", _latest_answer_status() == "returned")),
    View("approval", N_("Chờ lãnh đạo duyệt"),
         lambda q, u, now: q.where(Feedback.state == "draft_pending_approval")),
    View("info", N_("Chờ người gửi bổ sung"),
         lambda q, u, now: _open(q, u, now).where(Feedback.info_requested_at.is_not(None))),
    View("done", N_("Đã trả lời"), lambda q, u, now: q.where(Feedback.state.not_in(HANDLING)),
         newest_first=True),
    View("all", N_("Tất cả"), lambda q, u, now: q, newest_first=True),
]}
DEFAULT_VIEW = "open"


def filtered(user: User, view: View, text: str | None, now: datetime, *, text_index: bool = True) -> Select:
    """The user's visible cases in ``view``, matching ``text`` (diacritics-insensitive).

    ``text_index=False`` tests the text on the agency's own rows instead of the province's
    trigram index: for a common word that index's bitmap covers half the province before it
    is intersected with the agency's few thousand cases ("giay phep": 0.6 s of a 0.9 s count
    at 1,000,000 cases; reading the agency's rows until the count's limit: 14–86 ms)."""
    query = view.where(visible_cases(user), user, now)
    text = (text or "").strip()
    if text:
        searched = Feedback.search_text if text_index else Feedback.search_text + ""
        query = query.where(searched.like(like_pattern(text), escape="\\"))
    return query


def _sort_column(view: View):
    return Feedback.received_at if view.newest_first else Feedback.answer_due_at


def ordered(query: Select, view: View) -> Select:
    col = _sort_column(view)
    if view.newest_first:
        return query.order_by(col.desc(), Feedback.id.desc())
    return query.order_by(col.asc(), Feedback.id.asc())


class BadCursor(ValueError):
    """The ``after`` parameter is not a cursor this portal made."""


def encode_cursor(view: View, case: Feedback) -> str:
    value = getattr(case, _sort_column(view).key)
    return f"{value.isoformat()}_{case.id}"


def decode_cursor(raw: str) -> tuple[datetime, int]:
    instant, sep, ident = raw.rpartition("_")
    try:
        value = datetime.fromisoformat(instant)
        if not sep or value.tzinfo is None:
            raise ValueError
        return value, int(ident)
    except ValueError:
        raise BadCursor(raw) from None


#: Pages kept per web process (each ≤ 26 rows of short columns).
PAGE_CACHE_SIZE = 64


@dataclass(frozen=True)
class Page:
    """One page of a view as read from the database: plain rows (the :data:`ROW_COLUMNS` and
    ``assignee_name``), the last progress update of each case being handled, the next page's
    cursor, and until when the page holds if no case changes (the views read the clock)."""
    rows: list
    last_progress: dict[int, datetime]
    next_cursor: str | None
    valid_until: datetime


def page(user: User, view: View, text: str | None, after: str | None, now: datetime) -> Page:
    """One page of the view after the cursor ``after``, kept per process like the office's
    pages (:func:`pakn.office.inbox.changes_cache`'s marker: until a case or the reference
    data change, at most ``COUNT_CACHE_SECONDS``) and until the clock moves a case into or out
    of the view (:func:`_valid_until`). Raises :class:`BadCursor` for a cursor not made here."""
    from ..office.inbox import changes_cache

    cursor = decode_cursor(after) if after else None

    def compute() -> Page:
        query = ordered(filtered(user, view, text, now), view)
        if cursor is not None:
            value, ident = cursor
            col = _sort_column(view)
            if view.newest_first:
                query = query.where(or_(col < value, and_(col == value, Feedback.id < ident)))
            else:
                query = query.where(or_(col > value, and_(col == value, Feedback.id > ident)))
        query = query.with_only_columns(*ROW_COLUMNS, User.full_name.label("assignee_name")).outerjoin(
            User, User.id == Feedback.assignee_id)
        rows = db.session.execute(query.limit(PAGE_SIZE + 1)).all()
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        return Page(rows, last_progress_updates(rows), encode_cursor(view, rows[-1]) if more and rows else None,
                    _valid_until(user, view, now))

    key = ("agency-page", user.id, user.agency_id, view.key, (text or "").strip(), after)
    return changes_cache("agency-inbox-pages", PAGE_CACHE_SIZE).get(
        key, compute, current_app.config.get("COUNT_CACHE_SECONDS", 30), fresh=lambda held: now < held.valid_until)


def _valid_until(user: User, view: View, now: datetime) -> datetime:
    """Until when ``view`` read at ``now`` keeps its cases if none changes: «overdue» until the
    next of the agency's cases being handled falls due; «due soon» also until a due date enters
    its window; the other views do not read the clock (a row's badges are computed per view)."""
    from ..office.inbox import FAR_FUTURE

    def next_due(after: datetime) -> datetime:
        return db.session.scalar(_open(visible_cases(user), user, now).with_only_columns(
            func.min(Feedback.answer_due_at)).where(Feedback.answer_due_at >= after)) or FAR_FUTURE

    if view.key == "overdue":
        return next_due(now)
    if view.key == "due_soon":
        days = timedelta(days=current_app.config["AGENCY_DUE_SOON_DAYS"])
        return min(next_due(now), next_due(now + days) - days)
    return FAR_FUTURE


class RowView(NamedTuple):
    """One row of agency/inbox.html, each cell the text it shows, built once per row in Python
    (the template's ``url_for``, ``state_label``, ``localdate`` and ``due_badge`` per row were
    most of the page's rendering)."""
    link: str
    code: str
    title: str
    state: str
    info_requested: bool
    update_required: bool
    assignee: str | None
    received: str
    due_iso: str
    due_text: str
    overdue: bool


def row_views(rows: list, statuses: dict, now: datetime) -> list[RowView]:
    """The cells of an inbox page's ``rows`` (:class:`Page`; ``statuses``: :func:`.progress.statuses`),
    in the request's language: the case link as ``url_for`` builds it, with the route built
    once per page; the state labels translated once per catalog."""
    from ..office.inbox import code_links, labels

    states = labels()["states"]
    link = code_links("agency.case_page")
    views = []
    for case in rows:
        due, status = case.answer_due_at, statuses[case.id]
        views.append(RowView(
            link(case.code), case.code, case.title, states.get(case.state), case.info_requested_at is not None,
            bool(status and status.required), case.assignee_name,
            localdate(case.received_at), due.isoformat() if due else "", localdate(due),
            due is not None and case.state in HANDLING and due < now))
    return views


def tab_links(text: str | None) -> dict[str, str]:
    """Each view's tab link with the search ``text``, as ``url_for`` builds it, with the route
    built once."""
    slot = url_for("agency.inbox", view="0VIEW0", q=text or None)
    return {key: slot.replace("0VIEW0", key, 1) for key in VIEWS}


@dataclass
class ViewCounts:
    """How many cases each view holds; the views in ``more`` hold more than their figure
    (the limit), shown as "more than"."""
    counts: dict[str, int]
    more: frozenset[str] = frozenset()


def counts(user: User, text: str | None, now: datetime) -> ViewCounts:
    """How many cases each view holds (with the same search), in the user's scope only.

    The views of the work in hand are counted exactly (an agency's cases being handled: a few
    hundred). ``all`` and ``done`` grow with the years: they count up to
    ``SETTLED_COUNT_LIMIT`` cases, or ``SEARCH_COUNT_LIMIT`` with a search (as the office
    inbox), and ``done`` is ``all`` less ``open`` (every case is in exactly one of the two).
    Cached like the office inbox's counts (until a case changes, at most
    ``COUNT_CACHE_SECONDS``); the key holds the user ("mine") and the agency."""
    from ..office.inbox import SEARCH_COUNT_LIMIT, SETTLED_COUNT_LIMIT, changes_cache

    limit = SEARCH_COUNT_LIMIT if (text or "").strip() else SETTLED_COUNT_LIMIT

    def count(key: str, bounded: bool = False) -> int:
        query = filtered(user, VIEWS[key], text, now, text_index=False).order_by(None)
        if bounded:
            return db.session.scalar(select(func.count()).select_from(
                query.with_only_columns(literal(1)).limit(limit + 1).subquery())) or 0
        return db.session.scalar(query.with_only_columns(func.count(Feedback.id))) or 0

    def compute() -> ViewCounts:
        result = {key: count(key) for key in VIEWS if key not in ("all", "done")}
        more = set()
        result["all"] = count("all", bounded=True)
        if result["all"] <= limit:
            result["done"] = result["all"] - result["open"]
        else:
            result["all"] = limit
            more.add("all")
            result["done"] = count("done", bounded=True)
            if result["done"] > limit:
                result["done"] = limit
                more.add("done")
        return ViewCounts(result, frozenset(more))

    return changes_cache().get(("agency-views", user.id, user.agency_id, (text or "").strip()), compute,
                               current_app.config.get("COUNT_CACHE_SECONDS", 30))


def export_rows(user: User, view: View, text: str | None, now: datetime) -> list[Feedback]:
    return list(db.session.scalars(ordered(filtered(user, view, text, now), view).limit(EXPORT_LIMIT)))


def agency_officers(agency_id: int) -> list[User]:
    """The active staff of an agency, by name: who a case may be assigned to."""
    from workflows.glossary import AGENCY_ROLES

    return list(db.session.scalars(
        select(User).where(User.agency_id == agency_id, User.active.is_(True), User.role.in_(AGENCY_ROLES))
        .order_by(User.full_name, User.id)))
