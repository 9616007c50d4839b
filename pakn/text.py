"""Diacritics-insensitive text: the one folding used by every search (staff and public).

Vietnamese users often type without diacritics ("xay dung" for "xây dựng"). Text is folded
once, when a row is written, into a ``*search_text`` column; a query is folded the same way
and matched with LIKE (PostgreSQL adds trigram GIN indexes on those columns). Folding:
Unicode NFD, combining marks dropped, đ/Đ → d, lower case, whitespace collapsed.
"""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
#: C0/C1 controls and lone surrogates: PostgreSQL refuses NUL in text and no UTF-8 encoder takes
#: a surrogate, so either, passed on to a query or echoed in a response, would be a 500.
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_D = str.maketrans({"đ": "d", "Đ": "d"})


def fold(*parts: str | None) -> str:
    """The folded form of the non-empty ``parts``, joined by a space."""
    text = " ".join(p for p in parts if p)
    decomposed = unicodedata.normalize("NFD", text.translate(_D))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped).strip().casefold()


def clean_input(value: str | None, limit: int) -> str:
    """A typed look-up value (search words, a code in a query string) without control
    characters or lone surrogates, trimmed and cut to ``limit`` characters."""
    return CONTROL_CHARS.sub("", value or "").strip()[:limit]


def like_pattern(query: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching folded text containing ``query``."""
    folded = fold(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{folded}%"
