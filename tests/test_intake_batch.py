"""Batches forwarded by the Government Office (VPCP): CSV and JSON, row by row, idempotent by
external id, both received dates kept, deadlines from the provincial date; page and CLI."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

from sqlalchemy import func, select

from pakn.extensions import db
from pakn.intake_batch import import_batch
from pakn.models import AuditEvent, Feedback, StageVisit
from pakn.models.types import utcnow
from pakn.operations import SystemActor, receive_feedback, transaction
from workflows.calendar import TZ

from .conftest import csrf_token

CONTENT = ("Thủ tục cấp đổi giấy phép lái xe yêu cầu giấy khám sức khỏe bản gốc dù đã được liên thông "
           "điện tử, người dân phải đi lại nhiều lần.")


def _day(days_ago: int) -> datetime:
    local = (utcnow() - timedelta(days=days_ago)).astimezone(TZ)
    return datetime(local.year, local.month, local.day, tzinfo=TZ)


def _item(external_id: str, **overrides) -> dict:
    item = {
        "external_id": external_id,
        "original_received_at": _day(12).strftime("%d/%m/%Y"),
        "received_at": _day(5).strftime("%Y-%m-%d"),
        "kind": "Phản ánh", "title": "Giấy khám sức khỏe khi đổi giấy phép lái xe",
        "content": CONTENT, "proposal": "", "field": "xay_dung",
        "submitter_name": "Phạm Thị Lan", "submitter_address": "Ấp 3, xã Long Phước, tỉnh Vĩnh Long",
        "submitter_phone": "0909123456", "submitter_email": "",
        "attachment_urls": "https://vpcp.example.gov.vn/tep/1.pdf; https://vpcp.example.gov.vn/tep/2.pdf",
    }
    item.update(overrides)
    return item


def _csv(items: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(items[0]))
    writer.writeheader()
    writer.writerows(items)
    return out.getvalue()


BAD_ROWS = [
    _item("VPCP-BAD-1", received_at="31/02/2026"),
    _item("VPCP-BAD-2", title="", kind="khiếu nại"),
    _item("VPCP-BAD-3", original_received_at=_day(1).strftime("%d/%m/%Y")),
    _item("VPCP-BAD-4", field="khong_co", submitter_phone=""),
    _item("VPCP-GOOD-1"),  # repeated below in the same file
    _item("VPCP-BAD-5", received_at=(utcnow() + timedelta(days=3)).astimezone(TZ).strftime("%d/%m/%Y")),
]


def _count() -> int:
    return db.session.scalar(select(func.count(Feedback.id)))


def test_csv_import_twice_creates_each_case_once(app, world):
    content = _csv([_item("VPCP-2026-000101"), _item("VPCP-2026-000102", kind="kien_nghi",
                                                      proposal="Chấp nhận giấy khám sức khỏe điện tử.")])
    with app.app_context():
        first = import_batch(content, "csv", SystemActor(), source="lo-1.csv")
        assert [r.status for r in first.rows] == ["created", "created"]
        second = import_batch(content, "csv", SystemActor(), source="lo-1.csv")
        assert [r.status for r in second.rows] == ["already", "already"]
        assert [r.code for r in second.rows] == [r.code for r in first.rows]
        assert _count() == 2
        case = db.session.scalar(select(Feedback).where(Feedback.external_ref == "VPCP-2026-000101"))
        assert case.channel == "vpcp" and case.kind == "phan_anh" and case.field.code == "xay_dung"
        assert case.submitter_email is None and case.submitter_phone == "0909123456"
        assert case.reference_urls == ["https://vpcp.example.gov.vn/tep/1.pdf", "https://vpcp.example.gov.vn/tep/2.pdf"]
        runs = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "intake.batch_imported")
                                  .order_by(AuditEvent.id)).all()
        assert [len(r.data["created"]) for r in runs] == [2, 0]
        assert [len(r.data["already"]) for r in runs] == [0, 2]
        assert runs[0].data["source"] == "lo-1.csv" and runs[0].actor_label == "Hệ thống"


def test_dates_kept_and_deadlines_from_the_provincial_date(app, world):
    with app.app_context():
        (row,) = import_batch(_csv([_item("VPCP-2026-000200")]), "csv", SystemActor()).rows
        case = db.session.scalar(select(Feedback).where(Feedback.code == row.code))
        assert case.original_received_at == _day(12)
        assert case.received_at == _day(5)
        visit = db.session.scalar(select(StageVisit).where(StageVisit.feedback_id == case.id))
        assert visit.entered_at == _day(5)
        # The same item received directly on each date: the batch's clocks are the provincial one's.
        with transaction():
            twins = {}
            for days in (5, 12):
                twin, _ = receive_feedback({
                    "channel": "post", "received_at": _day(days).isoformat(), "kind": "phan_anh",
                    "title": case.title, "content": CONTENT, "submitter_name": "Phạm Thị Lan",
                    "submitter_address": case.submitter_address, "submitter_phone": "0909123456"},
                    SystemActor(), trigger="receive_on_behalf")
                twins[days] = twin
        assert case.answer_due_at == twins[5].answer_due_at != twins[12].answer_due_at
        twin_visit = db.session.scalar(select(StageVisit).where(StageVisit.feedback_id == twins[5].id))
        assert visit.due_at == twin_visit.due_at


def test_json_import_with_items_object_and_list(app, world):
    items = [_item("VPCP-J-1", attachment_urls=["https://vpcp.example.gov.vn/tep/9.pdf"]),
             _item("VPCP-J-2", received_at=_day(3).isoformat())]
    with app.app_context():
        report = import_batch(json.dumps({"items": items}, ensure_ascii=False), "json", SystemActor())
        assert [r.status for r in report.rows] == ["created", "created"]
        again = import_batch(json.dumps(items, ensure_ascii=False), "json", SystemActor())
        assert [r.status for r in again.rows] == ["already", "already"]
        case = db.session.scalar(select(Feedback).where(Feedback.external_ref == "VPCP-J-1"))
        assert case.reference_urls == ["https://vpcp.example.gov.vn/tep/9.pdf"]
        wrong = import_batch(json.dumps([{**_item("VPCP-J-3"), "submitter_phone": 909123456, "extra": "x"}]),
                             "json", SystemActor())
        texts = [p.text() for p in wrong.rows[0].problems]
        assert "Phải là một chuỗi ký tự." in texts and "Trường không có trong định dạng." in texts
        assert import_batch("{không phải json", "json", SystemActor()).errors[0].text() == "Tệp JSON không đọc được."
        assert _count() == 2


def test_bad_rows_are_reported_in_vietnamese_and_the_others_imported(app, world):
    content = _csv(BAD_ROWS + [_item("VPCP-GOOD-1", title="Mục trùng mã trong cùng tệp")])
    with app.app_context():
        report = import_batch(content, "csv", SystemActor())
        by_id = {}
        for r in report.rows:
            by_id.setdefault(r.external_id, []).append(r)
        problems = {k: [(p.column, p.text()) for p in v[-1].problems] for k, v in by_id.items()}
        assert ("received_at", "Ngày không hợp lệ (dd/mm/yyyy hoặc yyyy-mm-dd).") in problems["VPCP-BAD-1"]
        assert ("title", "Trường này là bắt buộc.") in problems["VPCP-BAD-2"]
        assert any(c == "kind" and "Giá trị không hợp lệ" in t for c, t in problems["VPCP-BAD-2"])
        assert ("original_received_at", "Ngày tiếp nhận gốc (tại VPCP) phải trước ngày tỉnh tiếp nhận.") \
            in problems["VPCP-BAD-3"]
        assert ("field", "Lĩnh vực không tồn tại.") in problems["VPCP-BAD-4"]
        assert ("submitter_phone", "Cần ít nhất một trong hai: số điện thoại hoặc thư điện tử.") \
            in problems["VPCP-BAD-4"]
        assert ("received_at", "Ngày tiếp nhận không được ở tương lai.") in problems["VPCP-BAD-5"]
        good, duplicate = by_id["VPCP-GOOD-1"]
        assert good.status == "created" and duplicate.status == "error"
        assert duplicate.problems[0].text() == f"Trùng mã hồ sơ với dòng {good.line}."
        assert [r.status for r in report.rows].count("error") == 6
        assert _count() == 1
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "intake.batch_imported"))
        assert len(event.data["errors"]) == 6 and event.data["created"][0]["external_id"] == "VPCP-GOOD-1"


def test_file_level_errors(app, world):
    with app.app_context():
        unknown = import_batch("external_id,ngay\nA,1\n", "csv", SystemActor())
        texts = [p.text() for p in unknown.errors]
        assert "Cột không có trong định dạng: ngay." in texts
        assert any(t.startswith("Thiếu cột bắt buộc: original_received_at") for t in texts)
        assert import_batch("", "csv", SystemActor()).errors[0].text() == "Tệp trống."
        assert _count() == 0
        assert db.session.scalar(select(func.count(AuditEvent.id))) == 0  # nothing was run


def _upload(client, content: str, name: str):
    page = client.get("/office/import")
    return client.post("/office/import", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "file": (io.BytesIO(content.encode()), name)}, content_type="multipart/form-data")


def test_office_page_previews_then_imports(app, client, login, world):
    login("clerk")
    page = client.get("/office/import")
    assert page.status_code == 200 and "Nhập lô PAKN từ Văn phòng Chính phủ" in page.get_data(as_text=True)
    content = _csv([_item("VPCP-P-1"), _item("VPCP-P-2", received_at="31/02/2026")])
    preview = _upload(client, content, "lo.csv")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "VPCP-P-1" in html and "Sẽ tạo" in html
    assert "Ngày tỉnh tiếp nhận (received_at): Ngày không hợp lệ (dd/mm/yyyy hoặc yyyy-mm-dd)." in html
    assert "Xác nhận nhập 1 mục" in html
    with app.app_context():
        assert _count() == 0  # the preview writes nothing

    done = client.post("/office/import/confirm", data={
        "csrf_token": csrf_token(html), "content": content, "filename": "lo.csv", "format": "csv"})
    result = done.get_data(as_text=True)
    assert done.status_code == 200 and "Đã tạo 1, đã nhập trước đó 0, lỗi 1." in result
    with app.app_context():
        code = db.session.scalar(select(Feedback.code).where(Feedback.external_ref == "VPCP-P-1"))
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "intake.batch_imported"))
        assert event.actor_id == world.users["clerk"] and event.data["source"] == "lo.csv"
    assert code in result

    again = _upload(client, content, "lo.csv").get_data(as_text=True)
    assert "Đã nhập trước đó" in again and code in again and "Xác nhận nhập" not in again
    case_page = client.get(f"/office/cases/{code}").get_data(as_text=True)
    assert "https://vpcp.example.gov.vn/tep/1.pdf" in case_page and "VPCP-P-1" in case_page

    assert _upload(client, "external_id\n", "x.csv").status_code == 422


def test_office_page_is_for_office_staff_only(client, login, world):
    assert client.get("/office/import").status_code == 404
    login("officer_a")
    assert client.get("/office/import").status_code == 404


def test_cli_import_batch(app, runner, world, tmp_path):
    path = tmp_path / "lo-vpcp.json"
    path.write_text(json.dumps([_item("VPCP-C-1"), _item("VPCP-C-2")], ensure_ascii=False), encoding="utf-8")
    dry = runner.invoke(args=["pakn", "import-batch", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "sẽ tạo 2" in dry.output
    with app.app_context():
        assert _count() == 0
    first = runner.invoke(args=["pakn", "import-batch", str(path)])
    assert first.exit_code == 0 and "Đã tạo 2, đã nhập trước đó 0, lỗi 0." in first.output
    second = runner.invoke(args=["pakn", "import-batch", str(path)])
    assert second.exit_code == 0 and "Đã tạo 0, đã nhập trước đó 2, lỗi 0." in second.output
    assert second.output.count("đã nhập trước đó\tPAKN-") == 2

    bad = tmp_path / "lo.csv"
    bad.write_text(_csv([_item("VPCP-C-3", title="x")]), encoding="utf-8")
    failed = runner.invoke(args=["pakn", "import-batch", str(bad)])
    assert failed.exit_code == 1 and "title: Tối thiểu 5 ký tự." in failed.output
    with app.app_context():
        assert _count() == 2


def test_the_readme_examples_import(app, world):
    from pathlib import Path
    import re

    readme = Path(__file__).resolve().parent.parent.joinpath("README.md").read_text(encoding="utf-8")
    section = readme.split("## Batches from the Government Office (VPCP)", 1)[1].split("\n## ", 1)[0]
    examples = dict(re.findall(r"```(csv|json)\n(.*?)```", section, flags=re.S))
    assert set(examples) == {"csv", "json"}
    with app.app_context():
        for fmt, content in examples.items():
            report = import_batch(content, fmt, SystemActor())
            assert not report.errors and [(r.status, r.problems) for r in report.rows] == [("created", [])], fmt
