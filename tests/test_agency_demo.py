"""The agency portal on the demo province: every agency account opens every view, the dashboard
and every case page of its agency (cases in every state, realistic data), and nothing else."""
from __future__ import annotations

import re

from sqlalchemy import select

from pakn.extensions import db
from pakn.models import Feedback, User
from workflows.glossary import AGENCY_ROLES

from pakn.agency_portal.queries import VIEWS

from .conftest import sign_in
from .test_demo_cli import credentials, seed


def test_every_agency_account_browses_its_own_cases_on_the_demo_province(app, runner):
    logins = credentials(seed(runner))
    with app.app_context():
        users = {u.email: (u.agency_id, u.role) for u in db.session.scalars(
            select(User).where(User.role.in_(AGENCY_ROLES)))}
        cases = [(c.code, c.agency_id) for c in db.session.scalars(select(Feedback))]
    checked = 0
    for email, (role, password) in logins.items():
        if email not in users:
            continue
        agency_id = users[email][0]
        client = app.test_client()
        # A demo account sets up its second factor at its first login, as a newcomer would.
        enrolled = sign_in(client, email, password)
        assert enrolled.status_code == 200 and "Đã bật xác thực hai bước" in enrolled.get_data(as_text=True)
        for key in VIEWS:
            assert client.get(f"/agency/?view={key}").status_code == 200
        assert client.get("/agency/dashboard").status_code == 200
        assert client.get("/agency/export.csv?view=all").status_code == 200
        for code, owner in cases:
            response = client.get(f"/agency/cases/{code}")
            assert response.status_code == (200 if owner == agency_id else 404), code
            if owner == agency_id:
                checked += 1
                assert re.search(r"<h1>" + re.escape(code), response.get_data(as_text=True))
                assert client.get(f"/agency/cases/{code}/draft").status_code == 200
    assert checked > 0
