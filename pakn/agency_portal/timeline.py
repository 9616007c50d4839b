"""The case timeline as an agency sees it (decided here, once).

The audit trail holds everything; an agency sees:

* every event by **its own staff**, with all its texts (its drafting loop, comments,
  extension records, requests to the submitter);
* events by the **office**, as milestones (what, when, who, state change); their texts only
  when addressed to the handling agency or part of the case's content: the note of a
  forwarding *to this agency*, the reasons the office returned an answer, the office's
  requests for information to the submitter and the submitter's replies. Office-internal
  notes stay hidden: notes on accepting an answer, notifying, publishing, closing,
  merging, handling within the office's competence, and the office's extension records;
* events by the **submitter** (replies, withdrawal) with their texts;
* of **another agency** (the case was returned by it and forwarded here), only its return
  as not competent and the reason given (why the case came here); its acceptance, drafts,
  approvals, comments, requests and extension records are that agency's own business and
  are not shown at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import select

from workflows.engine import N_
from workflows.glossary import OFFICE_ROLES, Role

from ..extensions import db
from ..models import Agency, User
from ..schemas.base import action_label, role_label, state_label
from ..schemas.feedback import case_events

#: Labels of the texts kept in audit data.
TEXT_LABELS = {
    "message": N_("Nội dung"), "note": N_("Ghi chú"), "reason": N_("Lý do"), "comment": N_("Ý kiến"),
    "new_due_date": N_("Hạn mới (nội bộ)"), "document_number": N_("Số văn bản"),
    "suggested_agency": N_("Cơ quan đề xuất"), "guidance": N_("Hướng dẫn"), "reference": N_("Số văn bản"),
    "merged_from": N_("Cơ quan đã sáp nhập"),
}
#: Audit actions that are not workflow triggers (written by pakn.documents), with their labels.
OTHER_ACTIONS = {"document.issued": N_("Ban hành văn bản"),
                 "agency_merged": N_("Chuyển sang cơ quan tiếp nhận khi sáp nhập")}
#: Office events whose texts the handling agency sees (key → data keys).
OFFICE_TEXTS_FOR_AGENCY = {
    "return_answer": ("message",), "request_info": ("message",), "supply_info": ("message",),
}
#: Events of another agency, or of an admin, that stay visible (why the case came here), with their texts.
OTHER_AGENCY_VISIBLE = {"return_not_competent": ("reason",), "agency_merged": ("merged_from",)}


@dataclass
class Entry:
    at: datetime
    action: str
    label: str
    actor: str
    state: str | None
    texts: list[tuple[str, str]] = field(default_factory=list)


def _texts(data: dict, keys) -> list[tuple[str, str]]:
    out = []
    for key in keys:
        value = (data or {}).get(key)
        if value not in (None, ""):
            out.append((gettext(TEXT_LABELS.get(key, key)), str(value)))
    return out


def agency_timeline(case, agency: Agency) -> list[Entry]:
    """The events of ``case`` that ``agency`` may see, oldest first."""
    events = case_events(case)
    actor_ids = {e.actor_id for e in events if e.actor_id is not None}
    agency_of = dict(db.session.execute(
        select(User.id, User.agency_id).where(User.id.in_(actor_ids))).all()) if actor_ids else {}
    entries = []
    for e in events:
        data = e.data or {}
        if e.actor_role in OFFICE_ROLES and agency_of.get(e.actor_id) != agency.id:
            keys = OFFICE_TEXTS_FOR_AGENCY.get(e.action, ())
            if e.action == "forward" and data.get("agency") == agency.code:
                keys = ("note",)
        elif e.actor_role in (Role.SUBMITTER.value, Role.SYSTEM.value):
            keys = tuple(data)
        elif e.actor_id is not None and agency_of.get(e.actor_id) == agency.id:
            keys = tuple(data)
        else:  # staff of another agency (or an admin)
            if e.action not in OTHER_AGENCY_VISIBLE:
                continue
            keys = OTHER_AGENCY_VISIBLE[e.action]
        keys = tuple(k for k in keys if k in TEXT_LABELS)
        actor = e.actor_label if e.actor_id is not None else role_label(e.actor_role)
        label = gettext(OTHER_ACTIONS[e.action]) if e.action in OTHER_ACTIONS else action_label(e.action)
        entries.append(Entry(e.at, e.action, label, actor, state_label(e.to_state),
                             _texts(data, keys)))
    return entries
