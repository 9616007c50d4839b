"""Plans and plan tasks: import (DOCX, text, CSV, XLSX) with a preview, units linked to
agencies, stage bindings, the plan dashboard. Pages under /plans/; admins manage plans,
office staff see the dashboards."""
from flask import Blueprint

bp = Blueprint("plans", __name__)

from . import routes  # noqa: E402,F401
