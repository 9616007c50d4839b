"""Login and logout pages (the auth helper completes these)."""
from . import bp  # noqa: F401
