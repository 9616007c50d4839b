"""Open311 GeoReport v2 at /open311/v2 (http://wiki.open311.org/GeoReport_v2).

Existing Open311 clients and city apps file PAKN and follow them with the standard's own
endpoints, field names and error format, in JSON and XML:

* ``discovery``, ``services`` (one service per active field, *lĩnh vực*), ``services/<code>``
  (the definition: our attributes ``kind``, ``subject`` = the title, ``proposal``,
  ``submitter_address``, ``organisation``);
* ``POST requests`` with an ``api_key`` (an API token holding the ``open311`` scope, issued by
  an admin): the item becomes a case through :func:`pakn.operations.receive_feedback`
  (channel ``api``), synchronously, so the answer carries ``service_request_id`` (our case
  code). The submitter's tracking token goes to the submitter in the receipt, as for every
  channel; it is never given to the client;
* ``GET requests``, ``GET requests/<id>``: status (open/closed), dates, field, and only what
  is published (status notes, agency, title/summary); never the submitter's name, phone,
  e-mail, address or the place the client gave, unless the published text names that place;
* ``tokens/<token>``: the standard's token is our tracking token (the one in the receipt),
  so a client holding it can learn the case code.

See :mod:`pakn.open311.routes` for the mapping of every parameter and field.
"""
from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, current_app, request

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")


def client_key() -> str:
    """Rate-limit key of a POST: the client's api_key (hashed), or its address without one."""
    raw = request.form.get("api_key") or request.args.get("api_key")
    if not raw and request.is_json:
        body = request.get_json(silent=True)
        raw = body.get("api_key") if isinstance(body, dict) else None
    if raw and isinstance(raw, str):
        return "key:" + hashlib.sha256(raw.encode()).hexdigest()[:32]
    return "addr:" + (request.remote_addr or "unknown")


def init_app(app: Flask) -> None:
    """Register the blueprint, exempt it from CSRF and limit its POSTs (after the portal's
    limiter exists)."""
    from ..extensions import csrf
    from ..portal.limits import limiter_of
    from . import routes  # noqa: F401  (registers the views on bp)

    app.register_blueprint(bp)
    # Clients authenticate every write with their api_key in the request itself, never with a
    # session cookie, so a forged cross-site request carries no credential: CSRF cannot apply.
    csrf.exempt(bp)
    limiter = limiter_of(app)
    endpoint = "open311.post_request"
    app.view_functions[endpoint] = limiter.limit(
        lambda: current_app.config["OPEN311_POST_LIMIT"], key=client_key, scope="open311-post")(
        app.view_functions[endpoint])
