"""Error pages (HTML) and the API's single JSON error envelope."""
from __future__ import annotations

import logging

from flask import current_app, jsonify, render_template, request
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from workflows.engine import N_

from ..extensions import db
from ..operations import InvalidPayload, OperationError, StaleVersion
from ..schemas.action import refusal_message
from ..text import CONTROL_CHARS
from . import bp

access_log = logging.getLogger("pakn.access")

# Vietnamese messages for the HTTP errors people meet.
MESSAGES = {
    400: N_("Yêu cầu không hợp lệ."),
    401: N_("Cần đăng nhập."),
    403: N_("Bạn không có quyền thực hiện thao tác này."),
    404: N_("Không tìm thấy trang hoặc hồ sơ."),
    405: N_("Phương thức không được hỗ trợ."),
    409: N_("Thao tác không thực hiện được ở trạng thái hiện tại."),
    413: N_("Dữ liệu gửi lên quá lớn."),
    415: N_("Định dạng dữ liệu không được hỗ trợ."),
    422: N_("Dữ liệu không hợp lệ."),
    429: N_("Quá nhiều yêu cầu. Vui lòng thử lại sau."),
    500: N_("Đã có lỗi hệ thống. Vui lòng thử lại sau."),
    503: N_("Hệ thống tạm thời không phục vụ được. Vui lòng thử lại sau."),
}
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
         415: "unsupported_media_type", 422: "invalid_payload", 429: "too_many_requests",
         500: "internal_error", 503: "unavailable"}


def translate_tree(value):
    """Translate every message of a (nested) field-error structure; field names are echoed
    with unsafe characters replaced (an unknown field is named as the client sent it)."""
    if isinstance(value, dict):
        return {CONTROL_CHARS.sub("\ufffd", str(k)): translate_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [translate_tree(v) for v in value]
    return gettext(str(value))


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str | None = None, message: str | None = None,
                   fields: dict | None = None, **extra):
    """The one error envelope: ``{"error": {"code", "message", "fields"}}`` (or an HTML page)."""
    message = message or gettext(MESSAGES.get(status, MESSAGES[500]))
    if wants_json():
        body = {"error": {"code": code or CODES.get(status, "error"), "message": message,
                          "fields": fields or {}, **extra}}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, message=message, fields=fields or {}), status


def log_denied(status: int, reason: str = "") -> None:
    """Log a refused access (ASVS 16.3.2): who, which route, which object, from where.

    Every 401/403 is logged, and every 404 met by a logged-in user (a staff member reaching
    for an object out of their scope looks like this); anonymous 404s are not (crawlers).
    The route's template and its arguments are logged, never the query string (it may hold
    a tracking token), and with ``%r``, so a CR or LF in a URL cannot forge a log line.
    """
    authenticated = current_user.is_authenticated
    if status == 404 and not authenticated:
        return
    rule = request.url_rule.rule if request.url_rule is not None else None
    access_log.warning("access denied status=%s reason=%s user_id=%s role=%s method=%s route=%r object=%r ip=%s",
                       status, reason or "-", current_user.id if authenticated else "-",
                       current_user.role if authenticated else "anonymous", request.method,
                       rule or request.path, request.view_args or {}, request.remote_addr or "-")


@bp.app_errorhandler(OperationError)
def _operation_error(err: OperationError):
    if err.status in (401, 403, 404):
        log_denied(err.status, err.code)
    message = refusal_message(err)  # parameters are often labels (state, action names): msgids too
    extra = {}
    if isinstance(err, StaleVersion):
        extra = {"current_version": err.current_version, "current_state": err.current_state}
    fields = translate_tree(err.fields) if isinstance(err, InvalidPayload) else None
    return error_response(err.status, err.code, message, fields, **extra)


@bp.app_errorhandler(CSRFError)
def _csrf_error(err: CSRFError):
    log_denied(400, "csrf")
    return error_response(400, "csrf", gettext("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. "
                                               "Vui lòng tải lại trang và thử lại."))


@bp.app_errorhandler(HTTPException)
def _http_error(err: HTTPException):
    if err.code in (401, 403, 404):
        log_denied(err.code)
    return error_response(err.code or 500)


#: Seconds a client is asked to wait when the database is unreachable (restart, failover).
DATABASE_RETRY_AFTER = 10


def _database_unavailable(err: Exception) -> bool:
    """The database could not be reached or dropped the connection (a restart, a crash, a full
    pool): the request may succeed if sent again, so it is a 503, not a 500."""
    if isinstance(err, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
                        sa_exc.DisconnectionError)):
        return True
    return isinstance(err, sa_exc.DBAPIError) and bool(err.connection_invalidated)


@bp.app_errorhandler(sa_exc.SQLAlchemyError)
def _database_error(err: sa_exc.SQLAlchemyError):
    if not _database_unavailable(err):
        return _unexpected(err)
    # The transaction was rolled back by transaction() (or never committed): nothing is half
    # written. Roll back here too, for a failure outside transaction() (a plain read), so the
    # error page itself can still use the session. Logged without the statement's parameters,
    # which may hold personal data.
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:
        pass
    current_app.logger.error("database unavailable on %s %s: %s", request.method, request.path,
                             err.__class__.__name__)
    response = current_app.make_response(error_response(503, "database_unavailable"))
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


@bp.app_errorhandler(Exception)
def _unexpected(err: Exception):
    # Logged with its traceback, never shown: no stack, SQL or secret reaches the user.
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500)
