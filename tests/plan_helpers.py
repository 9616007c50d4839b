"""Helpers shared by the plan and report tests: the seed texts, a DOCX built from rows."""
from __future__ import annotations

import io
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "pakn" / "seeds"
BEN_TRE = SEEDS / "ben-tre-2019-ke-hoach-62-kiem-soat-tthc.txt"
HA_TINH = SEEDS / "ha-tinh-2019-ke-hoach-09-kiem-soat-tthc-mot-cua.txt"

FIELDS = ("appendix", "number", "part", "parent", "heading", "content", "lead", "cooperating", "timeframe",
          "product", "is_group")


def rows_of(parsed: dict) -> list[tuple]:
    return [tuple(t[k] for k in FIELDS) for t in parsed["tasks"]]


def build_docx(parsed: dict) -> bytes:
    """A Word document laid out like the real plans: the header block, then per appendix a
    "PHỤ LỤC n" paragraph and a table whose group rows span the row, whose rows carrying a
    heading split the content column, and whose multi-part tasks merge number and content
    vertically."""
    import docx

    document = docx.Document()
    document.add_paragraph(f"Số: {parsed['code']}")
    day = parsed["issued_on"]
    document.add_paragraph(f"Ngày {int(day[8:10])} tháng {int(day[5:7])} năm {day[:4]}")
    document.add_paragraph("KẾ HOẠCH")
    document.add_paragraph(parsed["title"].removeprefix("Kế hoạch "))
    document.add_paragraph(f"Ủy ban nhân dân tỉnh {parsed['issuer'].removeprefix('UBND tỉnh ')}")
    for appendix in parsed["appendices"]:
        document.add_paragraph(f"PHỤ LỤC {appendix['number']}")
        tasks = [t for t in parsed["tasks"] if t["appendix"] == appendix["number"]]
        # 7 grid columns: the content column is two cells wide except on rows with a heading.
        table = document.add_table(rows=1 + len(tasks), cols=7)
        columns = appendix["columns"]
        order = [_key(c) for c in columns]
        header = table.rows[0].cells
        header[0].text = columns[0]
        header[1].merge(header[2]).text = columns[1]
        for i, name in enumerate(columns[2:], start=3):
            header[i].text = name
        for r, task in enumerate(tasks, start=1):
            cells = table.rows[r].cells
            if task["part"] > 1:
                above = table.rows[r - 1].cells
                above[0].merge(cells[0])
                above[1].merge(cells[2]) if not task["heading"] else None
            else:
                cells[0].text = task["number"].rsplit(".", 1)[-1] if _in_section(task) else task["number"]
            if task["is_group"]:
                cells[1].merge(cells[6]).text = task["content"]
                continue
            if task["part"] == 1:
                if task["heading"]:
                    cells[1].text, cells[2].text = task["heading"], task["content"]
                else:
                    cells[1].merge(cells[2]).text = task["content"]
            for i, key in enumerate(order[2:], start=3):
                cells[i].text = task[key] if task["part"] == 1 or task[key] else ""
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _in_section(task: dict) -> bool:
    head = task["number"].split(".")[0]
    return bool(head) and set(head) <= set("IVXLC") and "." in task["number"]


def _key(column: str) -> str:
    from pakn.plans.parse import column_key

    return column_key(column)
