"""Who acts, when it is not a staff account: the submitter holding a tracking token, or the system.

Staff act as their :class:`pakn.models.User` row, which has the same attributes.
"""
from __future__ import annotations

from dataclasses import dataclass

from workflows.glossary import Role


@dataclass(frozen=True)
class SubmitterActor:
    """A citizen or business acting on their own case (tracking token checked by the caller),
    or submitting a new one (``case_id`` None)."""

    case_id: int | None = None
    role: str = Role.SUBMITTER.value
    user_id: None = None
    agency_id: None = None
    label: str = "Người gửi"


@dataclass(frozen=True)
class SystemActor:
    """Scheduled jobs and imports."""

    label: str = "Hệ thống"
    role: str = Role.SYSTEM.value
    user_id: None = None
    agency_id: None = None
