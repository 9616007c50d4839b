"""Counts and menus that many requests ask for, cached per web process until the data moves.

Counting a province's ten years of cases (hundreds of thousands of rows) on every page view
costs more than the rest of the page. A :class:`MarkedCache` keeps such a value while a
*marker* — one cheap query whose answer changes whenever the counted rows may have changed —
still gives what it gave when the value was computed, and at most ``max_age`` seconds (for
changes the marker does not see, and for counts that depend on the clock, such as "overdue").
Each app (and so each web process) has its own bounded LRU; values are never personal data
beyond what the key already scopes (callers put the user's scope in the key).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Hashable

from flask import current_app


class MarkedCache:
    SIZE = 512

    def __init__(self, marker: Callable[[], Any], size: int = SIZE):
        self._marker = marker
        self._size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any], max_age: float,
            fresh: Callable[[Any], bool] | None = None):
        """The value of ``key``, computed again when the marker moved, after ``max_age``
        seconds, or when ``fresh(value)`` says it no longer holds (a bound the value carries,
        e.g. the instant the next case becomes overdue)."""
        if max_age <= 0:
            return compute()
        marker = self._marker()
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if (hit is not None and hit[0] == marker and now - hit[1] < max_age
                    and (fresh is None or fresh(hit[2]))):
                self._entries.move_to_end(key)
                return hit[2]
        value = compute()
        with self._lock:
            self._entries[key] = (marker, now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value


def app_cache(name: str, marker: Callable[[], Any], size: int = MarkedCache.SIZE) -> MarkedCache:
    """The app's cache called ``name`` (created on first use with ``marker``, holding at most
    ``size`` entries, the least recently used dropped first)."""
    caches = current_app.extensions.setdefault("pakn_marked_caches", {})
    cache = caches.get(name)
    if cache is None:
        cache = caches[name] = MarkedCache(marker, size)
    return cache

