"""Every route × method × role against the checked-in table of ``tests/authz_matrix.py``.

One seeded world per backend (module scope); every request runs inside a transaction that is
rolled back (``authz_support.rolled_back``), so rows may really change things. A rule of the URL
map without a row fails; so does a row whose URL does not reach its endpoint.
"""
from __future__ import annotations

import io
import shutil
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from pakn.portal.limits import limiter_of

from .authz_matrix import GROUPS, LOGIN, ROWS, Row
from .authz_support import (
    A_DRAFT, A_FILE_NAME, A_MARKERS, CANARY_MARKERS, PUBLIC, ROLES, build_matrix_world, placeholders, role_clients,
    rolled_back, table_counts,
)
from .conftest import _empty_tables

#: Methods every rule answers by itself (Flask adds them): not rows of the table.
IMPLICIT = {"HEAD", "OPTIONS"}
WRONG_TOKEN = "x" * 43


@pytest.fixture(autouse=True)
def _fresh_database():
    """Overrides conftest's: the module's world is kept between rows (each row rolls back)."""
    yield


@pytest.fixture(scope="module")
def seeded(app):
    names = build_matrix_world(app)
    clients = role_clients(app, names)
    yield names, clients, table_counts(app)
    _empty_tables(app)
    shutil.rmtree(Path(app.config["UPLOAD_FOLDER"]), ignore_errors=True)


def _rules(app) -> set[tuple[str, str]]:
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules() for method in rule.methods - IMPLICIT}


def test_every_rule_of_the_url_map_has_a_row(app):
    covered = {(row.endpoint, row.method) for row in ROWS}
    missing = sorted(_rules(app) - covered)
    assert not missing, "routes without a row in tests/authz_matrix.py: " + ", ".join(
        f"{method} {endpoint}" for endpoint, method in missing)
    stale = sorted(covered - _rules(app))
    assert not stale, f"rows for routes that do not exist: {stale}"


def _values(names: dict, role: str) -> dict:
    token = {"sub": names["sub_token"], "other_sub": names["other_token"]}.get(role, WRONG_TOKEN)
    return {**names, "token": token}


def _format(value, values: dict):
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, dict):  # keys too: a prefixed form's fields are named after the object
        return {_format(k, values): _format(v, values) for k, v in value.items()}
    return value


def test_every_row_reaches_its_endpoint_and_names_only_seeded_things(app, seeded):
    names = seeded[0]
    adapter = app.url_map.bind("localhost")
    for row in ROWS:
        unknown = placeholders(row.url) - set(_values(names, "anon"))
        assert not unknown, (row.id, unknown)
        path = _format(row.url, _values(names, "anon")).split("?")[0]
        endpoint, _ = adapter.match(path, method=row.method)
        assert endpoint == row.endpoint, (row.id, endpoint)
        assert set(row.expect) == set(ROLES), row.id


def body_text(response) -> str:
    """What a person would read in the response: text, or the cells of an XLSX, or a PDF's text."""
    kind = response.headers.get("Content-Type", "")
    data = response.get_data()
    if "spreadsheetml" in kind:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return " ".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
                            if n.endswith(".xml"))
    if kind.startswith("application/pdf"):
        from pypdf import PdfReader

        return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return data.decode("utf-8", "replace")


def request_as(app, row: Row, role: str, names: dict, clients: dict):
    """Send ``row``'s request as ``role`` (fresh client with the role's session) and return the response."""
    values = _values(names, role)
    holder = clients[role]
    kwargs = {}
    if row.data is not None or (row.method != "GET" and row.json is None and not row.url.startswith("/api/")):
        kwargs["data"] = {**_format(row.data or {}, values), "csrf_token": holder.csrf}
    if row.json is not None:
        body = _format(row.json, values)
        if "version" in body:
            body["version"] = int(body["version"])
        kwargs["json"] = body
    headers = holder.headers if row.url.startswith("/api/") else {}
    client = holder.client(app)
    return client.open(_format(row.url, values), method=row.method, headers=headers, **kwargs)


def outcome_matches(response, expected) -> bool:
    location = response.headers.get("Location", "")
    if expected == LOGIN:
        return response.status_code == 302 and location.startswith("/auth/login")
    if response.status_code in (301, 302, 303) and location.startswith("/auth/login"):
        return False  # a redirect to the login page is never another row's 302
    return response.status_code == expected


def leaks(role: str, body: str, names: dict, url: str = "") -> list[str]:
    """The marks ``role`` must not read in ``body`` (of a response to ``url``)."""
    found = []
    if role in ("officer_b", "lead_b"):
        found += [m for m in A_MARKERS if m in body]
        found += [c for c in (names["a_case"], names["a_received"], names["a_forwarded"], names["a_answered"])
                  if f">{c}<" in body or f"{c}," in body or f'cases/{c}"' in body
                  # a JSON string of the staff API (Open311 lists every case's code to everyone)
                  or (url.startswith("/api/") and f'"{c}"' in body)]
    if role in PUBLIC:
        found += [m for m in CANARY_MARKERS if m in body]
    return found


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_matrix(app, seeded, row):
    names, clients, baseline = seeded
    with app.app_context():
        limiter_of(app).reset()  # the public POST limits count per address; every role shares 127.0.0.1
    wrong, leaked = [], []
    for role in ROLES:
        with rolled_back(app):
            response = request_as(app, row, role, names, clients)
        expected = row.expect[role]
        if not outcome_matches(response, expected):
            wrong.append(f"{role}: expected {expected}, got {response.status_code} "
                         f"{response.headers.get('Location', '')}".rstrip())
        if role in GROUPS["staff"] and response.status_code == 200 and not row.url.startswith("/static/"):
            if response.headers.get("Cache-Control") != "no-store":  # P5: nothing a staff member sees is cached
                wrong.append(f"{role}: Cache-Control {response.headers.get('Cache-Control')!r}, not no-store")
        found = leaks(role, body_text(response), names, row.url)
        if found:
            leaked.append(f"{role}: {found}")
    assert not wrong, f"{row.id}\n  " + "\n  ".join(wrong)
    assert not leaked, f"{row.id} shows what the role may not see\n  " + "\n  ".join(leaked)
    assert table_counts(app) == baseline, "the row changed the world: the rollback did not hold"


def test_the_marks_the_matrix_looks_for_are_really_there_for_those_allowed(app, seeded):
    """Positive controls: the canaries are on the pages of those who may see them, so their
    absence elsewhere in the matrix means something."""
    names, clients, _ = seeded

    def get(role: str, url: str):
        with rolled_back(app):
            return clients[role].client(app).get(url.format(**names))

    assert all(m in body_text(get("officer_a", "/agency/?view=all&q=trạm BTS"))
               for m in (A_MARKERS[0], names["a_case"]))
    assert get("officer_a", "/agency/cases/{a_case}/attachments/{a_file}").data.startswith(b"%PDF")
    assert "canary-7Q" in body_text(get("officer_a", "/agency/cases/{a_case}/draft"))
    assert CANARY_MARKERS[0] in body_text(get("clerk", "/office/cases/{a_case}"))
    assert names["b_case"] in body_text(get("officer_b", "/agency/?view=all"))
    assert names["b_case"] in body_text(get("officer_b", "/agency/export.csv?view=all"))
    assert names["sub_case"] in body_text(get("sub", "/tra-cuu/{sub_case}"))

    def api(role: str, url: str) -> str:
        with rolled_back(app):
            return body_text(clients[role].client(app).get(url.format(**names), headers=clients[role].headers))

    # the API's JSON carries A's codes and file names to A, so their absence for B means something
    assert f'"{names["a_case"]}"' in api("officer_a", "/api/v1/cases")
    assert A_FILE_NAME in api("officer_a", "/api/v1/cases/{a_case}/attachments")
    assert A_DRAFT in api("officer_a", "/api/v1/cases/{a_case}/answers")
    assert names["b_case"] in api("officer_b", "/api/v1/cases") and names["a_case"] not in api(
        "officer_b", "/api/v1/cases")


def test_a_deactivated_users_session_ends_and_stays_ended_when_the_account_returns(app, seeded):
    """The matrix gives ``disabled`` (a session and a token from before deactivation) the
    outcome of an anonymous visitor on every route; here: the app also drops the identity from
    the cookie it sends back, and reactivating the account does not revive the old session."""
    from pakn.extensions import db

    names, clients, _ = seeded
    old = clients["disabled"]
    response = old.client(app).get("/staff/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    with app.test_request_context():
        cookie = app.session_interface.get_signing_serializer(app).loads(
            response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1])
    assert "_user_id" not in cookie
    with rolled_back(app):
        with app.app_context():
            names["world"].user("disabled").active = True
            db.session.commit()
        assert old.client(app).get("/staff/").status_code == 302
        assert old.client(app).get("/api/v1/cases", headers=old.headers).status_code == 401


def test_extra_fields_posted_by_an_agency_change_no_classification(app, seeded):
    """A8 / I12: ``agency``, ``field``, ``state`` posted with an agency's form are ignored."""
    from pakn.extensions import db
    from pakn.models import Feedback

    names, clients, _ = seeded
    officer = clients["officer_a"]
    with rolled_back(app):
        response = officer.client(app).post(f"/agency/cases/{names['a_forwarded']}/actions/accept", data={
            "csrf_token": officer.csrf, "accept-version": names["a_forwarded_version"], "accept-agency": "STNMT",
            "agency": "STNMT", "field": "dat_dai", "state": "published", "accept-field": "dat_dai"})
        assert response.status_code == 302
        with app.app_context():
            case = db.session.scalar(select(Feedback).where(Feedback.code == names["a_forwarded"]))
            assert (case.state, case.agency_id, case.field.code) == ("in_progress", names["agency_a"], "xay_dung")


def test_a_failing_permission_check_fails_closed(app, seeded, monkeypatch):
    """A9: an exception inside the scope check gives the generic 500, never the case."""
    import pakn.access

    names, clients, _ = seeded

    def broken(query, user):
        raise RuntimeError("scope check failed")

    original = pakn.access.scope_cases
    # Wherever the check was imported by name (the office inbox, which the API list reuses), too.
    for module in [m for name, m in sys.modules.items() if name.startswith("pakn")]:
        if getattr(module, "scope_cases", None) is original:
            monkeypatch.setattr(module, "scope_cases", broken)
    # Pages kept per process (pakn.caching) were built under a check that passed, for the same
    # scope (their key): drop them, so that every request below runs the broken check.
    app.extensions.pop("pakn_marked_caches", None)
    officer = clients["officer_a"]
    for url, headers in ((f"/agency/cases/{names['a_case']}", {}), ("/agency/?view=all", {}),
                         (f"/office/cases/{names['a_case']}", {}), (f"/api/v1/cases/{names['a_case']}", officer.headers),
                         ("/api/v1/cases", officer.headers)):
        holder = clients["clerk"] if url.startswith("/office") else officer
        with rolled_back(app):
            response = holder.client(app).get(url, headers=headers)
        body = body_text(response)
        assert response.status_code == 500, url
        # (the viewer's own name is in the page header: A's case data is what must be absent)
        assert not any(m in body for m in A_MARKERS[:3]) and names["a_case"] not in body.replace(url, ""), url


def test_stored_files_are_reachable_only_through_the_views_that_check(app, seeded):
    """A6: the storage name of an upload, asked for on any static or guessed path, is a 404."""
    from pakn.extensions import db
    from pakn.models import Attachment

    names, clients, _ = seeded
    with app.app_context():
        row = db.session.get(Attachment, names["a_file"])
        stored = [p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()]
    assert stored
    relative = [str(p.relative_to(app.config["UPLOAD_FOLDER"])) for p in stored]
    for role in ("anon", "officer_a", "clerk"):
        client = clients[role].client(app)
        for name in relative[:3] + [p.name for p in stored[:3]]:
            for prefix in ("/static/", "/uploads/", "/instance/uploads/", "/static/../instance/uploads/"):
                assert client.get(prefix + name).status_code == 404, (role, prefix + name)
    assert row is not None


def test_tracking_tokens_are_long_random_and_unrelated_to_the_code(app, seeded):
    """A5: at least 128 bits from ``secrets`` (43 URL-safe characters = 256 bits), unique per case."""
    import re as re_

    names = seeded[0]
    tokens = [names["sub_token"], names["other_token"]]
    assert all(re_.fullmatch(r"[A-Za-z0-9_-]{43,}", t) for t in tokens) and len(set(tokens)) == 2
    assert not any(names["sub_case"][-6:] in t for t in tokens)


INJECTIONS = ("' OR '1'='1", "%", "_", "\\", "x' UNION SELECT password_hash FROM app_user --", "%' --")


@pytest.mark.parametrize("url, role", [
    ("/tra-loi?q={q}", "anon"), ("/du-lieu-mo/pakn.json?q={q}", "anon"), ("/office/?q={q}", "clerk"),
    ("/office/?q={q}&sort={q}", "clerk"), ("/agency/?view=all&q={q}", "officer_a"),
    ("/agency/export.csv?view=all&q={q}", "officer_a"), ("/api/v1/cases?q={q}", "clerk")])
def test_search_filter_and_sort_are_not_injectable(app, seeded, url, role):
    """I14: SQL metacharacters and LIKE wildcards in a search are text: a 200 that finds nothing
    (a wildcard matching every case would list the seeded codes)."""
    from urllib.parse import quote

    names, clients, _ = seeded
    holder = clients[role]
    codes = [names[k] for k in ("a_received", "a_forwarded", "a_case", "a_answered", "a_published", "b_case")]
    for q in INJECTIONS:
        with rolled_back(app):
            response = holder.client(app).get(url.format(q=quote(q)),
                                              headers=holder.headers if url.startswith("/api/") else {})
        body = body_text(response)
        assert response.status_code == 200, (url, q, response.status_code)
        assert not [c for c in codes if c in body], (url, q)
        assert "scrypt:" not in body
