"""Forms of the plan pages (Flask-WTF: every form carries a CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

_strip = [lambda value: value.strip() if isinstance(value, str) else value]


class PlanMetaMixin:
    code = StringField(_l("Số, ký hiệu"), validators=[Optional(), Length(max=50)], filters=_strip)
    title = StringField(_l("Tên kế hoạch"), validators=[Optional(), Length(max=500)], filters=_strip)
    issuer = StringField(_l("Cơ quan ban hành"), validators=[Optional(), Length(max=250)], filters=_strip)
    issued_on = DateField(_l("Ngày ban hành"), validators=[Optional()])
    year = IntegerField(_l("Năm thực hiện"), validators=[Optional(), NumberRange(min=2000, max=2100)])


class UploadForm(FlaskForm):
    """The plan file; the number and title are read from it when it carries them."""

    file = FileField(_l("Tệp kế hoạch (DOCX, XLSX, CSV hoặc TXT)"),
                     validators=[FileRequired(message=_l("Vui lòng chọn tệp kế hoạch."))])


class ConfirmForm(PlanMetaMixin, FlaskForm):
    """Confirming a previewed import; the metadata fields override what was read."""


class BindingForm(FlaskForm):
    """One select per binding key; the choices are the plan's tasks (set by the view)."""

    in_force = SelectField(_l("Áp dụng cho quy trình"), choices=[("0", _l("Không")), ("1", _l("Có"))])


class DoneForm(FlaskForm):
    done_on = DateField(_l("Ngày hoàn thành"), validators=[Optional()])
    done_note = TextAreaField(_l("Ghi chú"), validators=[Optional(), Length(max=2000)], filters=_strip)


class LinkUnitForm(FlaskForm):
    folded = HiddenField(validators=[DataRequired(), Length(max=500)])
    name = HiddenField(validators=[DataRequired(), Length(max=2000)])
    agency = SelectField(_l("Cơ quan"), validators=[DataRequired(message=_l("Vui lòng chọn cơ quan."))])


class WindowForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter, changes nothing

    year = IntegerField(_l("Năm"), validators=[Optional(), NumberRange(min=2000, max=2100)])
    quarter = SelectField(_l("Kỳ"), choices=[("", _l("Cả năm")), ("1", _l("Quý I")), ("2", _l("Quý II")),
                                             ("3", _l("Quý III")), ("4", _l("Quý IV"))], validators=[Optional()])
