"""API bearer tokens: the login request and the token issued."""
from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from .base import Instant, OutputSchema


class TokenRequestSchema(Schema):
    """``POST /auth/token``: credentials and the second factor (``otp``: the current code of
    the authenticator app, or one recovery code); an unknown field is refused."""

    class Meta:
        unknown = RAISE

    # Not validated as an address: a malformed one simply fails to log in, with the same
    # message as a wrong password (nothing tells whether an account exists).
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    otp = fields.String(required=True, validate=validate.Length(min=1, max=32))


class TokenSchema(OutputSchema):
    """The raw token (shown once; only its hash is stored) and when it expires."""

    token = fields.String()
    expires_at = Instant()
