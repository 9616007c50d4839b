"""Forms of the citizen portal (Flask-WTF: CSRF token in every form).

The submission form checks only what is the form's own business (the declaration, the
honeypot, the form key, the text encoding); the content rules live once, in the workflow's
:class:`workflows.payloads.SubmissionSchema`, and their messages are shown on the same fields.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, MultipleFileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from workflows.glossary import Kind, Subject

#: The form's text fields, in page order, named as the submission payload.
TEXT_FIELDS = ("title", "content", "proposal", "submitter_name", "submitter_organisation",
               "submitter_address", "submitter_phone", "submitter_email")
#: Payload keys in page order (for the error summary).
PAYLOAD_FIELDS = ("kind", "subject", "field") + TEXT_FIELDS


class SubmissionForm(FlaskForm):
    kind = RadioField(_l("Loại"), choices=[(k.value, _l(k.label)) for k in Kind], default=Kind.PHAN_ANH.value,
                      validate_choice=False)
    subject = RadioField(_l("Nội dung liên quan đến"), validate_choice=False,
                         choices=[(Subject.QUY_DINH.value, _l("Quy định hành chính (thủ tục, giấy tờ, chính sách)")),
                                  (Subject.HANH_VI.value, _l("Hành vi hành chính (cách cán bộ, cơ quan thực hiện)")),
                                  ("", _l("Chưa rõ"))], default="")
    field = SelectField(_l("Lĩnh vực"), validate_choice=False)
    title = StringField(_l("Tiêu đề"))
    content = TextAreaField(_l("Nội dung phản ánh, kiến nghị"))
    proposal = TextAreaField(_l("Phương án xử lý hoặc sáng kiến đề xuất"))
    submitter_name = StringField(_l("Họ và tên"))
    submitter_organisation = StringField(_l("Tên tổ chức, doanh nghiệp (nếu có)"))
    submitter_address = StringField(_l("Địa chỉ liên hệ"))
    submitter_phone = StringField(_l("Số điện thoại"))
    submitter_email = StringField(_l("Thư điện tử"))
    attachments = MultipleFileField(_l("Tệp đính kèm (không bắt buộc)"))
    declaration = BooleanField(
        _l("Tôi cam đoan thông tin trên là trung thực và đồng ý để cơ quan nhà nước dùng thông tin liên hệ "
           "của tôi để xử lý và trả lời phản ánh, kiến nghị này."),
        validators=[DataRequired(message=_l("Cần đánh dấu ô cam đoan để gửi."))])
    #: Honeypot: hidden from people (and from assistive technology); robots fill it in.
    website = StringField(_l("Để trống ô này"), validators=[Optional()])
    form_key = HiddenField()


class TrackForm(FlaskForm):
    code = StringField(_l("Mã PAKN"))
    contact = StringField(_l("Thư điện tử hoặc số điện thoại đã khai khi gửi"))


class SupplyInfoForm(FlaskForm):
    """The submitter's reply to a request for more information (from the office or the agency)."""

    message = TextAreaField(_l("Thông tin bổ sung"))
