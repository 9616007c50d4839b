"""Fixtures: the app on every configured backend, clients, a small province, factories.

The suite runs on SQLite always and, when ``PAKN_TEST_DATABASE_URL`` is set, on PostgreSQL
too (every test using ``app`` runs once per backend). The schema comes from the Alembic
migrations, so they are tested on both. Tests commit for real; tables are emptied after
each test.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
import time
from dataclasses import dataclass

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from pakn import create_app
from pakn.extensions import db
from pakn.models import Agency, AgencyLevel, Field, User
from pakn.models.types import utcnow
from pakn.operations import SubmitterActor, apply_transition, receive_feedback, transaction
from pakn.portal.limits import limiter_of
from pakn.scenarios import SUBMISSION, drive, path_to
from pakn.sealing import seal

#: Under pytest-xdist (scripts/test runs ``-n 2``) each worker has its own PostgreSQL database
#: (``<name>_gw0``, created when missing) and Redis database (the given number minus the
#: worker's index), so parallel workers never empty each other's tables or queues.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
PASSWORD = "mat-khau-thu-nghiem-1"


def _worker_database(url: str | None) -> str | None:
    if not url or not WORKER:
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    mine = base.set(database=f"{base.database}_{WORKER}")
    engine = create_engine(base.set(drivername="postgresql+psycopg", database="postgres"),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": mine.database}) is None:
            conn.execute(text(f'CREATE DATABASE "{mine.database}"'))
    engine.dispose()
    return mine.render_as_string(hide_password=False)


def _worker_redis(url: str | None) -> str | None:
    if not url or not WORKER:
        return url
    head, _, number = url.rstrip("/").rpartition("/")
    index = int(WORKER.removeprefix("gw"))
    if not number.isdigit() or int(number) < index:
        raise RuntimeError(f"PAKN_TEST_REDIS_URL must end in a database number ≥ {index}: {url}")
    return f"{head}/{int(number) - index}"


PG_URL = _worker_database(os.environ.get("PAKN_TEST_DATABASE_URL"))
REDIS_URL = _worker_redis(os.environ.get("PAKN_TEST_REDIS_URL"))
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


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
        "NOTIFY_HANDOFF_MS": 0,  # tests that turn the relay on see their jobs at once (test_notify_handoff.py: the window)
    })
    app.config["BACKEND"] = request.param
    with app.app_context():
        upgrade(directory=os.path.join(app.root_path, "..", "migrations"))
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_tables(app) -> None:
    """Delete every row, children first, and restart the identities at 1.

    DELETE, not TRUNCATE: on the few rows a test leaves it is ~50 times faster on PostgreSQL
    (TRUNCATE rewrites each table's files, which was most of a test's time). The append-only
    triggers (audit_event) are switched off for the DELETE only, inside this transaction.
    """
    with app.app_context():
        postgresql = app.config["BACKEND"] == "postgresql"
        guarded = _tables_with_triggers() if postgresql else []
        for name in guarded:
            db.session.execute(text(f"ALTER TABLE {name} DISABLE TRIGGER USER"))
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        for name in guarded:
            db.session.execute(text(f"ALTER TABLE {name} ENABLE TRIGGER USER"))
        if postgresql:
            db.session.execute(text(
                "SELECT setval(s.oid, 1, false) FROM pg_class s WHERE s.relkind = 'S'"
                " AND s.relnamespace = 'public'::regnamespace"))
        db.session.commit()


@functools.cache
def _tables_with_triggers() -> tuple[str, ...]:
    return tuple(db.session.scalars(text(
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace"
        " AND t.tgname <> 'reference_changed'")))  # these stay on: the DELETE renews the token


@pytest.fixture(autouse=True)
def _fresh_database(request):
    if "app" in request.fixturenames:
        # The public forms' rate-limit counters are per client address, and every test posts
        # from 127.0.0.1: each test starts with none (the limits are tested in test_portal.py).
        app = request.getfixturevalue("app")
        with app.app_context():
            limiter_of(app).reset()
    yield
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        _empty_tables(app)
        # Rows gone under the app's feet (never so in production): pages kept for the old rows
        # could match the new ones' markers (equal instants under time-machine).
        app.extensions.pop("pakn_marked_caches", None)


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
            user.totp_secret = seal(otp_secret(user.email))  # every staff member has a second factor
            user.totp_confirmed_at = utcnow()
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
    """``api_token("clerk", scopes=("read",))`` → headers with a bearer token for that user."""
    from pakn.auth.tokens import issue_token

    def headers(key: str, scopes: tuple[str, ...] = ("read", "write")) -> dict:
        with app.app_context(), transaction():
            raw, _ = issue_token(world.user(key), scopes=scopes)
        return {"Authorization": f"Bearer {raw}"}
    return headers


def otp_secret(email: str) -> str:
    """The TOTP secret the ``world`` fixture gives the account ``email`` (as its app would hold it)."""
    return base64.b32encode(hashlib.sha256(f"pakn-test:{email}".encode()).digest()[:20]).decode()


def otp_code(app, email: str, secret: str | None = None) -> str:
    """The code the user's authenticator app shows now, for a 30-s step not used yet.

    A code is accepted once only; when the current and next steps were both used already
    (three logins of one user within a minute), the fixture forgets the last used step,
    standing in for the user waiting for the next code.
    """
    import pyotp

    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        totp = pyotp.TOTP(secret or otp_secret(email))
        current = int(time.time() // 30)
        for step in (current, current + 1):
            if user is None or user.totp_last_step is None or step > user.totp_last_step:
                return totp.generate_otp(step)
        user.totp_last_step = None
        db.session.commit()
        return totp.generate_otp(current)


def second_step(client, email: str, **kwargs):
    """Answer the second step of a login (``/auth/code``) with the user's current code."""
    page = client.get("/auth/code", **kwargs)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post("/auth/code", data={"code": otp_code(client.application, email),
                                           "csrf_token": csrf_token(page.get_data(as_text=True))}, **kwargs)


def sign_in(client, email: str, password: str = PASSWORD, **kwargs):
    """Log in through the real forms: e-mail and password, then the TOTP code. Returns the last
    response (the redirect after the code, or the refused password page)."""
    page = client.get("/auth/login", **kwargs)
    response = client.post("/auth/login", data={
        "email": email, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))}, **kwargs)
    if response.status_code == 302 and response.headers["Location"].startswith("/auth/code"):
        return second_step(client, email.strip().lower(), **kwargs)
    if response.status_code == 302 and response.headers["Location"].startswith("/auth/enrol"):
        return enrol(client, email.strip().lower(), **kwargs)
    return response


def enrol(client, email: str, **kwargs):
    """First login of an account without a second factor: read the secret off the enrolment
    page as a user would type it into their app, and confirm it with the app's code.
    Returns the page listing the recovery codes (200)."""
    page = client.get("/auth/enrol", **kwargs)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    return client.post("/auth/enrol", data={"code": otp_code(client.application, email, secret),
                                            "csrf_token": csrf_token(html)}, **kwargs)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


@pytest.fixture
def login(client, world):
    """``login("clerk")`` logs the test client in through the real login forms, the second
    factor included; returns the last response (302 to the dashboard on success)."""
    def do(key: str, password: str = PASSWORD):
        return sign_in(client, f"{key}@pakn.test", password)
    return do


def pytest_report_header(config):
    return [f"pakn backends: {', '.join(BACKENDS)}; redis: {REDIS_URL or 'none (in-process jobs)'}"]




def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real headless Chromium (select with -m browser)")
