"""Who is calling the API: a bearer token, or the logged-in staff session.

``Authorization: Bearer <token>`` wins when present; a malformed, unknown, expired or
revoked token — or one whose user has been deactivated — is a 401, never a fall-back to
the session cookie. Without the header, a Flask-Login session user is accepted.

The API blueprint is exempt from the app-wide CSRF check because a bearer token is no
ambient credential (a cross-site page cannot make the browser send it), and every
state-changing endpoint requires a JSON body (415 otherwise), which a cross-site HTML form
cannot send without a CORS preflight that this app never grants. A state-changing call that
rides on the *session cookie* instead must carry the session's CSRF token in an
``X-CSRFToken`` header (checked here; 400 ``csrf`` otherwise), as a page's own script would.
"""
from __future__ import annotations

from flask import request
from flask_login import current_user

from workflows.engine import N_

from ..auth.tokens import token_for
from ..extensions import csrf
from ..models import User
from .errors import ApiError

LOGIN_REQUIRED = N_("Cần đăng nhập.")
INSUFFICIENT_SCOPE = N_("Mã truy cập này không được cấp quyền cho thao tác này.")
INVALID_TOKEN = N_("Mã truy cập không hợp lệ, đã hết hạn hoặc đã bị thu hồi. Vui lòng đăng nhập lại.")
#: The challenge of every 401 (RFC 6750); ``error="invalid_token"`` when one was presented.
CHALLENGE = 'Bearer realm="pakn"'


def unauthorized(invalid_token: bool = False) -> ApiError:
    """A 401 with the Bearer challenge."""
    if invalid_token:
        return ApiError(401, "invalid_token", INVALID_TOKEN,
                        headers={"WWW-Authenticate": f'{CHALLENGE}, error="invalid_token"'})
    return ApiError(401, "unauthorized", LOGIN_REQUIRED, headers={"WWW-Authenticate": CHALLENGE})


def presented_token() -> str | None:
    """The raw bearer token of the request, None without an Authorization header.

    Raises a 401 when the header is there but is not ``Bearer <token>``.
    """
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, raw = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise unauthorized(invalid_token=True)
    return raw.strip()


def required_scope() -> str:
    """The token scope this request needs: ``read`` to look (GET, HEAD), ``write`` to act."""
    return "read" if request.method in ("GET", "HEAD", "OPTIONS") else "write"


def authenticated_user(scope: str | None = None) -> User:
    """The staff user making this request; raises a 401 :class:`ApiError` if there is none.

    A bearer token must hold ``scope`` (by default :func:`required_scope`), else 403
    ``insufficient_scope``. A session user has every scope of their role.
    """
    raw = presented_token()
    if raw is not None:
        row = token_for(raw)
        if row is None:
            raise unauthorized(invalid_token=True)
        needed = scope or required_scope()
        if not row.has_scope(needed):
            raise ApiError(403, "insufficient_scope", INSUFFICIENT_SCOPE, headers={
                "WWW-Authenticate": f'{CHALLENGE}, error="insufficient_scope", scope="{needed}"'})
        return row.user
    if current_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()  # raises CSRFError: the app-wide handler answers the 400 envelope
        # The real row, not the proxy: it is handed to the operations layer as the actor.
        return current_user._get_current_object()
    raise unauthorized()


def client_ip() -> str:
    """The client address used for login throttling.

    Behind a reverse proxy this is right only with ProxyFix configured in front of the app.
    """
    return request.remote_addr or "unknown"
