"""The operations layer: every state change, with its audit event and outbox rows, in one transaction."""
from .actors import SubmitterActor, SystemActor
from .errors import Conflict, Forbidden, InvalidPayload, OperationError, StaleVersion
from .feedback import (
    apply_transition, find_by_tracking, hash_token, new_tracking_token, office_agency, open_visit, receive_feedback,
)
from .transaction import transaction

__all__ = [
    "Conflict", "Forbidden", "InvalidPayload", "OperationError", "StaleVersion", "SubmitterActor",
    "SystemActor", "apply_transition", "find_by_tracking", "hash_token", "new_tracking_token", "office_agency",
    "open_visit",
    "receive_feedback", "transaction",
]
