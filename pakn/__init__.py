"""pakn: receiving and handling feedback on administrative regulations (phản ánh, kiến nghị)."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask, request, session
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import liveness
from .config import INSTANCE_DIR, Config, database_url
from .extensions import babel, csrf, db, login_manager, migrate


def select_locale() -> str:
    """Vietnamese unless the visitor chose another offered language (``?lang=en``)."""
    from flask import current_app

    offered = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang")
    if chosen in offered:
        session["lang"] = chosen
        return chosen
    return session.get("lang") if session.get("lang") in offered else current_app.config["BABEL_DEFAULT_LOCALE"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, CLI — in that order.

    ``config`` overrides the defaults and the environment (tests pass the database URL).
    Migrations are not run here: ``flask --app wsgi db upgrade`` does that.
    """
    app = Flask(__name__, template_folder="../templates", static_folder="static",
                instance_path=str(INSTANCE_DIR))
    settings = Config().as_dict()
    settings.update(config or {})
    if settings["SESSION_COOKIE_SECURE"] and "SESSION_COOKIE_NAME" not in (config or {}):
        settings["SESSION_COOKIE_NAME"] = "__Host-session"  # see Config.SESSION_COOKIE_NAME
        settings["REMEMBER_COOKIE_SECURE"] = True
    settings["SQLALCHEMY_DATABASE_URI"] = database_url(settings["SQLALCHEMY_DATABASE_URI"])
    # Statement parameters (citizens' names, addresses…) stay out of error messages and logs.
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = {"hide_parameters": True,
                                             **settings.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    app.config.from_mapping(settings)
    app.json.ensure_ascii = False  # Vietnamese stays readable (and shorter) in JSON responses

    from . import models  # noqa: F401  (registers the tables)

    db.init_app(app)
    if str(settings["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        with app.app_context():
            # A pooled connection that died with its server is replaced at checkout (no 500).
            liveness.watch(db.engine)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    app.jinja_env.globals["get_locale"] = get_locale  # Flask-Babel 4 does not expose it to templates
    if app.config.get("PROXY_COUNT"):
        # Behind N reverse proxies: trust their X-Forwarded-For/-Proto so the client address
        # (login throttling) and HTTPS detection (HSTS) are right.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"],
                                x_proto=app.config["PROXY_COUNT"])

    from .auth import session as auth_session
    from .web import converters, security

    converters.init_app(app)  # before the blueprints: ids in URLs bounded (a 404, not a 500)

    auth_session.init_app(app)
    security.init_app(app)
    from . import settings

    settings.init_app(app)  # per-province settings an admin changes at /admin/settings
    from . import log_privacy

    log_privacy.install()  # tokens, e-mail addresses and phone numbers masked in every log line

    from .agency_portal import bp as agency_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .web import bp as web_bp
    from .portal import bp as portal_bp, init_app as init_portal

    app.register_blueprint(web_bp)
    app.register_blueprint(portal_bp)
    init_portal(app)  # the portal's per-address rate limits (pakn.portal.limits)
    app.register_blueprint(auth_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    from .plans import bp as plans_bp
    from .reports import bp as reports_bp

    app.register_blueprint(plans_bp, url_prefix="/plans")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    from .deadlines import bp as deadlines_bp

    app.register_blueprint(deadlines_bp)  # /admin/calendar, /admin/clock, /admin/sla (issue 6)
    from .office import bp as office_bp

    app.register_blueprint(office_bp)
    from .admin import bp as admin_bp

    app.register_blueprint(admin_bp)  # /admin: the administration console (issue 9)
    app.register_blueprint(agency_bp)  # /agency
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, never with cookies alone
    from .open311 import init_app as init_open311

    init_open311(app)  # /open311/v2: GeoReport v2 (api_key, not cookies: CSRF-exempt there)

    import notifications

    notifications.init_app(app)  # after-commit relay, the staff bell, /notifications, /admin/outbox

    from .cli import pakn_cli

    app.cli.add_command(pakn_cli)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """On SQLite, enforce foreign keys and wait for locks instead of failing at once."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
        # SQLite's own lower() folds ASCII only; searches compare Vietnamese text case-insensitively.
        dbapi_connection.create_function(
            "lower", 1, lambda s: s.lower() if isinstance(s, str) else s, deterministic=True)
