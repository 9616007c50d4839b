"""What the API reads from a request: a bounded JSON object, a query string, the case version.

Every refusal here is raised as :class:`ApiError`, before any operation runs:

* not ``application/json`` (or ``application/*+json``) → 415;
* larger than ``API_MAX_JSON_BYTES`` → 413: checked on ``Content-Length`` before reading,
  and, for a streamed body without a length, by reading at most one byte more than allowed;
* empty, not UTF-8/16/32 JSON, ``NaN``/``Infinity``, or nested absurdly deep → 400;
* valid JSON that is not an object (a list, a string, …) → 400 ``json_not_object``: the
  request is malformed as a whole, there is no field to blame;
* the case version missing → 428 (see :func:`expected_version`).
"""
from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from marshmallow import Schema, ValidationError

from workflows.engine import N_

from .errors import ApiError

#: The query parameter every page accepts (the language switch, see pakn.select_locale).
APP_WIDE_PARAMS = ("lang",)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_body(*, with_files: bool = False) -> dict[str, Any]:
    """The request's JSON object, read within the size limit (``with_files``: a body that may
    carry base64 files, bounded by ``MAX_CONTENT_LENGTH`` instead of ``API_MAX_JSON_BYTES``)."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type",
                       N_("Chỉ chấp nhận dữ liệu JSON (Content-Type: application/json)."))
    limit = current_app.config["MAX_CONTENT_LENGTH" if with_files else "API_MAX_JSON_BYTES"]
    too_large = ApiError(413, "payload_too_large", N_("Dữ liệu gửi lên quá lớn (tối đa %(limit)s byte)."),
                         limit=limit)
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    # Read in chunks (a stream may return short reads) and stop one byte past the limit.
    chunks, size = [], 0
    while chunk := request.stream.read(min(64 * 1024, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise too_large
    raw = b"".join(chunks)
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ApiError(400, "malformed_json", N_("Dữ liệu JSON không đúng cú pháp.")) from None
    if not isinstance(data, dict):
        raise ApiError(400, "json_not_object", N_("Dữ liệu gửi lên phải là một đối tượng JSON ({…})."))
    return data


def load_body(schema: Schema) -> dict[str, Any]:
    """The JSON body loaded by ``schema``; 422 with per-field messages when invalid."""
    try:
        return schema.load(json_body())
    except ValidationError as err:
        raise ApiError(422, "invalid_payload", N_("Dữ liệu không hợp lệ."),
                       fields=err.normalized_messages()) from None


def load_query(schema: Schema, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """The query string loaded by ``schema``; 422 with per-field messages when invalid.

    Parameters in ``lists`` may be repeated (``state=a&state=b``) as well as comma-separated;
    for the others the first value counts.
    """
    args = {k: v for k, v in request.args.items() if k not in APP_WIDE_PARAMS}
    for name in lists:
        if name in request.args:
            args[name] = ",".join(request.args.getlist(name))
    try:
        return schema.load(args)
    except ValidationError as err:
        raise ApiError(422, "invalid_query", N_("Tham số truy vấn không hợp lệ."),
                       fields=err.normalized_messages()) from None


_VERSION_FORMAT = N_("Phiên bản hồ sơ phải là một số nguyên không âm (ví dụ If-Match: \"3\").")


def _header_version(value: str) -> int:
    text = value.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip().strip('"')
    if not (text.isascii() and text.isdigit()):  # str.isdigit alone takes "²", which int() refuses
        raise ApiError(422, "invalid_version", _VERSION_FORMAT, fields={"version": [_VERSION_FORMAT]})
    return int(text)


def expected_version(body: dict[str, Any]) -> int:
    """The case version the client acted on, from ``If-Match`` or the body's ``version``.

    ``version`` is removed from ``body`` (it is not part of any payload). Missing → 428
    Precondition Required: the client must say which version it saw, so that two people
    acting on the same case cannot overwrite each other. A malformed value, or a header and
    a body that disagree → 422.
    """
    header = request.headers.get("If-Match")
    in_body = body.pop("version", None)
    if in_body is not None and (isinstance(in_body, bool) or not isinstance(in_body, int) or in_body < 0):
        raise ApiError(422, "invalid_version", _VERSION_FORMAT, fields={"version": [_VERSION_FORMAT]})
    from_header = _header_version(header) if header is not None else None
    if from_header is not None and in_body is not None and from_header != in_body:
        message = N_("Phiên bản trong If-Match và trong trường version không khớp nhau.")
        raise ApiError(422, "invalid_version", message, fields={"version": [message]})
    version = from_header if from_header is not None else in_body
    if version is None:
        raise ApiError(428, "version_required",
                       N_("Cần gửi phiên bản hồ sơ đang xem: header If-Match hoặc trường version."))
    return version


def tracking_token() -> str:
    """The submitter's tracking token: the ``X-Tracking-Token`` header, else ``?token=``."""
    return request.headers.get("X-Tracking-Token") or request.args.get("token") or ""
