"""One-time set-password links: the invitation of a new account and the reset an admin sends.

A link carries a token signed with ``SECRET_KEY`` (itsdangerous), naming the user, the purpose
and a fingerprint of the account's password hash and session version. It expires after
``PASSWORD_LINK_INVITE_HOURS`` or ``PASSWORD_LINK_RESET_HOURS``, and it is single-use without
any table: choosing a password changes the hash (and bumps the session version), so the
fingerprint no longer matches; so does deactivating the account, or a new invitation.
The link travels sealed in its outbox row (:mod:`pakn.sealing`) and is erased once sent.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo

from ..extensions import db
from ..models import User
from ..operations import InvalidPayload, transaction
from . import bp
from .passwords import StrongPassword

_SALT = "pakn.password-link.v1"
_HOURS = {"invite": "PASSWORD_LINK_INVITE_HOURS", "reset": "PASSWORD_LINK_RESET_HOURS"}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt=_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.session_version}:{user.password_hash}".encode()).hexdigest()[:24]


def link_for(user: User, purpose: str) -> tuple[str, int]:
    """The absolute link for ``user`` (``purpose`` "invite" or "reset") and its validity in hours."""
    token = _serializer().dumps({"u": user.id, "p": purpose, "f": _fingerprint(user)})
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return base + url_for("auth.set_password", token=token), int(current_app.config[_HOURS[purpose]])


def user_for_link(token: str) -> tuple[User, str] | None:
    """The active user and purpose of a valid, unexpired, unused link; else None."""
    longest = max(int(current_app.config[k]) for k in _HOURS.values()) * 3600
    try:
        data, signed_at = _serializer().loads(token, max_age=longest, return_timestamp=True)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("p") not in _HOURS or not isinstance(data.get("u"), int):
        return None
    from ..models.types import utcnow

    if (utcnow() - signed_at).total_seconds() > int(current_app.config[_HOURS[data["p"]]]) * 3600:
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.active or not hmac.compare_digest(_fingerprint(user), str(data.get("f"))):
        return None
    return user, data["p"]


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("Mật khẩu mới"), validators=[
        DataRequired(message=_l("Vui lòng nhập mật khẩu.")), StrongPassword()])
    confirm = PasswordField(_l("Nhập lại mật khẩu mới"), validators=[
        EqualTo("password", message=_l("Hai mật khẩu không khớp."))])


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Choose a password from an invitation or reset link (the link works once)."""
    found = user_for_link(token)
    if found is None:
        return render_template("auth/set_password.html", form=None), 404
    user, purpose = found
    form = SetPasswordForm()
    form.account_email = user.email  # read by StrongPassword: the password may not be the e-mail
    if form.validate_on_submit():
        from ..operations.admin import set_password_from_link

        try:
            with transaction():
                set_password_from_link(user, form.password.data, purpose)
        except InvalidPayload as err:
            form.password.errors = [gettext(m) for m in err.fields.get("password", [])]
        else:
            flash(gettext("Đã đặt mật khẩu. Vui lòng đăng nhập."), "info")
            return redirect(url_for("auth.login"))
    status = 422 if form.errors else 200
    return render_template("auth/set_password.html", form=form, user=user, purpose=purpose), status
