"""Marshmallow schemas of the API, one module per resource, with per-role views.

Importing this package makes marshmallow's built-in messages Vietnamese (see
:mod:`pakn.schemas.base`), so every 422 — of the API and of the payload schemas the
operations layer loads — carries Vietnamese msgids.
"""
from . import base  # noqa: F401  (localizes marshmallow's messages at import)
from .action import ActionsSchema, actions_view, describe_payload, refusal_message
from .case import CaseDetailSchema, CaseQuerySchema, CaseSummarySchema, detail_schema_for
from .feedback import CitizenCaseSchema, Receipt, ReceiptSchema
from .token import TokenRequestSchema, TokenSchema

__all__ = [
    "ActionsSchema",    "CaseDetailSchema", "CaseQuerySchema", "CaseSummarySchema", "CitizenCaseSchema", "Receipt",
    "ReceiptSchema", "TokenRequestSchema", "TokenSchema", "actions_view", "describe_payload",
    "detail_schema_for", "refusal_message",
]
