"""DOCX rendering of a :class:`~pakn.documents.spec.DocumentSpec` (python-docx), Nghị định 30/2020 layout.

A4, margins top/bottom 20 mm, left 30 mm, right 15 mm; Times New Roman 14 pt body (13 pt
header lines, 12 pt subject line and "Nơi nhận:", 11 pt list of recipients of copies).
The header and the signature area are borderless two-column tables, as in the decree's
samples. The line under the issuing body is a short underlined run; the motto is
underlined over its full length.
"""
from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from .spec import DocumentSpec

FONT = "Times New Roman"
CENTER, LEFT, JUSTIFY = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.JUSTIFY
#: Usable width: 210 mm - 30 mm - 15 mm.
LEFT_COL, RIGHT_COL = Mm(65), Mm(100)
SIGN_LEFT, SIGN_RIGHT = Mm(75), Mm(90)


def _set_font(run_or_style_element, name: str = FONT) -> None:
    """Name the font for every script slot, so Vietnamese never falls back to another face."""
    rpr = run_or_style_element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(slot), name)


def _paragraph(container, text: str = "", *, size: float = 14, bold: bool = False, italic: bool = False,
               underline: bool = False, align=CENTER, first: bool = False, before: float = 0, after: float = 0,
               indent_first=None, left_indent=None, line_spacing: float = 1.0):
    paragraph = container.paragraphs[0] if first else container.add_paragraph()
    fmt = paragraph.paragraph_format
    paragraph.alignment = align
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(before), Pt(after), line_spacing
    if indent_first is not None:
        fmt.first_line_indent = indent_first
    if left_indent is not None:
        fmt.left_indent = left_indent
    if text:
        _run(paragraph, text, size=size, bold=bold, italic=italic, underline=underline)
    return paragraph


def _run(paragraph, text: str, *, size: float, bold: bool = False, italic: bool = False, underline: bool = False):
    run = paragraph.add_run(text)
    run.font.size, run.font.bold, run.font.italic, run.font.underline = Pt(size), bold, italic, underline
    _set_font(run._element)
    return run


def _table(document, widths):
    table = document.add_table(rows=1, cols=len(widths))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths):
        column.width = width
        for cell in column.cells:
            cell.width = width
    return table


def render_docx(spec: DocumentSpec) -> bytes:
    """The document as DOCX bytes."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(14)
    _set_font(normal.element)
    normal.paragraph_format.space_after = Pt(0)

    props = document.core_properties
    props.author = props.last_modified_by = spec.issuer_name
    props.title = spec.title or spec.subject
    props.subject = spec.subject
    props.comments = props.keywords = props.category = ""
    props.language = "vi-VN"

    # Header: issuing body | national name and motto; number and subject | place and date.
    header = _table(document, (LEFT_COL, RIGHT_COL))
    left, right = header.rows[0].cells
    _paragraph(left, spec.parent_line, size=13, first=True)
    _paragraph(left, spec.issuer_line, size=13, bold=True)
    _paragraph(left, "\u00a0" * 18, size=8, underline=True)  # the short rule under the issuing body
    _paragraph(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12.5, bold=True, first=True)
    _paragraph(right, "Độc lập - Tự do - Hạnh phúc", size=13.5, bold=True, underline=True)
    second = header.add_row().cells
    for cell, width in zip(second, (LEFT_COL, RIGHT_COL)):
        cell.width = width
    _paragraph(second[0], spec.number_line, size=13, first=True, before=6)
    _paragraph(second[0], spec.subject_line, size=12, before=3)
    _paragraph(second[1], spec.place_date_line, size=14, italic=True, first=True, before=6)

    # Recipients.
    lines = spec.recipient_lines()
    if len(lines) == 1:
        _paragraph(document, lines[0], before=18, after=6)
    else:
        _paragraph(document, lines[0], align=LEFT, before=18, left_indent=Cm(2.5))
        for line in lines[1:]:
            _paragraph(document, line, align=LEFT, left_indent=Cm(4.5))
        document.paragraphs[-1].paragraph_format.space_after = Pt(6)

    # Body.
    for text in spec.body_paragraphs():
        _paragraph(document, text, align=JUSTIFY, before=6, indent_first=Cm(1.27), line_spacing=1.15)

    # "Nơi nhận:" | signature block.
    signature = _table(document, (SIGN_LEFT, SIGN_RIGHT))
    left, right = signature.rows[0].cells
    _paragraph(left, "Nơi nhận:", size=12, bold=True, italic=True, align=LEFT, first=True, before=12)
    for line in spec.copies_lines():
        _paragraph(left, line, size=11, align=LEFT)
    authority = spec.signer.authority or ("",)
    _paragraph(right, authority[0], size=14, bold=True, first=True, before=12)
    for line in authority[1:]:
        _paragraph(right, line, size=14, bold=True)
    for _ in range(4):  # room for the signature and seal
        _paragraph(right, "", size=14)
    _paragraph(right, spec.signer.name, size=14, bold=True)

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
