"""The JSON API, /api/v1.

``errors`` (the API's own refusals), ``auth`` (bearer token or session), ``inputs``
(JSON bodies, query strings, the case version) and ``routes`` (thin views) register on
this blueprint. Importing the views imports :mod:`pakn.schemas`, which makes marshmallow's
messages Vietnamese for the whole app.
"""
from flask import Blueprint

bp = Blueprint("api", __name__)

from . import errors, resources, routes  # noqa: E402,F401
