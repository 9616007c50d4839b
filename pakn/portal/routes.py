"""Views of the citizen portal: load, check, call one operation, render."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re

from flask import (
    Response, abort, current_app, flash, redirect, render_template, request, session, url_for,
)
from flask_babel import gettext as _, lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workflows.calendar import TZ
from workflows.glossary import Kind, Subject
from workflows.pakn import WORKFLOW
from workflows.payloads import SubmissionSchema, schema as payload_schema

from .. import reference, storage
from ..extensions import csrf, db
from ..models import Feedback, Field
from ..models.types import utcnow
from ..operations import (
    InvalidPayload, OperationError, SubmitterActor, apply_transition, find_by_tracking, new_tracking_token, open_visit,
    receive_feedback, transaction,
)
from ..schemas.action import refusal_message
from ..operations.clock import clock_settings, settings_of
from ..settings import megabytes, value as setting
from ..text import CONTROL_CHARS, clean_input
from ..spreadsheet import safe_row
from . import attachments, bp, idempotency, public, sent_form
from .forms import PAYLOAD_FIELDS, TEXT_FIELDS, SubmissionForm, SupplyInfoForm, TrackForm

#: Pages that show or accept personal data: never cached by the browser or a proxy.
PRIVATE_ENDPOINTS = {"portal.submit", "portal.receipt", "portal.track", "portal.status", "portal.supply_info"}
#: The submitter's replies to a request for more information: to the office, or to the agency.
REPLY_TRIGGERS = ("supply_info", "supply_info_to_agency")
_PHONE_STRIP = re.compile(r"[\s.\-()]")
_LIMIT_MSG = re.compile(r"^(Tối đa|Tối thiểu) (\d+) ký tự\.$")
_clean = clean_input  # query-string and look-up values (see pakn.text.clean_input)


@bp.after_request
def _no_store(response: Response) -> Response:
    if request.endpoint in PRIVATE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_context_processor
def _labels():
    return {"KIND_LABELS": {k.value: k.label for k in Kind}, "SUBJECT_LABELS": {s.value: s.label for s in Subject}}


# -- guidance -----------------------------------------------------------------------------
@bp.route("/huong-dan")
def guidance():
    # The time limits in force (an admin's version from /admin/clock, else the legal defaults).
    return render_template("portal/guidance.html", clock=clock_settings())


# -- submission ---------------------------------------------------------------------------
def _message(text: str) -> str:
    """A payload error message in the visitor's language (schema messages are msgids)."""
    text = str(text)
    if text == "Not a valid email address.":
        return _("Thư điện tử không hợp lệ (ví dụ: ten@vidu.vn).")
    limit = _LIMIT_MSG.match(text)
    if limit:
        msgid = "Tối đa {max} ký tự." if limit.group(1) == "Tối đa" else "Tối thiểu {min} ký tự."
        return _(msgid).format(max=limit.group(2), min=limit.group(2))
    return _(text)


def _active_fields() -> list[tuple[str, str]]:
    return [tuple(r) for r in db.session.execute(
        select(Field.code, Field.name).where(Field.active.is_(True)).order_by(Field.name)).all()]


def _field_choices() -> list[tuple[str, str]]:
    """The form's field menu (the fields are kept per process until they change)."""
    return [("", _("Chưa rõ, hoặc lĩnh vực khác"))] + reference.cached("active_fields", _active_fields)


def _payload(form: SubmissionForm) -> dict:
    """The submission as the workflow's schema expects it: empty optional fields are absent."""
    data = {"kind": form.kind.data or "", "title": form.title.data or "", "content": form.content.data or "",
            "submitter_name": form.submitter_name.data or "", "submitter_address": form.submitter_address.data or ""}
    for name in ("subject", "field"):  # codes: control characters never belong in one
        value = _clean(getattr(form, name).data, 50)
        if value:
            data[name] = value
    for name in ("proposal", "submitter_organisation", "submitter_phone", "submitter_email"):
        value = getattr(form, name).data
        if value and value.strip():
            data[name] = value
    return data


def _uploaded_files(form: SubmissionForm) -> list:
    return [f for f in (form.attachments.data or []) if getattr(f, "filename", None)]


def _files_digest(files: list) -> list[tuple[str, str]]:
    out = []
    for f in files:
        digest = hashlib.sha256()
        for chunk in iter(lambda: f.stream.read(65536), b""):
            digest.update(chunk)
        f.stream.seek(0)
        out.append((f.filename, digest.hexdigest()))
    return out


def _add_errors(errors: dict[str, list[str]], fields) -> None:
    for name, messages in fields.items():
        if isinstance(messages, dict):  # nested: flatten under the top-level name
            messages = [m for ms in messages.values() for m in (ms if isinstance(ms, list) else [ms])]
        target = name if name in PAYLOAD_FIELDS or name == "attachments" else "_form"
        for m in messages if isinstance(messages, list) else [messages]:
            text = _message(m)
            if text not in errors.setdefault(target, []):
                errors[target].append(text)


#: The error summary names a field by its label; these fields' labels are whole sentences
#: (the declaration's ends in a full stop), so the summary names them shortly.
SUMMARY_LABELS = {"declaration": _l("Lời cam đoan")}


def _render_form(form: SubmissionForm, errors: dict | None = None, similar=None, status: int = 200,
                 checked: bool = False):
    errors = errors or {}
    order = ["_form", *PAYLOAD_FIELDS, "attachments", "declaration"]
    labels = {name: form[name].label.text for name in order if name != "_form"}
    labels.update({name: str(label) for name, label in SUMMARY_LABELS.items()})
    summary = [(name, f"{labels[name]}: {message}" if name in labels else message)
               for name in order for message in errors.get(name, [])]
    return render_template("portal/submit.html", form=form, errors=errors, summary=summary,
                           similar=similar, checked=checked,
                           max_files=setting("UPLOAD_MAX_FILES"),
                           max_file_size=megabytes(setting("UPLOAD_MAX_FILE_BYTES")),
                           max_total_size=megabytes(setting("UPLOAD_MAX_TOTAL_BYTES"))), status


def _show_receipt(code: str, token: str):
    session["receipt"] = {"code": code, "token": token}
    return redirect(url_for("portal.receipt", code=code), code=303)


def _submission_form() -> SubmissionForm:
    form = SubmissionForm()
    form.field.choices = _field_choices()
    return form


@bp.route("/gop-y", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so an expired one keeps everything typed (see below)
@reference.optimistic  # the reference data's token read by the write, not before it
def submit():
    """The submission form. POST with ``action=similar`` only looks up similar published
    answers; any other POST submits. A refused submission shows every error, next to its
    field and in a summary at the top, with everything typed kept (except files)."""
    if request.method == "GET":
        form = _submission_form()
        form.form_key.data = idempotency.new_key()
        return _render_form(form)

    if request.form.get("action") == "similar":
        form = _submission_form()
        if not idempotency.valid_key(form.form_key.data):
            form.form_key.data = idempotency.new_key()
        found = public.similar(CONTROL_CHARS.sub(" ", form.title.data or ""), CONTROL_CHARS.sub(" ", form.content.data or ""))
        return _render_form(form, similar=found, checked=True)

    sent = sent_form.read()
    if sent is not None:
        # Every check of the form passed (the common case): straight to the write, whose
        # payload check (the workflow's schema) reports any content error below.
        payload, files = _payload(sent), _uploaded_files(sent)
        digest = idempotency.body_hash(payload, _files_digest(files))
        return _write(None, payload, files, sent.form_key.data, digest, {})

    form = _submission_form()
    errors: dict[str, list[str]] = {}
    if (form.website.data or "").strip():
        # Honeypot filled in: a robot. Nothing is created; the message gives nothing away.
        current_app.logger.info("portal: honeypot submission refused")
        form.website.data = ""
        return _render_form(form, {"_form": [_("Không gửi được biểu mẫu. Vui lòng thử lại.")]}, status=400)
    key = form.form_key.data
    if not idempotency.valid_key(key):
        form.form_key.data = idempotency.new_key()
        return _render_form(form, {"_form": [_("Biểu mẫu không hợp lệ hoặc đã cũ. Vui lòng kiểm tra và gửi lại.")]},
                            status=400)

    payload = _payload(form)
    files = _uploaded_files(form)
    digest = idempotency.body_hash(payload, _files_digest(files))
    valid = form.validate()
    if "csrf_token" in form.errors:
        errors["_form"] = [_("Phiên làm việc đã hết hạn. Thông tin bạn nhập vẫn được giữ; vui lòng bấm Gửi lại.")]
    for name in ("declaration",):
        if form[name].errors:
            errors[name] = [str(m) for m in form[name].errors]
    for name in TEXT_FIELDS:
        if "\ufffd" in (getattr(form, name).data or ""):
            errors.setdefault(name, []).append(
                _("Văn bản không đúng bảng mã Unicode (TCVN 6909:2001). Vui lòng gõ lại bằng bộ gõ Unicode."))
    try:
        payload_schema(SubmissionSchema).load(payload)
    except ValidationError as err:
        _add_errors(errors, err.normalized_messages())
    file_errors = attachments.refusals(files)
    if file_errors:
        errors["attachments"] = file_errors
    if errors or not valid:
        sent = _sent_before(key, digest)  # this form was sent already: its receipt, not the errors
        if sent is not None:
            return sent
        if not errors:
            errors["_form"] = [_("Biểu mẫu không hợp lệ. Vui lòng kiểm tra và gửi lại.")]
        if files:
            errors.setdefault("attachments", []).append(_("Vì lý do an toàn, vui lòng chọn lại tệp đính kèm."))
        return _render_form(form, errors, status=400 if "csrf_token" in form.errors else 422)
    return _write(form, payload, files, key, digest, errors)


def _write(form: SubmissionForm | None, payload: dict, files: list, key: str, digest: str, errors: dict):
    """Receive the case (and its files) with the form's key; its receipt, or the form again
    with what the write refused (``form``: the bound form, built here if not yet)."""
    try:
        with transaction():
            token = new_tracking_token()
            case, token = receive_feedback(payload, SubmitterActor(), token=token,
                                           bound=[idempotency.key_row(key, token, digest)], alone=not files)
            attachments.store_submission_files(case, files)
            code = case.code  # read before the commit expires the case: no reload to redirect
    except InvalidPayload as err:
        sent = _sent_before(key, digest)  # this form was sent already: its receipt, not the errors
        if sent is not None:
            return sent
        _add_errors(errors, err.fields)
        if files and "attachments" not in errors:
            errors["attachments"] = [_("Vì lý do an toàn, vui lòng chọn lại tệp đính kèm.")]
        return _render_form(form or _submission_form(), errors, status=422)
    except storage.StorageUnavailable as err:
        # The disk refused a file (full, read-only): nothing was kept (the transaction rolled
        # back and pakn.storage removed what it had written). Keep what was typed; 503.
        errors["attachments"] = [refusal_message(err), _("Vì lý do an toàn, vui lòng chọn lại tệp đính kèm.")]
        return _render_form(form or _submission_form(), errors, status=503)
    except IntegrityError:
        # This form was sent before (a double click, a refresh, a retry after a lost response,
        # or two requests in parallel): its key is taken, so show that case's receipt.
        sent = _sent_before(key, digest)
        if sent is None:
            raise
        return sent
    return _show_receipt(code, token)


def _sent_before(key: str, digest: str):
    """The response for a form whose key already made a case: its receipt when the same content
    was sent, else 409 (the key was reused for something else); None for a new key."""
    previous = idempotency.find(key)
    if previous is None:
        return None
    row, case = previous
    if not idempotency.same_body(row, digest):
        return render_template("portal/already_sent.html", code=case.code), 409
    return _show_receipt(case.code, idempotency.unseal(key, row.sealed_token))


@bp.route("/gop-y/bien-nhan/<code>")
def receipt(code: str):
    """The printable receipt, shown to the browser that submitted (the token is in its session)."""
    held = session.get("receipt") or {}
    if held.get("code") != code:
        abort(404)
    case = find_by_tracking(code, held.get("token", ""))
    if case is None:
        abort(404)
    _grant(case)  # the browser that submitted may follow its case without the link
    link = url_for("portal.status", code=case.code, token=held["token"], _external=True)
    visit = open_visit(case)
    return render_template("portal/receipt.html", case=case, link=link,
                           forward_due=visit.due_at if visit and visit.stage == "classify" else None,
                           clock=settings_of(case.clock_setting_id))  # the version its clocks run under


# -- tracking -------------------------------------------------------------------------------
def _grant(case: Feedback) -> None:
    tracked = [i for i in session.get("tracked", []) if i != case.id]
    session["tracked"] = (tracked + [case.id])[-10:]


def _normal_phone(value: str | None) -> str:
    digits = _PHONE_STRIP.sub("", value or "")
    return "0" + digits[3:] if digits.startswith("+84") else digits


def _contact_matches(case: Feedback, contact: str) -> bool:
    contact = contact.strip()
    if "@" in contact:
        return bool(case.submitter_email) and case.submitter_email.lower() == contact.lower()
    phone = _normal_phone(contact)
    return bool(phone) and bool(case.submitter_phone) and _normal_phone(case.submitter_phone) == phone


@bp.route("/tra-cuu", methods=["GET", "POST"])
def track():
    """Look a case up by its code and the e-mail or phone given with it."""
    form = TrackForm()
    errors: dict[str, list[str]] = {}
    if request.method == "GET":
        form.code.data = _clean(request.args.get("code"), 30)
        return render_template("portal/track.html", form=form, errors=errors, summary=[])
    code = _clean(form.code.data, 30).upper()
    contact = _clean(form.contact.data, 254)
    if not code:
        errors["code"] = [_("Nhập mã PAKN in trên biên nhận, ví dụ PAKN-2026-000123.")]
    if not contact:
        errors["contact"] = [_("Nhập thư điện tử hoặc số điện thoại đã khai khi gửi.")]
    if not errors:
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        if case is not None and _contact_matches(case, contact):
            _grant(case)
            return redirect(url_for("portal.status", code=case.code), code=303)
        errors["_form"] = [_("Không tìm thấy PAKN có mã và thông tin liên hệ này. Vui lòng kiểm tra lại.")]
    summary = [(name, m) for name in ("_form", "code", "contact") for m in errors.get(name, [])]
    return render_template("portal/track.html", form=form, errors=errors, summary=summary), 422


@bp.route("/tra-cuu/<code>")
def status(code: str):
    """The status page of one case, for its submitter (tracking link or a lookup this session)."""
    code = _clean(code, 30)
    token = request.args.get("token")
    if token is not None:
        token = _clean(token, 100)
    if token is not None:
        case = find_by_tracking(code, token)
        if case is None:
            abort(404)
        _grant(case)
        # Drop the token from the address bar (and from any later Referer or history).
        return redirect(url_for("portal.status", code=case.code), code=303)
    case = db.session.scalar(select(Feedback).where(Feedback.code == code))
    if case is None or case.id not in session.get("tracked", []):
        return redirect(url_for("portal.track", code=code[:30]), code=303)
    return _render_status(case, SupplyInfoForm())


def _reply_trigger(case: Feedback) -> str | None:
    """The reply the engine lets the submitter send now, if a request for information is open."""
    actor = SubmitterActor(case_id=case.id)
    for trigger in REPLY_TRIGGERS:
        if WORKFLOW.refusal(case, trigger, actor, None) is None:
            return trigger
    return None


def _render_status(case: Feedback, form: SupplyInfoForm, errors: dict | None = None, status: int = 200):
    errors = errors or {}
    summary = [(name, m) for name in ("_form", "message") for m in errors.get(name, [])]
    return render_template("portal/status.html", case=case, timeline=public.public_timeline(case),
                           visit=open_visit(case), answer=public.delivered_answer(case),
                           reply_trigger=_reply_trigger(case), form=form, errors=errors,
                           summary=summary), status


@bp.route("/tra-cuu/<code>/bo-sung", methods=["POST"])
def supply_info(code: str):
    """The submitter answers a request for more information, from the status page."""
    case = db.session.scalar(select(Feedback).where(Feedback.code == _clean(code, 30)))
    if case is None or case.id not in session.get("tracked", []):
        abort(404)
    form = SupplyInfoForm()
    trigger = _reply_trigger(case)
    if not form.validate_on_submit() or trigger is None:
        message = (_("Phiên làm việc đã hết hạn. Vui lòng gửi lại.") if trigger
                   else _("Hồ sơ hiện không chờ bổ sung thông tin."))
        return _render_status(case, form, {"_form": [message]}, 409 if trigger is None else 400)
    try:
        with transaction():
            apply_transition(case, trigger, SubmitterActor(case_id=case.id),
                             {"message": form.message.data or ""})
    except InvalidPayload as err:
        errors = {name: [_message(m) for m in msgs] for name, msgs in err.fields.items()}
        return _render_status(case, form, errors, 422)
    except OperationError as err:
        return _render_status(case, form, {"_form": [refusal_message(err)]}, err.status)
    flash(_("Đã gửi thông tin bổ sung. Cảm ơn bạn."), "success")
    return redirect(url_for("portal.status", code=case.code), code=303)


# -- published answers ------------------------------------------------------------------------
def _filters() -> public.Filters:
    year = request.args.get("year", "")
    kind = request.args.get("kind", "")
    return public.Filters(q=_clean(request.args.get("q"), 200), field=_clean(request.args.get("field"), 50),
                          agency=_clean(request.args.get("agency"), 50),
                          year=int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else None,
                          kind=kind if kind in Kind.codes() else "")


@bp.route("/tra-loi")
def answers():
    return public.cached_page(_render_answers)


def _render_answers() -> str:
    filters = _filters()
    page_arg = request.args.get("page", "1")
    page = int(page_arg) if page_arg.isdigit() and 0 < int(page_arg) < 100000 else 1
    size = current_app.config["PORTAL_PAGE_SIZE"]
    rows, total = public.published_page(filters, page, size)
    more = total > public.SEARCH_COUNT_LIMIT  # a search counted up to its limit
    total = min(total, public.SEARCH_COUNT_LIMIT)
    pages = max(1, -(-total // size))
    return render_template("portal/answers.html", rows=rows, total=total, more=more, page=page, pages=pages,
                           filters=filters, choices=public.filter_choices())


@bp.route("/tra-loi/atom.xml")
def feed():
    rows = public.published_all(_filters(), limit=50)
    updated = rows[0].published_at if rows else utcnow()
    body = render_template("portal/feed.xml", rows=rows, updated=updated)
    return Response(body, mimetype="application/atom+xml")


@bp.route("/tra-loi/<code>")
def answer(code: str):
    def render() -> str:
        row = public.published_one(_clean(code, 30))
        if row is None:
            abort(404)  # raised through the cache: nothing is kept
        return render_template("portal/answer.html", row=row)
    return public.cached_page(render)


# -- open data ----------------------------------------------------------------------------------
OPEN_COLUMNS = ("code", "kind", "field", "agency", "title", "summary", "answer", "received_date",
                "answered_date", "published_date", "url")


def _open_record(row) -> dict:
    return {"code": row.code, "kind": row.kind, "field": row.field_name, "agency": row.agency_name,
            "title": row.public_title, "summary": row.public_summary, "answer": row.public_answer,
            "received_date": row.received_at.astimezone(TZ).date().isoformat(),
            "answered_date": row.answered_at.astimezone(TZ).date().isoformat() if row.answered_at else None,
            "published_date": row.published_at.astimezone(TZ).date().isoformat(),
            "url": url_for("portal.answer", code=row.code, _external=True)}


@bp.route("/du-lieu-mo")
def open_data():
    return render_template("portal/open_data.html", columns=OPEN_COLUMNS)


@bp.route("/du-lieu-mo/pakn.csv")
def open_data_csv():
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(OPEN_COLUMNS)
    for row in public.published_all(_filters()):
        record = _open_record(row)
        writer.writerow(safe_row(record[c] for c in OPEN_COLUMNS))
    # UTF-8 with BOM so that spreadsheet programs read Vietnamese correctly.
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=pakn-cong-khai.csv"})


@bp.route("/du-lieu-mo/pakn.json")
def open_data_json():
    records = [_open_record(r) for r in public.published_all(_filters())]
    body = json.dumps({"generated_at": utcnow().isoformat(), "count": len(records), "items": records},
                      ensure_ascii=False, indent=1)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": "inline; filename=pakn-cong-khai.json"})


# -- statistics -------------------------------------------------------------------------------
@bp.route("/thong-ke")
def statistics():
    now = utcnow()
    return render_template("portal/statistics.html", stats=public.statistics(now.astimezone(TZ).year, now))
