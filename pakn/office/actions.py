"""Firing a trigger from the console: one transaction per case, and the forwarding
document generated with the forward (so the agency's notice can reference it)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext

from workflows.pakn import WORKFLOW

from ..extensions import db
from ..models import Feedback
from ..operations import InvalidPayload, OperationError, StaleVersion, apply_transition, transaction
from ..operations.assignment import assign_clerk
from ..schemas.action import refusal_message
from .forms import field_errors


@dataclass
class Outcome:
    """What happened to one case: ``ok``, or the message (and field errors) of the refusal."""

    case: Feedback
    ok: bool
    message: str = ""
    fields: dict | None = None
    stale: bool = False


def error_message(err: OperationError) -> str:
    return refusal_message(err)


def stale_message(case: Feedback) -> str:
    return gettext("Hồ sơ %(code)s vừa được người khác cập nhật: trạng thái hiện tại là «%(state)s» "
                   "(phiên bản %(version)s). Thao tác của bạn chưa được thực hiện; "
                   "hãy xem lại hồ sơ trước khi thao tác tiếp.",
                   code=case.code, state=gettext(WORKFLOW.states[case.state].label), version=case.version)


def after_transition(case: Feedback, trigger: str, actor) -> None:
    """Products of a transition made in the same transaction (the forwarding document)."""
    if trigger == "forward":
        from .documents import attach_forwarding_document

        attach_forwarding_document(case, actor)


def fire(case: Feedback, trigger: str, actor, payload: dict[str, Any], version: int | None) -> Outcome:
    """Fire ``trigger`` on ``case`` in its own transaction; never raises an OperationError."""
    try:
        with transaction():
            apply_transition(case, trigger, actor, payload, expected_version=version)
            after_transition(case, trigger, actor)
    except StaleVersion:
        db.session.expire(case)
        return Outcome(case, False, stale_message(case), stale=True)
    except InvalidPayload as err:
        return Outcome(case, False, error_message(err), field_errors(err.fields))
    except OperationError as err:
        return Outcome(case, False, error_message(err))
    return Outcome(case, True)


def assign(case: Feedback, clerk, actor, version: int | None) -> Outcome:
    """Assign an office clerk to ``case`` in its own transaction; never raises an OperationError."""
    try:
        with transaction():
            assign_clerk(case, clerk, actor, expected_version=version)
    except StaleVersion:
        db.session.expire(case)
        return Outcome(case, False, stale_message(case), stale=True)
    except InvalidPayload as err:
        fields = field_errors(err.fields)
        return Outcome(case, False, " ".join(m for msgs in fields.values() for m in msgs), fields)
    except OperationError as err:
        return Outcome(case, False, error_message(err))
    return Outcome(case, True)
