"""Refusals made by the API layer itself (body, version, authentication), as the one envelope.

Operation errors (403/409/422 from the operations layer) and HTTP errors (404/405/500) are
answered by the app-wide handlers in :mod:`pakn.web.errors`; this adds what only the API
knows about: 400 malformed JSON, 401 with its challenge, 413, 415, 422 on query strings
and credentials, 428 missing version, 429 with Retry-After.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import current_app
from flask_babel import gettext

from ..web.errors import error_response, log_denied, translate_tree
from . import bp


class ApiError(Exception):
    """An API refusal: status, machine code, Vietnamese msgid (with ``%(name)s`` params),
    optional per-field messages (msgids) and response headers."""

    def __init__(self, status: int, code: str, message: str, fields: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None, **params: Any):
        super().__init__(f"{status} {code}")
        self.status, self.code, self.message = status, code, message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})
        self.params = params


@bp.errorhandler(ApiError)
def _api_error(err: ApiError):
    if err.status in (401, 403):
        log_denied(err.status, err.code)
    message = gettext(err.message, **err.params) if err.params else gettext(err.message)
    body, status = error_response(err.status, err.code, message, translate_tree(err.fields) or None)
    response = current_app.make_response((body, status))
    response.headers.update(err.headers)
    return response
