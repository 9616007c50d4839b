"""What an operation raises; the web and API layers map these to responses."""
from __future__ import annotations

from typing import Any, Mapping

from workflows.engine import N_, Refusal, RefusalKind


class OperationError(Exception):
    """Base of every refusal by the operations layer; nothing has been written when raised."""

    status = 400
    code = "operation_error"

    def __init__(self, message: str, params: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.params = dict(params or {})


class InvalidPayload(OperationError):
    """The payload is malformed: ``fields`` maps each field to its messages (422)."""

    status = 422
    code = "invalid_payload"

    def __init__(self, fields: Mapping[str, Any], message: str = N_("Dữ liệu không hợp lệ.")):
        super().__init__(message)
        self.fields = dict(fields)


class Forbidden(OperationError):
    """The actor may not do this (403)."""

    status = 403
    code = "forbidden"


class Conflict(OperationError):
    """Not allowed in the case's current state, or the case changed meanwhile (409)."""

    status = 409
    code = "conflict"


class StaleVersion(Conflict):
    """Someone else changed the case since the actor loaded it (409)."""

    code = "stale_version"

    def __init__(self, current_version: int | None = None, current_state: str | None = None):
        super().__init__(N_("Hồ sơ vừa được người khác cập nhật. Vui lòng tải lại để xem trạng thái mới nhất."))
        self.current_version = current_version
        self.current_state = current_state


def from_refusal(refusal: Refusal) -> OperationError:
    """The error matching an engine refusal: role or permission → 403, otherwise 409."""
    cls = Forbidden if refusal.kind in (RefusalKind.ROLE, RefusalKind.PERMISSION) else Conflict
    err = cls(refusal.message, refusal.params)
    err.code = refusal.code
    return err
