"""Periodic PAKN reports (quarterly Q1–Q3 and annual) per agency and field, the office's
consolidated provincial report, filing them, and their XLSX/PDF exports. Pages under
/reports/; office staff and admins see every agency, an agency sees only its own."""
from flask import Blueprint

bp = Blueprint("reports", __name__)

from . import routes  # noqa: E402,F401
