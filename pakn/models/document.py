"""Generated administrative documents (văn bản chuyển xử lý, văn bản trả lời) of a case."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.glossary import N_

from ..extensions import db
from .agency import Agency
from .attachment import Attachment
from .types import JSONType, UTCDateTime, utcnow

#: Kinds of generated documents (code → Vietnamese label, a msgid); each has its own register.
DOCUMENT_KINDS = {
    "forwarding": N_("Văn bản chuyển xử lý"),
    "answer": N_("Văn bản trả lời"),
}


class GeneratedDocument(db.Model):
    """One numbered document issued for a case, with its DOCX and PDF renderings.

    ``reference`` is the number/symbol as printed ("12/VP-KSTT"); ``number`` is unique in
    the issuer's register for ``kind`` and ``year``. ``content`` keeps everything printed
    (:meth:`pakn.documents.DocumentSpec.as_dict`), so the files can be rendered again.
    """

    __tablename__ = "generated_document"
    __table_args__ = (
        UniqueConstraint("agency_id", "kind", "year", "number", name="uq_generated_document_register_number"),
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in DOCUMENT_KINDS) + ")", name="kind_known"),
        CheckConstraint("number > 0", name="number_positive"),
        CheckConstraint("kind = 'answer' OR answer_id IS NULL", name="only_answers_link_answer"),
        Index("ix_generated_document_feedback_kind", "feedback_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"))
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answer.id"))
    kind: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    symbol: Mapped[str] = mapped_column(String(50))
    reference: Mapped[str] = mapped_column(String(80))
    issued_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    subject: Mapped[str] = mapped_column(String(500))
    content: Mapped[dict] = mapped_column(JSONType)
    docx_attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"))
    pdf_attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency: Mapped[Agency] = relationship()
    docx_attachment: Mapped[Attachment] = relationship(foreign_keys=[docx_attachment_id])
    pdf_attachment: Mapped[Attachment] = relationship(foreign_keys=[pdf_attachment_id])

    @property
    def kind_label(self) -> str:
        return DOCUMENT_KINDS[self.kind]

    def __repr__(self) -> str:
        return f"<GeneratedDocument {self.kind} {self.reference}>"
