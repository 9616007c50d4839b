"""A small XLSX writer for exports of many rows: one worksheet, streamed row by row into the zip.

Why not openpyxl: even its write-only workbook spends ≈ 19 µs on every cell (binding the value,
checking the string, building an element), so the register book of a provincial year (100,000
rows × 22 columns at 1,000,000 cases a year) took a minute, past gunicorn's 30 s timeout. Here
each row is formatted as SpreadsheetML text and goes straight into the deflated zip entry of the
sheet: strings inline (``t="inlineStr"``, so no shared-strings table grows in memory), nothing
kept once written, so memory is bounded whatever the row count, and a cell costs ≈ 1 µs.

It writes what the exports need and nothing more: one sheet of strings and numbers, the fixed
styles :data:`NORMAL`, :data:`TITLE` and :data:`HEADER`, column widths and frozen panes. Reading
XLSX stays openpyxl's (plan imports, the tests).

Text is made safe for XML here: ``&``, ``<``, ``>`` escaped, a carriage return written as a
character reference (an XML parser would otherwise read ``\\r\\n`` as ``\\n``), and characters
that XML 1.0 forbids (control characters other than tab and line feed, U+FFFE, U+FFFF, lone
surrogates) removed, since no reader would open the file with them. Guarding against formula
injection is the caller's (:func:`pakn.spreadsheet.safe_cell`).
"""
from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO

Value = str | int | float | None

#: Cell styles, the indexes of ``cellXfs`` in :data:`STYLES`: body text; the title of the sheet
#: (bold, 13 pt); a column header (bold, wrapped, aligned to the top).
NORMAL, TITLE, HEADER = 0, 1, 2
#: Deflate level of the zip entries: zlib's default. On the register of a quarter (31 MB of
#: sheet XML) level 1 takes 0.11 s and makes 4.2 MB, level 6 0.28 s and 3.2 MB; the smaller file
#: is worth the fraction of a second, since a sync worker is also busy while the file is sent.
COMPRESSLEVEL = 6
#: Rows formatted before their text goes to the zip entry in one write (≈ 125 KB of XML for the
#: register's rows).
FLUSH_ROWS = 100
#: A worksheet's rows and columns (Excel's limits; a reader refuses a sheet beyond them).
MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384

#: Characters XML 1.0 forbids: control characters but tab, line feed and carriage return;
#: lone surrogates; U+FFFE and U+FFFF.
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: What a text needs changed before it goes into the XML (most cells need nothing).
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: Leading or trailing characters that a spreadsheet trims unless ``xml:space="preserve"``.
_SPACES = (" ", "\t", "\n", "\r")
#: Characters a worksheet's name may not have, and its longest length (Excel's rules; nor may it
#: start or end with an apostrophe).
_BAD_NAME = re.compile(r"[\[\]:*?/\\]")
NAME_LENGTH = 31

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CONTENT_TYPES = DECLARATION + (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '</Types>')
ROOT_RELS = DECLARATION + (
    f'<Relationships xmlns="{PKG_REL}">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>')
WORKBOOK_RELS = DECLARATION + (
    f'<Relationships xmlns="{PKG_REL}">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/styles" Target="styles.xml"/>'
    '</Relationships>')
_FONT = '<sz val="{size}"/><name val="Calibri"/><family val="2"/>'
#: Excel requires the two fills "none" and "gray125", one border and the "Normal" cell style,
#: even when no cell uses them.
STYLES = DECLARATION + (
    f'<styleSheet xmlns="{MAIN}">'
    '<fonts count="3">'
    f'<font>{_FONT.format(size=11)}</font>'
    f'<font><b/>{_FONT.format(size=13)}</font>'
    f'<font><b/>{_FONT.format(size=11)}</font>'
    '</fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf>'
    '</cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')


def legal(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids."""
    return ILLEGAL.sub("", text) if ILLEGAL.search(text) else text


def column_letter(index: int) -> str:
    """The letters of the 1-based column ``index``: 1 → ``A``, 27 → ``AA``."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def _escape(value: str) -> str:
    """``value`` as the content of a ``<t>`` element (when :data:`_SPECIAL` finds something)."""
    return (ILLEGAL.sub("", value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


def _pane(freeze: str) -> str:
    """The ``<pane>`` and ``<selection>`` of a sheet view frozen above and left of cell ``freeze``."""
    match = re.fullmatch(r"([A-Z]{1,3})([1-9][0-9]*)", freeze)
    if not match:
        raise ValueError(f"not a cell reference: {freeze!r}")
    column = 0
    for letter in match[1]:
        column = column * 26 + ord(letter) - 64
    x, y = column - 1, int(match[2]) - 1
    if not x and not y:
        return ""
    pane = "bottomRight" if x and y else "topRight" if x else "bottomLeft"
    split = (f' xSplit="{x}"' if x else "") + (f' ySplit="{y}"' if y else "")
    selections = "".join(f'<selection pane="{p}"/>' for p in ("topRight", "bottomLeft") if x and y)
    return (f'<pane{split} topLeftCell="{freeze}" activePane="{pane}" state="frozen"/>{selections}'
            f'<selection pane="{pane}" activeCell="{freeze}" sqref="{freeze}"/>')


class Sheet:
    """The worksheet being written: :meth:`append` its rows in order."""

    def __init__(self, entry: IO[bytes], widths: Sequence[float], freeze: str | None) -> None:
        self._entry = entry
        self._row = 0
        self._letters = [column_letter(i) for i in range(1, max(len(widths), 26) + 1)]
        self._buffer: list[str] = []
        cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
        view = _pane(freeze) if freeze else ""
        self._buffer.append(
            f'{DECLARATION}<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
            f'<sheetViews><sheetView tabSelected="1" workbookViewId="0">{view}</sheetView></sheetViews>'
            + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>")

    def append(self, values: Sequence[Value], style: int = NORMAL) -> None:
        """Add a row: a string as text, an int or a float as a number, ``None`` or ``""`` as an
        empty cell (left out of the file). Raises :class:`TypeError` for another type, and
        :class:`ValueError` for a number a spreadsheet cannot hold (NaN, infinity) or a row or a
        column past :data:`MAX_ROWS` or :data:`MAX_COLUMNS`."""
        if self._row == MAX_ROWS or len(values) > MAX_COLUMNS:
            raise ValueError(f"a worksheet holds {MAX_ROWS} rows of {MAX_COLUMNS} columns")
        self._row += 1
        r = self._row
        s = f' s="{style}"' if style else ""
        letters = self._letters
        if len(values) > len(letters):
            letters.extend(column_letter(i) for i in range(len(letters) + 1, len(values) + 1))
        cells = [f'<row r="{r}">']
        for letter, value in zip(letters, values):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                text = value if _SPECIAL.search(value) is None else _escape(value)
                if not text:  # nothing but characters XML forbids
                    continue
                space = ' xml:space="preserve"' if text.startswith(_SPACES) or text.endswith(_SPACES) else ""
                cells.append(f'<c r="{letter}{r}"{s} t="inlineStr"><is><t{space}>{text}</t></is></c>')
            elif isinstance(value, bool):
                cells.append(f'<c r="{letter}{r}"{s} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int):
                cells.append(f'<c r="{letter}{r}"{s}><v>{value}</v></c>')
            elif isinstance(value, float):
                if not math.isfinite(value):
                    raise ValueError(f"a cell cannot hold {value!r}")
                cells.append(f'<c r="{letter}{r}"{s}><v>{value!r}</v></c>')
            else:
                raise TypeError(f"an XLSX cell cannot hold {type(value).__name__}")
        cells.append("</row>")
        self._buffer.append("".join(cells))
        if len(self._buffer) >= FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        self._entry.write("".join(self._buffer).encode("utf-8"))
        self._buffer.clear()

    def _close(self) -> None:
        self._buffer.append('</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
                            'header="0.3" footer="0.3"/></worksheet>')
        self._flush()


@contextmanager
def write_sheet(out: IO[bytes], name: str, widths: Sequence[float] = (),
                freeze: str | None = None) -> Iterator[Sheet]:
    """An XLSX workbook of one sheet called ``name``, written into ``out`` as rows are appended.

    ``widths`` are the first columns' widths (in characters); ``freeze`` is the cell above and
    left of which the sheet is frozen (``"C4"``: rows 1–3 and columns A–B). The workbook is
    complete when the ``with`` block ends. If the block raises, the exception propagates and
    ``out`` holds a zip whose sheet is cut short (no spreadsheet opens it): the caller discards
    it. ``out`` may be any writable binary file; a seekable one gets a zip without data
    descriptors. Raises :class:`ValueError` for a name Excel refuses.
    """
    if (not name or len(name) > NAME_LENGTH or _BAD_NAME.search(name) or name != legal(name)
            or name.startswith("'") or name.endswith("'")):
        raise ValueError(f"not a worksheet name: {name!r}")
    workbook = DECLARATION + (
        f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><bookViews><workbookView activeTab="0"/></bookViews>'
        f'<sheets><sheet name="{_attribute(name)}" sheetId="1" r:id="rId1"/></sheets></workbook>')
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESSLEVEL) as package:
        for part, xml in (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
                          ("xl/workbook.xml", workbook), ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
                          ("xl/styles.xml", STYLES)):
            package.writestr(part, xml)
        # Not forced to ZIP64 (older Excel warns about such a file): a sheet's XML over 2 GiB,
        # far beyond what a spreadsheet opens, makes zipfile raise when the entry is closed.
        with package.open("xl/worksheets/sheet1.xml", "w") as entry:
            sheet = Sheet(entry, widths, freeze)
            yield sheet
            sheet._close()
