"""Calendar and clock administration pages, due-date explanations and SLA figures, as users see them."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from pakn.deadlines.sla import sla_rows, sla_totals
from pakn.extensions import db
from pakn.models import AuditEvent, CalendarOverlay, ClockSetting, Feedback
from pakn.operations import apply_transition, open_visit, transaction
from workflows.calendar import TZ

from .conftest import csrf_token

UTC = timezone.utc


def local(y, m, d, hh=10) -> datetime:
    return datetime(y, m, d, hh, tzinfo=TZ)


def case_by_code(code: str) -> Feedback:
    return db.session.scalar(select(Feedback).where(Feedback.code == code))


@pytest.mark.parametrize("path", ["/admin/calendar", "/admin/clock", "/admin/calendar/import"])
def test_admin_pages_are_404_for_other_staff_and_need_login(client, login, path):
    assert client.get(path).status_code == 302  # to the login page
    login("lead")
    assert client.get(path).status_code == 404


def test_explain_and_sla_are_open_to_the_office_but_not_agencies(client, login):
    login("officer_a")
    assert client.get("/admin/calendar/explain").status_code == 404
    assert client.get("/admin/sla").status_code == 404


def test_year_view_shows_every_non_working_day_with_its_reason(client, login):
    login("admin")
    page = client.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert "Lịch làm việc năm 2026" in page
    assert "17/02/2026" in page and "Tết Nguyên Đán" in page
    assert "22/08/2026" in page  # the make-up Saturday, worked
    assert "Nghỉ lễ, Tết theo luật" in page and "Cuối tuần" in page


def test_adding_and_removing_an_overlay_day_moves_open_due_dates_and_is_audited(app, client, login, make_case):
    with time_machine.travel(local(2026, 3, 2), tick=False):
        code, _ = make_case("received")  # due Mon 9/3
    login("admin")
    page = client.get("/admin/calendar?year=2026").get_data(as_text=True)
    response = client.post("/admin/calendar/overlay", data={
        "csrf_token": csrf_token(page), "day": "2026-03-04", "kind": "day_off",
        "note": "Quyết định 12/QĐ-UBND nghỉ bổ sung"}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "Đã thêm ngày 04/03/2026" in text and "1 PAKN" in text
    assert "Quyết định 12/QĐ-UBND nghỉ bổ sung" in text
    with app.app_context():
        assert open_visit(case_by_code(code)).due_date == date(2026, 3, 10)
        entry_id = db.session.scalar(select(CalendarOverlay.id))
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "calendar.overlay_added", AuditEvent.feedback_id.is_(None))) == 1
    response = client.post(f"/admin/calendar/overlay/{entry_id}/delete",
                           data={"csrf_token": csrf_token(text)}, follow_redirects=True)
    assert "Đã xoá ngày 04/03/2026" in response.get_data(as_text=True)
    with app.app_context():
        assert open_visit(case_by_code(code)).due_date == date(2026, 3, 9)
        reasons = [e.data["reason"] for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "due_date_recomputed").order_by(AuditEvent.id))]
        assert reasons == ["Lịch bổ sung: thêm 04/03/2026 (Quyết định 12/QĐ-UBND nghỉ bổ sung)",
                           "Lịch bổ sung: xoá 04/03/2026 (Quyết định 12/QĐ-UBND nghỉ bổ sung)"]


def test_overlay_without_legal_basis_is_refused(app, client, login):
    login("admin")
    page = client.get("/admin/calendar").get_data(as_text=True)
    response = client.post("/admin/calendar/overlay", data={
        "csrf_token": csrf_token(page), "day": "2026-03-04", "kind": "day_off", "note": "  "},
        follow_redirects=True)
    assert "Vui lòng ghi căn cứ pháp lý" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CalendarOverlay)) == 0


def _upload(client, content: str, year: int = 2027):
    page = client.get("/admin/calendar/import").get_data(as_text=True)
    return client.post("/admin/calendar/import", data={
        "csrf_token": csrf_token(page), "year": str(year),
        "file": (io.BytesIO(content.encode("utf-8")), "lich-2027.csv")}, content_type="multipart/form-data")


def test_csv_import_reports_every_bad_row_and_writes_nothing(app, client, login):
    login("admin")
    response = _upload(client, "ngày,loại,căn cứ\n31/02/2027,nghỉ,TB 1\n05/05/2026,nghỉ,TB 1\n"
                               "06/05/2027,đi chơi,TB 1\n07/05/2027,làm bù,\n")
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Ngày không hợp lệ" in text and "Ngày không thuộc năm đang nhập" in text
    assert "Loại phải là «nghỉ» hoặc «làm bù»" in text and "Thiếu căn cứ pháp lý" in text
    assert "Xác nhận nhập" not in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CalendarOverlay)) == 0


def test_csv_import_preview_then_confirm_replaces_the_years_overlay(app, client, login, world):
    with app.app_context(), transaction():
        db.session.add(CalendarOverlay(day=date(2027, 12, 31), kind="day_off", note="Cũ"))
    login("admin")
    response = _upload(client, "ngày;loại;căn cứ\n08/05/2027;làm bù;Thông báo 100/TB-BNV\n"
                               "10/05/2027;nghỉ;Thông báo 100/TB-BNV\n")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Sẽ thêm 2, sửa 0, xoá 1 mục." in text and "31/12/2027" in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CalendarOverlay)) == 1  # preview writes nothing
    import re
    content = re.search(r'id="content" name="content" type="hidden" value="([^"]*)"', text)
    assert content, text
    from html import unescape
    response = client.post("/admin/calendar/import/confirm", data={
        "csrf_token": csrf_token(text), "year": "2027", "content": unescape(content.group(1))},
        follow_redirects=True)
    assert "Đã nhập lịch bổ sung năm 2027: thêm 2, sửa 0, xoá 1" in response.get_data(as_text=True)
    with app.app_context():
        days = db.session.execute(select(CalendarOverlay.day, CalendarOverlay.kind).order_by(CalendarOverlay.day)).all()
        assert days == [(date(2027, 5, 8), "working_day"), (date(2027, 5, 10), "day_off")]
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "calendar.overlay_imported")) == 1


def test_clock_settings_form_saves_a_new_version_and_validates(app, client, login):
    login("admin")
    page = client.get("/admin/clock").get_data(as_text=True)
    assert 'name="forward_days"' in page and 'value="5"' in page and 'value="20"' in page
    data = {"csrf_token": csrf_token(page), "forward_days": "3", "answer_days": "15", "answer_day_unit": "working",
            "progress_update_days": "7", "result_entry_days": "2", "check_days": "2", "publish_days": "2",
            "reminder_days": "2", "needs_info_pauses": "y", "note": "Quyết định 99/QĐ-UBND rút ngắn thời hạn"}
    bad = client.post("/admin/clock", data={**data, "forward_days": "0"})
    assert bad.status_code == 422 and "Nhập số ngày từ 1 đến 60" in bad.get_data(as_text=True)
    response = client.post("/admin/clock", data=data, follow_redirects=True)
    assert "Đã lưu phiên bản 1" in response.get_data(as_text=True)
    with app.app_context():
        row = db.session.scalar(select(ClockSetting))
        assert (row.forward_days, row.answer_day_unit, row.needs_info_pauses) == (3, "working", True)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "clock.settings_saved")) == 1


def test_explain_page_for_a_case_lists_the_skipped_tet_days(client, login, make_case):
    with time_machine.travel(local(2026, 2, 13), tick=False):
        code, _ = make_case("received")
    login("clerk")
    page = client.get(f"/admin/calendar/explain?case={code}").get_data(as_text=True)
    assert code in page and "5 ngày làm việc" in page and "2026-02-27" in page
    assert "Mùng hai Tết Nguyên Đán" in page
    whatif = client.get("/admin/calendar/explain?start=2026-08-20&days=5&unit=working").get_data(as_text=True)
    assert "2026-08-26" in whatif and "2026-08-22" in whatif
    assert client.get("/admin/calendar/explain?start=hôm-qua&days=5").status_code == 422
    assert client.get("/admin/calendar/explain?case=PAKN-1999-000001").status_code == 404
    for visit in ("0", "abc", str(2**31), str(10**30)):  # no such stage visit
        assert client.get(f"/admin/calendar/explain?visit={visit}").status_code == 404, visit


def test_sla_figures_by_agency_field_and_stage(app, client, login, make_case, world):
    with time_machine.travel(local(2026, 3, 2), tick=False):
        late_code, _ = make_case("forwarded")  # classify visit due 9/3, finished on 2/3 (on time)
        open_code, _ = make_case("in_progress")
    with time_machine.travel(local(2026, 3, 10), tick=False), app.app_context(), transaction():
        case = case_by_code(late_code)
        apply_transition(case, "accept", world.user("officer_a"), {})
    with app.app_context():
        now = local(2026, 3, 25).astimezone(UTC)  # the answer clocks (due 23/3) are overdue
        rows = sla_rows(date(2026, 3, 1), date(2026, 3, 31), now=now)
        by_stage = {(r.agency_name, r.stage): r for r in rows}
        classify = by_stage[("Văn phòng UBND tỉnh", "classify")]
        assert (classify.total, classify.finished_on_time, classify.finished_late) == (2, 2, 0)
        handle = by_stage[("Sở Xây dựng", "handle")]
        assert (handle.total, handle.open_overdue, handle.open_on_time) == (2, 2, 0)
        assert sla_totals(rows).total == 4
        early = sla_rows(date(2026, 3, 1), date(2026, 3, 31), by=("agency",), now=local(2026, 3, 12).astimezone(UTC))
        assert {r.agency_name: r.open_on_time for r in early}["Sở Xây dựng"] == 2
        with pytest.raises(ValueError):
            sla_rows(date(2026, 3, 1), date(2026, 3, 31), by=("province",))
    login("lead")
    page = client.get("/admin/sla?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert "Sở Xây dựng" in page and "Xử lý, trả lời" in page and "Tổng cộng" in page


def test_calendar_page_in_english(client, login):
    login("admin")
    page = client.get("/admin/calendar?year=2026&lang=en").get_data(as_text=True)
    assert "Working calendar 2026" in page and "Statutory holiday" in page
