"""The single place that commits: a request, a job or a CLI command wraps its operations here."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from .errors import StaleVersion


@contextmanager
def transaction() -> Iterator[Session]:
    """Commit once when the block ends; roll back on any exception and re-raise it.

    A concurrent change detected at commit (stale version) becomes :class:`StaleVersion`.
    """
    try:
        yield db.session
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise StaleVersion() from None
    except BaseException:
        db.session.rollback()
        raise
