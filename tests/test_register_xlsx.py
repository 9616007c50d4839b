"""The register book's XLSX (pakn/office/register.py) and the writer behind it (pakn/xlsx.py).

Read back the way a user's spreadsheet would: openpyxl opens the file, the cells hold the texts
the console shows (diacritics, formula-like text guarded, characters XML forbids dropped, empty
fields empty), the header is bold, the widths and the frozen panes are there; the package is a
sound zip of well-formed XML.
"""
from __future__ import annotations

import io
import math
import tracemalloc
import zipfile
from datetime import date, datetime, timezone
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from pakn import xlsx
from pakn.extensions import db
from pakn.models import Feedback
from pakn.office.register import COLUMNS, WIDTHS
from pakn.operations import transaction
from pakn.xlsx import HEADER, MAX_COLUMNS, TITLE, write_sheet
from workflows.calendar import TZ

PARTS = {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
         "xl/worksheets/sheet1.xml"}
LONG_ADDRESS = ("Tổ dân phố 4, khu phố Mỹ Thuận, phường Tân Ngãi, thành phố Vĩnh Long, tỉnh Vĩnh Long; "
                "địa chỉ liên hệ: nhà văn hóa ấp Tân Quới Đông, xã Trường An — ") * 4
LONG_ADDRESS = LONG_ADDRESS[:500]


def assert_sound_package(data: bytes) -> None:
    """A zip whose entries pass their CRC check, holding every part of the package as well-formed XML."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.testzip() is None
        assert set(package.namelist()) >= PARTS
        for name in package.namelist():
            ElementTree.fromstring(package.read(name))  # raises on XML that is not well formed


def sheet_of(data: bytes):
    return load_workbook(io.BytesIO(data)).active


# -- the register book, downloaded ---------------------------------------------------------------------
def test_register_xlsx_shows_each_case_as_the_console_does(app, client, login, make_case):
    published = make_case("published", submitter_name="Lê Thị Ánh Hồng",
                          submitter_organisation="Hợp tác xã Nông nghiệp Mỹ Thuận",
                          title="Đề nghị sửa quy định về cấp Giấy chứng nhận quyền sử dụng đất ở")[0]
    formula = make_case("rejected")[0]
    control = make_case("forwarded")[0]
    long_ = make_case()[0]
    with app.app_context(), transaction():
        def case(code: str) -> Feedback:
            return db.session.scalar(select(Feedback).where(Feedback.code == code))

        # Texts the intake form refuses today but older rows (or an import) may hold.
        case(formula).title, case(formula).submitter_address = "=1+1", "@Tổ 5, ấp Phước Hậu"
        case(control).title = "Đường\x01 ngập\x0b nước\x1f kéo dài"
        case(control).submitter_address = "Ấp 3 & ấp 4 <xã Long Hồ> \"Vĩnh Long\""
        case(control).submitter_phone = None  # the e-mail address is enough to answer (a CHECK)
        case(long_).title = "\x02=HYPERLINK(\"http://x.example\")"
        case(long_).submitter_address = LONG_ADDRESS
        case(long_).submitter_name = "  Phạm Văn Đức\r\nTổ trưởng  "
        received = {code: case(code).received_at for code in (published, formula, control, long_)}
    login("clerk")
    today = datetime.now(timezone.utc).astimezone(TZ).date()
    response = client.get(f"/office/register.xlsx?from={today.replace(day=1)}&to={today}")
    assert response.status_code == 200
    assert_sound_package(response.data)
    sheet = sheet_of(response.data)

    assert sheet["A1"].value == "SỔ THEO DÕI PHẢN ÁNH, KIẾN NGHỊ VỀ QUY ĐỊNH HÀNH CHÍNH"
    assert sheet["A1"].font.b and sheet["A1"].font.sz == 13
    assert sheet["A2"].value.endswith(f"từ {today.replace(day=1):%d/%m/%Y} đến {today:%d/%m/%Y}")
    header = [c.value for c in sheet[3]]
    assert header == COLUMNS
    assert all(c.font.b and c.alignment.wrap_text for c in sheet[3])
    assert [sheet.column_dimensions[c.column_letter].width for c in sheet[3]] == WIDTHS
    assert sheet.freeze_panes == "C4"

    rows = {r[1]: dict(zip(header, r)) for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert list(rows) == [published, formula, control, long_]
    assert [r["STT"] for r in rows.values()] == [1, 2, 3, 4]
    for code, at in received.items():
        assert rows[code]["Ngày giờ tiếp nhận"] == at.astimezone(TZ).strftime("%d/%m/%Y %H:%M")

    row = rows[published]
    assert row["Người gửi (tên, tổ chức)"] == "Lê Thị Ánh Hồng (Hợp tác xã Nông nghiệp Mỹ Thuận)"
    assert row["Tóm tắt"] == "Đề nghị sửa quy định về cấp Giấy chứng nhận quyền sử dụng đất ở"
    assert row["Loại"] == "Phản ánh; Quy định hành chính" and row["Lĩnh vực"] == "Xây dựng"
    assert row["Số văn bản trả lời"] == "125/SXD-QLXD" and row["Đúng/quá hạn"] == "Đúng hạn"
    assert row["Ngày công khai"] == today.strftime("%d/%m/%Y") and row["Ghi chú"] is None

    row = rows[formula]  # text, never a formula; the apostrophe says so
    assert row["Tóm tắt"] == "'=1+1" and row["Địa chỉ"] == "'@Tổ 5, ấp Phước Hậu"
    assert row["Kết quả phân loại"] == "Không tiếp nhận" and row["Ghi chú"] == "Khiếu nại"
    assert row["Cơ quan được chuyển"] is None and row["Đúng/quá hạn"] is None  # empty fields, empty cells

    row = rows[control]
    assert row["Tóm tắt"] == "Đường ngập nước kéo dài"
    assert row["Địa chỉ"] == "Ấp 3 & ấp 4 <xã Long Hồ> \"Vĩnh Long\""
    assert row["Điện thoại"] is None and row["Thư điện tử"] == "an.nguyen@example.com"
    assert row["Cơ quan được chuyển"] == "Sở Xây dựng" and row["Kết quả phân loại"] == "Chuyển xử lý"

    row = rows[long_]
    assert row["Tóm tắt"] == "'=HYPERLINK(\"http://x.example\")"  # guarded once the \x02 is gone
    assert row["Địa chỉ"] == LONG_ADDRESS and len(LONG_ADDRESS) == 500
    assert row["Người gửi (tên, tổ chức)"] == "  Phạm Văn Đức\r\nTổ trưởng  "
    assert all(c.data_type != "f" for r in sheet.iter_rows(min_row=4) for c in r)


# -- the writer ----------------------------------------------------------------------------------------
def written(rows, **options) -> bytes:
    out = io.BytesIO()
    with write_sheet(out, options.pop("name", "Trang 1"), **options) as sheet:
        for row in rows:
            sheet.append(*row) if isinstance(row, tuple) else sheet.append(row)
    return out.getvalue()


def test_cells_read_back_as_written():
    data = written([
        (["Tiêu đề"], TITLE),
        (["STT", "Tên"], HEADER),
        [1, "Nguyễn Văn An", None, "", 2.5, -7, 10**15, True],
        [2, "a & b < c > d ]]> \"e\" 'f'", "  hai khoảng trắng  ", "dòng 1\r\ndòng 2\ttab", "\x00\x08\ufffe"],
        [],
        [None, None, "cột C", None, "cột E"],
        ["😀 ngoài BMP", "\x7f\x85 C1 hợp lệ trong XML 1.0"],
    ], widths=[5, 30.5], freeze="B3")
    assert_sound_package(data)
    sheet = sheet_of(data)
    assert [[c for c in row] for row in sheet.iter_rows(values_only=True)] == [
        ["Tiêu đề", None, None, None, None, None, None, None],
        ["STT", "Tên", None, None, None, None, None, None],
        [1, "Nguyễn Văn An", None, None, 2.5, -7, 10**15, True],
        [2, "a & b < c > d ]]> \"e\" 'f'", "  hai khoảng trắng  ", "dòng 1\r\ndòng 2\ttab", None, None, None, None],
        [None] * 8,
        [None, None, "cột C", None, "cột E", None, None, None],
        ["😀 ngoài BMP", "\x7f\x85 C1 hợp lệ trong XML 1.0", None, None, None, None, None, None],
    ]
    assert sheet.title == "Trang 1"
    assert sheet["A1"].font.b and sheet["A1"].font.sz == 13 and not sheet["A3"].font.b
    assert sheet["A2"].font.b and sheet["B2"].alignment.wrap_text and sheet["B2"].alignment.vertical == "top"
    assert sheet.column_dimensions["A"].width == 5 and sheet.column_dimensions["B"].width == 30.5
    assert sheet.freeze_panes == "B3"
    assert isinstance(sheet["A3"].value, int) and sheet["A3"].data_type == "n"


@pytest.mark.parametrize("freeze", ["A2", "C1", "C4"])
def test_frozen_rows_columns_or_both(freeze):
    data = written([["a", "b", "c"]] * 5, freeze=freeze)
    assert sheet_of(data).freeze_panes == freeze


def test_a_sheet_without_rows_is_a_workbook_too():
    data = written([])
    assert_sound_package(data)
    assert sheet_of(data).max_row == 1 and sheet_of(data)["A1"].value is None


def test_written_into_a_stream_that_cannot_seek():
    class Pipe(io.RawIOBase):  # what a socket or a pipe offers: write, nothing else
        def __init__(self):
            self.data = bytearray()

        def writable(self):
            return True

        def write(self, b):
            self.data += b
            return len(b)

    pipe = Pipe()
    with write_sheet(pipe, "Trang 1") as sheet:
        sheet.append(["Hà Nội", 1])
    assert_sound_package(bytes(pipe.data))
    assert list(sheet_of(bytes(pipe.data)).values) == [("Hà Nội", 1)]


def test_what_a_cell_or_a_sheet_cannot_hold_is_refused():
    for value in (date(2025, 1, 1), b"bytes", [1]):
        with pytest.raises(TypeError):
            written([[value]])
    for value in (math.nan, math.inf):
        with pytest.raises(ValueError):
            written([[value]])
    for name in ("", "a" * 32, "Sổ [1]", "Q1/2025", "a:b", "'PAKN'"):
        with pytest.raises(ValueError):
            written([], name=name)
    assert sheet_of(written([], name="Sổ theo dõi 'PAKN' & <khác>")).title == "Sổ theo dõi 'PAKN' & <khác>"
    with pytest.raises(ValueError):
        written([[0] * (MAX_COLUMNS + 1)])


def test_no_row_past_the_last_a_worksheet_holds(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)  # Excel's 1,048,576, scaled down
    with pytest.raises(ValueError), write_sheet(io.BytesIO(), "Trang 1") as sheet:
        for i in range(4):
            sheet.append([i])
    assert list(sheet_of(written([[0], [1], [2]])).values) == [(0,), (1,), (2,)]


def test_a_failure_half_way_leaves_no_workbook_a_spreadsheet_opens():
    out = io.BytesIO()
    with pytest.raises(RuntimeError, match="the database went away"), write_sheet(out, "Trang 1") as sheet:
        for i in range(2000):
            sheet.append([i, "Nguyễn Văn An"])
        raise RuntimeError("the database went away")
    sheet_xml = zipfile.ZipFile(io.BytesIO(out.getvalue())).read("xl/worksheets/sheet1.xml")
    assert b"Nguy" in sheet_xml  # rows were written, and the sheet is cut short
    with pytest.raises(ElementTree.ParseError):
        ElementTree.fromstring(sheet_xml)


def test_memory_stays_flat_whatever_the_rows():
    """Tracing Python's allocations while writing 2,000 and 20,000 rows of the register's width:
    the peak is the same (the rows go into the deflated entry as they come)."""
    row = ["Nguyễn Văn An (Hợp tác xã)", "Số 12, đường 30/4, phường 1, tỉnh Vĩnh Long", "0912345678"] * 7 + [1]

    def peak(rows: int) -> int:
        class Sink(io.RawIOBase):
            def writable(self):
                return True

            def write(self, b):
                return len(b)

        tracemalloc.start()
        try:
            with write_sheet(Sink(), "Trang 1") as sheet:
                for _ in range(rows):
                    sheet.append(row)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(2000), peak(20000)
    assert large < small * 1.2 + 64 * 1024, (small, large)
    assert large < 4 * 1024 * 1024
