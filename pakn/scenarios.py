"""How a case reaches each state: the paths through the workflow, with realistic payloads.

Used by ``pakn seed-demo`` to build cases in every state, and by the tests' factories, so
both go through the operations layer exactly as a user would (never by setting ``state``).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from workflows.glossary import Role

#: Who performs a step: "clerk" (office), "lead" (office lead), "officer" / "agency_lead"
#: (of the case's agency), "submitter".
Step = tuple[str, str, Mapping[str, Any]]

CLASSIFY = {"subject": "quy_dinh", "content_category": "2"}
DRAFT = {
    "summary": "Trả lời về thời hạn giải quyết thủ tục cấp giấy phép xây dựng nhà ở riêng lẻ.",
    "findings": "Quy định hiện hành phù hợp với Luật Xây dựng; việc chậm trễ do khâu luân chuyển hồ sơ nội bộ.",
    "outcome": "keep",
    "measures": "Chấn chỉnh bộ phận một cửa, rút ngắn thời gian luân chuyển hồ sơ xuống 3 ngày làm việc.",
    "responsible_body": "Sở Xây dựng",
    "legal_refs": "Luật Xây dựng 2014; Nghị định 15/2021/NĐ-CP.",
    "body": ("Sở Xây dựng trân trọng cảm ơn ông/bà đã phản ánh. Qua rà soát, quy định về thời hạn cấp "
             "giấy phép xây dựng là phù hợp; Sở đã chấn chỉnh việc luân chuyển hồ sơ để bảo đảm đúng hạn."),
}
PUBLISH = {
    "public_title": "Thời hạn cấp giấy phép xây dựng nhà ở riêng lẻ",
    "public_summary": "Phản ánh việc cấp giấy phép xây dựng nhà ở riêng lẻ bị chậm so với quy định.",
    "public_answer": DRAFT["body"],
}


def forward_to(agency_code: str, field_code: str) -> dict:
    return {**CLASSIFY, "field": field_code, "agency": agency_code}


def path_to(state: str, agency_code: str, field_code: str, duplicate_of: str | None = None) -> list[Step]:
    """The steps from ``received`` to ``state`` (a case handled by ``agency_code``)."""
    fwd = ("forward", "clerk", forward_to(agency_code, field_code))
    handling = [fwd, ("accept", "officer", {})]
    drafted = handling + [("draft_answer", "officer", DRAFT)]
    approved = drafted + [("approve_answer", "agency_lead", {"comment": "Đồng ý ban hành."})]
    answered = approved + [("submit_answer", "officer", {"document_number": "125/SXD-QLXD"})]
    accepted = answered + [("accept_answer", "clerk", {})]
    notified = accepted + [("notify", "clerk", {})]
    published = notified + [("publish", "clerk", PUBLISH)]
    paths: dict[str, list[Step]] = {
        "received": [],
        "needs_info": [("request_info", "clerk", {"message": "Đề nghị ông/bà cho biết số hồ sơ và ngày nộp."})],
        "returned": [fwd, ("return_not_competent", "officer",
                           {"reason": "Nội dung thuộc thẩm quyền của UBND cấp xã nơi cư trú."})],
        "rejected": [("reject", "clerk", {"reason_code": "complaint"})],
        "merged": [("merge", "clerk", {"duplicate_of": duplicate_of or ""})],
        "forwarded": [fwd],
        "in_progress": handling,
        "draft_pending_approval": drafted,
        "answer_approved": approved,
        "answered": answered,
        "answer_accepted": accepted,
        "notified": notified,
        "published": published,
        "closed": published + [("close", "clerk", {})],
        "withdrawn": [("withdraw", "clerk", {"reason": "Người gửi đề nghị rút qua điện thoại."})],
    }
    return paths[state]


def drive(case, steps: list[Step], actor_for: Callable[[str], Any], apply: Callable[..., Any]) -> None:
    """Fire ``steps`` on ``case``; ``actor_for(who)`` gives the acting user for a step."""
    for trigger, who, payload in steps:
        apply(case, trigger, actor_for(who), dict(payload))


SUBMISSION = {
    "kind": "phan_anh",
    "subject": "quy_dinh",
    "title": "Thời hạn cấp giấy phép xây dựng nhà ở riêng lẻ bị kéo dài",
    "content": ("Tôi nộp hồ sơ xin cấp giấy phép xây dựng nhà ở riêng lẻ tại bộ phận một cửa từ ngày "
                "02/10/2026 nhưng đến nay đã quá 15 ngày vẫn chưa được giải quyết, không có thông báo lý do."),
    "submitter_name": "Nguyễn Văn An",
    "submitter_address": "Số 12, đường 30/4, phường 1, tỉnh Vĩnh Long",
    "submitter_phone": "0912345678",
    "submitter_email": "an.nguyen@example.com",
}

ROLES_BY_WHO = {"clerk": Role.OFFICE_CLERK, "lead": Role.OFFICE_LEAD, "officer": Role.AGENCY_OFFICER,
                "agency_lead": Role.AGENCY_LEAD}
