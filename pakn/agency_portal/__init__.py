"""The agency portal (/agency): sở, ban, ngành and UBND cấp xã handle the cases forwarded to
them and answer with a văn bản trả lời (Bến Tre KH 62 task 6.3).

Server-rendered, no JavaScript needed. Agency staff only (officers and leads); every case,
count, search hit and export is limited to the user's own agency by :mod:`pakn.access`,
and anything outside it answers 404.
"""
from flask import Blueprint

bp = Blueprint("agency", __name__, url_prefix="/agency")

from . import routes  # noqa: E402,F401
