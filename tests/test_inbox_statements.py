"""The inboxes run a fixed number of SQL statements whatever the page holds (issue 11): no
statement per row (progress updates, assignees, agencies, fields), so a page of 50 cases at a
million cases costs what a page of 2 does. Counts, not times: the timing is bench/inbox_profile.py's."""
from __future__ import annotations

import re

from sqlalchemy import event

from pakn.extensions import db

from .agency_support import listed_codes, staff_client


def statements(app, client, url: str) -> tuple[int, str]:
    """Statements a GET of ``url`` runs once the page's counts are cached, and the page."""
    client.get(url)  # fills the per-process count caches
    seen = []
    with app.app_context():
        engine = db.engine

    def count(*args):
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen), response.get_data(as_text=True)


def test_the_agency_inbox_runs_as_many_statements_for_six_cases_as_for_two(app, world, make_case):
    officer = staff_client(app, "officer_a")
    made = [make_case("in_progress")[0] for _ in range(2)]
    few, html = statements(app, officer, "/agency/?view=open")
    assert sorted(listed_codes(html)) == sorted(made)
    made += [make_case("in_progress")[0] for _ in range(4)]
    many, html = statements(app, officer, "/agency/?view=open")
    assert sorted(listed_codes(html)) == sorted(made)
    assert many == few


def test_the_office_inbox_runs_as_many_statements_for_six_cases_as_for_two(app, client, login, make_case):
    made = [make_case("forwarded")[0], make_case()[0]]
    login("clerk")
    few, html = statements(app, client, "/office/")
    assert set(made) <= set(re.findall(r'<td class="code"><a href="/office/cases/(PAKN-\d{4}-\d{6})', html))
    made += [make_case("forwarded")[0], make_case("in_progress")[0], make_case("rejected")[0], make_case()[0]]
    for url in ("/office/", "/office/?sort=due_asc", "/office/?clerk=none"):
        many, html = statements(app, client, url)
        assert set(made) <= set(re.findall(r'<td class="code"><a href="/office/cases/(PAKN-\d{4}-\d{6})', html))
        assert many <= few + 1  # due order: the cases without a due date are a second, index-ordered read
