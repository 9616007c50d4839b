"""Row ids from outside: ``<int:…>`` in every route, and ``?agency=``-style query arguments,
stop at the largest row id."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

from ..models.types import MAX_ID


class RowNumber(IntegerConverter):
    """``<int:…>`` bounded by :data:`MAX_ID`: a larger number is a 404 like any unknown id,
    where unbounded it reached the database (SQLite cannot bind it, PostgreSQL cannot compare
    it with an ``integer`` column) and gave a 500. Years and other small numbers fit too."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app) -> None:
    """Before any route is added: rules take their converter when they are added to the map."""
    app.url_map.converters["int"] = RowNumber


def row_id(text: str) -> int:
    """``request.args.get(name, type=row_id)``: a row id, or the default when ``text`` is not
    one (werkzeug returns the default on ``ValueError``)."""
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        raise ValueError(text)
    return int(text)
