"""Periodic reports and plans as JSON: the same figures as ``/reports/`` and ``/plans/``.

The report comes from :func:`pakn.reports.stats.compute` and the plan dashboard from
:func:`pakn.plans.dashboard.dashboard`, so the JSON and the pages cannot disagree.
"""
from __future__ import annotations

from flask_babel import gettext
from marshmallow import RAISE, Schema, fields, validate

from ..models.types import MAX_ID
from .base import Instant, OutputSchema

_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"},
           "description": "Column key (see ``columns``) → count."}
_NAMED = {"type": "object", "nullable": True,
          "properties": {"id": {"type": "integer"}, "name": {"type": "string", "nullable": True}}}


class ReportColumnSchema(OutputSchema):
    key = fields.String(required=True)
    group = fields.String(required=True)
    group_label = fields.String(required=True)
    label = fields.String(required=True)


class ReportRowSchema(OutputSchema):
    field = fields.Function(lambda r: {"id": r.field_id, "name": r.field} if r.field_id is not None else None,
                            metadata=_NAMED)
    values = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True, metadata=_COUNTS)


class ReportBlockSchema(OutputSchema):
    agency = fields.Function(lambda b: {"id": b.agency_id, "name": b.agency}, metadata=_NAMED)
    total = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True, metadata=_COUNTS)
    rows = fields.List(fields.Nested(ReportRowSchema), required=True)


class ReasonSchema(OutputSchema):
    code = fields.String(required=True)
    label = fields.String(required=True)
    count = fields.Integer(required=True)


class ScopeSchema(OutputSchema):
    agency = fields.Dict(allow_none=True, metadata={
        "type": "object", "nullable": True, "description": "None: the consolidated provincial report.",
        "properties": {"id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"}}})
    label = fields.String(required=True)


class FilingSchema(OutputSchema):
    filed_at = Instant(required=True)
    figures = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata=_COUNTS)


class ReportSchema(OutputSchema):
    """One report: the period and window, the scope, the columns, the figures."""

    year = fields.Integer(required=True)
    period = fields.String(required=True, metadata={"enum": ["Q1", "Q2", "Q3", "Y"]})
    title = fields.String(required=True)
    window_start = fields.Date(required=True)
    window_last_day = fields.Date(required=True)
    as_of = Instant(required=True)
    due_date = fields.Date(required=True, metadata={"description": "Exclusive: the report is due before it."})
    scope = fields.Nested(ScopeSchema, required=True)
    columns = fields.List(fields.Nested(ReportColumnSchema), required=True)
    total = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True, metadata=_COUNTS)
    blocks = fields.List(fields.Nested(ReportBlockSchema), required=True)
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)
    filing = fields.Nested(FilingSchema, allow_none=True)


class ReportQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    agency = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID), metadata={
        "description": "An agency's id (office staff only; agency staff always get their own). "
                       "Without it the office gets the consolidated report."})


# -- plans -----------------------------------------------------------------------------------
class DueSchema(OutputSchema):
    before = fields.Date(required=True, metadata={"description": "Exclusive."})
    label = fields.String(required=True)
    met = fields.Boolean(allow_none=True)
    detail = fields.String(required=True)


class PlanTaskSchema(OutputSchema):
    """A task of a plan with its dashboard figures (None for group headings)."""

    id = fields.Integer(required=True)
    number = fields.String(required=True)
    label = fields.String(required=True)
    appendix = fields.Integer(required=True)
    part = fields.Integer(required=True)
    parent_id = fields.Integer(allow_none=True)
    is_group = fields.Boolean(required=True)
    heading = fields.String(allow_none=True)
    content = fields.String(required=True)
    lead_units = fields.String(allow_none=True)
    cooperating_units = fields.String(allow_none=True)
    timeframe = fields.String(allow_none=True)
    timeframe_kind = fields.String(allow_none=True)
    expected_product = fields.String(allow_none=True)
    binding = fields.String(allow_none=True)
    binding_label = fields.Method("get_binding_label", metadata={"type": "string", "nullable": True})
    figures = fields.Method("get_figures", metadata={"type": "object", "nullable": True, "properties": {
        "stages": {"type": "array", "items": {"type": "string"}}, "handled": {"type": "integer"},
        "on_time": {"type": "integer"}, "on_time_rate": {"type": "number", "nullable": True},
        "overdue_now": {"type": "integer"}, "entered": {"type": "integer"},
        "next_due": {"allOf": [{"$ref": "#/components/schemas/Due"}], "nullable": True},
        "last_due": {"allOf": [{"$ref": "#/components/schemas/Due"}], "nullable": True}}})

    def get_binding_label(self, task) -> str | None:
        from ..plans.binding import BINDING_LABELS

        return gettext(BINDING_LABELS[task.binding]) if task.binding in BINDING_LABELS else None

    def __init__(self, rows: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rows = rows or {}  # task id → its dashboard row (pakn.plans.dashboard.TaskRow)

    def get_figures(self, task) -> dict | None:
        row = self.rows.get(task.id)
        if row is None:
            return None
        due = DueSchema()
        return {"stages": list(row.stages), "handled": row.handled, "on_time": row.on_time,
                "on_time_rate": row.on_time_rate, "overdue_now": row.overdue_now, "entered": row.entered,
                "next_due": due.dump(row.next_due) if row.next_due else None,
                "last_due": due.dump(row.last_due) if row.last_due else None}


class PlanSummarySchema(OutputSchema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    title = fields.String(required=True)
    issuer = fields.String(allow_none=True)
    issued_on = fields.Date(allow_none=True)
    year = fields.Integer(allow_none=True)
    in_force = fields.Boolean(required=True)
    task_count = fields.Function(lambda p: sum(1 for t in p.tasks if not t.is_group), metadata={"type": "integer"})


class PlanSchema(PlanSummarySchema):
    """A plan, its tasks and the dashboard figures of the window."""

    window_start = fields.Method("get_window_start", metadata={"type": "string", "format": "date"})
    window_last_day = fields.Method("get_window_last_day", metadata={"type": "string", "format": "date"})
    window_label = fields.Method("get_window_label", metadata={"type": "string"})
    tasks = fields.Method("get_tasks", metadata={"type": "array", "items": {"$ref": "#/components/schemas/PlanTask"}})

    def __init__(self, rows: dict | None = None, window: tuple | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rows = rows or {}
        self.window = window or (None, None, "")  # (first day, last day, label)

    def get_window_start(self, plan) -> str | None:
        return self.window[0].isoformat() if self.window[0] else None

    def get_window_last_day(self, plan) -> str | None:
        return self.window[1].isoformat() if self.window[1] else None

    def get_window_label(self, plan) -> str:
        return self.window[2]

    def get_tasks(self, plan) -> list[dict]:
        return PlanTaskSchema(self.rows, many=True).dump(plan.tasks)


class PlanQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))
    quarter = fields.Integer(load_default=None, validate=validate.Range(min=1, max=4))
