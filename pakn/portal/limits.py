"""Per-client-address rate limits on the public forms (Flask-Limiter).

One :class:`~flask_limiter.Limiter` per app (tests build several apps in one process).
Counters live in Redis when ``REDIS_URL`` is set; when Redis is unreachable the limiter
falls back to in-memory counters and errors are swallowed, so a Redis outage never turns
a citizen's submission into a 500. The client address is ``request.remote_addr``: behind
a proxy, ``PAKN_PROXY_COUNT`` makes ProxyFix set it from the trusted X-Forwarded-For hop.
"""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter

#: Limited endpoints → the config key holding their limit. Only POSTs count: reading the
#: form or the answers is free.
LIMITED = {"portal.submit": "PORTAL_SUBMIT_LIMIT", "portal.track": "PORTAL_LOOKUP_LIMIT"}


def client_address() -> str:
    return request.remote_addr or "unknown"


def limiter_of(app: Flask) -> Limiter:
    return app.extensions["pakn_limiter"]


def init_app(app: Flask) -> None:
    """Create the app's limiter and apply the configured limits to the public POST views."""
    limiter = Limiter(
        client_address,
        app=app,
        storage_uri=app.config.get("REDIS_URL") or "memory://",
        storage_options={"socket_connect_timeout": 1, "socket_timeout": 1} if app.config.get("REDIS_URL") else {},
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        key_prefix="pakn-portal",
        headers_enabled=False,
        default_limits=[],
        enabled=app.config.get("RATELIMIT_ENABLED", True),
    )
    app.extensions["pakn_limiter"] = limiter
    for endpoint, setting in LIMITED.items():
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(
            lambda setting=setting: current_app.config[setting], methods=["POST"])(view)
