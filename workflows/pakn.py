"""The PAKN workflow as data (shared/domain.md, "Product decisions" and §4–§5).

receive → classify (reject / merge / handle in the office / forward) → agency accepts →
drafts → lead approves → submits → office checks (accept or return) → notify → publish →
close; side paths: needs more information (asked by the office while classifying, or by the
agency while handling), returned by an agency as not competent, progress updates, internal
extension record, withdrawal before the answer.

Every limit is a per-province clock setting whose default is the legal value.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from . import payloads as p
from .calendar import DayUnit
from .engine import (
    Actor, DeadlineSpec, GuardSpec, N_, Refusal, RefusalKind, Stage, State, Transition, Workflow,
)
from .glossary import AGENCY_ROLES, OFFICE_ROLES, Role

OFFICE = OFFICE_ROLES
AGENCY = AGENCY_ROLES
SUBMITTER = (Role.SUBMITTER.value,)
LEADS = (Role.AGENCY_LEAD.value, Role.OFFICE_LEAD.value)
# Office staff act as "the agency" on cases the office handles within its own competence;
# the guard actor_in_case_agency keeps them to those cases.
HANDLERS = AGENCY + OFFICE

# -- stages: one clock and one plan task each ------------------------------------------
STAGES = [
    Stage("classify", N_("Tiếp nhận, phân loại, chuyển xử lý"),
          DeadlineSpec("forward_days", 5, DayUnit.WORKING), plan_task="receive_classify",
          responsible="office"),
    Stage("handle", N_("Xử lý, trả lời"),
          DeadlineSpec("answer_days", 20, DayUnit.CALENDAR, unit_setting="answer_day_unit",
                       anchor="received"),
          plan_task="handle", responsible="agency"),
    Stage("check", N_("Kiểm tra kết quả trả lời"),
          DeadlineSpec("check_days", 2, DayUnit.WORKING), plan_task="notify_publish",
          responsible="office"),
    Stage("publish", N_("Thông báo, công khai kết quả"),
          DeadlineSpec("publish_days", 2, DayUnit.WORKING), plan_task="notify_publish",
          responsible="office"),
]

STATES = [
    State("received", N_("Đã tiếp nhận"), stage="classify", initial=True),
    State("needs_info", N_("Chờ bổ sung thông tin"), stage="classify"),
    State("returned", N_("Cơ quan trả lại, chờ phân loại lại"), stage="classify"),
    State("forwarded", N_("Đã chuyển xử lý"), stage="handle"),
    State("in_progress", N_("Đang xử lý"), stage="handle"),
    State("draft_pending_approval", N_("Chờ lãnh đạo duyệt dự thảo trả lời"), stage="handle"),
    State("answer_approved", N_("Dự thảo trả lời đã được duyệt"), stage="handle"),
    State("answered", N_("Đã có văn bản trả lời, chờ kiểm tra"), stage="check"),
    State("answer_accepted", N_("Đã kiểm tra, chờ thông báo"), stage="publish"),
    State("notified", N_("Đã thông báo người gửi, chờ công khai"), stage="publish"),
    State("published", N_("Đã công khai")),
    State("closed", N_("Đã lưu trữ"), final=True),
    State("rejected", N_("Không tiếp nhận"), final=True),
    State("merged", N_("Đã gộp vào PAKN trùng"), final=True),
    State("withdrawn", N_("Người gửi đã rút"), final=True),
]

#: States in which the case has a responsible agency (a CHECK constraint mirrors this).
AGENCY_STATES = ("forwarded", "in_progress", "draft_pending_approval", "answer_approved", "answered")
#: States before the answer: the submitter may still withdraw (domain §5).
BEFORE_ANSWER = ("received", "needs_info", "returned", "forwarded", "in_progress",
                 "draft_pending_approval", "answer_approved")
CLASSIFIABLE = ("received", "returned")
HANDLING = ("forwarded", "in_progress", "draft_pending_approval", "answer_approved")
#: States with a stage: the case has an open stage visit and a clock (the work in hand, a few
#: tens of thousands of cases however many years are kept). The others (published and the
#: final states) only grow; a count over them reads hundreds of thousands of rows.
STAGED_STATES = tuple(s.key for s in STATES if s.stage)


# -- guards: whether an action applies to this actor and case ---------------------------
def _in_case_agency(case: Any, actor: Actor, ctx: Mapping[str, Any]) -> bool:
    return case is not None and actor.agency_id is not None and actor.agency_id == case.agency_id


def _own_case_if_submitter(case: Any, actor: Actor, ctx: Mapping[str, Any]) -> bool:
    if actor.role != Role.SUBMITTER:
        return True
    return case is not None and getattr(actor, "case_id", None) == case.id


def _office_or_case_agency(case: Any, actor: Actor, ctx: Mapping[str, Any]) -> bool:
    return actor.role in OFFICE or _in_case_agency(case, actor, ctx)


def _submitter_or_case_agency(case: Any, actor: Actor, ctx: Mapping[str, Any]) -> bool:
    # The submitter (own case: see own_case_if_submitter), or staff of the handling agency
    # recording a reply that came by phone or post.
    return actor.role == Role.SUBMITTER or _in_case_agency(case, actor, ctx)


def _agency_info_requested(case: Any, actor: Actor, ctx: Mapping[str, Any]) -> bool:
    return case is not None and getattr(case, "info_requested_at", None) is not None


GUARDS = [
    GuardSpec("actor_in_case_agency", _in_case_agency, Refusal(
        RefusalKind.PERMISSION, "other_agency",
        N_("Hồ sơ không thuộc cơ quan của bạn."))),
    GuardSpec("own_case_if_submitter", _own_case_if_submitter, Refusal(
        RefusalKind.PERMISSION, "not_own_case",
        N_("Bạn chỉ thao tác được trên PAKN của chính mình."))),
    GuardSpec("office_or_case_agency", _office_or_case_agency, Refusal(
        RefusalKind.PERMISSION, "other_agency",
        N_("Hồ sơ không thuộc cơ quan của bạn."))),
    GuardSpec("submitter_or_case_agency", _submitter_or_case_agency, Refusal(
        RefusalKind.PERMISSION, "other_agency",
        N_("Hồ sơ không thuộc cơ quan của bạn."))),
    GuardSpec("agency_info_requested", _agency_info_requested, Refusal(
        RefusalKind.CONDITION, "no_info_request",
        N_("Cơ quan xử lý không có đề nghị bổ sung thông tin nào đang chờ trả lời."))),
]


# -- validators: conditions on the payload, with a reason the user can act on ----------
def _forward_target(case: Any, actor: Actor, payload: Mapping[str, Any], ctx: Mapping[str, Any]):
    agency = ctx.get("agency")
    if agency is None or not agency.active:
        return Refusal(RefusalKind.CONDITION, "agency_inactive",
                       N_("Cơ quan được chọn không còn hoạt động."))
    if agency.is_office:
        return Refusal(RefusalKind.CONDITION, "forward_to_office",
                       N_("Không chuyển cho chính Văn phòng; hãy chọn «Xử lý thuộc thẩm quyền»."))
    return None


def _merge_target(case: Any, actor: Actor, payload: Mapping[str, Any], ctx: Mapping[str, Any]):
    target = ctx.get("duplicate")
    if target is None:
        return Refusal(RefusalKind.CONDITION, "duplicate_missing", N_("Không tìm thấy PAKN trùng."))
    if target.id == case.id:
        return Refusal(RefusalKind.CONDITION, "duplicate_self",
                       N_("Không thể gộp một PAKN vào chính nó."))
    if target.state in ("rejected", "merged", "withdrawn"):
        return Refusal(RefusalKind.CONDITION, "duplicate_closed",
                       N_("PAKN %(code)s không còn hiệu lực để gộp vào (trạng thái: %(state)s)."),
                       {"code": target.code, "state": target.state})
    return None


def _assignee_in_agency(case: Any, actor: Actor, payload: Mapping[str, Any], ctx: Mapping[str, Any]):
    assignee = ctx.get("assignee")
    if payload.get("assignee") is None:
        return None
    if assignee is None or not assignee.active or assignee.agency_id != case.agency_id:
        return Refusal(RefusalKind.CONDITION, "assignee_other_agency",
                       N_("Người được giao phải là cán bộ đang làm việc tại cơ quan xử lý."))
    return None


def _extension_after_due(case: Any, actor: Actor, payload: Mapping[str, Any], ctx: Mapping[str, Any]):
    current: date | None = ctx.get("current_due_date")
    if current is not None and payload["new_due_date"] <= current:
        return Refusal(RefusalKind.CONDITION, "extension_not_later",
                       N_("Thời hạn gia hạn phải sau thời hạn hiện tại (%(due)s)."),
                       {"due": current.strftime("%d/%m/%Y")})
    return None


def _document_date_not_future(case: Any, actor: Actor, payload: Mapping[str, Any], ctx: Mapping[str, Any]):
    doc_date, today = payload.get("document_date"), ctx.get("today")
    if doc_date is not None and today is not None and doc_date > today:
        return Refusal(RefusalKind.CONDITION, "document_date_future",
                       N_("Ngày văn bản không được sau ngày hôm nay."))
    return None


VALIDATORS = {
    "forward_target": _forward_target,
    "merge_target": _merge_target,
    "assignee_in_agency": _assignee_in_agency,
    "extension_after_due": _extension_after_due,
    "document_date_not_future": _document_date_not_future,
}


TRANSITIONS = [
    # Receipt: the web form (anyone, no account) or staff entering an item on the submitter's behalf.
    Transition("receive", N_("Gửi phản ánh, kiến nghị"), (), "received", SUBMITTER,
               schema=p.SubmissionSchema, outbox=("submitter.receipt",), creates=True),
    Transition("receive_on_behalf", N_("Tiếp nhận thay người gửi"), (), "received",
               OFFICE + (Role.SYSTEM.value,), schema=p.IntakeSchema,
               outbox=("submitter.receipt",), creates=True),
    # Classification (Art. 9.1.d): one of five decisions.
    Transition("request_info", N_("Đề nghị bổ sung thông tin"), ("received", "returned"), "needs_info",
               OFFICE, schema=p.MessageSchema, outbox=("submitter.info_requested",)),
    Transition("supply_info", N_("Bổ sung thông tin"), ("needs_info",), "received",
               SUBMITTER + OFFICE, schema=p.SupplyInfoSchema, guards=("own_case_if_submitter",),
               outbox=("office.info_supplied",)),
    Transition("reject", N_("Không tiếp nhận"), ("received", "needs_info", "returned"), "rejected",
               OFFICE, schema=p.RejectSchema, outbox=("submitter.rejected",)),
    Transition("merge", N_("Gộp vào PAKN trùng"), ("received", "needs_info", "returned"), "merged",
               OFFICE, schema=p.MergeSchema, validators=("merge_target",),
               outbox=("submitter.merged",)),
    Transition("handle_in_office", N_("Xử lý thuộc thẩm quyền UBND tỉnh"), CLASSIFIABLE, "in_progress",
               OFFICE, schema=p.HandleInOfficeSchema),
    Transition("forward", N_("Chuyển xử lý"), CLASSIFIABLE, "forwarded", OFFICE,
               schema=p.ForwardSchema, validators=("forward_target",), outbox=("agency.forwarded",)),
    # The competent agency handles.
    Transition("accept", N_("Nhận xử lý"), ("forwarded",), "in_progress", HANDLERS,
               schema=p.AcceptSchema, guards=("actor_in_case_agency",),
               validators=("assignee_in_agency",)),
    Transition("return_not_competent", N_("Trả lại do không thuộc thẩm quyền"),
               ("forwarded", "in_progress"), "returned", AGENCY, schema=p.ReturnNotCompetentSchema,
               guards=("actor_in_case_agency",), outbox=("office.returned_by_agency",)),
    # The agency asks the submitter for more information while it handles the case (QĐ 574
    # Art. 10; domain §2). The case stays with the agency and the answer clock keeps running
    # (the law suspends nothing); the reply is recorded on the case for the agency.
    Transition("agency_request_info", N_("Đề nghị người gửi bổ sung thông tin"),
               ("forwarded", "in_progress"), None, HANDLERS, schema=p.MessageSchema,
               guards=("actor_in_case_agency",), outbox=("submitter.info_requested",)),
    Transition("supply_info_to_agency", N_("Bổ sung thông tin cho cơ quan xử lý"), HANDLING, None,
               SUBMITTER + HANDLERS, schema=p.SupplyInfoSchema,
               guards=("own_case_if_submitter", "submitter_or_case_agency", "agency_info_requested"),
               outbox=("agency.info_supplied",)),
    Transition("post_progress", N_("Cập nhật tiến độ xử lý"), HANDLING, None, HANDLERS,
               schema=p.MessageSchema, guards=("actor_in_case_agency",),
               outbox=("submitter.progress_update",)),
    Transition("record_extension", N_("Ghi nhận gia hạn nội bộ"), HANDLING, None, LEADS,
               schema=p.ExtensionSchema, guards=("office_or_case_agency",),
               validators=("extension_after_due",)),
    Transition("draft_answer", N_("Trình dự thảo trả lời"), ("in_progress",), "draft_pending_approval",
               HANDLERS, schema=p.DraftAnswerSchema, guards=("actor_in_case_agency",),
               outbox=("agency.draft_for_approval",)),
    Transition("approve_answer", N_("Duyệt dự thảo trả lời"), ("draft_pending_approval",),
               "answer_approved", LEADS, schema=p.ReviewSchema, guards=("actor_in_case_agency",)),
    Transition("send_back_draft", N_("Trả lại dự thảo để sửa"), ("draft_pending_approval",),
               "in_progress", LEADS, schema=p.SendBackSchema, guards=("actor_in_case_agency",),
               outbox=("agency.draft_sent_back",)),
    Transition("submit_answer", N_("Gửi văn bản trả lời"), ("answer_approved",), "answered",
               HANDLERS, schema=p.SubmitAnswerSchema, guards=("actor_in_case_agency",),
               validators=("document_date_not_future",), outbox=("office.answer_submitted",)),
    # The office checks, notifies and publishes (task 6.4).
    Transition("accept_answer", N_("Chấp nhận kết quả trả lời"), ("answered",), "answer_accepted",
               OFFICE, schema=p.OptionalNoteSchema),
    Transition("return_answer", N_("Trả lại kết quả để xử lý lại"), ("answered",), "in_progress",
               OFFICE, schema=p.MessageSchema, outbox=("agency.answer_returned",)),
    Transition("notify", N_("Thông báo kết quả cho người gửi"), ("answer_accepted",), "notified",
               OFFICE, schema=p.OptionalNoteSchema, outbox=("submitter.answered",)),
    Transition("publish", N_("Công khai kết quả"), ("notified",), "published", OFFICE,
               schema=p.PublishSchema, outbox=("submitter.published",)),
    Transition("close", N_("Lưu trữ"), ("published",), "closed", OFFICE, schema=p.OptionalNoteSchema),
    Transition("withdraw", N_("Rút phản ánh, kiến nghị"), BEFORE_ANSWER, "withdrawn",
               SUBMITTER + OFFICE, schema=p.WithdrawSchema, guards=("own_case_if_submitter",),
               outbox=("submitter.withdrawn", "agency.withdrawn")),
]

WORKFLOW = Workflow(
    "pakn", STATES, STAGES, TRANSITIONS, GUARDS, VALIDATORS, roles=[r.value for r in Role],
)
