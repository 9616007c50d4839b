"""Who receives an outbox row: addresses per channel and staff for the in-app bell.

submitter → the case's e-mail; SMS to the case's phone when there is no e-mail, or always,
or never (``SUBMITTER_SMS``). agency → the agency's active staff (leads only for kinds meant
for a lead) plus the agency's own e-mail, and each of those staff in-app. office → the office's
staff plus its e-mail, in-app too. user → that user, by e-mail and in-app.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from pakn.extensions import db
from pakn.models import Agency, Feedback, OutboxMessage, User
from workflows.glossary import AGENCY_ROLES, OFFICE_ROLES, Role

#: Kinds meant for the lead of the agency (or of the office), not for every officer.
LEAD_KINDS = frozenset({"agency.draft_for_approval", "agency.escalation", "agency.daily_digest",
                        "office.escalation"})


@dataclass
class Recipients:
    emails: list[tuple[str, int | None]] = field(default_factory=list)  # (address, user id)
    phones: list[str] = field(default_factory=list)
    users: list[int] = field(default_factory=list)  # in-app

    def add_email(self, address: str | None, user_id: int | None = None) -> None:
        if address and address.lower() not in {a.lower() for a, _ in self.emails}:
            self.emails.append((address, user_id))

    def add_user(self, user: User) -> None:
        if user.id not in self.users:
            self.users.append(user.id)
        self.add_email(user.email, user.id)


def _staff(agency: Agency, roles: tuple[str, ...], lead_role: str, lead_only: bool) -> list[User]:
    users = list(db.session.scalars(
        select(User).where(User.agency_id == agency.id, User.active.is_(True), User.role.in_(roles))
        .order_by(User.id)))
    if lead_only:
        leads = [u for u in users if u.role == lead_role]
        return leads or users  # no lead on file: better the officers than nobody
    return users


def resolve(row: OutboxMessage, case: Feedback | None) -> Recipients:
    """The recipients of ``row`` as things stand now (the job re-reads; nothing is copied)."""
    out = Recipients()
    lead_only = row.kind in LEAD_KINDS
    if row.recipient_kind == "submitter":
        if case is None:
            return out
        policy = current_app.config["SUBMITTER_SMS"]
        out.add_email(case.submitter_email)
        if case.submitter_phone and (policy == "always" or (policy == "fallback" and not case.submitter_email)):
            out.phones.append(case.submitter_phone)
    elif row.recipient_kind in ("agency", "office"):
        agency = db.session.get(Agency, row.recipient_agency_id) if row.recipient_agency_id else None
        if agency is None:
            return out
        if agency.is_office:
            staff = _staff(agency, OFFICE_ROLES, Role.OFFICE_LEAD.value, lead_only)
        else:
            # An agency's staff; on cases the office handles itself, its staff act as the agency.
            staff = _staff(agency, AGENCY_ROLES, Role.AGENCY_LEAD.value, lead_only)
        for user in staff:
            out.add_user(user)
        if not lead_only or not staff:  # a lead's message goes to the agency's address when it has no accounts
            out.add_email(agency.email)
    elif row.recipient_kind == "user":
        user = db.session.get(User, row.recipient_user_id) if row.recipient_user_id else None
        if user is not None and user.active:
            out.add_user(user)
    return out
