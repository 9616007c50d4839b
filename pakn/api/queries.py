"""The selects behind the staff endpoints, always scoped by :mod:`pakn.access`.

The case list is the office inbox's query (:mod:`pakn.office.inbox`): the same filters,
order and keyset cursor, so a list in the API and in the console hold the same cases.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from flask import abort
from sqlalchemy import Select

from ..access import visible_cases
from ..extensions import db
from ..models import Feedback, User
from ..office.inbox import InboxFilter, inbox_query, inbox_total


def visible_case(user: User, code: str) -> Feedback:
    """The case ``code`` if ``user`` may see it; 404 otherwise (out of scope looks absent)."""
    case = db.session.scalar(visible_cases(user).where(Feedback.code == code))
    if case is None:
        abort(404)
    return case


def inbox_filter(params: Mapping[str, Any]) -> InboxFilter:
    """The inbox filter of the loaded ``CaseQuerySchema`` parameters (newest first)."""
    return InboxFilter(
        states=params.get("state") or [], due=params.get("due") or ("overdue" if params.get("overdue") else None),
        agency=params.get("agency"), field=params.get("field"), channel=params.get("channel"),
        kind=params.get("kind"), date_from=params.get("received_from"), date_to=params.get("received_to"),
        q=(params.get("q") or "").strip(), clerk=params.get("clerk"), after=params.get("after"))


def case_list(user: User, params: Mapping[str, Any], now: datetime) -> Select:
    """The cases ``user`` may see under the loaded ``CaseQuerySchema`` parameters, from the
    cursor on; rows are ``(Feedback, sort_value)``."""
    return inbox_query(user, inbox_filter(params), now)


def case_count(user: User, params: Mapping[str, Any], now: datetime) -> int:
    return inbox_total(user, inbox_filter(params), now)
