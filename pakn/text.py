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
_D = str.maketrans({"đ": "d", "Đ": "d"})


def fold(*parts: str | None) -> str:
    """The folded form of the non-empty ``parts``, joined by a space."""
    text = " ".join(p for p in parts if p)
    decomposed = unicodedata.normalize("NFD", text.translate(_D))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped).strip().casefold()


def like_pattern(query: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching folded text containing ``query``."""
    folded = fold(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{folded}%"
