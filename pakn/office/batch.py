"""Importing a batch forwarded by the Government Office (VPCP): upload, preview every row with
its problems, confirm. The work is :mod:`pakn.intake_batch`; this is the thin page."""
from __future__ import annotations

from flask import abort, render_template, request
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField

from workflows.engine import N_

from ..intake_batch import ALREADY, CREATED, ERROR, MAX_BATCH_BYTES, NEW, detect_format, import_batch, parse_batch
from . import bp
from .forms import LABELS

#: How a column is named on the page (the file uses the column names of the format).
COLUMN_LABELS = {**LABELS, "external_id": N_("Mã hồ sơ của hệ thống quốc gia"),
                 "received_at": N_("Ngày tỉnh tiếp nhận"), "attachment_urls": N_("Đường dẫn tệp đính kèm")}
STATUS_LABELS = {NEW: N_("Sẽ tạo"), CREATED: N_("Đã tạo"), ALREADY: N_("Đã nhập trước đó"), ERROR: N_("Lỗi")}


class BatchUploadForm(FlaskForm):
    file = FileField(_l("Tệp CSV hoặc JSON"), validators=[FileRequired(message=_l("Vui lòng chọn tệp."))])


class BatchConfirmForm(FlaskForm):
    """Import a previewed file: its text travels back in a hidden field."""

    content = HiddenField()
    filename = HiddenField()
    format = HiddenField()


def problem_text(problem) -> str:
    text = problem.text(gettext)
    if problem.column:
        return f"{gettext(COLUMN_LABELS.get(problem.column, problem.column))} ({problem.column}): {text}"
    return text


def _page(form, preview=None, confirm=None, report=None, status=200):
    return render_template("office/import.html", form=form, preview=preview, confirm=confirm, report=report,
                           status_labels=STATUS_LABELS, problem_text=problem_text,
                           max_kb=MAX_BATCH_BYTES // 1000), status


@bp.route("/import", methods=["GET", "POST"])
def batch_import():
    """Upload a batch and see every row: what would be created, what is already in, what is wrong."""
    form = BatchUploadForm()
    if not form.validate_on_submit():
        return _page(form, status=422 if request.method == "POST" else 200)
    upload = form.file.data
    raw = upload.read(MAX_BATCH_BYTES + 1)
    if len(raw) > MAX_BATCH_BYTES:
        form.file.errors.append(gettext("Tệp quá lớn (tối đa %(kb)s KB); hãy chia thành nhiều tệp.",
                                        kb=MAX_BATCH_BYTES // 1000))
        return _page(form, status=422)
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        form.file.errors.append(gettext("Tệp phải là văn bản UTF-8."))
        return _page(form, status=422)
    fmt = detect_format(upload.filename, content)
    preview = parse_batch(content, fmt)
    confirm = None
    if not preview.errors and preview.count(NEW):
        confirm = BatchConfirmForm(content=content, filename=(upload.filename or "")[:200], format=fmt)
    return _page(form, preview=preview, confirm=confirm, status=422 if preview.errors else 200)


@bp.post("/import/confirm")
def batch_import_confirm():
    """Import the previewed file: one transaction per row, then the report."""
    form = BatchConfirmForm()
    if not form.validate_on_submit() or form.format.data not in ("csv", "json"):
        abort(400)
    if len((form.content.data or "").encode()) > MAX_BATCH_BYTES:
        abort(413)
    report = import_batch(form.content.data or "", form.format.data, current_user, source=form.filename.data)
    return _page(BatchUploadForm(formdata=None), report=report, status=422 if report.errors else 200)
