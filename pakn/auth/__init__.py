"""Staff authentication: session login pages, API bearer tokens, throttling."""
from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from . import routes  # noqa: E402,F401
