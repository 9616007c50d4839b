"""The administration console (/admin): agencies and their levels, users, fields, per-province
settings, API tokens, the audit log; and links to the admin pages built elsewhere (calendar and
clock settings, SLA, outbox, routing rules, plans).

Admins only: anyone else, signed in or not, gets 404 for every URL of this blueprint, as in the
office console. Views are thin; every change goes through :mod:`pakn.operations.admin`.
"""
from flask import Blueprint, abort
from flask_login import current_user

from workflows.glossary import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admin_only():
    if not current_user.is_authenticated or current_user.role != Role.ADMIN.value:
        abort(404)


from . import routes  # noqa: E402,F401
