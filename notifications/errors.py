"""How a delivery can fail: temporarily (retry with backoff) or permanently (stop and flag)."""
from __future__ import annotations


class DeliveryError(Exception):
    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


class TemporaryFailure(DeliveryError):
    """Connection refused, timeout, 4xx: try again later."""


class PermanentFailure(DeliveryError):
    """5xx: the server refused this message for good; retrying would not help."""


class Uncertain(DeliveryError):
    """The connection broke after the message was handed over: it may have been taken."""


class RetryLater(Exception):
    """Raised by the job after recording a temporary failure, so that RQ's Retry runs it again."""
