"""The submission read without WTForms (pakn.portal.sent_form) reads what the form reads.

For generated forms — fields missing, repeated, empty, "false", text with U+FFFD, a valid or a
forged CSRF token, a good or a malformed form key, the honeypot filled or not, files or none
— the reader gives each field the ``.data`` that :class:`SubmissionForm` gives it, and it
accepts a form exactly when the form's own checks would: when it does not, the view builds
the form and reports the errors (tests/test_portal.py shows those pages).
"""
from __future__ import annotations

import io

from flask import session
from flask_wtf.csrf import generate_csrf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage, MultiDict

from pakn.portal import idempotency, sent_form
from pakn.portal.forms import SubmissionForm

from .authz_support import simple_pdf
from .portal_support import FORM

NAMES = ("kind", "subject", "field", "title", "content", "proposal", "submitter_name", "submitter_organisation",
         "submitter_address", "submitter_phone", "submitter_email", "declaration", "website", "form_key")
VALUES = st.one_of(st.sampled_from(["", "y", "false", "False", "0", "phan_anh", "kien_nghi", " ", "\ufffd",
                                    "Nguyễn Văn An", "xay_dung"]), st.text(max_size=12))
SOME = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _csrf(app) -> tuple[str, str]:
    """A signed CSRF token and the session's raw token it was made from."""
    with app.test_request_context("/gop-y"):
        signed = generate_csrf()
        return signed, session["csrf_token"]


@st.composite
def sent_forms(draw):
    pairs = []
    for name in NAMES:
        for value in draw(st.lists(VALUES, max_size=2)):
            pairs.append((name, value))
    good_key = draw(st.booleans())
    if good_key:
        pairs = [(n, v) for n, v in pairs if n != "form_key"] + [("form_key", idempotency.new_key())]
    return pairs, draw(st.sampled_from(["valid", "forged", "missing"])), draw(st.booleans())


def _read_both(app, pairs, token_kind: str, with_file: bool):
    signed, raw = _csrf(app)
    data = MultiDict(pairs)
    if token_kind == "valid":
        data.add("csrf_token", signed)
    elif token_kind == "forged":
        data.add("csrf_token", signed[:-2] + ("AA" if not signed.endswith("AA") else "BB"))
    if with_file:
        data.add("attachments", FileStorage(io.BytesIO(simple_pdf()), "giay-to.pdf", "attachments",
                                            "application/pdf"))
    with app.test_request_context("/gop-y", method="POST", data=data, content_type="multipart/form-data"):
        session["csrf_token"] = raw
        mine = sent_form.values(sent_form._formdata())
        accepted = sent_form.read() is not None
        form = SubmissionForm()
        theirs = {name: form[name].data for name in mine}
        valid = form.validate()
        files = [f for f in form.attachments.data or [] if getattr(f, "filename", None)]
        checks = (valid and not (form.website.data or "").strip() and idempotency.valid_key(form.form_key.data)
                  and not any("\ufffd" in (form[n].data or "") for n in ("title", "content", "proposal",
                                                                        "submitter_name", "submitter_organisation",
                                                                        "submitter_address", "submitter_phone",
                                                                        "submitter_email")))
        if files:
            from pakn.portal import attachments
            checks = checks and not attachments.refusals(files)
    for name in ("attachments",):  # FileStorage objects: compare what was sent
        mine[name] = [(f.filename, f.content_type) for f in mine[name]]
        theirs[name] = [(f.filename, f.content_type) for f in theirs[name] or []]
    return mine, theirs, accepted, checks


@SOME
@given(sent=sent_forms())
def test_every_field_reads_as_the_form_reads_it_and_the_same_forms_pass(app, sent):
    pairs, token_kind, with_file = sent
    mine, theirs, accepted, checks = _read_both(app, pairs, token_kind, with_file)
    assert mine == theirs
    assert accepted == checks


def test_a_complete_form_passes_and_each_failed_check_is_left_to_the_form(app):
    good = [(k, v) for k, v in FORM.items() if k != "form_key"] + [("form_key", idempotency.new_key())]
    assert _read_both(app, good, "valid", True)[2] is True
    for broken in (
        [(k, v) for k, v in good if k != "declaration"],  # the declaration not ticked
        [(k, "") if k == "form_key" else (k, v) for k, v in good],  # no form key
        good + [("website", "http://spam.example")],  # the honeypot filled in
        [(k, "Ti\ufffdu đề") if k == "title" else (k, v) for k, v in good],  # not Unicode
    ):
        assert _read_both(app, broken, "valid", False)[2] is False
    assert _read_both(app, good, "forged", False)[2] is False
    assert _read_both(app, good, "missing", False)[2] is False
