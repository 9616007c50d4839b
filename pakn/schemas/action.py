"""The actions a user may take on a case now, each with its payload described as JSON.

The description is derived from the transition's marshmallow schema class, so a client
(the console, another system) can build its form without a copy of the rules.
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext
from marshmallow import Schema, fields, validate

from workflows import payloads
from workflows.engine import Availability, Refusal
from workflows.glossary import AnswerOutcome, Channel, ContentCategory, Kind, RejectReason, Subject

from .base import OutputSchema, coded_label, state_label

#: Glossary enums: a OneOf over exactly their codes gets their labels in the description.
_CODED = (Kind, Subject, ContentCategory, Channel, RejectReason, AnswerOutcome)
#: Payload fields that hold a reference rather than free data: what they refer to, by which key.
REFERENCES = {"agency": "agency.code", "suggested_agency": "agency.code", "field": "field.code",
              "duplicate_of": "feedback.code", "assignee": "user.id"}


def _type_of(field: fields.Field) -> dict[str, str]:
    """JSON type (and format) of a marshmallow field; order matters (subclasses first)."""
    if isinstance(field, fields.Boolean):
        return {"type": "boolean"}
    if isinstance(field, fields.Integer):
        return {"type": "integer"}
    if isinstance(field, fields.Number):
        return {"type": "number"}
    if isinstance(field, fields.Date):
        return {"type": "string", "format": "date"}
    if isinstance(field, fields.DateTime):
        return {"type": "string", "format": "date-time"}
    if isinstance(field, fields.Email):
        return {"type": "string", "format": "email"}
    if isinstance(field, payloads.Phone):
        return {"type": "string", "format": "phone"}
    if isinstance(field, fields.List):
        return {"type": "array"}
    if isinstance(field, (fields.Dict, fields.Nested)):
        return {"type": "object"}
    return {"type": "string"}


def describe_field(name: str, field: fields.Field) -> dict[str, Any]:
    """One field: name, type, required, nullable, length limits, choices with labels."""
    out: dict[str, Any] = {"name": name, **_type_of(field), "required": bool(field.required),
                           "nullable": bool(field.allow_none)}
    if isinstance(field, payloads.Text):
        out.update(min_length=field.min_length, max_length=field.max_length, multiline=field.multiline)
    for v in field.validators:
        if isinstance(v, validate.Length):
            if v.min is not None:
                out["min_length"] = v.min
            if v.max is not None:
                out["max_length"] = v.max
        elif isinstance(v, validate.OneOf):
            choices = [str(c) for c in v.choices]
            out["choices"] = choices
            enum = next((e for e in _CODED if e.codes() == choices), None)
            if enum is not None:
                out["choice_labels"] = {c: coded_label(enum, c) for c in choices}
        elif isinstance(v, validate.Range):
            if v.min is not None:
                out["minimum"] = v.min
            if v.max is not None:
                out["maximum"] = v.max
    if name in REFERENCES:
        out["refers_to"] = REFERENCES[name]
    return out


def describe_payload(schema_cls: type[Schema] | None) -> dict[str, Any]:
    """The payload a transition takes, as JSON: its fields and whether others are refused."""
    if schema_cls is None:
        return {"fields": [], "unknown": "raise"}
    schema = schema_cls()
    described = [describe_field(f.data_key or name, f) for name, f in schema.load_fields.items()]
    return {"fields": described, "unknown": schema.unknown}


def refusal_message(refusal: Refusal) -> str:
    """The message of an engine refusal or an operations error (anything with ``message`` and
    ``params``) in the request's language, its parameters (labels: msgids too) translated."""
    params = {k: gettext(v) if isinstance(v, str) else v for k, v in refusal.params.items()}
    return gettext(refusal.message, **params) if params else gettext(refusal.message)


class AvailableActionSchema(OutputSchema):
    """A trigger the user may fire now."""

    trigger = fields.String(attribute="transition.trigger")
    label = fields.Function(lambda a: gettext(a.transition.label), metadata={"type": "string"})
    target = fields.String(attribute="transition.target", allow_none=True)
    target_label = fields.Function(lambda a: state_label(a.transition.target),
                                   metadata={"type": "string", "nullable": True})
    payload = fields.Function(lambda a: describe_payload(a.transition.schema), metadata={
        "type": "object", "description": "The payload's fields (name, type, required, limits, choices)."})


class RefusedActionSchema(OutputSchema):
    """A trigger the user may not fire now, and why."""

    trigger = fields.String(attribute="transition.trigger")
    label = fields.Function(lambda a: gettext(a.transition.label), metadata={"type": "string"})
    reason = fields.Function(lambda a: {"code": a.refusal.code, "kind": a.refusal.kind.value,
                                        "message": refusal_message(a.refusal)})


def actions_view(case, availabilities: list[Availability]) -> dict[str, Any]:
    """The body of ``GET /cases/<code>/actions``."""
    return {
        "code": case.code, "state": case.state, "state_label": state_label(case.state),
        "version": case.version,
        "available": AvailableActionSchema(many=True).dump([a for a in availabilities if a.allowed]),
        "refused": RefusedActionSchema(many=True).dump([a for a in availabilities if not a.allowed]),
    }


class ActionsSchema(OutputSchema):
    """``GET /cases/<code>/actions`` (built by :func:`actions_view`; for the description)."""

    code = fields.String(required=True)
    state = fields.String(required=True)
    state_label = fields.String(required=True)
    version = fields.Integer(required=True)
    available = fields.List(fields.Nested(AvailableActionSchema), required=True)
    refused = fields.List(fields.Nested(RefusedActionSchema), required=True)
