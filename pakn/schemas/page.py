"""The envelope of every list: the items, the keyset cursor of the next page and its link."""
from __future__ import annotations

from marshmallow import Schema, fields

from .base import OutputSchema


def page_of(item: type[Schema], name: str, *, numbered: bool = False) -> type[Schema]:
    """A list schema named ``name`` holding ``item`` rows (``numbered``: also page numbers)."""
    attrs = {
        "__doc__": f"A page of {item.__name__.removesuffix('Schema')} rows, newest first.",
        "items": fields.List(fields.Nested(item), required=True),
        "total": fields.Integer(required=True, metadata={"description": "Rows under these filters, all pages."}),
        "per_page": fields.Integer(required=True),
        "next_cursor": fields.String(required=True, allow_none=True,
                                     metadata={"description": "Pass as `after` for the next page; null on the last."}),
        "next": fields.String(required=True, allow_none=True, metadata={"description": "The next page's URL."}),
    }
    if numbered:
        attrs["page"] = fields.Integer(allow_none=True, metadata={
            "description": "The page number (null when paging by cursor)."})
    return type(name, (OutputSchema,), attrs)


class ActionResultSchema(OutputSchema):
    """Where a case is after an action: its state and new version (also the ETag)."""

    code = fields.String(required=True)
    state = fields.String(required=True)
    state_label = fields.String(required=True)
    version = fields.Integer(required=True)
