"""Registers (sổ đăng ký văn bản đi): gap-free numbers per issuing agency, year and kind."""
from __future__ import annotations

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import DOCUMENT_KINDS, DocumentRegister


def next_number(agency_id: int, year: int, kind: str) -> int:
    """Take the next number of the register, inside the caller's transaction.

    One ``UPDATE … RETURNING`` takes the row lock, so on PostgreSQL a concurrent issuer
    waits until this transaction ends (then reads the new value), and SQLite serialises
    writers anyway. The first number of a register inserts its row in a savepoint; if
    another transaction inserted it first, the UPDATE is retried. A rollback gives the
    number back: numbers of committed documents have no gaps.
    """
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    where = (DocumentRegister.agency_id == agency_id, DocumentRegister.year == year, DocumentRegister.kind == kind)
    bump = (update(DocumentRegister).where(*where)
            .values(last_value=DocumentRegister.last_value + 1).returning(DocumentRegister.last_value))
    value = db.session.execute(bump).scalar()
    if value is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(DocumentRegister).values(agency_id=agency_id, year=year, kind=kind,
                                                                   last_value=1))
            value = 1
        except IntegrityError:  # another transaction opened this register first
            value = db.session.execute(bump).scalar_one()
    return value
