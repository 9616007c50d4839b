"""Who may see what: the ``can_*`` predicates and the scoped queries views use.

An agency sees only the cases it is responsible for; the office and admins see all.
Anything out of scope is answered as if it did not exist (404), never 403.
"""
from __future__ import annotations

from sqlalchemy import Select, select

from workflows.glossary import OFFICE_ROLES, Role

from .models import Feedback, User


def sees_all_cases(user: User) -> bool:
    return user.role in OFFICE_ROLES or user.role == Role.ADMIN


def scope_cases(query: Select, user: User) -> Select:
    """Restrict a select over :class:`Feedback` to the cases ``user`` may see."""
    if sees_all_cases(user):
        return query
    if user.agency_id is None:
        return query.where(False)
    return query.where(Feedback.agency_id == user.agency_id)


def can_view_case(user: User, case: Feedback) -> bool:
    return sees_all_cases(user) or (user.agency_id is not None and case.agency_id == user.agency_id)


def visible_cases(user: User) -> Select:
    return scope_cases(select(Feedback), user)
