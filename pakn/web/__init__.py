"""Pages shared by everyone: the home page, the staff dashboard, language switching, errors."""
from flask import Blueprint

bp = Blueprint("web", __name__)

from . import errors, filters, routes  # noqa: E402,F401
