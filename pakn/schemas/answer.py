"""Published answers, as the public sees them, and the filters of their search.

The public view reads the published columns only (:data:`pakn.portal.public.PUBLIC_COLUMNS`):
the redacted title, summary and answer the office approved, the field, the agency and the
dates, never a submitter's name, organisation, address, phone or e-mail.
"""
from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from workflows.engine import N_
from workflows.glossary import Kind

from .base import Instant, OutputSchema, coded_label

MAX_PER_PAGE = 100
#: The agency and field of a published answer, as the public sees them.
_NAMED = {"type": "object", "nullable": True,
          "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}


class PublicAnswerSchema(OutputSchema):
    """One published answer (a row of :func:`pakn.portal.public.published_after`)."""

    code = fields.String(required=True)
    kind = fields.String(required=True)
    kind_label = fields.Function(lambda r: coded_label(Kind, r.kind), metadata={"type": "string"})
    title = fields.String(attribute="public_title", required=True)
    summary = fields.String(attribute="public_summary", required=True)
    answer = fields.String(attribute="public_answer", required=True)
    field = fields.Function(lambda r: {"code": r.field_code, "name": r.field_name} if r.field_code else None,
                            metadata=_NAMED)
    agency = fields.Function(lambda r: {"code": r.agency_code, "name": r.agency_name} if r.agency_code else None,
                             metadata=_NAMED)
    received_at = Instant(required=True)
    answered_at = Instant(allow_none=True)
    published_at = Instant(required=True)


class PublicAnswerQuerySchema(Schema):
    """``GET /answers`` parameters; an unknown parameter is refused, not ignored."""

    class Meta:
        unknown = RAISE

    q = fields.String(load_default="", validate=validate.Length(max=200),
                      metadata={"description": "Words of the published text; case and diacritics ignored."})
    field = fields.String(load_default="", validate=validate.Length(max=50))
    agency = fields.String(load_default="", validate=validate.Length(max=50))
    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))
    kind = fields.String(load_default="", validate=validate.OneOf(["", *Kind.codes()]))
    after = fields.String(load_default=None, validate=validate.Length(max=200),
                          metadata={"description": "The ``next_cursor`` of the previous page."})
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))

    @validates("after")
    def _cursor(self, value: str | None, **kwargs) -> None:
        from ..office.inbox import decode_cursor

        if value is not None and decode_cursor(value) is None:
            raise ValidationError(N_("Vị trí trang không hợp lệ."))
