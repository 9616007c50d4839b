"""Classification suggestions: the agency (from routing rules and from similar past cases)
and possible duplicates (by text similarity).

Similarity works in two steps over ``Feedback.search_text`` (the folded text). Candidates:
on PostgreSQL the most similar cases by ``pg_trgm`` ``similarity()`` (the ``%`` operator lets
the trigram GIN index preselect); on SQLite, as a portable fallback, a bounded set of the most
recent cases. Score: Jaccard similarity of the word sets plus word pairs of both texts.
Trigrams alone separate folded Vietnamese poorly (its syllables are short, so unrelated
cases share a third of their trigrams), while word pairs put unrelated cases near 0.05 and a
re-typed copy above 0.9; the same score on both backends keeps the thresholds meaningful.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field as dc_field

from flask_babel import gettext
from sqlalchemy import func, select

from ..extensions import db
from ..models import Agency, Feedback, RoutingRule

#: Cases at least this similar are shown as possible duplicates.
DUPLICATE_THRESHOLD = 0.6
#: Cases at least this similar count as "similar past cases" for the agency suggestion.
SIMILAR_THRESHOLD = 0.2
#: PostgreSQL: how many trigram-nearest cases are scored.
TRIGRAM_CANDIDATES = 200
#: SQLite: how many recent cases are scored (the portable fallback is bounded).
FALLBACK_CANDIDATES = 2000
_WORD = re.compile(r"[0-9a-z]+")
_CODE = re.compile(r"^pakn-\d{4}-\d{6}\s*")


def shingles(search_text: str) -> set[str]:
    """The words and adjacent word pairs of a folded text (the case code left out)."""
    words = _WORD.findall(_CODE.sub("", search_text or ""))
    return set(words) | {f"{a} {b}" for a, b in zip(words, words[1:])}


def text_similarity(a: str, b: str) -> float:
    """Shared shingles over all shingles, 0 … 1."""
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


@dataclass
class Similar:
    case: Feedback
    score: float


def _candidates(case: Feedback) -> list[tuple[int, str]]:
    text = case.search_text or ""
    if db.engine.dialect.name == "postgresql":
        trigram = func.similarity(Feedback.search_text, text)
        return db.session.execute(
            select(Feedback.id, Feedback.search_text)
            .where(Feedback.id != case.id, Feedback.search_text.op("%")(text))
            .order_by(trigram.desc(), Feedback.id.desc()).limit(TRIGRAM_CANDIDATES)).all()
    return db.session.execute(
        select(Feedback.id, Feedback.search_text).where(Feedback.id != case.id)
        .order_by(Feedback.id.desc()).limit(FALLBACK_CANDIDATES)).all()


def similar_cases(case: Feedback, limit: int = 10, threshold: float = SIMILAR_THRESHOLD) -> list[Similar]:
    """Other cases whose text resembles ``case``'s, most similar first."""
    mine = shingles(case.search_text or "")
    if not mine:
        return []
    scored = []
    for cid, other in _candidates(case):
        theirs = shingles(other)
        score = len(mine & theirs) / len(mine | theirs) if theirs else 0.0
        if score >= threshold:
            scored.append((score, cid))
    scored.sort(key=lambda x: (-x[0], -x[1]))
    top = scored[:limit]
    by_id = {c.id: c for c in db.session.scalars(select(Feedback).where(Feedback.id.in_([i for _, i in top])))}
    return [Similar(by_id[i], s) for s, i in top if i in by_id]


@dataclass
class AgencySuggestion:
    agency: Agency
    reasons: list[str] = dc_field(default_factory=list)
    weight: float = 0.0


@dataclass
class Suggestions:
    agencies: list[AgencySuggestion]
    duplicates: list[Similar]
    similar: list[Similar]

    @property
    def best_agency(self) -> Agency | None:
        return self.agencies[0].agency if self.agencies else None


def suggest(case: Feedback) -> Suggestions:
    """Agencies (rules first, then how similar cases were routed) and possible duplicates."""
    found: dict[int, AgencySuggestion] = {}

    def add(agency: Agency, reason: str, weight: float) -> None:
        if agency is None or not agency.active or agency.is_office:
            return
        item = found.setdefault(agency.id, AgencySuggestion(agency))
        item.reasons.append(reason)
        item.weight += weight

    rules = db.session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True))
                               .order_by(RoutingRule.priority.desc(), RoutingRule.id)).all()
    for rule in rules:
        if rule.kind == "field" and case.field_id is not None and rule.field_id == case.field_id:
            add(rule.agency, gettext("Quy tắc theo lĩnh vực «%(field)s»", field=rule.field.name), 10 + rule.priority)
        elif rule.kind == "keyword" and rule.keyword_folded and rule.keyword_folded in (case.search_text or ""):
            add(rule.agency, gettext("Quy tắc theo từ khóa «%(keyword)s»", keyword=rule.keyword), 8 + rule.priority)

    similar = similar_cases(case)
    for item in similar:
        other = item.case
        if other.agency_id is not None and other.agency is not None and not other.agency.is_office:
            add(other.agency, gettext("PAKN tương tự %(code)s (giống %(score)s%%) đã chuyển cho cơ quan này",
                                      code=other.code, score=round(item.score * 100)), 2 * item.score)
    agencies = sorted(found.values(), key=lambda s: (-s.weight, s.agency.name))
    duplicates = [s for s in similar if s.score >= DUPLICATE_THRESHOLD]
    return Suggestions(agencies, duplicates, similar)

