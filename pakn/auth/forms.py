"""Forms of the login pages (Flask-WTF: every form carries a CSRF token)."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from .passwords import StrongPassword

# Enough to catch a typo; the address is only ever compared with stored ones.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email_shape(form, field) -> None:
    if field.data and not _EMAIL.match(field.data.strip()):
        raise ValidationError(_l("Email không đúng định dạng, ví dụ: ten@vinhlong.gov.vn."))


class LoginForm(FlaskForm):
    """Staff login: email and password."""

    email = EmailField(
        _l("Email"),
        validators=[DataRequired(message=_l("Vui lòng nhập email.")),
                    Length(max=254, message=_l("Email quá dài.")), _email_shape],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    # The length cap keeps hashing cheap whatever is posted.
    password = PasswordField(
        _l("Mật khẩu"),
        validators=[DataRequired(message=_l("Vui lòng nhập mật khẩu.")),
                    Length(max=1024, message=_l("Mật khẩu quá dài."))],
    )


def _code_field(label) -> StringField:
    return StringField(
        label,
        validators=[DataRequired(message=_l("Vui lòng nhập mã xác thực.")),
                    Length(max=32, message=_l("Mã xác thực không đúng."))],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


class CodeForm(FlaskForm):
    """The second step of a login: the 6-digit code of the authenticator app, or a recovery code."""

    code = _code_field(_l("Mã xác thực"))


class EnrolForm(FlaskForm):
    """Enrolment: the first code shown by the app, which proves it holds the secret."""

    code = _code_field(_l("Mã 6 chữ số trong ứng dụng"))


class ResetSecondFactorForm(FlaskForm):
    """An admin's button resetting a user's second factor (the CSRF token is all it carries)."""


class ChangePasswordForm(FlaskForm):
    """A staff member changes their own password: the current one, then the new one twice."""

    current_password = PasswordField(
        _l("Mật khẩu hiện tại"),
        validators=[DataRequired(message=_l("Vui lòng nhập mật khẩu.")),
                    Length(max=1024, message=_l("Mật khẩu quá dài."))],
    )
    new_password = PasswordField(
        _l("Mật khẩu mới"),
        validators=[DataRequired(message=_l("Vui lòng nhập mật khẩu.")), StrongPassword()],
        description=_l("Từ 8 đến 128 ký tự; không dùng mật khẩu phổ biến hay chính email của bạn. "
                       "Một cụm vài từ dễ nhớ là lựa chọn tốt."),
    )
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[DataRequired(message=_l("Vui lòng nhập mật khẩu.")),
                    EqualTo("new_password", message=_l("Hai lần nhập mật khẩu mới không khớp."))],
    )

    def __init__(self, account_email: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.account_email = account_email  # read by StrongPassword: the password may not be it


class RenewRecoveryCodesForm(FlaskForm):
    """New recovery codes, confirmed by a code of the authenticator app."""

    code = _code_field(_l("Mã 6 chữ số trong ứng dụng"))
