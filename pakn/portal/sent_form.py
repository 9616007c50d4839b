"""The submission form as sent, read without building the WTForms form, when every check of
the form passes.

Building :class:`~pakn.portal.forms.SubmissionForm` on a POST binds fifteen fields, signs a
new CSRF token that nobody will see (the answer is a redirect to the receipt) and validates:
about a tenth of the CPU of a submission (bench/RESULTS.md, issue 11). Most submissions pass
every check of the form, so :func:`read` does what the form would do for them — the same raw
values into the same ``.data`` (WTForms' rules, field by field), the same CSRF check
(Flask-WTF's :func:`~flask_wtf.csrf.validate_csrf`, same settings), the declaration ticked, the
honeypot empty, a well-formed form key, no U+FFFD in the texts, the files acceptable — and
returns ``None`` as soon as one fails, so that the view builds the form and reports every
error as before. ``tests/test_portal_sent_form.py`` compares both readings on generated forms.
"""
from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

from flask import current_app, request
from flask_wtf.csrf import validate_csrf
from werkzeug.datastructures import CombinedMultiDict
from wtforms import BooleanField, MultipleFileField, RadioField, SelectField, StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import ValidationError

from . import attachments, idempotency
from .forms import TEXT_FIELDS, SubmissionForm


@functools.cache
def _rules() -> tuple[tuple[str, str, Any], ...]:
    """(name, kind, default) of each field of the form, kind by its WTForms class."""
    out = []
    for name in dir(SubmissionForm):
        unbound = getattr(SubmissionForm, name)
        if name.startswith("_") or not isinstance(unbound, UnboundField):
            continue
        cls, default = unbound.field_class, unbound.kwargs.get("default")
        if issubclass(cls, BooleanField):
            kind = "bool"
        elif issubclass(cls, MultipleFileField):
            kind = "files"
        elif issubclass(cls, (SelectField, RadioField)):
            kind = "choice"  # coerce=str, validate_choice=False: the value as sent, else the default
        elif issubclass(cls, StringField):  # StringField, TextAreaField, HiddenField
            kind = "text"
        else:
            raise TypeError(f"sent_form: no reading for {cls.__name__} ({name})")
        out.append((name, kind, default))
    return tuple(out)


def _formdata():
    """What Flask-WTF hands the form: the files and the fields of a submitted POST."""
    if request.files:
        return CombinedMultiDict((request.files, request.form))
    return request.form


def values(formdata) -> dict[str, Any]:
    """Each field's ``.data`` as WTForms sets it from ``formdata`` (``Field.process``)."""
    out: dict[str, Any] = {}
    for name, kind, default in _rules():
        sent = formdata.getlist(name) if name in formdata else []
        if kind == "text":
            out[name] = sent[0] if sent else default
        elif kind == "choice":
            out[name] = str(sent[0]) if sent else (str(default) if default is not None else None)
        elif kind == "bool":
            out[name] = bool(sent) and sent[0] not in BooleanField.false_values
        else:
            out[name] = sent
    return out


def read() -> SimpleNamespace | None:
    """The sent form (each field with its ``.data``) if it passes every check of the form,
    else None: the view then builds the form, which reports each error."""
    if not request.form:
        return None
    data = values(_formdata())
    if (data["website"] or "").strip() or not data["declaration"] or not idempotency.valid_key(data["form_key"]):
        return None
    if any("\ufffd" in (data[name] or "") for name in TEXT_FIELDS):
        return None
    config = current_app.config
    if config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(request.form.get(config.get("WTF_CSRF_FIELD_NAME", "csrf_token")))
        except ValidationError:
            return None
    sent = SimpleNamespace(**{name: SimpleNamespace(data=value) for name, value in data.items()})
    files = [f for f in (sent.attachments.data or []) if getattr(f, "filename", None)]
    if files and attachments.refusals(files):
        return None
    return sent
