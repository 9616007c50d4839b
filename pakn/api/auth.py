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

from ..auth.tokens import user_for_token
from ..extensions import csrf
from ..models import User
from .errors import ApiError

LOGIN_REQUIRED = N_("Cần đăng nhập.")
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


def authenticated_user() -> User:
    """The staff user making this request; raises a 401 :class:`ApiError` if there is none."""
    raw = presented_token()
    if raw is not None:
        user = user_for_token(raw)
        if user is None:
            raise unauthorized(invalid_token=True)
        return user
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
