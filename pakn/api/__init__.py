"""The JSON API, /api/v1."""
from flask import Blueprint

bp = Blueprint("api", __name__)
