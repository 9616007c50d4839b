"""The rules a new staff password must meet (ASVS 6.2): length and not a common password.

* at least :data:`MIN_LENGTH` and at most :data:`MAX_LENGTH` characters, counted in Unicode
  code points after NFC normalisation (so "ă" counts once whether typed composed or not);
* not one of the 30,000 most common passwords of the frequency list shipped by the
  ``zxcvbn`` package (pinned in requirements.txt; the list is built from leaked-password
  corpora, top first), compared without regard to case;
* not the account's own e-mail address or its local part.

Everything else (character classes, periodic changes) is deliberately not required: ASVS
6.2.5 and 6.2.10 advise against composition rules and forced rotation.
"""
from __future__ import annotations

from functools import cache

from workflows.engine import N_

from ..models.user import normalize_password

MIN_LENGTH = 8
MAX_LENGTH = 128

TOO_SHORT = N_("Mật khẩu phải có ít nhất %(min)s ký tự.")
TOO_LONG = N_("Mật khẩu không được dài quá %(max)s ký tự.")
TOO_COMMON = N_("Mật khẩu này quá phổ biến, dễ bị đoán. Vui lòng chọn mật khẩu khác.")
IS_EMAIL = N_("Mật khẩu không được trùng với email.")


@cache
def common_passwords() -> frozenset[str]:
    """The common-password list (lower case), loaded once."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def password_problem(password: str, email: str | None = None) -> tuple[str, dict] | None:
    """Why ``password`` may not be chosen, as ``(msgid, params)``; None when it is acceptable."""
    text = normalize_password(password)
    if len(text) < MIN_LENGTH:
        return TOO_SHORT, {"min": MIN_LENGTH}
    if len(text) > MAX_LENGTH:
        return TOO_LONG, {"max": MAX_LENGTH}
    folded = text.casefold()
    if folded in common_passwords():
        return TOO_COMMON, {}
    if email and folded in (email.strip().casefold(), email.strip().casefold().partition("@")[0]):
        return IS_EMAIL, {}
    return None


class StrongPassword:
    """WTForms validator applying :func:`password_problem`. The account's e-mail is read from
    the form's field named ``email_field`` when given (a form creating an account), else from
    the form's ``account_email`` attribute (a form changing a known account's password)."""

    def __init__(self, email_field: str | None = None):
        self.email_field = email_field

    def __call__(self, form, field) -> None:
        from flask_babel import gettext
        from wtforms.validators import ValidationError

        email = form[self.email_field].data if self.email_field else getattr(form, "account_email", None)
        problem = password_problem(field.data or "", email)
        if problem:
            raise ValidationError(gettext(problem[0], **problem[1]))
