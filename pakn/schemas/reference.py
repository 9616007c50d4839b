"""Reference data: the fields (lĩnh vực) and agencies (cơ quan) clients choose from."""
from __future__ import annotations

from marshmallow import fields

from .base import OutputSchema


class FieldSchema(OutputSchema):
    """A field (lĩnh vực) by its code."""

    code = fields.String(required=True)
    name = fields.String(required=True)


class AgencySchema(OutputSchema):
    """An agency: the office, a department (sở, ban, ngành) or a commune."""

    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    is_office = fields.Boolean(required=True)
    level = fields.Function(lambda a: a.level.code if a.level is not None else None, allow_none=True,
                            metadata={"type": "string"})
    parent = fields.Function(lambda a: a.parent.code if a.parent is not None else None, allow_none=True,
                             metadata={"type": "string"})
