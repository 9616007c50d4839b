"""Helpers of the agency portal tests: a logged-in client per staff member, forms as users fill them."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from sqlalchemy import select

from pakn.extensions import db
from pakn.models import Feedback

from .conftest import csrf_token, sign_in


def staff_client(app, key: str):
    """A separate browser, logged in through the real login form as ``key``."""
    client = app.test_client()
    response = sign_in(client, f"{key}@pakn.test")
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def form_version(html: str, trigger: str) -> str:
    """The case version carried by the form of ``trigger`` on a page."""
    match = re.search(rf'name="{trigger}-version"[^>]*value="(\d+)"', html) or re.search(
        rf'value="(\d+)"[^>]*name="{trigger}-version"', html)
    assert match, f"no form for {trigger} on the page"
    return match.group(1)


def fill(client, code: str, trigger: str, fields: dict, page: str | None = None):
    """Load the page holding the form of ``trigger`` and post it with ``fields`` (unprefixed names)."""
    url = page or (f"/agency/cases/{code}/draft" if trigger == "draft_answer" else f"/agency/cases/{code}")
    html = client.get(url).get_data(as_text=True)
    data = {f"{trigger}-{k}": v for k, v in fields.items()}
    data["csrf_token"] = csrf_token(html)
    data[f"{trigger}-version"] = form_version(html, trigger)
    return client.post(f"/agency/cases/{code}/actions/{trigger}", data=data)


def case_by_code(code: str) -> Feedback:
    db.session.expire_all()
    return db.session.scalar(select(Feedback).where(Feedback.code == code))


def listed_codes(html: str) -> list[str]:
    """The case codes in the inbox table, in order."""
    return re.findall(r'<td><a href="/agency/cases/(PAKN-\d{4}-\d{6})">', html)


DRAFT = {
    "summary": "Trả lời về thời hạn cấp giấy phép xây dựng nhà ở riêng lẻ.",
    "findings": "<p>Quy định <strong>phù hợp</strong> với Luật Xây dựng.</p>",
    "outcome": "keep",
    "measures": "Chấn chỉnh bộ phận một cửa, rút ngắn thời gian luân chuyển hồ sơ.",
    "responsible_body": "Sở Xây dựng",
    "legal_refs": "Luật Xây dựng 2014; Nghị định 15/2021/NĐ-CP.",
    "body": ("Sở Xây dựng trân trọng cảm ơn ông/bà đã phản ánh. Qua rà soát, quy định về thời hạn "
             "cấp giấy phép là phù hợp; Sở đã chấn chỉnh việc luân chuyển hồ sơ."),
}


def post_draft_with_files(client, code, files, fields=None):
    """Post the draft form with ``files`` (name, bytes) in its file input."""
    html = client.get(f"/agency/cases/{code}/draft").get_data(as_text=True)
    data = {f"draft_answer-{k}": v for k, v in (fields or DRAFT).items()}
    data["csrf_token"] = csrf_token(html)
    data["draft_answer-version"] = form_version(html, "draft_answer")
    data["draft_answer-attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"/agency/cases/{code}/actions/draft_answer", data=data, content_type="multipart/form-data")


@pytest.fixture(autouse=True)
def clean_uploads(request):
    """Remove stored files after each test (tables are emptied by conftest; files are not)."""
    yield
    if "app" in request.fixturenames:
        root = Path(request.getfixturevalue("app").config["UPLOAD_FOLDER"])
        if root.exists():
            for path in root.rglob("*"):
                if path.is_file():
                    path.unlink()
