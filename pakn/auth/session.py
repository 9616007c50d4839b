"""Flask-Login wiring: who the session belongs to, and what an anonymous visitor gets.

A session names its user as ``"<user_id>:<session_version>"`` (:meth:`User.get_id`), so
deactivating a user or changing a password (both bump ``session_version``) ends every live
session at its next request. A session also ends ``PERMANENT_SESSION_LIFETIME`` after the
login itself, however active it was (the cookie alone would only expire when idle), and
``SESSION_IDLE_SECONDS`` after its last request (ASVS 7.3.1, 7.3.2).

A login has two steps. After the password, the session holds only a *pending* login
(:data:`PENDING_KEY`: the user id with its session version, the instant and where to go
next), good for :data:`PENDING_SECONDS`; the user is logged in only once the second factor
is checked (or enrolled), by :func:`start_session`.
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
#: Session key holding the instant (epoch seconds) of the last request: the idle limit.
SEEN_AT_KEY = "_seen_at"
#: Session key of a login waiting for its second factor, and how long it may wait (seconds).
PENDING_KEY = "_pending_login"
PENDING_SECONDS = 300
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


def _fresh_session() -> None:
    kept = {k: session[k] for k in KEPT_KEYS if k in session}
    session.clear()
    session.update(kept)


def begin_login(user: User, next_path: str | None) -> None:
    """The password was right: remember a pending login on a fresh session (no fixation)."""
    _fresh_session()
    session[PENDING_KEY] = {"user": user.get_id(), "at": int(time.time()), "next": next_path}


def pending_login() -> tuple[User, str | None] | None:
    """The user whose password was checked in this session in the last
    :data:`PENDING_SECONDS`, with the ``next`` path; None when there is none (or it is stale,
    or the account was deactivated or changed meanwhile)."""
    held = session.get(PENDING_KEY)
    if not isinstance(held, dict) or not isinstance(held.get("at"), int):
        return None
    if time.time() - held["at"] > PENDING_SECONDS:
        return None
    uid, _, version = str(held.get("user") or "").partition(":")
    if not uid.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(uid))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user, safe_next_path(held.get("next"))


def start_session(user: User) -> None:
    """Log ``user`` in on a fresh session (no fixation), permanent, with its login instant."""
    from flask_login import login_user

    _fresh_session()
    login_user(user)
    session.permanent = True
    session[LOGIN_AT_KEY] = session[SEEN_AT_KEY] = int(time.time())


def end_session() -> None:
    """Log out and forget everything in the session but the language preference."""
    from flask_login import logout_user

    logout_user()
    _fresh_session()


def _session_expired() -> bool:
    """Past the absolute limit (from the login) or the idle limit (from the last request)."""
    started, seen = session.get(LOGIN_AT_KEY), session.get(SEEN_AT_KEY)
    if not isinstance(started, int) or not isinstance(seen, int):
        return True
    now = time.time()
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    return now - started > lifetime or now - seen > current_app.config["SESSION_IDLE_SECONDS"]


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
        session[SEEN_AT_KEY] = int(time.time())
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
