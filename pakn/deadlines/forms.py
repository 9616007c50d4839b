"""Forms of the calendar and clock administration (Flask-WTF: every form carries a CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

_DAYS = _l("Nhập số ngày từ %(min)s đến %(max)s.")


def _days(label, low, high):
    return IntegerField(label, validators=[InputRequired(message=_l("Vui lòng nhập số ngày.")),
                                           NumberRange(low, high, message=_DAYS)])


class OverlayForm(FlaskForm):
    """Add one overlay entry."""

    day = DateField(_l("Ngày"), validators=[DataRequired(message=_l("Vui lòng chọn ngày hợp lệ."))])
    kind = SelectField(_l("Loại"), choices=[SelectChoice("day_off", _l("Ngày nghỉ bổ sung")),
                                             SelectChoice("working_day", _l("Ngày làm việc bù"))])
    note = TextAreaField(_l("Căn cứ pháp lý"), validators=[
        DataRequired(message=_l("Vui lòng ghi căn cứ pháp lý (ví dụ: Thông báo 9441/TB-BNV).")),
        Length(max=1000, message=_l("Căn cứ pháp lý quá dài."))])


class DeleteForm(FlaskForm):
    """A bare CSRF-protected POST (removing an overlay entry)."""


class ImportForm(FlaskForm):
    """Upload a year's overlay as CSV for a preview."""

    year = IntegerField(_l("Năm"), validators=[InputRequired(message=_l("Vui lòng nhập năm.")),
                                               NumberRange(2000, 2100, message=_l("Năm không hợp lệ."))])
    file = FileField(_l("Tệp CSV"), validators=[FileRequired(message=_l("Vui lòng chọn tệp CSV."))])


class ConfirmImportForm(FlaskForm):
    """Apply a previewed import: the file's text travels back in a hidden field."""

    year = HiddenField()
    content = HiddenField()


class ClockForm(FlaskForm):
    """A new version of the clock settings."""

    forward_days = _days(_l("Số ngày làm việc để phân loại, chuyển xử lý"), 1, 60)
    answer_days = _days(_l("Số ngày để trả lời người gửi"), 1, 120)
    answer_day_unit = SelectField(_l("Đơn vị của thời hạn trả lời"),
                                  choices=[SelectChoice("calendar", _l("ngày (theo lịch)")),
                                           SelectChoice("working", _l("ngày làm việc"))])
    progress_update_days = _days(_l("Chu kỳ cập nhật tiến độ khi quá hạn (ngày)"), 1, 60)
    result_entry_days = _days(_l("Số ngày làm việc để cập nhật kết quả"), 1, 30)
    check_days = _days(_l("Số ngày làm việc để kiểm tra kết quả"), 1, 30)
    publish_days = _days(_l("Số ngày làm việc để thông báo, công khai"), 1, 30)
    reminder_days = _days(_l("Nhắc hạn trước bao nhiêu ngày làm việc"), 0, 30)
    needs_info_pauses = BooleanField(_l("Tạm dừng thời hạn khi chờ người gửi bổ sung thông tin"))
    note = TextAreaField(_l("Lý do, căn cứ thay đổi"), validators=[
        DataRequired(message=_l("Vui lòng ghi lý do hoặc căn cứ thay đổi.")),
        Length(max=1000, message=_l("Nội dung quá dài."))])
