"""Reading a plan and its appendix tables from DOCX, plain text, CSV or XLSX.

Every format is reduced to the same thing: lines of text (for the plan's number, title,
issuer and date) and appendix tables (a header row and rows of cells). The rows are then
read the same way whatever their source:

* a row with a number and content only is a group heading ("6", "V");
* a row with one cell more than the header carries its group's heading and its own task
  (Bến Tre rows 8, 10, 11, a split cell in the original Word table);
* a row without a number but with content continues the row above (a table split across a
  page: Bến Tre 5.4);
* a row without number and content is another part of the task above whose number and
  content cells were merged over several rows (Hà Tĩnh I.2, III.1); empty cells take the
  merged value from the part above.

Arabic numbers under a Roman section are cited with it ("V" then "1" → "V.1"); a task's
parent is its number without the last part ("6.2" → "6", "V.1" → "V").

Plain-text exports come in two table styles: one row per line with tab-separated cells
(Bến Tre), or one cell per line starting with a tab, rows separated by blank lines, lines
without a tab continuing the cell above (Hà Tĩnh).

The result is a JSON-serialisable dict (stored in :class:`pakn.models.PlanImport` for the
preview), with per-row ``problems`` and plan-level ``errors`` and ``notices``; messages
are gettext msgids with parameters, translated when shown.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date

from workflows.engine import N_

from ..text import fold
from .timeframe import parse_timeframe

COLUMNS = ("number", "content", "lead", "cooperating", "timeframe", "product")
_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")
_CODE = re.compile(r"s[ốo]\s*:?\s*(\d+(?:\s*/\s*\d+)*\s*/\s*KH\s*-\s*[A-ZĐ]+(?:\s*-\s*[A-ZĐ]+)*)", re.IGNORECASE)
_ISSUED = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE)
_ISSUER = re.compile(r"(?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân)(?:\s*\(UBND\))?\s+tỉnh\s+"
                     r"((?:[A-ZĐÂĂÊÔƠƯÁÀẢÃẠẤẦẨẪẬẮẰẲẴẶÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ]\w*)"
                     r"(?:\s+[A-ZĐÂĂÊÔƠƯÁÀẢÃẠẤẦẨẪẬẮẰẲẴẶÉÈẺẼẸẾỀỂỄỆÍÌỈĨỊÓÒỎÕỌỐỒỔỖỘỚỜỞỠỢÚÙỦŨỤỨỪỬỮỰÝỲỶỸỴ]\w*)*)")
_APPENDIX = re.compile(r"^\s*ph[uụ]\s*l[uụ]c\b\s*([0-9]+|[IVX]+)?\s*$", re.IGNORECASE)
_ROMAN = re.compile(r"^[IVXLC]+$")
_ARABIC = re.compile(r"^\d+(?:\.\d+)*$")
_NUMBERING_ROW = re.compile(r"^\(?\d{1,2}\)?$")
_TITLE_MARK = "ke hoach"


# -- small helpers -------------------------------------------------------------------
def clean(text: str | None) -> str:
    """A cell's text with runs of blanks collapsed; lines starting with "-" stay on their own line."""
    if not text:
        return ""
    lines = [" ".join(line.split()) for line in _BOOKMARK.sub("", text).replace("\r", "").split("\n")]
    out = ""
    for line in lines:
        if not line:
            continue
        if not out:
            out = line
        elif line.startswith("-"):
            out += "\n" + line
        else:
            out += " " + line
    return out.strip()


def column_key(header: str) -> str | None:
    """Which column a header cell names ("Đơn vị chủ trì" → lead), or None."""
    h = fold(header)
    if h in ("tt", "stt", "so tt", "so thu tu"):
        return "number"
    if h.startswith("noi dung") or h == "nhiem vu":
        return "content"
    if "chu tri" in h:
        return "lead"
    if "phoi hop" in h:
        return "cooperating"
    if "thoi gian" in h or "thoi han" in h or "tien do" in h:
        return "timeframe"
    if "san pham" in h or "ket qua" in h:
        return "product"
    return None


def _header(cells: list[str]) -> list[str | None] | None:
    keys = [column_key(c) for c in cells]
    if keys and keys[0] == "number" and "content" in keys:
        return keys
    return None


def problem(message: str, level: str = "warning", **params) -> dict:
    return {"level": level, "message": message, "params": params}


# -- metadata ------------------------------------------------------------------------
def read_metadata(lines: list[str]) -> dict:
    """Number/symbol, title, issuer, date and year of the plan from its text lines."""
    text = "\n".join(lines)
    meta: dict = {"code": None, "title": None, "issuer": None, "issued_on": None, "year": None}
    code = (re.search(r"kèm theo\s+kế hoạch\s+" + _CODE.pattern, text, re.IGNORECASE)
            or re.search(r"^\s*" + _CODE.pattern, text, re.IGNORECASE | re.MULTILINE) or _CODE.search(text))
    if code:
        meta["code"] = normalise_code(code.group(1))
    issued = _ISSUED.search(text)
    if issued:
        day, month, year = (int(g) for g in issued.groups())
        try:
            meta["issued_on"] = date(year, month, day).isoformat()
        except ValueError:
            pass
    for line in lines:
        issuer = _ISSUER.search(line)
        if issuer:
            meta["issuer"] = f"UBND tỉnh {issuer.group(1)}"
            break
    for i, line in enumerate(lines):
        if fold(line) == _TITLE_MARK:
            title_lines = []
            for following in lines[i + 1:]:
                if not following.strip():
                    if title_lines:
                        break
                    continue
                title_lines.append(following)
            if title_lines:
                meta["title"] = "Kế hoạch " + clean("\n".join(title_lines))
            break
    years = re.findall(r"năm\s+((?:19|20)\d{2})", meta["title"] or "")
    if years:
        meta["year"] = int(years[-1])
    elif meta["issued_on"]:
        meta["year"] = int(meta["issued_on"][:4])
    return meta


def normalise_code(code: str) -> str:
    """"62/9 /KH-UBND" → "62/9/KH-UBND": the key that identifies a plan on re-import."""
    return re.sub(r"\s+", "", code).upper()


# -- rows → tasks --------------------------------------------------------------------
class _Reader:
    """Turns appendix tables into tasks (see the module docstring for the rules)."""

    def __init__(self) -> None:
        self.tasks: list[dict] = []
        self.notices: list[dict] = []
        self.appendices: list[dict] = []

    def table(self, label: str | None, header: list[str], rows: list[tuple[int, list[str]]]) -> None:
        header = list(header)
        while header and not header[-1].strip():
            header.pop()  # a spreadsheet's empty columns on the right
        keys = _header(header)
        appendix = len(self.appendices) + 1
        self.appendices.append({"number": appendix, "label": label or f"Phụ lục {appendix}",
                                "columns": [clean(h) for h in header]})
        width = len(keys)
        section: str | None = None
        previous: dict | None = None
        seen: set[tuple[str, int]] = set()
        for row_number, raw in rows:
            cells = [clean(c) for c in raw]
            while len(cells) > width and not cells[-1]:
                cells.pop()
            if not any(cells):
                continue
            if all(re.fullmatch(r"-+", c) for c in cells if c):
                continue  # a text-table rule line
            if len(cells) >= 3 and all(_NUMBERING_ROW.match(c) for c in cells if c) and previous is None:
                continue  # the "(1) (2) (3)…" row under a Word table header
            heading = None
            if len(cells) == width + 1:
                heading, cells = cells[1], [cells[0]] + cells[2:]
            elif len(cells) > width + 1:
                self.tasks.append(self._bad_row(appendix, row_number, cells, problem(
                    N_("Dòng có %(cells)d ô, nhiều hơn tiêu đề bảng (%(width)d ô); dòng này không được nhập."),
                    "error", cells=len(cells), width=width)))
                continue
            cells += [""] * (width - len(cells))
            values = {key: cells[i] for i, key in enumerate(keys) if key}
            number = values.get("number", "").rstrip(".").strip()
            content = values.get("content", "")
            if not number:
                if previous is None:
                    self.tasks.append(self._bad_row(appendix, row_number, cells, problem(
                        N_("Dòng không có số thứ tự và không có nhiệm vụ nào ở trên để nối vào; dòng này không "
                           "được nhập."), "error")))
                    continue
                if content or heading:
                    # The row above continues here (a table split across a page).
                    for key in ("content", "lead", "cooperating", "timeframe", "product"):
                        if values.get(key):
                            previous[key] = (previous[key] + " " + values[key]).strip() if previous[key] else values[key]
                    self.notices.append(problem(
                        N_("Dòng %(row)d không có số thứ tự: đã nối vào nhiệm vụ %(number)s (bảng bị ngắt trang)."),
                        "info", row=row_number, number=previous["number"]))
                    continue
                part = dict(previous)
                part["part"] = previous["part"] + 1
                part["row"] = row_number
                part["problems"] = []
                part["is_group"] = False
                for key in ("lead", "cooperating", "timeframe", "product"):
                    if values.get(key):
                        part[key] = values[key]
                self.tasks.append(part)
                previous = part
                continue
            if _ROMAN.match(number):
                section = full = number
            elif _ARABIC.match(number) and section:
                full = f"{section}.{number}"  # "1" under section "V" is cited "V.1"
            else:
                full = number
            task = {
                "appendix": appendix, "number": full, "part": 1, "row": row_number, "heading": heading,
                "content": content, "lead": values.get("lead", ""), "cooperating": values.get("cooperating", ""),
                "timeframe": values.get("timeframe", ""), "product": values.get("product", ""),
                "parent": None, "is_group": False, "problems": [],
            }
            if "." in full:
                task["parent"] = full.rsplit(".", 1)[0]
            task["is_group"] = not heading and not any(task[k] for k in ("lead", "cooperating", "timeframe", "product"))
            if (full, 1) in seen:
                task["problems"].append(problem(
                    N_("Số thứ tự %(number)s trùng với một dòng ở trên; dòng này không được nhập."), "error",
                    number=full))
            seen.add((full, 1))
            if not content:
                task["problems"].append(problem(N_("Thiếu nội dung công việc; dòng này không được nhập."), "error"))
            if task["parent"] and (task["parent"], 1) not in seen:
                task["problems"].append(problem(
                    N_("Không có nhiệm vụ cha %(parent)s ở trên; nhiệm vụ được xếp ở cấp cao nhất."), parent=task["parent"]))
                task["parent"] = None
            self.tasks.append(task)
            previous = task

    @staticmethod
    def _bad_row(appendix: int, row: int, cells: list[str], issue: dict) -> dict:
        return {"appendix": appendix, "number": cells[0] if cells else "", "part": 1, "row": row, "heading": None,
                "content": " | ".join(c for c in cells[1:] if c), "lead": "", "cooperating": "", "timeframe": "",
                "product": "", "parent": None, "is_group": False, "problems": [issue]}

    def result(self, meta: dict) -> dict:
        errors = []
        year = meta.get("year")
        for task in self.tasks:
            if task["is_group"] or any(p["level"] == "error" for p in task["problems"]):
                continue
            if not task["lead"]:
                task["problems"].append(problem(N_("Thiếu đơn vị chủ trì.")))
            if task["timeframe"]:
                read = parse_timeframe(task["timeframe"], year)
                if read is not None and not read.parsed:
                    task["problems"].append(problem(
                        N_("Không đọc được thời gian thực hiện \"%(text)s\"; giữ nguyên văn bản và cần xem lại."),
                        text=task["timeframe"]))
        if not self.appendices:
            errors.append(problem(N_("Không tìm thấy bảng phụ lục có cột \"TT\" và \"Nội dung\"."), "error"))
        elif not any(not any(p["level"] == "error" for p in t["problems"]) for t in self.tasks):
            errors.append(problem(N_("Bảng phụ lục không có nhiệm vụ nào."), "error"))
        return {**meta, "appendices": self.appendices, "tasks": self.tasks, "notices": self.notices,
                "errors": errors}


# -- plain text ------------------------------------------------------------------------
def _split_appendices(lines: list[str]) -> list[tuple[str | None, int, int]]:
    """(label, first line, end line) of each appendix region; the whole text if none is marked."""
    marks = [(i, line.strip()) for i, line in enumerate(lines) if _APPENDIX.match(line)]
    if not marks:
        return [(None, 0, len(lines))]
    regions = []
    for n, (i, label) in enumerate(marks):
        end = marks[n + 1][0] if n + 1 < len(marks) else len(lines)
        regions.append((" ".join(label.split()).capitalize(), i + 1, end))
    return regions


def _tsv_rows(lines: list[str], start: int, end: int) -> tuple[list[str], list[tuple[int, list[str]]]] | None:
    for i in range(start, end):
        cells = lines[i].split("\t")
        if len(cells) >= 3 and _header([c.strip() for c in cells]):
            rows = [(j + 1, lines[j].split("\t")) for j in range(i + 1, end) if lines[j].strip()]
            return [c.strip() for c in cells], rows
    return None


def _cell_rows(lines: list[str], start: int, end: int, notices: list[dict]
               ) -> tuple[list[str], list[tuple[int, list[str]]]] | None:
    """One cell per line (tab first), rows separated by blank lines."""
    first = None
    for i in range(start, end):
        if lines[i].startswith("\t") and fold(lines[i]) in ("tt", "stt"):
            first = i
            break
    if first is None:
        return None
    rows: list[tuple[int, list[list[str]]]] = []
    row: list[list[str]] | None = None
    blank_before = False
    for i in range(first, end):
        line = lines[i]
        if not line.strip() and not line.startswith("\t"):
            blank_before = True
            continue
        if line.startswith("\t"):
            if row is None or blank_before:
                row = []
                rows.append((i + 1, row))
            row.append([line[1:]])
        elif row is not None and (not blank_before or not "".join(row[-1]).strip()):
            row[-1].append(line)
        else:
            notices.append(problem(N_("Dòng %(row)d nằm ngoài bảng, bị bỏ qua: \"%(text)s\"."), "info",
                                   row=i + 1, text=line.strip()[:120]))
        blank_before = False
    if not rows:
        return None
    header = ["\n".join(c) for c in rows[0][1]]
    if not _header([clean(h) for h in header]):
        return None
    return [clean(h) for h in header], [(n, ["\n".join(c) for c in cells]) for n, cells in rows[1:]]


def parse_text(text: str) -> dict:
    """A plan from a plain-text export (either table style)."""
    text = _BOOKMARK.sub("", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    lines = text.split("\n")
    reader = _Reader()
    regions = _split_appendices(lines)
    meta_end = regions[0][1] if regions[0][0] else len(lines)
    for label, start, end in regions:
        found = _tsv_rows(lines, start, end) or _cell_rows(lines, start, end, reader.notices)
        if found:
            header, rows = found
            reader.table(label, header, rows)
    meta = read_metadata([line.strip() for line in lines[:max(meta_end, 1)]] + [
        line.strip() for _, start, _ in regions for line in lines[start:start + 6]])
    return reader.result(meta)


# -- DOCX ------------------------------------------------------------------------------
def _docx_rows(table) -> list[tuple[int, list[str]]]:
    """Rows of unique cells: a cell spanning columns counts once; a cell merged with the one
    above (vertical merge) reads as empty, so the row is a part of the task above."""
    rows = []
    above: list = []
    for n, row in enumerate(table.rows, start=1):
        cells, seen, grid = [], set(), []
        for position, cell in enumerate(row.cells):
            grid.append(cell._tc)
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            merged_from_above = position < len(above) and above[position] is cell._tc
            cells.append("" if merged_from_above else "\n".join(p.text for p in cell.paragraphs))
        above = grid
        rows.append((n, cells))
    return rows


def parse_docx(data: bytes) -> dict:
    """A plan from a Word document: paragraphs for the metadata, tables for the appendices."""
    import docx  # python-docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    reader = _Reader()
    lines: list[str] = []
    label: str | None = None
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = Paragraph(child, document).text
            lines.extend(text.split("\n"))
            lines.append("")  # a paragraph ends like a blank line in a text export
            if _APPENDIX.match(text):
                label = " ".join(text.split()).capitalize()
        elif tag == "tbl":
            rows = _docx_rows(Table(child, document))
            for i, (_, cells) in enumerate(rows):
                if _header([clean(c) for c in cells]):
                    reader.table(label, [clean(c) for c in cells], rows[i + 1:])
                    label = None
                    break
    return reader.result(read_metadata([line.strip() for line in lines]))


# -- CSV and XLSX ----------------------------------------------------------------------
def _grid(rows: list[list[str]], reader: _Reader, label: str | None) -> list[str]:
    """Read one sheet: the lines above the header carry the metadata."""
    for i, cells in enumerate(rows):
        if _header([clean(c) for c in cells]):
            reader.table(label, [clean(c) for c in cells], [(j + 1, r) for j, r in enumerate(rows) if j > i])
            return [" ".join(c for c in r if c) for r in rows[:i]]
    return [" ".join(c for c in r if c) for r in rows]


def parse_csv(data: bytes) -> dict:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        reader = _Reader()
        result = reader.result(read_metadata([]))
        result["errors"] = [problem(N_("Tệp CSV phải được lưu với bảng mã UTF-8."), "error")]
        return result
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [list(r) for r in csv.reader(io.StringIO(text), dialect)]
    reader = _Reader()
    meta_lines = _grid(rows, reader, None)
    return reader.result(read_metadata(meta_lines))


def parse_xlsx(data: bytes) -> dict:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    reader = _Reader()
    meta_lines: list[str] = []
    for sheet in workbook.worksheets:
        rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        label = sheet.title if _APPENDIX.match(sheet.title or "") else None
        meta_lines += _grid(rows, reader, label)
    workbook.close()
    return reader.result(read_metadata(meta_lines))


MAX_ZIP_ENTRIES = 2000
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024


class UnsupportedFile(ValueError):
    """The upload is not a DOCX, XLSX, CSV or plain-text plan."""


def parse_upload(filename: str, data: bytes) -> tuple[str, dict]:
    """(format, parsed plan) of an uploaded file, by its content first and its extension second."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if data[:4] == b"PK\x03\x04":
        try:
            entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
        except zipfile.BadZipFile:
            raise UnsupportedFile(N_("Tệp bị hỏng hoặc không phải DOCX/XLSX.")) from None
        # Refuse a zip bomb before anything is extracted (sizes as the archive declares them).
        if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_UNZIPPED_BYTES:
            raise UnsupportedFile(N_("Tệp quá lớn sau khi giải nén."))
        names = [e.filename for e in entries]
        if "word/document.xml" in names:
            return "docx", parse_docx(data)
        if "xl/workbook.xml" in names:
            return "xlsx", parse_xlsx(data)
        raise UnsupportedFile(N_("Chỉ nhận tệp DOCX, XLSX, CSV hoặc văn bản thuần (TXT)."))
    if b"\x00" in data[:4096] or extension in ("doc", "xls", "pdf"):
        raise UnsupportedFile(N_("Chỉ nhận tệp DOCX, XLSX, CSV hoặc văn bản thuần (TXT)."))
    if extension == "csv":
        return "csv", parse_csv(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnsupportedFile(N_("Tệp văn bản phải được lưu với bảng mã UTF-8.")) from None
    return "txt", parse_text(text)
