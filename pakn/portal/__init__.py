"""The citizen portal: guidance, the submission form, tracking, published answers, open data.

Public pages under Vietnamese paths (``/gop-y``, ``/tra-cuu``, ``/tra-loi``, ``/du-lieu-mo``,
``/thong-ke``, ``/huong-dan``). Views are thin: a case is created only through
:func:`pakn.operations.receive_feedback`; reads of published cases go through
:mod:`pakn.portal.public`, which never selects a submitter's personal data.
"""
from flask import Blueprint

bp = Blueprint("portal", __name__)

from . import routes  # noqa: E402,F401
from .limits import init_app  # noqa: E402,F401
