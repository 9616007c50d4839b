"""PDF rendering of a :class:`~pakn.documents.spec.DocumentSpec` (fpdf2, pure Python), Nghị định 30/2020 layout.

The font is DejaVu Serif Condensed, vendored under ``pakn/documents/fonts/`` (Bitstream
Vera license, see LICENSE-DejaVu.txt): it has every Vietnamese glyph, and its widths are
close to Times New Roman's, which a server may not have and may not redistribute. The
subset used is embedded with a ToUnicode map, so the text can be searched and extracted.
``DOCUMENT_FONT_DIR`` in the config can point to another folder with the same four files.

Same geometry as the DOCX: A4, margins top/bottom 20 mm, left 30 mm, right 15 mm; 13 pt
body (DejaVu at 13 pt is as large as Times at 14 pt); page numbers from page 2, centred
at the top, as the decree asks.
"""
from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from .spec import DocumentSpec

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVuSerifCondensed"
FACES = {"": "DejaVuSerifCondensed.ttf", "B": "DejaVuSerifCondensed-Bold.ttf",
         "I": "DejaVuSerifCondensed-Italic.ttf", "BI": "DejaVuSerifCondensed-BoldItalic.ttf"}
MM_PER_PT = 25.4 / 72
LEFT, TOP, RIGHT, BOTTOM = 30.0, 20.0, 15.0, 20.0
WIDTH = 210.0 - LEFT - RIGHT
LEFT_COL = 65.0
SIGN_LEFT = 75.0


def font_dir() -> Path:
    try:
        from flask import current_app

        configured = current_app.config.get("DOCUMENT_FONT_DIR")
    except RuntimeError:  # outside an app: the vendored fonts
        configured = None
    return Path(configured) if configured else FONT_DIR


class _Page(FPDF):
    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font(FAMILY, "", 13)
            self.set_xy(LEFT, 10)
            self.cell(WIDTH, 6, str(self.page_no()), align="C")
            self.set_xy(LEFT, TOP)


def _line_height(size: float, spacing: float = 1.2) -> float:
    return size * MM_PER_PT * spacing


def _column(pdf: FPDF, x: float, y: float, width: float, lines, *, gap_before: float = 0) -> float:
    """Write centred lines ``(text, style, size)`` in a column; returns the y below them."""
    pdf.set_xy(x, y + gap_before)
    for text, style, size in lines:
        pdf.set_font(FAMILY, style, size)
        pdf.set_x(x)
        if text:
            pdf.multi_cell(width, _line_height(size), text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            pdf.ln(_line_height(size))
    return pdf.get_y()


def _centred_rule(pdf: FPDF, x: float, width: float, y: float, length: float) -> None:
    middle = x + width / 2
    pdf.set_line_width(0.3)
    pdf.line(middle - length / 2, y, middle + length / 2, y)


def render_pdf(spec: DocumentSpec) -> bytes:
    """The document as PDF bytes."""
    folder = font_dir()
    pdf = _Page(orientation="P", unit="mm", format="A4")
    for style, filename in FACES.items():
        pdf.add_font(FAMILY, style, str(folder / filename))
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_auto_page_break(True, margin=BOTTOM)
    pdf.set_title(spec.title or spec.subject)
    pdf.set_subject(spec.subject)
    pdf.set_author(spec.issuer_name)
    pdf.set_creator("pakn")
    pdf.set_lang("vi-VN")
    pdf.add_page()

    # Header: issuing body | national name and motto.
    right_x, right_w = LEFT + LEFT_COL, WIDTH - LEFT_COL
    y_left = _column(pdf, LEFT, TOP, LEFT_COL, [(spec.parent_line, "", 12.5), (spec.issuer_line, "B", 12.5)])
    pdf.set_font(FAMILY, "B", 12.5)
    last_issuer_line = pdf.multi_cell(LEFT_COL, 5, spec.issuer_line, dry_run=True, output="LINES")[-1]
    _centred_rule(pdf, LEFT, LEFT_COL, y_left + 1, min(pdf.get_string_width(last_issuer_line), LEFT_COL) / 2.5)
    motto = "Độc lập - Tự do - Hạnh phúc"
    y_right = _column(pdf, right_x, TOP, right_w, [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "B", 12),
                                                   (motto, "B", 13)])
    pdf.set_font(FAMILY, "B", 13)
    _centred_rule(pdf, right_x, right_w, y_right + 0.6, pdf.get_string_width(motto))
    top = max(y_left, y_right) + 4

    # Number and subject | place and date.
    y_left = _column(pdf, LEFT, top, LEFT_COL, [(spec.number_line, "", 12.5)])
    y_left = _column(pdf, LEFT, y_left, LEFT_COL, [(spec.subject_line, "", 11.5)], gap_before=1)
    y_right = _column(pdf, right_x, top, right_w, [(spec.place_date_line, "I", 13)])
    pdf.set_y(max(y_left, y_right) + 7)

    # Recipients.
    lines = spec.recipient_lines()
    pdf.set_font(FAMILY, "", 13)
    height = _line_height(13, 1.3)
    if len(lines) == 1:
        pdf.multi_cell(WIDTH, height, lines[0], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.set_x(LEFT + 25)
        pdf.cell(0, height, lines[0], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for line in lines[1:]:
            pdf.set_x(LEFT + 45)
            pdf.multi_cell(WIDTH - 45, height, line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)

    # Body: justified, first line indented 1.27 cm, 6 pt before each paragraph.
    with pdf.text_columns(text_align="J", line_height=1.3) as columns:
        for text in spec.body_paragraphs():
            with columns.paragraph(first_line_indent=12.7, top_margin=6 * MM_PER_PT) as paragraph:
                paragraph.write(text)

    # "Nơi nhận:" | signature block (kept together on one page).
    copies = spec.copies_lines()
    authority = list(spec.signer.authority) or [""]
    needed = max(len(copies) * 5 + 10, len(authority) * 6 + 40)
    if pdf.get_y() + needed > 297 - BOTTOM:
        pdf.add_page()
    top = pdf.get_y() + 5
    pdf.set_xy(LEFT, top)
    pdf.set_font(FAMILY, "BI", 11.5)
    pdf.cell(SIGN_LEFT, _line_height(11.5), "Nơi nhận:", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 10.5)
    for line in copies:
        pdf.set_x(LEFT)
        pdf.multi_cell(SIGN_LEFT - 5, _line_height(10.5), line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    sign_x, sign_w = LEFT + SIGN_LEFT, WIDTH - SIGN_LEFT
    _column(pdf, sign_x, top, sign_w, [(line, "B", 13) for line in authority]
            + [("", "", 13)] * 5 + [(spec.signer.name, "B", 13)])

    return bytes(pdf.output())
