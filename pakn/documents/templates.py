"""The standard wording of the two documents (shared/domain.md §6), as ``issue_document`` arguments.

``forwarding_content(case, agency, office, *, due_at=None, summary_chars=600) -> dict``
    Văn bản chuyển xử lý: legal basis (NĐ 20/2008 as amended by NĐ 92/2017), what was received (code, date, channel, title,
    summary), the classification (kind, subject, field), the request to handle it and to
    report the result to the office by the answer deadline (``due_at``, default
    ``case.answer_due_at``), and where the original is. No submitter's personal data.
``answer_content(case, answer, agency, office, *, forwarding=None) -> dict``
    Văn bản trả lời: the forwarding document it answers (when given), the matter, the
    findings against the criteria, the outcome with the measures and the responsible
    body, the legal references and the body of the answer (HTML reduced to paragraphs).
    Addressed to the office; published later, so it never names the submitter.

Both return ``{"subject", "recipients", "paragraphs"}`` ready to splat into
:func:`pakn.documents.issue_document`; callers may edit any part first.
"""
from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from workflows.calendar import to_local_date
from workflows.glossary import AnswerOutcome, Channel, Kind, Subject

from ..models import Agency, Answer, Feedback, GeneratedDocument

LEGAL_BASIS = ("Thực hiện Nghị định số 20/2008/NĐ-CP ngày 14 tháng 02 năm 2008 của Chính phủ về tiếp nhận, "
               "xử lý phản ánh, kiến nghị của cá nhân, tổ chức về quy định hành chính (được sửa đổi, bổ sung "
               "bởi Nghị định số 92/2017/NĐ-CP ngày 07 tháng 8 năm 2017 của Chính phủ)")


def short_date(instant: datetime | None) -> str:
    """dd/mm/yyyy of the local day of ``instant`` (Asia/Ho_Chi_Minh)."""
    return to_local_date(instant).strftime("%d/%m/%Y") if instant else ""


def _label(coded, code: str | None) -> str:
    if not code:
        return ""
    try:
        return coded(code).label
    except ValueError:
        return code


def _clip(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", text or "").strip()
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def plain_paragraphs(text: str | None) -> list[str]:
    """Paragraphs of plain text or of sanitized HTML (``<p>``, ``<br>``, ``<li>``; tags dropped)."""
    if not text:
        return []
    if "<" in text:
        text = re.sub(r"(?i)<\s*br\s*/?>", "\n", text)
        text = re.sub(r"(?i)<\s*li[^>]*>", "\n- ", text)
        text = re.sub(r"(?i)</\s*(p|div|li|h[1-6]|tr|ul|ol|blockquote)\s*>", "\n\n", text)
        text = re.sub(r"<[^>]*>", "", text)
        text = html.unescape(text)
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    out: list[str] = []
    for block in blocks:
        lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in block.split("\n")]
        lines = [line for line in lines if line]
        if any(line.startswith("- ") for line in lines):
            out.extend(lines)  # a list keeps one paragraph per item
        elif lines:
            out.append(" ".join(lines))
    return out


def forwarding_content(case: Feedback, agency: Agency, office: Agency, *, due_at: datetime | None = None,
                       summary_chars: int = 600) -> dict[str, Any]:
    kind = _label(Kind, case.kind).lower() or "phản ánh, kiến nghị"
    due = short_date(due_at or case.answer_due_at)
    received = short_date(case.received_at)
    channel = _label(Channel, case.channel)
    classification = kind
    if case.subject:
        classification += f" về {_label(Subject, case.subject).lower()}"
    if case.field is not None:
        classification += f", lĩnh vực {case.field.name}"
    if channel:
        classification += f"; kênh tiếp nhận: {channel}"
    paragraphs = [
        f"{LEGAL_BASIS}, ngày {received}, {office.name} tiếp nhận {kind} mã số {case.code} "
        f"về việc: “{case.title.strip()}”. "
        f"Tóm tắt nội dung: {_clip(case.content, summary_chars)}",
        f"Kết quả phân loại: {classification}.",
        f"{office.name} chuyển {kind} nêu trên đến {agency.name} để xem xét, xử lý theo thẩm quyền. "
        f"Đề nghị {agency.name} xử lý, trả lời và báo cáo kết quả về {office.name} "
        + (f"trước ngày {due}" if due else "trong thời hạn quy định")
        + "; trường hợp quá hạn, định kỳ 07 ngày cập nhật tiến độ xử lý trên Hệ thống.",
        f"Hồ sơ {kind} và các tệp đính kèm được chuyển kèm theo trên Hệ thống tiếp nhận, xử lý phản ánh, "
        f"kiến nghị (mã số {case.code}).",
    ]
    return {"subject": f"chuyển xử lý {kind} mã số {case.code}", "recipients": [agency.name],
            "paragraphs": paragraphs}


def answer_content(case: Feedback, answer: Answer, agency: Agency, office: Agency, *,
                   forwarding: GeneratedDocument | None = None) -> dict[str, Any]:
    kind = _label(Kind, case.kind).lower() or "phản ánh, kiến nghị"
    opening = f"{agency.name} nhận được "
    if forwarding is not None:
        opening += (f"Văn bản số {forwarding.reference} ngày {forwarding.issued_on.strftime('%d/%m/%Y')} "
                    f"của {office.name} về việc chuyển xử lý {kind} mã số {case.code}")
    else:
        opening += f"{kind} mã số {case.code} do {office.name} chuyển đến"
    opening += f", nội dung: “{case.public_title or case.title}”. Sau khi xem xét, {agency.name} trả lời như sau:"
    paragraphs = [opening]
    if answer.summary:
        paragraphs.append(f"1. Tóm tắt nội dung: {answer.summary.strip()}")
    paragraphs.append(f"2. Kết quả xem xét: {answer.findings.strip()}")
    outcome = f"3. Hướng xử lý: {_label(AnswerOutcome, answer.outcome)}."
    if answer.measures:
        outcome += f" Biện pháp cụ thể: {answer.measures.strip()}"
    if answer.responsible_body:
        outcome += f" Cơ quan chịu trách nhiệm thực hiện: {answer.responsible_body.strip()}."
    paragraphs.append(re.sub(r"\.\.+", ".", outcome))
    if answer.legal_refs:
        paragraphs.append(f"4. Căn cứ pháp lý: {answer.legal_refs.strip()}")
    paragraphs.extend(plain_paragraphs(answer.body))
    paragraphs.append(f"{agency.name} trân trọng báo cáo {office.name}.")
    return {"subject": f"trả lời {kind} mã số {case.code}", "recipients": [office.name], "paragraphs": paragraphs}
