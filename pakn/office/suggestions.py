"""Classification suggestions: the agency (from routing rules and from similar past cases)
and possible duplicates (by text similarity).

Similarity is trigram similarity over ``Feedback.search_text`` (the folded text):
PostgreSQL's ``pg_trgm`` ``similarity()`` with its GIN index; on SQLite the same measure
(pg_trgm's trigrams, Jaccard) computed in Python over a bounded set of recent cases.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field as dc_field

from flask_babel import gettext
from sqlalchemy import func, select

from workflows.engine import N_

from ..extensions import db
from ..models import Agency, Feedback, RoutingRule

#: Cases at least this similar are shown as possible duplicates.
DUPLICATE_THRESHOLD = 0.5
#: Cases at least this similar count as "similar past cases" for the agency suggestion.
SIMILAR_THRESHOLD = 0.3
#: On SQLite, how many recent cases are compared (the portable fallback is bounded).
FALLBACK_CANDIDATES = 2000
_WORD = re.compile(r"[0-9a-z]+")


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams of a folded text: each word padded with two spaces before, one after."""
    out: set[str] = set()
    for word in _WORD.findall(text or ""):
        padded = f"  {word} "
        out.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return out


def trigram_similarity(a: str, b: str) -> float:
    """Shared trigrams over all trigrams (pg_trgm's ``similarity``)."""
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


@dataclass
class Similar:
    case: Feedback
    score: float


def similar_cases(case: Feedback, limit: int = 10, threshold: float = SIMILAR_THRESHOLD) -> list[Similar]:
    """Other cases whose text resembles ``case``'s, most similar first."""
    text = case.search_text or ""
    if not text:
        return []
    if db.engine.dialect.name == "postgresql":
        score = func.similarity(Feedback.search_text, text)
        rows = db.session.execute(
            # ``%`` lets the trigram GIN index preselect (pg_trgm.similarity_threshold, 0.3 by default).
            select(Feedback, score.label("score"))
            .where(Feedback.id != case.id, Feedback.search_text.op("%")(text), score >= threshold)
            .order_by(score.desc(), Feedback.id.desc()).limit(limit)).all()
        return [Similar(c, float(s)) for c, s in rows]
    candidates = db.session.execute(
        select(Feedback.id, Feedback.search_text).where(Feedback.id != case.id)
        .order_by(Feedback.id.desc()).limit(FALLBACK_CANDIDATES)).all()
    mine = trigrams(text)
    scored = []
    for cid, other in candidates:
        theirs = trigrams(other)
        if mine and theirs:
            s = len(mine & theirs) / len(mine | theirs)
            if s >= threshold:
                scored.append((s, cid))
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
    routed = Counter()
    for item in similar:
        other = item.case
        if other.agency_id is not None and other.agency is not None and not other.agency.is_office:
            routed[other.agency_id] += 1
            add(other.agency, gettext("PAKN tương tự %(code)s (giống %(score)s%%) đã chuyển cho cơ quan này",
                                      code=other.code, score=round(item.score * 100)), 2 * item.score)
    agencies = sorted(found.values(), key=lambda s: (-s.weight, s.agency.name))
    duplicates = [s for s in similar if s.score >= DUPLICATE_THRESHOLD]
    return Suggestions(agencies, duplicates, similar)


NO_SUGGESTION = N_("Chưa có gợi ý: không có quy tắc phân loại hay PAKN tương tự nào.")
