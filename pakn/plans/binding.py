"""Which plan task assigns each workflow stage, and what the stage's document is called.

A plan's tasks carry at most one of each binding key (pakn.models.plan.BINDINGS). The
plan ``in_force`` is the one whose bound task new stage visits record (see
``pakn.operations.feedback``); bindings of other plans are kept for their dashboards and
for the day they are put in force.
"""
from __future__ import annotations

from sqlalchemy import select

from workflows.engine import N_
from workflows.pakn import WORKFLOW

from ..extensions import db
from ..models import Plan, PlanTask
from ..text import fold

#: The binding keys with their Vietnamese labels (the stages they cover).
BINDING_LABELS = {
    "receive_classify": N_("Tiếp nhận, phân loại, chuyển xử lý"),
    "handle": N_("Xử lý, trả lời"),
    "notify_publish": N_("Kiểm tra, thông báo, công khai kết quả"),
    "report": N_("Báo cáo định kỳ của cơ quan"),
    "report_consolidated": N_("Báo cáo tổng hợp của tỉnh"),
}

#: The document a stage produces when no plan task names it.
DEFAULT_DOCUMENTS = {
    "receive_classify": N_("Văn bản chuyển xử lý PAKN"),
    "handle": N_("Văn bản trả lời PAKN"),
    "notify_publish": N_("Văn bản thông báo kết quả xử lý PAKN"),
}


def stages_of(binding: str) -> list[str]:
    """The workflow stage keys a binding covers (notify_publish covers check and publish)."""
    return [s.key for s in WORKFLOW.stages.values() if s.plan_task == binding]


def plan_in_force() -> Plan | None:
    return db.session.scalar(select(Plan).where(Plan.in_force.is_(True)))


def bound_task(binding: str) -> PlanTask | None:
    """The task bound to ``binding`` in the plan in force (or, with none in force, the latest bound)."""
    return db.session.scalar(
        select(PlanTask).join(Plan).where(PlanTask.binding == binding)
        .order_by(Plan.in_force.desc(), PlanTask.id.desc()).limit(1))


def document_name(stage_key: str) -> str:
    """The name of the document a stage produces: the bound task's expected product."""
    stage = WORKFLOW.stages.get(stage_key)
    binding = stage.plan_task if stage else None
    task = bound_task(binding) if binding else None
    if task is not None and task.expected_product:
        return task.expected_product
    return DEFAULT_DOCUMENTS.get(binding or "", "")


def _text(task: PlanTask) -> str:
    return fold(task.heading, task.content, task.expected_product, task.timeframe)


def _led_by_office(task: PlanTask) -> bool:
    leads = task.units_of("lead")
    if any(u.agency is not None and u.agency.is_office for u in leads):
        return True
    return fold(task.lead_units).startswith("van phong")


def suggest_bindings(plan: Plan) -> dict[str, PlanTask]:
    """Binding key → the task whose wording assigns it (receive/classify, handle, notify/publish,
    reports), for an admin to confirm. A task suggested for one key is not suggested again."""
    suggestions: dict[str, PlanTask] = {}
    used: set[int] = set()

    def pick(key: str, test) -> None:
        for task in plan.tasks:
            if task.is_group or task.id in used or task.part != 1:
                continue
            if test(_text(task), task):
                suggestions[key] = task
                used.add(task.id)
                return

    def about_feedback(t: str) -> bool:
        return "phan anh" in t or "pakn" in t

    pick("receive_classify", lambda t, task: about_feedback(t) and "tiep nhan" in t
         and ("phan loai" in t or "chuyen" in t))
    pick("handle", lambda t, task: about_feedback(t) and "xu ly" in t and "tiep nhan" not in t
         and "thong bao" not in t)
    pick("notify_publish", lambda t, task: about_feedback(t) and "ket qua" in t
         and ("thong bao" in t or "cong khai" in t))
    pick("report_consolidated", lambda t, task: "bao cao dinh ky" in t and _led_by_office(task))
    pick("report", lambda t, task: "bao cao dinh ky" in t and not _led_by_office(task))
    return suggestions


def bind(plan: Plan, bindings: dict[str, int | None]) -> None:
    """Set the plan's bindings: key → task id (None unbinds the key). Flushes."""
    for task in plan.tasks:
        if task.binding in bindings:
            task.binding = None
    db.session.flush()
    by_id = {t.id: t for t in plan.tasks}
    for key, task_id in bindings.items():
        if task_id is not None:
            by_id[task_id].binding = key
    db.session.flush()


def put_in_force(plan: Plan) -> None:
    for other in db.session.scalars(select(Plan).where(Plan.in_force.is_(True), Plan.id != plan.id)):
        other.in_force = False
    db.session.flush()
    plan.in_force = True
    db.session.flush()
