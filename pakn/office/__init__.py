"""The office console (Văn phòng UBND tỉnh): inbox, case page, classification, intake,
answer check, redaction and publication, register book, deadline board, routing rules.

Only office staff reach it (admins too, for the routing rules); everyone else, signed in
or not, gets 404 for every /office URL, so the console's existence leaks nothing.
"""
from flask import Blueprint, abort, request
from flask_login import current_user

from workflows.glossary import OFFICE_ROLES, Role

bp = Blueprint("office", __name__, url_prefix="/office")

#: Endpoints an admin may use too (managing the routing rules); the rest is office staff only.
ADMIN_ENDPOINTS = ("office.routing_rules", "office.routing_rule_add", "office.routing_rule_toggle")


@bp.before_request
def _office_only():
    if not current_user.is_authenticated:
        abort(404)
    if current_user.role in OFFICE_ROLES:
        return None
    if current_user.role == Role.ADMIN and request.endpoint in ADMIN_ENDPOINTS:
        return None
    abort(404)


from . import batch, routes  # noqa: E402,F401
