"""``pakn seed-demo``: a realistic province on the current database.

Vĩnh Long after the 1 July 2025 merger (Bến Tre and Trà Vinh joined it; no district
level): agency levels as data, the provincial office, a dozen sở, some communes and
wards, the fields, one account per role, the two seed plans imported from pakn/seeds/
(Bến Tre KH 62, now part of Vĩnh Long, in force; Hà Tĩnh KH 09; both bound), the
calendar overlay rows the ``holidays`` package does not know yet, and a few dozen
cases in every state of the workflow.

Cases are created only through the operations layer, exactly as users would create
them (``receive_feedback`` then :func:`pakn.scenarios.drive` with
``apply_transition``), with past instants passed as ``now`` so that the timeline is
plausible and some cases are overdue. Everything is one transaction: a failure leaves
the database as it was. Running it again on a database that already holds the demo
says so and adds nothing.

Contact addresses use the reserved ``.example`` / ``example.com`` domains (RFC 2606)
so that a demo wired to a real mail relay never writes to a real agency or citizen.
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field as dataclass_field
from pathlib import Path
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable

import click
import holidays
from flask import current_app
from sqlalchemy import func, select

from workflows.calendar import TZ, to_local_date
from workflows.pakn import WORKFLOW

from .extensions import db
from .models import (
    Agency, AgencyLevel, AuditEvent, CalendarOverlay, Feedback, Field, Plan, ReportFiling, StageVisit, User,
)
from .models.types import utcnow
from .operations import SubmitterActor, apply_transition, receive_feedback, transaction
from .operations.clock import working_calendar
from .plans.binding import bind, put_in_force, suggest_bindings
from .plans.importer import apply_import
from .plans.parse import parse_text
from .reports.periods import due_date, report_period
from .reports.stats import compute
from .scenarios import drive, forward_to, path_to

OFFICE_CODE = "VPUBND"  # its presence marks a database that already holds the demo
DOMAIN = "vinhlong.example"

# -- the province ---------------------------------------------------------------------
LEVELS = (  # (code, name, rank): since 1/7/2025 there is no district level
    ("tinh", "Cấp tỉnh", 0),
    ("so_nganh", "Sở, ban, ngành", 1),
    ("xa", "Cấp xã", 2),
)

OFFICE = {
    "code": OFFICE_CODE, "name": "Văn phòng UBND tỉnh Vĩnh Long", "short_name": "VP UBND tỉnh",
    "email": f"vpubnd@{DOMAIN}", "phone": "0270 3822 101",
    "address": "Số 88 đường Hoàng Thái Hiếu, phường Thanh Đức, tỉnh Vĩnh Long",
}

# (code, name, short name, e-mail local part, phone, address)
DEPARTMENTS = (
    ("SXD", "Sở Xây dựng", "SXD", "sxd", "0270 3823 350",
     "Số 12 đường Trưng Nữ Vương, phường Thanh Đức, tỉnh Vĩnh Long"),
    ("STC", "Sở Tài chính", "STC", "stc", "0270 3822 470",
     "Số 1 đường Phạm Thái Bường, phường Thanh Đức, tỉnh Vĩnh Long"),
    ("SNNMT", "Sở Nông nghiệp và Môi trường", "SNN&MT", "snnmt", "0270 3823 144",
     "Số 107/2 đường Phạm Hùng, phường Long Châu, tỉnh Vĩnh Long"),
    ("SYT", "Sở Y tế", "SYT", "syt", "0270 3822 214",
     "Số 47 đường Lê Văn Tám, phường Thanh Đức, tỉnh Vĩnh Long"),
    ("SGDDT", "Sở Giáo dục và Đào tạo", "SGDĐT", "sgddt", "0270 3823 210",
     "Số 1 đường Hoàng Thái Hiếu, phường Thanh Đức, tỉnh Vĩnh Long"),
    ("SCT", "Sở Công Thương", "SCT", "sct", "0270 3822 302",
     "Số 18 đường Nguyễn Huệ, phường Long Châu, tỉnh Vĩnh Long"),
    ("SNV", "Sở Nội vụ", "SNV", "snv", "0270 3822 538",
     "Số 8 đường Trần Phú, phường Long Châu, tỉnh Vĩnh Long"),
    ("STP", "Sở Tư pháp", "STP", "stp", "0270 3822 167",
     "Số 22 đường 2/9, phường Thanh Đức, tỉnh Vĩnh Long"),
    ("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL", "svhttdl", "0270 3823 461",
     "Số 3 đường Phó Cơ Điều, phường Thanh Đức, tỉnh Vĩnh Long"),
    ("SKHCN", "Sở Khoa học và Công nghệ", "SKHCN", "skhcn", "0270 3822 241",
     "Số 111 đường Phạm Hùng, phường Long Châu, tỉnh Vĩnh Long"),
    ("SDTTG", "Sở Dân tộc và Tôn giáo", "SDT&TG", "sdttg", "0270 3825 512",
     "Số 36 đường Lê Thái Tổ, phường Thanh Đức, tỉnh Vĩnh Long"),
    ("CAT", "Công an tỉnh Vĩnh Long", "Công an tỉnh", "congan", "0270 3822 280",
     "Số 77 đường Nguyễn Văn Thiệt, phường Thanh Đức, tỉnh Vĩnh Long"),
    ("BQLKCN", "Ban Quản lý các khu công nghiệp tỉnh", "BQL KCN", "bqlkcn", "0270 3824 305",
     "Số 40 đường 30/4, phường Long Châu, tỉnh Vĩnh Long"),
)

COMMUNES = (
    ("XA-THANHDUC", "UBND phường Thanh Đức", "phường Thanh Đức", "thanhduc", "0270 3821 020",
     "Số 2 đường Nguyễn Huệ, phường Thanh Đức, tỉnh Vĩnh Long"),
    ("XA-LONGCHAU", "UBND phường Long Châu", "phường Long Châu", "longchau", "0270 3823 075",
     "Số 5 đường Trần Phú, phường Long Châu, tỉnh Vĩnh Long"),
    ("XA-ANHOI", "UBND phường An Hội", "phường An Hội", "anhoi", "0275 3822 119",
     "Số 16 đường Đồng Khởi, phường An Hội, tỉnh Vĩnh Long"),
    ("XA-TRAVINH", "UBND phường Trà Vinh", "phường Trà Vinh", "travinh", "0294 3862 304",
     "Số 1 đường Lê Lợi, phường Trà Vinh, tỉnh Vĩnh Long"),
    ("XA-LONGHO", "UBND xã Long Hồ", "xã Long Hồ", "longho", "0270 3850 216",
     "Ấp Phước Yên A, xã Long Hồ, tỉnh Vĩnh Long"),
)

FIELDS = (
    ("dat_dai", "Đất đai"),
    ("xay_dung", "Xây dựng"),
    ("dau_tu", "Đầu tư"),
    ("doanh_nghiep", "Thành lập và hoạt động doanh nghiệp"),
    ("thue", "Thuế, phí, lệ phí"),
    ("y_te", "Y tế"),
    ("giao_duc", "Giáo dục và đào tạo"),
    ("giao_thong", "Giao thông vận tải"),
    ("tu_phap_ho_tich", "Tư pháp – hộ tịch"),
    ("lao_dong", "Lao động – việc làm"),
    ("nong_nghiep", "Nông nghiệp"),
    ("moi_truong", "Môi trường"),
    ("cu_tru", "Cư trú"),
)

# (key, role, agency code or None, full name, e-mail local part)
STAFF = (
    ("clerk", "office_clerk", OFFICE_CODE, "Nguyễn Thị Thu Hà", "ha.ntt"),
    ("lead", "office_lead", OFFICE_CODE, "Trần Minh Quang", "quang.tm"),
    ("officer:SXD", "agency_officer", "SXD", "Lê Hoàng Phúc", "phuc.lh.sxd"),
    ("agency_lead:SXD", "agency_lead", "SXD", "Võ Thanh Tùng", "tung.vt.sxd"),
    ("officer:SNNMT", "agency_officer", "SNNMT", "Phạm Thị Ngọc Lan", "lan.ptn.snnmt"),
    ("agency_lead:SNNMT", "agency_lead", "SNNMT", "Huỳnh Văn Đức", "duc.hv.snnmt"),
    ("officer:STC", "agency_officer", "STC", "Đặng Thị Kim Oanh", "oanh.dtk.stc"),
    ("agency_lead:STC", "agency_lead", "STC", "Ngô Quốc Bảo", "bao.nq.stc"),
    ("admin", "admin", None, "Bùi Anh Khoa", "quantri"),
)

# -- the plans: the two real seed plans, imported from pakn/seeds/ as an admin would ----
SEEDS_DIR = Path(__file__).resolve().parent / "seeds"
#: (file, put in force): Bến Tre (now part of Vĩnh Long) governs the workflow; Hà Tĩnh is bound too.
SEED_PLANS = (
    ("ben-tre-2019-ke-hoach-62-kiem-soat-tthc.txt", True),
    ("ha-tinh-2019-ke-hoach-09-kiem-soat-tthc-mot-cua.txt", False),
)


# -- the calendar: announced schedules (shared/domain.md §9) --------------------------
# Each is added to the overlay only if the ``holidays`` package does not already know it.
_TB_2025 = ("Thông báo số 6150/TB-LĐTBXH năm 2024 của Bộ Lao động – Thương binh và Xã hội "
            "(thực hiện Công văn số 8726/VPCP-KGVX của Văn phòng Chính phủ)")
_TB_2026 = "Thông báo số 9441/TB-BNV ngày 16/10/2025 của Bộ Nội vụ"
ANNOUNCED_DAYS = (
    (date(2025, 4, 7), "day_off", "Nghỉ Giỗ Tổ Hùng Vương năm 2025 (10/3 âm lịch)."),
    (date(2025, 4, 26), "working_day", f"Làm bù cho ngày nghỉ thứ Sáu 02/5/2025, theo {_TB_2025}."),
    (date(2025, 5, 2), "day_off", f"Nghỉ hoán đổi dịp 30/4 – 1/5/2025 (làm bù thứ Bảy 26/4/2025), theo {_TB_2025}."),
    *((date(2026, 2, d), "day_off", f"Nghỉ Tết Âm lịch Bính Ngọ 2026, theo {_TB_2026}.") for d in range(16, 21)),
    (date(2026, 8, 22), "working_day", f"Làm bù cho ngày nghỉ thứ Hai 31/8/2026, theo {_TB_2026}."),
    (date(2026, 8, 31), "day_off", f"Nghỉ hoán đổi dịp Quốc khánh 2026 (làm bù thứ Bảy 22/8/2026), theo {_TB_2026}."),
    (date(2026, 9, 1), "day_off", f"Nghỉ Quốc khánh 2026, theo {_TB_2026}."),
    (date(2026, 11, 24), "day_off", "Ngày Văn hóa Việt Nam (Nghị quyết số 80-NQ/TW)."),
)


def missing_calendar_days(years=(2025, 2026)) -> list[tuple[date, str, str]]:
    """The announced days of ``years`` that the ``holidays`` package does not already know."""
    package = holidays.country_holidays("VN", years=years)
    missing = []
    for day, kind, note in ANNOUNCED_DAYS:
        if day.year not in years:
            continue
        if kind == "day_off":
            known = day in package or day.weekday() >= 5
        else:
            known = day in package.weekend_workdays
        if not known:
            missing.append((day, kind, note))
    return missing


# -- the cases --------------------------------------------------------------------------
@dataclass
class DemoCase:
    """One demo case: its submission, the state it ends in and how it gets there.

    ``age`` is how many days ago it was received, ``idle`` how many days ago the last step
    happened. ``agency`` is the handling agency (``VPUBND``: the office handles it itself).
    ``extra`` names side paths: ``info_first``, ``returned_by:<code>``, ``send_back``,
    ``answer_returned``, ``progress``, ``extension``, ``withdrawn_by_submitter``.
    """

    key: str
    state: str
    channel: str
    age: float
    idle: float
    submission: dict[str, Any]
    agency: str = "SXD"
    field: str = "xay_dung"
    subject: str = "quy_dinh"
    category: str = "2"
    extra: tuple[str, ...] = ()
    messages: dict[str, str] = dataclass_field(default_factory=dict)
    answer: dict[str, Any] | None = None
    document_number: str | None = None
    public: dict[str, str] | None = None
    reject_reason: str | None = None
    duplicate_of: str | None = None


def _who(name, address, phone=None, email=None, organisation=None) -> dict:
    data = {"submitter_name": name, "submitter_address": address}
    if phone:
        data["submitter_phone"] = phone
    if email:
        data["submitter_email"] = email
    if organisation:
        data["submitter_organisation"] = organisation
    return data


def _answer(summary, findings, outcome, body, measures=None, responsible_body=None, legal_refs=None) -> dict:
    return {"summary": summary, "findings": findings, "outcome": outcome, "measures": measures,
            "responsible_body": responsible_body, "legal_refs": legal_refs, "body": body}


CASES: tuple[DemoCase, ...] = (
    DemoCase(
        "an-toan-thuc-pham", "closed", "vpcp", 60, 28, agency="SNNMT", field="nong_nghiep", category="2",
        submission={
            "kind": "kien_nghi",
            "title": "Phải làm lại hồ sơ chứng nhận cơ sở đủ điều kiện an toàn thực phẩm chỉ vì đổi địa chỉ "
                     "hành chính",
            "content": "Hợp tác xã chúng tôi đã được cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm "
                       "đối với cơ sở sơ chế rau củ quả. Sau khi sắp xếp đơn vị hành chính, địa chỉ cơ sở đổi từ "
                       "xã Long Phước, huyện Long Hồ sang xã Long Hồ, tỉnh Vĩnh Long. Khi liên hệ, chúng tôi được "
                       "hướng dẫn phải nộp hồ sơ cấp lại giấy chứng nhận, kèm đầy đủ thành phần như cấp mới, mặc "
                       "dù cơ sở, quy trình và người quản lý không thay đổi.",
            "proposal": "Đề nghị cho phép tiếp tục sử dụng giấy chứng nhận đã cấp đến hết thời hạn; trường hợp "
                        "cần cập nhật địa chỉ thì chỉ yêu cầu đơn đề nghị, không phải thẩm định lại.",
            **_who("Trương Văn Hậu", "Ấp Phước Hanh, xã Long Hồ, tỉnh Vĩnh Long", phone="0913 726 418",
                   email="htx.phuochanh@example.com", organisation="Hợp tác xã rau an toàn Phước Hạnh"),
        },
        answer=_answer(
            "Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đã cấp tiếp tục có giá trị khi chỉ thay đổi "
            "địa chỉ do sắp xếp đơn vị hành chính.",
            "Việc thay đổi địa giới, tên đơn vị hành chính không làm thay đổi điều kiện bảo đảm an toàn thực "
            "phẩm của cơ sở. Hướng dẫn của bộ phận tiếp nhận yêu cầu nộp hồ sơ như cấp mới là chưa đúng.",
            "propose",
            "Sở Nông nghiệp và Môi trường trân trọng cảm ơn Hợp tác xã đã phản ánh. Giấy chứng nhận cơ sở đủ "
            "điều kiện an toàn thực phẩm đã cấp tiếp tục có giá trị đến hết thời hạn ghi trên giấy; cơ sở không "
            "phải làm thủ tục cấp lại chỉ vì thay đổi địa chỉ do sắp xếp đơn vị hành chính. Khi cấp lại lúc hết "
            "hạn, Sở sẽ ghi địa chỉ mới. Sở đã kiến nghị Bộ Nông nghiệp và Môi trường hướng dẫn thống nhất nội "
            "dung này trên toàn quốc.",
            measures="Chấn chỉnh bộ phận tiếp nhận; kiến nghị Bộ Nông nghiệp và Môi trường hướng dẫn thống nhất.",
            responsible_body="Sở Nông nghiệp và Môi trường",
            legal_refs="Luật An toàn thực phẩm năm 2010; Thông tư số 38/2018/TT-BNNPTNT; Nghị quyết số "
                       "190/2025/QH15 của Quốc hội."),
        document_number="1842/SNNMT-QLCL",
        public={"public_title": "Giấy chứng nhận an toàn thực phẩm khi thay đổi địa chỉ do sắp xếp đơn vị "
                                "hành chính",
                "public_summary": "Cơ sở sơ chế rau củ quả được hướng dẫn làm lại hồ sơ chứng nhận đủ điều kiện "
                                  "an toàn thực phẩm chỉ vì địa chỉ thay đổi sau sắp xếp đơn vị hành chính."},
    ),
    DemoCase(
        "gpxd-xuong", "closed", "web", 58, 30, agency="SXD", field="xay_dung", subject="hanh_vi", category="1",
        submission={
            "kind": "phan_anh",
            "title": "Hồ sơ cấp giấy phép xây dựng nhà xưởng bị yêu cầu bổ sung nhiều lần",
            "content": "Công ty chúng tôi nộp hồ sơ đề nghị cấp giấy phép xây dựng nhà xưởng trong cụm công "
                       "nghiệp tại Sở Xây dựng. Trong hơn một tháng, hồ sơ bị trả lại ba lần, mỗi lần yêu cầu bổ "
                       "sung một nội dung khác nhau (bản vẽ phòng cháy, văn bản thẩm duyệt, xác nhận đấu nối), "
                       "trong khi các yêu cầu này có thể thông báo một lần ngay từ đầu.",
            **_who("Lâm Quốc Thịnh", "Lô B4 cụm công nghiệp Hòa Phú, xã Long Hồ, tỉnh Vĩnh Long",
                   phone="0939 214 557", email="thinh.lq@example.com",
                   organisation="Công ty TNHH Cơ khí Hòa Phú"),
        },
        answer=_answer(
            "Sở Xây dựng xác nhận việc yêu cầu bổ sung hồ sơ nhiều lần là chưa đúng quy định và đã chấn chỉnh.",
            "Qua kiểm tra, bộ phận chuyên môn đã yêu cầu bổ sung hồ sơ ba lần; theo quy định, việc yêu cầu bổ "
            "sung chỉ được thực hiện một lần, nêu đầy đủ các nội dung cần bổ sung.",
            "conduct",
            "Sở Xây dựng trân trọng cảm ơn Công ty đã phản ánh và xin lỗi về sự phiền hà. Sở đã kiểm điểm công "
            "chức thụ lý, chấn chỉnh việc thông báo bổ sung hồ sơ một lần bằng văn bản, và đã cấp giấy phép xây "
            "dựng cho Công ty ngay sau khi nhận phản ánh.",
            measures="Kiểm điểm công chức thụ lý; ban hành mẫu thông báo bổ sung hồ sơ một lần.",
            responsible_body="Sở Xây dựng",
            legal_refs="Luật Xây dựng năm 2014 (sửa đổi, bổ sung năm 2020); Nghị định số 175/2024/NĐ-CP."),
        document_number="2316/SXD-QLXD",
        public={"public_title": "Yêu cầu bổ sung hồ sơ cấp giấy phép xây dựng nhiều lần",
                "public_summary": "Doanh nghiệp phản ánh hồ sơ cấp giấy phép xây dựng nhà xưởng bị yêu cầu bổ "
                                  "sung ba lần với các nội dung khác nhau."},
    ),
    DemoCase(
        "bien-dong-dat", "closed", "in_person", 55, 28, agency="SNNMT", field="dat_dai", category="2",
        submission={
            "kind": "kien_nghi",
            "title": "Đăng ký biến động đất đai vẫn yêu cầu bản sao giấy tờ đã có trong cơ sở dữ liệu",
            "content": "Khi làm thủ tục đăng ký biến động do tặng cho quyền sử dụng đất giữa cha mẹ và con tại "
                       "Chi nhánh Văn phòng đăng ký đất đai, tôi được yêu cầu nộp bản sao chứng thực căn cước, "
                       "giấy xác nhận tình trạng hôn nhân và giấy khai sinh, trong khi các thông tin này đã có "
                       "trên Cơ sở dữ liệu quốc gia về dân cư và ứng dụng VNeID.",
            "proposal": "Đề nghị cán bộ tiếp nhận khai thác dữ liệu dân cư, không yêu cầu người dân nộp bản sao "
                        "các giấy tờ đã được số hóa.",
            **_who("Nguyễn Thị Mỹ Linh", "Số 41/3 đường Phạm Hùng, phường Long Châu, tỉnh Vĩnh Long",
                   phone="0907 183 526"),
        },
        answer=_answer(
            "Bỏ yêu cầu nộp bản sao giấy tờ nhân thân đã khai thác được trên Cơ sở dữ liệu quốc gia về dân cư.",
            "Quy trình nội bộ của Chi nhánh Văn phòng đăng ký đất đai chưa cập nhật quy định về khai thác dữ "
            "liệu dân cư thay cho bản sao giấy tờ.",
            "amend",
            "Sở Nông nghiệp và Môi trường ghi nhận kiến nghị của bà. Sở đã trình UBND tỉnh sửa đổi quy trình "
            "nội bộ giải quyết thủ tục đăng ký biến động đất đai: không yêu cầu bản sao căn cước, giấy khai sinh, "
            "giấy xác nhận tình trạng hôn nhân khi thông tin đã khai thác được trên Cơ sở dữ liệu quốc gia về "
            "dân cư. Quy trình mới được áp dụng tại tất cả chi nhánh từ ngày ký.",
            measures="Sửa đổi quy trình nội bộ; tập huấn cán bộ tiếp nhận về khai thác dữ liệu dân cư.",
            responsible_body="Sở Nông nghiệp và Môi trường",
            legal_refs="Luật Đất đai năm 2024; Nghị định số 101/2024/NĐ-CP; Nghị định số 104/2022/NĐ-CP."),
        document_number="1790/SNNMT-ĐĐ",
        public={"public_title": "Không yêu cầu bản sao giấy tờ đã có trên Cơ sở dữ liệu quốc gia về dân cư",
                "public_summary": "Kiến nghị bỏ yêu cầu nộp bản sao giấy tờ nhân thân khi đăng ký biến động "
                                  "đất đai do tặng cho quyền sử dụng đất."},
    ),
    DemoCase(
        "phi-tham-dinh", "closed", "post", 52, 26, agency=OFFICE_CODE, field="thue", category="3",
        submission={
            "kind": "kien_nghi",
            "title": "Mức phí thẩm định hồ sơ cấp giấy chứng nhận quyền sử dụng đất chưa thống nhất trong tỉnh",
            "content": "Sau khi hợp nhất tỉnh, người dân ở các địa bàn thuộc tỉnh Bến Tre, Trà Vinh cũ và Vĩnh "
                       "Long cũ đang nộp phí thẩm định hồ sơ cấp giấy chứng nhận quyền sử dụng đất theo ba nghị "
                       "quyết khác nhau của Hội đồng nhân dân ba tỉnh cũ, nên cùng một thủ tục nhưng mức thu khác "
                       "nhau.",
            "proposal": "Đề nghị UBND tỉnh sớm trình Hội đồng nhân dân tỉnh ban hành một nghị quyết thống nhất "
                        "mức thu phí trên toàn tỉnh.",
            **_who("Phan Thanh Tâm", "Số 9 đường Đồng Khởi, phường An Hội, tỉnh Vĩnh Long",
                   phone="0918 402 337", email="tam.phan@example.com"),
        },
        answer=_answer(
            "UBND tỉnh trình Hội đồng nhân dân tỉnh nghị quyết thống nhất mức thu phí thẩm định hồ sơ cấp giấy "
            "chứng nhận quyền sử dụng đất.",
            "Ba nghị quyết về phí của Hội đồng nhân dân ba tỉnh cũ đang được áp dụng chuyển tiếp theo địa bàn; "
            "mức thu chênh lệch giữa các địa bàn là có thật.",
            "propose",
            "UBND tỉnh Vĩnh Long ghi nhận kiến nghị của ông. UBND tỉnh đã giao Sở Tài chính chủ trì xây dựng dự "
            "thảo nghị quyết quy định thống nhất mức thu phí thẩm định hồ sơ cấp giấy chứng nhận quyền sử dụng "
            "đất trên toàn tỉnh, trình Hội đồng nhân dân tỉnh tại kỳ họp gần nhất. Trong thời gian chuyển tiếp, "
            "mức thu theo các nghị quyết hiện hành vẫn được áp dụng theo địa bàn.",
            measures="Giao Sở Tài chính xây dựng dự thảo nghị quyết; trình Hội đồng nhân dân tỉnh.",
            responsible_body="UBND tỉnh Vĩnh Long",
            legal_refs="Luật Phí và lệ phí năm 2015; Thông tư số 85/2019/TT-BTC."),
        document_number="412/UBND-KSTT",
        public={"public_title": "Thống nhất mức phí thẩm định hồ sơ cấp giấy chứng nhận quyền sử dụng đất",
                "public_summary": "Kiến nghị thống nhất mức thu phí thẩm định hồ sơ cấp giấy chứng nhận giữa các "
                                  "địa bàn sau hợp nhất tỉnh."},
    ),
    DemoCase(
        "dkdn-qua-mang", "closed", "web", 50, 22, agency="STC", field="doanh_nghiep", category="2",
        extra=("send_back",),
        messages={"send_back_draft": "Đề nghị nêu rõ căn cứ tại Nghị định 168/2025/NĐ-CP và hướng dẫn cụ thể "
                                     "cho doanh nghiệp trước khi trình ký."},
        submission={
            "kind": "phan_anh",
            "title": "Đăng ký thay đổi nội dung đăng ký doanh nghiệp qua mạng vẫn phải nộp bản giấy",
            "content": "Doanh nghiệp đã nộp hồ sơ thay đổi người đại diện theo pháp luật qua Hệ thống thông tin "
                       "quốc gia về đăng ký doanh nghiệp, có ký số. Sau khi hồ sơ hợp lệ, phòng Đăng ký kinh doanh "
                       "vẫn yêu cầu nộp thêm một bộ hồ sơ giấy có đóng dấu mới trả kết quả.",
            **_who("Đoàn Minh Khang", "Số 27 đường 3/2, phường Thanh Đức, tỉnh Vĩnh Long",
                   email="khang.doan@example.com", organisation="Công ty Cổ phần Nông sản Cửu Long Xanh"),
        },
        answer=_answer(
            "Hồ sơ đăng ký doanh nghiệp qua mạng có chữ ký số không phải nộp thêm bản giấy.",
            "Yêu cầu nộp bản giấy là không đúng quy định; nguyên nhân do công chức áp dụng hướng dẫn cũ.",
            "keep",
            "Sở Tài chính trân trọng cảm ơn ông đã phản ánh. Theo quy định hiện hành, hồ sơ đăng ký doanh nghiệp "
            "qua mạng thông tin điện tử được ký số có giá trị pháp lý như hồ sơ giấy; doanh nghiệp không phải nộp "
            "thêm bản giấy. Sở đã chấn chỉnh phòng Đăng ký kinh doanh và trả kết quả cho doanh nghiệp.",
            measures="Chấn chỉnh phòng Đăng ký kinh doanh; rà soát các hồ sơ qua mạng đang chờ bản giấy.",
            responsible_body="Sở Tài chính",
            legal_refs="Luật Doanh nghiệp năm 2020; Nghị định số 168/2025/NĐ-CP về đăng ký doanh nghiệp."),
        document_number="3057/STC-ĐKKD",
        public={"public_title": "Không yêu cầu bản giấy đối với hồ sơ đăng ký doanh nghiệp qua mạng",
                "public_summary": "Doanh nghiệp phản ánh bị yêu cầu nộp thêm hồ sơ giấy sau khi đã đăng ký thay "
                                  "đổi qua mạng có chữ ký số."},
    ),
    DemoCase(
        "khieu-nai-thu-hoi", "rejected", "in_person", 45, 44, reject_reason="complaint",
        submission={
            "kind": "phan_anh",
            "title": "Không đồng ý quyết định thu hồi đất để mở rộng đường tỉnh",
            "content": "Gia đình tôi không đồng ý với quyết định thu hồi đất và phương án bồi thường khi mở rộng "
                       "đường tỉnh qua ấp Phước Yên A, vì giá bồi thường thấp hơn giá thị trường. Đề nghị xem xét "
                       "lại quyết định thu hồi đất của UBND huyện trước đây.",
            **_who("Lê Văn Sáu", "Ấp Phước Yên A, xã Long Hồ, tỉnh Vĩnh Long", phone="0986 551 203"),
        },
    ),
    DemoCase(
        "phep-thi-cong-duong", "published", "web", 40, 6, agency="SXD", field="giao_thong", category="2",
        submission={
            "kind": "kien_nghi",
            "title": "Hồ sơ cấp phép thi công công trình thiết yếu trong phạm vi đường tỉnh yêu cầu quá nhiều "
                     "bản vẽ",
            "content": "Để lắp đặt tuyến cáp viễn thông ngầm dọc đường tỉnh, đơn vị phải nộp bản vẽ thiết kế, "
                       "bản vẽ tổ chức giao thông, bản vẽ hoàn trả mặt đường, mỗi loại ba bộ giấy có đóng dấu, dù "
                       "đã nộp bản điện tử trên Cổng dịch vụ công.",
            "proposal": "Chấp nhận bản vẽ điện tử đã ký số, chỉ yêu cầu một bộ giấy khi nhận giấy phép.",
            **_who("Hồ Thị Bích Ngọc", "Số 15 đường Lê Lợi, phường Trà Vinh, tỉnh Vĩnh Long",
                   phone="0945 330 118", email="ngoc.htb@example.com",
                   organisation="Chi nhánh Công ty Cổ phần Viễn thông Đồng bằng"),
        },
        answer=_answer(
            "Sở Xây dựng chấp nhận bản vẽ điện tử ký số trong hồ sơ cấp phép thi công công trình thiết yếu.",
            "Thành phần hồ sơ theo quy định không yêu cầu nhiều bộ bản vẽ giấy; việc yêu cầu ba bộ là theo thói "
            "quen lưu trữ của đơn vị.",
            "keep",
            "Sở Xây dựng ghi nhận kiến nghị. Thành phần hồ sơ cấp phép thi công công trình thiết yếu được giữ "
            "nguyên theo quy định; tuy nhiên từ nay Sở tiếp nhận bản vẽ điện tử đã ký số trên Cổng dịch vụ công "
            "và không yêu cầu nộp thêm bản giấy, trừ một bộ lưu khi nhận giấy phép.",
            measures="Cập nhật hướng dẫn trên Cổng dịch vụ công; chỉ yêu cầu một bộ giấy khi nhận kết quả.",
            responsible_body="Sở Xây dựng",
            legal_refs="Luật Đường bộ năm 2024 và các văn bản hướng dẫn thi hành."),
        document_number="2544/SXD-QLGT",
        public={"public_title": "Bản vẽ điện tử trong hồ sơ cấp phép thi công trên đường tỉnh",
                "public_summary": "Kiến nghị chấp nhận bản vẽ điện tử ký số thay cho nhiều bộ bản vẽ giấy khi "
                                  "cấp phép thi công công trình thiết yếu."},
    ),
    DemoCase(
        "ho-tro-thien-tai", "published", "email", 38, 5, agency="SNNMT", field="nong_nghiep", category="2",
        submission={
            "kind": "kien_nghi",
            "title": "Hồ sơ hỗ trợ khôi phục sản xuất sau xâm nhập mặn phải qua nhiều cấp xác nhận",
            "content": "Vườn bưởi của gia đình bị thiệt hại do xâm nhập mặn. Hồ sơ đề nghị hỗ trợ phải có xác "
                       "nhận của tổ trưởng tổ nhân dân, trưởng ấp, cán bộ nông nghiệp xã và UBND xã, mất gần một "
                       "tháng mới nộp được.",
            "proposal": "Chỉ cần biên bản kiểm tra thiệt hại của tổ công tác xã, bỏ các xác nhận trung gian.",
            **_who("Võ Văn Lực", "Ấp Tân Thuận, phường Long Châu, tỉnh Vĩnh Long", phone="0372 910 664",
                   email="vovanluc@example.com"),
        },
        answer=_answer(
            "Rút gọn hồ sơ hỗ trợ khôi phục sản xuất: chỉ cần biên bản kiểm tra thiệt hại của tổ công tác cấp xã.",
            "Các xác nhận của tổ trưởng tổ nhân dân, trưởng ấp không được quy định trong thành phần hồ sơ; đây là "
            "yêu cầu phát sinh tại một số địa phương.",
            "amend",
            "Sở Nông nghiệp và Môi trường cảm ơn ông đã kiến nghị. Sở đã tham mưu UBND tỉnh ban hành văn bản "
            "hướng dẫn thống nhất: hồ sơ đề nghị hỗ trợ chỉ gồm đơn đề nghị và biên bản kiểm tra thiệt hại của tổ "
            "công tác cấp xã; không yêu cầu xác nhận của tổ trưởng tổ nhân dân, trưởng ấp.",
            measures="Văn bản hướng dẫn của UBND tỉnh; kiểm tra việc thực hiện tại các xã.",
            responsible_body="Sở Nông nghiệp và Môi trường",
            legal_refs="Luật Phòng, chống thiên tai; Nghị định số 09/2025/NĐ-CP."),
        document_number="1921/SNNMT-TTBVTV",
        public={"public_title": "Rút gọn hồ sơ hỗ trợ khôi phục sản xuất sau thiên tai",
                "public_summary": "Kiến nghị bỏ các xác nhận trung gian trong hồ sơ đề nghị hỗ trợ khôi phục sản "
                                  "xuất sau xâm nhập mặn."},
    ),
    DemoCase(
        "le-phi-truoc-ba", "published", "web", 35, 2, agency="STC", field="thue", category="6",
        extra=("answer_returned",),
        messages={"return_answer": "Văn bản trả lời chưa nêu rõ trường hợp nhận thừa kế giữa anh chị em ruột và "
                                   "giấy tờ chứng minh quan hệ; đề nghị Sở bổ sung."},
        submission={
            "kind": "phan_anh",
            "title": "Chưa rõ hướng dẫn miễn lệ phí trước bạ khi nhận thừa kế nhà đất giữa anh chị em ruột",
            "content": "Tôi nhận thừa kế quyền sử dụng đất từ anh ruột. Bộ phận một cửa hướng dẫn phải nộp lệ phí "
                       "trước bạ, trong khi tôi được biết trường hợp thừa kế giữa anh chị em ruột được miễn. Đề "
                       "nghị hướng dẫn rõ giấy tờ cần có để được miễn.",
            **_who("Trần Thị Hồng Nhung", "Số 102 đường Nguyễn Đình Chiểu, phường An Hội, tỉnh Vĩnh Long",
                   phone="0823 447 190"),
        },
        answer=_answer(
            "Nhà, đất nhận thừa kế giữa anh, chị, em ruột thuộc trường hợp miễn lệ phí trước bạ.",
            "Bộ phận một cửa hướng dẫn chưa đúng; người nhận thừa kế cần nộp giấy tờ chứng minh quan hệ anh, chị, "
            "em ruột (giấy khai sinh hoặc xác nhận của cơ quan có thẩm quyền).",
            "keep",
            "Sở Tài chính trả lời bà như sau: nhà, đất nhận thừa kế giữa anh, chị, em ruột được miễn lệ phí trước "
            "bạ. Khi kê khai, bà nộp kèm giấy tờ chứng minh quan hệ anh, chị, em ruột (giấy khai sinh của hai "
            "người hoặc văn bản xác nhận của cơ quan có thẩm quyền). Sở đã đề nghị Thuế tỉnh hướng dẫn lại bộ phận "
            "tiếp nhận.",
            measures="Phối hợp Thuế tỉnh hướng dẫn bộ phận một cửa; đăng tải hướng dẫn trên Cổng thông tin.",
            responsible_body="Sở Tài chính",
            legal_refs="Nghị định số 10/2022/NĐ-CP quy định về lệ phí trước bạ."),
        document_number="3190/STC-QLG",
        public={"public_title": "Miễn lệ phí trước bạ khi nhận thừa kế nhà đất giữa anh chị em ruột",
                "public_summary": "Phản ánh về hướng dẫn nộp lệ phí trước bạ đối với nhà đất nhận thừa kế giữa anh "
                                  "chị em ruột."},
    ),
    DemoCase(
        "gpxd-co-thoi-han", "notified", "phone", 30, 1, agency="SXD", field="xay_dung", category="8",
        submission={
            "kind": "kien_nghi",
            "title": "Chưa có quy định về quy mô công trình được cấp giấy phép xây dựng có thời hạn sau hợp nhất "
                     "tỉnh",
            "content": "Người gửi trình bày qua điện thoại: thửa đất của gia đình nằm trong khu vực đã có quy hoạch "
                       "phân khu nhưng chưa có kế hoạch thu hồi. Khi xin phép xây nhà có thời hạn, bộ phận một cửa "
                       "cho biết tỉnh mới chưa ban hành quy định về quy mô công trình và thời hạn tồn tại nên chưa "
                       "giải quyết được.",
            "proposal": "Đề nghị UBND tỉnh sớm ban hành quy định áp dụng chung cho toàn tỉnh sau hợp nhất.",
            **_who("Huỳnh Công Danh", "Số 58 đường Phó Cơ Điều, phường Thanh Đức, tỉnh Vĩnh Long",
                   phone="0913 058 772"),
        },
        answer=_answer(
            "Sở Xây dựng tham mưu UBND tỉnh ban hành quy định về quy mô công trình, thời hạn tồn tại đối với "
            "giấy phép xây dựng có thời hạn trên địa bàn tỉnh.",
            "Các quyết định của ba tỉnh cũ hết hiệu lực áp dụng chung; trong khi chờ quy định mới, hồ sơ được "
            "giải quyết theo quyết định của tỉnh cũ nơi có đất.",
            "new_rule",
            "Sở Xây dựng ghi nhận kiến nghị của ông. Sở đang hoàn thiện dự thảo Quyết định của UBND tỉnh quy định "
            "quy mô công trình, thời hạn tồn tại đối với giấy phép xây dựng có thời hạn, dự kiến trình trong quý "
            "này. Trong thời gian chờ, hồ sơ của ông được giải quyết theo quy định của tỉnh cũ nơi có đất; ông có "
            "thể nộp hồ sơ ngay tại bộ phận một cửa.",
            measures="Trình UBND tỉnh ban hành quyết định; hướng dẫn tạm thời cho bộ phận một cửa.",
            responsible_body="Sở Xây dựng",
            legal_refs="Luật Xây dựng năm 2014 (sửa đổi, bổ sung năm 2020), Điều 94."),
        document_number="2718/SXD-QLXD",
        public={"public_title": "Quy định về giấy phép xây dựng có thời hạn sau hợp nhất tỉnh",
                "public_summary": "Kiến nghị ban hành quy định về quy mô công trình, thời hạn tồn tại đối với giấy "
                                  "phép xây dựng có thời hạn."},
    ),
    DemoCase(
        "cap-doi-gcn", "answer_accepted", "vpcp", 33, 2, agency="SNNMT", field="dat_dai", subject="hanh_vi",
        category="1",
        submission={
            "kind": "phan_anh",
            "title": "Cấp đổi giấy chứng nhận quyền sử dụng đất quá hạn giải quyết",
            "content": "Tôi nộp hồ sơ cấp đổi giấy chứng nhận quyền sử dụng đất do giấy cũ bị rách, ngày hẹn trả "
                       "kết quả đã qua hơn ba tuần nhưng chưa nhận được, cũng không có văn bản xin lỗi hay hẹn lại.",
            **_who("Mai Văn Hùng", "Ấp Long Thuận, xã Long Hồ, tỉnh Vĩnh Long", phone="0968 203 415"),
        },
        answer=_answer(
            "Chi nhánh Văn phòng đăng ký đất đai đã trả kết quả cấp đổi và xin lỗi ông vì trễ hạn.",
            "Hồ sơ trễ hạn 17 ngày do chuyển giao dữ liệu địa chính sau sắp xếp đơn vị hành chính; chi nhánh "
            "không gửi phiếu xin lỗi và hẹn lại theo quy định.",
            "conduct",
            "Sở Nông nghiệp và Môi trường thông tin đến ông: hồ sơ cấp đổi giấy chứng nhận của ông bị trễ hạn do "
            "chuyển giao dữ liệu địa chính. Chi nhánh Văn phòng đăng ký đất đai đã trả kết quả, gửi văn bản xin "
            "lỗi và kiểm điểm viên chức liên quan.",
            measures="Kiểm điểm viên chức; theo dõi hồ sơ sắp đến hạn hằng tuần.",
            responsible_body="Sở Nông nghiệp và Môi trường",
            legal_refs="Nghị định số 101/2024/NĐ-CP; Nghị định số 61/2018/NĐ-CP."),
        document_number="2044/SNNMT-VPĐKĐĐ",
    ),
    DemoCase(
        "tach-thua-hoi", "rejected", "web", 20, 19, reject_reason="legal_question",
        submission={
            "kind": "phan_anh",
            "title": "Hỏi điều kiện tách thửa đất trồng cây lâu năm",
            "content": "Xin hỏi diện tích tối thiểu để tách thửa đất trồng cây lâu năm tại xã Long Hồ hiện nay là "
                       "bao nhiêu mét vuông, và tôi có được tách thửa để chia cho hai con không?",
            **_who("Nguyễn Văn Tư", "Ấp Phước Yên B, xã Long Hồ, tỉnh Vĩnh Long", phone="0355 612 940"),
        },
    ),
    DemoCase(
        "chuyen-ho-kd", "answered", "web", 22, 1, agency="STC", field="doanh_nghiep", category="2",
        submission={
            "kind": "kien_nghi",
            "title": "Chuyển hộ kinh doanh thành doanh nghiệp phải nộp lại giấy tờ đã nộp",
            "content": "Khi chuyển hộ kinh doanh thành công ty TNHH một thành viên, tôi phải nộp lại bản sao giấy "
                       "chứng nhận đăng ký hộ kinh doanh, hợp đồng thuê địa điểm và xác nhận nộp thuế, dù các giấy "
                       "tờ này do chính cơ quan nhà nước cấp hoặc đang quản lý.",
            "proposal": "Đề nghị cơ quan đăng ký kinh doanh tự tra cứu thông tin hộ kinh doanh và tình trạng nộp "
                        "thuế qua hệ thống liên thông.",
            **_who("Châu Ngọc Trâm", "Số 66 đường Nguyễn Huệ, phường Long Châu, tỉnh Vĩnh Long",
                   email="tram.chau@example.com"),
        },
        answer=_answer(
            "Sở Tài chính kiến nghị Bộ Tài chính bỏ yêu cầu bản sao giấy chứng nhận đăng ký hộ kinh doanh khi "
            "chuyển đổi thành doanh nghiệp.",
            "Thành phần hồ sơ do Nghị định quy định; cơ quan đăng ký cấp tỉnh chưa thể tự bỏ, nhưng có thể tra "
            "cứu thông tin hộ kinh doanh trên hệ thống.",
            "propose",
            "Sở Tài chính ghi nhận kiến nghị của bà. Thành phần hồ sơ chuyển đổi hộ kinh doanh thành doanh nghiệp "
            "được quy định tại Nghị định về đăng ký doanh nghiệp; Sở đã có văn bản kiến nghị Bộ Tài chính bỏ yêu "
            "cầu bản sao các giấy tờ do cơ quan nhà nước đã cấp. Trong khi chờ, Sở không yêu cầu bản sao hợp đồng "
            "thuê địa điểm nếu địa chỉ không thay đổi.",
            responsible_body="Sở Tài chính",
            legal_refs="Luật Doanh nghiệp năm 2020; Nghị định số 168/2025/NĐ-CP."),
        document_number="3342/STC-ĐKKD",
    ),
    DemoCase(
        "dieu-chinh-gpxd", "answered", "post", 24, 3, agency="SXD", field="xay_dung", category="2",
        submission={
            "kind": "phan_anh",
            "title": "Phải điều chỉnh giấy phép xây dựng chỉ vì đổi tên đường, số nhà",
            "content": "Công trình nhà ở của tôi đang xây dựng theo giấy phép đã cấp. Do sắp xếp đơn vị hành chính, "
                       "tên phường và số nhà thay đổi; cán bộ xã yêu cầu tôi làm thủ tục điều chỉnh giấy phép xây "
                       "dựng trước khi hoàn công.",
            **_who("Dương Thị Kiều", "Số 14 đường Trần Phú, phường Long Châu, tỉnh Vĩnh Long",
                   phone="0939 877 061"),
        },
        answer=_answer(
            "Không phải điều chỉnh giấy phép xây dựng khi chỉ thay đổi tên đơn vị hành chính, tên đường, số nhà.",
            "Việc thay đổi địa danh hành chính không thuộc các trường hợp phải điều chỉnh giấy phép xây dựng.",
            "keep",
            "Sở Xây dựng trả lời bà: giấy phép xây dựng đã cấp tiếp tục có giá trị; việc thay đổi tên phường, tên "
            "đường, số nhà do sắp xếp đơn vị hành chính không thuộc trường hợp phải điều chỉnh giấy phép. Khi hoàn "
            "công, địa chỉ mới được ghi nhận theo xác nhận của UBND phường. Sở đã hướng dẫn UBND các xã, phường "
            "thực hiện thống nhất.",
            responsible_body="Sở Xây dựng",
            legal_refs="Luật Xây dựng năm 2014 (sửa đổi, bổ sung năm 2020); Nghị quyết số 190/2025/QH15."),
        document_number="2790/SXD-QLXD",
    ),
    DemoCase(
        "dieu-chinh-gpxd-trung", "merged", "web", 21, 18, duplicate_of="dieu-chinh-gpxd",
        submission={
            "kind": "phan_anh",
            "title": "Đề nghị hướng dẫn điều chỉnh giấy phép xây dựng khi đổi số nhà",
            "content": "Tôi đã gửi văn bản qua đường bưu điện về việc bị yêu cầu điều chỉnh giấy phép xây dựng chỉ "
                       "vì thay đổi tên phường và số nhà; nay gửi lại qua Cổng để được xem xét sớm.",
            **_who("Dương Thị Kiều", "Số 14 đường Trần Phú, phường Long Châu, tỉnh Vĩnh Long",
                   phone="0939 877 061"),
        },
    ),
    DemoCase(
        "tam-dung-he-pho", "draft_pending_approval", "web", 26, 4, agency="SXD", field="giao_thong",
        category="3",
        submission={
            "kind": "kien_nghi",
            "title": "Cấp phép sử dụng tạm thời một phần hè phố để trông giữ xe chưa thống nhất sau hợp nhất",
            "content": "Hộ kinh doanh quán ăn của tôi xin phép sử dụng tạm thời một phần hè phố để giữ xe cho khách. "
                       "Ở phường cũ thuộc Trà Vinh được cấp phép, nhưng nay phường mới cho biết chưa có quy định "
                       "chung của tỉnh nên tạm dừng cấp.",
            "proposal": "Đề nghị sớm ban hành quy định thống nhất về quản lý, sử dụng tạm thời hè phố.",
            **_who("Thạch Thị Sa Rây", "Số 203 đường Điện Biên Phủ, phường Trà Vinh, tỉnh Vĩnh Long",
                   phone="0294 385 216", email="saray.thach@example.com"),
        },
        answer=_answer(
            "Sở Xây dựng tham mưu quy định thống nhất về sử dụng tạm thời một phần hè phố trên toàn tỉnh.",
            "Ba quyết định của ba tỉnh cũ có nội dung khác nhau về điều kiện, thời gian và mức thu; việc tạm dừng "
            "cấp phép là chưa phù hợp.",
            "new_rule",
            "Sở Xây dựng ghi nhận kiến nghị. Sở đang xây dựng dự thảo Quyết định của UBND tỉnh quy định quản lý, "
            "sử dụng tạm thời một phần hè phố trên toàn tỉnh; trong thời gian chờ, UBND các phường tiếp tục cấp "
            "phép theo quyết định của tỉnh cũ nơi có tuyến đường.",
            responsible_body="Sở Xây dựng",
            legal_refs="Luật Đường bộ năm 2024."),
    ),
    DemoCase(
        "chung-chi-hanh-nghe", "in_progress", "in_person", 34, 6, agency="SXD", field="xay_dung",
        subject="hanh_vi", category="1", extra=("progress",),
        messages={"post_progress": "Sở đang lấy ý kiến Hội đồng xét cấp chứng chỉ hành nghề; dự kiến trả lời "
                                   "ông trong 7 ngày tới."},
        submission={
            "kind": "phan_anh",
            "title": "Cấp chứng chỉ hành nghề hoạt động xây dựng hạng III chậm so với thời hạn",
            "content": "Tôi nộp hồ sơ đề nghị cấp chứng chỉ hành nghề thiết kế xây dựng hạng III, đã sát hạch đạt "
                       "nhưng quá thời hạn 20 ngày vẫn chưa được cấp, hỏi thì được trả lời chờ họp hội đồng.",
            **_who("Kiều Minh Trí", "Số 5 đường Lê Thái Tổ, phường Thanh Đức, tỉnh Vĩnh Long",
                   phone="0976 114 289", email="tri.kieu@example.com"),
        },
    ),
    DemoCase(
        "chuyen-muc-dich", "in_progress", "web", 27, 3, agency="SNNMT", field="dat_dai", category="2",
        extra=("returned_by:SXD",),
        messages={"return_not_competent": "Nội dung thuộc lĩnh vực đất đai (chuyển mục đích sử dụng đất), "
                                          "đề nghị chuyển Sở Nông nghiệp và Môi trường."},
        submission={
            "kind": "kien_nghi",
            "title": "Chuyển mục đích từ đất vườn sang đất ở trong cùng thửa phải chờ kế hoạch sử dụng đất",
            "content": "Thửa đất của tôi có một phần là đất ở, phần còn lại là đất vườn liền kề. Khi xin chuyển "
                       "mục đích một phần đất vườn sang đất ở để xây nhà cho con, tôi được trả lời phải chờ kế "
                       "hoạch sử dụng đất hằng năm được phê duyệt, có thể mất cả năm.",
            "proposal": "Đề nghị cho phép chuyển mục đích đối với đất vườn trong cùng thửa có đất ở khi phù hợp "
                        "quy hoạch, không phải chờ kế hoạch hằng năm.",
            **_who("Lý Văn Bé", "Ấp Tân Hội, phường Long Châu, tỉnh Vĩnh Long", phone="0384 226 715"),
        },
    ),
    DemoCase(
        "dang-ky-moi-truong", "answer_approved", "web", 19, 1, agency="SNNMT", field="moi_truong",
        category="6", extra=("info_first",),
        messages={"request_info": "Đề nghị ông cho biết quy mô chăn nuôi (số con, diện tích chuồng trại) và địa "
                                  "điểm cơ sở để xác định cơ quan có thẩm quyền.",
                  "supply_info": "Cơ sở nuôi khoảng 120 con heo thịt, chuồng trại 400 m², tại ấp Phước Hanh, xã "
                                 "Long Hồ."},
        submission={
            "kind": "phan_anh",
            "title": "Chưa rõ cơ sở chăn nuôi heo quy mô nông hộ có phải đăng ký môi trường",
            "content": "Gia đình tôi chăn nuôi heo thịt, cán bộ xã yêu cầu đăng ký môi trường, nhưng hộ bên cạnh "
                       "cùng quy mô lại được cho biết không phải đăng ký. Đề nghị hướng dẫn rõ đối tượng phải đăng ký.",
            **_who("Phạm Văn Nghĩa", "Ấp Phước Hanh, xã Long Hồ, tỉnh Vĩnh Long", phone="0918 334 502"),
        },
        answer=_answer(
            "Cơ sở chăn nuôi từ quy mô trang trại nhỏ trở lên phải đăng ký môi trường; chăn nuôi nông hộ được miễn.",
            "Với khoảng 120 con heo thịt, cơ sở của ông thuộc quy mô trang trại nhỏ theo quy định về chăn nuôi, nên "
            "phải đăng ký môi trường tại UBND xã.",
            "keep",
            "Sở Nông nghiệp và Môi trường trả lời ông: cơ sở chăn nuôi quy mô trang trại nhỏ trở lên thuộc đối tượng "
            "đăng ký môi trường; chăn nuôi nông hộ được miễn. Cơ sở của ông (khoảng 120 con heo thịt) phải đăng ký "
            "tại UBND xã Long Hồ. Sở đã hướng dẫn UBND các xã áp dụng thống nhất.",
            responsible_body="Sở Nông nghiệp và Môi trường",
            legal_refs="Luật Bảo vệ môi trường năm 2020; Nghị định số 08/2022/NĐ-CP; Luật Chăn nuôi năm 2018."),
    ),
    DemoCase(
        "tam-ngung-kd", "withdrawn", "web", 15, 6, agency="STC", field="doanh_nghiep", category="6",
        extra=("withdrawn_by_submitter",),
        messages={"withdraw": "Doanh nghiệp đã được hướng dẫn trực tiếp và hoàn tất thủ tục tạm ngừng kinh doanh."},
        submission={
            "kind": "phan_anh",
            "title": "Thông báo tạm ngừng kinh doanh bị từ chối vì sai mẫu",
            "content": "Doanh nghiệp nộp thông báo tạm ngừng kinh doanh qua mạng nhưng bị từ chối với lý do sai mẫu, "
                       "không nêu rõ sai ở nội dung nào; doanh nghiệp đã nộp lại hai lần.",
            **_who("Tô Hoàng Yến", "Số 31 đường Hưng Đạo Vương, phường Thanh Đức, tỉnh Vĩnh Long",
                   email="yen.to@example.com", organisation="Công ty TNHH Thương mại Hoàng Yến"),
        },
    ),
    DemoCase(
        "phi-nuoc-thai", "draft_pending_approval", "email", 16, 2, agency="STC", field="thue", category="2",
        submission={
            "kind": "kien_nghi",
            "title": "Thu phí bảo vệ môi trường đối với nước thải sinh hoạt ở khu vực chưa có hệ thống thoát nước",
            "content": "Hóa đơn tiền nước hằng tháng của gia đình có thu phí bảo vệ môi trường đối với nước thải "
                       "sinh hoạt, trong khi khu vực tôi ở chưa có hệ thống thu gom, xử lý nước thải tập trung, "
                       "nước thải vẫn thải ra kênh.",
            "proposal": "Đề nghị xem xét giảm mức thu tại khu vực chưa có hệ thống thu gom, xử lý.",
            **_who("Đinh Công Lý", "Số 12/4 đường Nguyễn Văn Thiệt, phường Thanh Đức, tỉnh Vĩnh Long",
                   email="ly.dinh@example.com"),
        },
        answer=_answer(
            "Phí bảo vệ môi trường đối với nước thải sinh hoạt được thu theo quy định của Chính phủ, không phụ "
            "thuộc việc khu vực đã có hệ thống xử lý.",
            "Mức thu 10% giá bán nước sạch do Chính phủ quy định; Hội đồng nhân dân tỉnh có thể quyết định mức "
            "thu cao hơn nhưng không được thấp hơn.",
            "keep",
            "Sở Tài chính trả lời ông: phí bảo vệ môi trường đối với nước thải sinh hoạt được thu theo Nghị định "
            "của Chính phủ và không phụ thuộc khu vực đã có hệ thống thu gom, xử lý hay chưa; tỉnh không có thẩm "
            "quyền giảm mức thu. Số phí thu được dùng để đầu tư hệ thống thu gom, xử lý nước thải, trong đó có "
            "khu vực ông đang sinh sống.",
            responsible_body="Sở Tài chính",
            legal_refs="Nghị định số 53/2020/NĐ-CP quy định phí bảo vệ môi trường đối với nước thải."),
    ),
    DemoCase(
        "nd168-muc-phat", "rejected", "web", 14, 13, reject_reason="legal_document",
        submission={
            "kind": "kien_nghi",
            "title": "Kiến nghị giảm mức phạt vi phạm giao thông đối với xe máy",
            "content": "Mức phạt đối với lỗi không bật đèn xe máy theo Nghị định 168/2024/NĐ-CP là quá cao so với "
                       "thu nhập của người lao động ở nông thôn.",
            "proposal": "Đề nghị sửa Nghị định 168/2024/NĐ-CP theo hướng giảm mức phạt đối với các lỗi nhẹ.",
            **_who("Nguyễn Hữu Phước", "Ấp An Thới, phường An Hội, tỉnh Vĩnh Long", phone="0329 508 174"),
        },
    ),
    DemoCase(
        "dieu-chinh-du-an", "in_progress", "web", 12, 2, agency="STC", field="dau_tu", category="3",
        extra=("extension",),
        messages={"record_extension": "Cần xin ý kiến Bộ Tài chính về việc điều chỉnh địa điểm dự án ghi theo "
                                      "địa danh hành chính mới."},
        submission={
            "kind": "kien_nghi",
            "title": "Phải làm thủ tục điều chỉnh dự án đầu tư chỉ vì thay đổi địa danh hành chính",
            "content": "Dự án nhà máy chế biến dừa của công ty đã có giấy chứng nhận đăng ký đầu tư. Sau sắp xếp "
                       "đơn vị hành chính, tên xã, huyện trên giấy chứng nhận không còn; ngân hàng đề nghị công ty "
                       "điều chỉnh dự án trước khi giải ngân, trong khi thủ tục điều chỉnh mất 15 ngày.",
            "proposal": "Đề nghị cơ quan đăng ký đầu tư cấp văn bản xác nhận địa danh mới thay cho thủ tục "
                        "điều chỉnh.",
            **_who("Trịnh Quốc Việt", "Số 88 đường 30/4, phường An Hội, tỉnh Vĩnh Long",
                   phone="0275 382 6690", email="viet.tq@example.com", organisation="Công ty Cổ phần Dừa Xứ Đạo"),
        },
    ),
    DemoCase(
        "huy-bo-qua-dien-thoai", "withdrawn", "phone", 11, 9, messages={
            "withdraw": "Người gửi gọi điện đề nghị rút vì đã được UBND phường giải quyết xong."},
        submission={
            "kind": "phan_anh",
            "title": "Chậm cấp bản sao trích lục khai tử",
            "content": "Người gửi trình bày qua điện thoại: đã nộp yêu cầu cấp bản sao trích lục khai tử cho cha tại "
                       "UBND phường từ tuần trước nhưng chưa nhận được, cần gấp để làm thủ tục thừa kế.",
            **_who("Lê Thị Ánh Tuyết", "Số 7 đường Lê Lợi, phường Trà Vinh, tỉnh Vĩnh Long",
                   phone="0987 640 331"),
        },
    ),
    DemoCase(
        "chap-thuan-dia-diem", "in_progress", "post", 10, 6, agency=OFFICE_CODE, field="dau_tu", category="4",
        submission={
            "kind": "kien_nghi",
            "title": "Quy định của tỉnh yêu cầu văn bản chấp thuận địa điểm trước khi lập thủ tục đầu tư",
            "content": "Quyết định của UBND tỉnh (cũ) về quy trình thu hút đầu tư yêu cầu nhà đầu tư phải có văn bản "
                       "chấp thuận địa điểm của UBND tỉnh trước khi nộp hồ sơ chấp thuận chủ trương đầu tư, là bước "
                       "không có trong Luật Đầu tư, làm kéo dài thời gian chuẩn bị dự án thêm hai đến ba tháng.",
            "proposal": "Đề nghị bãi bỏ bước chấp thuận địa điểm trong quy trình của tỉnh.",
            **_who("Phùng Thanh Sơn", "Số 19 đường Hoàng Thái Hiếu, phường Thanh Đức, tỉnh Vĩnh Long",
                   email="son.phung@example.com", organisation="Hiệp hội Doanh nghiệp tỉnh Vĩnh Long"),
        },
    ),
    DemoCase(
        "xac-nhan-tranh-chap", "returned", "web", 9, 2, agency="SNNMT", field="dat_dai", category="2",
        messages={"return_not_competent": "Việc xác nhận tình trạng tranh chấp đất đai thuộc thẩm quyền UBND xã "
                                          "nơi có đất; đề nghị chuyển UBND xã Long Hồ.",
                  "suggested_agency": "XA-LONGHO"},
        submission={
            "kind": "phan_anh",
            "title": "Xác nhận đất không tranh chấp phải xin chữ ký của tất cả hộ liền kề",
            "content": "Để được xác nhận đất không có tranh chấp, tôi phải xin chữ ký của bốn hộ giáp ranh, trong "
                       "đó một hộ đã đi làm ăn xa nhiều năm nên không thể liên hệ, hồ sơ bị treo.",
            **_who("Bùi Thị Thanh", "Ấp Long Thuận, xã Long Hồ, tỉnh Vĩnh Long", phone="0366 871 209"),
        },
    ),
    DemoCase(
        "khoan-thu-mam-non", "received", "web", 9, 9, field="giao_duc",
        submission={
            "kind": "phan_anh",
            "title": "Trường mầm non công lập thu nhiều khoản ngoài học phí",
            "content": "Đầu năm học, trường mầm non công lập nơi con tôi học thu thêm tiền máy lạnh, tiền vệ sinh, "
                       "tiền đồ dùng bán trú, tổng cộng hơn một triệu đồng, nhưng không thấy văn bản nào của tỉnh "
                       "quy định các khoản thu này.",
            "field": "giao_duc",
            **_who("Lâm Thị Kim Ngân", "Số 52 đường Phạm Thái Bường, phường Long Châu, tỉnh Vĩnh Long",
                   email="ngan.lam@example.com"),
        },
    ),
    DemoCase(
        "thuong-tru-nha-thue", "forwarded", "web", 8, 5, agency="CAT", field="cu_tru", category="2",
        submission={
            "kind": "phan_anh",
            "title": "Đăng ký thường trú cho con khi ở nhà thuê yêu cầu hợp đồng thuê công chứng",
            "content": "Vợ chồng tôi đã đăng ký thường trú tại nhà thuê. Khi đăng ký thường trú cho con mới sinh, "
                       "công an phường yêu cầu hợp đồng thuê nhà có công chứng và ý kiến đồng ý của chủ nhà, dù "
                       "con chưa thành niên đăng ký theo cha mẹ.",
            **_who("Quách Minh Tuấn", "Số 8/2 đường Võ Văn Kiệt, phường Long Châu, tỉnh Vĩnh Long",
                   phone="0901 227 384"),
        },
    ),
    DemoCase(
        "cham-tra-ket-qua", "needs_info", "web", 7, 5,
        messages={"request_info": "Đề nghị ông cho biết tên thủ tục, cơ quan tiếp nhận, mã số biên nhận hồ sơ và "
                                  "ngày hẹn trả kết quả để Văn phòng chuyển đúng cơ quan có thẩm quyền."},
        submission={
            "kind": "phan_anh",
            "title": "Hồ sơ nộp tại bộ phận một cửa bị trả chậm",
            "content": "Tôi nộp hồ sơ tại bộ phận một cửa từ tháng trước, quá ngày hẹn nhưng chưa có kết quả. Hỏi "
                       "nhiều lần vẫn được trả lời đang chờ ký.",
            **_who("Văn Công Định", "Phường Long Châu, tỉnh Vĩnh Long", phone="0357 402 618"),
        },
    ),
    DemoCase(
        "giay-phep-kcb", "forwarded", "web", 6, 4, agency="SYT", field="y_te", category="2",
        submission={
            "kind": "kien_nghi",
            "title": "Phải xin cấp lại giấy phép hoạt động phòng khám khi chỉ thay đổi địa chỉ hành chính",
            "content": "Phòng khám chuyên khoa răng hàm mặt của tôi được yêu cầu làm thủ tục cấp lại giấy phép hoạt "
                       "động vì địa chỉ trên giấy phép ghi tên phường cũ, dù phòng khám không di dời.",
            "proposal": "Giấy phép đã cấp tiếp tục có giá trị; cập nhật địa chỉ mới khi có thay đổi khác.",
            **_who("Bác sĩ Tăng Mỹ Hạnh", "Số 140 đường Nguyễn Huệ, phường Long Châu, tỉnh Vĩnh Long",
                   phone="0908 335 147", email="nhakhoa.myhanh@example.com",
                   organisation="Phòng khám Răng Hàm Mặt Mỹ Hạnh"),
        },
    ),
    DemoCase(
        "tuyen-sinh-lop6", "forwarded", "email", 25, 21, agency="SGDDT", field="giao_duc", category="2",
        submission={
            "kind": "kien_nghi",
            "title": "Tuyển sinh lớp 6 yêu cầu giấy xác nhận cư trú dù đã có dữ liệu trên VNeID",
            "content": "Hồ sơ tuyển sinh lớp 6 của trường trung học cơ sở yêu cầu nộp giấy xác nhận thông tin về cư "
                       "trú do công an phường cấp, trong khi nhà trường có thể tra cứu qua ứng dụng VNeID hoặc Cơ sở "
                       "dữ liệu quốc gia về dân cư.",
            "proposal": "Đề nghị Sở Giáo dục và Đào tạo hướng dẫn các trường không yêu cầu giấy xác nhận cư trú.",
            **_who("Trần Văn Lộc", "Số 25 đường Mậu Thân, phường Trà Vinh, tỉnh Vĩnh Long",
                   email="loc.tran@example.com"),
        },
    ),
    DemoCase(
        "tro-cap-that-nghiep", "forwarded", "phone", 4, 2, agency="SNV", field="lao_dong", category="2",
        submission={
            "kind": "phan_anh",
            "title": "Hồ sơ hưởng trợ cấp thất nghiệp yêu cầu bản chính quyết định nghỉ việc",
            "content": "Người gửi trình bày qua điện thoại: Trung tâm dịch vụ việc làm yêu cầu nộp bản chính quyết "
                       "định chấm dứt hợp đồng lao động, trong khi công ty chỉ cấp một bản và người lao động cần giữ "
                       "để làm các thủ tục khác.",
            **_who("Nguyễn Thị Cẩm Tú", "Ấp Phú Thạnh, phường An Hội, tỉnh Vĩnh Long", phone="0774 190 526"),
        },
    ),
    DemoCase(
        "phi-cho", "needs_info", "email", 3, 2,
        messages={"request_info": "Đề nghị bà cho biết tên chợ, đơn vị thu phí và mức thu cụ thể (kèm biên lai nếu "
                                  "có) để xác định quy định áp dụng."},
        submission={
            "kind": "phan_anh",
            "title": "Tiền thuê chỗ ngồi ở chợ tăng sau khi đổi đơn vị quản lý",
            "content": "Tiền thuê chỗ ngồi bán hàng ở chợ tăng gần gấp đôi từ tháng này sau khi chợ đổi đơn vị quản "
                       "lý, tiểu thương không được thông báo trước.",
            **_who("Huỳnh Thị Lệ", "Phường Thanh Đức, tỉnh Vĩnh Long", email="le.huynh@example.com"),
        },
    ),
    DemoCase(
        "khai-sinh-nuoc-ngoai", "received", "post", 2, 2,
        submission={
            "kind": "kien_nghi",
            "title": "Đăng ký khai sinh cho trẻ sinh ở nước ngoài phải hợp pháp hóa lãnh sự nhiều giấy tờ",
            "content": "Con tôi sinh tại Hàn Quốc, nay về cư trú cùng gia đình. Khi đăng ký khai sinh, tôi được yêu "
                       "cầu hợp pháp hóa lãnh sự giấy chứng sinh và cả giấy tờ chứng minh quan hệ vợ chồng, chi phí "
                       "và thời gian rất lớn.",
            "proposal": "Đề nghị chấp nhận giấy tờ đã được Đại sứ quán Việt Nam xác nhận, không phải hợp pháp hóa "
                        "lại.",
            **_who("Kim Thị Phương", "Số 3 đường Lý Tự Trọng, phường An Hội, tỉnh Vĩnh Long",
                   phone="0859 276 043"),
        },
    ),
    DemoCase(
        "ly-lich-tu-phap", "received", "web", 0.4, 0.4, field="tu_phap_ho_tich",
        submission={
            "kind": "phan_anh",
            "title": "Đề nghị cấp phiếu lý lịch tư pháp trực tuyến nhưng vẫn phải đến nhận bản giấy",
            "content": "Tôi đã đề nghị cấp phiếu lý lịch tư pháp trên Cổng dịch vụ công, thanh toán trực tuyến, "
                       "nhưng vẫn phải đến Sở Tư pháp nhận bản giấy vì chưa được cấp phiếu điện tử.",
            "field": "tu_phap_ho_tich",
            **_who("Lương Gia Huy", "Số 61 đường 2/9, phường Thanh Đức, tỉnh Vĩnh Long",
                   email="huy.luong@example.com"),
        },
    ),
)

# How much of a case's active time each step takes, to spread the steps plausibly (a progress
# update or an extension comes after a long wait, so they weigh most).
_STEP_WEIGHT = {
    "forward": 2.0, "handle_in_office": 2.0, "request_info": 1.0, "supply_info": 2.0, "reject": 1.0,
    "merge": 1.0, "accept": 1.0, "return_not_competent": 2.0, "post_progress": 8.0, "record_extension": 4.0,
    "draft_answer": 5.0, "approve_answer": 1.0, "send_back_draft": 1.0, "submit_answer": 1.0,
    "return_answer": 1.0, "accept_answer": 1.0, "notify": 0.5, "publish": 1.0, "close": 3.0, "withdraw": 2.0,
}


def _steps(spec: DemoCase, duplicate_code: str | None, received_at: datetime) -> list[tuple[str, str, dict]]:
    """The path to ``spec.state`` (from :func:`path_to`) with the case's own payloads and side paths."""
    agency = spec.agency
    office_handles = agency == OFFICE_CODE
    classification = {**forward_to(agency, spec.field), "subject": spec.subject,
                      "content_category": spec.category}
    steps: list[tuple[str, str, dict]] = []
    extra = set(spec.extra)

    if "info_first" in extra:
        steps += [("request_info", "clerk", {"message": spec.messages["request_info"]}),
                  ("supply_info", "submitter", {"message": spec.messages["supply_info"]})]
    returned_by = next((e.split(":", 1)[1] for e in extra if e.startswith("returned_by:")), None)
    base = path_to("returned", returned_by, spec.field) if returned_by else []
    if "withdrawn_by_submitter" in extra:
        base += path_to("forwarded", agency, spec.field) + [("withdraw", "submitter", {})]
    else:  # (for the office, the path's forward step becomes handle_in_office below)
        base += path_to(spec.state, agency if not office_handles else "SXD", spec.field, duplicate_code)

    for trigger, who, payload in base:
        payload = dict(payload)
        if trigger == "forward":
            if office_handles:
                trigger, payload = "handle_in_office", {k: v for k, v in classification.items() if k != "agency"}
            else:  # the step's own target: the first agency of a case that was returned
                payload = {**classification, "agency": payload["agency"]}
        elif trigger == "accept" and office_handles:
            continue  # the office handling a case itself starts it at once
        elif trigger == "draft_answer":
            payload = dict(spec.answer)
        elif trigger == "submit_answer":
            payload = {"document_number": spec.document_number} if spec.document_number else {}
        elif trigger == "publish":
            payload = {**spec.public, "public_answer": spec.answer["body"]}
        elif trigger == "reject":
            payload = {"reason_code": spec.reject_reason}
        elif trigger in spec.messages:
            key = "reason" if trigger in ("return_not_competent", "withdraw") else "message"
            payload = {key: spec.messages[trigger]}
            if trigger == "return_not_competent" and "suggested_agency" in spec.messages:
                payload["suggested_agency"] = spec.messages["suggested_agency"]
        steps.append((trigger, who, payload))

        if trigger == "draft_answer" and "send_back" in extra:
            first = {**spec.answer, "legal_refs": None, "measures": None}
            steps[-1] = (trigger, who, first)
            steps += [("send_back_draft", "agency_lead", {"comment": spec.messages["send_back_draft"]}),
                      ("draft_answer", "officer", dict(spec.answer))]
        if trigger == "submit_answer" and "answer_returned" in extra:
            steps += [("return_answer", "clerk", {"message": spec.messages["return_answer"]}),
                      ("draft_answer", "officer", dict(spec.answer)),
                      ("approve_answer", "agency_lead", {"comment": "Đồng ý ban hành văn bản đã bổ sung."}),
                      ("submit_answer", "officer", {"document_number": f"{spec.document_number}-BS"})]

    if "progress" in extra:
        steps.append(("post_progress", "officer", {"message": spec.messages["post_progress"]}))
    if "extension" in extra:
        new_due = to_local_date(received_at) + timedelta(days=35)
        steps.append(("record_extension", "agency_lead",
                      {"reason": spec.messages["record_extension"], "new_due_date": new_due.isoformat()}))
    return steps


# -- time --------------------------------------------------------------------------------
def _office_hours(instant: datetime, rng: random.Random) -> datetime:
    """The same instant, or the start of the next working period when it falls outside one."""
    calendar = working_calendar()
    local = instant.astimezone(TZ)
    day = local.date()
    if calendar.is_working_day(day) and time(7, 30) <= local.time() < time(17, 0):
        return instant
    if calendar.is_working_day(day) and local.time() < time(7, 30):
        start = day
    else:
        start = calendar.next_working_day(day + timedelta(days=1))
    opening = datetime.combine(start, time(7, 30), TZ) + timedelta(minutes=rng.randint(10, 150))
    return opening.astimezone(timezone.utc)


def _received_at(spec: DemoCase, now: datetime, rng: random.Random) -> datetime:
    """When the item arrived: any hour on the web, office hours for staff channels."""
    calendar = working_calendar()
    day = (now - timedelta(days=spec.age)).astimezone(TZ).date()
    if spec.channel == "web":
        moment = datetime.combine(day, time(rng.randint(6, 22), rng.randint(0, 59)), TZ)
    else:
        while not calendar.is_working_day(day):
            day -= timedelta(days=1)
        moment = datetime.combine(day, time(rng.randint(8, 15), rng.randint(0, 59)), TZ)
    moment = moment.astimezone(timezone.utc)
    return moment if moment < now else now - timedelta(minutes=30)


def _timeline(steps, received_at: datetime, last_at: datetime, now: datetime, rng: random.Random
              ) -> list[datetime]:
    """An instant per step, spread by weight between receipt and ``last_at``, in office hours
    where that keeps them in order and in the past."""
    weights = [_STEP_WEIGHT.get(trigger, 1.0) for trigger, _, _ in steps]
    total = sum(weights) or 1.0
    span = max(last_at - received_at, timedelta(minutes=len(steps) * 10))
    times, cumulative, previous = [], 0.0, received_at
    for weight in weights:
        cumulative += weight
        raw = received_at + span * (cumulative / total)
        moment = _office_hours(raw, rng)
        if moment > now:
            moment = raw
        moment = min(max(moment, previous + timedelta(minutes=5)), now)
        times.append(moment)
        previous = moment
    return times


# -- seeding -----------------------------------------------------------------------------
@dataclass
class _Staff:
    users: dict[str, User]
    passwords: dict[str, str]

    def actor_for(self, case: Feedback) -> Callable[[str], Any]:
        """Who plays ``who`` on ``case`` right now (the agency is read at each step)."""
        def actor(who: str):
            if who == "submitter":
                return SubmitterActor(case_id=case.id)
            if who in ("clerk", "lead"):
                return self.users[who]
            office = case.agency is not None and case.agency.is_office
            if who == "officer":
                return self.users["clerk"] if office else self.users[f"officer:{case.agency.code}"]
            if who == "agency_lead":
                return self.users["lead"] if office else self.users[f"agency_lead:{case.agency.code}"]
            raise KeyError(who)
        return actor


def _seed_agencies() -> dict[str, Agency]:
    levels = {code: AgencyLevel(code=code, name=name, rank=rank) for code, name, rank in LEVELS}
    db.session.add_all(levels.values())
    office = Agency(level=levels["tinh"], is_office=True, **OFFICE)
    agencies = {OFFICE_CODE: office}
    for level, rows in (("so_nganh", DEPARTMENTS), ("xa", COMMUNES)):
        for code, name, short, mailbox, phone, address in rows:
            agencies[code] = Agency(code=code, name=name, short_name=short, level=levels[level], parent=office,
                                    email=f"{mailbox}@{DOMAIN}", phone=phone, address=address)
    db.session.add_all(agencies.values())
    return agencies


def _seed_users(agencies: dict[str, Agency]) -> _Staff:
    users, passwords = {}, {}
    for key, role, agency_code, name, mailbox in STAFF:
        password = secrets.token_urlsafe(12)
        user = User(email=f"{mailbox}@{DOMAIN}", full_name=name, role=role,
                    agency=agencies[agency_code] if agency_code else None)
        user.set_password(password)
        db.session.add(user)
        users[key], passwords[key] = user, password
    return _Staff(users, passwords)


def _seed_plans(admin: User, now: datetime) -> list[Plan]:
    """Import both seed plans through the plan importer, bind their stages as suggested from
    the task wording, and put Bến Tre's in force."""
    plans = []
    for filename, in_force in SEED_PLANS:
        parsed = parse_text((SEEDS_DIR / filename).read_text(encoding="utf-8"))
        plan = apply_import(parsed, admin, source_name=filename, now=now).plan
        db.session.refresh(plan)
        bind(plan, {key: task.id for key, task in suggest_bindings(plan).items()})
        if in_force:
            put_in_force(plan)
        plans.append(plan)
    return plans


def _seed_report_filings(agencies: dict[str, Agency], staff: _Staff, now: datetime) -> int:
    """The quarterly reports of this year already due: most agencies filed a few days early,
    some late, some not at all; the office filed the consolidated report on time."""
    today = now.astimezone(TZ).date()
    count = 0
    for code in ("Q1", "Q2", "Q3"):
        period = report_period(today.year, code)
        due = due_date(period)
        if due > today:
            continue
        for i, agency in enumerate(a for key, a in sorted(agencies.items()) if not a.is_office):
            if i % 5 == 4:
                continue  # not filed: the dashboard shows the due date missed
            day = due + timedelta(days=2) if i % 7 == 3 else due - timedelta(days=3)
            filed_at = datetime.combine(day, time(15, 30), TZ).astimezone(timezone.utc)
            filer = staff.users.get(f"officer:{agency.code}")
            db.session.add(ReportFiling(agency_id=agency.id, year=period.year, period=code, filed_at=filed_at,
                                        filed_by_id=filer.id if filer else None,
                                        figures=compute(period, agency.id, now=filed_at).total))
            count += 1
        office_day = due_date(period, consolidated=True) - timedelta(days=1)
        filed_at = datetime.combine(office_day, time(10), TZ).astimezone(timezone.utc)
        db.session.add(ReportFiling(agency_id=agencies[OFFICE_CODE].id, year=period.year, period=code,
                                    filed_at=filed_at, filed_by_id=staff.users["lead"].id,
                                    figures=compute(period, None, now=filed_at).total))
        count += 1
    db.session.flush()
    return count


def _seed_calendar(admin: User, now: datetime) -> list[CalendarOverlay]:
    rows = []
    for day, kind, note in missing_calendar_days():
        row = CalendarOverlay(day=day, kind=kind, note=note, created_by_id=admin.id, created_at=now)
        db.session.add(row)
        db.session.add(AuditEvent(at=now, actor_id=admin.id, actor_role=admin.role, actor_label=admin.full_name,
                                  action="calendar_overlay_add",
                                  data={"day": day.isoformat(), "kind": kind, "note": note}))
        rows.append(row)
    db.session.flush()
    return rows


def _seed_case(spec: DemoCase, staff: _Staff, codes: dict[str, str], now: datetime, rng: random.Random
               ) -> Feedback:
    received_at = _received_at(spec, now, rng)
    data = dict(spec.submission)
    if spec.channel == "web":
        case, _ = receive_feedback(data, SubmitterActor(), now=received_at)
    else:
        data.update(channel=spec.channel, received_at=received_at.isoformat())
        if spec.channel == "vpcp":
            original = received_at - timedelta(days=rng.randint(3, 6))
            data.update(original_received_at=original.isoformat(),
                        external_ref=f"PAKN.{original.astimezone(TZ):%Y%m%d}.{rng.randint(1, 9999):04d}")
        elif spec.channel == "post":
            data["external_ref"] = f"Số đến {rng.randint(1000, 9999)}/VP"
        entered_at = min(received_at + timedelta(minutes=rng.randint(20, 120)), now)
        case, _ = receive_feedback(data, staff.users["clerk"], trigger="receive_on_behalf", now=entered_at)
        received_at = entered_at

    steps = _steps(spec, codes.get(spec.duplicate_of) if spec.duplicate_of else None, case.received_at)
    last_at = now - timedelta(days=spec.idle)
    times = iter(_timeline(steps, received_at, max(last_at, received_at), now, rng))

    def apply(case, trigger, actor, payload):
        at = next(times)
        if trigger == "submit_answer":
            payload.setdefault("document_date", to_local_date(at).isoformat())
        return apply_transition(case, trigger, actor, payload, now=at)

    drive(case, steps, staff.actor_for(case), apply)
    if case.state != spec.state:  # a broken path is a bug in this module, never silent
        raise RuntimeError(f"demo case {spec.key} ended in {case.state}, expected {spec.state}")
    return case


def demo_present() -> bool:
    """Whether the database already holds the demo province."""
    return db.session.scalar(select(Agency.id).where(Agency.code == OFFICE_CODE)) is not None


def seed_demo(echo: Callable[[str], Any] = print) -> bool:
    """Load the demo province into the current database; returns False if it was already there.

    Refuses (``click.ClickException``) a database that holds other data, because the demo
    would mix with it. One transaction: on any error nothing is written.
    """
    if demo_present():
        echo(f"Demo data already present (agency {OFFICE_CODE} exists): nothing added.")
        echo("Passwords were printed when it was first loaded. To start over with new ones, delete the "
             "database (embedded default: instance/pakn.sqlite3) and run scripts/demo again.")
        return False
    if db.session.scalar(select(func.count()).select_from(Agency)) or \
            db.session.scalar(select(func.count()).select_from(User)):
        raise click.ClickException("this database already has agencies or users; seed-demo only loads an "
                                   "empty database")

    now = utcnow()
    rng = random.Random(20250701)  # reproducible timelines; passwords come from `secrets`
    with transaction():
        agencies = _seed_agencies()
        db.session.add_all(Field(code=code, name=name) for code, name in FIELDS)
        staff = _seed_users(agencies)
        db.session.flush()
        plans = _seed_plans(staff.users["admin"], now)
        overlay = _seed_calendar(staff.users["admin"], now)

        codes: dict[str, str] = {}
        for spec in sorted(CASES, key=lambda c: -c.age):  # oldest first: codes follow receipt order
            codes[spec.key] = _seed_case(spec, staff, codes, now, rng).code

        filings = _seed_report_filings(agencies, staff, now)
        summary = _summary(now, agencies, plans, overlay, staff)
        summary.insert(4, f"  periodic reports filed this year: {filings}")
    for line in summary:
        echo(line)
    return True


def _summary(now: datetime, agencies, plans, overlay, staff: _Staff) -> list[str]:
    states = dict(db.session.execute(select(Feedback.state, func.count()).group_by(Feedback.state)).all())
    overdue = db.session.scalar(
        select(func.count()).select_from(StageVisit)
        .where(StageVisit.finished_at.is_(None), StageVisit.due_at < now))
    province = current_app.config.get("PROVINCE_NAME", "Vĩnh Long")
    lines = [
        f"Demo province {province} loaded:",
        f"  {len(agencies)} agencies (office {OFFICE_CODE}, {len(DEPARTMENTS)} sở/ban/ngành, "
        f"{len(COMMUNES)} xã/phường), {len(FIELDS)} fields",
        "  plans: " + "; ".join(f"{p.code} ({len(p.tasks)} tasks)" for p in plans)
        + " — bound: " + "; ".join(
            f"{p.code} " + ", ".join(f"{t.label} {t.binding}" for t in p.tasks if t.binding) for p in plans)
        + f" (in force: {next((p.code for p in plans if p.in_force), '—')})",
        (f"  calendar overlay: {len(overlay)} day(s) added" if overlay else
         f"  calendar overlay: none needed (holidays {holidays.__version__} already knows the announced "
         "2025–2026 days off and make-up days)"),
        f"  {sum(states.values())} cases, {overdue} open stage(s) overdue:",
    ]
    for key, state in WORKFLOW.states.items():
        lines.append(f"    {key:<24} {states.get(key, 0):>3}  {state.label}")
    base = current_app.config.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    lines += ["", f"Staff accounts (log in at {base}/auth/login; passwords are shown only now):",
              f"  {'role':<15} {'email':<32} {'password':<18} agency"]
    for key, user in staff.users.items():
        agency = user.agency.name if user.agency else "—"
        lines.append(f"  {user.role:<15} {user.email:<32} {staff.passwords[key]:<18} {agency}")
    lines += ["", "Every staff account has a second factor (TOTP). At its first login, each account is led",
              "through enrolment: add the secret shown (QR code or text) to an authenticator app, or compute",
              "the codes with `oathtool --totp -b SECRET`, then keep the ten recovery codes shown once."]
    return lines
