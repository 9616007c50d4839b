"""Configuration: the embedded default, generated secret key, database URLs."""
from __future__ import annotations

import importlib
import time

import pytest

from pakn import config as config_module
from pakn.extensions import db


@pytest.fixture
def fresh_config(tmp_path, monkeypatch):
    """The config module reloaded with its instance folder in a temporary directory."""
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAKN_INSTANCE_DIR", str(tmp_path))
    module = importlib.reload(config_module)
    yield module, tmp_path
    monkeypatch.undo()
    importlib.reload(config_module)


def test_the_embedded_default_is_sqlite_with_in_process_jobs(fresh_config):
    module, tmp = fresh_config
    cfg = module.Config()
    assert cfg.SQLALCHEMY_DATABASE_URI == f"sqlite:///{tmp / 'pakn.sqlite3'}"
    assert cfg.REDIS_URL is None
    assert cfg.BABEL_DEFAULT_LOCALE == "vi" and cfg.TIMEZONE == "Asia/Ho_Chi_Minh"


def test_the_secret_key_is_generated_once_and_kept(fresh_config):
    module, tmp = fresh_config
    first = module.Config().SECRET_KEY
    assert len(first) >= 40
    assert (tmp / "secret_key").read_text().strip() == first
    assert (tmp / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only
    assert module.Config().SECRET_KEY == first


def test_an_explicit_secret_key_wins(fresh_config, monkeypatch):
    module, tmp = fresh_config
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert module.Config().SECRET_KEY == "from-the-environment"
    assert not (tmp / "secret_key").exists()


@pytest.mark.parametrize("url, expected", [
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_database_urls_get_the_psycopg3_driver(url, expected):
    assert config_module.database_url(url) == expected


def test_pooled_connections_the_server_ended_are_replaced_without_an_error(app):
    """pakn.liveness: connections ended by the server while pooled (pg_terminate_backend, as
    on a restart or an idle timeout) are found at checkout and replaced; the pages answer."""
    if app.config["BACKEND"] != "postgresql":
        pytest.skip("PostgreSQL's pooled connections")
    from sqlalchemy import create_engine, text

    client = app.test_client()
    assert client.get("/tra-loi").status_code == 200
    with app.app_context():
        # Three connections in the pool, each with its server process id.
        held = [db.engine.connect() for _ in range(3)]
        pids = [conn.execute(text("SELECT pg_backend_pid()")).scalar() for conn in held]
        for conn in held:
            conn.close()
        url = db.engine.url
    other = create_engine(url)
    with other.connect() as conn:
        ended = conn.execute(text("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM unnest(:pids) AS pid"),
                             {"pids": pids}).scalar()
        # pg_terminate_backend only signals: wait until the three have closed their connections
        # (as after a restart, when the next request comes).
        for _ in range(100):
            if not conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                                {"pids": pids}).scalar():
                break
            time.sleep(0.05)
    other.dispose()
    assert ended == 3
    for _ in range(4):  # every pooled connection is dead: each checkout finds one and replaces it
        assert client.get("/tra-loi").status_code == 200
    assert client.get("/gop-y").status_code == 200
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() not in pids


def test_a_new_secret_key_ends_the_sessions_unless_the_old_one_is_a_fallback(tmp_path):
    """The session's signer is kept per app (pakn.web.security.SessionInterface), and follows
    a change of SECRET_KEY or SECRET_KEY_FALLBACKS (key rotation)."""
    from pakn import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'k.sqlite3'}",
                      "SECRET_KEY": "the-first-key", "REDIS_URL": None})
    client = app.test_client()
    with client.session_transaction() as session:
        session["tracked"] = [7]
    with client.session_transaction() as session:
        assert session.get("tracked") == [7]
    app.secret_key = app.config["SECRET_KEY"] = "the-second-key"
    with client.session_transaction() as session:
        assert "tracked" not in session  # signed with a key no longer accepted
    app.config["SECRET_KEY_FALLBACKS"] = ["the-first-key"]
    with client.session_transaction() as session:
        assert session.get("tracked") == [7]
