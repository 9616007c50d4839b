"""The selects behind the staff endpoints, always scoped by :mod:`pakn.access`."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from flask import abort
from sqlalchemy import Select, exists, select
from sqlalchemy.orm import joinedload, selectinload

from ..access import visible_cases
from ..extensions import db
from ..models import Agency, Feedback, StageVisit, User
from ..text import like_pattern


def visible_case(user: User, code: str) -> Feedback:
    """The case ``code`` if ``user`` may see it; 404 otherwise (out of scope looks absent)."""
    case = db.session.scalar(visible_cases(user).where(Feedback.code == code))
    if case is None:
        abort(404)
    return case


def case_list(user: User, params: Mapping[str, Any], now: datetime) -> Select:
    """The cases ``user`` may see, filtered by the loaded ``CaseQuerySchema`` parameters.

    ``overdue``: the open stage visit is past its due instant. ``q``: a substring of the code,
    title, content, proposal or submitter, ignoring case and diacritics ("dat" finds "đất").
    Newest first; every page preloads its agencies and stage visits.
    """
    query = visible_cases(user).options(joinedload(Feedback.agency), selectinload(Feedback.stage_visits))
    if params.get("state"):
        query = query.where(Feedback.state.in_(params["state"]))
    if params.get("agency"):
        query = query.where(Feedback.agency_id == select(Agency.id).where(
            Agency.code == params["agency"]).scalar_subquery())
    if params.get("overdue"):
        query = query.where(exists().where(
            StageVisit.feedback_id == Feedback.id, StageVisit.finished_at.is_(None), StageVisit.due_at < now))
    text = (params.get("q") or "").strip()
    if text:
        query = query.where(Feedback.search_text.like(like_pattern(text), escape="\\"))
    return query.order_by(Feedback.received_at.desc(), Feedback.id.desc())
