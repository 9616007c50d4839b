"""Files attached to a public submission: checked and stored only by :mod:`pakn.storage`."""
from __future__ import annotations

from .. import storage
from ..models import Feedback


def refusals(files: list) -> list[str]:
    """Why these files cannot be accepted (localized), before anything is created."""
    return [error.text for error in storage.validate_uploads(files)]


def store_submission_files(case: Feedback, files: list) -> None:
    """Store every file as a private attachment of the new case, in the caller's transaction
    (on rollback pakn.storage removes the written files: no stray file is left)."""
    for file in files:
        storage.store_upload(file, feedback=case)
