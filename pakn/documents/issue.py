"""Issuing a numbered document for a case: number, render, store, record, audit — flush only."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Sequence

from flask import current_app
from sqlalchemy import select

from workflows.calendar import to_local_date

from ..extensions import db
from ..models import DOCUMENT_KINDS, Agency, AuditEvent, Feedback, GeneratedDocument
from ..models.types import utcnow
from ..storage import store_generated
from .docx_render import render_docx
from .pdf_render import render_pdf
from .register import next_number
from .spec import DocumentSpec, Signer, format_number

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"
#: Action written to the audit trail for each issued document.
AUDIT_ACTION = "document.issued"


def default_symbol(agency: Agency) -> str:
    """The symbol after the number: the agency's code, plus the drafting unit for the office ("VP-KSTT")."""
    unit = current_app.config.get("DOCUMENT_OFFICE_UNIT")
    return f"{agency.code}-{unit}" if agency.is_office and unit else agency.code


def default_copies(agency: Agency) -> tuple[str, ...]:
    """"Nơi nhận:" when the caller gives none: the addressees, and the file copy."""
    unit = current_app.config.get("DOCUMENT_OFFICE_UNIT")
    return ("Như trên", f"Lưu: VT, {unit}" if agency.is_office and unit else "Lưu: VT")


def default_parent_body() -> str:
    return current_app.config.get("DOCUMENT_PARENT_BODY") or f"UBND tỉnh {current_app.config['PROVINCE_NAME']}"


def default_place() -> str:
    return current_app.config.get("DOCUMENT_PLACE") or current_app.config["PROVINCE_NAME"]


def issue_document(case: Feedback, kind: str, issuer_agency: Agency, recipients: Sequence[str] | str, subject: str,
                   paragraphs: Sequence[str], signer: Signer | Mapping[str, Any], now: datetime | None = None, *,
                   answer=None, issued_by=None, symbol: str | None = None, copies_to: Sequence[str] | None = None,
                   parent_body: str | None = None, issuer_name: str | None = None,
                   place: str | None = None) -> GeneratedDocument:
    """Number, render (DOCX and PDF), store and record one document of ``case``; flush only.

    See :mod:`pakn.documents` for the parameters. Raises ``ValueError`` for an unknown
    kind, a naive ``now``, no paragraph or no recipient, and
    :class:`pakn.storage.StorageUnavailable` (503) when the files cannot be written; the
    caller's transaction then rolls back, which also gives the number back and deletes
    any file already written.
    """
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    if kind != "answer" and answer is not None:
        raise ValueError("only answer documents link an answer")
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("naive datetime; pass an aware datetime (UTC)")
    issued_on = to_local_date(now)
    symbol = (symbol or default_symbol(issuer_agency)).strip()
    spec_values = dict(
        kind=kind, parent_body=parent_body or default_parent_body(),
        issuer_name=issuer_name or issuer_agency.name, place=place or default_place(), issued_on=issued_on,
        subject=subject, recipients=(recipients,) if isinstance(recipients, str) else tuple(recipients),
        paragraphs=tuple(paragraphs), signer=Signer.coerce(signer),
        copies_to=tuple(copies_to) if copies_to is not None else default_copies(issuer_agency),
        extra={"case_code": case.code})
    DocumentSpec(reference=f"01/{symbol}", title="", **spec_values)  # refuse bad input before taking a number

    number = next_number(issuer_agency.id, issued_on.year, kind)
    reference = f"{format_number(number)}/{symbol}"
    label = DOCUMENT_KINDS[kind]
    spec = DocumentSpec(reference=reference, title=f"{label} số {reference} ({case.code})", **spec_values)
    docx_data, pdf_data = render_docx(spec), render_pdf(spec)

    filename = f"{label} {format_number(number)}-{symbol} {case.code}"
    docx_file = store_generated(docx_data, feedback=case, filename=filename + ".docx", content_type=DOCX_TYPE,
                                uploaded_by=issued_by, answer=answer)
    pdf_file = store_generated(pdf_data, feedback=case, filename=filename + ".pdf", content_type=PDF_TYPE,
                               uploaded_by=issued_by, answer=answer)
    document = GeneratedDocument(
        feedback_id=case.id, answer_id=getattr(answer, "id", None), kind=kind, agency_id=issuer_agency.id,
        year=issued_on.year, number=number, symbol=symbol, reference=reference, issued_on=issued_on,
        issued_at=now, subject=spec.subject, content=spec.as_dict(), docx_attachment_id=docx_file.id,
        pdf_attachment_id=pdf_file.id, issued_by_id=getattr(issued_by, "id", None))
    db.session.add(document)
    db.session.flush()
    db.session.add(AuditEvent(
        feedback_id=case.id, action=AUDIT_ACTION, from_state=None, to_state=None, at=now,
        version=case.version, actor_id=getattr(issued_by, "id", None),
        actor_role=getattr(issued_by, "role", None) or "system",
        actor_label=getattr(issued_by, "label", None) or "Hệ thống",
        data={"document_id": document.id, "kind": kind, "reference": reference, "agency_id": issuer_agency.id}))
    db.session.flush()
    return document


def documents_of(case: Feedback, kind: str | None = None) -> list[GeneratedDocument]:
    """The documents of a case, oldest first (optionally of one kind)."""
    query = select(GeneratedDocument).where(GeneratedDocument.feedback_id == case.id)
    if kind is not None:
        query = query.where(GeneratedDocument.kind == kind)
    return list(db.session.scalars(query.order_by(GeneratedDocument.issued_at, GeneratedDocument.id)))


def latest_document(case: Feedback, kind: str) -> GeneratedDocument | None:
    """The most recent document of ``kind`` for a case (e.g. the forwarding document to attach to a notice)."""
    found = documents_of(case, kind)
    return found[-1] if found else None


def document_attachment_ids(case: Feedback) -> set[int]:
    """Ids of the attachments of ``case`` that are generated documents (to list them apart from uploads)."""
    rows = db.session.execute(select(GeneratedDocument.docx_attachment_id, GeneratedDocument.pdf_attachment_id)
                              .where(GeneratedDocument.feedback_id == case.id))
    return {i for row in rows for i in row}


def case_document_or_404(case: Feedback, document_id: int | str) -> GeneratedDocument:
    """The document ``document_id`` of THIS case, or abort with 404 (never another case's).

    Checks nothing about the user: the view must already have checked access to ``case``.
    """
    from flask import abort

    try:
        wanted = int(document_id)
    except (TypeError, ValueError):
        abort(404)
    found = db.session.scalar(select(GeneratedDocument).where(GeneratedDocument.id == wanted,
                                                              GeneratedDocument.feedback_id == case.id))
    if found is None:
        abort(404)
    return found
