"""Payload schemas of the PAKN transitions (marshmallow, ``unknown=RAISE``).

Text is stored NFC, trimmed, with control characters refused, and lengths count code
points. Messages are Vietnamese msgids; the app translates them when it answers.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .glossary import AnswerOutcome, Channel, ContentCategory, Kind, N_, RejectReason, Subject

# C0/C1 controls except tab, LF and CR; lone surrogates; U+FFFE/U+FFFF.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_PHONE_STRIP = re.compile(r"[\s.\-()]")
_PHONE = re.compile(r"^(?:\+84|0)\d{9,10}$")


class Text(fields.String):
    """A trimmed NFC string without control characters; ``multiline`` allows line breaks."""

    default_error_messages = {
        "control": N_("Có ký tự không hợp lệ (ký tự điều khiển)."),
        "blank": N_("Không được để trống."),
        "too_long": N_("Tối đa {max} ký tự."),
        "too_short": N_("Tối thiểu {min} ký tự."),
        "newline": N_("Không được xuống dòng."),
    }

    def __init__(self, *, max_length: int = 255, min_length: int = 1, multiline: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.min_length = min_length
        self.multiline = multiline

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if _BAD_CHARS.search(text):
            raise self.make_error("control")
        text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").strip()
        if not self.multiline and ("\n" in text or "\r" in text):
            raise self.make_error("newline")
        if not text:
            raise self.make_error("blank")
        if len(text) > self.max_length:
            raise ValidationError(str(self.error_messages["too_long"]).format(max=self.max_length))
        if len(text) < self.min_length:
            raise ValidationError(str(self.error_messages["too_short"]).format(min=self.min_length))
        return text


class Code(fields.String):
    """A code or reference typed by a client (field, agency, case code): no control characters
    or lone surrogates. Unchecked, they reach the database, which refuses them (NUL in
    PostgreSQL text, a surrogate in any UTF-8 encoder) with an error instead of a 4xx."""

    default_error_messages = {"control": Text.default_error_messages["control"]}

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if _BAD_CHARS.search(text):
            raise self.make_error("control")
        return text


class Phone(fields.String):
    """A Vietnamese phone number, stored as digits with a leading 0 or +84."""

    default_error_messages = {"phone": N_("Số điện thoại không hợp lệ (ví dụ: 0912 345 678).")}

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        text = _PHONE_STRIP.sub("", super()._deserialize(value, attr, data, **kwargs))
        if not _PHONE.match(text):
            raise self.make_error("phone")
        return text


class Email(fields.Email):
    """An e-mail address, lower-cased domain, never containing line breaks."""

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        text = super()._deserialize(value.strip() if isinstance(value, str) else value, attr, data, **kwargs)
        local, _, domain = text.rpartition("@")
        return f"{local}@{domain.lower()}"


def _choice(enum) -> validate.OneOf:
    return validate.OneOf(enum.codes(), error=N_("Giá trị không hợp lệ. Chọn một trong: {choices}."))


@functools.cache
def schema(cls: type[Schema]) -> Schema:
    """One instance per payload schema, reused: building a marshmallow schema copies its
    declared fields (≈ 0.1 ms a submission, twice). These schemas keep no state between loads."""
    return cls()


class PayloadSchema(Schema):
    """Base of every payload: unknown fields are refused, never ignored."""

    class Meta:
        unknown = RAISE


class _SubmitterFields(PayloadSchema):
    kind = fields.String(required=True, validate=_choice(Kind))
    subject = fields.String(load_default=None, validate=_choice(Subject))
    field = Code(load_default=None, validate=validate.Length(max=50))
    title = Text(required=True, min_length=5, max_length=250)
    content = Text(required=True, min_length=20, max_length=20000, multiline=True)
    proposal = Text(load_default=None, max_length=10000, multiline=True)
    submitter_name = Text(required=True, min_length=2, max_length=200)
    submitter_organisation = Text(load_default=None, max_length=250)
    submitter_address = Text(required=True, min_length=5, max_length=500)
    submitter_phone = Phone(load_default=None)
    submitter_email = Email(load_default=None)

    @validates_schema(skip_on_field_errors=False)  # show every problem at once
    def _contact(self, data: dict, **kwargs) -> None:
        if not data.get("submitter_phone") and not data.get("submitter_email"):
            message = N_("Cần ít nhất một trong hai: số điện thoại hoặc thư điện tử.")
            raise ValidationError({"submitter_phone": [message], "submitter_email": [message]})
        if data.get("kind") == Kind.KIEN_NGHI and not data.get("proposal"):
            raise ValidationError(
                {"proposal": [N_("Kiến nghị cần nêu phương án xử lý hoặc sáng kiến đề xuất.")]})


class SubmissionSchema(_SubmitterFields):
    """A citizen's or business's submission through the public form or API."""


class IntakeSchema(_SubmitterFields):
    """An item entered by office staff on the submitter's behalf (post, phone, e-mail, VPCP…)."""

    channel = fields.String(required=True, validate=_choice(Channel))
    received_at = fields.AwareDateTime(required=True, default_timezone=None)
    original_received_at = fields.AwareDateTime(load_default=None)
    external_ref = Text(load_default=None, max_length=100)
    content_category = fields.String(load_default=None, validate=_choice(ContentCategory))
    # Where another system placed the item (Open311 lat/long/address_string) and the links to
    # attachments it holds (never fetched): staff-only, see pakn.open311 and pakn.intake_batch.
    location_lat = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(
        -90, 90, error=N_("Vĩ độ phải trong khoảng từ -90 đến 90.")))
    location_long = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(
        -180, 180, error=N_("Kinh độ phải trong khoảng từ -180 đến 180.")))
    location_address = Text(load_default=None, max_length=500)
    reference_urls = fields.List(
        fields.Url(schemes={"http", "https"}, error_messages={"invalid": N_("Đường dẫn không hợp lệ.")}),
        load_default=None, validate=validate.Length(max=20, error=N_("Tối đa {max} đường dẫn.")))


class MessageSchema(PayloadSchema):
    """A required free-text message (request for information, reasons, progress)."""

    message = Text(required=True, min_length=5, max_length=5000, multiline=True)


class OptionalNoteSchema(PayloadSchema):
    note = Text(load_default=None, max_length=5000, multiline=True)


class SupplyInfoSchema(PayloadSchema):
    message = Text(required=True, min_length=5, max_length=20000, multiline=True)


class RejectSchema(PayloadSchema):
    reason_code = fields.String(required=True, validate=_choice(RejectReason))
    guidance = Text(load_default=None, max_length=5000, multiline=True)


class MergeSchema(PayloadSchema):
    duplicate_of = Code(required=True, validate=validate.Length(min=1, max=30))
    note = Text(load_default=None, max_length=2000, multiline=True)


class ClassificationFields(PayloadSchema):
    subject = fields.String(required=True, validate=_choice(Subject))
    content_category = fields.String(required=True, validate=_choice(ContentCategory))
    field = Code(required=True, validate=validate.Length(min=1, max=50))
    kind = fields.String(load_default=None, validate=_choice(Kind))
    note = Text(load_default=None, max_length=5000, multiline=True)


class ForwardSchema(ClassificationFields):
    agency = Code(required=True, validate=validate.Length(min=1, max=50))


class HandleInOfficeSchema(ClassificationFields):
    """Classification of an item the office (UBND tỉnh) handles itself."""


class AcceptSchema(PayloadSchema):
    # A user id: at most PostgreSQL's integer (pakn.models.types.MAX_ID; workflows/ imports no pakn).
    assignee = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    note = Text(load_default=None, max_length=2000, multiline=True)


class ReturnNotCompetentSchema(PayloadSchema):
    reason = Text(required=True, min_length=5, max_length=5000, multiline=True)
    suggested_agency = Code(load_default=None, validate=validate.Length(max=50))


class ExtensionSchema(PayloadSchema):
    reason = Text(required=True, min_length=5, max_length=5000, multiline=True)
    new_due_date = fields.Date(required=True)


class DraftAnswerSchema(PayloadSchema):
    """The văn bản trả lời in structured parts (domain §6)."""

    summary = Text(required=True, min_length=5, max_length=2000, multiline=True)
    findings = Text(required=True, min_length=5, max_length=20000, multiline=True)
    outcome = fields.String(required=True, validate=_choice(AnswerOutcome))
    measures = Text(load_default=None, max_length=10000, multiline=True)
    responsible_body = Text(load_default=None, max_length=500)
    legal_refs = Text(load_default=None, max_length=5000, multiline=True)
    body = Text(required=True, min_length=20, max_length=50000, multiline=True)


class ReviewSchema(PayloadSchema):
    comment = Text(load_default=None, max_length=5000, multiline=True)


class SendBackSchema(PayloadSchema):
    comment = Text(required=True, min_length=5, max_length=5000, multiline=True)


class SubmitAnswerSchema(PayloadSchema):
    document_number = Text(load_default=None, max_length=100)
    document_date = fields.Date(load_default=None)


class PublishSchema(PayloadSchema):
    """The public version: only these redacted texts are ever published."""

    public_title = Text(required=True, min_length=5, max_length=250)
    public_summary = Text(required=True, min_length=5, max_length=5000, multiline=True)
    public_answer = Text(required=True, min_length=20, max_length=50000, multiline=True)


class WithdrawSchema(PayloadSchema):
    reason = Text(load_default=None, max_length=2000, multiline=True)


class EmptySchema(PayloadSchema):
    """No payload."""
