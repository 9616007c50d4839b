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

from workflows.engine import N_

from ..access import agency_documents
from ..extensions import db
from ..models import Agency, Answer, Feedback, GeneratedDocument, User
from ..documents import Signer, answer_content, issue_document, plain_paragraphs
from ..operations import apply_transition, office_agency
from ..richtext import RICH_TEXT_FIELDS

#: Which documents an agency may open is decided in pakn.access (the API asks the same).
visible_documents = agency_documents


def signer_from(name: str | None, authority: str | None) -> Signer | dict:
    """Who signs the văn bản trả lời: the name, and the authority lines (one per line of
    ``authority``); or a dict of field errors (Vietnamese msgids). The portal's form and the
    API both read the signer with it."""
    name = (name or "").strip() if isinstance(name, str) else ""
    text = authority if isinstance(authority, str) else ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = {}
    if not name or len(name) > 200:
        errors["signer_name"] = [N_("Nhập họ tên người ký (tối đa 200 ký tự).")]
    if not lines or len(lines) > 3 or any(len(line) > 120 for line in lines):
        errors["signer_authority"] = [N_("Nhập thẩm quyền ký: từ 1 đến 3 dòng, mỗi dòng tối đa 120 ký tự.")]
    return errors or Signer(name=name, authority=tuple(lines))


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
