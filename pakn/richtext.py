"""Rich text of answers, sanitized on the server with nh3 (an allowlist, never a blocklist).

Officers write the parts of a văn bản trả lời in a plain ``<textarea>``: plain text with line
breaks, optionally with a few formatting tags (paragraphs, bold, lists, links). Whatever
arrives, through the agency portal or the API, is cleaned by :func:`clean_html` when the
draft is stored (``pakn.operations``), and cleaned again by the ``rich`` template filter
when it is shown, so a row written by any other path cannot carry a script either.

Kept: the tags in :data:`TAGS`, ``href``/``title`` on links, and only ``http``, ``https``
and ``mailto`` URLs. Everything else goes: ``<script>``, ``<style>`` and their content,
event attributes (``onclick``…), ``style``, ``javascript:``/``data:`` URLs, comments.
"""
from __future__ import annotations

import nh3
from markupsafe import Markup

#: Parts of an answer (pakn.models.Answer) that hold rich text; the others are plain text.
RICH_TEXT_FIELDS = frozenset({"findings", "measures", "legal_refs", "body"})

TAGS = frozenset({"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "blockquote", "sub", "sup", "a"})
ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def clean_html(text: str | None) -> str | None:
    """``text`` with every tag, attribute and URL outside the allowlist removed."""
    if text is None:
        return None
    return nh3.clean(text, tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer nofollow",
                     strip_comments=True, clean_content_tags={"script", "style"}).strip()


def plain_text(text: str | None) -> str:
    """The text of ``text`` without any tag (to tell whether a cleaned part says anything)."""
    if not text:
        return ""
    return nh3.clean(text, tags=set(), clean_content_tags={"script", "style"}).strip()


def rich(text: str | None) -> Markup:
    """Template filter: cleaned HTML, safe to insert (shown with ``white-space: pre-line``)."""
    return Markup(clean_html(text) or "")
