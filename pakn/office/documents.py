"""The forwarding document (văn bản chuyển xử lý, task 6.2's product) of a forwarded case.

Made with :mod:`pakn.documents` (NĐ 30/2020 layout, DOCX and PDF, numbered from the office's
register for the year) in the same transaction as the forward, attached to the case, and
referenced in the ``agency.forwarded`` outbox row so the agency's notice carries it.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from workflows.glossary import Role

from ..documents import Signer, documents_of, forwarding_content, issue_document
from ..extensions import db
from ..models import Feedback, GeneratedDocument, OutboxMessage, User
from ..operations import office_agency
from .register import ids_in


def _signer(actor) -> Signer:
    """The office lead signs (the acting lead, else the first active one); a clerk only drafts."""
    lead = actor if getattr(actor, "role", None) == Role.OFFICE_LEAD.value else db.session.scalar(
        select(User).where(User.role == Role.OFFICE_LEAD.value, User.active.is_(True)).order_by(User.id).limit(1))
    authority = [line.strip() for line in current_app.config["DOCUMENT_OFFICE_SIGNER_AUTHORITY"].split("|")]
    return Signer(name=(lead or actor).full_name, authority=tuple(a for a in authority if a))


def attach_forwarding_document(case: Feedback, actor, now: datetime | None = None) -> GeneratedDocument:
    """Issue the forwarding document of ``case`` (just forwarded to ``case.agency``) and put its
    reference in this forward's ``agency.forwarded`` outbox row; flushes only."""
    office = office_agency()
    document = issue_document(case, "forwarding", office, **forwarding_content(case, case.agency, office),
                              signer=_signer(actor), now=now, issued_by=actor)
    notice = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.feedback_id == case.id, OutboxMessage.kind == "agency.forwarded")
        .order_by(OutboxMessage.id.desc()).limit(1))
    if notice is not None:
        notice.payload = {**notice.payload, "document_id": document.id, "document_reference": document.reference,
                          "docx_attachment_id": document.docx_attachment_id,
                          "pdf_attachment_id": document.pdf_attachment_id}
    db.session.flush()
    return document


def document_refs(case_ids: list[int]) -> dict[int, str]:
    """"Số, ngày" of the latest forwarding document of each case (for the register book)."""
    if not case_ids:
        return {}
    rows = db.session.execute(select(  # the three columns only: a document's content is large
        GeneratedDocument.feedback_id, GeneratedDocument.reference, GeneratedDocument.issued_on).where(
        ids_in(GeneratedDocument.feedback_id, case_ids), GeneratedDocument.kind == "forwarding")
        .order_by(GeneratedDocument.issued_at, GeneratedDocument.id))
    return {case_id: f"{reference} ngày {issued_on.strftime('%d/%m/%Y')}" for case_id, reference, issued_on in rows}


def case_documents(case: Feedback) -> list[GeneratedDocument]:
    return documents_of(case)
