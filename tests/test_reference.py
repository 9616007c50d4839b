"""Reference data kept per process (pakn.reference) and public pages kept per process
(pakn.portal.public.cached_page): whoever changes the data, the next request shows it.

The changes are made the way another process would make them: on a connection of their own,
outside the app's session (raw SQL, as psql or a CSV import would), or by an admin's
operation. The requests then come through the test client, as a citizen's would.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

import time_machine
from sqlalchemy import select, text

from pakn.extensions import db
from pakn.models import ClockSetting, Feedback, StageVisit
from pakn.operations import transaction

from .portal_support import FORM, form_values, publish
from .test_web import compiled_catalogs  # noqa: F401  (fixture)

#: Monday 2 March 2026, 09:00 in Vietnam: the next working days are ordinary weekdays.
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


def _elsewhere(app, sql: str, **params) -> None:
    """A change committed on a connection of its own, not through the app's session."""
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text(sql), params)


def _submit(client, **changes) -> str:
    """Submit the public form; the code of the new case (from the receipt's address)."""
    values = form_values(client.get("/gop-y").get_data(as_text=True))
    response = client.post("/gop-y", data={**FORM, "field": "xay_dung", **values, **changes})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response.headers["Location"].rsplit("/", 1)[-1]


def _receipt_due(client, code: str) -> str:
    html = client.get(f"/gop-y/bien-nhan/{code}").get_data(as_text=True)
    return re.search(r'Hạn trả lời</dt>\s*<dd><time datetime="([^"]+)"', html).group(1)


def test_a_field_renamed_or_closed_elsewhere_shows_at_the_next_request(app, client, world):
    assert "Xây dựng" in client.get("/gop-y").get_data(as_text=True)  # the menu is now kept
    _elsewhere(app, "UPDATE field SET name = :name WHERE code = 'xay_dung'", name="Xây dựng và đô thị")
    assert "Xây dựng và đô thị" in client.get("/gop-y").get_data(as_text=True)

    _submit(client)  # the field is accepted while active
    _elsewhere(app, "UPDATE field SET active = :no WHERE code = 'xay_dung'", no=False)
    values = form_values(client.get("/gop-y").get_data(as_text=True))
    refused = client.post("/gop-y", data={**FORM, "field": "xay_dung", **values})
    assert refused.status_code == 422
    assert "Lĩnh vực không tồn tại." in refused.get_data(as_text=True)


def test_a_new_clock_settings_version_governs_the_next_submission(app, client, world):
    with time_machine.travel(MONDAY, tick=False):
        first = _submit(client)
        assert _receipt_due(client, first).startswith("2026-03-")
        with app.app_context(), transaction():  # an admin's new version (/admin/clock writes the same row)
            db.session.add(ClockSetting(forward_days=5, answer_days=30, answer_day_unit="calendar",
                                        progress_update_days=7, result_entry_days=2, check_days=2,
                                        publish_days=2, reminder_days=1, needs_info_pauses=True,
                                        note="Quyết định thử nghiệm"))
        second = _submit(client)
        assert _receipt_due(client, second).startswith("2026-04-01")  # 30 calendar days after 2 March
    with app.app_context():
        versions = dict(db.session.execute(select(Feedback.code, Feedback.clock_setting_id)
                                           .where(Feedback.code.in_([first, second]))).all())
        newest = db.session.scalar(select(ClockSetting.id))
    assert versions == {first: None, second: newest}


def test_a_day_off_added_elsewhere_moves_the_next_due_dates(app, client, world):
    def classify_due(code: str) -> date:
        with app.app_context():
            return db.session.scalar(select(StageVisit.due_date).join(Feedback, Feedback.id == StageVisit.feedback_id)
                                     .where(Feedback.code == code, StageVisit.stage == "classify"))

    with time_machine.travel(MONDAY, tick=False):
        before = classify_due(_submit(client))
        _elsewhere(app, "INSERT INTO calendar_overlay (day, kind, note, created_at) "
                        "VALUES (:day, 'day_off', 'Thông báo nghỉ bù (thử nghiệm)', :now)",
                   day=date(2026, 3, 4), now=MONDAY)
        after = classify_due(_submit(client))
    assert (before, after) == (date(2026, 3, 9), date(2026, 3, 10))  # 5 working days, then one more


def test_a_publication_shows_at_once_on_the_public_pages(app, client, world, make_case):
    first, _ = make_case("notified")
    publish(app, first, "Cấp phép xây dựng nhà ở riêng lẻ", "Thời hạn cấp phép xây dựng.",
            "Sở Xây dựng trả lời: tối đa 15 ngày.", lambda: world.user("clerk"))
    page = client.get("/tra-loi").get_data(as_text=True)
    assert "Cấp phép xây dựng nhà ở riêng lẻ" in page and "1 kết quả" in page
    assert client.get("/tra-loi").get_data(as_text=True) == page  # kept: the same page again

    second, _ = make_case("notified")
    assert client.get(f"/tra-loi/{second}").status_code == 404  # a 404 is never kept
    publish(app, second, "Gia hạn sử dụng đất nông nghiệp", "Thủ tục gia hạn sử dụng đất.",
            "Không cần làm thủ tục gia hạn.", lambda: world.user("clerk"))
    page = client.get("/tra-loi").get_data(as_text=True)
    assert "Gia hạn sử dụng đất nông nghiệp" in page and "2 kết quả" in page
    assert "Không cần làm thủ tục gia hạn." in client.get(f"/tra-loi/{second}").get_data(as_text=True)


def test_kept_public_pages_follow_the_language_and_never_serve_staff(app, client, world, make_case,
                                                                    compiled_catalogs):  # noqa: F811
    code, _ = make_case("notified")
    publish(app, code, "Cấp phép xây dựng nhà ở riêng lẻ", "Thời hạn cấp phép xây dựng.",
            "Sở Xây dựng trả lời: tối đa 15 ngày.", lambda: world.user("clerk"))
    assert "Kết quả trả lời" in client.get("/tra-loi").get_data(as_text=True)
    english = client.get("/tra-loi", query_string={"lang": "en"}).get_data(as_text=True)
    assert 'lang="en"' in english and "1 result" in english
    # The choice is kept in the session: the same address now answers in English.
    assert "1 result" in client.get("/tra-loi").get_data(as_text=True)

    staff = app.test_client()
    from .conftest import sign_in
    sign_in(staff, "clerk@pakn.test")
    page = staff.get("/tra-loi").get_data(as_text=True)
    assert "Cán bộ clerk" in page  # the signed-in page names its user …
    assert "Cán bộ clerk" not in client.get("/tra-loi").get_data(as_text=True)  # … and is never kept for others


def test_an_agency_renamed_elsewhere_shows_at_once_on_the_kept_public_pages(app, client, world, make_case):
    code, _ = make_case("notified")
    publish(app, code, "Cấp phép xây dựng nhà ở riêng lẻ", "Thời hạn cấp phép xây dựng.",
            "Sở Xây dựng trả lời: tối đa 15 ngày.", lambda: world.user("clerk"))
    assert "Sở Xây dựng" in client.get(f"/tra-loi/{code}").get_data(as_text=True)
    _elsewhere(app, "UPDATE agency SET name = :name WHERE code = 'SXD'", name="Sở Xây dựng và Quy hoạch")
    assert "Sở Xây dựng và Quy hoạch" in client.get(f"/tra-loi/{code}").get_data(as_text=True)
    assert "Sở Xây dựng và Quy hoạch" in client.get("/tra-loi").get_data(as_text=True)  # the agency menu


# -- the citizen's submission reads the token in its write (reference.optimistic) ------------
def _code_number(code: str) -> int:
    return int(code.rsplit("-", 1)[-1])


def test_a_day_off_added_while_the_form_is_open_governs_the_submission(app, client, world):
    """The form was fetched before the change, so the process still holds the old calendar when
    the form is sent: the write finds the change, and the case is computed again under it."""
    with time_machine.travel(MONDAY, tick=False):
        first = _submit(client)
        values = form_values(client.get("/gop-y").get_data(as_text=True))
        _elsewhere(app, "INSERT INTO calendar_overlay (day, kind, note, created_at) "
                        "VALUES (:day, 'day_off', 'Thông báo nghỉ bù (thử nghiệm)', :now)",
                   day=date(2026, 3, 4), now=MONDAY)
        response = client.post("/gop-y", data={**FORM, "field": "xay_dung", **values})
        assert response.status_code == 303
        second = response.headers["Location"].rsplit("/", 1)[-1]
    with app.app_context():
        due = dict(db.session.execute(
            select(Feedback.code, StageVisit.due_date).join(Feedback, Feedback.id == StageVisit.feedback_id)
            .where(Feedback.code.in_([first, second]), StageVisit.stage == "classify")).all())
        count = db.session.scalar(select(db.func.count()).select_from(Feedback))
    assert due == {first: date(2026, 3, 9), second: date(2026, 3, 10)}
    # The first run's write was rolled back whole: one case more, the next code, no gap.
    assert _code_number(second) == _code_number(first) + 1
    assert count == 2


def test_a_field_closed_while_the_form_is_open_refuses_the_submission(app, client, world):
    _submit(client)
    values = form_values(client.get("/gop-y").get_data(as_text=True))
    _elsewhere(app, "UPDATE field SET active = :no WHERE code = 'xay_dung'", no=False)
    refused = client.post("/gop-y", data={**FORM, "field": "xay_dung", **values})
    assert refused.status_code == 422
    assert "Lĩnh vực không tồn tại." in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Feedback)) == 1


def test_a_refused_form_shows_the_menu_as_it_is_now(app, client, world):
    """A submission that writes nothing still checks the token before it answers: the menu of
    the refused form is the one in force, not the one this process held."""
    values = form_values(client.get("/gop-y").get_data(as_text=True))
    _elsewhere(app, "UPDATE field SET name = :name WHERE code = 'xay_dung'", name="Xây dựng và đô thị")
    refused = client.post("/gop-y", data={**FORM, "field": "xay_dung", **values, "title": ""})
    assert refused.status_code == 422
    assert "Xây dựng và đô thị" in refused.get_data(as_text=True)
