"""Writing a parsed plan (pakn.plans.parse) into the database, and linking units.

Importing the same plan again (same số, ký hiệu) updates it: tasks are matched by
(appendix, number, part), so their bindings, recorded completions and the stage visits
that cite them survive; rows no longer in the document are deleted unless stage visits
cite them (then they are kept and reported). Every import writes an audit event. These
functions only flush: the caller commits (``transaction()``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from workflows.engine import N_

from ..extensions import db
from ..models import AuditEvent, Plan, PlanTask, PlanTaskUnit, StageVisit
from ..models.types import utcnow
from ..operations.errors import InvalidPayload
from ..text import fold
from .parse import normalise_code
from .timeframe import parse_timeframe
from .units import AgencyMatcher, split_units


@dataclass
class ImportResult:
    plan: Plan
    created: int = 0
    updated: int = 0
    removed: int = 0
    kept: list[str] = field(default_factory=list)  # numbers no longer in the document but cited
    unlinked: int = 0


def importable(task: dict) -> bool:
    return not any(p["level"] == "error" for p in task.get("problems", ()))


def _actor_fields(actor) -> dict:
    if actor is None:
        return {"actor_id": None, "actor_role": "system", "actor_label": "Hệ thống"}
    return {"actor_id": actor.id, "actor_role": actor.role, "actor_label": actor.full_name}


def apply_import(parsed: dict, actor=None, *, source_name: str | None = None, overrides: dict | None = None,
                 now=None) -> ImportResult:
    """Create or update the plan ``parsed`` describes. ``overrides`` (code, title, issuer,
    issued_on, year) win over what was read. Raises InvalidPayload when the plan has no
    number/symbol or no importable task."""
    now = now or utcnow()
    values = {k: parsed.get(k) for k in ("code", "title", "issuer", "issued_on", "year")}
    values.update({k: v for k, v in (overrides or {}).items() if v not in (None, "")})
    if not values["code"]:
        raise InvalidPayload({"code": [N_("Cần số, ký hiệu của kế hoạch (ví dụ 62/KH-UBND).")]})
    code = normalise_code(str(values["code"]))
    rows = [t for t in parsed["tasks"] if importable(t)]
    if not rows:
        raise InvalidPayload({"file": [N_("Bảng phụ lục không có nhiệm vụ nào.")]})
    issued_on = values["issued_on"]
    if isinstance(issued_on, str):
        issued_on = date.fromisoformat(issued_on)
    year = int(values["year"]) if values["year"] else (issued_on.year if issued_on else None)

    plan = db.session.scalar(select(Plan).where(Plan.code == code))
    created_plan = plan is None
    if plan is None:
        plan = Plan(code=code, title=values["title"] or f"Kế hoạch {code}", created_at=now)
        db.session.add(plan)
    else:
        plan.title = values["title"] or plan.title
    plan.issuer = values["issuer"] or plan.issuer
    plan.issued_on = issued_on or plan.issued_on
    plan.year = year or plan.year
    plan.source_name = source_name or plan.source_name
    plan.updated_at = now
    db.session.flush()

    result = ImportResult(plan=plan)
    existing = {(t.appendix, t.number, t.part): t for t in
                db.session.scalars(select(PlanTask).where(PlanTask.plan_id == plan.id))}
    matcher = AgencyMatcher()
    seen = set()
    for position, row in enumerate(rows):
        key = (row["appendix"], row["number"], row["part"])
        seen.add(key)
        task = existing.get(key)
        if task is None:
            task = PlanTask(plan_id=plan.id, appendix=row["appendix"], number=row["number"], part=row["part"])
            db.session.add(task)
            result.created += 1
        else:
            result.updated += 1
        task.position = position
        task.heading = row.get("heading") or None
        task.content = row["content"]
        task.lead_units = row["lead"] or None
        task.cooperating_units = row["cooperating"] or None
        task.timeframe = (row["timeframe"] or None) and row["timeframe"][:250]
        task.expected_product = row["product"] or None
        task.is_group = bool(row["is_group"])
        read = parse_timeframe(row["timeframe"], year)
        task.timeframe_kind = read.kind if read else None
        task.period_start = read.start if read else None
        task.period_end = read.end if read else None
        task.due_before = read.due_before if read else None
        task.schedule = (read.schedule or None) if read else None
        task.units.clear()
        db.session.flush()
        for role, cell in (("lead", row["lead"]), ("cooperating", row["cooperating"])):
            for n, name in enumerate(split_units(cell)):
                agency_id = matcher.match(name)
                if agency_id is None and not matcher.is_generic(name):
                    result.unlinked += 1
                task.units.append(PlanTaskUnit(role=role, position=n, text=name, folded=fold(name)[:500],
                                               agency_id=agency_id))
    db.session.flush()

    all_tasks = {(t.appendix, t.number, t.part): t for t in
                 db.session.scalars(select(PlanTask).where(PlanTask.plan_id == plan.id))}
    for row in rows:
        task = all_tasks[(row["appendix"], row["number"], row["part"])]
        parent = all_tasks.get((row["appendix"], row["parent"], 1)) if row.get("parent") else None
        task.parent_id = parent.id if parent is not None and parent.id != task.id else None

    for key, task in existing.items():
        if key in seen:
            continue
        cited = db.session.scalar(select(func.count()).select_from(StageVisit)
                                  .where(StageVisit.plan_task_id == task.id))
        if cited:
            result.kept.append(task.label)
            continue
        for child in db.session.scalars(select(PlanTask).where(PlanTask.parent_id == task.id)):
            child.parent_id = None
        db.session.delete(task)
        result.removed += 1
    db.session.flush()
    db.session.expire(plan, ["tasks"])

    db.session.add(AuditEvent(at=now, action="plan_import", data={
        "plan_id": plan.id, "code": plan.code, "source": source_name, "new_plan": created_plan,
        "created": result.created, "updated": result.updated, "removed": result.removed, "kept": result.kept,
    }, **_actor_fields(actor)))
    db.session.flush()
    return result


def relink_units(folded: str, agency_id: int | None) -> int:
    """Point every unit written as ``folded`` at ``agency_id`` (None: generic, unlinked); returns how many."""
    units = db.session.scalars(select(PlanTaskUnit).where(PlanTaskUnit.folded == folded)).all()
    for unit in units:
        unit.agency_id = agency_id
    db.session.flush()
    return len(units)


def unlinked_units() -> list[tuple[str, str, int]]:
    """(folded, a written form, how many) of the units linked to no agency and not marked generic."""
    from ..models import AgencyAlias

    generic = select(AgencyAlias.folded).where(AgencyAlias.agency_id.is_(None))
    rows = db.session.execute(
        select(PlanTaskUnit.folded, func.min(PlanTaskUnit.text), func.count())
        .where(PlanTaskUnit.agency_id.is_(None), PlanTaskUnit.folded.not_in(generic))
        .group_by(PlanTaskUnit.folded).order_by(func.count().desc(), PlanTaskUnit.folded)).all()
    return [(f, t, n) for f, t, n in rows]
