"""Files of a case: attachments (uploads and generated files), generated documents, and the
JSON form in which the API takes a file (base64, see :class:`UploadSchema`).

Which files a user may list or open is decided by :mod:`pakn.access`
(``visible_attachments``, ``visible_documents``), never here.
"""
from __future__ import annotations

import base64
import binascii

from flask import url_for
from flask_babel import gettext
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from workflows.engine import N_
from workflows.payloads import IntakeSchema

from .base import Instant, OutputSchema

#: The content types a stored file can have (``pakn.storage.ACCEPTED_TYPES``).
FILE_TYPES = ("application/pdf", "image/jpeg", "image/png", "application/msword",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _url(feedback_id: int, attachment_id: int) -> str:
    """The API's download URL of a file of a case already loaded in this request."""
    from ..extensions import db
    from ..models import Feedback

    return url_for("api.case_attachment", code=db.session.get(Feedback, feedback_id).code,
                   attachment_id=attachment_id)


class AttachmentSchema(OutputSchema):
    """A file of a case; ``url`` downloads it (through the same access check)."""

    id = fields.Integer(required=True)
    name = fields.String(attribute="original_name", required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    answer_id = fields.Integer(allow_none=True, metadata={"description": "Set for the files of an answer revision."})
    created_at = Instant(required=True)
    url = fields.Method("get_url", metadata={"type": "string"})

    def get_url(self, attachment) -> str:
        return _url(attachment.feedback_id, attachment.id)


class DocumentSchema(OutputSchema):
    """A generated administrative document (NĐ 30/2020): its number, date, and its two files."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": ["forwarding", "answer"]})
    kind_label = fields.Function(lambda d: gettext(d.kind_label), metadata={"type": "string"})
    reference = fields.String(required=True, metadata={"example": "05/VP-KSTT"})
    issued_on = fields.Date(required=True)
    issued_at = Instant(required=True)
    subject = fields.String(required=True)
    agency = fields.Function(lambda d: {"code": d.agency.code, "name": d.agency.name},
                             metadata={"type": "object", "properties": {
                                 "code": {"type": "string"}, "name": {"type": "string"}}})
    docx_url = fields.Method("get_docx_url", metadata={"type": "string"})
    pdf_url = fields.Method("get_pdf_url", metadata={"type": "string"})

    def get_docx_url(self, document) -> str:
        return _url(document.feedback_id, document.docx_attachment_id)

    def get_pdf_url(self, document) -> str:
        return _url(document.feedback_id, document.pdf_attachment_id)


class Base64Bytes(fields.String):
    """Bytes sent as standard base64 (RFC 4648 §4, padding required)."""

    default_error_messages = {"base64": N_("Nội dung tệp phải được mã hóa base64.")}

    def _deserialize(self, value, attr, data, **kwargs) -> bytes:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise self.make_error("base64") from None


class UploadSchema(Schema):
    """One file: its name (for display only; the type is read from the bytes) and content."""

    class Meta:
        unknown = RAISE

    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    content = Base64Bytes(required=True, metadata={"format": "byte"})


class UploadsSchema(Schema):
    """The ``attachments`` key of a request that carries files."""

    class Meta:
        unknown = RAISE

    attachments = fields.List(fields.Nested(UploadSchema), load_default=list)


class IntakeRequestSchema(IntakeSchema):
    """``POST /cases``: an item received on the submitter's behalf, with its scanned files.

    Only for the description: the API loads ``attachments`` with :class:`UploadsSchema` and
    hands the rest to ``receive_feedback``, which validates it with ``IntakeSchema``.
    """

    attachments = fields.List(fields.Nested(UploadSchema), load_default=list)


def load_uploads(data: dict) -> list[tuple[str, bytes]]:
    """Remove ``attachments`` from ``data`` and return them as ``(filename, bytes)`` pairs.

    Raises ValidationError with the messages under ``attachments``.
    """
    loaded = UploadsSchema().load({"attachments": data.pop("attachments", [])})
    if not isinstance(loaded["attachments"], list):
        raise ValidationError({"attachments": [N_("Không phải danh sách hợp lệ.")]})
    return [(item["filename"], item["content"]) for item in loaded["attachments"]]
