"""Deadlines as shown to people: a stage visit's due date and the legal answer due date,
each with the Vietnamese explanation of how it was computed."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from flask_babel import gettext
from marshmallow import fields

from workflows.calendar import Deadline, to_local_date
from workflows.engine import N_
from workflows.pakn import WORKFLOW

from ..models import Feedback, StageVisit
from .base import Instant, OutputSchema

ANSWER_LABEL = N_("Thời hạn trả lời người gửi")
#: After these states the submitter's answer clock no longer matters (answered or ended).
ANSWER_CLOCK_STOPPED = ("notified", "published")


def explanation_text(stored: Mapping[str, Any] | None) -> str | None:
    """The explanation paragraph of a stored deadline (``Deadline.as_dict()`` output)."""
    if not stored:
        return None
    if stored.get("paused_working_days"):
        # Moved by a pause for information (workflows.calendar.DueExplanation): its own text.
        return stored.get("explanation")
    try:
        return Deadline.from_dict(stored).explain()
    except (KeyError, ValueError, TypeError):
        # An older or hand-edited row: fall back to the text stored beside it.
        return stored.get("explanation")


def _answer_explanation(case: Feedback) -> str | None:
    """How ``case.answer_due_at`` was computed.

    The handle stage's clock is the answer clock (anchored at receipt), so a handle visit
    explains it; before any forwarding, the same rule is evaluated again and used only if
    it still gives the stored instant (the calendar overlay may have changed since).
    """
    for visit in reversed(case.stage_visits):
        if visit.stage == "handle" and visit.due_at == case.answer_due_at:
            return explanation_text(visit.explanation)
    from ..operations.clock import answer_deadline

    again = answer_deadline(case)
    return again.explain() if again.due_at == case.answer_due_at else None


def _local_day(instant: datetime | None):
    return to_local_date(instant) if instant is not None else None


def case_deadlines(case: Feedback, visit: StageVisit | None, *, internal: bool = False) -> list[dict]:
    """The deadlines running for ``case``: its open stage visit's, then the answer's.

    ``internal`` adds the internal extension record (staff only: an extension is never a
    promise to the submitter).
    """
    result: list[dict] = []
    if visit is not None and visit.due_at is not None:
        stage = WORKFLOW.stages.get(visit.stage)
        entry = {"kind": "stage", "stage": visit.stage, "label": gettext(stage.label) if stage else visit.stage,
                 "due_at": visit.due_at, "due_date": visit.due_date,
                 "explanation": explanation_text(visit.explanation)}
        if internal:
            entry.update(extended_due_at=visit.extended_due_at, extension_reason=visit.extension_reason)
        result.append(entry)
    state = WORKFLOW.states[case.state]
    if case.answer_due_at is not None and not state.final and case.state not in ANSWER_CLOCK_STOPPED:
        result.append({"kind": "answer", "stage": None, "label": gettext(ANSWER_LABEL),
                       "due_at": case.answer_due_at, "due_date": _local_day(case.answer_due_at),
                       "explanation": _answer_explanation(case)})
    return result


class DeadlineSchema(OutputSchema):
    """A deadline for the submitter: when, the local last day, and why."""

    kind = fields.String()  # "stage" or "answer"
    stage = fields.String(allow_none=True)
    label = fields.String()
    due_at = Instant()
    due_date = fields.Date()
    explanation = fields.String(allow_none=True)


class StaffDeadlineSchema(DeadlineSchema):
    """A deadline for staff, with the internal extension record if any."""

    extended_due_at = Instant(allow_none=True)
    extension_reason = fields.String(allow_none=True)
