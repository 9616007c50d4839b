"""Uploads: type by content, limits, metadata stripped, no stray file, download headers."""
from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from pakn.extensions import db
from pakn.models import Attachment, Feedback
from pakn.operations import transaction
from pakn.storage import (
    StorageUnavailable, UploadRejected, attachment_path, delete_attachment, display_name, purge_orphan_files,
    send_attachment, store_generated, store_upload, validate_uploads,
)


# -- sample files, built here --------------------------------------------------------------
def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "CanonMarker"  # Make
    exif[0x0112] = 1  # Orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (10.0, 14.0, 59.0)
    gps[3] = "E"
    gps[4] = (106.0, 22.0, 1.0)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, comment=b"COMMENT-MARKER")
    data = out.getvalue()
    # The sample really carries GPS coordinates, or the test below could not fail.
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
    return data


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "PNG-TEXT-MARKER")
    out = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 0, 255, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def simple_pdf(extra_objects: list[bytes] = (), trailer_extra: bytes = b"") -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>", *extra_objects]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, trailer_extra, xref))
    return out.getvalue()


def docx_bytes(text: str = "Nội dung phản ánh") -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes(extra: dict[str, bytes] | None = None, content_type: str = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/><Override '
            f'PartName="/xl/workbook.xml" ContentType="{content_type}"/></Types>'))
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def ole2_bytes(*stream_names: str) -> bytes:
    """A minimal compound file (MS-CFB v3) whose directory holds empty streams with these names."""
    end, free, fatsect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 40, 0, 1, 1, 0, 4096, end, 0, end)
    struct.pack_into("<I", header, 76, 0)  # DIFAT[0]: the FAT is sector 0
    for i in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * i, free)
    fat = struct.pack("<II", fatsect, end) + struct.pack("<I", free) * 126

    def entry(name: str, kind: int, child: int = free, right: int = free) -> bytes:
        raw = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        raw[:len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 64, len(encoded), kind, 1)
        struct.pack_into("<III", raw, 68, free, right, child)
        struct.pack_into("<II", raw, 116, end, 0)
        return bytes(raw)

    names = list(stream_names)[:3]
    entries = [entry("Root Entry", 5, child=1 if names else free)]
    for i, name in enumerate(names, start=1):
        entries.append(entry(name, 2, right=i + 1 if i < len(names) else free))
    directory = b"".join(entries).ljust(512, b"\x00")
    return bytes(header) + fat + directory


ACCEPTED = {
    "jpg": (lambda: jpeg_with_gps(), "anh.JPG", "image/jpeg"),
    "png": (lambda: png_with_text(), "so-do.png", "image/png"),
    "pdf": (lambda: simple_pdf(), "don.pdf", "application/pdf"),
    "docx": (lambda: docx_bytes(), "van-ban.docx",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (lambda: xlsx_bytes(), "bang.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "doc": (lambda: ole2_bytes("WordDocument", "\x05SummaryInformation"), "cu.doc", "application/msword"),
    "xls": (lambda: ole2_bytes("Workbook"), "cu.xls", "application/vnd.ms-excel"),
}


def files_on_disk(app) -> list[Path]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def case_id(app, make_case):
    code, _ = make_case()
    with app.app_context():
        return db.session.scalar(select(Feedback.id).where(Feedback.code == code))


def clear_uploads(app) -> None:
    for path in files_on_disk(app):
        path.unlink()


@pytest.fixture(autouse=True)
def _clean_uploads(app):
    """Each test starts and ends with an empty upload folder (other test files leave committed files)."""
    clear_uploads(app)
    yield
    clear_uploads(app)


def upload(data: bytes, name: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type="application/octet-stream")


# -- accepted types ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(ACCEPTED))
def test_every_accepted_type_is_stored_under_a_random_name(app, case_id, kind):
    make, name, content_type = ACCEPTED[kind]
    data = make()
    with app.app_context():
        assert validate_uploads([upload(data, name)]) == []
        with transaction():
            att = store_upload(upload(data, name), feedback=db.session.get(Feedback, case_id))
        att = db.session.get(Attachment, att.id)
        assert att.content_type == content_type
        assert att.original_name.lower() == name.lower()
        path = attachment_path(att)
        assert path.is_file() and path.stat().st_size == att.size
        assert name.rsplit(".", 1)[0] not in att.stored_name  # never the submitted name
        assert Path(app.config["UPLOAD_FOLDER"]) in path.parents
        if kind not in ("jpg", "png"):
            assert path.read_bytes() == data  # documents are kept byte for byte
    assert len(files_on_disk(app)) == 1


def test_jpeg_gps_exif_and_comment_are_stripped(app, case_id):
    data = jpeg_with_gps()
    with app.app_context(), transaction():
        att = store_upload(upload(data, "hien-truong.jpg"), feedback=db.session.get(Feedback, case_id))
        stored = attachment_path(att).read_bytes()
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert not image.getexif()
    assert not image.getexif().get_ifd(0x8825)
    assert b"CanonMarker" not in stored and b"COMMENT-MARKER" not in stored and b"Exif" not in stored


def test_png_text_chunks_are_stripped(app, case_id):
    with app.app_context(), transaction():
        att = store_upload(upload(png_with_text(), "a.png"), feedback=db.session.get(Feedback, case_id))
        stored = attachment_path(att).read_bytes()
    assert b"PNG-TEXT-MARKER" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.mode == "RGBA" and image.getpixel((0, 0)) == (0, 0, 255, 128)


def test_exif_orientation_is_applied_before_stripping(app, case_id):
    img = Image.new("RGB", (40, 20), (0, 128, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    with app.app_context(), transaction():
        att = store_upload(upload(out.getvalue(), "doc.jpg"), feedback=db.session.get(Feedback, case_id))
        stored = Image.open(attachment_path(att))
        assert stored.size == (20, 40)


# -- refused content -----------------------------------------------------------------------
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"This program cannot be run in DOS mode"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.parametrize("data,name", [
    (EXE, "bao-cao.pdf"),
    (EXE, "anh.jpg"),
    (HTML, "anh.jpg"),
    (HTML, "trang.docx"),
    (SVG, "hinh.png"),
    (b"PK\x03\x04" + b"\x00" * 40, "hong.docx"),
    (b"\xff\xd8\xff\xe0 not really a jpeg", "anh.jpg"),
    (b"%PDF-1.4\n1 0 obj << >> endobj\n", "cut.pdf"),  # no %%EOF: truncated
    (ole2_bytes("PowerPoint Document"), "slides.doc"),
])
def test_wrong_content_is_refused_whatever_the_name(app, case_id, data, name):
    with app.app_context():
        errors = validate_uploads([upload(data, name)])
        assert len(errors) == 1 and errors[0].index == 0
        assert name in errors[0].text
        with pytest.raises(UploadRejected):
            with transaction():
                store_upload(upload(data, name), feedback=db.session.get(Feedback, case_id))
        assert db.session.scalar(select(Attachment.id)) is None
    assert files_on_disk(app) == []


def test_type_message_is_vietnamese_and_names_the_file(app):
    with app.test_request_context("/"):
        [error] = validate_uploads([upload(EXE, "giay-to.pdf")])
        assert error.text == ("Tệp “giay-to.pdf” không đúng định dạng cho phép. "
                              "Chỉ nhận tệp JPG, PNG, PDF, DOC, DOCX, XLS, XLSX.")


def test_plain_zip_and_other_office_formats_are_refused(app):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("payload.exe", EXE)
    pptx = xlsx_bytes(content_type="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml")
    with app.app_context():
        assert len(validate_uploads([("a.zip.docx", out.getvalue()), ("b.xlsx", pptx)])) == 2


@pytest.mark.parametrize("data,fragment", [
    (xlsx_bytes({"xl/vbaProject.bin": b"\x00" * 10}), "macro"),
    (xlsx_bytes(content_type="application/vnd.ms-excel.sheet.macroEnabled.main+xml"), "macro"),
    (ole2_bytes("WordDocument", "Macros"), "macro"),
    (ole2_bytes("Workbook", "_VBA_PROJECT_CUR"), "macro"),
])
def test_office_files_with_macros_are_refused(app, data, fragment):
    with app.app_context():
        [error] = validate_uploads([("tep.bin", data)])
        assert fragment in error.text


def _object_stream_with(body: bytes) -> bytes:
    packed = zlib.compress(b"4 0 " + body)
    return b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(packed) + \
        packed + b"\nendstream"


@pytest.mark.parametrize("pdf,expected", [
    (simple_pdf([b"<< /S /JavaScript /JS (app.alert(1)) >>"]), "mã lệnh"),
    (simple_pdf([b"<< /S /J#61vaScript /JS (app.alert(1)) >>"]), "mã lệnh"),
    (simple_pdf([b"<< /S /Launch /F (cmd.exe) >>"]), "mã lệnh"),
    (simple_pdf([b"<< /Names << /EmbeddedFiles << >> >> >>"]), "mã lệnh"),
    (simple_pdf([_object_stream_with(b"<< /S /JavaScript /JS (x) >>")]), "mã lệnh"),
    (simple_pdf([b"<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>"], b"/Encrypt 4 0 R "), "mật khẩu"),
])
def test_active_or_encrypted_pdf_is_refused(app, pdf, expected):
    with app.app_context():
        [error] = validate_uploads([("don.pdf", pdf)])
        assert expected in error.text


def test_pdf_with_harmless_compressed_stream_is_accepted(app):
    with app.app_context():
        assert validate_uploads([("don.pdf", simple_pdf([_object_stream_with(b"<< /Type /Font >>")]))]) == []


def test_zip_bomb_is_refused_before_inflating(app):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "spreadsheetml.sheet.main+xml")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/bomb.xml", b"\x00" * (50 * 1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024
    with app.app_context():
        [error] = validate_uploads([("bomb.xlsx", out.getvalue())])
        assert "bị hỏng" in error.text


def test_decompression_bomb_image_is_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_IMAGE_PIXELS", 1_000_000)
    out = io.BytesIO()
    Image.new("L", (2000, 2000)).save(out, "PNG")
    with app.app_context():
        [error] = validate_uploads([("huge.png", out.getvalue())])
        assert "kích thước quá lớn" in error.text


# -- limits --------------------------------------------------------------------------------
def test_oversized_file_is_refused_with_the_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_FILE_BYTES", 2 * 1024 * 1024)
    big = simple_pdf([b"(" + b"x" * (3 * 1024 * 1024) + b")"])
    with app.test_request_context("/"):
        [error] = validate_uploads([upload(big, "lon.pdf")])
        assert error.text == "Tệp “lon.pdf” vượt quá dung lượng cho phép (2 MB)."


def test_total_size_is_limited(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_TOTAL_BYTES", 3 * 1024 * 1024)
    part = simple_pdf([b"(" + b"x" * (2 * 1024 * 1024) + b")"])
    with app.test_request_context("/"):
        errors = validate_uploads([upload(part, "a.pdf"), upload(part, "b.pdf")])
        assert [e.text for e in errors] == ["Tổng dung lượng các tệp vượt quá 3 MB."]
        assert errors[0].index is None


def test_too_many_files(app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_FILES", 2)
    with app.test_request_context("/"):
        errors = validate_uploads([upload(simple_pdf(), f"{i}.pdf") for i in range(3)])
        assert [e.text for e in errors] == ["Chỉ được gửi tối đa 2 tệp."]


def test_empty_file_inputs_are_ignored_but_empty_files_are_not(app):
    with app.app_context():
        assert validate_uploads([FileStorage(io.BytesIO(b""), filename="")]) == []
        [error] = validate_uploads([FileStorage(io.BytesIO(b""), filename="rong.pdf")])
        assert "không có nội dung" in error.text


def test_rejection_maps_to_an_api_style_422(app):
    with app.test_request_context("/"):
        with pytest.raises(UploadRejected) as caught:
            store_upload(("x.pdf", EXE), feedback=Feedback(id=1))
        assert caught.value.status == 422
        assert [str(m) for m in caught.value.fields["attachments"]] == [caught.value.errors[0].text]


# -- names ---------------------------------------------------------------------------------
@pytest.mark.parametrize("submitted,expected", [
    ("../../etc/passwd", "passwd.pdf"),
    ("C:\\Users\\an\\Đơn kiến nghị.pdf", "Đơn kiến nghị.pdf"),
    ("a\x00b.pdf", "ab.pdf"),
    ("hoa\u202efdp.exe", "hoafdp.exe.pdf"),
    ("Tho\u0302ng ba\u0301o.PDF", "Thông báo.pdf"),  # NFD in, NFC out
    ("...", "tệp đính kèm.pdf"),
    ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
])
def test_display_names_are_sanitized(app, submitted, expected):
    with app.app_context():
        assert display_name(submitted, ".pdf") == expected


# -- transactions ----------------------------------------------------------------------------
def test_rollback_leaves_no_file_and_no_row(app, case_id):
    with app.app_context():
        with pytest.raises(RuntimeError):
            with transaction():
                store_upload(upload(simple_pdf(), "a.pdf"), feedback=db.session.get(Feedback, case_id))
                assert len(files_on_disk(app)) == 1  # written while the transaction is open
                raise RuntimeError("something later in the request failed")
        assert db.session.scalar(select(Attachment.id)) is None
    assert files_on_disk(app) == []


def test_savepoint_rollback_drops_only_its_own_files(app, case_id):
    with app.app_context():
        with transaction():
            case = db.session.get(Feedback, case_id)
            kept = store_upload(upload(simple_pdf(), "kept.pdf"), feedback=case)
            with pytest.raises(RuntimeError):
                with db.session.begin_nested():
                    store_upload(upload(simple_pdf(), "dropped.pdf"), feedback=case)
                    raise RuntimeError("inner step failed")
            kept_path = attachment_path(kept)
        assert [a.original_name for a in db.session.scalars(select(Attachment))] == ["kept.pdf"]
    assert files_on_disk(app) == [kept_path]


def test_closing_the_session_without_commit_leaves_no_file(app, case_id):
    with app.app_context():
        store_upload(upload(simple_pdf(), "a.pdf"), feedback=db.session.get(Feedback, case_id))
        db.session.remove()
    assert files_on_disk(app) == []


def test_disk_failure_is_a_503_and_leaves_nothing(app, case_id, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pakn.storage.os.replace", full)
    with app.app_context():
        with pytest.raises(StorageUnavailable) as caught:
            with transaction():
                store_upload(upload(simple_pdf(), "a.pdf"), feedback=db.session.get(Feedback, case_id))
        assert caught.value.status == 503
        assert db.session.scalar(select(Attachment.id)) is None
    assert files_on_disk(app) == []


def test_delete_attachment_removes_the_file_only_after_commit(app, case_id):
    with app.app_context():
        with transaction():
            att = store_upload(upload(simple_pdf(), "a.pdf"), feedback=db.session.get(Feedback, case_id))
        att_id = att.id
        with pytest.raises(RuntimeError):
            with transaction():
                delete_attachment(db.session.get(Attachment, att_id))
                raise RuntimeError
        assert len(files_on_disk(app)) == 1 and db.session.get(Attachment, att_id) is not None
        with transaction():
            delete_attachment(db.session.get(Attachment, att_id))
    assert files_on_disk(app) == []


def test_purge_removes_only_old_orphans(app, case_id):
    with app.app_context():
        with transaction():
            att = store_upload(upload(simple_pdf(), "a.pdf"), feedback=db.session.get(Feedback, case_id))
        root = Path(app.config["UPLOAD_FOLDER"])
        orphan = root / "ab" / ("ab" + "0" * 30 + ".pdf")
        orphan.parent.mkdir(parents=True, exist_ok=True)
        orphan.write_bytes(b"left by a killed worker")
        young = root / "cd" / ("cd" + "0" * 30 + ".pdf")
        young.parent.mkdir(parents=True, exist_ok=True)
        young.write_bytes(b"in flight")
        old = os.stat(orphan).st_mtime - 7200
        os.utime(orphan, (old, old))
        os.utime(attachment_path(att), (old, old))
        removed = purge_orphan_files(timedelta(hours=1))
        assert removed == [str(orphan.relative_to(root))]
        assert attachment_path(att).exists() and young.exists() and not orphan.exists()


# -- sending -------------------------------------------------------------------------------
def test_download_headers(app, case_id):
    with app.app_context():
        with transaction():
            att = store_upload(upload(simple_pdf(), "Đơn kiến nghị (bản 2).pdf"),
                               feedback=db.session.get(Feedback, case_id))
        with app.test_request_context("/"):
            response = send_attachment(att)
            response.direct_passthrough = False
            assert response.status_code == 200
            assert response.get_data() == simple_pdf()
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Don kien nghi (ban 2).pdf\"; "
        "filename*=UTF-8''%C4%90%C6%A1n%20ki%E1%BA%BFn%20ngh%E1%BB%8B%20%28b%E1%BA%A3n%202%29.pdf")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_inline_only_for_images(app, case_id):
    with app.app_context():
        with transaction():
            case = db.session.get(Feedback, case_id)
            image = store_upload(upload(png_with_text(), "a.png"), feedback=case, is_public=True)
            pdf = store_generated(simple_pdf(), feedback=case, filename="b.pdf", content_type="application/pdf")
        with app.test_request_context("/"):
            shown = send_attachment(image, as_download=False)
            forced = send_attachment(pdf, as_download=False)
    assert shown.headers["Content-Disposition"].startswith("inline; ")
    assert shown.headers["Cache-Control"] == "public, max-age=3600"
    assert forced.headers["Content-Disposition"].startswith("attachment; ")


def test_missing_file_is_404(app, case_id):
    from werkzeug.exceptions import NotFound

    with app.app_context():
        with transaction():
            att = store_upload(upload(simple_pdf(), "a.pdf"), feedback=db.session.get(Feedback, case_id))
        attachment_path(att).unlink()
        with app.test_request_context("/"), pytest.raises(NotFound):
            send_attachment(att)


def test_purge_cli(app, runner):
    root = Path(app.config["UPLOAD_FOLDER"])
    orphan = root / "ef" / ("ef" + "1" * 30 + ".png")
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"x")
    result = runner.invoke(args=["pakn", "purge-uploads", "--older-than-hours", "0"])
    assert result.exit_code == 0, result.output
    assert f"removed ef/{orphan.name}" in result.output and not orphan.exists()


from tests.test_web import compiled_catalogs, english  # noqa: E402,F401  (fixtures)


def test_messages_follow_the_visitor_language(english):
    with english.test_request_context("/?lang=en"):
        [error] = validate_uploads([upload(EXE, "giay-to.pdf")])
        assert error.text == ("The file “giay-to.pdf” is not in an accepted format. "
                              "Only JPG, PNG, PDF, DOC, DOCX, XLS and XLSX files are accepted.")


def test_wtforms_validator_puts_every_message_on_the_field(app, monkeypatch):
    from flask_wtf import FlaskForm
    from flask_wtf.file import MultipleFileField
    from werkzeug.datastructures import MultiDict

    from pakn.storage import ValidUploads

    class Form(FlaskForm):
        class Meta:
            csrf = False
        attachments = MultipleFileField("Tệp đính kèm", validators=[ValidUploads()])

    monkeypatch.setitem(app.config, "UPLOAD_MAX_FILES", 2)
    files = [upload(EXE, "a.pdf"), upload(simple_pdf(), "b.pdf"), upload(HTML, "c.jpg")]
    with app.test_request_context("/", method="POST"):
        form = Form(formdata=MultiDict([("attachments", f) for f in files]))
        assert not form.validate()
        assert form.attachments.errors == [
            "Chỉ được gửi tối đa 2 tệp.",
            "Tệp “a.pdf” không đúng định dạng cho phép. Chỉ nhận tệp JPG, PNG, PDF, DOC, DOCX, XLS, XLSX.",
            "Tệp “c.jpg” không đúng định dạng cho phép. Chỉ nhận tệp JPG, PNG, PDF, DOC, DOCX, XLS, XLSX."]
        ok = Form(formdata=MultiDict([("attachments", upload(simple_pdf(), "b.pdf"))]))
        assert ok.validate()


def test_attachment_of_another_case_is_404(app, make_case):
    from werkzeug.exceptions import NotFound

    from pakn.storage import case_attachment_or_404

    codes = [make_case()[0], make_case()[0]]
    with app.app_context():
        x, y = (db.session.scalar(select(Feedback).where(Feedback.code == c)) for c in codes)
        with transaction():
            private = store_upload(upload(simple_pdf(), "x.pdf"), feedback=x)
            public = store_upload(upload(simple_pdf(), "p.pdf"), feedback=x, is_public=True)
        assert case_attachment_or_404(x, str(private.id)) == private
        assert case_attachment_or_404(x, public.id, public_only=True) == public
        for case, wanted, public_only in [(y, private.id, False), (y, public.id, True), (x, private.id, True),
                                          (x, "1 OR 1=1", False), (x, None, False)]:
            with pytest.raises(NotFound):
                case_attachment_or_404(case, wanted, public_only=public_only)


def test_purge_sweeps_temporary_files_left_by_a_killed_worker(app):
    with app.app_context():
        tmp = Path(app.config["UPLOAD_FOLDER"]) / ".tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "up-half-written").write_bytes(b"partial")
        old = os.stat(tmp / "up-half-written").st_mtime - 7200
        os.utime(tmp / "up-half-written", (old, old))
        assert purge_orphan_files(timedelta(hours=1)) == [".tmp/up-half-written"]


def _stored_image(app, case_id, data: bytes, name: str) -> Image.Image:
    with app.app_context(), transaction():
        att = store_upload(upload(data, name), feedback=db.session.get(Feedback, case_id))
        return Image.open(io.BytesIO(attachment_path(att).read_bytes()))


def test_colour_profile_is_applied_then_dropped(app, case_id):
    from PIL import ImageCms

    out = io.BytesIO()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (8, 8), (250, 10, 10)).save(out, "JPEG", icc_profile=srgb, quality=100)
    assert Image.open(io.BytesIO(out.getvalue())).info.get("icc_profile")
    stored = _stored_image(app, case_id, out.getvalue(), "p3.jpg")
    assert "icc_profile" not in stored.info
    red, green, blue = stored.getpixel((4, 4))
    assert red > 230 and green < 40 and blue < 40


@pytest.mark.parametrize("mode,fmt,expected_mode", [
    ("I;16", "PNG", "L"), ("P", "PNG", "RGBA"), ("1", "PNG", "L"), ("LA", "PNG", "LA"), ("CMYK", "JPEG", "RGB"),
    ("L", "JPEG", "L"),
])
def test_unusual_image_modes_become_8_bit(app, case_id, mode, fmt, expected_mode):
    image = Image.new(mode, (6, 6))
    if mode == "I;16":
        image = Image.frombytes("I;16", (6, 6), (32768).to_bytes(2, "little") * 36)  # mid-grey
    if mode == "P":
        image.info["transparency"] = 0
    out = io.BytesIO()
    image.save(out, fmt)
    stored = _stored_image(app, case_id, out.getvalue(), "a." + fmt.lower())
    assert stored.mode == expected_mode
    if mode == "I;16":
        assert 120 <= stored.getpixel((0, 0)) <= 135  # scaled, not clipped to white


from tests.test_web import fresh_app  # noqa: E402,F401  (fixture)


def test_multipart_upload_refusal_is_the_api_422_envelope(fresh_app, english):
    """Through a real route, the app's error handler and the language switch."""
    from flask import request as flask_request

    def receive():
        errors = validate_uploads(flask_request.files.getlist("attachments"))
        if errors:
            raise UploadRejected(errors)
        return {"ok": True}

    from pakn.extensions import csrf

    fresh_app.add_url_rule("/api/v1/tep", "tep", csrf.exempt(receive), methods=["POST"])  # API: no cookie auth
    client = fresh_app.test_client()
    data = {"attachments": [(io.BytesIO(EXE), "giay-to.pdf"), (io.BytesIO(simple_pdf()), "don.pdf")]}
    response = client.post("/api/v1/tep", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "upload_rejected"
    assert error["fields"] == {"attachments": [
        "Tệp “giay-to.pdf” không đúng định dạng cho phép. Chỉ nhận tệp JPG, PNG, PDF, DOC, DOCX, XLS, XLSX."]}
    response = client.post("/api/v1/tep?lang=en", data={"attachments": [(io.BytesIO(EXE), "x.pdf")]},
                           content_type="multipart/form-data")
    assert response.get_json()["error"]["fields"]["attachments"][0].startswith("The file “x.pdf” is not")
    ok = client.post("/api/v1/tep", data={"attachments": [(io.BytesIO(simple_pdf()), "don.pdf")]},
                     content_type="multipart/form-data")
    assert ok.status_code == 200


def test_mangled_files_are_refused_or_accepted_never_a_crash(app):
    """Deterministic fuzzing: flipped, cut and spliced bytes of every accepted type."""
    import random

    rng = random.Random(20261124)
    samples = [make() for make, _, _ in ACCEPTED.values()]
    with app.app_context():
        for round_ in range(150):
            data = bytearray(rng.choice(samples))
            action = round_ % 3
            if action == 0:
                for _ in range(rng.randint(1, 20)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
            elif action == 1:
                data = data[:rng.randrange(8, len(data))]
            else:
                other = rng.choice(samples)
                cut = rng.randrange(8, len(data))
                data = data[:cut] + other[rng.randrange(len(other)):]
            errors = validate_uploads([("f.bin", bytes(data))])
            assert all(e.index == 0 and e.text for e in errors)


def test_an_unplanned_parser_failure_is_a_refusal_not_a_500(app, monkeypatch):
    def broken(data):
        raise KeyError("a crafted file broke a parser")

    monkeypatch.setattr("pakn.storage._detect", broken)
    with app.test_request_context("/"):
        [error] = validate_uploads([upload(simple_pdf(), "a.pdf")])
        assert error.text == "Tệp “a.pdf” bị hỏng hoặc không đọc được."
