"""Administrative documents of a case in the Nghị định 30/2020/NĐ-CP layout, as DOCX and PDF.

Public API
----------
``issue_document(case, kind, issuer_agency, recipients, subject, paragraphs, signer, now=None, *,
answer=None, issued_by=None, symbol=None, copies_to=None, parent_body=None, issuer_name=None,
place=None) -> GeneratedDocument``
    Takes the next number of the issuer's register for ``kind`` and the local year of
    ``now`` (aware datetime, default now), renders the DOCX and the PDF, stores both as
    ``Attachment`` rows of ``case`` (via :func:`pakn.storage.store_generated`; with
    ``answer_id`` set when ``answer`` is given, ``uploaded_by_id`` = ``issued_by``), adds
    the :class:`~pakn.models.GeneratedDocument` row and an ``AuditEvent`` (action
    ``"document.issued"``, data ``{document_id, kind, reference, agency_id}``, no state
    change) and **flushes only**: the caller's ``transaction()`` commits. A rollback gives
    the number back (registers are gap-free) and deletes the two files.

    * ``kind``: ``"forwarding"`` (văn bản chuyển xử lý, issued by the office) or
      ``"answer"`` (văn bản trả lời, issued by the agency; pass ``answer=`` the Answer row,
      then fire ``submit_answer`` with ``{"document_number": document.reference,
      "document_date": document.issued_on}`` so the answer records the same number).
    * ``recipients``: the "Kính gửi:" names (a string or a list), e.g. ``[agency.name]``.
    * ``subject``: the matter, printed after "V/v " (lower-case start), e.g.
      ``"chuyển xử lý phản ánh mã số PAKN-2026-000123"``.
    * ``paragraphs``: the body, one string per paragraph; "./." is added to the last one.
    * ``signer``: ``Signer(name="Nguyễn Văn An", authority=("KT. CHÁNH VĂN PHÒNG",
      "PHÓ CHÁNH VĂN PHÒNG"))`` or a mapping with the same keys.
    * ``symbol``: default the agency's code, plus ``DOCUMENT_OFFICE_UNIT`` for the office
      ("VP-KSTT"); printed "Số: 05/VP-KSTT". ``copies_to``: the "Nơi nhận:" items, default
      ``("Như trên", "Lưu: VT, KSTT")``. ``parent_body``: default ``DOCUMENT_PARENT_BODY`` or
      "UBND tỉnh <PROVINCE_NAME>"; ``issuer_name``: default the agency's name; ``place``:
      default ``DOCUMENT_PLACE`` or ``PROVINCE_NAME`` (all printed as the decree asks).
    * Raises ``ValueError`` on an unknown kind, a naive ``now``, no recipient or no
      paragraph (before a number is taken); ``pakn.storage.StorageUnavailable`` (503) when
      the files cannot be written.

``forwarding_content(case, agency, office, *, due_at=None) -> dict`` and
``answer_content(case, answer, agency, office, *, forwarding=None) -> dict``
    The standard wording (``{"subject", "recipients", "paragraphs"}``), e.g.
    ``issue_document(case, "forwarding", office, **forwarding_content(case, agency, office),
    signer=..., now=now, issued_by=user)``. See :mod:`pakn.documents.templates`.

``render_docx(spec) -> bytes``, ``render_pdf(spec) -> bytes``
    Pure renderers of a :class:`DocumentSpec` (no database, no files). To re-render a stored
    document: ``render_pdf(DocumentSpec.from_dict(document.content))``.

``documents_of(case, kind=None) -> list[GeneratedDocument]``, ``latest_document(case, kind)``,
``document_attachment_ids(case) -> set[int]``
    Queries: a case's documents (oldest first); the newest of a kind (e.g. the forwarding
    document to attach to the agency's notice); the attachment ids that are generated
    documents, to list them apart from the submitter's uploads.

``case_document_or_404(case, document_id) -> GeneratedDocument``
    The document of THIS case, or 404 (for download views; the view checks the user's
    access to the case first, then sends ``document.pdf_attachment`` or ``.docx_attachment``).

``next_number(agency_id, year, kind) -> int``
    The register itself (see :mod:`pakn.documents.register`), for callers that number
    something else in the same register.

The files are ordinary attachments: serve them with :func:`pakn.storage.send_attachment`
from a view that has checked access (``document.docx_attachment`` / ``document.pdf_attachment``).
``GeneratedDocument`` columns: ``feedback_id, answer_id, kind, agency_id, year, number, symbol,
reference ("05/VP-KSTT"), issued_on (local date), issued_at (UTC), subject, content (the spec as
JSON), docx_attachment_id, pdf_attachment_id, issued_by_id``; ``kind_label`` is the
Vietnamese label (a msgid).
"""
from .issue import case_document_or_404, document_attachment_ids, documents_of, issue_document, latest_document
from .register import next_number
from .spec import DocumentSpec, Signer, format_number, format_place_date
from .docx_render import render_docx
from .pdf_render import render_pdf
from .templates import answer_content, forwarding_content, plain_paragraphs

__all__ = [
    "DocumentSpec", "Signer", "answer_content", "case_document_or_404", "document_attachment_ids", "documents_of", "format_number",
    "format_place_date", "forwarding_content", "issue_document", "latest_document", "next_number",
    "plain_paragraphs", "render_docx", "render_pdf",
]
