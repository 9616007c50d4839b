"""Registers (sổ đăng ký văn bản đi): the per-agency, per-year, per-kind number sequences."""
from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .document import DOCUMENT_KINDS


class DocumentRegister(db.Model):
    """The last number issued by one agency, in one (local) year, for one kind of document.

    Incremented with a single ``UPDATE … RETURNING`` in the issuing transaction (see
    :func:`pakn.documents.register.next_number`): the row lock makes concurrent issuers
    queue, and a rolled-back issue gives its number back, so numbers are gap-free.
    """

    __tablename__ = "document_register"
    __table_args__ = (
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in DOCUMENT_KINDS) + ")", name="kind_known"),
    )

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)
