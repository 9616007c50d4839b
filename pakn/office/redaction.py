"""Redaction before publication: personal data found in a text is masked.

Found automatically: the submitter's name and address as typed (also without diacritics
or in another case), their phone and e-mail, any phone number, e-mail address, 9- or
12-digit identity number, and street addresses ("số 12, đường …", "ấp …", "tổ …").
Staff then adjust the proposed text; whatever they submit is checked again before it is
published, so personal data cannot slip through unnoticed.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from workflows.engine import N_

from ..models import Feedback
from ..text import fold

MASK = "[…]"

KIND_LABELS = {
    "name": N_("Họ tên người gửi"), "address": N_("Địa chỉ"), "phone": N_("Số điện thoại"),
    "email": N_("Thư điện tử"), "id_number": N_("Số định danh, CMND/CCCD"),
}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Vietnamese numbers: 0 or +84 then 9–10 digits, with optional spaces, dots or dashes between groups.
_PHONE = re.compile(r"(?<![\d])(?:\+84|0)(?:[\s.\-]?\d){8,10}(?![\d])")
_ID = re.compile(r"(?<![\d])(?:\d{12}|\d{9})(?![\d])")
# A street address: an optional house number ("số 12", "45"), a street or hamlet word and a
# name that starts with a capital letter or a digit ("đường Lê Lợi", "ấp Tân Hòa", "tổ 5"),
# then comma-separated administrative parts ("phường 1", "xã Long Hồ", "tỉnh Vĩnh Long").
_STREET = re.compile(r"(?:(?:s[oố]\s*(?:nh[aà]\s*)?)?\d+[\w/\-]*,?\s+)?"
                     r"(?:đường|phố|hẻm|ngõ|kiệt|ấp|thôn|xóm|khóm|khu phố|tổ dân phố|tổ)\s+(?P<name>[\w/\-]+)",
                     re.IGNORECASE | re.UNICODE)
_ADMIN_PART = re.compile(r",?\s*(?:phường|xã|thị trấn|quận|huyện|thành phố|tp\.?|tỉnh|ấp|thôn|khóm|tổ)"
                         r"\s+(?P<name>[\w/\-\.]+)", re.IGNORECASE | re.UNICODE)
_NAME_WORD = re.compile(r"\s+(?P<name>[\w/\-]+)", re.UNICODE)


def _proper(word: str) -> bool:
    return bool(word) and (word[0].isupper() or word[0].isdigit())


def _addresses(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _STREET.finditer(text):
        if not _proper(m.group("name")):
            continue
        end = m.end()
        while (w := _NAME_WORD.match(text, end)) and _proper(w.group("name")):
            end = w.end()
        while (part := _ADMIN_PART.match(text, end)) and _proper(part.group("name")):
            end = part.end()
            while (w := _NAME_WORD.match(text, end)) and _proper(w.group("name")):
                end = w.end()
        spans.append((m.start(), end))
    return spans


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str
    start: int
    end: int

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


def _literal_spans(text: str, needle: str | None) -> list[tuple[int, int]]:
    """Where ``needle`` occurs in ``text``, ignoring case, diacritics and spacing.

    Folding keeps one character per character for Vietnamese letters, so positions in the
    folded text are positions in the original (checked; otherwise only exact matches count).
    """
    if not needle or len(needle.strip()) < 2:
        return []
    spans = [(m.start(), m.end()) for m in re.finditer(re.escape(needle.strip()), text, re.IGNORECASE)]
    folded_text = _fold_same_length(text)
    folded_needle = _fold_same_length(needle.strip())
    if folded_text is not None and folded_needle:
        start = 0
        while True:
            i = folded_text.find(folded_needle, start)
            if i < 0:
                break
            spans.append((i, i + len(folded_needle)))
            start = i + 1
    return spans


def _fold_same_length(text: str) -> str | None:
    out = []
    for ch in unicodedata.normalize("NFC", text):
        f = fold(ch) if not ch.isspace() else " "
        if len(f) != 1:
            f = f[:1] if f else " "
        out.append(f)
    folded = "".join(out)
    return folded if len(folded) == len(text) else None


def find_personal_data(text: str, case: Feedback | None = None) -> list[Finding]:
    """Every piece of personal data found in ``text``, in order, overlaps merged."""
    if not text:
        return []
    raw: list[tuple[int, int, str]] = []
    if case is not None:
        for kind, value in (("name", case.submitter_name), ("address", case.submitter_address),
                            ("phone", case.submitter_phone), ("email", case.submitter_email),
                            ("name", case.submitter_organisation)):
            raw += [(s, e, kind) for s, e in _literal_spans(text, value)]
    raw += [(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)]
    raw += [(m.start(), m.end(), "phone") for m in _PHONE.finditer(text)]
    raw += [(m.start(), m.end(), "id_number") for m in _ID.finditer(text)]
    raw += [(s, e, "address") for s, e in _addresses(text)]
    raw.sort(key=lambda r: (r[0], -r[1]))
    merged: list[list] = []
    for s, e, kind in raw:
        if merged and s < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
            continue
        merged.append([s, e, kind])
    return [Finding(kind, text[s:e], s, e) for s, e, kind in merged]


def redact(text: str | None, case: Feedback | None = None) -> tuple[str, list[Finding]]:
    """``text`` with every finding replaced by :data:`MASK`, and the findings."""
    if not text:
        return text or "", []
    findings = find_personal_data(text, case)
    out, pos = [], 0
    for f in findings:
        out.append(text[pos:f.start])
        out.append(MASK)
        pos = f.end
    out.append(text[pos:])
    return "".join(out), findings


def proposal(case: Feedback, answer_body: str | None) -> dict[str, tuple[str, list[Finding]]]:
    """The proposed public version: title, summary (of the feedback) and answer, redacted."""
    title = case.public_title or case.title
    summary = case.public_summary or case.content
    if len(summary) > 4900:
        summary = summary[:4900].rsplit(" ", 1)[0] + " …"
    answer = case.public_answer or answer_body or ""
    return {"public_title": redact(title, case), "public_summary": redact(summary, case),
            "public_answer": redact(answer, case)}
