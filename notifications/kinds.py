"""Every outbox kind pakn can write, with the short label shown in the staff bell.

The workflow definition (``workflows/pakn.py`` ``outbox=``) names most kinds; the deadline
sweep and the office console write reminders and escalations; this package writes the
digests. A test checks that every kind here and in the workflow has its e-mail templates.
"""
from __future__ import annotations

from workflows.engine import N_
from workflows.pakn import WORKFLOW

#: Kinds written by the deadline sweep (issue 6) and the office console's reminder button.
SWEEP_KINDS = ("agency.reminder", "agency.escalation", "office.escalation", "agency.progress_update_due")
#: Digests, written once a day by :mod:`notifications.digests`.
DIGEST_KINDS = ("office.overdue_digest", "agency.daily_digest")
#: Account messages written by the admin console (:mod:`pakn.operations.admin`): a one-time
#: set-password link, sealed in the payload (``link_sealed``) and erased once sent.
ACCOUNT_KINDS = ("user.invitation", "user.password_reset")


def workflow_kinds() -> list[str]:
    """Kinds the workflow definition can emit, in definition order."""
    seen: list[str] = []
    for transition in WORKFLOW.transitions.values():
        for kind in transition.outbox:
            if kind not in seen:
                seen.append(kind)
    return seen


def all_kinds() -> list[str]:
    return workflow_kinds() + [k for k in SWEEP_KINDS + DIGEST_KINDS + ACCOUNT_KINDS if k not in workflow_kinds()]


#: In-app label of each kind that reaches staff (submitter kinds go by e-mail/SMS only).
LABELS: dict[str, str] = {
    "office.info_supplied": N_("Người gửi đã bổ sung thông tin"),
    "agency.forwarded": N_("PAKN mới được chuyển đến cơ quan"),
    "office.returned_by_agency": N_("Cơ quan trả lại PAKN không thuộc thẩm quyền"),
    "agency.draft_for_approval": N_("Dự thảo trả lời chờ lãnh đạo duyệt"),
    "agency.draft_sent_back": N_("Dự thảo trả lời bị trả lại để sửa"),
    "office.answer_submitted": N_("Cơ quan đã gửi văn bản trả lời"),
    "agency.answer_returned": N_("Văn phòng trả lại kết quả để xử lý lại"),
    "agency.withdrawn": N_("Người gửi đã rút PAKN"),
    "agency.info_supplied": N_("Người gửi đã bổ sung thông tin cho cơ quan"),
    "agency.reminder": N_("Nhắc hạn xử lý PAKN"),
    "agency.escalation": N_("PAKN quá hạn xử lý"),
    "office.escalation": N_("PAKN quá hạn xử lý"),
    "agency.progress_update_due": N_("Đến hạn cập nhật tiến độ xử lý"),
    "office.overdue_digest": N_("Tổng hợp PAKN quá hạn trong ngày"),
    "agency.daily_digest": N_("Tổng hợp PAKN của cơ quan trong ngày"),
    "user.invitation": N_("Lời mời sử dụng hệ thống đã được gửi tới thư điện tử của bạn"),
    "user.password_reset": N_("Đường dẫn đặt lại mật khẩu đã được gửi tới thư điện tử của bạn"),
}


def label(kind: str) -> str:
    return LABELS.get(kind, kind)
