"""Fixtures: the app on every configured backend, clients, a small province, factories.

The suite runs on SQLite always and, when ``PAKN_TEST_DATABASE_URL`` is set, on PostgreSQL
too (every test using ``app`` runs once per backend). The schema comes from the Alembic
migrations, so they are tested on both. Tests commit for real; tables are emptied after
each test.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from pakn import create_app
from pakn.extensions import db
from pakn.models import Agency, AgencyLevel, Field, User
from pakn.operations import SubmitterActor, apply_transition, receive_feedback, transaction
from pakn.scenarios import SUBMISSION, drive, path_to

PG_URL = os.environ.get("PAKN_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("PAKN_TEST_REDIS_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "mat-khau-thu-nghiem-1"


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    """The app, migrated from scratch, on one backend."""
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'test.sqlite3'}"
    else:
        _reset_postgres(PG_URL)
        url = PG_URL
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-only-secret-key",
        "REDIS_URL": REDIS_URL,
        "UPLOAD_FOLDER": str(tmp / "uploads"),
        "API_MAX_JSON_BYTES": 64 * 1024,
        # Outbox rows stay pending unless a test turns delivery on (tests/test_notifications*.py).
        "NOTIFY_AFTER_COMMIT": False,
    })
    app.config["BACKEND"] = request.param
    with app.app_context():
        upgrade(directory=os.path.join(app.root_path, "..", "migrations"))
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_tables(app) -> None:
    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
        if app.config["BACKEND"] == "postgresql":
            db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                db.session.execute(text(f"DELETE FROM {name}"))
        db.session.commit()


@pytest.fixture(autouse=True)
def _fresh_database(request):
    yield
    if "app" in request.fixturenames:
        _empty_tables(request.getfixturevalue("app"))


@pytest.fixture
def ctx(app):
    """An application context for direct database work in a test."""
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@functools.cache
def _password_hash() -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(PASSWORD, method="scrypt")


@dataclass
class World:
    """A small province: the office, agencies A and B, two fields, one user per role."""

    office: int
    agency_a: int
    agency_b: int
    users: dict[str, int]
    fields: tuple[str, str] = ("xay_dung", "dat_dai")

    def user(self, key: str) -> User:
        return db.session.get(User, self.users[key])


@pytest.fixture
def world(app) -> World:
    return build_world(app)


def build_world(app) -> World:
    """Create the small province (committed) and return its ids; the ``world`` fixture's body,
    callable from fixtures of a wider scope."""
    with app.app_context(), transaction():
        top = AgencyLevel(code="tinh", name="Cấp tỉnh", rank=0)
        dept = AgencyLevel(code="so_nganh", name="Sở, ban, ngành", rank=1)
        office = Agency(code="VP", name="Văn phòng UBND tỉnh", level=top, is_office=True)
        agency_a = Agency(code="SXD", name="Sở Xây dựng", level=dept, parent=office)
        agency_b = Agency(code="STNMT", name="Sở Nông nghiệp và Môi trường", level=dept, parent=office)
        db.session.add_all([office, agency_a, agency_b,
                            Field(code="xay_dung", name="Xây dựng"), Field(code="dat_dai", name="Đất đai")])
        specs = {
            "clerk": ("office_clerk", office), "lead": ("office_lead", office),
            "officer_a": ("agency_officer", agency_a), "lead_a": ("agency_lead", agency_a),
            "officer_b": ("agency_officer", agency_b), "lead_b": ("agency_lead", agency_b),
            "admin": ("admin", None), "disabled": ("office_clerk", office),
        }
        users = {}
        for key, (role, agency) in specs.items():
            user = User(email=f"{key}@pakn.test", full_name=f"Cán bộ {key}", role=role, agency=agency,
                        active=key != "disabled")
            user.password_hash = _password_hash()  # one real scrypt hash, computed once per run
            db.session.add(user)
            users[key] = user
        db.session.flush()
        return World(office.id, agency_a.id, agency_b.id, {k: u.id for k, u in users.items()})


@pytest.fixture
def make_case(app, world):
    """``make_case(state="forwarded", agency="SXD", **submission)`` → the case's code and token.

    The case is driven to ``state`` through the operations layer, as users would.
    """
    return case_factory(app, world)


def case_factory(app, world: World):
    """The ``make_case`` fixture's function, for fixtures of a wider scope."""
    def make(state: str = "received", agency: str = "SXD", **overrides):
        with app.app_context():
            duplicate_of = None
            if state == "merged":
                duplicate_of = make(agency=agency)[0]
            with transaction():
                case, token = receive_feedback({**SUBMISSION, **overrides}, SubmitterActor())
                agency_user = {"SXD": ("officer_a", "lead_a"), "STNMT": ("officer_b", "lead_b")}[agency]
                who = {"clerk": "clerk", "lead": "lead", "officer": agency_user[0],
                       "agency_lead": agency_user[1]}
                drive(case, path_to(state, agency, world.fields[0], duplicate_of),
                      lambda k: world.user(who[k]), apply_transition)
            return case.code, token
    return make


@pytest.fixture
def api_token(app, world):
    """``api_token("clerk")`` → headers with a bearer token for that user."""
    from pakn.auth.tokens import issue_token

    def headers(key: str) -> dict:
        with app.app_context(), transaction():
            raw, _ = issue_token(world.user(key))
        return {"Authorization": f"Bearer {raw}"}
    return headers


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


@pytest.fixture
def login(client, world):
    """``login("clerk")`` logs the test client in through the real login form."""
    def do(key: str, password: str = PASSWORD):
        page = client.get("/auth/login")
        return client.post("/auth/login", data={
            "email": f"{key}@pakn.test", "password": password,
            "csrf_token": csrf_token(page.get_data(as_text=True))})
    return do


def pytest_report_header(config):
    return [f"pakn backends: {', '.join(BACKENDS)}; redis: {REDIS_URL or 'none (in-process jobs)'}"]




def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real headless Chromium (select with -m browser)")
