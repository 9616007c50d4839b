"""Per-province settings: what an admin may change at /admin/settings without a restart.

Each setting is a config key (:mod:`pakn.config`, read from the environment at start-up) that a
``province_setting`` row may override. Code that shows or enforces one of them reads it with
:func:`value`, never from ``app.config``:

- the office's published contacts (``OFFICE_ADDRESS``, ``OFFICE_PHONE``, ``OFFICE_EMAIL``), shown
  on the guidance page;
- the upload limits (``UPLOAD_MAX_FILES``, ``UPLOAD_MAX_FILE_BYTES``, ``UPLOAD_MAX_TOTAL_BYTES``),
  enforced by :mod:`pakn.storage` and announced by the submission form.

Caching: the rows are kept per process and read again only after a change of the table
(:mod:`pakn.reference`: a token the database changes in the same transaction, read once per
request). A change saved by one gunicorn worker is in force in every worker from their next
request: no invalidation message, no restart, no stale window. The returned dict is shared:
callers copy it before changing it.

The clock settings have their own versioned table (:mod:`pakn.deadlines`, /admin/clock).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from workflows.engine import N_

from . import reference
from .extensions import db
from .models import ProvinceSetting


@dataclass(frozen=True)
class Setting:
    key: str
    label: str  # msgid
    kind: str  # "text", "email", "phone", "count", "bytes"
    group: str  # "contact" or "uploads"


SETTINGS: tuple[Setting, ...] = (
    Setting("OFFICE_ADDRESS", N_("Địa chỉ Văn phòng"), "text", "contact"),
    Setting("OFFICE_PHONE", N_("Điện thoại Văn phòng"), "phone", "contact"),
    Setting("OFFICE_EMAIL", N_("Thư điện tử Văn phòng"), "email", "contact"),
    Setting("UPLOAD_MAX_FILES", N_("Số tệp tối đa của một PAKN"), "count", "uploads"),
    Setting("UPLOAD_MAX_FILE_BYTES", N_("Dung lượng tối đa của một tệp (MB)"), "bytes", "uploads"),
    Setting("UPLOAD_MAX_TOTAL_BYTES", N_("Tổng dung lượng tối đa các tệp của một PAKN (MB)"), "bytes", "uploads"),
)
BY_KEY = {s.key: s for s in SETTINGS}

def _read_overrides() -> dict[str, object]:
    try:
        # In a savepoint: should the table be unreadable (an instance not migrated yet), the
        # caller's transaction survives and the defaults apply, rather than a 500.
        with db.session.begin_nested():
            return dict(db.session.execute(select(ProvinceSetting.key, ProvinceSetting.value)).all())
    except SQLAlchemyError:
        current_app.logger.warning("province settings unreadable; the config defaults apply", exc_info=True)
        return {}


def overrides() -> dict[str, object]:
    """The stored overrides (key → value), read again only after a change (pakn.reference)."""
    return reference.cached("province_settings", _read_overrides)


def forget() -> None:
    """After saving new values in this request: the rest of it sees them (pakn.reference)."""
    reference.forget()


def default(key: str):
    """The value from the environment (or :mod:`pakn.config`'s default)."""
    return current_app.config[key]


def value(key: str):
    """The setting in force: the admin's override if any, else the config default.

    Keys that are not per-province settings are read from the config (so callers may route
    every limit through here).
    """
    if key in BY_KEY:
        stored = overrides()
        if key in stored and stored[key] is not None:
            return stored[key]
    return current_app.config[key]


def megabytes(n: int) -> str:
    """A byte count as the MB an admin types and the form announces: 10485760 → "10", 2621440 → "2.5"."""
    return f"{n / (1024 * 1024):.4f}".rstrip("0").rstrip(".")


def init_app(app: Flask) -> None:
    """Templates read settings with ``setting('OFFICE_PHONE')``."""
    app.jinja_env.globals["setting"] = value
