"""Staff authentication: session login pages, API bearer tokens, throttling."""
from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from . import routes  # noqa: E402,F401
from . import password_links  # noqa: E402,F401  (invitation and reset links)
