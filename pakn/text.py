"""Diacritics-insensitive text: the one folding used by every search (staff and public).

Vietnamese users often type without diacritics ("xay dung" for "xây dựng"). Text is folded
once, when a row is written, into a ``*search_text`` column; a query is folded the same way
and matched with LIKE (PostgreSQL adds trigram GIN indexes on those columns). Folding:
Unicode NFD, combining marks dropped, đ/Đ → d, lower case, whitespace collapsed.
"""
from __future__ import annotations

import re
import unicodedata

#: C0/C1 controls and lone surrogates: PostgreSQL refuses NUL in text and no UTF-8 encoder takes
#: a surrogate, so either, passed on to a query or echoed in a response, would be a 500.
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: The combining marks NFD gives Vietnamese letters (U+0300–U+036F, all combining but U+034F):
#: removed by one regular expression, so most text needs no look at each character.
_COMMON_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]+")
_NON_ASCII = re.compile("[^\x00-\x7f]")


def _drop_if_combining(match: re.Match) -> str:
    return "" if unicodedata.combining(match.group()) else match.group()


def fold(*parts: str | None) -> str:
    """The folded form of the non-empty ``parts``, joined by a space."""
    text = " ".join(p for p in parts if p).replace("đ", "d").replace("Đ", "d")  # str.translate is slower
    stripped = _COMMON_MARKS.sub("", unicodedata.normalize("NFD", text))
    if not stripped.isascii():  # other marks (other scripts), or characters kept as they are (“ ”…)
        stripped = _NON_ASCII.sub(_drop_if_combining, stripped)
    return " ".join(stripped.split()).casefold()  # split(): the whitespace of \s, runs and ends dropped


def clean_input(value: str | None, limit: int) -> str:
    """A typed look-up value (search words, a code in a query string) without control
    characters or lone surrogates, trimmed and cut to ``limit`` characters."""
    return CONTROL_CHARS.sub("", value or "").strip()[:limit]


def like_pattern(query: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching folded text containing ``query``."""
    folded = fold(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{folded}%"
