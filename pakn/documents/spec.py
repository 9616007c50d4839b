"""What a document says, independent of its format: :class:`DocumentSpec` and :class:`Signer`.

Also the Nghị định 30/2020/NĐ-CP writing rules that do not depend on the format: the
number is written with at least two digits ("Số: 05/VP-KSTT"); in the date, days below 10
and the months January and February take a leading zero ("ngày 05 tháng 02 năm 2026",
"ngày 23 tháng 11 năm 2026").
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Iterable, Mapping


#: Characters XML 1.0 (hence DOCX) cannot hold: C0 controls but tab and newlines, lone surrogates.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def nfc(text: str) -> str:
    """Vietnamese in precomposed form (TCVN 6909 / Unicode NFC): one glyph per letter in the PDF font.

    Characters no document format can hold (C0 controls, lone surrogates) are dropped.
    """
    return _NOT_XML.sub("", unicodedata.normalize("NFC", text or ""))


def format_number(number: int) -> str:
    """``5`` → ``"05"``: numbers below 10 take a leading zero (Nghị định 30/2020, Phụ lục I)."""
    return f"{number:02d}"


def format_place_date(place: str, day: date) -> str:
    """``"Vĩnh Long, ngày 05 tháng 02 năm 2026"`` (leading zero for days < 10 and months 1–2)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{nfc(place)}, ngày {day.day:02d} tháng {month} năm {day.year}"


def _lines(values: Iterable[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    return tuple(nfc(v).strip() for v in values if v and nfc(v).strip())


@dataclass(frozen=True)
class Signer:
    """The signature block: authority lines (bold capitals) and the signer's name.

    ``authority`` e.g. ``("KT. CHÁNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG")`` or ``("GIÁM ĐỐC",)``.
    """

    name: str
    authority: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", nfc(self.name).strip())
        object.__setattr__(self, "authority", tuple(nfc(a).strip().upper() for a in self.authority if a.strip()))
        if not self.name:
            raise ValueError("a signer needs a name")

    @classmethod
    def coerce(cls, value: "Signer | Mapping[str, Any]") -> "Signer":
        if isinstance(value, Signer):
            return value
        return cls(name=value["name"], authority=tuple(value.get("authority") or ()))


@dataclass(frozen=True)
class DocumentSpec:
    """Everything printed on one administrative document (công văn), in print order.

    ``parent_body`` / ``issuer_name``: the issuing body under its parent body (top left),
    printed in capitals. ``reference``: "12/VP-KSTT" (printed "Số: 12/VP-KSTT").
    ``subject``: printed after "V/v ". ``recipients``: the "Kính gửi:" lines.
    ``paragraphs``: the body. ``copies_to``: the "Nơi nhận:" items, without the leading dash.
    """

    kind: str
    parent_body: str
    issuer_name: str
    reference: str
    place: str
    issued_on: date
    subject: str
    recipients: tuple[str, ...]
    paragraphs: tuple[str, ...]
    copies_to: tuple[str, ...]
    signer: Signer
    title: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("parent_body", "issuer_name", "reference", "place", "subject", "title"):
            object.__setattr__(self, name, nfc(getattr(self, name)).strip())
        for name in ("recipients", "paragraphs", "copies_to"):
            object.__setattr__(self, name, _lines(getattr(self, name)))
        object.__setattr__(self, "signer", Signer.coerce(self.signer))
        if not self.paragraphs:
            raise ValueError("a document needs at least one paragraph")
        if not self.recipients:
            raise ValueError("a document needs at least one recipient")

    # Printed lines -------------------------------------------------------------------
    @property
    def parent_line(self) -> str:
        return self.parent_body.upper()

    @property
    def issuer_line(self) -> str:
        return self.issuer_name.upper()

    @property
    def number_line(self) -> str:
        return f"Số: {self.reference}"

    @property
    def subject_line(self) -> str:
        return f"V/v {self.subject}"

    @property
    def place_date_line(self) -> str:
        return format_place_date(self.place, self.issued_on)

    def recipient_lines(self) -> list[str]:
        """``["Kính gửi: Sở Xây dựng."]`` for one recipient, else a heading and "- …;" lines."""
        if len(self.recipients) == 1:
            return [f"Kính gửi: {self.recipients[0].rstrip('.;')}."]
        items = [r.rstrip(".;") for r in self.recipients]
        return ["Kính gửi:"] + [f"- {r};" for r in items[:-1]] + [f"- {items[-1]}."]

    def copies_lines(self) -> list[str]:
        items = [c.rstrip(".;") for c in self.copies_to]
        if not items:
            return []
        return [f"- {c};" for c in items[:-1]] + [f"- {items[-1]}."]

    def body_paragraphs(self) -> list[str]:
        """The body; the last paragraph ends with "./." as the decree's sample documents do."""
        body = list(self.paragraphs)
        last = body[-1].rstrip()
        if not last.endswith("./."):
            body[-1] = (last[:-1] if last.endswith(".") else last) + "./."
        return body

    # Storage -------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["issued_on"] = self.issued_on.isoformat()
        data["signer"] = {"name": self.signer.name, "authority": list(self.signer.authority)}
        for name in ("recipients", "paragraphs", "copies_to"):
            data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DocumentSpec":
        values = dict(data)
        values["issued_on"] = date.fromisoformat(values["issued_on"])
        values["signer"] = Signer.coerce(values["signer"])
        for name in ("recipients", "paragraphs", "copies_to"):
            values[name] = tuple(values.get(name) or ())
        return cls(**values)
