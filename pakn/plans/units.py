"""The units named in a task's lead and cooperating cells, and the agencies they mean.

A cell such as "Văn phòng UBND tỉnh; UBND cấp huyện" names several units, separated by
";" or by lines starting with "-". Commas are not separators: "Sở, ban, ngành" is one
unit. A unit matches an agency when its folded text (pakn.text.fold: case and diacritics
ignored) equals the agency's name, short name, name without the province ("Văn phòng UBND
tỉnh" for "Văn phòng UBND tỉnh Vĩnh Long") or an admin-managed alias. A unit with a
parenthesised note ("Văn phòng UBND tỉnh (Trung tâm HCC tỉnh)") is also tried without it.
"""
from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Agency, AgencyAlias
from ..text import fold

_SEPARATORS = re.compile(r"\s*(?:;|\n\s*-\s*|\n)\s*")
_TRIM = " \t-–•,.;:"


def split_units(cell: str | None) -> list[str]:
    """The unit names of a cell, in order, without bullets and trailing punctuation."""
    if not cell:
        return []
    units = []
    for piece in _SEPARATORS.split(cell.strip()):
        piece = " ".join(piece.split()).strip(_TRIM)
        if piece:
            units.append(piece)
    return units


class AgencyMatcher:
    """Folded names → agency id, built once per import from the agencies and the aliases."""

    def __init__(self) -> None:
        province = fold(current_app.config.get("PROVINCE_NAME", ""))
        self.names: dict[str, int | None] = {}
        for agency in db.session.scalars(select(Agency).where(Agency.active.is_(True))):
            for name in (agency.name, agency.short_name):
                folded = fold(name)
                if not folded:
                    continue
                self.names.setdefault(folded, agency.id)
                if province and folded.endswith(" " + province):
                    self.names.setdefault(folded[: -len(province) - 1], agency.id)
                if folded.endswith(" tinh") and province:
                    self.names.setdefault(folded + " " + province, agency.id)
        self.generic: set[str] = set()
        for alias in db.session.scalars(select(AgencyAlias)):
            if alias.agency_id is None:
                self.generic.add(alias.folded)
            else:
                self.names[alias.folded] = alias.agency_id  # an alias overrides a name match

    def match(self, unit: str) -> int | None:
        folded = fold(unit)
        if folded in self.names:
            return self.names[folded]
        bare = fold(re.sub(r"\([^)]*\)", " ", unit))
        return self.names.get(bare)

    def is_generic(self, unit: str) -> bool:
        return fold(unit) in self.generic
