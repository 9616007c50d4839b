"""Thin views of the administration console: load (missing → 404), validate the form, call one
operation of :mod:`pakn.operations.admin` inside ``transaction()``, render. A refused change
re-renders the form with what was typed and a localized message (422 or 409)."""
from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from workflows.calendar import TZ
from workflows.engine import N_
from workflows.glossary import STAFF_ROLES, Role

from ..extensions import db
from ..models import Agency, AgencyLevel, ApiToken, AuditEvent, Feedback, Field, User
from ..models.types import utcnow
from ..operations import Conflict, InvalidPayload, OperationError, transaction
from ..operations import admin as ops
from .. import settings as province_settings
from ..text import fold
from ..web.converters import row_id
from . import bp
from .forms import (SCOPE_LABELS, ActionForm, AgencyForm, AuditFilterForm, FieldEditForm, FieldForm, InviteForm,
                    LevelForm, MergeForm, SettingsForm, TokenForm, UserForm)

PAGE_SIZE = 50
MIB = 1024 * 1024

#: Labels of the audit actions written outside the workflow (the workflow's come from its triggers).
ACTION_LABELS = {
    "agency_level_create": N_("Thêm cấp cơ quan"), "agency_level_update": N_("Sửa cấp cơ quan"),
    "agency_create": N_("Thêm cơ quan"), "agency_update": N_("Sửa cơ quan"),
    "agency_merge": N_("Sáp nhập cơ quan"), "agency_merged": N_("Chuyển sang cơ quan tiếp nhận khi sáp nhập"),
    "user_invite": N_("Mời tài khoản"), "user_invite_resend": N_("Gửi lại lời mời"),
    "user_update": N_("Sửa tài khoản"), "user_deactivate": N_("Ngừng kích hoạt tài khoản"),
    "user_reactivate": N_("Kích hoạt lại tài khoản"), "user_password_reset": N_("Gửi đường dẫn đặt lại mật khẩu"),
    "user_password_set": N_("Đặt mật khẩu qua đường dẫn"),
    "field_create": N_("Thêm lĩnh vực"), "field_update": N_("Sửa lĩnh vực"),
    "settings_update": N_("Sửa cấu hình của tỉnh"),
    "api_token_create": N_("Tạo mã truy cập API"), "api_token_revoke": N_("Thu hồi mã truy cập API"),
    "routing_rule_add": N_("Thêm quy tắc phân loại"), "routing_rule_toggle": N_("Bật/tắt quy tắc phân loại"),
}


def action_label(action: str) -> str:
    from ..schemas.base import action_label as workflow_label

    return _(ACTION_LABELS[action]) if action in ACTION_LABELS else workflow_label(action)


def role_label(role: str | None) -> str:
    try:
        return _(Role(role).label)
    except ValueError:
        return role or ""


@bp.app_context_processor
def _helpers():
    return {"admin_action_label": action_label, "admin_role_label": role_label}


def _choices(pairs) -> list[SelectChoice]:
    """Select options; None (no choice) is posted as the empty string."""
    return [SelectChoice("" if value is None else value, label) for value, label in pairs]


def _put_errors(form, err: InvalidPayload) -> None:
    """The operation's per-field errors on the form's fields (others as form-level errors)."""
    form.form_errors = list(getattr(form, "form_errors", []))
    for name, messages in err.fields.items():
        texts = [_(m) for m in messages]
        if name in form:
            form[name].errors = list(form[name].errors or []) + texts
        else:
            form.form_errors.extend(texts)


def _save(form, change, message):
    """The form's change, once the form is valid: ``change()`` inside a transaction, then
    ``message(result)`` flashed and a redirect to the list (``message`` returns both). On a
    refusal the operation's errors go onto the form and None is returned: the view re-renders
    the form with what was typed (a rollback expires what the change had altered)."""
    if not form.validate_on_submit():
        return None
    try:
        with transaction():
            result = change()
    except InvalidPayload as err:
        _put_errors(form, err)
        return None
    text, target = message(result)
    flash(text, "info")
    return redirect(target)


def _fail(err: OperationError) -> str:
    return _(err.message, **err.params)


def _or_404(model, ident):
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


# -- home ---------------------------------------------------------------------------------------
@bp.get("/")
def home():
    counts = {
        "agencies": db.session.scalar(select(func.count(Agency.id)).where(Agency.active.is_(True))),
        "users": db.session.scalar(select(func.count(User.id)).where(User.active.is_(True))),
        "fields": db.session.scalar(select(func.count(Field.id)).where(Field.active.is_(True))),
        "tokens": db.session.scalar(select(func.count(ApiToken.id)).where(
            ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())),
    }
    return render_template("admin/home.html", counts=counts)


# -- agencies -----------------------------------------------------------------------------------
def _agency_choices(exclude: Agency | None = None, active_only: bool = False):
    rows = db.session.scalars(select(Agency).order_by(Agency.name)).all()
    return [(a.id, a.name + ("" if a.active else " — " + _("ngừng hoạt động"))) for a in rows
            if (exclude is None or a.id != exclude.id) and (a.active or not active_only)]


def _levels():
    return db.session.scalars(select(AgencyLevel).order_by(AgencyLevel.rank, AgencyLevel.name)).all()


@bp.get("/agencies")
def agencies():
    rows = db.session.scalars(select(Agency).options(joinedload(Agency.level), joinedload(Agency.merged_into))
                              .order_by(Agency.name)).all()
    children = defaultdict(list)
    ids = {a.id for a in rows}
    for a in rows:
        children[a.parent_id if a.parent_id in ids else None].append(a)
    staff = dict(db.session.execute(select(User.agency_id, func.count(User.id)).where(User.active.is_(True))
                                    .group_by(User.agency_id)).all())
    return render_template("admin/agencies.html", roots=children[None], children=children, staff=staff,
                           levels=_levels())


def _agency_form_choices(form: AgencyForm, agency: Agency | None) -> None:
    form.level_id.choices = _choices([(None, "—")] + [(lv.id, lv.name) for lv in _levels()])
    form.parent_id.choices = _choices([(None, _("(không có — cấp cao nhất)"))] + _agency_choices(exclude=agency))


def _agency_values(form: AgencyForm) -> dict:
    return {"code": form.code.data, "name": form.name.data, "short_name": form.short_name.data,
            "level_id": form.level_id.data, "parent_id": form.parent_id.data, "email": form.email.data,
            "phone": form.phone.data, "address": form.address.data, "active": form.active.data}


def _agency_page(form, agency: Agency | None, status: int = 200):
    counts = None
    if agency is not None:
        counts = {"open": ops.open_case_count(agency),
                  "cases": db.session.scalar(select(func.count(Feedback.id)).where(Feedback.agency_id == agency.id)),
                  "users": db.session.scalar(select(func.count(User.id)).where(User.agency_id == agency.id))}
    return render_template("admin/agency_form.html", form=form, agency=agency, counts=counts), status


@bp.route("/agencies/new", methods=["GET", "POST"])
def agency_new():
    form = AgencyForm()
    _agency_form_choices(form, None)
    parent = request.args.get("parent", type=row_id) if request.method == "GET" else None
    if parent:
        form.parent_id.data = parent
    done = _save(form, lambda: ops.save_agency(None, _agency_values(form), current_user),
                 lambda agency: (_("Đã thêm cơ quan %(name)s.", name=agency.name), url_for(".agencies")))
    return done or _agency_page(form, None, 422 if form.errors else 200)


@bp.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
def agency_edit(agency_id: int):
    agency = _or_404(Agency, agency_id)
    form = AgencyForm(obj=agency)
    _agency_form_choices(form, agency)
    done = _save(form, lambda: ops.save_agency(agency, _agency_values(form), current_user),
                 lambda saved: (_("Đã lưu cơ quan %(name)s.", name=saved.name), url_for(".agencies")))
    return done or _agency_page(form, agency, 422 if form.errors else 200)


@bp.route("/agencies/levels", methods=["GET", "POST"])
def levels():
    form = LevelForm()
    done = _save(form, lambda: ops.save_level(None, form.code.data, form.name.data, form.rank.data, current_user),
                 lambda level: (_("Đã thêm cấp %(name)s.", name=level.name), url_for(".levels")))
    return done or _levels_page(form, None, None, 422 if form.errors else 200)


def _levels_page(form, edited: AgencyLevel | None, edit_form, status: int = 200):
    used = dict(db.session.execute(select(Agency.level_id, func.count(Agency.id)).group_by(Agency.level_id)).all())
    return render_template("admin/levels.html", form=form, levels=_levels(), used=used, edited=edited,
                           edit_form=edit_form), status


@bp.route("/agencies/levels/<int:level_id>", methods=["GET", "POST"])
def level_edit(level_id: int):
    level = _or_404(AgencyLevel, level_id)
    edit_form = LevelForm(obj=level, prefix="edit")
    done = _save(edit_form, lambda: ops.save_level(level, edit_form.code.data, edit_form.name.data,
                                                   edit_form.rank.data, current_user),
                 lambda saved: (_("Đã lưu cấp %(name)s.", name=saved.name), url_for(".levels")))
    return done or _levels_page(LevelForm(formdata=None), level, edit_form, 422 if edit_form.errors else 200)


@bp.route("/agencies/merge", methods=["GET", "POST"])
def merge():
    """Choose A and B (GET shows the preview of what will move), confirm (POST): one transaction."""
    posted = request.method == "POST"
    form = MergeForm(request.form if posted else request.args, meta={"csrf": posted})
    form.source_id.choices = _choices([(None, "—")] + _agency_choices(active_only=True))
    form.target_id.choices = _choices([(None, "—")] + _agency_choices(active_only=True))
    if posted and not form.validate():
        abort(400)  # the CSRF token
    preview, status = None, 200
    if form.source_id.data and form.target_id.data:
        source, target = _or_404(Agency, form.source_id.data), _or_404(Agency, form.target_id.data)
        preview = ops.merge_preview(source, target)
        if posted:
            try:
                with transaction():
                    done = ops.merge_agencies(source, target, current_user)
            except Conflict as err:
                flash(_fail(err), "error")
                status = err.status
            else:
                flash(_("Đã sáp nhập %(a)s vào %(b)s: %(n)s PAKN đã chuyển.", a=source.name, b=target.name,
                        n=done.counts["cases"]), "info")
                return redirect(url_for(".agency_edit", agency_id=source.id))
    elif posted or ("source_id" in request.args and "target_id" in request.args):  # a half-filled form
        form.form_errors = [_("Chọn cơ quan được sáp nhập và cơ quan tiếp nhận.")]
        status = 422
    return render_template("admin/merge.html", form=form, preview=preview), status


# -- users --------------------------------------------------------------------------------------
ROLES = [r.value for r in STAFF_ROLES]


def _user_form_choices(form) -> None:
    form.role.choices = _choices([("", "—")] + [(r.value, _(r.label)) for r in STAFF_ROLES])
    form.agency_id.choices = _choices([(None, _("(không thuộc cơ quan — chỉ quản trị hệ thống)"))]
                                      + _agency_choices(active_only=True))


@bp.get("/users")
def users():
    q = (request.args.get("q") or "").strip()
    role = request.args.get("role") or ""
    agency_id = request.args.get("agency", type=row_id)
    status = request.args.get("status") or ""
    query = select(User).options(joinedload(User.agency)).order_by(User.full_name, User.id)
    if role in ROLES:
        query = query.where(User.role == role)
    if agency_id:
        query = query.where(User.agency_id == agency_id)
    if status == "active":
        query = query.where(User.active.is_(True), ~User.password_hash.startswith(ops.INVITED_PREFIX))
    elif status == "inactive":
        query = query.where(User.active.is_(False))
    elif status == "invited":
        query = query.where(User.password_hash.startswith(ops.INVITED_PREFIX))
    rows = db.session.scalars(query.limit(1000)).all()
    if q:
        needle = fold(q)
        rows = [u for u in rows if needle in fold(u.full_name) or needle in u.email.lower()]
    return render_template("admin/users.html", users=rows, roles=STAFF_ROLES, agencies=_agency_choices(),
                           args=request.args, is_invited=ops.is_invited, action_form=ActionForm())


@bp.route("/users/invite", methods=["GET", "POST"])
def user_invite():
    form = InviteForm()
    _user_form_choices(form)
    done = _save(form, lambda: ops.invite_user(form.email.data, form.full_name.data, form.role.data,
                                               form.agency_id.data, current_user),
                 lambda user: (_("Đã mời %(email)s; thư mời có đường dẫn đặt mật khẩu dùng một lần.",
                                 email=user.email), url_for(".users")))
    return done or (render_template("admin/user_invite.html", form=form), 422 if form.errors else 200)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = _or_404(User, user_id)
    form = UserForm(obj=user)
    _user_form_choices(form)
    done = _save(form, lambda: ops.update_user(user, form.full_name.data, form.role.data, form.agency_id.data,
                                               current_user),
                 lambda _changes: (_("Đã lưu tài khoản %(email)s.", email=user.email), url_for(".users")))
    return done or (render_template("admin/user_edit.html", form=form, user=user, action_form=ActionForm(),
                                    invited=ops.is_invited(user)), 422 if form.errors else 200)


@bp.post("/users/<int:user_id>/active")
def user_active(user_id: int):
    user = _or_404(User, user_id)
    ActionForm().validate_on_submit() or abort(400)
    if request.form.get("active") not in ("0", "1"):
        abort(400)
    active = request.form["active"] == "1"
    try:
        with transaction():
            ops.set_user_active(user, active, current_user)
    except Conflict as err:
        flash(_fail(err), "error")
    else:
        flash(_("Đã kích hoạt lại %(email)s.", email=user.email) if active else
              _("Đã ngừng kích hoạt %(email)s; phiên đăng nhập của tài khoản này đã kết thúc.", email=user.email),
              "info")
    return redirect(url_for(".user_edit", user_id=user.id))


@bp.post("/users/<int:user_id>/password-link")
def user_password_link(user_id: int):
    user = _or_404(User, user_id)
    ActionForm().validate_on_submit() or abort(400)
    try:
        with transaction():
            kind = ops.send_password_link(user, current_user)
    except Conflict as err:
        flash(_fail(err), "error")
    else:
        flash(_("Đã gửi lại thư mời tới %(email)s.", email=user.email) if kind == "user.invitation" else
              _("Đã gửi đường dẫn đặt lại mật khẩu tới %(email)s.", email=user.email), "info")
    return redirect(url_for(".user_edit", user_id=user.id))


# -- fields -------------------------------------------------------------------------------------
def _fields_page(form, edit_forms=None, status: int = 200):
    rows = db.session.scalars(select(Field).order_by(Field.active.desc(), Field.name)).all()
    used = dict(db.session.execute(select(Feedback.field_id, func.count(Feedback.id)).group_by(Feedback.field_id)).all())
    edit_forms = edit_forms or {}
    for f in rows:
        edit_forms.setdefault(f.id, FieldEditForm(obj=f, prefix=f"f{f.id}", formdata=None))
    return render_template("admin/fields.html", form=form, fields=rows, used=used, edit_forms=edit_forms), status


@bp.route("/fields", methods=["GET", "POST"])
def fields():
    form = FieldForm()
    done = _save(form, lambda: ops.save_field(None, form.code.data, form.name.data, True, current_user),
                 lambda field: (_("Đã thêm lĩnh vực %(name)s.", name=field.name), url_for(".fields")))
    return done or _fields_page(form, status=422 if form.errors else 200)


@bp.post("/fields/<int:field_id>")
def field_edit(field_id: int):
    field = _or_404(Field, field_id)
    edit = FieldEditForm(prefix=f"f{field.id}")
    done = _save(edit, lambda: ops.save_field(field, field.code, edit.name.data, edit.active.data, current_user),
                 lambda saved: (_("Đã lưu lĩnh vực %(name)s.", name=saved.name), url_for(".fields")))
    return done or _fields_page(FieldForm(formdata=None), {field.id: edit}, 422)


# -- per-province settings ------------------------------------------------------------------------
def _shown(key: str, value):
    """A stored value as the form shows it (bytes as MB)."""
    if value is None:
        return None
    if province_settings.BY_KEY[key].kind == "bytes":
        return Decimal(province_settings.megabytes(value))
    return value


def _typed(key: str, raw):
    """The form's value as stored (MB as bytes); blank → None (the default)."""
    if raw in (None, ""):
        return None
    if province_settings.BY_KEY[key].kind == "bytes":
        return int((Decimal(raw) * MIB).to_integral_value())
    return raw


@bp.route("/settings", methods=["GET", "POST"])
def settings_page():
    stored = province_settings.overrides()
    form = SettingsForm(data={k: _shown(k, stored.get(k)) for k in province_settings.BY_KEY})
    done = _save(form, lambda: ops.save_settings({k: _typed(k, form[k].data) for k in province_settings.BY_KEY},
                                                 current_user),
                 lambda changed: (_("Đã lưu cấu hình; thay đổi có hiệu lực ngay.") if changed
                                  else _("Không có thay đổi nào."), url_for(".settings_page")))
    if done:
        return done
    defaults = {k: _shown(k, province_settings.default(k)) for k in province_settings.BY_KEY}
    return render_template("admin/settings.html", form=form, defaults=defaults,
                           groups=province_settings.SETTINGS), 422 if form.errors else 200


# -- API tokens ----------------------------------------------------------------------------------
def _token_page(form, raw: str | None = None, created: ApiToken | None = None, status: int = 200):
    rows = db.session.scalars(select(ApiToken).options(joinedload(ApiToken.user))
                              .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc()).limit(500)).all()
    return render_template("admin/tokens.html", form=form, tokens=rows, raw=raw, created=created, now=utcnow(),
                           scope_labels=SCOPE_LABELS, action_form=ActionForm()), status


def _token_form(blank: bool = False) -> TokenForm:
    form = TokenForm(formdata=None) if blank else TokenForm()
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.full_name)).all()
    form.user_id.choices = _choices([(None, "—")] + [(u.id, f"{u.full_name} <{u.email}> — {role_label(u.role)}")
                                                     for u in users])
    return form


@bp.get("/tokens")
def tokens():
    return _token_page(_token_form())


@bp.post("/tokens")
def token_create():
    form = _token_form()
    if form.validate_on_submit():
        owner = db.session.get(User, form.user_id.data) if form.user_id.data else None
        try:
            with transaction():
                raw, row = ops.create_api_token(owner, form.name.data, form.scopes.data, form.days.data, current_user)
        except InvalidPayload as err:
            _put_errors(form, err)
        else:
            # Shown once, in this response only: never stored, never put in a redirect or flash.
            body, status = _token_page(_token_form(blank=True), raw=raw, created=row)
            return Response(body, status, headers={"Cache-Control": "no-store"})
    return _token_page(form, status=422)


@bp.post("/tokens/<int:token_id>/revoke")
def token_revoke(token_id: int):
    row = _or_404(ApiToken, token_id)
    ActionForm().validate_on_submit() or abort(400)
    try:
        with transaction():
            ops.revoke_api_token(row, current_user)
    except Conflict as err:
        flash(_fail(err), "error")
    else:
        flash(_("Đã thu hồi mã truy cập «%(name)s».", name=row.name), "info")
    return redirect(url_for(".tokens"))


# -- audit log -----------------------------------------------------------------------------------
def _local_day(raw: str, errors: list, label: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        try:
            return datetime.strptime(raw, "%d/%m/%Y").date()
        except ValueError:
            errors.append(_("%(label)s không hợp lệ; hãy nhập ngày dạng 31/12/2026.", label=label))
            return None


def _audit_query(form: AuditFilterForm, errors: list):
    query = select(AuditEvent, Feedback.code).outerjoin(Feedback, Feedback.id == AuditEvent.feedback_id)
    if form.actor.data:
        query = query.where(AuditEvent.actor_id == form.actor.data)
    if form.case.data:
        query = query.where(Feedback.code == form.case.data.upper())
    if form.action.data:
        query = query.where(AuditEvent.action == form.action.data)
    start = _local_day(form.date_from.data, errors, _("Từ ngày"))
    end = _local_day(form.date_to.data, errors, _("Đến ngày"))
    if start:
        query = query.where(AuditEvent.at >= datetime.combine(start, time(), TZ))
    if end:
        query = query.where(AuditEvent.at < datetime.combine(end + timedelta(days=1), time(), TZ))
    return query


def _audit_form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    actors = db.session.scalars(select(User).order_by(User.full_name)).all()
    form.actor.choices = _choices([(None, _("Tất cả"))] + [(u.id, f"{u.full_name} <{u.email}>") for u in actors])
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    form.action.choices = _choices([("", _("Tất cả"))] + [(a, f"{action_label(a)} ({a})") for a in actions])
    return form


@bp.get("/audit")
def audit():
    form = _audit_form()
    form.validate()
    errors: list[str] = []
    query = _audit_query(form, errors)
    before = request.args.get("before", type=row_id)
    if before:
        query = query.where(AuditEvent.id < before)
    rows = db.session.execute(query.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE + 1)).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    args = {k: v for k, v in request.args.items() if k != "before" and v}
    next_url = url_for(".audit", **args, before=rows[-1][0].id) if more else None
    return render_template("admin/audit.html", form=form, rows=rows, errors=errors, next_url=next_url,
                           first_url=url_for(".audit", **args) if before else None,
                           export_url=url_for(".audit_csv", **args)), 422 if errors else 200


#: A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text: a leading apostrophe neutralises a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


AUDIT_CSV_LIMIT = 100_000


@bp.get("/audit.csv")
def audit_csv():
    form = _audit_form()
    errors: list[str] = []
    query = _audit_query(form, errors)
    if errors:
        abort(422)
    query = query.order_by(AuditEvent.id.desc()).limit(AUDIT_CSV_LIMIT)
    header = [_("Số"), _("Thời điểm (giờ Việt Nam)"), _("Người thực hiện"), _("Vai trò"), _("Thao tác"),
              _("Mã thao tác"), _("Mã PAKN"), _("Trạng thái trước"), _("Trạng thái sau"), _("Chi tiết")]

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # Excel reads UTF-8 with a BOM
        writer.writerow(header)
        for event, code in db.session.execute(query.execution_options(yield_per=1000)):
            writer.writerow([csv_cell(v) for v in (
                event.id, event.at.astimezone(TZ).isoformat(timespec="seconds"), event.actor_label,
                role_label(event.actor_role), action_label(event.action), event.action, code, event.from_state,
                event.to_state, json.dumps(event.data or {}, ensure_ascii=False, sort_keys=True, default=str))])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    name = f"nhat-ky-{utcnow().astimezone(TZ).strftime('%Y%m%d-%H%M')}.csv"
    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
