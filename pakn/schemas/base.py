"""Vietnamese messages for marshmallow, and what every output schema shares.

Why marshmallow is patched here, once: the payload schemas (``workflows/payloads.py``) are
plain marshmallow and rely on its built-in English messages ("Missing data for required
field.", "Unknown field.", "Not a valid integer.", …). Those messages reach citizens and
staff in every 422, and the app translates messages with gettext, whose *source* language
is Vietnamese: an English string would pass through untranslated. Instead of mapping
English strings back at every place an error is raised (the operations layer, the API, the
forms), :func:`localize_marshmallow` replaces marshmallow's defaults with Vietnamese msgids,
at import of :mod:`pakn.schemas` (``create_app`` imports the API, which imports this).

Marshmallow copies default messages into a field — and ``fields.Email`` and ``OneOf`` into
their validators, ``Range`` its formatted texts — when the field is *constructed*, i.e.
when a schema class is defined. The payload schemas are defined before this module runs
(the models import the workflow, which imports them), so patching the class defaults alone
would not reach them: :func:`localize_marshmallow` also rewrites the copies held by every
schema class already defined, replacing only messages still equal to marshmallow's English
default (a schema's own message is never touched).
"""
from __future__ import annotations

from typing import Any, Iterator

from flask_babel import gettext
from marshmallow import Schema, fields, validate

from workflows.engine import N_
from workflows.glossary import Role
from workflows.pakn import WORKFLOW

# -- the Vietnamese defaults -------------------------------------------------------------
#: Field class → its messages in Vietnamese (merged along the MRO like marshmallow does).
FIELD_MESSAGES: dict[type[fields.Field], dict[str, str]] = {
    fields.Field: {
        "required": N_("Trường này là bắt buộc."),
        "null": N_("Trường này không được để trống (null)."),
        "validator_failed": N_("Giá trị không hợp lệ."),
    },
    fields.String: {
        "invalid": N_("Không phải chuỗi ký tự hợp lệ."),
        "invalid_utf8": N_("Chuỗi ký tự không đúng mã UTF-8."),
    },
    fields.Number: {"invalid": N_("Không phải số hợp lệ."), "too_large": N_("Số quá lớn.")},
    fields.Integer: {"invalid": N_("Không phải số nguyên hợp lệ.")},
    fields.Float: {"special": N_("Không chấp nhận giá trị số đặc biệt (NaN, vô cực).")},
    fields.Decimal: {"special": N_("Không chấp nhận giá trị số đặc biệt (NaN, vô cực).")},
    fields.Boolean: {"invalid": N_("Không phải giá trị đúng/sai hợp lệ.")},
    fields.DateTime: {
        "invalid": N_("Không phải ngày giờ hợp lệ (định dạng ISO 8601)."),
        "invalid_awareness": N_("Ngày giờ không đúng yêu cầu về múi giờ."),
        "format": N_("Không định dạng được «{input}» thành ngày giờ."),
    },
    fields.NaiveDateTime: {"invalid_awareness": N_("Ngày giờ không được kèm múi giờ.")},
    fields.AwareDateTime: {
        "invalid_awareness": N_("Ngày giờ phải kèm múi giờ (ví dụ 2026-10-02T09:00:00+07:00)."),
    },
    fields.Time: {
        "invalid": N_("Không phải giờ hợp lệ (định dạng HH:MM:SS)."),
        "format": N_("Không định dạng được «{input}» thành giờ."),
    },
    fields.Date: {
        "invalid": N_("Không phải ngày hợp lệ (định dạng YYYY-MM-DD)."),
        "format": N_("Không định dạng được «{input}» thành ngày."),
    },
    fields.TimeDelta: {
        "invalid": N_("Không phải khoảng thời gian hợp lệ."),
        "format": N_("Không định dạng được «{input}» thành khoảng thời gian."),
    },
    fields.Email: {"invalid": N_("Địa chỉ thư điện tử không hợp lệ.")},
    fields.Url: {"invalid": N_("Địa chỉ URL không hợp lệ.")},
    fields.UUID: {"invalid_uuid": N_("Không phải mã UUID hợp lệ.")},
    fields.IP: {"invalid_ip": N_("Không phải địa chỉ IP hợp lệ.")},
    fields.IPv4: {"invalid_ip": N_("Không phải địa chỉ IPv4 hợp lệ.")},
    fields.IPv6: {"invalid_ip": N_("Không phải địa chỉ IPv6 hợp lệ.")},
    fields.IPInterface: {"invalid_ip_interface": N_("Không phải giao diện IP hợp lệ.")},
    fields.IPv4Interface: {"invalid_ip_interface": N_("Không phải giao diện IPv4 hợp lệ.")},
    fields.IPv6Interface: {"invalid_ip_interface": N_("Không phải giao diện IPv6 hợp lệ.")},
    fields.List: {"invalid": N_("Không phải danh sách hợp lệ.")},
    fields.Tuple: {"invalid": N_("Không phải bộ giá trị hợp lệ.")},
    fields.Mapping: {"invalid": N_("Không phải đối tượng hợp lệ.")},
    fields.Nested: {"type": N_("Kiểu dữ liệu không hợp lệ.")},
    fields.Enum: {"unknown": N_("Giá trị không hợp lệ. Chọn một trong: {choices}.")},
}

#: Schema-level messages: a body that is not an object, and a field the schema does not know.
SCHEMA_MESSAGES = {
    "type": N_("Dữ liệu phải là một đối tượng (JSON object)."),
    "unknown": N_("Trường không được chấp nhận."),
}

#: Validator class → its message attributes in Vietnamese (read when the validator runs,
#: except ``default_message``, which is copied at construction).
VALIDATOR_MESSAGES: dict[type, dict[str, str]] = {
    # Every Length in pakn measures text, so the unit is "ký tự" (the same msgids as payloads.Text).
    validate.Length: {
        "message_min": N_("Tối thiểu {min} ký tự."),
        "message_max": N_("Tối đa {max} ký tự."),
        "message_all": N_("Độ dài phải từ {min} đến {max} ký tự."),
        "message_equal": N_("Độ dài phải đúng {equal} ký tự."),
    },
    validate.OneOf: {"default_message": N_("Giá trị không hợp lệ. Chọn một trong: {choices}.")},
    validate.NoneOf: {"default_message": N_("Giá trị không được chấp nhận.")},
    validate.ContainsOnly: {"default_message": N_("Có lựa chọn không thuộc danh sách: {choices}.")},
    validate.Equal: {"default_message": N_("Giá trị phải bằng {other}.")},
    validate.Regexp: {"default_message": N_("Giá trị không đúng định dạng.")},
    validate.Email: {"default_message": N_("Địa chỉ thư điện tử không hợp lệ.")},
    validate.URL: {"default_message": N_("Địa chỉ URL không hợp lệ.")},
    validate.Range: {
        "message_min": N_("Phải {min_op} {{min}}."),
        "message_max": N_("Phải {max_op} {{max}}."),
        "message_all": N_("Phải {min_op} {{min}} và {max_op} {{max}}."),
        "message_gte": N_("lớn hơn hoặc bằng"),
        "message_gt": N_("lớn hơn"),
        "message_lte": N_("nhỏ hơn hoặc bằng"),
        "message_lt": N_("nhỏ hơn"),
    },
}


def _merged(cls: type, table: dict[type, dict[str, str]]) -> dict[str, str]:
    """The messages of ``cls`` as marshmallow would merge them along the MRO."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        out.update(table.get(klass, {}))
    return out


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _field_tree(field: fields.Field) -> Iterator[fields.Field]:
    """A field and the fields inside it (list items, tuple members, mapping keys/values)."""
    yield field
    inner = [getattr(field, "inner", None), getattr(field, "key_field", None),
             getattr(field, "value_field", None), *getattr(field, "tuple_fields", ())]
    for sub in inner:
        if isinstance(sub, fields.Field):
            yield from _field_tree(sub)


def _range_texts(v: validate.Range, table: dict[str, str]) -> dict[str, str]:
    """The three texts a Range formats in its constructor, from the templates in ``table``."""
    min_op = table["message_gte"] if v.min_inclusive else table["message_gt"]
    max_op = table["message_lte"] if v.max_inclusive else table["message_lt"]
    return {"message_min": table["message_min"].format(min_op=min_op),
            "message_max": table["message_max"].format(max_op=max_op),
            "message_all": table["message_all"].format(min_op=min_op, max_op=max_op)}


_ENGLISH_FIELDS: dict[type, dict[str, str]] = {}
_ENGLISH_VALIDATORS: dict[type, dict[str, str]] = {}


def _relocalize(field: fields.Field) -> None:
    """Replace, in an already-built field, the messages still equal to the English defaults."""
    english, vietnamese = _merged(type(field), _ENGLISH_FIELDS), _merged(type(field), FIELD_MESSAGES)
    swap = {english[k]: vietnamese[k] for k in english if k in vietnamese}
    field.error_messages = {k: vietnamese[k] if english.get(k) == v and k in vietnamese else v
                            for k, v in field.error_messages.items()}
    for validator in field.validators:
        vi = _merged(type(validator), VALIDATOR_MESSAGES)
        en = _merged(type(validator), _ENGLISH_VALIDATORS)
        error = getattr(validator, "error", None)
        if isinstance(error, str):
            # fields.Email hands its own "invalid" message to its validator.
            if error in swap:
                validator.error = swap[error]
            elif error == en.get("default_message") and "default_message" in vi:
                validator.error = vi["default_message"]
        if isinstance(validator, validate.Range):
            before, after = _range_texts(validator, en), _range_texts(validator, vi)
            for attr, text in before.items():
                if validator.__dict__.get(attr) == text:
                    setattr(validator, attr, after[attr])


def localize_marshmallow() -> None:
    """Make marshmallow's built-in messages Vietnamese msgids, for schemas past and future.

    Idempotent: the English originals are remembered at the first call.
    """
    if not _ENGLISH_FIELDS:
        for cls in (fields.Field, *_subclasses(fields.Field)):
            own = cls.__dict__.get("default_error_messages")
            if own is not None:
                _ENGLISH_FIELDS[cls] = dict(own)
        for cls in VALIDATOR_MESSAGES:
            _ENGLISH_VALIDATORS[cls] = {k: getattr(cls, k) for k in VALIDATOR_MESSAGES[cls]}
    # Future fields, validators and schema instances read these class attributes.
    for cls, messages in FIELD_MESSAGES.items():
        cls.default_error_messages = {**cls.__dict__.get("default_error_messages", {}), **messages}
    for cls, messages in VALIDATOR_MESSAGES.items():
        for attr, text in messages.items():
            setattr(cls, attr, text)
    Schema.error_messages = {**Schema.error_messages, **SCHEMA_MESSAGES}
    # Fields built before now (the payload schemas) hold English copies: rewrite them.
    for schema_cls in _subclasses(Schema):
        for declared in getattr(schema_cls, "_declared_fields", {}).values():
            for field in _field_tree(declared):
                _relocalize(field)


localize_marshmallow()


# -- what the output schemas share ---------------------------------------------------------
class OutputSchema(Schema):
    """Base of the API's output schemas: dump only, instants in ISO 8601 (UTC)."""


def Instant(**kwargs: Any) -> fields.DateTime:  # noqa: N802 (reads like a field class)
    """An aware instant, dumped as ISO 8601 with its offset (always UTC in pakn)."""
    return fields.DateTime(format="iso", **kwargs)


def state_label(state: str | None) -> str | None:
    """The translated label of a workflow state."""
    return gettext(WORKFLOW.states[state].label) if state in WORKFLOW.states else None


def action_label(trigger: str) -> str:
    """The translated label of a workflow trigger (the raw name for an unknown one)."""
    transition = WORKFLOW.transitions.get(trigger)
    return gettext(transition.label) if transition else trigger


def role_label(role: str | None) -> str | None:
    """The translated label of a role (staff, submitter or system)."""
    try:
        return gettext(Role(role).label)
    except ValueError:
        return role


def coded_label(enum, code: str | None) -> str | None:
    """The translated label of a glossary code (kind, subject, channel, …)."""
    if code is None:
        return None
    try:
        return gettext(enum(code).label)
    except ValueError:
        return code
