"""The Flask app a job runs in: built once per process, safe across RQ's fork per job.

A job module must not build the app at import time. :func:`job_app` builds it on first use
(from the environment, like ``wsgi.py``); in a forked work horse it drops the connection pool
inherited from the parent without closing the parent's connections (SQLAlchemy's fork recipe).
When a job runs in-process (embedded mode) it uses the app that is already running.
"""
from __future__ import annotations

import os

from flask import Flask, current_app, has_app_context

_app: Flask | None = None
_pid: int | None = None


def job_app() -> Flask:
    """The current app if there is one, else this process's own app."""
    global _app, _pid
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _app is None:
        from pakn import create_app

        _app, _pid = create_app(), os.getpid()
    elif _pid != os.getpid():
        from pakn.extensions import db

        with _app.app_context():
            db.engine.dispose(close=False)  # connections belong to the parent process
        _pid = os.getpid()
    return _app


def preload() -> Flask:
    """Build the app in a worker's main process, so work horses fork it ready-made: mappers
    configured and every e-mail template compiled (a forked horse starts from the parent's
    memory; anything it builds itself is lost when it exits)."""
    from sqlalchemy.orm import configure_mappers

    app = job_app()
    configure_mappers()
    env = app.jinja_env
    for name in env.list_templates(filter_func=lambda n: n.startswith("emails/")):
        env.get_template(name)
    return app
