"""Login and logout pages for staff (session cookie; the API uses bearer tokens instead)."""
from __future__ import annotations

import hashlib
import hmac
import logging
import math

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from workflows.engine import N_

from ..operations import transaction
from . import bp
from .forms import LoginForm
from .session import end_session, safe_next_path, start_session
from .throttle import Throttled, authenticate

log = logging.getLogger("pakn.auth")

# One message whatever was wrong: it must not tell whether the account exists.
GENERIC_FAILURE = N_("Email hoặc mật khẩu không đúng.")


def email_digest(email: str) -> str:
    """A keyed, truncated hash of an address: lets logs correlate attempts without the address."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, (email or "").strip().lower().encode(), hashlib.sha256).hexdigest()[:16]


def _client_ip() -> str:
    # Behind a reverse proxy this is right only with ProxyFix configured in front of the app.
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; on success start a fresh session and go to ``next`` or the dashboard."""
    next_path = safe_next_path(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_path or url_for("web.dashboard"))

    form = LoginForm()
    action = url_for("auth.login", next=next_path)
    failure = None
    if form.validate_on_submit():
        ip = _client_ip()
        digest = email_digest(form.email.data)
        try:
            with transaction():  # the attempt is committed, failed or not: throttling counts it
                user = authenticate(form.email.data, form.password.data, ip)
        except Throttled as exc:
            log.warning("login throttled email_hash=%s ip=%s retry_after=%s", digest, ip, exc.retry_after)
            minutes = max(1, math.ceil(exc.retry_after / 60))
            message = gettext("Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %(minutes)s phút.",
                              minutes=minutes)
            response = current_app.make_response(
                (render_template("auth/login.html", form=form, action=action, throttled=message), 429))
            response.headers["Retry-After"] = str(int(exc.retry_after))
            return response
        if user is None:
            log.info("login failed email_hash=%s ip=%s", digest, ip)
            failure = gettext(GENERIC_FAILURE)
        else:
            start_session(user)
            log.info("login ok user_id=%s ip=%s", user.id, ip)
            return redirect(next_path or url_for("web.dashboard"))
    return render_template("auth/login.html", form=form, action=action, failure=failure)


@bp.route("/logout", methods=["POST"])
def logout():
    """End this session, and every other session of the user (a replayed cookie stops working)."""
    if current_user.is_authenticated:
        user_id = current_user.id
        with transaction():
            current_user.session_version = (current_user.session_version or 0) + 1
        log.info("logout user_id=%s ip=%s", user_id, _client_ip())
    end_session()
    flash(gettext("Bạn đã đăng xuất."), "info")
    return redirect(url_for("web.home"))
