"""The OpenAPI 3 description of ``/api/v1``, built from the views and their schemas.

Each view declares what it takes and answers with :func:`operation` (its query, body and
response schemas, the error statuses it can return, who may call it); :func:`build_spec`
turns the blueprint's rules into the description with apispec (Flask plugin for the paths,
marshmallow plugin for the schemas). The generic ``POST /cases/{code}/actions/{trigger}``
is described once per trigger, each with the payload schema of its transition
(``workflows/pakn.py``), so a client sees every action's fields.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Flask
from marshmallow import Schema, fields as ma_fields, validate

from workflows import payloads
from workflows.pakn import WORKFLOW

#: Who may call an operation → its security requirements.
SECURITY = {
    "public": [],
    "staff": [{"bearerToken": []}, {"staffSession": []}],
    "tracking": [{"trackingToken": []}, {"trackingTokenQuery": []}],
    "token": [{"bearerToken": []}],
}
#: What each error status means, for the response descriptions.
ERRORS = {
    400: "Malformed JSON, or a body that is not a JSON object.",
    401: "No credentials, or an unknown, expired or revoked token (`WWW-Authenticate: Bearer`).",
    403: "The token lacks the scope (`insufficient_scope`), or the role may not do this.",
    404: "Unknown, or out of the caller's scope (another agency's case looks absent).",
    409: "Not allowed in the case's state, refused by a rule, or a stale version "
         "(`current_version`, `current_state`).",
    413: "Body too large.",
    415: "Body is not `application/json`.",
    422: "Invalid query or body: messages per field (`error.fields`).",
    428: "The case version is missing (`If-Match` header or `version` field).",
    429: "Too many attempts (`Retry-After`).",
    503: "Storage unavailable.",
}
#: Generic views described once per trigger instead (see :func:`_action_paths`).
PER_TRIGGER = ("api.case_action", "api.submitter_action")
#: Errors any request with a JSON body can get.
BODY_ERRORS = (400, 413, 415, 422)


class RulesPlugin(FlaskPlugin):
    """The Flask plugin, which also accepts a path given as is (the per-trigger paths)."""

    def path_helper(self, path=None, operations=None, parameters=None, *, view=None, app=None, **kwargs):
        if view is None:
            return path
        return super().path_helper(path, operations, parameters, view=view, app=app, **kwargs)


@dataclass
class Operation:
    summary: str
    tag: str
    auth: str
    responses: dict[int, Any]
    errors: tuple[int, ...] = ()
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    description: str | None = None
    headers: list[dict] = field(default_factory=list)
    body_required: bool = True


def operation(summary: str, *, tag: str, auth: str = "staff", responses: dict[int, Any] | None = None,
              errors: tuple[int, ...] = (), query: type[Schema] | None = None, body: type[Schema] | None = None,
              description: str | None = None, headers: list[dict] | None = None,
              body_required: bool = True) -> Callable:
    """Attach the OpenAPI description of a view (read by :func:`build_spec`)."""
    def decorate(view: Callable) -> Callable:
        view.api_operation = Operation(summary, tag, auth, responses or {200: None}, tuple(errors), query, body,
                                       description or (view.__doc__ or "").strip() or None, headers or [],
                                       body_required)
        return view
    return decorate


def _text_length(self, field: ma_fields.Field, **kwargs) -> dict:
    """``payloads.Text`` keeps its bounds as attributes, not validators: show them."""
    if isinstance(field, payloads.Text):
        return {"minLength": field.min_length, "maxLength": field.max_length}
    return {}


def _response(status: int, spec_schema: Any, description: str | None = None) -> dict:
    if status == 204:
        return {"description": description or "No content."}
    if spec_schema is None:
        return {"description": description or "OK."}
    if isinstance(spec_schema, dict) and "content" in spec_schema:
        return {"description": description or "OK.", **spec_schema}
    return {"description": description or "OK.", "content": {"application/json": {"schema": spec_schema}}}


#: Headers an error always carries.
ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"},
                               "description": '`Bearer realm="pakn"`, with `error="invalid_token"` for a bad token.'}},
    429: {"Retry-After": {"required": True, "schema": {"type": "integer"}, "description": "Seconds to wait."}},
}


def _error_response(status: int) -> dict:
    out = {"description": ERRORS[status], "content": {"application/json": {"schema": "ErrorEnvelope"}}}
    if status in ERROR_HEADERS:
        out["headers"] = ERROR_HEADERS[status]
    return out


def _path_params(rule) -> dict[str, dict]:
    """The schema of each variable of a URL rule, from its converter."""
    from werkzeug.routing import AnyConverter, IntegerConverter

    out = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        if isinstance(converter, IntegerConverter):
            out[name] = {"type": "integer", "minimum": 0, "maximum": converter.max}
        elif isinstance(converter, AnyConverter):
            out[name] = {"type": "string", "enum": sorted(converter.items)}
        else:
            out[name] = {"type": "string"}
    return out


def _operation_dict(op: Operation, method: str, path_params: dict[str, dict]) -> dict:
    statuses = set(op.errors)
    if op.auth == "staff":
        statuses |= {401, 403}
    if op.body is not None:
        statuses |= set(BODY_ERRORS)
    if op.query is not None:
        statuses.add(422)
    if path_params:
        statuses.add(404)
    responses = {str(s): _response(s, schema) for s, schema in op.responses.items()}
    responses.update({str(s): _error_response(s) for s in sorted(statuses)})
    out: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "responses": responses,
                           "security": SECURITY[op.auth]}
    if op.description:
        out["description"] = op.description
    if op.auth == "staff":
        out["x-required-scope"] = "read" if method == "get" else "write"
    parameters: list[dict] = [{"in": "path", "name": p, "required": True, "schema": schema}
                              for p, schema in path_params.items()]
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    parameters.extend(op.headers)
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {"required": op.body_required,
                              "content": {"application/json": {"schema": op.body}}}
    return out


INFO = """JSON in and out; every error is `{"error": {"code", "message", "fields"}}`.

Staff authenticate with a bearer token from `POST /api/v1/auth/token` (scopes: `read` for
GET, `write` for everything else) or with their signed-in session. Citizens follow their own
case with the tracking token of their receipt. Lists page by keyset: pass the `next_cursor`
of a page as `after`. Files travel as JSON with base64 content (`attachments: [{filename,
content}]`), so every state-changing request stays JSON. Messages are in Vietnamese (`?lang=en`
for English)."""


def build_spec(app: Flask) -> dict:
    """The OpenAPI 3.0 document of the ``api`` blueprint, as a dict."""
    from ..schemas.error import ErrorEnvelopeSchema

    ma = MarshmallowPlugin()
    spec = APISpec(title="pakn API", version="1", openapi_version="3.0.3",
                   plugins=[RulesPlugin(), ma], info={"description": INFO})
    ma.converter.add_attribute_function(_text_length)
    spec.components.security_scheme("bearerToken", {
        "type": "http", "scheme": "bearer",
        "description": "A token from `POST /api/v1/auth/token`. Scopes: `read` (GET), `write` (the rest); "
                       "see `x-required-scope` on each operation."})
    spec.components.security_scheme("staffSession", {
        "type": "apiKey", "in": "cookie", "name": app.config.get("SESSION_COOKIE_NAME", "session"),
        "description": "The staff session of the web console (every scope of the user's role)."})
    spec.components.security_scheme("trackingToken", {
        "type": "apiKey", "in": "header", "name": "X-Tracking-Token",
        "description": "The tracking token printed on the submitter's receipt."})
    spec.components.security_scheme("trackingTokenQuery", {"type": "apiKey", "in": "query", "name": "token"})
    spec.components.schema("ErrorEnvelope", schema=ErrorEnvelopeSchema)
    # Schemas that other schemas name by hand ("$ref" in a Function field's metadata).
    from ..schemas.attachment import AttachmentSchema
    from ..schemas.report import DueSchema, PlanTaskSchema

    for name, schema in (("Attachment", AttachmentSchema), ("Due", DueSchema), ("PlanTask", PlanTaskSchema)):
        spec.components.schema(name, schema=schema)
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if not rule.endpoint.startswith("api.") or rule.endpoint in PER_TRIGGER:
                continue
            view = app.view_functions[rule.endpoint]
            op = getattr(view, "api_operation", None)
            if op is None:
                continue
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                spec.path(view=view, operations={
                    method.lower(): _operation_dict(op, method.lower(), _path_params(rule))})
        _action_paths(spec, app)
    return spec.to_dict()


def _trigger_schema(trigger: str, transition, with_version: bool, with_files: bool = False) -> type[Schema]:
    from ..schemas.attachment import UploadSchema

    name = "".join(part.title() for part in trigger.split("_")) + ("Action" if with_version else "SubmitterAction")
    extra: dict[str, ma_fields.Field] = {}
    if trigger == "submit_answer":
        extra["signer_name"] = ma_fields.String(validate=validate.Length(min=1, max=200), metadata={
            "description": "With `signer_authority`: issue the numbered văn bản trả lời (DOCX and PDF) signed "
                           "by this person, as the agency portal does; its number and date are then the "
                           "answer's (do not send `document_number`/`document_date`)."})
        extra["signer_authority"] = ma_fields.String(validate=validate.Length(min=1, max=400), metadata={
            "description": "1 to 3 lines (separated by newlines), e.g. `KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC`."})
    if with_files:
        extra["attachments"] = ma_fields.List(ma_fields.Nested(UploadSchema), load_default=list, metadata={
            "description": "Files of this answer revision (base64), as on the agency portal's drafting form."})
    if with_version:
        extra["version"] = ma_fields.Integer(load_default=None, validate=validate.Range(min=0), metadata={
            "description": "The case version seen, if not sent as `If-Match`."})
    return type(name + "Schema", (transition.schema or payloads.EmptySchema,), extra)


def _action_paths(spec: APISpec, app: Flask) -> None:
    """The generic action views, once per trigger with the transition's payload schema:
    staff triggers under ``/cases/{code}/actions/``, the submitter's under ``/feedback/…``."""
    from .routes import FILE_TRIGGERS, SUBMITTER_TRIGGERS, case_action, submitter_action

    staff, citizen = case_action.api_operation, submitter_action.api_operation
    for trigger, transition in sorted(WORKFLOW.transitions.items()):
        if transition.creates:
            continue
        if set(transition.roles) - {"submitter", "system"}:
            op = Operation(str(transition.label), staff.tag, "staff", staff.responses, staff.errors,
                           body=_trigger_schema(trigger, transition, True, trigger in FILE_TRIGGERS),
                           description=staff.description,
                           headers=staff.headers)
            spec.path(path=f"/api/v1/cases/{{code}}/actions/{trigger}",
                      operations={"post": _operation_dict(op, "post", {"code": {"type": "string"}})})
        if trigger in SUBMITTER_TRIGGERS:
            op = Operation(str(transition.label), citizen.tag, "tracking", citizen.responses, citizen.errors,
                           body=_trigger_schema(trigger, transition, False), description=citizen.description)
            spec.path(path=f"/api/v1/feedback/{{code}}/actions/{trigger}",
                      operations={"post": _operation_dict(op, "post", {"code": {"type": "string"}})})
