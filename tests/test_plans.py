"""Plans: importing the two seed plans (text, DOCX, CSV, XLSX), re-import, units, timeframes,
bindings, the dashboard, and who may see what (on every backend)."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from pakn.extensions import db
from pakn.models import Agency, AgencyLevel, Plan, PlanImport, PlanTask, PlanTaskUnit, ReportFiling, StageVisit
from pakn.operations import transaction
from pakn.plans.binding import bind, document_name, put_in_force, suggest_bindings
from pakn.plans.importer import apply_import, unlinked_units
from pakn.plans.parse import parse_csv, parse_docx, parse_text, parse_upload, parse_xlsx
from pakn.plans.timeframe import parse_timeframe
from tests.conftest import csrf_token
from tests.plan_helpers import BEN_TRE, HA_TINH, build_docx, rows_of

BEN_TRE_NUMBERS = [
    "1", "1.1", "1.2", "2", "2.1", "2.2", "2.3", "3", "3.1", "3.2", "3.3", "3.4", "4", "4.1", "4.2",
    "5", "5.1", "5.2", "5.3", "5.4", "6", "6.1", "6.2", "6.3", "6.4", "7", "7.1", "7.2", "7.3", "7.4", "7.5",
    "7.6", "8", "9", "9.1", "9.2", "10", "11", "11.2"]
HA_TINH_NUMBERS = [
    "I", "I.1", "I.2", "I.2", "I.3", "I.4", "II", "II.1", "II.2", "II.3", "II.4", "III", "III.1", "III.1",
    "III.2", "III.3", "III.4", "IV", "IV.1", "IV.2", "IV.3", "V", "V.1", "V.2", "VI", "VI.1", "VI.2", "VI.3"]
HT_OFFICE = "Văn phòng Đoàn ĐBQH, HĐND và UBND tỉnh"


def ben_tre() -> dict:
    return parse_text(BEN_TRE.read_text(encoding="utf-8"))


def ha_tinh() -> dict:
    return parse_text(HA_TINH.read_text(encoding="utf-8"))


@pytest.fixture
def departments(app, world):
    """Two more agencies named in the plans, to be linked by name."""
    with app.app_context(), transaction():
        level = db.session.scalar(select(AgencyLevel).where(AgencyLevel.code == "so_nganh"))
        office = db.session.get(Agency, world.office)
        db.session.add_all([Agency(code="SNV", name="Sở Nội vụ", level=level, parent=office),
                            Agency(code="STP", name="Sở Tư pháp", level=level, parent=office)])
    return world


def task(plan: Plan, number: str, appendix: int = 1, part: int = 1) -> PlanTask:
    return db.session.scalar(select(PlanTask).where(PlanTask.plan_id == plan.id, PlanTask.number == number,
                                                    PlanTask.appendix == appendix, PlanTask.part == part))


# -- reading the seeds ---------------------------------------------------------------
def test_ben_tre_seed_reads_every_task_of_its_appendix():
    parsed = ben_tre()
    assert (parsed["code"], parsed["issuer"], parsed["issued_on"], parsed["year"]) == (
        "62/9/KH-UBND", "UBND tỉnh Bến Tre", "2018-12-28", 2019)
    assert parsed["title"] == "Kế hoạch Kiểm soát thủ tục hành chính năm 2019 trên địa bàn tỉnh Bến Tre"
    assert [t["number"] for t in parsed["tasks"]] == BEN_TRE_NUMBERS
    assert not parsed["errors"]
    rows = {t["number"]: t for t in parsed["tasks"]}
    assert rows["6.2"] == {
        "appendix": 1, "number": "6.2", "part": 1, "row": 112, "heading": None, "parent": "6", "is_group": False,
        "content": "Tiếp nhận, phân loại phản ánh, kiến nghị (PAKN) của cá nhân, tổ chức về quy định, TTHC thuộc "
                   "phạm vi, thẩm quyền của UBND tỉnh, Chủ tịch UBND tỉnh.",
        "lead": "Văn phòng UBND tỉnh", "cooperating": "Các cơ quan, đơn vị có liên quan",
        "timeframe": "Thường xuyên", "product": "Văn bản chuyển xử lý PAKN", "problems": []}
    # Row 11 carries its group heading and its own content (a split cell in the Word table).
    assert rows["11"]["heading"] == ("Chế độ thông tin, báo cáo định kỳ hoặc đột xuất (theo yêu cầu) về kiểm soát "
                                     "TTHC, thực hiện cơ chế một cửa, một cửa liên thông")
    assert rows["11"]["content"].startswith("Báo cáo định kỳ quý I, II, III và năm về tình hình")
    assert rows["11"]["timeframe"] == ("Báo cáo quý I, II, III (trước ngày 25 của tháng cuối quý); "
                                       "báo cáo năm (trước ngày 25/12)")
    assert rows["11.2"]["parent"] == "11" and rows["11.2"]["product"] == "Báo cáo của UBND tỉnh"
    # 5.4 continues on the next page: the continuation is joined, not a task of its own.
    assert rows["5.4"]["content"] == ("Nhập, đăng tải, công khai TTHC trên Cơ sở dữ liệu quốc gia về TTHC; kết nối, "
                                      "tích hợp dữ liệu TTHC trên Cơ sở dữ liệu quốc gia để công khai trên Cổng "
                                      "Thông tin điện tử của tỉnh.")
    assert rows["5.4"]["cooperating"] == "Cục Kiểm soát TTHC và đơn vị liên quan"
    assert rows["6"]["is_group"] and not rows["6.1"]["is_group"]
    assert rows["7.2"]["timeframe"] == "Quý III/2019 (trước ngày 15/7/2019)"


def test_ha_tinh_seed_reads_both_appendices_cell_per_line():
    parsed = ha_tinh()
    assert (parsed["code"], parsed["issuer"], parsed["issued_on"]) == ("09/KH-UBND", "UBND tỉnh Hà Tĩnh", "2019-01-11")
    assert [a["label"] for a in parsed["appendices"]] == ["Phụ lục 1", "Phụ lục 2"]
    first = [t for t in parsed["tasks"] if t["appendix"] == 1]
    second = [t for t in parsed["tasks"] if t["appendix"] == 2]
    assert [t["number"] for t in first] == HA_TINH_NUMBERS
    assert [t["number"] for t in second] == [str(n) for n in range(1, 10)]
    rows = {(t["appendix"], t["number"], t["part"]): t for t in parsed["tasks"]}
    v2 = rows[(1, "V.2", 1)]
    assert (v2["content"], v2["lead"], v2["cooperating"], v2["product"], v2["timeframe"], v2["parent"]) == (
        "Tổ chức việc tiếp nhận và xử lý phản ánh, kiến nghị của cá nhân, tổ chức về quy định hành chính do Văn "
        "phòng Chính phủ chuyển về hoặc tự tiếp nhận của cá nhân, tổ chức.",
        HT_OFFICE, "Các sở, ban, ngành cấp tỉnh; UBND cấp huyện, cấp xã",
        "Phân loại, chuyển phản ánh, kiến nghị đến cơ quan có thẩm quyền xử lý; đôn đốc, kiểm tra và kịp thời báo "
        "cáo UBND tỉnh việc xử lý phản ánh, kiến nghị.", "Thường xuyên trong năm 2019", "V")
    # A task whose number and content cells are merged over two rows: two parts.
    second_part = rows[(1, "I.2", 2)]
    assert second_part["content"] == rows[(1, "I.2", 1)]["content"]
    assert (second_part["lead"], second_part["cooperating"], second_part["product"]) == (
        HT_OFFICE, "Các đơn vị có liên quan", "Văn bản cho ý kiến về TTHC của Văn phòng Đoàn ĐBQH, HĐND và UBND tỉnh.")
    iii1 = rows[(1, "III.1", 2)]
    assert iii1["lead"] == rows[(1, "III.1", 1)]["lead"]  # merged cell: the value above
    assert iii1["product"].startswith("Phát hiện các TTHC chưa công bố")
    # A cell continued after a blank line, and a header split over two lines.
    assert rows[(1, "II.2", 1)]["timeframe"] == "Tháng 3 đến tháng 7 năm 2019"
    assert rows[(1, "I.4", 1)]["timeframe"] == "Thường xuyên trong năm 2019"
    assert parsed["appendices"][0]["columns"][2] == "Cơ quan chủ trì"
    # Appendix 2, in full for one row.
    seven = rows[(2, "7", 1)]
    assert (seven["content"], seven["lead"], seven["cooperating"], seven["product"], seven["timeframe"]) == (
        "Triển khai thực hiện liên thông các TTHC “Đăng ký khai tử, Xóa đăng ký thường trú, hưởng chế độ tử tuất/ "
        "Hỗ trợ chi phí mai táng/hưởng mai táng phí”.",
        "Các sở, ngành: Tư pháp, LĐTBXH, Công an tỉnh, BHXH tỉnh, UBND cấp huyện, cấp xã", HT_OFFICE,
        "Văn bản triển khai thực hiện; Quyết định công bố TTHC liên thông", "Quý I năm 2019")
    assert rows[(2, "1", 1)]["timeframe"] == "Trong Quý I năm 2019"


@pytest.mark.parametrize("timeframe, kind, start, end, due", [
    ("Thường xuyên", "ongoing", None, None, None),
    ("Quý I/2019", "period", date(2019, 1, 1), date(2019, 3, 31), None),
    ("Quý I-II/ 2019", "period", date(2019, 1, 1), date(2019, 6, 30), None),
    ("Tháng 12/2018", "period", date(2018, 12, 1), date(2018, 12, 31), None),
    ("Trước ngày 15/7/2019", "deadline", None, date(2019, 7, 14), date(2019, 7, 15)),
    ("Quý III hoặc quý IV/2019", "period", date(2019, 7, 1), date(2019, 12, 31), None),
    ("Trong Quý II năm 2019", "period", date(2019, 4, 1), date(2019, 6, 30), None),
    ("Thường xuyên trong năm 2019", "ongoing", date(2019, 1, 1), date(2019, 12, 31), None),
    ("Quý III/2019 (trước ngày 15/7/2019)", "period", date(2019, 7, 1), date(2019, 9, 30), date(2019, 7, 15)),
    ("Tháng 3 đến tháng 7 năm 2019", "period", date(2019, 3, 1), date(2019, 7, 31), None),
    ("Tháng 10, 11 năm 2019", "period", date(2019, 10, 1), date(2019, 11, 30), None),
    ("Quý II, III\nnăm 2019", "period", date(2019, 4, 1), date(2019, 9, 30), None),
    ("Sau khi Bộ hướng dẫn", "unparsed", None, None, None),
])
def test_timeframes_are_read_into_periods(timeframe, kind, start, end, due):
    read = parse_timeframe(timeframe, 2019)
    assert (read.kind, read.start, read.end, read.due_before) == (kind, start, end, due)
    assert read.text == " ".join(timeframe.split())


def test_report_timeframe_is_a_recurring_schedule():
    read = parse_timeframe("Báo cáo quý I, II, III (trước ngày 25 của tháng cuối quý); báo cáo năm (trước ngày 25/12)")
    assert read.kind == "recurring"
    assert read.schedule == [{"every": "quarter", "quarters": [1, 2, 3], "before_day": 25},
                             {"every": "year", "before_month": 12, "before_day": 25}]
    assert parse_timeframe("Định kỳ hàng quý").schedule == [{"every": "quarter", "quarters": [1, 2, 3, 4]}]


@pytest.mark.parametrize("seed", [ben_tre, ha_tinh])
def test_a_docx_of_the_plan_reads_the_same(seed):
    parsed = seed()
    from_docx = parse_docx(build_docx(parsed))
    assert rows_of(from_docx) == rows_of(parsed)
    assert {k: from_docx[k] for k in ("code", "title", "issuer", "issued_on", "year")} == {
        k: parsed[k] for k in ("code", "title", "issuer", "issued_on", "year")}


def _table(parsed: dict) -> list[list[str]]:
    rows = [["TT", "Nội dung công việc", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian thực hiện",
             "Dự kiến sản phẩm"]]
    for t in parsed["tasks"]:
        if t["part"] > 1:
            rows.append(["", "", t["lead"], t["cooperating"], t["timeframe"], t["product"]])
        elif t["heading"]:
            rows.append([t["number"], t["heading"], t["content"], t["lead"], t["cooperating"], t["timeframe"],
                         t["product"]])
        else:
            rows.append([t["number"], t["content"], t["lead"], t["cooperating"], t["timeframe"], t["product"]])
    return rows


def test_csv_and_xlsx_read_the_same_rows():
    from openpyxl import Workbook

    parsed = ben_tre()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Số: 62/9/KH-UBND"])
    writer.writerows(_table(parsed))
    from_csv = parse_csv(buffer.getvalue().encode("utf-8"))
    assert rows_of(from_csv) == rows_of(parsed) and from_csv["code"] == "62/9/KH-UBND"

    wb = Workbook()
    for row in [["Kế hoạch số: 62/9 /KH-UBND"]] + _table(parsed):
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    fmt, from_xlsx = parse_upload("ke-hoach.xlsx", out.getvalue())
    assert fmt == "xlsx" and rows_of(from_xlsx) == rows_of(parsed) and from_xlsx["code"] == "62/9/KH-UBND"
    assert parse_xlsx(out.getvalue())["tasks"][0]["number"] == "1"


def test_rows_with_problems_are_listed_and_only_good_rows_import(app, world):
    data = ("TT;Nội dung công việc;Đơn vị chủ trì;Đơn vị phối hợp;Thời gian thực hiện;Dự kiến sản phẩm\n"
            "1;Tiếp nhận PAKN;Văn phòng UBND tỉnh;;Thường xuyên;Sổ tiếp nhận\n"
            "1;Trùng số;Văn phòng UBND tỉnh;;Quý I/2026;\n"
            "2;;Sở Xây dựng;;Quý II/2026;\n"
            "3;Việc không có đơn vị chủ trì;;;Khi có yêu cầu;Báo cáo\n").encode()
    parsed = parse_csv(data)
    problems = {(t["number"], p["level"], p["message"].split(";")[0]) for t in parsed["tasks"] for p in t["problems"]}
    assert ("1", "error", "Số thứ tự %(number)s trùng với một dòng ở trên") in problems
    assert ("2", "error", "Thiếu nội dung công việc") in problems
    assert ("3", "warning", "Thiếu đơn vị chủ trì.") in problems
    assert ("3", "warning", 'Không đọc được thời gian thực hiện "%(text)s"') in problems
    with app.app_context(), transaction():
        result = apply_import(parsed, overrides={"code": "12/KH-UBND", "title": "Kế hoạch thử"})
        numbers = sorted(t.number for t in result.plan.tasks)
        assert numbers == ["1", "3"]
        assert task(result.plan, "3").timeframe_kind == "unparsed"
        assert task(result.plan, "3").timeframe == "Khi có yêu cầu"


# -- importing into the database --------------------------------------------------------
def test_import_links_units_to_agencies_and_lists_the_rest(app, departments):
    with app.app_context(), transaction():
        plan = apply_import(ben_tre()).plan
        office = db.session.get(Agency, departments.office)
        assert len(plan.tasks) == 39 and plan.year == 2019
        t62 = task(plan, "6.2")
        assert [(u.text, u.agency_id) for u in t62.units_of("lead")] == [("Văn phòng UBND tỉnh", office.id)]
        t12 = task(plan, "1.2")
        assert [u.agency.name if u.agency else u.text for u in t12.units_of("lead")] == ["Sở Nội vụ"]
        assert [u.text for u in t12.units_of("cooperating")] == ["Văn phòng UBND tỉnh", "đơn vị có liên quan"]
        # "Văn phòng UBND tỉnh." (with a full stop) and a parenthesised note still match.
        assert task(plan, "5.2").units_of("lead")[0].agency_id == office.id
        assert task(plan, "9.1").units_of("lead")[0].agency_id == office.id
        assert task(plan, "4.1").units_of("cooperating")[0].agency.name == "Sở Tư pháp"
        pending = {text for _f, text, _n in unlinked_units()}
        assert "Sở, ban, ngành" in pending and "Văn phòng UBND tỉnh" not in pending
        t11 = task(plan, "11")
        assert t11.timeframe_kind == "recurring" and t11.schedule[0]["before_day"] == 25
        assert (task(plan, "1.2").period_start, task(plan, "1.2").period_end) == (date(2019, 1, 1), date(2019, 3, 31))
        assert task(plan, "7.3").due_before == date(2019, 8, 30)
        assert task(plan, "6.1").parent.number == "6"


def test_reimport_updates_the_same_plan(app, departments):
    with app.app_context():
        with transaction():
            first = apply_import(ben_tre())
            plan_id = first.plan.id
            bind(first.plan, {"receive_classify": task(first.plan, "6.2").id})
            ids = {t.number: t.id for t in first.plan.tasks}
        with transaction():
            again = apply_import(ben_tre())
        assert (again.created, again.updated, again.removed) == (0, 39, 0)
        assert db.session.scalar(select(func.count()).select_from(Plan)) == 1
        plan = db.session.get(Plan, plan_id)
        assert {t.number: t.id for t in plan.tasks} == ids
        assert task(plan, "6.2").binding == "receive_classify"
        assert db.session.scalar(select(func.count()).select_from(PlanTaskUnit)) == sum(len(t.units) for t in plan.tasks)

        changed = ben_tre()
        changed["tasks"] = [t for t in changed["tasks"] if t["number"] != "10"]
        for t in changed["tasks"]:
            if t["number"] == "6.3":
                t["product"] = "Văn bản trả lời PAKN (bản sửa)"
        with transaction():
            third = apply_import(changed)
        assert (third.created, third.removed) == (0, 1)
        plan = db.session.get(Plan, plan_id)
        assert task(plan, "10") is None and task(plan, "6.3").expected_product == "Văn bản trả lời PAKN (bản sửa)"


def test_ha_tinh_imports_with_its_second_appendix(app, world):
    with app.app_context(), transaction():
        plan = apply_import(ha_tinh()).plan
        assert len(plan.tasks) == 37
        assert [t.label for t in plan.tasks if t.appendix == 2][:2] == ["PL2 · 1", "PL2 · 2"]
        assert task(plan, "I.2", part=2).label == "I.2 (2)"
        assert task(plan, "V.1").timeframe_kind == "period"
        assert task(plan, "5", appendix=2).parent is None
        vi3 = task(plan, "VI.3")
        assert [u.text for u in vi3.units_of("lead")] == [
            "Sở Thông tin và Truyền thông, Sở Nội Vụ", "UBND cấp huyện", "Các cơ quan báo chí"]


# -- the import pages ------------------------------------------------------------------
def _upload(client, name: str, data: bytes):
    page = client.get("/plans/import")
    return client.post("/plans/import", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                              "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _confirm(client, location: str, **fields):
    page = client.get(location).get_data(as_text=True)
    import re
    values = dict(re.findall(r'<input[^>]*name="(code|title|issuer|issued_on|year)"[^>]*value="([^"]*)"', page))
    values.update(fields)
    return client.post(location, data={"csrf_token": csrf_token(page), **values})


def test_admin_previews_then_confirms_and_reimport_does_not_duplicate(app, client, login, world):
    login("admin")
    docx_bytes = build_docx(ha_tinh())
    response = _upload(client, "KH-09-Ha-Tinh.docx", docx_bytes)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Phụ lục 1" in page and "Phụ lục 2" in page
    assert "Tổ chức việc tiếp nhận và xử lý phản ánh" in page
    assert "Xác nhận nhập kế hoạch" in page
    done = _confirm(client, response.headers["Location"])
    assert done.status_code == 302
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "09/KH-UBND" in shown and "Niêm yết địa chỉ tiếp nhận" in shown

    again = _upload(client, "ha-tinh.txt", HA_TINH.read_bytes())
    preview = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "đã có: xác nhận sẽ cập nhật kế hoạch này" in preview
    assert _confirm(client, again.headers["Location"]).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Plan)) == 1
        assert db.session.scalar(select(func.count()).select_from(PlanTask)) == 37
        assert db.session.scalar(select(func.count()).select_from(PlanImport).where(PlanImport.applied_at.isnot(None))) == 2


def test_upload_without_a_plan_number_asks_for_it(app, client, login, world):
    login("admin")
    data = "TT,Nội dung công việc,Đơn vị chủ trì\n1,Tiếp nhận PAKN,Văn phòng UBND tỉnh\n".encode()
    response = _upload(client, "khong-so.csv", data)
    location = response.headers["Location"]
    refused = _confirm(client, location)
    assert refused.status_code == 422
    assert "Cần số, ký hiệu của kế hoạch" in refused.get_data(as_text=True)
    assert _confirm(client, location, code="77/KH-UBND", title="Kế hoạch thử").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Plan.code)) == "77/KH-UBND"


def test_bad_files_are_refused_with_a_message(client, login, world):
    login("admin")
    refused = _upload(client, "ke-hoach.pdf", b"%PDF-1.4 not a plan")
    assert refused.status_code == 422
    assert "Chỉ nhận tệp DOCX, XLSX, CSV" in refused.get_data(as_text=True)
    broken = _upload(client, "ke-hoach.docx", b"PK\x03\x04garbage")
    assert broken.status_code == 422


@pytest.mark.parametrize("who, status", [("clerk", 200), ("lead", 200), ("admin", 200), ("officer_a", 404),
                                         ("lead_b", 404)])
def test_plan_pages_are_for_office_staff(app, client, login, world, who, status):
    with app.app_context(), transaction():
        plan_id = apply_import(ben_tre()).plan.id
    login(who)
    assert client.get("/plans/").status_code == status
    assert client.get(f"/plans/{plan_id}").status_code == status
    manage = client.get("/plans/import").status_code
    assert manage == {"admin": 200, "clerk": 403, "lead": 403}.get(who, 404)
    assert client.get(f"/plans/{plan_id}/bindings").status_code == {"admin": 200, "clerk": 403,
                                                                     "lead": 403}.get(who, 404)


def test_anonymous_is_sent_to_login(client, world):
    assert client.get("/plans/").status_code in (302, 401)
    assert client.get("/reports/").status_code in (302, 401)


def test_admin_links_a_unit_through_an_alias(app, client, login, world):
    with app.app_context(), transaction():
        apply_import(ha_tinh())
    login("admin")
    page = client.get("/plans/units").get_data(as_text=True)
    assert HT_OFFICE in page
    from pakn.text import fold
    response = client.post("/plans/units", data={"csrf_token": csrf_token(page), "folded": fold(HT_OFFICE),
                                                  "name": HT_OFFICE, "agency": str(world.office)})
    assert response.status_code == 302
    with app.app_context():
        units = db.session.scalars(select(PlanTaskUnit).where(PlanTaskUnit.text == HT_OFFICE)).all()
        assert units and all(u.agency_id == world.office for u in units)
        # A later import of another plan uses the alias too (matching ignores case and diacritics).
        parsed = ha_tinh()
        parsed["code"] = "10/KH-UBND"
        for t in parsed["tasks"]:
            if t["lead"] == HT_OFFICE:
                t["lead"] = "VĂN PHONG DOAN DBQH, HDND VA UBND TINH"
        with transaction():
            plan = apply_import(parsed).plan
        assert task(plan, "V.2").units_of("lead")[0].agency_id == world.office
    listed = client.get("/plans/units").get_data(as_text=True).split("<h1>")[1].split("Tên gọi khác đã ghi nhận")
    assert f'value="{HT_OFFICE}"' not in listed[0] and HT_OFFICE in listed[1]


# -- bindings and the dashboard ----------------------------------------------------------
def test_bindings_are_suggested_and_new_visits_record_the_task_of_the_plan_in_force(app, world, make_case):
    with app.app_context(), transaction():
        bt = apply_import(ben_tre()).plan
        ht = apply_import(ha_tinh()).plan
        assert {k: t.number for k, t in suggest_bindings(bt).items()} == {
            "receive_classify": "6.2", "handle": "6.3", "notify_publish": "6.4", "report": "11",
            "report_consolidated": "11.2"}
        assert {k: t.number for k, t in suggest_bindings(ht).items()} == {"receive_classify": "V.2"}
        for plan in (bt, ht):
            bind(plan, {k: t.id for k, t in suggest_bindings(plan).items()})
        put_in_force(bt)
        assert document_name("handle") == "Văn bản trả lời PAKN"
        assert document_name("classify") == "Văn bản chuyển xử lý PAKN"
    code, _ = make_case("answered")
    with app.app_context():
        visits = db.session.scalars(select(StageVisit).order_by(StageVisit.id)).all()
        assert [(v.stage, v.plan_task.number) for v in visits] == [("classify", "6.2"), ("handle", "6.3"),
                                                                  ("check", "6.4")]
        with transaction():
            put_in_force(db.session.scalar(select(Plan).where(Plan.code == "09/KH-UBND")))
    make_case("received")
    with app.app_context():
        latest = db.session.scalars(select(StageVisit).order_by(StageVisit.id.desc())).first()
        assert latest.plan_task.number == "V.2"


def test_admin_binds_through_the_form(app, client, login, world):
    with app.app_context(), transaction():
        plan = apply_import(ben_tre()).plan
        plan_id, t64, t62 = plan.id, task(plan, "6.4").id, task(plan, "6.2").id
    login("admin")
    page = client.get(f"/plans/{plan_id}/bindings").get_data(as_text=True)
    assert f'<option value="{t62}" selected>' in page  # the suggestion is preselected
    response = client.post(f"/plans/{plan_id}/bindings", data={
        "csrf_token": csrf_token(page), "in_force": "1", "binding_receive_classify": str(t64),
        "binding_handle": "", "binding_notify_publish": "", "binding_report": "", "binding_report_consolidated": ""})
    assert response.status_code == 302
    with app.app_context():
        plan = db.session.get(Plan, plan_id)
        assert plan.in_force and {t.number: t.binding for t in plan.tasks if t.binding} == {"6.4": "receive_classify"}
    bad = client.post(f"/plans/{plan_id}/bindings", data={"csrf_token": csrf_token(page), "in_force": "1",
                                                          "binding_handle": "999999"})
    assert bad.status_code == 422


def test_dashboard_shows_cases_on_time_rate_overdue_and_report_due_dates(app, client, login, world, make_case):
    with app.app_context(), transaction():
        plan = apply_import(ben_tre()).plan
        bind(plan, {k: t.id for k, t in suggest_bindings(plan).items()})
        put_in_force(plan)
        plan_id, t62 = plan.id, task(plan, "6.2").id
    for state in ("forwarded", "forwarded", "received"):
        make_case(state)
    with app.app_context(), transaction():
        # One classification visit finished late, one still open and overdue.
        visits = db.session.scalars(select(StageVisit).where(StageVisit.stage == "classify")
                                    .order_by(StageVisit.id)).all()
        visits[0].due_at = visits[0].finished_at - timedelta(hours=1)
        visits[2].due_at = datetime.now(timezone.utc) - timedelta(days=1)
        year = datetime.now(timezone.utc).year
        office = db.session.get(Agency, world.office)
        db.session.add(ReportFiling(agency_id=office.id, year=year - 1, period="Q1", figures={},
                                    filed_at=datetime(year - 1, 3, 1, tzinfo=timezone.utc)))
    login("clerk")
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    row = page.split(f'id="task-{t62}"')[1].split("</tr>")[0]
    cells = [c.split(">", 1)[1].split("<")[0].strip() for c in row.split('<td class="num"')[1:]]
    assert cells == ["2", "50%", "1"]  # handled in the year, on-time rate, overdue now
    assert "Văn bản chuyển xử lý PAKN" in page
    report_row = page.split("Báo cáo định kỳ quý I, II, III và năm về tình hình, kết quả thực hiện nhiệm vụ kiểm "
                            "soát TTHC năm 2019")[1].split("</tr>")[0]
    assert re.search(r"Hạn tới: trước \d\d/\d\d/\d{4} \((Quý [IV]+ năm|Năm) \d{4}\)", report_row)
    with app.app_context():
        from pakn.plans.dashboard import task_dues
        t112 = db.session.scalar(select(PlanTask).where(PlanTask.number == "11.2"))
        dues = task_dues(t112, date(year, 1, 10))
        q1_last_year = next(d for d in dues if d.label == f"Quý I năm {year - 1}")
        assert (q1_last_year.before, q1_last_year.met, q1_last_year.detail) == (date(year - 1, 3, 30), True, "1/1")
        q2_last_year = next(d for d in dues if d.label == f"Quý II năm {year - 1}")
        assert q2_last_year.met is False
        assert next(d for d in dues if d.label == f"Quý I năm {year}").met is None
        t73 = db.session.scalar(select(PlanTask).where(PlanTask.number == "7.3"))
        assert [(d.before, d.met) for d in task_dues(t73, date(2026, 1, 1))] == [(date(2019, 8, 30), False)]


def test_admin_records_a_task_done(app, client, login, world):
    with app.app_context(), transaction():
        plan = apply_import(ben_tre()).plan
        plan_id, t73 = plan.id, task(plan, "7.3").id
    login("admin")
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    response = client.post(f"/plans/{plan_id}/tasks/{t73}/done",
                           data={"csrf_token": csrf_token(page), "done_on": "2019-08-20"})
    assert response.status_code == 302
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    row = page.split(f'id="task-{t73}"')[1].split("</tr>")[0]
    assert "đã hoàn thành đúng hạn" in row and "20/08/2019" in row


def test_api_names_the_stage_document_after_the_bound_task(app, client, world, make_case, api_token):
    with app.app_context(), transaction():
        plan = apply_import(ben_tre()).plan
        bind(plan, {k: t.id for k, t in suggest_bindings(plan).items()})
        put_in_force(plan)
    code, _ = make_case("forwarded")
    body = client.get(f"/api/v1/cases/{code}", headers=api_token("clerk")).get_json()
    visits = body.get("stage_visits") or body.get("visits") or []
    assert [(v["plan_task_number"], v["plan_task_document"]) for v in visits] == [
        ("6.2", "Văn bản chuyển xử lý PAKN"), ("6.3", "Văn bản trả lời PAKN")]


def test_a_zip_bomb_is_refused_before_extraction():
    import zipfile

    from pakn.plans.parse import UnsupportedFile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"0" * (65 * 1024 * 1024))
    with pytest.raises(UnsupportedFile) as refused:
        parse_upload("bom.docx", buffer.getvalue())
    assert "quá lớn" in str(refused.value)
