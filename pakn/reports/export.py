"""The periodic report as XLSX (openpyxl) and PDF (fpdf2), from the same rows as the page.

The PDF embeds DejaVu Sans (vendored under fonts/, free licence in LICENSE-DejaVu.txt)
because the built-in PDF fonts have no Vietnamese letters.
"""
from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from flask_babel import gettext as _

from ..spreadsheet import safe_cell
from .stats import COLUMNS, GROUPS, KEYS, REASON_LABELS, Report

FONTS = Path(__file__).resolve().parent / "fonts"


def _title(report: Report, scope: str) -> str:
    return _("Báo cáo tình hình, kết quả tiếp nhận, xử lý phản ánh, kiến nghị — %(period)s — %(scope)s",
             period=report.period.title, scope=scope)


def _safe(text: str | None) -> str:
    """A text cell a spreadsheet will not read as a formula (CSV/XLSX injection)."""
    return safe_cell(text or "")


def to_xlsx(report: Report, scope: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "Báo cáo"
    ws.append([_title(report, scope)])
    last_day = report.period.end - timedelta(days=1)
    ws.append([_("Từ ngày %(start)s đến hết ngày %(end)s", start=report.period.start.strftime("%d/%m/%Y"),
                 end=last_day.strftime("%d/%m/%Y"))])
    groups = [_("STT"), _("Cơ quan"), _("Lĩnh vực")] + [_(GROUPS[group]) for _key, group, _label in COLUMNS]
    ws.append(groups)
    ws.append(["", "", ""] + [_(label) for _key, _group, label in COLUMNS])
    header_rows = (3, 4)
    col = 4
    for group in GROUPS:
        width = sum(1 for _k, g, _l in COLUMNS if g == group)
        ws.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + width - 1)
        col += width
    for r in header_rows:
        for cell in ws[r]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    n = 0
    for block in report.blocks:
        for row in block.rows:
            n += 1
            ws.append([n, _safe(block.agency), _safe(row.field or _("Chưa xác định lĩnh vực"))]
                      + [row.values[k] for k in KEYS])
        ws.append(["", _safe(block.agency), _("Cộng")] + [block.total[k] for k in KEYS])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
    ws.append(["", _("Tổng cộng"), ""] + [report.total[k] for k in KEYS])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    ws.column_dimensions["B"].width = 34
    ws.column_dimensions["C"].width = 26
    for i in range(4, 4 + len(KEYS)):
        ws.column_dimensions[get_column_letter(i)].width = 11
    ws.freeze_panes = "D5"

    reasons = wb.create_sheet("Không tiếp nhận")
    reasons.append([_("Lý do không tiếp nhận"), _("Số lượng")])
    for code, count in report.reasons:
        reasons.append([_(REASON_LABELS.get(code, code or "")), count])
    reasons.append([_("Tổng cộng"), sum(c for _code, c in report.reasons)])
    reasons.column_dimensions["A"].width = 50
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def to_pdf(report: Report, scope: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=10)
    pdf.set_margins(8, 8, 8)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(0, 5, _title(report, scope), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 7)
    pdf.cell(0, 4, _("Số liệu tính đến %(at)s", at=report.as_of.strftime("%d/%m/%Y %H:%M UTC")),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    label_width, cell_width, height = 46, (pdf.w - 16 - 46) / len(KEYS), 4
    pdf.set_font("DejaVu", "B", 4)
    y = pdf.get_y()
    pdf.multi_cell(label_width, 3, _("Cơ quan / lĩnh vực"), border=1, new_x="RIGHT", new_y="TOP", max_line_height=3)
    header_height = 36
    for _key, group, label in COLUMNS:
        x = pdf.get_x()
        pdf.multi_cell(cell_width, 1.9, f"{_(GROUPS[group])}: {_(label)}", border=0, new_x="RIGHT", new_y="TOP")
        pdf.rect(x, y, cell_width, header_height)
        pdf.set_xy(x + cell_width, y)
    pdf.rect(pdf.l_margin, y, label_width, header_height)
    pdf.set_xy(pdf.l_margin, y + header_height)

    def line(label: str, values: dict, bold: bool = False) -> None:
        pdf.set_font("DejaVu", "B" if bold else "", 5)
        pdf.cell(label_width, height, label if len(label) <= 52 else label[:51] + "…", border=1)
        for key in KEYS:
            pdf.cell(cell_width, height, str(values[key]), border=1, align="R")
        pdf.ln(height)

    for block in report.blocks:
        for row in block.rows:
            line(f"{block.agency} — {row.field or _('Chưa xác định lĩnh vực')}", row.values)
        line(f"{block.agency}: {_('Cộng')}", block.total, bold=True)
    line(_("Tổng cộng"), report.total, bold=True)
    if report.reasons:
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 7)
        pdf.cell(0, 4, _("Không tiếp nhận theo lý do"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 7)
        for code, count in report.reasons:
            pdf.cell(0, 4, f"{_(REASON_LABELS.get(code, code or ''))}: {count}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
