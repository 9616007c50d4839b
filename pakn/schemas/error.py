"""The one error envelope of the API, as a schema (for the OpenAPI description).

Every error the API answers — its own refusals (:mod:`pakn.api.errors`), the operations
layer's and HTTP errors (:mod:`pakn.web.errors`) — has this shape.
"""
from __future__ import annotations

from marshmallow import fields

from .base import OutputSchema


class ErrorSchema(OutputSchema):
    """What went wrong: a stable machine code, a message in the request's language, and the
    per-field messages of a 422 (empty otherwise)."""

    code = fields.String(required=True, metadata={"example": "invalid_payload"})
    message = fields.String(required=True)
    # Only on a 409 for a stale version: what the case is now.
    current_version = fields.Integer(allow_none=True)
    current_state = fields.String(allow_none=True)
    # Declared last: the name shadows marshmallow's ``fields`` module in the class body.
    fields = fields.Dict(keys=fields.String(), required=True,
                         metadata={"description": "Field name → list of messages (nested for lists and objects)."})


class ErrorEnvelopeSchema(OutputSchema):
    """``{"error": {…}}``"""

    error = fields.Nested(ErrorSchema, required=True)
