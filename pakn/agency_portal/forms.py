"""Forms of the agency portal: one per workflow action the portal offers.

The forms only carry the fields (and the CSRF token, checked app-wide by CSRFProtect): the
rules are the workflow's payload schemas, applied by :func:`pakn.operations.apply_transition`,
whose localized per-field messages are shown back on the same form with what was typed.
Each form sends the case version it was loaded with, so a form posted after someone else
changed the case is refused instead of overwriting (409).

Only the fields listed in a form's ``PAYLOAD`` reach the operation: anything else posted
(``agency``, ``subject``, ``state``, …) is ignored, so classification and routing cannot be
changed from here.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, MultipleFileField, SelectField, StringField, TextAreaField

from workflows.glossary import AnswerOutcome


class ActionForm(FlaskForm):
    """Base: the version the form was loaded with, and the payload it carries."""

    PAYLOAD: tuple[str, ...] = ()
    version = HiddenField()

    def payload(self) -> dict:
        """The non-empty payload fields as typed (the schema trims, checks and converts)."""
        data = {}
        for name in self.PAYLOAD:
            value = self[name].data
            if isinstance(value, str):
                value = value.replace("\r\n", "\n")
                if not value.strip():
                    continue
            if value is None:
                continue
            data[name] = value
        return data

    def set_errors(self, fields: dict) -> None:
        """Attach the operation's per-field messages (already translated) to the fields."""
        for name, messages in fields.items():
            target = self[name] if name in self.PAYLOAD or name in EXTRA_FIELDS else None
            flat = _flatten(messages)
            if target is not None:
                target.errors = list(target.errors or []) + flat
            else:
                self.form_errors.extend(flat)


#: Form fields that are not part of the payload but may carry errors (files).
EXTRA_FIELDS = ("attachments",)


def _flatten(messages) -> list[str]:
    if isinstance(messages, dict):
        return [m for v in messages.values() for m in _flatten(v)]
    if isinstance(messages, (list, tuple)):
        return [m for v in messages for m in _flatten(v)]
    return [str(messages)]


class AcceptForm(ActionForm):
    PAYLOAD = ("assignee", "note")
    assignee = SelectField(_l("Giao cho cán bộ"), choices=[], validate_choice=False)
    note = TextAreaField(_l("Ghi chú (nội bộ cơ quan)"))

    def payload(self) -> dict:
        data = super().payload()
        if "assignee" in data and str(data["assignee"]).isdigit():
            data["assignee"] = int(data["assignee"])
        return data


class ReturnForm(ActionForm):
    PAYLOAD = ("reason", "suggested_agency")
    reason = TextAreaField(_l("Lý do không thuộc thẩm quyền"))
    suggested_agency = SelectField(_l("Cơ quan có thẩm quyền (đề xuất)"), choices=[], validate_choice=False)


class MessageForm(ActionForm):
    PAYLOAD = ("message",)
    message = TextAreaField(_l("Nội dung"))


class ExtensionForm(ActionForm):
    PAYLOAD = ("reason", "new_due_date")
    new_due_date = StringField(_l("Hạn mới (nội bộ)"), render_kw={"type": "date"})
    reason = TextAreaField(_l("Lý do gia hạn"))


class CommentForm(ActionForm):
    PAYLOAD = ("comment",)
    comment = TextAreaField(_l("Ý kiến của lãnh đạo"))


class SubmitForm(ActionForm):
    """Submitting issues the numbered văn bản trả lời: who signs it, and with which authority."""

    PAYLOAD = ("signer_name", "signer_authority")
    signer_name = StringField(_l("Người ký"))
    signer_authority = TextAreaField(_l("Thẩm quyền ký (mỗi dòng một dòng in, ví dụ: KT. GIÁM ĐỐC / PHÓ GIÁM ĐỐC)"))

    def signer(self):
        """The signer, or a dict of field errors (Vietnamese msgids)."""
        from .documents import signer_from

        return signer_from(self.signer_name.data, self.signer_authority.data)


class DraftForm(ActionForm):
    """The văn bản trả lời in the structured parts of domain §6."""

    PAYLOAD = ("summary", "findings", "outcome", "measures", "responsible_body", "legal_refs", "body")
    summary = TextAreaField(_l("Trích yếu nội dung trả lời"))
    findings = TextAreaField(_l("Kết quả rà soát theo các tiêu chí (cần thiết, hợp lý, hợp pháp, đơn giản, "
                                "khả thi, thống nhất, phù hợp điều ước quốc tế)"))
    outcome = SelectField(_l("Hướng xử lý"), choices=[], validate_choice=False)
    measures = TextAreaField(_l("Biện pháp cụ thể"))
    responsible_body = StringField(_l("Cơ quan chịu trách nhiệm thực hiện"))
    legal_refs = TextAreaField(_l("Căn cứ pháp lý"))
    body = TextAreaField(_l("Nội dung văn bản trả lời"))
    attachments = MultipleFileField(_l("Tài liệu kèm theo (PDF, DOC, DOCX, XLS, XLSX, JPG, PNG)"))

    def uploads(self) -> list:
        """The files chosen (an empty file input gives none)."""
        return [f for f in (self.attachments.data or []) if getattr(f, "filename", None)]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from flask_babel import gettext

        self.outcome.choices = [("", gettext("— Chọn hướng xử lý —"))] + [
            (code, gettext(label)) for code, label in AnswerOutcome.choices()]


#: The workflow triggers the portal offers, with their forms.
FORMS: dict[str, type[ActionForm]] = {
    "accept": AcceptForm,
    "return_not_competent": ReturnForm,
    "agency_request_info": MessageForm,
    "supply_info_to_agency": MessageForm,
    "post_progress": MessageForm,
    "record_extension": ExtensionForm,
    "draft_answer": DraftForm,
    "approve_answer": CommentForm,
    "send_back_draft": CommentForm,
    "submit_answer": SubmitForm,
}
