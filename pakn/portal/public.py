"""What the public may read: published cases, their search, statistics and public timelines.

Every query here selects published columns only (title, summary, answer, field, agency,
kind, dates, status), never a submitter's name, address, phone or e-mail, and searches
``Feedback.public_search_text`` only (the folded published text), never private fields.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any, Callable

from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import and_, case as sql_case, exists, extract, func, or_, select
from sqlalchemy.orm import aliased

from workflows.calendar import TZ
from workflows.engine import N_

from .. import reference
from ..caching import app_cache
from ..extensions import db
from ..models import Agency, Answer, AuditEvent, Feedback, Field
from ..text import fold, like_pattern

#: The columns a published case shows (and nothing else).
PUBLIC_COLUMNS = (
    Feedback.id, Feedback.code, Feedback.kind, Feedback.public_title, Feedback.public_summary,
    Feedback.public_answer, Feedback.received_at, Feedback.answered_at, Feedback.published_at,
    Feedback.state, Field.code.label("field_code"), Field.name.label("field_name"),
    Agency.code.label("agency_code"), Agency.name.label("agency_name"),
)


def _published():
    return (select(*PUBLIC_COLUMNS)
            .outerjoin(Field, Field.id == Feedback.field_id)
            .outerjoin(Agency, Agency.id == Feedback.agency_id)
            .where(Feedback.published_at.is_not(None)))


def local_year_bounds(year: int) -> tuple[datetime, datetime]:
    start = datetime.combine(date(year, 1, 1), time(0), TZ).astimezone(timezone.utc)
    end = datetime.combine(date(year + 1, 1, 1), time(0), TZ).astimezone(timezone.utc)
    return start, end


def _words_match(query: str):
    """Every word of ``query`` (folded) must appear in the published text."""
    words = fold(query).split()
    return and_(*(Feedback.public_search_text.like(like_pattern(w), escape="\\") for w in words[:10]))


@dataclass
class Filters:
    q: str = ""
    field: str = ""
    agency: str = ""
    year: int | None = None
    kind: str = ""

    def apply(self, query):
        if self.q.strip():
            query = query.where(_words_match(self.q))
        if self.field:
            query = query.where(Field.code == self.field)
        if self.agency:
            query = query.where(Agency.code == self.agency)
        if self.year:
            start, end = local_year_bounds(self.year)
            query = query.where(Feedback.published_at >= start, Feedback.published_at < end)
        if self.kind:
            query = query.where(Feedback.kind == self.kind)
        return query

    def args(self) -> dict[str, Any]:
        return {k: v for k, v in (("q", self.q), ("field", self.field), ("agency", self.agency),
                                  ("year", self.year), ("kind", self.kind)) if v}


def _publication_marker():
    """What a public page about published answers depends on, in one statement: the newest
    publication instant (a publication or a correction sets it) and the reference token
    (a field or an agency renamed, agencies merged: pakn.reference)."""
    return tuple(db.session.execute(select(func.max(Feedback.published_at), reference.TOKEN)).one())


def _cache():
    """Counts and filter menus of the answer list: an entry lives while the marker above is
    unchanged, and at most ``PORTAL_CACHE_SECONDS`` (a safety net, an hour by default)."""
    return app_cache("publications", _publication_marker)


def _cached(key, compute):
    return _cache().get(key, compute, current_app.config.get("PORTAL_CACHE_SECONDS", 3600))


#: Rendered public pages kept per process (about 30 kB each).
PAGE_CACHE_SIZE = 256


def cached_page(render: Callable[[], str]) -> str:
    """The HTML of a public page about published answers, rendered once per process while the
    marker above is unchanged (and at most ``PORTAL_CACHE_SECONDS``), for anonymous visitors
    with no message waiting to be shown.

    What such a page holds depends only on the URL (path and query: filters, page, ``lang``),
    the language shown, which are the key, and the data the marker follows; a signed-in staff
    member's page names them and is always rendered.
    """
    if current_user.is_authenticated or "_flashes" in session:
        return render()
    key = (request.endpoint, request.full_path, str(get_locale()))
    cache = app_cache("publication_pages", _publication_marker, PAGE_CACHE_SIZE)
    return cache.get(key, render, current_app.config.get("PORTAL_CACHE_SECONDS", 3600))


#: A text search counts its matches up to this many (and says "more than"): counting every
#: answer that contains a common word took 0.6–2.2 s over 200,000 cases (bench/RESULTS.md).
SEARCH_COUNT_LIMIT = 1000


def published_page(filters: Filters, page: int, size: int) -> tuple[list, int]:
    """One page of published cases (newest first) and the total count (cached, see above).
    With a search text the count stops at SEARCH_COUNT_LIMIT + 1 (more than the limit)."""
    query = filters.apply(_published())
    counted = query.limit(SEARCH_COUNT_LIMIT + 1) if filters.q.strip() else query
    total = _cached(("count", tuple(sorted(filters.args().items()))),
                    lambda: db.session.scalar(select(func.count()).select_from(counted.subquery())))
    if (page - 1) * size >= total:
        return [], total  # past the last page: no OFFSET scan over the whole list
    rows = db.session.execute(query.order_by(Feedback.published_at.desc(), Feedback.id.desc())
                              .limit(size).offset((page - 1) * size)).all()
    return rows, total


def published_after(filters: Filters, cursor: tuple[datetime, int] | None, limit: int) -> list:
    """Up to ``limit`` published cases (newest first) after the keyset ``cursor``
    (``(published_at, id)`` of the last row seen), for the JSON API's paging."""
    query = filters.apply(_published())
    if cursor is not None:
        at, case_id = cursor
        query = query.where(or_(Feedback.published_at < at, and_(Feedback.published_at == at, Feedback.id < case_id)))
    return db.session.execute(query.order_by(Feedback.published_at.desc(), Feedback.id.desc()).limit(limit)).all()


def published_count(filters: Filters) -> int:
    return db.session.scalar(select(func.count()).select_from(filters.apply(_published()).subquery()))


def published_all(filters: Filters, limit: int | None = None) -> list:
    query = filters.apply(_published()).order_by(Feedback.published_at.desc(), Feedback.id.desc())
    if limit:
        query = query.limit(limit)
    return db.session.execute(query).all()


def published_one(code: str):
    return db.session.execute(_published().where(Feedback.code == code)).first()


def published_years() -> list[int]:
    """The local years with a publication, newest first: one index probe per year between the
    first and the last publication (never a read of every published row)."""
    first, last = db.session.execute(select(func.min(Feedback.published_at), func.max(Feedback.published_at))).one()
    if first is None:
        return []
    years = []
    for year in range(last.astimezone(TZ).year, first.astimezone(TZ).year - 1, -1):
        start, end = local_year_bounds(year)
        if db.session.scalar(select(exists().where(Feedback.published_at >= start, Feedback.published_at < end))):
            years.append(year)
    return years


def _choices() -> dict[str, list]:
    def published_of(column, key):
        return exists().where(column == key, Feedback.published_at.is_not(None))

    fields = db.session.execute(select(Field.code, Field.name).where(published_of(Feedback.field_id, Field.id))
                                .order_by(Field.name)).all()
    agencies = db.session.execute(select(Agency.code, Agency.name)
                                  .where(published_of(Feedback.agency_id, Agency.id)).order_by(Agency.name)).all()
    return {"fields": [tuple(r) for r in fields], "agencies": [tuple(r) for r in agencies],
            "years": published_years()}


def filter_choices() -> dict[str, list]:
    """Fields, agencies and years that have published answers, for the filter menus (cached)."""
    return _cached(("choices",), _choices)


def similar(title: str, content: str, limit: int = 5) -> list:
    """Up to ``limit`` published answers sharing the most word pairs with the draft's text.

    Vietnamese words are mostly one syllable each, so pairs of adjacent syllables ("xay dung",
    "giay phep") carry the meaning; a candidate needs two shared pairs (one for a short draft).
    """
    words = fold(title or "", (content or "")[:400]).split()
    words = ["".join(ch for ch in w if ch.isalnum()) for w in words]
    words = [w for w in words if w]
    pairs: list[str] = []
    for a, b in zip(words, words[1:]):
        pair = f"{a} {b}"
        if pair not in pairs:
            pairs.append(pair)
    pairs = pairs[:20]
    if not pairs:
        return []
    score = sum(sql_case((Feedback.public_search_text.like(like_pattern(p), escape="\\"), 1), else_=0)
                for p in pairs)
    needed = 1 if len(pairs) < 3 else 2
    query = (_published().add_columns(score.label("score")).where(score >= needed)
             .order_by(score.desc(), Feedback.published_at.desc()).limit(limit))
    return db.session.execute(query).all()


# -- statistics -------------------------------------------------------------------------
FINAL_UNANSWERED = ("rejected", "merged", "withdrawn")


def statistics(year: int, now: datetime) -> dict[str, Any]:
    """Received, answered, answered on time and overdue, by agency and by field, for ``year``."""
    start, end = local_year_bounds(year)
    answered = Feedback.answered_at.is_not(None)
    on_time = and_(answered, Feedback.answered_at <= Feedback.answer_due_at)
    overdue_open = and_(Feedback.answered_at.is_(None), Feedback.answer_due_at < now,
                        Feedback.state.not_in(FINAL_UNANSWERED))
    measures = (
        func.count(Feedback.id).label("received"),
        func.sum(sql_case((answered, 1), else_=0)).label("answered"),
        func.sum(sql_case((on_time, 1), else_=0)).label("on_time"),
        func.sum(sql_case((overdue_open, 1), else_=0)).label("overdue_open"),
        func.sum(sql_case((Feedback.published_at.is_not(None), 1), else_=0)).label("published"),
    )
    in_year = and_(Feedback.received_at >= start, Feedback.received_at < end)

    def rows(label_col, join_model, join_on):
        query = (select(label_col.label("name"), *measures).select_from(Feedback)
                 .outerjoin(join_model, join_on).where(in_year).group_by(label_col).order_by(label_col))
        return [dict(r._mapping) for r in db.session.execute(query)]

    totals = dict(db.session.execute(select(*measures).where(in_year)).one()._mapping)
    result = {"year": year, "totals": totals,
              "by_agency": rows(Agency.name, Agency, Agency.id == Feedback.agency_id),
              "by_field": rows(Field.name, Field, Field.id == Feedback.field_id)}
    for row in [totals, *result["by_agency"], *result["by_field"]]:
        for key in ("answered", "on_time", "overdue_open", "published"):
            row[key] = int(row[key] or 0)
        row["rate"] = round(100 * row["on_time"] / row["answered"]) if row["answered"] else None
    return result


# -- the public timeline of one case (for its submitter) --------------------------------
#: Audit actions shown to the submitter, with their public wording; anything else
#: (drafts, approvals, internal returns, extensions, notes) stays internal.
PUBLIC_EVENTS = {
    "receive": N_("Đã tiếp nhận phản ánh, kiến nghị"),
    "receive_on_behalf": N_("Đã tiếp nhận phản ánh, kiến nghị"),
    "request_info": N_("Đề nghị người gửi bổ sung thông tin"),
    "supply_info": N_("Người gửi đã bổ sung thông tin"),
    "reject": N_("Không tiếp nhận"),
    "merge": N_("Đã gộp vào PAKN trùng nội dung"),
    "handle_in_office": N_("Văn phòng UBND tỉnh xử lý theo thẩm quyền"),
    "forward": N_("Đã chuyển xử lý đến cơ quan có thẩm quyền"),
    "accept": N_("Cơ quan đã nhận xử lý"),
    "agency_request_info": N_("Cơ quan xử lý đề nghị người gửi bổ sung thông tin"),
    "supply_info_to_agency": N_("Người gửi đã bổ sung thông tin cho cơ quan xử lý"),
    "return_not_competent": N_("Đang phân loại lại để chuyển đúng cơ quan có thẩm quyền"),
    "post_progress": N_("Cập nhật tiến độ xử lý"),
    "submit_answer": N_("Cơ quan đã có văn bản trả lời"),
    "notify": N_("Đã thông báo kết quả trả lời"),
    "publish": N_("Đã công khai kết quả trả lời"),
    "close": N_("Đã lưu trữ hồ sơ"),
    "withdraw": N_("Người gửi đã rút phản ánh, kiến nghị"),
}
#: Actions whose message is addressed to the submitter and is shown with the event.
MESSAGE_TO_SUBMITTER = {"request_info": "message", "agency_request_info": "message", "post_progress": "message"}


def public_timeline(case: Feedback) -> list[dict[str, Any]]:
    """The case's events the submitter may see: what happened and when, the agency's name
    where one acted — never a staff member's name, never an internal note."""
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.feedback_id == case.id)
                                .order_by(AuditEvent.at, AuditEvent.id)).all()
    agencies = {a.code: a.name for a in db.session.scalars(select(Agency))}
    out = []
    for event in events:
        label = PUBLIC_EVENTS.get(event.action)
        if label is None:
            continue
        item: dict[str, Any] = {"at": event.at, "label": label, "action": event.action}
        data = event.data or {}
        if event.action == "forward":
            item["agency"] = agencies.get(data.get("agency"))
        if event.action == "reject":
            item["detail"] = data.get("guidance")
        if event.action == "merge":
            item["detail_code"] = data.get("duplicate_of")
        if event.action in MESSAGE_TO_SUBMITTER:
            item["detail"] = data.get(MESSAGE_TO_SUBMITTER[event.action])
        out.append(item)
    return out


def delivered_answer(case: Feedback) -> Answer | None:
    """The answer the office accepted and notified to the submitter, once notified."""
    if case.state not in ("notified", "published", "closed"):
        return None
    return db.session.scalar(select(Answer).where(Answer.feedback_id == case.id, Answer.status == "accepted")
                             .order_by(Answer.revision.desc()).limit(1))
