"""Login and logout pages for staff (session cookie; the API uses bearer tokens instead).

A login has two steps: the password (``/auth/login``), then the second factor
(``/auth/code``), or its enrolment at the first login (``/auth/enrol``). Both steps are
throttled per account and per address, and every attempt is committed, failed or not.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import math

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from workflows.engine import N_
from workflows.glossary import Role

from ..extensions import db
from ..models import User
from ..operations import transaction
from . import bp
from .forms import (
    ChangePasswordForm, CodeForm, EnrolForm, LoginForm, RenewRecoveryCodesForm, ResetSecondFactorForm,
)
from .second_factor import (
    audit_account_event, confirm_enrolment, grouped, new_recovery_codes, pending_secret, provisioning_uri, qr_svg,
    recovery_codes_left, reset_second_factor, verify_second_factor, verify_totp,
)
from .session import begin_login, end_session, pending_login, safe_next_path, start_session
from .throttle import Throttled, authenticate, second_step

log = logging.getLogger("pakn.auth")

# One message whatever was wrong: it must not tell whether the account exists.
GENERIC_FAILURE = N_("Email hoặc mật khẩu không đúng.")
BAD_CODE = N_("Mã xác thực không đúng hoặc đã được dùng. Vui lòng nhập mã mới trong ứng dụng.")
THROTTLED = N_("Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %(minutes)s phút.")
PENDING_EXPIRED = N_("Phiên đăng nhập đã hết hạn. Vui lòng nhập lại email và mật khẩu.")


def email_digest(email: str) -> str:
    """A keyed, truncated hash of an address: lets logs correlate attempts without the address."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, (email or "").strip().lower().encode(), hashlib.sha256).hexdigest()[:16]


def _client_ip() -> str:
    # Behind a reverse proxy this is right only with ProxyFix configured in front of the app.
    return request.remote_addr or "unknown"


def _throttled(template: str, exc: Throttled, **context):
    minutes = max(1, math.ceil(exc.retry_after / 60))
    response = current_app.make_response(
        (render_template(template, throttled=gettext(THROTTLED, minutes=minutes), **context), 429))
    response.headers["Retry-After"] = str(int(exc.retry_after))
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """First step: e-mail and password. On success the session holds a pending login and the
    browser goes on to the second factor (or to its enrolment, at the first login)."""
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
            return _throttled("auth/login.html", exc, form=form, action=action)
        if user is None:
            log.info("login failed email_hash=%s ip=%s", digest, ip)
            failure = gettext(GENERIC_FAILURE)
        else:
            log.info("login password ok user_id=%s ip=%s", user.id, ip)
            begin_login(user, next_path)
            return redirect(url_for("auth.second_factor" if user.second_factor_enrolled else "auth.enrol"))
    return render_template("auth/login.html", form=form, action=action, failure=failure)


def _pending(enrolled: bool):
    """``(user, next_path, None)`` for the login pending at this step (code when ``enrolled``,
    enrolment otherwise), or ``(None, None, redirect)``: back to the password step when nothing
    is pending (or it is stale), or on to the other step."""
    pending = pending_login()
    if pending is None:
        flash(gettext(PENDING_EXPIRED), "info")
        return None, None, redirect(url_for("auth.login"))
    user, next_path = pending
    if user.second_factor_enrolled != enrolled:
        return None, None, redirect(url_for("auth.second_factor" if user.second_factor_enrolled else "auth.enrol"))
    return user, next_path, None


def _finish(user: User, next_path: str | None, kind: str):
    start_session(user)  # a fresh session: flash only after it
    if kind == "recovery":
        flash(gettext("Bạn vừa dùng một mã khôi phục; còn lại %(num)s mã. Khi sắp hết, hãy nhờ "
                      "quản trị viên đặt lại xác thực hai bước.", num=recovery_codes_left(user)), "info")
    log.info("login ok user_id=%s ip=%s second_factor=%s", user.id, _client_ip(), kind)
    return redirect(next_path or url_for("web.dashboard"))


@bp.route("/code", methods=["GET", "POST"])
def second_factor():
    """Second step: the code of the authenticator app, or one recovery code."""
    user, next_path, elsewhere = _pending(enrolled=True)
    if elsewhere:
        return elsewhere
    form = CodeForm()
    failure = None
    if form.validate_on_submit():
        ip = _client_ip()
        try:
            with transaction():
                kind = second_step(user, ip, lambda: verify_second_factor(user, form.code.data))
        except Throttled as exc:
            log.warning("second factor throttled user_id=%s ip=%s retry_after=%s", user.id, ip, exc.retry_after)
            return _throttled("auth/code.html", exc, form=form)
        if kind:
            return _finish(user, next_path, kind)
        log.info("second factor failed user_id=%s ip=%s", user.id, ip)
        failure = gettext(BAD_CODE)
    return render_template("auth/code.html", form=form, failure=failure)


@bp.route("/enrol", methods=["GET", "POST"])
def enrol():
    """First login of an account without a second factor: set up the authenticator app,
    confirm it with a code, then see the recovery codes once."""
    user, next_path, elsewhere = _pending(enrolled=False)
    if elsewhere:
        return elsewhere
    form = EnrolForm()
    with transaction():
        secret = pending_secret(user)
    uri = provisioning_uri(user, secret)
    shown = {"secret": grouped(secret), "uri": uri,
             "qr": qr_svg(uri, gettext("Mã QR để thêm tài khoản vào ứng dụng xác thực"))}
    failure = None
    if form.validate_on_submit():
        ip = _client_ip()
        try:
            with transaction():
                codes = second_step(user, ip, lambda: confirm_enrolment(user, form.code.data))
        except Throttled as exc:
            return _throttled("auth/enrol.html", exc, form=form, **shown)
        if codes:
            start_session(user)
            log.info("second factor enrolled user_id=%s ip=%s", user.id, ip)
            return render_template("auth/recovery_codes.html", codes=codes,
                                   next_url=next_path or url_for("web.dashboard"))
        failure = gettext(BAD_CODE)
    return render_template("auth/enrol.html", form=form, failure=failure, **shown)


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


# -- one's own account ----------------------------------------------------------------------------
def _account_page(password_form=None, codes_form=None, status: int = 200, **context):
    user = current_user._get_current_object()
    return render_template("auth/account.html", password_form=password_form or ChangePasswordForm(user.email),
                           codes_form=codes_form or RenewRecoveryCodesForm(), left=recovery_codes_left(user),
                           **context), status


@bp.route("/account")
@login_required
def account():
    """A staff member's own account: second factor status, new recovery codes, password change."""
    return _account_page()


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    """Change one's own password (the current one is checked and throttled like a login);
    other sessions of the user end, this one goes on. Audited."""
    user = current_user._get_current_object()
    form = ChangePasswordForm(user.email)
    if not form.validate_on_submit():
        return _account_page(password_form=form, status=422)
    try:
        with transaction():
            checked = authenticate(user.email, form.current_password.data, _client_ip())
    except Throttled as exc:
        return _throttled("auth/account.html", exc, password_form=form, codes_form=RenewRecoveryCodesForm(),
                          left=recovery_codes_left(user))
    if checked is None or checked.id != user.id:
        form.current_password.errors.append(gettext("Mật khẩu hiện tại không đúng."))
        return _account_page(password_form=form, status=422)
    with transaction():
        user.set_password(form.new_password.data)  # bumps session_version: every session ends...
        audit_account_event(user, "password_changed", user)
    start_session(user)  # ...but this one, started afresh
    log.info("password changed user_id=%s ip=%s", user.id, _client_ip())
    flash(gettext("Đã đổi mật khẩu. Các phiên đăng nhập khác của bạn đã kết thúc."), "info")
    return redirect(url_for("auth.account"))


@bp.route("/account/recovery-codes", methods=["POST"])
@login_required
def renew_recovery_codes():
    """Replace one's recovery codes (all used, or some seen by someone else), confirmed by a
    code of the app; the new ones are shown once. Throttled like a login. Audited."""
    user = current_user._get_current_object()
    form = RenewRecoveryCodesForm()
    if not form.validate_on_submit():
        return _account_page(codes_form=form, status=422)
    try:
        with transaction():
            ok = second_step(user, _client_ip(), lambda: verify_totp(user, form.code.data))
            codes = new_recovery_codes(user) if ok else None
            if codes:
                audit_account_event(user, "second_factor_recovery_codes_renewed", user)
    except Throttled as exc:
        return _throttled("auth/account.html", exc, password_form=ChangePasswordForm(user.email), codes_form=form,
                          left=recovery_codes_left(user))
    if not codes:
        form.code.errors.append(gettext(BAD_CODE))
        return _account_page(codes_form=form, status=422)
    return render_template("auth/recovery_codes.html", codes=codes, next_url=url_for("auth.account"))


# -- administration -------------------------------------------------------------------------------
def _admin() -> None:
    if current_user.role != Role.ADMIN:
        abort(404)  # out of reach: as if it did not exist


@bp.route("/second-factor")
@login_required
def second_factor_admin():
    """Admins: every staff account's second factor, with a reset button (lost phone)."""
    _admin()
    users = db.session.scalars(select(User).order_by(User.active.desc(), User.email)).all()
    left = {u.id: recovery_codes_left(u) for u in users if u.second_factor_enrolled}
    return render_template("auth/second_factor_admin.html", users=users, left=left, form=ResetSecondFactorForm())


@bp.route("/second-factor/<int:user_id>/reset", methods=["POST"])
@login_required
def reset_second_factor_view(user_id: int):
    """Admins: remove a user's second factor; they enrol again at their next login (audited)."""
    _admin()
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = ResetSecondFactorForm()
    if not form.validate_on_submit():
        abort(400)
    with transaction():
        reset_second_factor(user, current_user)
    log.info("second factor reset user_id=%s by=%s", user.id, current_user.id)
    if user.id == current_user.id:
        end_session()  # the admin reset their own: their session ended with it
        flash(gettext("Đã đặt lại xác thực hai bước của bạn. Vui lòng đăng nhập và thiết lập lại."), "info")
        return redirect(url_for("auth.login"))
    flash(gettext("Đã đặt lại xác thực hai bước của %(name)s. Lần đăng nhập tới, người này sẽ thiết lập lại.",
                  name=user.full_name), "info")
    return redirect(url_for("auth.second_factor_admin"))
