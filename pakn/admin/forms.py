"""Forms of the administration console (Flask-WTF: every form carries a CSRF token).

The forms read and type what was posted; the rules (unique codes, role and agency, limits) are
checked by :mod:`pakn.operations.admin`, whose per-field errors the views put back on the form.
"""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DecimalField, EmailField, HiddenField, IntegerField, SelectField,
                     SelectMultipleField, StringField, TextAreaField, widgets)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..models.api_token import SCOPES

_strip = [lambda v: v.strip() if isinstance(v, str) else v]


def _int_or_none(value):
    """A select's id, or None for the empty option or anything that is not an id (the operation
    then says what is missing, in the UI language)."""
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


class _Int(IntegerField):
    """An integer field whose parse error is in the UI language (WTForms has no Vietnamese)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Vui lòng nhập một số nguyên.")) from None


class ActionForm(FlaskForm):
    """A bare CSRF-protected POST (deactivate, revoke, send a link)."""


class LevelForm(FlaskForm):
    code = StringField(_l("Mã"), filters=_strip, validators=[Length(max=30, message=_l("Mã quá dài."))])
    name = StringField(_l("Tên cấp"), filters=_strip)
    rank = _Int(_l("Thứ bậc (0 là cao nhất)"), default=0, validators=[
        InputRequired(message=_l("Vui lòng nhập thứ bậc.")),
        NumberRange(0, 20, message=_l("Thứ bậc là số nguyên từ 0 đến 20."))])


class AgencyForm(FlaskForm):
    code = StringField(_l("Mã"), filters=_strip)
    name = StringField(_l("Tên cơ quan"), filters=_strip)
    short_name = StringField(_l("Tên viết tắt"), filters=_strip)
    level_id = SelectField(_l("Cấp"), coerce=_int_or_none, validate_choice=False)
    parent_id = SelectField(_l("Cơ quan cấp trên"), coerce=_int_or_none, validate_choice=False)
    email = StringField(_l("Thư điện tử"), filters=_strip)
    phone = StringField(_l("Điện thoại"), filters=_strip)
    address = TextAreaField(_l("Địa chỉ"), filters=_strip)
    active = BooleanField(_l("Đang hoạt động"), default=True)


class MergeForm(FlaskForm):
    source_id = SelectField(_l("Cơ quan được sáp nhập (A)"), coerce=_int_or_none, validate_choice=False)
    target_id = SelectField(_l("Cơ quan tiếp nhận (B)"), coerce=_int_or_none, validate_choice=False)
    confirm = HiddenField()


class InviteForm(FlaskForm):
    email = EmailField(_l("Thư điện tử"), filters=_strip)
    full_name = StringField(_l("Họ tên"), filters=_strip)
    role = SelectField(_l("Vai trò"), validate_choice=False)
    agency_id = SelectField(_l("Cơ quan"), coerce=_int_or_none, validate_choice=False)


class UserForm(FlaskForm):
    full_name = StringField(_l("Họ tên"), filters=_strip)
    role = SelectField(_l("Vai trò"), validate_choice=False)
    agency_id = SelectField(_l("Cơ quan"), coerce=_int_or_none, validate_choice=False)


class FieldForm(FlaskForm):
    code = StringField(_l("Mã"), filters=_strip)
    name = StringField(_l("Tên lĩnh vực"), filters=_strip)


class FieldEditForm(FlaskForm):
    name = StringField(_l("Tên lĩnh vực"), filters=_strip)
    active = BooleanField(_l("Đang dùng"))


_MB = _l("Nhập số MB, ví dụ 10 hoặc 2,5.")


class _CommaDecimal(DecimalField):
    """A decimal that also accepts the Vietnamese decimal comma (2,5)."""

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [valuelist[0].replace(",", ".").strip()]
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_MB) from None


class SettingsForm(FlaskForm):
    """Blank = back to the default from the environment (shown beside each field)."""

    OFFICE_ADDRESS = TextAreaField(_l("Địa chỉ Văn phòng"), filters=_strip)
    OFFICE_PHONE = StringField(_l("Điện thoại Văn phòng"), filters=_strip)
    OFFICE_EMAIL = StringField(_l("Thư điện tử Văn phòng"), filters=_strip)
    UPLOAD_MAX_FILES = _Int(_l("Số tệp tối đa của một PAKN"), validators=[
        Optional(), NumberRange(1, 20, message=_l("Số tệp là số nguyên từ 1 đến 20."))])
    UPLOAD_MAX_FILE_BYTES = _CommaDecimal(_l("Dung lượng tối đa của một tệp (MB)"), places=None,
                                          validators=[Optional(), NumberRange(Decimal("0.0625"), 1024, message=_MB)])
    UPLOAD_MAX_TOTAL_BYTES = _CommaDecimal(_l("Tổng dung lượng tối đa các tệp của một PAKN (MB)"), places=None,
                                           validators=[Optional(), NumberRange(Decimal("0.0625"), 1024, message=_MB)])


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


SCOPE_LABELS = {"read": _l("Đọc (read): xem hồ sơ qua API"),
                "write": _l("Ghi (write): thực hiện thao tác, tạo dữ liệu"),
                "open311": _l("Open311: ứng dụng gửi PAKN theo chuẩn GeoReport v2")}


class TokenForm(FlaskForm):
    user_id = SelectField(_l("Tài khoản sở hữu"), coerce=_int_or_none, validate_choice=False)
    name = StringField(_l("Tên gợi nhớ"), filters=_strip)
    scopes = MultiCheckboxField(_l("Phạm vi"), choices=[SelectChoice(s, SCOPE_LABELS[s]) for s in SCOPES],
                                validate_choice=False)
    days = _Int(_l("Hiệu lực (ngày)"), default=90, validators=[
        InputRequired(message=_l("Vui lòng nhập số ngày.")),
        NumberRange(1, 730, message=_l("Thời hạn là số ngày từ 1 đến 730."))])


class AuditFilterForm(FlaskForm):
    """GET filters of the audit log (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    actor = SelectField(_l("Người thực hiện"), coerce=_int_or_none, validate_choice=False)
    case = StringField(_l("Mã PAKN"), filters=_strip)
    action = SelectField(_l("Thao tác"), validate_choice=False)
    date_from = StringField(_l("Từ ngày"), filters=_strip)  # parsed by the view (a localized error)
    date_to = StringField(_l("Đến ngày"), filters=_strip)
