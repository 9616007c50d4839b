"""What the inboxes keep per web process (pages, menus, the agency's name) is renewed as soon as
its data change: a user sees the change on the next page, in the same process (issue 11)."""
from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from pakn.extensions import db
from pakn.models import Agency, Feedback, Field, StageVisit, User
from pakn.operations import transaction
from pakn.operations.assignment import assign_clerk

from .agency_support import staff_client


def office_codes(html: str) -> list[str]:
    return re.findall(r'<td class="code"><a href="/office/cases/(PAKN-\d{4}-\d{6})', html)


def without_csrf_tokens(html: str) -> str:
    """The page without its forms' CSRF tokens, which carry the second they were signed in."""
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]*"', r'\1"', html)


def test_the_office_inbox_shows_a_new_case_and_a_changed_one_on_the_next_view(app, world, make_case):
    first = make_case("forwarded")[0]
    clerk = staff_client(app, "clerk")
    html = clerk.get("/office/?clerk=none").get_data(as_text=True)
    assert office_codes(html) == [first]
    again = clerk.get("/office/?clerk=none").get_data(as_text=True)
    assert without_csrf_tokens(again) == without_csrf_tokens(html)  # kept: nothing changed

    second = make_case("received")[0]
    assert office_codes(clerk.get("/office/?clerk=none").get_data(as_text=True)) == [second, first]

    with app.app_context(), transaction():
        case = db.session.scalar(select(Feedback).where(Feedback.code == first))
        me = db.session.get(User, world.users["clerk"])
        assign_clerk(case, me, me)
    assert office_codes(clerk.get("/office/?clerk=none").get_data(as_text=True)) == [second]
    assert office_codes(clerk.get(f"/office/?clerk={world.users['clerk']}").get_data(as_text=True)) == [first]


def test_the_overdue_list_gains_a_case_when_it_falls_due_with_no_change_of_any_case(app, world, make_case):
    code = make_case("forwarded")[0]
    with app.app_context():
        due = db.session.scalar(select(StageVisit.due_at).join(Feedback, Feedback.id == StageVisit.feedback_id)
                                .where(Feedback.code == code, StageVisit.finished_at.is_(None)))
    assert due is not None
    with time_machine.travel(due - timedelta(minutes=1), tick=False):
        clerk = staff_client(app, "clerk")
        assert office_codes(clerk.get("/office/?due=overdue").get_data(as_text=True)) == []
    with time_machine.travel(due + timedelta(minutes=1), tick=False):
        html = clerk.get("/office/?due=overdue").get_data(as_text=True)
    assert office_codes(html) == [code]
    assert 'class="due overdue"' in html


def test_the_menus_and_the_agency_header_show_a_renamed_agency_or_field_on_the_next_page(app, world, make_case):
    make_case("forwarded")
    clerk, officer = staff_client(app, "clerk"), staff_client(app, "officer_a")
    office_html = clerk.get("/office/").get_data(as_text=True)
    assert '<option value="SXD">Sở Xây dựng</option>' in office_html
    assert '<option value="xay_dung">Xây dựng</option>' in office_html
    assert "<td>Sở Xây dựng</td>" in office_html  # the case's row
    assert "<strong>Sở Xây dựng</strong>" in officer.get("/agency/").get_data(as_text=True)

    with app.app_context(), transaction():
        db.session.get(Agency, world.agency_a).name = "Sở Xây dựng & Quy hoạch"
        db.session.scalar(select(Field).where(Field.code == "xay_dung")).name = "Xây dựng, quy hoạch"
    office_html = clerk.get("/office/").get_data(as_text=True)
    assert '<option value="SXD">Sở Xây dựng &amp; Quy hoạch</option>' in office_html  # both menus
    assert office_html.count("Sở Xây dựng &amp; Quy hoạch</option>") == 2
    assert '<option value="xay_dung">Xây dựng, quy hoạch</option>' in office_html
    assert "<td>Sở Xây dựng &amp; Quy hoạch</td>" in office_html  # a kept page is read again
    assert "<strong>Sở Xây dựng &amp; Quy hoạch</strong>" in officer.get("/agency/").get_data(as_text=True)


def test_the_page_of_a_filter_is_kept_per_scope(app, world, make_case):
    """An agency's officer and the office never share a kept page."""
    mine, other = make_case("forwarded")[0], make_case("forwarded", agency="STNMT")[0]
    clerk = staff_client(app, "clerk")
    assert set(office_codes(clerk.get("/office/").get_data(as_text=True))) == {mine, other}
    officer = staff_client(app, "officer_a")
    assert officer.get("/office/").status_code in (302, 403, 404)
    html = officer.get("/agency/?view=all").get_data(as_text=True)
    assert mine in html and other not in html


def test_the_agency_views_follow_the_clock_with_no_change_of_any_case(app, world, make_case):
    """«Sắp đến hạn» gains a case when its due date enters the window, «Quá hạn» when it passes;
    the kept pages of both are read again then, though no case changed."""
    from .agency_support import listed_codes

    code = make_case("in_progress")[0]
    with app.app_context():
        due = db.session.scalar(select(Feedback.answer_due_at).where(Feedback.code == code))
    window = timedelta(days=app.config["AGENCY_DUE_SOON_DAYS"])

    def views(moment, officer=None):
        with time_machine.travel(moment, tick=False):
            officer = officer or staff_client(app, "officer_a")
            return officer, {v: listed_codes(officer.get(f"/agency/?view={v}").get_data(as_text=True))
                             for v in ("due_soon", "overdue")}

    officer, seen = views(due - window - timedelta(minutes=1))
    assert seen == {"due_soon": [], "overdue": []}
    assert views(due - window + timedelta(minutes=1), officer)[1] == {"due_soon": [code], "overdue": []}
    officer, seen = views(due - timedelta(minutes=1))
    assert seen == {"due_soon": [code], "overdue": []}
    assert views(due + timedelta(minutes=1), officer)[1] == {"due_soon": [], "overdue": [code]}
