"""The one glossary: domain words in English for code, Vietnamese-exact for people.

Every coded value the product stores (kinds, subjects, content categories, channels,
reasons, outcomes, roles) is declared here once with its Vietnamese label. The labels are
gettext msgids (Vietnamese is the source language; the English catalog translates them).

| code word        | Vietnamese                           |
|------------------|--------------------------------------|
| Feedback         | phản ánh, kiến nghị (PAKN)           |
| Agency           | cơ quan (sở, ban, ngành, UBND cấp xã) |
| office           | Văn phòng UBND tỉnh                  |
| Field            | lĩnh vực                             |
| PlanTask         | nhiệm vụ trong kế hoạch               |
| receive          | tiếp nhận                            |
| classify         | phân loại                            |
| forward          | chuyển xử lý                         |
| answer           | trả lời                              |
| notify           | thông báo                            |
| publish          | công khai                            |
| close            | lưu trữ                              |
| withdraw         | rút PAKN                             |
| StageVisit       | lượt xử lý của một giai đoạn          |
"""
from __future__ import annotations

from enum import Enum


def N_(message: str) -> str:
    """Mark a string for translation; the app translates it at display time."""
    return message


class Coded(str, Enum):
    """A coded value with a Vietnamese label (``label``) kept beside the code."""

    def __new__(cls, code: str, label: str):
        obj = str.__new__(cls, code)
        obj._value_ = code
        obj.label = label  # type: ignore[attr-defined]
        return obj

    @classmethod
    def codes(cls) -> list[str]:
        return [m.value for m in cls]

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]  # type: ignore[attr-defined]


class Kind(Coded):
    """Art. 3.4–3.5 NĐ 20/2008: a kiến nghị is a phản ánh with a proposed solution."""

    PHAN_ANH = ("phan_anh", N_("Phản ánh"))
    KIEN_NGHI = ("kien_nghi", N_("Kiến nghị"))


class Subject(Coded):
    """Art. 9.1.d: conduct of officials vs the regulation itself."""

    HANH_VI = ("hanh_vi", N_("Hành vi hành chính"))
    QUY_DINH = ("quy_dinh", N_("Quy định hành chính"))


class ContentCategory(Coded):
    """Art. 5 NĐ 20/2008: what the feedback is about."""

    CONDUCT = ("1", N_("Hành vi chậm trễ, gây phiền hà hoặc không thực hiện, thực hiện không đúng quy định"))
    UNFIT = ("2", N_("Quy định không phù hợp với thực tế"))
    INCONSISTENT = ("3", N_("Quy định không đồng bộ, không thống nhất"))
    UNLAWFUL = ("4", N_("Quy định không hợp pháp"))
    TREATY = ("5", N_("Quy định trái với điều ước quốc tế"))
    OTHER = ("6", N_("Vấn đề khác"))
    SOLUTION = ("7", N_("Phương án xử lý những vấn đề nêu trên"))
    INITIATIVE = ("8", N_("Sáng kiến ban hành mới quy định hành chính"))


class Channel(Coded):
    """How the item reached us; every channel becomes the same case."""

    WEB = ("web", N_("Cổng thông tin (biểu mẫu trực tuyến)"))
    EMAIL = ("email", N_("Thư điện tử"))
    POST = ("post", N_("Văn bản qua bưu chính"))
    PHONE = ("phone", N_("Điện thoại"))
    IN_PERSON = ("in_person", N_("Trực tiếp"))
    VPCP = ("vpcp", N_("Văn phòng Chính phủ chuyển đến"))
    API = ("api", N_("Hệ thống khác qua API"))


class RejectReason(Coded):
    """Why an item is "không tiếp nhận" (Art. 9.1.d, 9.3), each with guidance."""

    COMPLAINT = ("complaint", N_("Khiếu nại"))
    DENUNCIATION = ("denunciation", N_("Tố cáo"))
    LEGAL_QUESTION = ("legal_question", N_("Hỏi đáp, giải đáp pháp luật"))
    LEGAL_DOCUMENT = ("legal_document", N_("Phản ánh, kiến nghị về văn bản quy phạm pháp luật"))
    MISSING_IDENTITY = ("missing_identity", N_("Thiếu thông tin người gửi"))
    LANGUAGE = ("language", N_("Không sử dụng tiếng Việt"))
    UNCLEAR = ("unclear", N_("Nội dung không rõ ràng"))
    DUPLICATE = ("duplicate", N_("Trùng lặp, đã được xử lý"))


#: Default guidance given to the submitter for each reject reason (where to go instead).
REJECT_GUIDANCE: dict[str, str] = {
    RejectReason.COMPLAINT: N_(
        "Khiếu nại được giải quyết theo Luật Khiếu nại. Đề nghị ông/bà gửi đơn khiếu nại đến cơ quan "
        "đã ban hành quyết định hoặc có hành vi hành chính bị khiếu nại."),
    RejectReason.DENUNCIATION: N_(
        "Tố cáo được giải quyết theo Luật Tố cáo. Đề nghị ông/bà gửi đơn tố cáo đến cơ quan, người có "
        "thẩm quyền quản lý người bị tố cáo."),
    RejectReason.LEGAL_QUESTION: N_(
        "Hỏi đáp pháp luật không thuộc phạm vi tiếp nhận phản ánh, kiến nghị về quy định hành chính. "
        "Đề nghị ông/bà liên hệ Sở Tư pháp hoặc tổ chức trợ giúp pháp lý."),
    RejectReason.LEGAL_DOCUMENT: N_(
        "Phản ánh, kiến nghị về văn bản quy phạm pháp luật được tiếp nhận trên Hệ thống tiếp nhận, "
        "xử lý phản ánh, kiến nghị về văn bản quy phạm pháp luật của Chính phủ."),
    RejectReason.MISSING_IDENTITY: N_(
        "Phản ánh, kiến nghị phải ghi rõ họ tên, địa chỉ và số điện thoại hoặc thư điện tử của người gửi. "
        "Đề nghị ông/bà gửi lại với đầy đủ thông tin."),
    RejectReason.LANGUAGE: N_(
        "Phản ánh, kiến nghị phải được thể hiện bằng tiếng Việt. Đề nghị ông/bà gửi lại bằng tiếng Việt."),
    RejectReason.UNCLEAR: N_(
        "Nội dung phản ánh, kiến nghị chưa rõ ràng. Đề nghị ông/bà gửi lại, nêu rõ quy định hành chính, "
        "vướng mắc cụ thể và đề xuất (nếu có)."),
    RejectReason.DUPLICATE: N_(
        "Nội dung này đã được tiếp nhận và xử lý. Ông/bà có thể tra cứu kết quả trả lời đã công khai."),
}


class AnswerOutcome(Coded):
    """Art. 15, 18 NĐ 20/2008: what the competent agency decides."""

    AMEND = ("amend", N_("Sửa đổi, bổ sung quy định"))
    REPEAL = ("repeal", N_("Bãi bỏ, hủy bỏ quy định"))
    PROPOSE = ("propose", N_("Kiến nghị cơ quan có thẩm quyền sửa đổi, bãi bỏ"))
    NEW_RULE = ("new_rule", N_("Ban hành hoặc đề xuất ban hành quy định mới"))
    KEEP = ("keep", N_("Giữ nguyên quy định, có giải thích"))
    CONDUCT = ("conduct", N_("Xử lý hành vi hành chính"))


class Role(Coded):
    """Who acts. ``submitter`` and ``system`` are not accounts."""

    OFFICE_CLERK = ("office_clerk", N_("Chuyên viên Văn phòng"))
    OFFICE_LEAD = ("office_lead", N_("Lãnh đạo Văn phòng"))
    AGENCY_OFFICER = ("agency_officer", N_("Chuyên viên cơ quan"))
    AGENCY_LEAD = ("agency_lead", N_("Lãnh đạo cơ quan"))
    ADMIN = ("admin", N_("Quản trị hệ thống"))
    SUBMITTER = ("submitter", N_("Người gửi"))
    SYSTEM = ("system", N_("Hệ thống"))


#: Roles a staff account can hold (``submitter`` and ``system`` are not accounts).
STAFF_ROLES = (Role.OFFICE_CLERK, Role.OFFICE_LEAD, Role.AGENCY_OFFICER, Role.AGENCY_LEAD, Role.ADMIN)
OFFICE_ROLES = (Role.OFFICE_CLERK.value, Role.OFFICE_LEAD.value)
AGENCY_ROLES = (Role.AGENCY_OFFICER.value, Role.AGENCY_LEAD.value)
