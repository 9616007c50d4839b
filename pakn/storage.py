"""Uploaded and generated files: validated by content, stored outside static, sent only after an access check.

Public API (everything else is private):

``validate_uploads(files) -> list[UploadError]``
    Check every file of a form before anything is created: count, type by content, per-file
    and total size, images decodable. ``files`` is a list of werkzeug ``FileStorage`` (e.g.
    ``request.files.getlist("attachments")``) or of ``(filename, bytes)`` pairs. An empty
    file input (no filename, no bytes) is ignored, so an unused ``<input type=file>`` is fine.
    The streams are rewound, so the same objects can then go to :func:`store_upload` (which
    reuses the checked, re-encoded bytes of a ``FileStorage`` instead of decoding it again).
    An empty list means every file is acceptable. Limits (``pakn/config.py``):
    ``UPLOAD_MAX_FILES``, ``UPLOAD_MAX_FILE_BYTES``, ``UPLOAD_MAX_TOTAL_BYTES``,
    ``UPLOAD_MAX_IMAGE_PIXELS``, ``UPLOAD_MAX_UNZIPPED_BYTES``; a request body larger than
    ``MAX_CONTENT_LENGTH`` is refused by Flask with 413 before any of this runs.

``store_upload(file, *, feedback, uploaded_by=None, answer=None, is_public=False, filename=None) -> Attachment``
    Validate one file (raises :class:`UploadRejected`, a 422 ``InvalidPayload``), re-encode
    it if it is an image, write it under ``UPLOAD_FOLDER`` with a random name, add the
    ``Attachment`` row and **flush only**: the caller's ``transaction()`` commits. ``file`` is
    a ``FileStorage``, ``bytes`` (then pass ``filename``) or a ``(filename, bytes)`` pair;
    ``filename`` overrides the submitted name. ``original_name`` of the row is the sanitized
    display name, with the extension of the detected type.
    If the transaction (or the savepoint the file was stored in) rolls back, the file is
    deleted from disk; it is kept only when the outermost transaction commits.
    Raises :class:`StorageUnavailable` (503) when the disk refuses the write (full, read-only).

``store_generated(data, *, feedback, filename, content_type, uploaded_by=None, answer=None, is_public=False) -> Attachment``
    Store bytes the application made itself (the documents of :mod:`pakn.documents`); no
    content checks, same naming, rollback and flush rules.

``ValidUploads()``
    A WTForms validator for a ``FileField`` / ``MultipleFileField``: runs
    :func:`validate_uploads` on the field's data and puts every message on the field
    (``field.errors``), so the form shows them next to the file input and in its summary.

``delete_attachment(attachment)``
    Delete the row now (flush) and the file once the transaction commits (kept on rollback).

``send_attachment(attachment, *, as_download=True) -> Response``
    For views that have ALREADY checked that the current user may see this attachment (and
    that it belongs to the case in the URL): the stored bytes with the stored Content-Type,
    ``Content-Disposition: attachment`` (or ``inline`` for images when ``as_download=False``;
    other types are always downloads) with an ASCII ``filename`` and an RFC 5987
    ``filename*=UTF-8''…``, ``X-Content-Type-Options: nosniff``, a sandboxing CSP and
    ``Cache-Control: private, no-store`` unless the attachment is public. A missing file is 404.

``case_attachment_or_404(case, attachment_id, *, public_only=False) -> Attachment``
    The attachment ``attachment_id`` of THIS case, or 404: use it in download views so an
    attachment of case X is never served through case Y's URL (child-object IDOR). With
    ``public_only`` only attachments marked public are found. It checks nothing about the
    user: the view must already have checked that the user may see ``case``.

``purge_orphan_files(older_than=timedelta(hours=1), *, now=None) -> list[str]``
    Delete files under ``UPLOAD_FOLDER`` that no ``Attachment`` row names, and abandoned
    temporary files, older than ``older_than`` (younger ones may belong to a transaction in
    flight). Returns the relative paths removed. CLI: ``flask --app wsgi pakn purge-uploads``.

``attachment_path(attachment) -> pathlib.Path``; ``display_name(submitted) -> str`` (the
sanitized name shown to people); ``ACCEPTED_TYPES`` (kind → :class:`FileType`).

Errors. :class:`UploadError` has ``index`` (position among the non-blank files given, or
``None`` for the count and total-size errors, which concern the whole set), ``filename``
(sanitized), ``message`` (Vietnamese msgid), ``params``, and ``text`` (the message localized
for the current request, ready to show next to the file field). :class:`UploadRejected`
carries ``errors`` and, as an ``InvalidPayload``, ``fields={"attachments": [text, …]}``, so
the JSON API answers 422 with the per-file messages.

Decisions (see also reliability.md I4–I6, P7, F8, D6):

* Type is decided by the bytes, never the name or the browser's Content-Type: JPEG and
  PNG by signature and a full Pillow decode; PDF by ``%PDF-`` at offset 0 and ``%%EOF`` at
  the end; DOCX/XLSX by the ZIP signature, then the ZIP directory (bounded entry count,
  total uncompressed size and compression ratio, checked before anything is inflated),
  ``[Content_Types].xml`` with the main document type and parts under ``word/`` / ``xl/``
  (PowerPoint, ODF, JAR or plain archives are refused); DOC/XLS by the
  OLE2 signature and the compound file's directory (``WordDocument`` / ``Workbook``).
* Refused although well-formed: encrypted PDFs (staff could not read or redact them);
  PDFs with JavaScript, launch actions, embedded files, rich media or XFA forms (names
  looked for in the raw bytes and inside every Flate stream, with ``#xx`` escapes decoded);
  Office files with macros (``vbaProject.bin``, macro-enabled content types, OLE ``Macros``
  / ``_VBA_PROJECT_CUR`` storages). Other content of PDF/Office files is stored as sent and
  always served as a download with ``nosniff`` and a sandboxing CSP.
* Images are decoded (at most ``UPLOAD_MAX_IMAGE_PIXELS`` pixels, checked from the header
  before decoding: decompression bombs never reach memory), turned upright from their EXIF
  orientation, converted to 8-bit sRGB (an embedded colour profile is applied, then
  dropped) and re-encoded from raw pixels: no EXIF (GPS, camera serials), XMP, ICC,
  comments or text chunks survive. JPEG stays JPEG (quality 90), PNG stays PNG.
* Stored names are 32 random hex digits plus the canonical extension, in a two-character
  sub-folder; the submitted name is kept (NFC, no path, no control or bidi characters, at
  most 120 characters) only for display and the download name.
"""
from __future__ import annotations

import io
import os
import re
import secrets
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence
from urllib.parse import quote

from flask import abort, current_app, has_request_context, send_file
from flask_babel import lazy_gettext
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from workflows.engine import N_

from .extensions import db
from .models import Attachment
from .operations.errors import InvalidPayload, OperationError

__all__ = [
    "ACCEPTED_TYPES", "FileType", "StorageUnavailable", "UploadError", "UploadRejected", "ValidUploads",
    "attachment_path", "case_attachment_or_404",
    "delete_attachment", "display_name", "purge_orphan_files", "send_attachment", "store_generated",
    "store_upload", "validate_uploads",
]


@dataclass(frozen=True)
class FileType:
    """An accepted type: its code, the Content-Type it is served with and its extension."""

    kind: str
    content_type: str
    extension: str
    aliases: tuple[str, ...] = ()

    @property
    def is_image(self) -> bool:
        return self.kind in ("jpg", "png")


ACCEPTED_TYPES: dict[str, FileType] = {t.kind: t for t in (
    FileType("jpg", "image/jpeg", ".jpg", (".jpeg", ".jpe", ".jfif")),
    FileType("png", "image/png", ".png"),
    FileType("pdf", "application/pdf", ".pdf"),
    FileType("doc", "application/msword", ".doc"),
    FileType("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    FileType("xls", "application/vnd.ms-excel", ".xls"),
    FileType("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
)}

# -- messages (Vietnamese msgids; English in the catalog) -----------------------------------
MSG_TOO_MANY = N_("Chỉ được gửi tối đa %(count)s tệp.")
MSG_TOTAL_TOO_LARGE = N_("Tổng dung lượng các tệp vượt quá %(limit)s.")
MSG_TOO_LARGE = N_("Tệp “%(name)s” vượt quá dung lượng cho phép (%(limit)s).")
MSG_EMPTY = N_("Tệp “%(name)s” không có nội dung.")
MSG_TYPE = N_("Tệp “%(name)s” không đúng định dạng cho phép. Chỉ nhận tệp JPG, PNG, PDF, DOC, DOCX, XLS, XLSX.")
MSG_CORRUPT = N_("Tệp “%(name)s” bị hỏng hoặc không đọc được.")
MSG_IMAGE_PIXELS = N_("Ảnh “%(name)s” có kích thước quá lớn (tối đa %(megapixels)s megapixel).")
MSG_PDF_ENCRYPTED = N_("Tệp PDF “%(name)s” được đặt mật khẩu hoặc mã hóa. Vui lòng gửi bản không đặt mật khẩu.")
MSG_PDF_ACTIVE = N_("Tệp PDF “%(name)s” chứa mã lệnh hoặc tệp nhúng nên không được chấp nhận.")
MSG_MACRO = N_("Tệp “%(name)s” chứa macro nên không được chấp nhận.")
MSG_STORAGE = N_("Không lưu được tệp đính kèm. Vui lòng thử lại sau.")
DEFAULT_NAME = "tệp đính kèm"  # stored data, not UI text: never translated


class UploadError:
    """One refusal, about one file (``index``) or the whole set (``index`` is None)."""

    def __init__(self, message: str, index: int | None = None, filename: str | None = None, **params: Any):
        self.message, self.index, self.filename = message, index, filename
        self.params = {"name": filename, **params} if filename is not None else dict(params)

    @property
    def text(self) -> str:
        """The message in the current request's language (Vietnamese outside a request)."""
        if has_request_context():
            return str(lazy_gettext(self.message, **self.params))
        return self.message % self.params if self.params else self.message

    def lazy(self):
        """A lazy string, translated when rendered (for ``InvalidPayload.fields``)."""
        return lazy_gettext(self.message, **self.params) if has_request_context() else self.text

    def __repr__(self) -> str:
        return f"<UploadError {self.index} {self.message % self.params if self.params else self.message}>"


class UploadRejected(InvalidPayload):
    """One or more files were refused (422); nothing was written."""

    code = "upload_rejected"

    def __init__(self, errors: Sequence[UploadError]):
        super().__init__({"attachments": [e.lazy() for e in errors]})
        self.errors = list(errors)


class StorageUnavailable(OperationError):
    """The file could not be written (disk full, read-only…): 503, the transaction rolls back."""

    status = 503
    code = "storage_unavailable"

    def __init__(self) -> None:
        super().__init__(MSG_STORAGE)


# -- limits ------------------------------------------------------------------------------
def _limit(name: str) -> int:
    from .settings import value  # an admin's per-province override, else the config default

    return int(value(name))


def _human_size(n: int) -> str:
    mib = n / (1024 * 1024)
    return f"{mib:.0f} MB" if mib >= 1 and mib == int(mib) else (f"{mib:.1f} MB" if mib >= 1 else f"{n // 1024} KB")


# -- names -------------------------------------------------------------------------------
_UNSAFE_NAME_CHARS = re.compile(r'[\\/:*?"<>|]')


def display_name(submitted: str | None, extension: str | None = None) -> str:
    """The submitted name made safe to show and to offer as a download name.

    NFC; only the last path component; no control, format (bidi overrides, zero-width) or
    reserved characters; no leading dots; at most 120 characters keeping the extension.
    With ``extension`` (".pdf"), the name is made to end with it when it does not already
    end with that type's extension.
    """
    name = unicodedata.normalize("NFC", submitted or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C",) and ch not in "\u2028\u2029")
    name = _UNSAFE_NAME_CHARS.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(". ").strip()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if extension:
        accepted = {extension, *next((t.aliases for t in ACCEPTED_TYPES.values() if t.extension == extension), ())}
        if dot and f".{ext.lower()}" in accepted:
            ext = ext.lower()
        else:
            stem, ext = (name, extension[1:])
        stem = stem.strip() or DEFAULT_NAME
        stem = stem[: 120 - len(ext) - 1].rstrip()
        return f"{stem}.{ext}"
    return (name or DEFAULT_NAME)[:120]


# -- type detection ---------------------------------------------------------------------
class _Refused(Exception):
    def __init__(self, message: str, **params: Any):
        self.message, self.params = message, params


@dataclass
class PreparedUpload:
    """A file that passed every check, with the bytes to store (re-encoded for images)."""

    filetype: FileType
    data: bytes
    name: str  # sanitized display name


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PNG = b"\x89PNG\r\n\x1a\n"


def _detect(data: bytes) -> FileType:
    if data.startswith(b"\xff\xd8\xff"):
        return ACCEPTED_TYPES["jpg"]
    if data.startswith(_PNG):
        return ACCEPTED_TYPES["png"]
    if data.startswith(b"%PDF-"):
        _check_pdf(data)
        return ACCEPTED_TYPES["pdf"]
    if data.startswith(b"PK\x03\x04"):
        return ACCEPTED_TYPES[_check_ooxml(data)]
    if data.startswith(_OLE2):
        return ACCEPTED_TYPES[_check_ole2(data)]
    raise _Refused(MSG_TYPE)


# PDF ------------------------------------------------------------------------------------
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|GoToE|SubmitForm|ImportData)"
                         rb"(?![A-Za-z0-9#])")
_PDF_ENCRYPT = re.compile(rb"/Encrypt(?![A-Za-z0-9#])")
_PDF_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream\r?\n")
#: Bytes inflated per stream, and in all, when looking for active content.
_PDF_INFLATE_PER_STREAM = 8 * 1024 * 1024
_PDF_INFLATE_TOTAL = 64 * 1024 * 1024


def _pdf_names(chunk: bytes) -> bytes:
    """Names with ``#xx`` escapes decoded (``/J#61vaScript`` is ``/JavaScript``)."""
    return _PDF_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), chunk) if b"#" in chunk else chunk


def _check_pdf(data: bytes) -> None:
    if b"%%EOF" not in data[-2048:]:
        raise _Refused(MSG_CORRUPT)
    plain = _pdf_names(data)
    if _PDF_ENCRYPT.search(plain):
        raise _Refused(MSG_PDF_ENCRYPTED)
    if _PDF_ACTIVE.search(plain):
        raise _Refused(MSG_PDF_ACTIVE)
    # Object streams (PDF 1.5+) hide dictionaries inside Flate data: inflate each stream
    # (bounded, so a compression bomb costs a few milliseconds) and look again.
    budget = _PDF_INFLATE_TOTAL
    for match in _PDF_STREAM.finditer(data):
        if budget <= 0:
            break
        start = match.end()
        head = data[start:start + 2]
        if len(head) < 2 or head[0] & 0x0F != 8 or (head[0] << 8 | head[1]) % 31:
            continue  # not a zlib header (images in DCT, JPX…): nothing to inflate
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(data[start:start + 32 * 1024 * 1024], min(_PDF_INFLATE_PER_STREAM, budget))
        except zlib.error:
            continue
        budget -= len(out)
        if _PDF_ACTIVE.search(_pdf_names(out)):
            raise _Refused(MSG_PDF_ACTIVE)


# OOXML ----------------------------------------------------------------------------------
_ZIP_MAX_ENTRIES = 5000
_ZIP_MAX_RATIO = 200


def _check_ooxml(data: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError):
        raise _Refused(MSG_CORRUPT) from None
    max_total = _limit("UPLOAD_MAX_UNZIPPED_BYTES")
    if len(infos) > _ZIP_MAX_ENTRIES or sum(i.file_size for i in infos) > max_total:
        raise _Refused(MSG_CORRUPT)
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > _ZIP_MAX_RATIO * max(info.compress_size, 1):
            raise _Refused(MSG_CORRUPT)  # a compression bomb, refused before inflating anything
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names:
        raise _Refused(MSG_TYPE)
    try:
        content_types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError, RuntimeError):
        raise _Refused(MSG_CORRUPT) from None
    if (b"macroEnabled" in content_types or b"vbaProject" in content_types
            or any(n.lower().endswith("vbaproject.bin") for n in names)):
        raise _Refused(MSG_MACRO)
    if any(n.startswith("word/") for n in names) and b"wordprocessingml.document.main+xml" in content_types:
        return "docx"
    if any(n.startswith("xl/") for n in names) and b"spreadsheetml.sheet.main+xml" in content_types:
        return "xlsx"
    raise _Refused(MSG_TYPE)  # another ZIP (pptx, odt, jar, plain archive…)


# OLE2 (DOC, XLS) -------------------------------------------------------------------------
def _ole2_directory_names(data: bytes) -> set[str]:
    """Names of the entries of a compound file's directory (MS-CFB), read by following the FAT."""
    if len(data) < 512:
        raise _Refused(MSG_CORRUPT)
    shift = int.from_bytes(data[30:32], "little")
    if shift not in (9, 12):
        raise _Refused(MSG_CORRUPT)
    size = 1 << shift
    first_dir = int.from_bytes(data[48:52], "little")
    fat_count = int.from_bytes(data[44:48], "little")
    difat = [int.from_bytes(data[76 + 4 * i:80 + 4 * i], "little") for i in range(109)]
    next_difat = int.from_bytes(data[68:72], "little")
    per_sector = size // 4
    seen = 0
    while next_difat < 0xFFFFFFFA and seen < 10_000:  # further DIFAT sectors for big files
        off = (next_difat + 1) * size
        chunk = data[off:off + size]
        if len(chunk) < size:
            raise _Refused(MSG_CORRUPT)
        entries = [int.from_bytes(chunk[4 * i:4 * i + 4], "little") for i in range(per_sector)]
        difat.extend(entries[:-1])
        next_difat = entries[-1]
        seen += 1
    fat: list[int] = []
    for sector in difat[:fat_count]:
        if sector >= 0xFFFFFFFA:
            continue
        off = (sector + 1) * size
        chunk = data[off:off + size]
        if len(chunk) < size:
            raise _Refused(MSG_CORRUPT)
        fat.extend(int.from_bytes(chunk[4 * i:4 * i + 4], "little") for i in range(per_sector))
    names: set[str] = set()
    sector, hops = first_dir, 0
    while sector < 0xFFFFFFFA:
        if sector >= len(fat) or hops > 100_000:
            raise _Refused(MSG_CORRUPT)
        off = (sector + 1) * size
        chunk = data[off:off + size]
        for i in range(0, len(chunk) - 127, 128):
            entry = chunk[i:i + 128]
            length = int.from_bytes(entry[64:66], "little")
            if entry[66] in (1, 2, 5) and 2 <= length <= 64:
                names.add(entry[:length - 2].decode("utf-16-le", "replace"))
        sector, hops = fat[sector], hops + 1
    return names


def _check_ole2(data: bytes) -> str:
    names = _ole2_directory_names(data)
    if names & {"Macros", "_VBA_PROJECT_CUR", "VBA", "_VBA_PROJECT"}:
        raise _Refused(MSG_MACRO)
    if "WordDocument" in names:
        return "doc"
    if "Workbook" in names or "Book" in names:
        return "xls"
    raise _Refused(MSG_TYPE)  # PowerPoint, MSI, Outlook message…


# Images ---------------------------------------------------------------------------------
def _reencode_image(data: bytes, filetype: FileType) -> bytes:
    """Decode (bounded) and re-encode from raw pixels: nothing but the picture survives."""
    import warnings

    from PIL import Image, ImageOps, UnidentifiedImageError

    max_pixels = _limit("UPLOAD_MAX_IMAGE_PIXELS")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["JPEG" if filetype.kind == "jpg" else "PNG"]) as img:
                width, height = img.size
                if width * height > max_pixels:  # from the header, before decoding anything
                    raise _Refused(MSG_IMAGE_PIXELS, megapixels=max_pixels // 1_000_000)
                img.load()
                upright = ImageOps.exif_transpose(img)
                if upright is None:
                    upright = img
                pixels = _to_srgb_8bit(upright, img.info.get("icc_profile"), keep_alpha=filetype.kind == "png")
                # A new image from raw pixels: no info dict, no EXIF, ICC, XMP, comment, text chunk.
                clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    except _Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _Refused(MSG_IMAGE_PIXELS, megapixels=max_pixels // 1_000_000) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, MemoryError,
            Image.UnidentifiedImageError):
        raise _Refused(MSG_CORRUPT) from None
    out = io.BytesIO()
    if filetype.kind == "jpg":
        clean.save(out, "JPEG", quality=90, optimize=True)
    else:
        clean.save(out, "PNG", compress_level=6)
    return out.getvalue()


def _to_srgb_8bit(image, icc_profile: bytes | None, *, keep_alpha: bool):
    """8-bit L, LA, RGB or RGBA pixels; colours moved to sRGB when the image has its own profile.

    The profile itself is not kept (it is metadata too), so a Display P3 or CMYK photo is
    converted rather than left to be shown with the wrong colours.
    """
    from PIL import ImageCms

    if image.mode in ("I", "F") or image.mode.startswith("I;16"):  # 16-bit greyscale: scale, do not clip
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if icc_profile and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            alpha = image.getchannel("A") if image.mode == "RGBA" else None
            image = ImageCms.profileToProfile(image.convert("RGB") if alpha else image, source,
                                              ImageCms.createProfile("sRGB"), outputMode="RGB")
            if alpha is not None:
                image.putalpha(alpha)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # an unreadable profile: keep the pixels as they are
    has_alpha = "A" in image.mode or "transparency" in image.info
    if image.mode in ("1", "L"):
        target = "L"
    elif image.mode == "LA":
        target = "LA" if keep_alpha else "L"
    else:
        target = "RGBA" if keep_alpha and has_alpha else "RGB"
    return image if image.mode == target else image.convert(target)


# -- reading the input --------------------------------------------------------------------
def _read(item: Any, max_bytes: int) -> tuple[str, bytes | None, bool]:
    """(submitted name, bytes or None when over ``max_bytes``, is_blank_input)."""
    if isinstance(item, tuple):
        name, data = item
        data = bytes(data)
        return name or "", (data if len(data) <= max_bytes else None), False
    if isinstance(item, (bytes, bytearray, memoryview)):
        data = bytes(item)
        return "", (data if len(data) <= max_bytes else None), False
    # werkzeug FileStorage (or anything with .filename and .stream)
    name = getattr(item, "filename", None) or ""
    stream = item.stream
    try:
        stream.seek(0)
    except (AttributeError, OSError, ValueError):
        pass
    data = stream.read(max_bytes + 1)
    try:
        stream.seek(0)
    except (AttributeError, OSError, ValueError):
        pass
    blank = not name and not data
    return name, (data if len(data) <= max_bytes else None), blank


_CACHE_ATTR = "_pakn_prepared"


def _prepare(item: Any, max_bytes: int, filename: str | None = None) -> PreparedUpload:
    cached = getattr(item, _CACHE_ATTR, None)
    if cached is not None and filename is None and len(cached.data) <= max_bytes:
        return cached  # already checked (and re-encoded) by validate_uploads
    name, data, _ = _read(item, max_bytes)
    name = filename if filename is not None else name
    shown = display_name(name)
    if data is None:
        raise _WithName(shown, MSG_TOO_LARGE, limit=_human_size(max_bytes))
    if not data:
        raise _WithName(shown, MSG_EMPTY)
    try:
        filetype = _detect(data)
        if filetype.is_image:
            data = _reencode_image(data, filetype)
    except _Refused as refused:
        raise _WithName(shown, refused.message, **refused.params) from None
    except MemoryError:
        raise _WithName(shown, MSG_CORRUPT) from None
    except Exception:  # a crafted file can break a parser in unplanned ways: refuse it, never 500
        current_app.logger.warning("upload refused: a parser failed on it", exc_info=True)
        raise _WithName(shown, MSG_CORRUPT) from None
    return PreparedUpload(filetype, data, display_name(name, filetype.extension))


class _WithName(Exception):
    def __init__(self, name: str, message: str, **params: Any):
        self.name, self.message, self.params = name, message, params


def _is_blank(item: Any) -> bool:
    if isinstance(item, (tuple, bytes, bytearray, memoryview)):
        return False
    if getattr(item, "filename", None):
        return False
    try:
        pos = item.stream.tell()
        head = item.stream.read(1)
        item.stream.seek(pos)
    except (AttributeError, OSError, ValueError):
        return False
    return not head


def _non_blank(files: Iterable[Any]) -> list[Any]:
    return [f for f in files if f is not None and not _is_blank(f)]


def validate_uploads(files: Iterable[Any]) -> list[UploadError]:
    """Every refusal for this set of files, one per file at most, plus set-wide ones."""
    files = _non_blank(files)
    errors: list[UploadError] = []
    max_files = _limit("UPLOAD_MAX_FILES")
    if len(files) > max_files:
        errors.append(UploadError(MSG_TOO_MANY, count=max_files))
    max_bytes = _limit("UPLOAD_MAX_FILE_BYTES")
    total = 0
    for index, item in enumerate(files):
        try:
            prepared = _prepare(item, max_bytes)
            total += len(prepared.data)
            try:
                setattr(item, _CACHE_ATTR, prepared)  # FileStorage: store_upload need not redo the work
            except AttributeError:
                pass
        except _WithName as err:
            errors.append(UploadError(err.message, index, err.name, **err.params))
    max_total = _limit("UPLOAD_MAX_TOTAL_BYTES")
    if total > max_total:
        errors.append(UploadError(MSG_TOTAL_TOO_LARGE, limit=_human_size(max_total)))
    return errors


class ValidUploads:
    """WTForms validator: every upload refusal becomes an error of the field (see module docstring)."""

    field_flags = {}

    def __call__(self, form, field) -> None:
        from wtforms.validators import StopValidation

        data = field.data if isinstance(field.data, (list, tuple)) else [field.data]
        errors = validate_uploads([d for d in data if d is not None and not isinstance(d, str)])
        if errors:
            field.errors.extend(e.text for e in errors[:-1])
            raise StopValidation(errors[-1].text)


# -- writing -----------------------------------------------------------------------------
_PENDING_KEY = "pakn.storage.pending"  # files written in the session's open transaction(s)
_DOOMED_KEY = "pakn.storage.doomed"  # files to delete once the transaction commits


def _folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def attachment_path(attachment: Attachment) -> Path:
    """Where the bytes of ``attachment`` are (they may be missing if the disk lost them)."""
    name = attachment.stored_name
    if not re.fullmatch(r"[0-9a-f]{32}\.[a-z]{3,4}", name or ""):
        raise ValueError("not a stored name made by pakn.storage")
    return _folder() / name[:2] / name


def _write(data: bytes, extension: str) -> tuple[str, Path]:
    """Write to a temporary file in the upload folder, fsync, then move it into place."""
    folder = _folder()
    stored_name = secrets.token_hex(16) + extension
    final = folder / stored_name[:2] / stored_name
    tmp_dir = folder / ".tmp"
    tmp_path = None
    try:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_path = tempfile.mkstemp(dir=tmp_dir, prefix="up-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o640)
        os.replace(tmp_path, final)
    except OSError:
        current_app.logger.exception("could not store an attachment under %s", folder)
        if tmp_path:
            try:
                os.unlink(tmp_path)
            except OSError:
                pass
        raise StorageUnavailable() from None
    return stored_name, final


def _track(path: Path) -> None:
    """Remember that ``path`` belongs to the open transaction: deleted unless it commits."""
    session = db.session()
    session.connection()  # begins the transaction if none is open yet
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING_KEY, []).append((path, transaction))


def _make_row(data: bytes, filetype_ext: str, content_type: str, name: str, *, feedback, uploaded_by, answer,
              is_public: bool) -> Attachment:
    import hashlib

    stored_name, path = _write(data, filetype_ext)
    _track(path)
    attachment = Attachment(
        feedback_id=feedback.id if feedback.id is not None else None, original_name=name,
        stored_name=stored_name, content_type=content_type, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), is_public=is_public,
        uploaded_by_id=getattr(uploaded_by, "id", None),
        answer_id=getattr(answer, "id", None))
    if feedback.id is None:
        db.session.flush()  # the case must exist first
        attachment.feedback_id = feedback.id
    if answer is not None and answer.id is None:
        db.session.flush()
        attachment.answer_id = answer.id
    db.session.add(attachment)
    db.session.flush()
    return attachment


def store_upload(file: Any, *, feedback, uploaded_by=None, answer=None, is_public: bool = False,
                 filename: str | None = None) -> Attachment:
    """Validate, store and record one uploaded file; flush only (see the module docstring)."""
    try:
        prepared = _prepare(file, _limit("UPLOAD_MAX_FILE_BYTES"), filename)
    except _WithName as err:
        raise UploadRejected([UploadError(err.message, 0, err.name, **err.params)]) from None
    return _make_row(prepared.data, prepared.filetype.extension, prepared.filetype.content_type, prepared.name,
                     feedback=feedback, uploaded_by=uploaded_by, answer=answer, is_public=is_public)


def store_generated(data: bytes, *, feedback, filename: str, content_type: str, uploaded_by=None, answer=None,
                    is_public: bool = False) -> Attachment:
    """Store bytes made by the application itself (no content checks); flush only."""
    filetype = next((t for t in ACCEPTED_TYPES.values() if t.content_type == content_type), None)
    if filetype is None:
        raise ValueError(f"unsupported content type {content_type!r}")
    return _make_row(data, filetype.extension, content_type, display_name(filename, filetype.extension),
                     feedback=feedback, uploaded_by=uploaded_by, answer=answer, is_public=is_public)


def delete_attachment(attachment: Attachment) -> None:
    """Delete the row (flush) now and its file after commit; a rollback keeps both."""
    path = attachment_path(attachment)
    db.session.delete(attachment)
    db.session.flush()
    db.session().info.setdefault(_DOOMED_KEY, []).append(path)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:  # logged, then left to purge_orphan_files
        try:
            current_app.logger.warning("could not delete %s", path)
        except RuntimeError:
            pass


def _within(transaction, ancestor) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _keep_committed_files(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
    for path in session.info.pop(_DOOMED_KEY, []):
        _unlink(path)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back_files(session: Session, previous_transaction) -> None:
    pending = session.info.get(_PENDING_KEY)
    if pending:
        keep = []
        for path, transaction in pending:
            if _within(transaction, previous_transaction):
                _unlink(path)
            else:
                keep.append((path, transaction))
        session.info[_PENDING_KEY] = keep
    if previous_transaction.parent is None:
        session.info.pop(_DOOMED_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted_files(session: Session, transaction) -> None:
    # The outermost transaction ended without a commit (e.g. session.close()): nothing of it stays.
    if transaction.parent is None and not transaction.nested:
        for path, _ in session.info.pop(_PENDING_KEY, []):
            _unlink(path)
        session.info.pop(_DOOMED_KEY, None)


# -- sending -----------------------------------------------------------------------------
def _content_disposition(kind: str, name: str) -> str:
    # Vietnamese đ/Đ do not decompose; the rest loses its marks (the exact name is in filename*).
    ascii_name = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_name = ascii_name.encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r'[^A-Za-z0-9._ ()-]', "_", ascii_name).strip() or "file"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def case_attachment_or_404(case, attachment_id: int | str, *, public_only: bool = False) -> Attachment:
    """The attachment of this very case (see module docstring), or abort with 404."""
    try:
        wanted = int(attachment_id)
    except (TypeError, ValueError):
        abort(404)
    query = select(Attachment).where(Attachment.id == wanted, Attachment.feedback_id == case.id)
    if public_only:
        query = query.where(Attachment.is_public.is_(True))
    found = db.session.scalar(query)
    if found is None:
        abort(404)
    return found


def send_attachment(attachment: Attachment, *, as_download: bool = True):
    """Send the bytes of an attachment the caller has ALREADY authorized (see module docstring)."""
    try:
        path = attachment_path(attachment)
    except ValueError:
        abort(404)
    if not path.is_file():
        current_app.logger.error("attachment %s has no file on disk", attachment.id)
        abort(404)
    inline = not as_download and attachment.content_type in ("image/jpeg", "image/png")
    response = send_file(path, mimetype=attachment.content_type, as_attachment=not inline,
                         download_name=attachment.original_name, conditional=True, etag=attachment.sha256,
                         max_age=None)
    response.headers["Content-Disposition"] = _content_disposition("inline" if inline else "attachment",
                                                                   attachment.original_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = ("default-src 'none'; img-src 'self'; sandbox; "
                                                   "base-uri 'none'; frame-ancestors 'none'")
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if attachment.is_public:
        response.headers["Cache-Control"] = "public, max-age=3600"
    else:
        response.headers["Cache-Control"] = "private, no-store"
    return response


# -- housekeeping ------------------------------------------------------------------------
def purge_orphan_files(older_than: timedelta = timedelta(hours=1), *, now: datetime | None = None) -> list[str]:
    """Delete files no row names (and stale temporary files) older than ``older_than``."""
    folder = _folder()
    if not folder.is_dir():
        return []
    cutoff = ((now or datetime.now(timezone.utc)) - older_than).timestamp()
    known = set(db.session.scalars(select(Attachment.stored_name)))
    removed: list[str] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        try:
            if path.stat().st_mtime > cutoff:
                continue
        except FileNotFoundError:
            continue
        in_tmp = path.parent.name == ".tmp"
        if in_tmp or path.name not in known:
            _unlink(path)
            removed.append(str(path.relative_to(folder)))
    return removed
