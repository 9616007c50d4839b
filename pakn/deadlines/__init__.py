"""Deadlines (issue 6): calendar and clock administration, due-date explanations, the sweep, SLA figures.

- ``/admin/calendar`` (admin): the year's working and non-working days with their reasons,
  overlay entries with their legal basis, CSV import with preview;
- ``/admin/clock`` (admin): versioned clock settings;
- ``/admin/calendar/explain`` (admin and office): how a due date was computed;
- ``/admin/sla`` (admin and office): on-time / overdue figures by agency, field and stage.

Modules: :mod:`.admin` (the audited operations), :mod:`.sweep` (``run_sweep``), :mod:`.jobs`
and :mod:`.cron` (the periodic RQ job), :mod:`.sla` (``sla_rows``).
"""
from flask import Blueprint

bp = Blueprint("deadlines", __name__, url_prefix="/admin")

from . import views  # noqa: E402,F401
