"""Per-client-address rate limits on the public POSTs (the ``limits`` library).

Counters live in Redis when ``REDIS_URL`` is set (fixed windows, one Redis script per limit
and request), else in the process. When Redis fails the counters fall back to the process's
memory for :data:`RETRY_AFTER` seconds, and the error is logged, never shown: a Redis outage
never turns a citizen's submission into a 500. The client address is
``request.remote_addr``: behind a proxy, ``PAKN_PROXY_COUNT`` makes ProxyFix set it from the
trusted X-Forwarded-For hop.

Why not Flask-Limiter, which this used to be: it checks every request of the app in a
``before_request`` hook and again in each limited view, and adds an ``after_request`` and a
``teardown`` hook, about a tenth of the CPU of a citizen's submission (bench/RESULTS.md, issue
11) for two limited views. Its counting and storage are the ``limits`` library, used here
directly; a refused request gets werkzeug's 429, which the app's error pages render.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Callable

from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

log = logging.getLogger(__name__)

#: Limited endpoints → the config key holding their limit. Only POSTs count: reading the
#: form or the answers is free.
LIMITED = {"portal.submit": "PORTAL_SUBMIT_LIMIT", "portal.track": "PORTAL_LOOKUP_LIMIT"}
#: Seconds the counters stay in memory after Redis failed, before Redis is tried again.
RETRY_AFTER = 30
_PREFIX = "pakn-portal"


def client_address() -> str:
    return request.remote_addr or "unknown"


class PostLimiter:
    """The app's limits on POST views: :meth:`limit` decorates a view."""

    def __init__(self, redis_url: str | None, enabled: bool = True) -> None:
        self.enabled = enabled
        self._memory = FixedWindowRateLimiter(MemoryStorage())
        self._redis_storage = (RedisStorage(redis_url, key_prefix=_PREFIX, socket_connect_timeout=1, socket_timeout=1)
                               if redis_url else None)
        self._redis = FixedWindowRateLimiter(self._redis_storage) if self._redis_storage else None
        self._redis_failed_at = 0.0
        self._lock = threading.Lock()

    def limit(self, setting: Callable[[], str], scope: str, key: Callable[[], str] = client_address) -> Callable:
        """Count the decorated view's POSTs per ``key()`` in ``scope`` against the limits
        ``setting()`` returns (e.g. ``"20 per hour;60 per day"``); a POST over any gets a 429."""
        def decorate(view: Callable) -> Callable:
            @functools.wraps(view)
            def limited(*args, **kwargs):
                if self.enabled and request.method == "POST":
                    who = key()
                    for item in _parsed(setting()):
                        if not self._hit(item, scope, who):
                            raise TooManyRequests()
                return view(*args, **kwargs)
            return limited
        return decorate

    def _hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        if self._redis is not None and time.monotonic() - self._redis_failed_at >= RETRY_AFTER:
            try:
                return self._redis.hit(item, *identifiers)
            except Exception as exc:  # down, timed out, refused: the process counts meanwhile
                self._redis_failed_at = time.monotonic()
                log.warning("rate limits: Redis unavailable (%s), counting in memory for %d s",
                            type(exc).__name__, RETRY_AFTER)
        with self._lock:
            return self._memory.hit(item, *identifiers)

    def reset(self) -> None:
        """Forget every count (memory, and Redis when it answers)."""
        with self._lock:
            self._memory.storage.reset()
        if self._redis_storage is not None:
            try:
                self._redis_storage.reset()
            except Exception:
                log.warning("rate limits: Redis unavailable, its counts not reset")


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


def limiter_of(app: Flask) -> PostLimiter:
    return app.extensions["pakn_limiter"]


def init_app(app: Flask) -> None:
    """Create the app's limiter and apply the configured limits to the public POST views."""
    limiter = PostLimiter(app.config.get("REDIS_URL"), enabled=app.config.get("RATELIMIT_ENABLED", True))
    app.extensions["pakn_limiter"] = limiter
    for endpoint, setting in LIMITED.items():
        app.view_functions[endpoint] = limiter.limit(
            lambda setting=setting: current_app.config[setting], scope=endpoint)(app.view_functions[endpoint])
