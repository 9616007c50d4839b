"""The văn bản trả lời issued when the agency submits its approved answer (via pakn.documents).

The document is numbered from the agency's own register at submission (the approved content
is final then), stored as DOCX and PDF attachments of the answer revision, and its reference
and date become the answer's ``document_number`` / ``document_date`` through the workflow's
``submit_answer`` payload, in one transaction: a refused submission gives the number back.

Which generated documents an agency may open: its own answer documents, and the office's
forwarding documents addressed to it (not a forwarding to another agency of the same case).
"""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import select

from ..access import agency_documents
from ..extensions import db
from ..models import Agency, Answer, Feedback, GeneratedDocument, User
from ..documents import Signer, answer_content, issue_document, plain_paragraphs
from ..operations import apply_transition, office_agency
from ..richtext import RICH_TEXT_FIELDS

#: Which documents an agency may open is decided in pakn.access (the API asks the same).
visible_documents = agency_documents


def _plain(answer: Answer) -> SimpleNamespace:
    """The answer with its rich-text parts reduced to plain text (a document prints no markup)."""
    values = {k: getattr(answer, k) for k in ("summary", "findings", "outcome", "measures", "responsible_body",
                                               "legal_refs", "body")}
    for key in RICH_TEXT_FIELDS - {"body"}:  # answer_content reduces the body itself
        if values.get(key):
            values[key] = " ".join(plain_paragraphs(values[key]))
    return SimpleNamespace(**values)


def submit_with_document(case: Feedback, user: User, signer: Signer, version: int, now: datetime
                         ) -> GeneratedDocument:
    """Issue the numbered answer document and fire ``submit_answer`` with its number; flush only."""
    answer = db.session.scalar(select(Answer).where(
        Answer.feedback_id == case.id, Answer.agency_id == user.agency_id).order_by(Answer.revision.desc()).limit(1))
    if answer is None or answer.status != "approved":
        # Let the workflow give its own reason (wrong state, stale version…).
        apply_transition(case, "submit_answer", user, {}, expected_version=version, now=now)
    office = office_agency()
    agency = db.session.get(Agency, user.agency_id)
    forwarding = next((d for d in reversed(visible_documents(case, agency)) if d.kind == "forwarding"), None)
    content = answer_content(case, _plain(answer), agency, office, forwarding=forwarding)
    document = issue_document(case, "answer", agency, signer=signer, now=now, answer=answer, issued_by=user,
                              **content)
    apply_transition(case, "submit_answer", user, {
        "document_number": document.reference, "document_date": document.issued_on.isoformat()},
        expected_version=version, now=now)
    return document
