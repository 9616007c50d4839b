"""Flask-Login wiring: who the session belongs to, and what an anonymous visitor gets.

A session names its user as ``"<user_id>:<session_version>"`` (:meth:`User.get_id`), so
deactivating a user or changing a password (both bump ``session_version``) ends every live
session at its next request. A session also ends ``PERMANENT_SESSION_LIFETIME`` after the
login itself, however active it was (the cookie alone would only expire when idle).
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext

from workflows.engine import N_

from ..extensions import db, login_manager
from ..models import User

#: Session key holding the login instant (epoch seconds): the absolute session limit.
LOGIN_AT_KEY = "_login_at"
#: Session keys naming the logged-in user (Flask-Login's and ours).
IDENTITY_KEYS = ("_user_id", "_fresh", "_id", LOGIN_AT_KEY)
#: Session keys that survive a login or logout (a preference, not an identity).
KEPT_KEYS = ("lang",)

LOGIN_MESSAGE = N_("Vui lòng đăng nhập để tiếp tục.")


def safe_next_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None.

    Refused: absolute and scheme-relative URLs (``https://evil``, ``//evil``), any scheme
    (``javascript:``), backslashes (browsers read ``/\\evil`` as ``//evil``), and control
    characters or spaces (browsers drop tabs and newlines, so ``/\\t/evil`` becomes ``//evil``).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def start_session(user: User) -> None:
    """Log ``user`` in on a fresh session (no fixation), permanent, with its login instant."""
    from flask_login import login_user

    kept = {k: session[k] for k in KEPT_KEYS if k in session}
    session.clear()
    session.update(kept)
    login_user(user)
    session.permanent = True
    session[LOGIN_AT_KEY] = int(time.time())


def end_session() -> None:
    """Log out and forget everything in the session but the language preference."""
    from flask_login import logout_user

    logout_user()
    kept = {k: session[k] for k in KEPT_KEYS if k in session}
    session.clear()
    session.update(kept)


def _session_expired() -> bool:
    started = session.get(LOGIN_AT_KEY)
    if not isinstance(started, int):
        return True
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    return time.time() - started > lifetime


def init_app(app: Flask) -> None:
    """Configure the shared login manager for ``app``."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = LOGIN_MESSAGE
    login_manager.login_message_category = "info"
    login_manager.localize_callback = gettext

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        uid, _, version = (user_id or "").partition(":")
        user = db.session.get(User, int(uid)) if uid.isdigit() and version.isdigit() else None
        if (user is None or _session_expired() or not user.active
                or user.session_version != int(version)):
            # The session is over (expired, deactivated, password changed, logged out elsewhere):
            # drop its identity, so the cookie sent back no longer names the user.
            for key in IDENTITY_KEYS:
                session.pop(key, None)
            return None
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        from ..web.errors import error_response

        if request.path.startswith("/api/"):
            body, status = error_response(401)
            response = current_app.make_response((body, status))
            response.headers["WWW-Authenticate"] = 'Bearer realm="pakn"'
            return response
        flash(gettext(LOGIN_MESSAGE), login_manager.login_message_category)
        target = safe_next_path(request.full_path.rstrip("?")) if request.method == "GET" else None
        return redirect(url_for(login_manager.login_view, next=target))
