"""/plans/…: the plans, their import preview, bindings, unit links and dashboards.

Thin views: load (missing → 404), check the role (agencies → 404, office staff may only
read → 403 on changes), validate the form, call one function of this package, commit with
``transaction()``.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from workflows.calendar import TZ
from workflows.glossary import Role
from workflows.pakn import WORKFLOW

from ..access import can_read_plans
from ..extensions import db
from ..models import Agency, AgencyAlias, AuditEvent, Plan, PlanImport, PlanTask, PlanTaskUnit
from ..models.plan import BINDINGS
from ..models.types import utcnow
from ..operations import InvalidPayload, transaction
from ..text import fold
from . import bp
from .binding import BINDING_LABELS, bind, document_name, put_in_force, stages_of, suggest_bindings
from .dashboard import dashboard, dashboard_window
from .forms import BindingForm, ConfirmForm, DoneForm, LinkUnitForm, UploadForm, WindowForm
from .importer import apply_import, importable, relink_units, unlinked_units
from .parse import UnsupportedFile, normalise_code, parse_upload
from .units import AgencyMatcher, split_units


def staff_reader(view):
    """Office staff and admins; anyone else gets 404 (the pages do not exist for them)."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not can_read_plans(current_user):
            abort(404)
        return view(*args, **kwargs)
    return wrapped


def admin_only(view):
    @wraps(view)
    @staff_reader
    def wrapped(*args, **kwargs):
        if current_user.role != Role.ADMIN:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def _plan_or_404(plan_id: int) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        abort(404)
    return plan


def _actor(user) -> dict:
    return {"actor_id": user.id, "actor_role": user.role, "actor_label": user.full_name}


# -- list ------------------------------------------------------------------------------
@bp.route("/")
@staff_reader
def index():
    plans = db.session.scalars(select(Plan).order_by(Plan.in_force.desc(), Plan.issued_on.desc(), Plan.id)).all()
    counts = dict(db.session.execute(select(PlanTask.plan_id, func.count()).where(PlanTask.is_group.is_(False))
                                     .group_by(PlanTask.plan_id)).all())
    unlinked = len(unlinked_units())
    return render_template("plans/index.html", plans=plans, counts=counts, unlinked=unlinked,
                           labels=BINDING_LABELS)


# -- import ----------------------------------------------------------------------------
@bp.route("/import", methods=["GET", "POST"])
@admin_only
def upload():
    form = UploadForm()
    if form.validate_on_submit():
        storage = form.file.data
        data = storage.read()
        filename = (storage.filename or "ke-hoach")[:255]
        try:
            source_format, parsed = parse_upload(filename, data)
        except UnsupportedFile as err:
            form.file.errors.append(_(str(err)))
        except Exception:  # a malformed DOCX/XLSX: say so, never a 500
            form.file.errors.append(_("Không đọc được tệp; tệp có thể bị hỏng."))
        else:
            with transaction():
                draft = PlanImport(filename=filename, source_format=source_format, parsed=parsed,
                                   created_by_id=current_user.id)
                db.session.add(draft)
            return redirect(url_for("plans.preview", import_id=draft.id))
    return render_template("plans/upload.html", form=form), (422 if form.errors else 200)


def _draft_or_404(import_id: int) -> PlanImport:
    draft = db.session.get(PlanImport, import_id)
    if draft is None:
        abort(404)
    return draft


@bp.route("/imports/<int:import_id>", methods=["GET", "POST"])
@admin_only
def preview(import_id: int):
    draft = _draft_or_404(import_id)
    parsed = draft.parsed
    form = ConfirmForm(data={
        "code": parsed.get("code"), "title": parsed.get("title"), "issuer": parsed.get("issuer"),
        "issued_on": date.fromisoformat(parsed["issued_on"]) if parsed.get("issued_on") else None,
        "year": parsed.get("year")} if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        if draft.applied_at is not None:
            flash(_("Bản xem trước này đã được nhập."), "error")
            return redirect(url_for("plans.show", plan_id=draft.plan_id))
        overrides = {"code": form.code.data, "title": form.title.data, "issuer": form.issuer.data,
                     "issued_on": form.issued_on.data, "year": form.year.data}
        try:
            with transaction():
                result = apply_import(parsed, current_user, source_name=draft.filename, overrides=overrides)
                draft.plan_id, draft.applied_at = result.plan.id, utcnow()
        except InvalidPayload as err:
            for messages in err.fields.values():
                for message in messages:
                    form.code.errors.append(_(message))
            status = 422
        else:
            flash(_("Đã nhập kế hoạch %(code)s: %(created)d nhiệm vụ mới, %(updated)d cập nhật, %(removed)d bỏ đi.",
                    code=result.plan.code, created=result.created, updated=result.updated,
                    removed=result.removed), "success")
            if result.kept:
                flash(_("Giữ lại các nhiệm vụ không còn trong văn bản vì đã có hồ sơ gắn với chúng: %(numbers)s.",
                        numbers=", ".join(result.kept)), "error")
            return redirect(url_for("plans.show", plan_id=result.plan.id))
    elif request.method == "POST":
        status = 422
    code = normalise_code(form.code.data) if form.code.data else None
    existing = db.session.scalar(select(Plan).where(Plan.code == code)) if code else None
    matcher = AgencyMatcher()
    units = {}
    for task in parsed["tasks"]:
        for key in ("lead", "cooperating"):
            for name in split_units(task[key]):
                units[name] = matcher.match(name)
    agencies = dict(db.session.execute(select(Agency.id, Agency.name)).all())
    return render_template("plans/preview.html", draft=draft, parsed=parsed, form=form, existing=existing,
                           importable=importable, units=units, agencies=agencies,
                           split_units=split_units), status


# -- a plan: dashboard -----------------------------------------------------------------
def _window(form: WindowForm) -> tuple[date, date, str]:
    quarter = int(form.quarter.data) if form.quarter.data else None
    return dashboard_window(form.year.data, quarter, utcnow().astimezone(TZ).date())


@bp.route("/<int:plan_id>")
@staff_reader
def show(plan_id: int):
    plan = _plan_or_404(plan_id)
    form = WindowForm(request.args)
    if not form.validate():
        form = WindowForm(formdata=None)
    start, end, label = _window(form)
    rows = dashboard(plan, (start, end))
    return render_template("plans/show.html", plan=plan, rows=rows, form=form, window=(start, end - timedelta(days=1)),
                           window_label=label, labels=BINDING_LABELS, today=utcnow().astimezone(TZ).date(),
                           document_name=document_name, done_form=DoneForm(),
                           stages=list(WORKFLOW.stages.values()))


# -- bindings --------------------------------------------------------------------------
@bp.route("/<int:plan_id>/bindings", methods=["GET", "POST"])
@admin_only
def bindings(plan_id: int):
    plan = _plan_or_404(plan_id)
    form = BindingForm(data={"in_force": "1" if plan.in_force else "0"} if request.method == "GET" else None)
    tasks = [t for t in plan.tasks if not t.is_group]
    suggestions = suggest_bindings(plan)
    current = {t.binding: t.id for t in plan.tasks if t.binding}
    errors = {}
    if form.validate_on_submit():
        chosen: dict[str, int | None] = {}
        valid = {t.id for t in tasks}
        for key in BINDINGS:
            raw = request.form.get(f"binding_{key}", "")
            if raw == "":
                chosen[key] = None
            elif raw.isdigit() and int(raw) in valid:
                chosen[key] = int(raw)
            else:
                errors[key] = _("Nhiệm vụ không thuộc kế hoạch này.")
        if not errors:
            with transaction():
                bind(plan, chosen)
                if form.in_force.data == "1" and not plan.in_force:
                    put_in_force(plan)
                elif form.in_force.data == "0" and plan.in_force:
                    plan.in_force = False
                db.session.add(AuditEvent(action="plan_bind", data={
                    "plan_id": plan.id, "bindings": {k: v for k, v in chosen.items()},
                    "in_force": plan.in_force}, **_actor(current_user)))
            flash(_("Đã lưu việc gắn nhiệm vụ với các giai đoạn."), "success")
            return redirect(url_for("plans.show", plan_id=plan.id))
    selected = {key: current.get(key, suggestions[key].id if key in suggestions and not current else None)
                for key in BINDINGS}
    return render_template("plans/bindings.html", plan=plan, form=form, tasks=tasks, labels=BINDING_LABELS,
                           selected=selected, suggestions=suggestions, errors=errors, stages_of=stages_of,
                           bindings=BINDINGS), (422 if errors or form.errors else 200)


@bp.route("/<int:plan_id>/tasks/<int:task_id>/done", methods=["POST"])
@admin_only
def record_done(plan_id: int, task_id: int):
    plan = _plan_or_404(plan_id)
    task = db.session.get(PlanTask, task_id)
    if task is None or task.plan_id != plan.id:
        abort(404)
    form = DoneForm()
    if not form.validate_on_submit():
        flash(_("Ngày hoàn thành không hợp lệ."), "error")
        return redirect(url_for("plans.show", plan_id=plan.id))
    with transaction():
        task.done_on = form.done_on.data
        task.done_note = form.done_note.data or None if form.done_on.data else None
        db.session.add(AuditEvent(action="plan_task_done", data={
            "plan_id": plan.id, "task": task.label,
            "done_on": task.done_on.isoformat() if task.done_on else None}, **_actor(current_user)))
    flash(_("Đã ghi nhận kết quả thực hiện nhiệm vụ %(number)s.", number=task.label), "success")
    return redirect(url_for("plans.show", plan_id=plan.id) + f"#task-{task.id}")


# -- units and aliases -----------------------------------------------------------------
def _agency_choices() -> list[tuple[str, str]]:
    agencies = db.session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)).all()
    return ([("", _("— Chọn cơ quan —")), ("generic", _("Không phải một cơ quan cụ thể"))]
            + [(str(a.id), a.name) for a in agencies])


@bp.route("/units", methods=["GET", "POST"])
@admin_only
def units():
    form = LinkUnitForm()
    form.agency.choices = _agency_choices()
    if form.validate_on_submit():
        folded = fold(form.name.data)[:500]
        if folded != form.folded.data:
            abort(400)
        agency_id = None if form.agency.data == "generic" else int(form.agency.data)
        with transaction():
            alias = db.session.scalar(select(AgencyAlias).where(AgencyAlias.folded == folded))
            if alias is None:
                alias = AgencyAlias(name=form.name.data, folded=folded, created_by_id=current_user.id)
                db.session.add(alias)
            alias.agency_id = agency_id
            linked = relink_units(folded, agency_id)
            db.session.add(AuditEvent(action="agency_alias_set", data={
                "name": form.name.data, "agency_id": agency_id, "units": linked}, **_actor(current_user)))
        flash(_("Đã liên kết \"%(name)s\" (%(count)d lần xuất hiện).", name=form.name.data, count=linked), "success")
        return redirect(url_for("plans.units"))
    status = 422 if request.method == "POST" else 200
    aliases = db.session.scalars(select(AgencyAlias).order_by(AgencyAlias.name)).all()
    pending = unlinked_units()
    tasks_of = {}
    for folded, _text, _count in pending:
        tasks_of[folded] = db.session.execute(
            select(Plan.code, PlanTask.number, PlanTask.appendix, PlanTask.part).join(PlanTask, PlanTask.plan_id == Plan.id)
            .join(PlanTaskUnit, PlanTaskUnit.task_id == PlanTask.id).where(PlanTaskUnit.folded == folded)
            .order_by(Plan.code, PlanTask.position).limit(6)).all()
    return render_template("plans/units.html", pending=pending, aliases=aliases, form=form,
                           choices=form.agency.choices, tasks_of=tasks_of), status


@bp.route("/aliases/<int:alias_id>/delete", methods=["POST"])
@admin_only
def delete_alias(alias_id: int):
    alias = db.session.get(AgencyAlias, alias_id)
    if alias is None:
        abort(404)
    form = DoneForm()  # CSRF only
    if not form.validate_on_submit():
        abort(400)
    with transaction():
        folded, name = alias.folded, alias.name
        db.session.delete(alias)
        db.session.flush()
        matcher = AgencyMatcher()
        relink_units(folded, matcher.match(name))
        db.session.add(AuditEvent(action="agency_alias_delete", data={"name": name}, **_actor(current_user)))
    flash(_("Đã xóa tên gọi khác \"%(name)s\".", name=name), "success")
    return redirect(url_for("plans.units"))
