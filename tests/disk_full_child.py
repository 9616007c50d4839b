"""Run inside ``unshare -m`` with a 1 MiB tmpfs mounted on the upload folder (see
tests/test_faults.py::test_upload_folder_full…): submit the public form while the disk is full,
and print what happened as JSON. The parent checks the database.

``python -m tests.disk_full_child DATABASE_URL UPLOAD_FOLDER SECRET_KEY``
"""
from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

from pakn import create_app

from .portal_support import FORM, form_values
from .test_storage import simple_pdf

FILLER = "filler.bin"
MESSAGE = "Không lưu được tệp đính kèm. Vui lòng thử lại sau."


def pdf_of(size: int) -> bytes:
    """A valid PDF of about ``size`` bytes (an uncompressed stream of zeros)."""
    return simple_pdf([b"<< /Length %d >>\nstream\n" % size + b"0" * size + b"\nendstream"])


def fill(folder: Path, leave: int) -> None:
    """Fill the file system, then give back ``leave`` bytes."""
    filler = folder / FILLER
    written = 0
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
                written += 65536
        except OSError:
            pass
    written = filler.stat().st_size
    os.truncate(filler, max(written - leave, 0))


def stored(folder: Path) -> dict:
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != FILLER)
    return {"files": [f for f in files if not f.startswith(".tmp/")], "tmp": [f for f in files if f.startswith(".tmp/")]}


def main(url: str, upload_folder: str, secret: str) -> None:
    folder = Path(upload_folder)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret,
                      "UPLOAD_FOLDER": upload_folder, "REDIS_URL": None, "NOTIFY_AFTER_COMMIT": False,
                      "RATELIMIT_ENABLED": False})
    client = app.test_client()

    def post(files):
        page = client.get("/gop-y")
        data = {**FORM, **form_values(page.get_data(as_text=True)),
                "attachments": [(io.BytesIO(body), name) for body, name in files]}
        response = client.post("/gop-y", data=data, content_type="multipart/form-data")
        html = response.get_data(as_text=True)
        return {"status": response.status_code, "message": MESSAGE in html,
                "kept": f'value="{FORM["submitter_name"]}"' in html, **stored(folder)}

    report = {}
    fill(folder, leave=64 * 1024)  # less free space than one file
    report["one_file_too_big"] = post([(pdf_of(200_000), "ảnh chụp hồ sơ.pdf")])
    os.unlink(folder / FILLER)
    fill(folder, leave=300 * 1024)  # room for the first file only
    report["second_file_does_not_fit"] = post([(pdf_of(200_000), "một.pdf"), (pdf_of(200_000), "hai.pdf")])
    os.unlink(folder / FILLER)
    report["space_again"] = post([(pdf_of(200_000), "một.pdf"), (pdf_of(200_000), "hai.pdf")])
    with app.app_context():
        from pakn.extensions import db

        db.engine.dispose()
    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:4])
