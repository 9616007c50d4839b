"""Who may see what: the ``can_*`` predicates and the scoped queries views use.

An agency sees only the cases it is responsible for; the office and admins see all.
Anything out of scope is answered as if it did not exist (404), never 403.
"""
from __future__ import annotations

from sqlalchemy import Select, select

from workflows.glossary import AGENCY_ROLES, OFFICE_ROLES, Role

from .models import Feedback, User


def sees_all_cases(user: User) -> bool:
    return user.role in OFFICE_ROLES or user.role == Role.ADMIN


def scope_cases(query: Select, user: User) -> Select:
    """Restrict a select over :class:`Feedback` to the cases ``user`` may see."""
    if sees_all_cases(user):
        return query
    if user.agency_id is None:
        return query.where(False)
    return query.where(Feedback.agency_id == user.agency_id)


def can_view_case(user: User, case: Feedback) -> bool:
    return sees_all_cases(user) or (user.agency_id is not None and case.agency_id == user.agency_id)


def visible_cases(user: User) -> Select:
    return scope_cases(select(Feedback), user)


# -- the files of a case -------------------------------------------------------------------
def agency_documents(case: Feedback, agency) -> list:
    """The generated documents of ``case`` an agency may open: its own answer documents, and
    the office's forwarding documents addressed to it (not a forwarding to another agency),
    counting those of the agencies merged into it (their documents keep issuer and number)."""
    from .extensions import db
    from .models import Agency, GeneratedDocument

    docs = db.session.scalars(select(GeneratedDocument).where(GeneratedDocument.feedback_id == case.id)
                              .order_by(GeneratedDocument.issued_at, GeneratedDocument.id))
    ours, frontier = [agency], [agency.id]
    while frontier:  # predecessors, and theirs (A merged into B, B later into us)
        found = db.session.scalars(select(Agency).where(Agency.merged_into_id.in_(frontier))).all()
        ours += found
        frontier = [a.id for a in found]
    ids, names = {a.id for a in ours}, {a.name for a in ours}
    return [d for d in docs if (d.kind == "answer" and d.agency_id in ids) or (
        d.kind == "forwarding" and names & set((d.content or {}).get("recipients", ())))]


def visible_documents(user: User, case: Feedback) -> list:
    """The documents of a case ``user`` (who may already see the case) may open: all of them
    for the office, :func:`agency_documents` for an agency."""
    from .documents import documents_of

    if sees_all_cases(user):
        return documents_of(case)
    return agency_documents(case, user.agency) if user.agency is not None else []


def visible_attachments(user: User, case: Feedback) -> list:
    """The files of a case ``user`` (who may already see the case) may open.

    The office sees every file. An agency sees the submitter's files (no answer), those of its
    own answer revisions (never another agency's drafts), and of the generated documents only
    those of :func:`agency_documents`.
    """
    from .documents import document_attachment_ids
    from .extensions import db
    from .models import Answer, Attachment

    query = select(Attachment).where(Attachment.feedback_id == case.id).order_by(Attachment.id)
    if sees_all_cases(user):
        return list(db.session.scalars(query))
    if user.agency_id is None:
        return []
    own = select(Answer.id).where(Answer.feedback_id == case.id, Answer.agency_id == user.agency_id)
    rows = db.session.scalars(query.where(Attachment.answer_id.is_(None) | Attachment.answer_id.in_(own))).all()
    generated = document_attachment_ids(case)
    allowed = {i for d in agency_documents(case, user.agency) for i in (d.docx_attachment_id, d.pdf_attachment_id)}
    return [a for a in rows if a.id not in generated or a.id in allowed]


def visible_answers(user: User, case: Feedback) -> list:
    """The answer revisions of a case ``user`` may read: all for the office, the handling
    agency's own for an agency (a case forwarded again keeps the first agency's drafts)."""
    from .extensions import db
    from .models import Answer

    query = select(Answer).where(Answer.feedback_id == case.id).order_by(Answer.revision)
    if not sees_all_cases(user):
        query = query.where(Answer.agency_id == user.agency_id)
    return list(db.session.scalars(query))


# -- plans and reports ---------------------------------------------------------------------
def can_read_plans(user: User) -> bool:
    """Plans and their dashboards are the office's and admins' (agencies: the pages do not exist)."""
    return sees_all_cases(user)


def can_read_reports(user: User) -> bool:
    """Periodic reports: office, admins, and agency staff (their own agency's only)."""
    return sees_all_cases(user) or user.role in AGENCY_ROLES


def report_scope(user: User, agency_id: int | None):
    """The agency whose report ``user`` reads when asking for ``agency_id`` (None: the
    consolidated report), or :class:`LookupError` when out of scope or unknown (→ 404).

    Agency staff get their own agency, whether they name it or not; anything else is refused.
    """
    from .extensions import db
    from .models import Agency

    if not sees_all_cases(user):
        if agency_id not in (None, user.agency_id) or user.agency_id is None:
            raise LookupError(agency_id)
        return db.session.get(Agency, user.agency_id)
    if agency_id is None:
        return None
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise LookupError(agency_id)
    return agency
