"""Action forms built from the workflow's payload schemas, so the console never copies the rules.

A transition's marshmallow schema gives the fields (type, required, limits, choices); this
module adds the Vietnamese labels, the options of reference fields (agencies, fields, staff)
and turns a posted form back into the payload the operations layer loads.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Any

from flask_babel import gettext
from marshmallow import fields as mm
from sqlalchemy import select

from workflows.engine import N_, Transition

from ..extensions import db
from ..models import Agency, Feedback, Field, User
from ..schemas.action import describe_field

LABELS = {
    "kind": N_("Loại PAKN"), "subject": N_("Đối tượng"), "content_category": N_("Nội dung (Điều 5 NĐ 20/2008)"),
    "field": N_("Lĩnh vực"), "title": N_("Tiêu đề"), "content": N_("Nội dung"),
    "proposal": N_("Phương án, sáng kiến đề xuất"), "submitter_name": N_("Họ và tên người gửi"),
    "submitter_organisation": N_("Tổ chức"), "submitter_address": N_("Địa chỉ"),
    "submitter_phone": N_("Số điện thoại"), "submitter_email": N_("Thư điện tử"),
    "channel": N_("Kênh tiếp nhận"), "received_at": N_("Ngày giờ tiếp nhận thực tế"),
    "original_received_at": N_("Ngày tiếp nhận gốc (tại VPCP)"),
    "external_ref": N_("Số, ký hiệu văn bản đến hoặc mã tham chiếu"), "message": N_("Nội dung"),
    "note": N_("Ghi chú"), "reason_code": N_("Lý do không tiếp nhận"), "guidance": N_("Hướng dẫn người gửi"),
    "duplicate_of": N_("Mã PAKN trùng"), "agency": N_("Cơ quan được chuyển"), "assignee": N_("Người được giao"),
    "reason": N_("Lý do"), "suggested_agency": N_("Cơ quan có thẩm quyền (đề xuất)"),
    "new_due_date": N_("Thời hạn mới"), "summary": N_("Tóm tắt"), "findings": N_("Kết quả rà soát"),
    "outcome": N_("Hình thức xử lý"), "measures": N_("Biện pháp cụ thể"),
    "responsible_body": N_("Cơ quan chịu trách nhiệm"), "legal_refs": N_("Căn cứ pháp lý"),
    "body": N_("Nội dung văn bản trả lời"), "comment": N_("Ý kiến"), "document_number": N_("Số văn bản"),
    "document_date": N_("Ngày văn bản"), "public_title": N_("Tiêu đề công khai"),
    "public_summary": N_("Tóm tắt công khai"), "public_answer": N_("Nội dung trả lời công khai"),
    "code": N_("Mã PAKN"), "reference": N_("Số, ký hiệu văn bản"), "clerk": N_("Cán bộ Văn phòng"),
    # agency_merged (pakn.operations.admin.merge_agencies)
    "merged_from": N_("Cơ quan đã sáp nhập"), "from_agency": N_("Mã cơ quan cũ"),
    "to_agency": N_("Mã cơ quan tiếp nhận"),
}

#: Statuses of an answer revision (pakn.models.answer.ANSWER_STATUSES).
ANSWER_STATUS_LABELS = {
    "pending_approval": N_("Chờ lãnh đạo cơ quan duyệt"), "sent_back": N_("Lãnh đạo trả lại để sửa"),
    "approved": N_("Lãnh đạo đã duyệt"), "submitted": N_("Đã gửi Văn phòng, chờ kiểm tra"),
    "returned": N_("Văn phòng trả lại để xử lý lại"), "accepted": N_("Văn phòng đã chấp nhận"),
}

#: marshmallow's own messages, in the console's language.
MM_MESSAGES = {
    "Missing data for required field.": N_("Bắt buộc nhập."),
    "Field may not be null.": N_("Bắt buộc nhập."),
    "Not a valid integer.": N_("Không phải số nguyên hợp lệ."),
    "Not a valid date.": N_("Ngày không hợp lệ."),
    "Not a valid datetime.": N_("Ngày giờ không hợp lệ."),
    "Not a valid email address.": N_("Địa chỉ thư điện tử không hợp lệ."),
    "Not a valid string.": N_("Giá trị không hợp lệ."),
    "Unknown field.": N_("Trường không được chấp nhận."),
}


def field_errors(fields: dict) -> dict[str, list[str]]:
    """Translate an ``InvalidPayload.fields`` tree into ``{field: [messages]}``."""
    out: dict[str, list[str]] = {}
    for name, messages in (fields or {}).items():
        if isinstance(messages, dict):
            messages = [m for sub in messages.values() for m in (sub if isinstance(sub, list) else [sub])]
        if not isinstance(messages, (list, tuple)):
            messages = [messages]
        out[str(name)] = [gettext(MM_MESSAGES.get(str(m), str(m))) for m in messages]
    return out


@dataclass
class FormField:
    name: str
    label: str
    widget: str  # text, textarea, select, date, datetime, number, email
    required: bool
    value: Any = ""
    options: list[tuple[str, str]] = dc_field(default_factory=list)
    max_length: int | None = None
    errors: list[str] = dc_field(default_factory=list)


def _reference_options(name: str, case: Feedback | None) -> list[tuple[str, str]] | None:
    if name in ("agency", "suggested_agency"):
        rows = db.session.scalars(select(Agency).where(Agency.active.is_(True), Agency.is_office.is_(False))
                                  .order_by(Agency.name)).all()
        return [(a.code, a.name) for a in rows]
    if name == "field":
        rows = db.session.scalars(select(Field).where(Field.active.is_(True)).order_by(Field.name)).all()
        return [(f.code, f.name) for f in rows]
    if name == "assignee":
        agency_id = case.agency_id if case is not None else None
        rows = db.session.scalars(select(User).where(User.active.is_(True), User.agency_id == agency_id)
                                  .order_by(User.full_name)).all() if agency_id else []
        return [(str(u.id), u.full_name) for u in rows]
    return None


def build_fields(schema_cls: type | None, case: Feedback | None, values: dict | None = None,
                 errors: dict | None = None) -> list[FormField]:
    """The form fields of a payload schema, filled with ``values`` and ``errors``."""
    if schema_cls is None:
        return []
    values, errors = values or {}, errors or {}
    out = []
    for name, f in schema_cls().load_fields.items():
        d = describe_field(name, f)
        widget = "text"
        if d.get("multiline"):
            widget = "textarea"
        elif d.get("format") == "date":
            widget = "date"
        elif d.get("format") == "date-time":
            widget = "datetime"
        elif d.get("format") == "email":
            widget = "email"
        elif d["type"] == "integer":
            widget = "number"
        options = _reference_options(name, case)
        if options is None and d.get("choices"):
            labels = d.get("choice_labels") or {}
            options = [(c, labels.get(c, c)) for c in d["choices"]]
        if options is not None:
            widget = "select"
        out.append(FormField(name=name, label=gettext(LABELS.get(name, name)), widget=widget,
                             required=d["required"], value=values.get(name, "") or "",
                             options=options or [], max_length=d.get("max_length"),
                             errors=errors.get(name, [])))
    return out


def payload_from_form(schema_cls: type | None, form) -> dict[str, Any]:
    """The posted form as a payload: blank fields are left out (the schema's defaults and
    required checks apply), integers are converted when they look like integers."""
    if schema_cls is None:
        return {}
    payload: dict[str, Any] = {}
    for name, f in schema_cls().load_fields.items():
        raw = form.get(name, "")
        if raw is None or not str(raw).strip():
            continue
        if isinstance(f, mm.Integer) and str(raw).strip().lstrip("-").isdigit():
            payload[name] = int(str(raw).strip())
        else:
            payload[name] = raw
    return payload


def form_values(schema_cls: type | None, form) -> dict[str, str]:
    """What the user typed, to show again after a refusal (nothing is lost)."""
    if schema_cls is None:
        return {}
    return {name: form.get(name, "") for name in schema_cls().load_fields}


def defaults_for(transition: Transition, case: Feedback) -> dict[str, str]:
    """Sensible starting values: the case's current classification for the classify decisions."""
    if transition.trigger in ("forward", "handle_in_office"):
        return {"subject": case.subject or "", "content_category": case.content_category or "",
                "field": case.field.code if case.field else "", "kind": case.kind or ""}
    return {}
