"""Helpers shared by the portal's HTTP and browser tests."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pakn.extensions import db
from pakn.models import Feedback
from pakn.operations import apply_transition, transaction

#: Unique markers as personal data: no public response may ever contain one.
CANARY = {
    "submitter_name": "Canarynamexq Trần Thị Bích",
    "submitter_organisation": "Canaryorgxq Công ty TNHH",
    "submitter_address": "Canaryaddrxq 99 đường Lê Lợi, phường 2",
    "submitter_phone": "0987650321",
    "submitter_email": "canarymailxq@example.org",
}
CANARY_MARKERS = ("Canarynamexq", "Canaryorgxq", "Canaryaddrxq", "0987650321", "098 765 0321",
                  "canarymailxq", "Trần Thị Bích")

FORM = {
    "kind": "phan_anh",
    "subject": "quy_dinh",
    "field": "",
    "title": "Chậm cấp giấy chứng nhận quyền sử dụng đất",
    "content": "Hồ sơ cấp giấy chứng nhận quyền sử dụng đất của tôi nộp đã hơn 40 ngày chưa có kết quả.",
    "proposal": "",
    "submitter_name": "Lê Văn Bình",
    "submitter_organisation": "",
    "submitter_address": "Số 5 đường 3/2, phường 1, tỉnh Vĩnh Long",
    "submitter_phone": "0912 345 678",
    "submitter_email": "binh.le@example.com",
    "declaration": "y",
}


def form_values(html: str) -> dict:
    """The CSRF token and the form key of the submission form in ``html``."""
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    key = re.search(r'name="form_key"[^>]*value="([0-9a-f]{32})"', html)
    if key is None:
        key = re.search(r'id="form_key"[^>]*value="([0-9a-f]{32})"', html)
    return {"csrf_token": token, "form_key": key.group(1)}


def publish(app, code: str, title: str, summary: str, answer: str, user) -> None:
    """Publish a notified case with the given public texts, through the operations layer."""
    with app.app_context(), transaction():
        case = db.session.query(Feedback).filter_by(code=code).one()
        apply_transition(case, "publish", user(), {"public_title": title, "public_summary": summary,
                                                   "public_answer": answer})


@pytest.fixture(autouse=True)
def _empty_upload_folder(app):
    """Files stored by a test go with its rows (the tables are emptied after every test)."""
    yield
    shutil.rmtree(Path(app.config["UPLOAD_FOLDER"]), ignore_errors=True)
