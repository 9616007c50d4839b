"""Administration changes that are not case transitions (the console at /admin).

Each function changes one thing, writes its audit event (``feedback_id`` NULL unless a case is
concerned) and, where a message goes out, its outbox row — and only flushes: the caller wraps
it in :func:`pakn.operations.transaction`. The acting user is a parameter. Refusals raise
:class:`InvalidPayload` (a form field is wrong, with per-field msgids) or :class:`Conflict`.

- agencies: :func:`save_level`, :func:`save_agency`, :func:`merge_preview`, :func:`merge_agencies`;
- users: :func:`invite_user`, :func:`update_user`, :func:`set_user_active`,
  :func:`send_password_link`, :func:`set_password_from_link`;
- fields: :func:`save_field`;
- per-province settings: :func:`save_settings`;
- API tokens: :func:`create_api_token`, :func:`revoke_api_token`.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from flask import current_app
from sqlalchemy import func, select, update

from workflows.engine import N_
from workflows.glossary import AGENCY_ROLES, OFFICE_ROLES, STAFF_ROLES, Role
from workflows.pakn import AGENCY_STATES

from ..extensions import db
from ..models import (
    Agency, AgencyAlias, AgencyLevel, Answer, ApiToken, AuditEvent, Feedback, Field, OutboxMessage, PlanTaskUnit,
    ProvinceSetting, RoutingRule, StageVisit, User,
)
from ..models.api_token import SCOPES
from ..models.types import utcnow
from ..sealing import seal
from ..text import fold
from .errors import Conflict, InvalidPayload

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9+()., -]{6,30}$")
_CODE = re.compile(r"^[A-Za-z0-9_.-]{2,50}$")
#: An invited account's password hash until the invitee chooses one: never matches a password
#: (Werkzeug reads no method from it), and differs per invitation so an older link stops working.
INVITED_PREFIX = "!invited:"


def audit(action: str, actor, data: dict, *, case: Feedback | None = None, now: datetime | None = None) -> AuditEvent:
    """Append one audit event for an admin change (with ``case`` when a case is concerned)."""
    event = AuditEvent(feedback_id=case.id if case is not None else None, action=action, at=now or utcnow(),
                       data=data, actor_id=getattr(actor, "user_id", None), actor_role=actor.role,
                       actor_label=getattr(actor, "label", actor.role),
                       from_state=case.state if case is not None else None,
                       to_state=case.state if case is not None else None,
                       version=case.version if case is not None else None)
    db.session.add(event)
    db.session.flush()
    return event


def _changes(obj, values: Mapping[str, Any]) -> dict[str, list]:
    """Assign ``values`` to ``obj``; the changed ones as {name: [old, new]}."""
    changed = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changed[name] = [old, new]
            setattr(obj, name, new)
    return changed


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


# -- agencies -----------------------------------------------------------------------------
def save_level(level: AgencyLevel | None, code: str, name: str, rank: int, actor) -> AgencyLevel:
    """Create (``level`` None) or edit a level of the agency tree."""
    code, name = (code or "").strip(), (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not _CODE.match(code):
        errors["code"] = [N_("Mã gồm 2–50 chữ không dấu, số, dấu gạch.")]
    elif db.session.scalar(select(AgencyLevel.id).where(AgencyLevel.code == code,
                                                        AgencyLevel.id != (level.id if level else 0))):
        errors["code"] = [N_("Mã này đã được dùng.")]
    if not name or len(name) > 100:
        errors["name"] = [N_("Tên phải có từ 1 đến 100 ký tự.")]
    if not 0 <= rank <= 20:
        errors["rank"] = [N_("Thứ bậc là số nguyên từ 0 đến 20.")]
    if errors:
        raise InvalidPayload(errors)
    created = level is None
    level = level or AgencyLevel()
    if created:
        db.session.add(level)
    changed = _changes(level, {"code": code, "name": name, "rank": rank})
    db.session.flush()
    if changed:
        audit("agency_level_create" if created else "agency_level_update", actor,
              {"level": level.id, "code": level.code, "changes": changed})
    return level


def _descendant_ids(agency: Agency) -> set[int]:
    found, frontier = set(), [agency.id]
    while frontier:
        children = db.session.scalars(select(Agency.id).where(Agency.parent_id.in_(frontier))).all()
        frontier = [c for c in children if c not in found]
        found.update(frontier)
    return found


def open_case_count(agency: Agency) -> int:
    """Cases the agency is handling now (forwarded to it and not yet answered back)."""
    return db.session.scalar(select(func.count(Feedback.id)).where(
        Feedback.agency_id == agency.id, Feedback.state.in_(AGENCY_STATES))) or 0


def save_agency(agency: Agency | None, values: Mapping[str, Any], actor) -> Agency:
    """Create (``agency`` None) or edit an agency: code, name, short name, level, parent,
    contacts, active.

    Refused: a code already used, an unknown level or parent, a parent that is the agency itself
    or one of its descendants, an invalid e-mail or phone, deactivating the office, and
    deactivating an agency still handling cases (merge it into its successor instead).
    """
    errors: dict[str, list[str]] = {}
    code = (values.get("code") or "").strip()
    name = (values.get("name") or "").strip()
    if not _CODE.match(code):
        errors["code"] = [N_("Mã gồm 2–50 chữ không dấu, số, dấu gạch.")]
    elif db.session.scalar(select(Agency.id).where(Agency.code == code, Agency.id != (agency.id if agency else 0))):
        errors["code"] = [N_("Mã này đã được dùng.")]
    if not name or len(name) > 250:
        errors["name"] = [N_("Tên phải có từ 1 đến 250 ký tự.")]
    level = db.session.get(AgencyLevel, values.get("level_id") or 0)
    if level is None:
        errors["level_id"] = [N_("Chọn cấp.")]
    parent = db.session.get(Agency, values["parent_id"]) if values.get("parent_id") else None
    if values.get("parent_id") and parent is None:
        errors["parent_id"] = [N_("Cơ quan cấp trên không tồn tại.")]
    elif agency is not None and parent is not None and (parent.id == agency.id or parent.id in _descendant_ids(agency)):
        errors["parent_id"] = [N_("Cơ quan cấp trên không thể là chính cơ quan này hoặc cơ quan cấp dưới của nó.")]
    email, phone = _text(values.get("email")), _text(values.get("phone"))
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        errors["email"] = [N_("Thư điện tử không hợp lệ (ví dụ: ten@vidu.vn).")]
    if phone and not _PHONE.match(phone):
        errors["phone"] = [N_("Số điện thoại chỉ gồm chữ số, dấu cách và + ( ) . -")]
    address = _text(values.get("address"))
    if address and len(address) > 500:
        errors["address"] = [N_("Địa chỉ quá dài (tối đa 500 ký tự).")]
    short_name = _text(values.get("short_name"))
    if short_name and len(short_name) > 100:
        errors["short_name"] = [N_("Tên viết tắt quá dài (tối đa 100 ký tự).")]
    active = bool(values.get("active", True))
    if agency is not None and not active and agency.active:
        if agency.is_office:
            errors["active"] = [N_("Không thể ngừng hoạt động Văn phòng UBND tỉnh.")]
        elif open_case_count(agency):
            errors["active"] = [N_("Cơ quan còn PAKN đang xử lý; hãy sáp nhập vào cơ quan tiếp nhận nhiệm vụ.")]
    if agency is not None and active and agency.merged_into_id is not None:
        errors["active"] = [N_("Cơ quan đã sáp nhập vào cơ quan khác, không thể hoạt động lại.")]
    if errors:
        raise InvalidPayload(errors)
    created = agency is None
    agency = agency or Agency(is_office=False)
    if created:
        db.session.add(agency)
    changed = _changes(agency, {"code": code, "name": name, "short_name": short_name, "level_id": level.id,
                                "parent_id": parent.id if parent else None, "email": email, "phone": phone,
                                "address": address, "active": active})
    db.session.flush()
    if changed:
        audit("agency_create" if created else "agency_update", actor,
              {"agency": agency.id, "code": agency.code, "changes": changed})
    return agency


@dataclass
class MergePreview:
    """What :func:`merge_agencies` would move from ``source`` to ``target``."""

    source: Agency
    target: Agency
    cases: list[Feedback]
    counts: dict[str, int]
    problems: list[str]

    @property
    def possible(self) -> bool:
        return not self.problems


#: The rows moved by a merge (model, column), counted in the preview; cases are moved one by one.
_MOVED = (
    ("stage_visits", StageVisit, StageVisit.agency_id),
    ("answers", Answer, Answer.agency_id),
    ("users", User, User.agency_id),
    ("routing_rules", RoutingRule, RoutingRule.agency_id),
    ("plan_units", PlanTaskUnit, PlanTaskUnit.agency_id),
    ("aliases", AgencyAlias, AgencyAlias.agency_id),
    ("children", Agency, Agency.parent_id),
)


def _pending_outbox(agency_id: int):
    return (OutboxMessage.recipient_agency_id == agency_id, OutboxMessage.status != "sent")


def merge_preview(source: Agency, target: Agency) -> MergePreview:
    """Count what would move and list why the merge is impossible, if it is."""
    problems = []
    if source.id == target.id:
        problems.append(N_("Hãy chọn hai cơ quan khác nhau."))
    if source.is_office:
        problems.append(N_("Không thể sáp nhập Văn phòng UBND tỉnh vào cơ quan khác."))
    if source.merged_into_id is not None:
        problems.append(N_("Cơ quan này đã được sáp nhập trước đó."))
    if not target.active:
        problems.append(N_("Cơ quan tiếp nhận đã ngừng hoạt động."))
    if target.is_office:
        problems.append(N_("Không thể sáp nhập một cơ quan vào Văn phòng UBND tỉnh."))
    cases = db.session.scalars(select(Feedback).where(Feedback.agency_id == source.id).order_by(Feedback.id)).all()
    counts = {"cases": len(cases)}
    for key, model, column in _MOVED:
        counts[key] = db.session.scalar(select(func.count()).select_from(model).where(column == source.id)) or 0
    counts["outbox"] = db.session.scalar(select(func.count(OutboxMessage.id)).where(*_pending_outbox(source.id))) or 0
    return MergePreview(source, target, list(cases), counts, problems)


def merge_agencies(source: Agency, target: Agency, actor, now: datetime | None = None) -> MergePreview:
    """Merge ``source`` into ``target``: every case (with an audit event on its timeline), stage
    visit, answer, user, routing rule, plan unit link, alias and child agency of ``source`` moves to
    ``target``, and so do its messages not yet sent; ``source`` becomes inactive, points to
    ``target`` and its name becomes an alias of ``target`` (plans still naming it resolve). Its
    issued documents, registers and filed reports stay with it: they are its own history.

    Raises Conflict when :func:`merge_preview` lists a problem.
    """
    now = now or utcnow()
    preview = merge_preview(source, target)
    if not preview.possible:
        raise Conflict(preview.problems[0])
    for case in preview.cases:
        case.agency_id = target.id
        db.session.flush()  # bumps the case version
        audit("agency_merged", actor, {"from_agency": source.code, "to_agency": target.code,
                                       "merged_from": source.name}, case=case, now=now)
    if target.parent_id == source.id:  # the successor was one of its units: it takes its place
        target.parent_id = source.parent_id
        db.session.flush()
    for _key, model, column in _MOVED:
        if model is Agency:
            db.session.execute(update(Agency).where(Agency.parent_id == source.id, Agency.id != target.id)
                               .values(parent_id=target.id), execution_options={"synchronize_session": "fetch"})
        else:
            db.session.execute(update(model).where(column == source.id).values({column.key: target.id}),
                               execution_options={"synchronize_session": "fetch"})
    db.session.execute(update(OutboxMessage).where(*_pending_outbox(source.id))
                       .values(recipient_agency_id=target.id), execution_options={"synchronize_session": "fetch"})
    folded = fold(source.name)[:500]
    if folded and db.session.scalar(select(AgencyAlias.id).where(AgencyAlias.folded == folded)) is None:
        db.session.add(AgencyAlias(name=source.name, folded=folded, agency_id=target.id,
                                   created_by_id=getattr(actor, "user_id", None), created_at=now))
    source.active, source.merged_into_id, source.merged_at = False, target.id, now
    db.session.flush()
    audit("agency_merge", actor, {"from_agency": source.code, "to_agency": target.code,
                                  "moved": preview.counts}, now=now)
    return preview


# -- users --------------------------------------------------------------------------------
ROLE_CODES = tuple(r.value for r in STAFF_ROLES)


def is_invited(user: User) -> bool:
    """The account waits for its owner to choose a password through the invitation link."""
    return (user.password_hash or "").startswith(INVITED_PREFIX)


def _check_role(role: str, agency: Agency | None, errors: dict) -> None:
    """Every role but admin needs an agency; office roles the office, agency roles an active agency."""
    if role not in ROLE_CODES:
        errors["role"] = [N_("Chọn vai trò.")]
    elif role in OFFICE_ROLES and (agency is None or not agency.is_office):
        errors["agency_id"] = [N_("Cán bộ Văn phòng phải thuộc Văn phòng UBND tỉnh.")]
    elif role in AGENCY_ROLES and (agency is None or agency.is_office or not agency.active):
        errors["agency_id"] = [N_("Cán bộ cơ quan phải thuộc một cơ quan đang hoạt động (không phải Văn phòng).")]


def _active_admins() -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN.value,
                                                               User.active.is_(True))) or 0


def _user_values(full_name: str, role: str, agency_id: int | None, errors: dict) -> tuple[str, Agency | None]:
    full_name = (full_name or "").strip()
    if not full_name or len(full_name) > 200:
        errors["full_name"] = [N_("Họ tên phải có từ 1 đến 200 ký tự.")]
    agency = db.session.get(Agency, agency_id) if agency_id else None
    _check_role(role, agency, errors)
    return full_name, (None if role == Role.ADMIN.value else agency)


def _account_message(user: User, kind: str, event: AuditEvent, link: str, hours: int) -> OutboxMessage:
    """The e-mail carrying a set-password link: sealed in the row, erased once sent."""
    row = OutboxMessage(kind=kind, recipient_kind="user", recipient_user_id=user.id, audit_event_id=event.id,
                        payload={"link_sealed": seal(link), "valid_hours": hours})
    db.session.add(row)
    return row


def invite_user(email: str, full_name: str, role: str, agency_id: int | None, actor,
                now: datetime | None = None) -> User:
    """Create an account that has no password yet and send its owner a one-time link (valid
    ``PASSWORD_LINK_INVITE_HOURS``) to choose one. Refused: a malformed or already used
    address, a role without the agency it needs."""
    from ..auth.password_links import link_for

    errors: dict[str, list[str]] = {}
    email = (email or "").strip()
    if not _EMAIL.match(email) or len(email) > 254:
        errors["email"] = [N_("Thư điện tử không hợp lệ (ví dụ: ten@vidu.vn).")]
    elif db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
        errors["email"] = [N_("Đã có tài khoản với thư điện tử này.")]
    full_name, agency = _user_values(full_name, role, agency_id, errors)
    if errors:
        raise InvalidPayload(errors)
    user = User(email=email, full_name=full_name, role=role, agency=agency, active=True,
                password_hash=INVITED_PREFIX + secrets.token_hex(16), session_version=1)
    db.session.add(user)
    db.session.flush()
    event = audit("user_invite", actor, {"user": user.id, "email": email, "role": role,
                                         "agency": agency.code if agency else None}, now=now)
    link, hours = link_for(user, "invite")
    _account_message(user, "user.invitation", event, link, hours)
    db.session.flush()
    return user


def update_user(user: User, full_name: str, role: str, agency_id: int | None, actor) -> dict:
    """Change a user's name, role and agency (the role rules of :func:`_check_role`). The last
    active admin keeps the admin role. Returns the changes."""
    errors: dict[str, list[str]] = {}
    full_name, agency = _user_values(full_name, role, agency_id, errors)
    if (user.role == Role.ADMIN.value and role != Role.ADMIN.value and user.active and _active_admins() <= 1):
        errors["role"] = [N_("Đây là quản trị viên cuối cùng đang hoạt động; hãy chỉ định quản trị viên khác trước.")]
    if errors:
        raise InvalidPayload(errors)
    changed = _changes(user, {"full_name": full_name, "role": role, "agency_id": agency.id if agency else None})
    db.session.flush()
    if changed:
        audit("user_update", actor, {"user": user.id, "email": user.email, "changes": changed})
    return changed


def set_user_active(user: User, active: bool, actor) -> None:
    """Deactivate or reactivate an account. Either way ``session_version`` is bumped, so a live
    session of that user ends at its next request. Refused for oneself and the last admin."""
    if user.active == active:
        return
    if user.id == getattr(actor, "user_id", None):
        raise Conflict(N_("Bạn không thể tự ngừng kích hoạt tài khoản của mình."))
    if not active and user.role == Role.ADMIN.value and _active_admins() <= 1:
        raise Conflict(N_("Đây là quản trị viên cuối cùng đang hoạt động; hãy chỉ định quản trị viên khác trước."))
    if active and user.agency is not None and not user.agency.active:
        raise Conflict(N_("Cơ quan của tài khoản đã ngừng hoạt động; hãy đổi cơ quan trước."))
    user.active = active
    user.session_version = (user.session_version or 0) + 1
    db.session.flush()
    audit("user_reactivate" if active else "user_deactivate", actor, {"user": user.id, "email": user.email})


def send_password_link(user: User, actor, now: datetime | None = None) -> str:
    """E-mail a one-time link: the invitation again (a new link; older ones stop working) for an
    account still invited, else a password-reset link. Returns the kind sent. Refused for an
    inactive account."""
    from ..auth.password_links import link_for

    if not user.active:
        raise Conflict(N_("Tài khoản đang ngừng kích hoạt; hãy kích hoạt lại trước."))
    if is_invited(user):
        user.password_hash = INVITED_PREFIX + secrets.token_hex(16)
        db.session.flush()
        kind, purpose, action = "user.invitation", "invite", "user_invite_resend"
    else:
        kind, purpose, action = "user.password_reset", "reset", "user_password_reset"
    event = audit(action, actor, {"user": user.id, "email": user.email}, now=now)
    link, hours = link_for(user, purpose)
    _account_message(user, kind, event, link, hours)
    db.session.flush()
    return kind


def set_password_from_link(user: User, password: str, purpose: str) -> None:
    """The owner of a valid link chooses a password (which ends the link and every session)."""
    from flask_babel import gettext

    from ..auth.passwords import password_problem

    problem = password_problem(password or "", user.email)  # the same rules as everywhere else
    if problem:
        raise InvalidPayload({"password": [gettext(problem[0], **problem[1])]})
    user.set_password(password)
    db.session.flush()
    audit("user_password_set", user, {"user": user.id, "via": purpose})


# -- fields (lĩnh vực) ---------------------------------------------------------------------
def save_field(field: Field | None, code: str, name: str, active: bool, actor) -> Field:
    """Create (``field`` None), rename, deactivate or reactivate a field. The code of an
    existing field never changes (filters, open data and saved searches use it)."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if field is None:
        code = (code or "").strip()
        if not _CODE.match(code):
            errors["code"] = [N_("Mã gồm 2–50 chữ không dấu, số, dấu gạch.")]
        elif db.session.scalar(select(Field.id).where(Field.code == code)):
            errors["code"] = [N_("Mã này đã được dùng.")]
    if not name or len(name) > 200:
        errors["name"] = [N_("Tên phải có từ 1 đến 200 ký tự.")]
    elif any(fold(other) == fold(name) for other in db.session.scalars(
            select(Field.name).where(Field.id != (field.id if field else 0)))):
        errors["name"] = [N_("Đã có lĩnh vực cùng tên.")]
    if errors:
        raise InvalidPayload(errors)
    created = field is None
    if created:
        field = Field(code=code)
        db.session.add(field)
    changed = _changes(field, {"name": name, "active": bool(active)})
    db.session.flush()
    if changed:
        audit("field_create" if created else "field_update", actor,
              {"field": field.id, "code": field.code, "changes": changed})
    return field


# -- per-province settings -------------------------------------------------------------------
MIB = 1024 * 1024


def _setting_errors(values: Mapping[str, Any]) -> dict[str, list[str]]:
    from ..settings import BY_KEY, default

    errors: dict[str, list[str]] = {}

    def effective(key):
        return values[key] if values.get(key) is not None else default(key)

    for key, raw in values.items():
        setting = BY_KEY[key]
        if raw is None:
            continue
        if setting.kind == "email" and (len(raw) > 254 or not _EMAIL.match(raw)):
            errors[key] = [N_("Thư điện tử không hợp lệ (ví dụ: ten@vidu.vn).")]
        elif setting.kind == "phone" and not _PHONE.match(raw):
            errors[key] = [N_("Số điện thoại chỉ gồm chữ số, dấu cách và + ( ) . -")]
        elif setting.kind == "text" and len(raw) > 500:
            errors[key] = [N_("Địa chỉ quá dài (tối đa 500 ký tự).")]
        elif setting.kind == "count" and not 1 <= raw <= 20:
            errors[key] = [N_("Số tệp là số nguyên từ 1 đến 20.")]
        elif setting.kind == "bytes" and not 64 * 1024 <= raw <= 1024 * MIB:
            errors[key] = [N_("Dung lượng phải từ 0,0625 MB đến 1024 MB.")]
    if "UPLOAD_MAX_TOTAL_BYTES" not in errors and "UPLOAD_MAX_FILE_BYTES" not in errors:
        total, single = effective("UPLOAD_MAX_TOTAL_BYTES"), effective("UPLOAD_MAX_FILE_BYTES")
        if total < single:
            errors["UPLOAD_MAX_TOTAL_BYTES"] = [N_("Tổng dung lượng không được nhỏ hơn dung lượng một tệp.")]
        elif total >= current_app.config["MAX_CONTENT_LENGTH"]:
            errors["UPLOAD_MAX_TOTAL_BYTES"] = [
                N_("Tổng dung lượng phải nhỏ hơn giới hạn dữ liệu gửi lên của máy chủ (PAKN_MAX_CONTENT_LENGTH).")]
    return errors


def save_settings(values: Mapping[str, Any], actor, now: datetime | None = None) -> dict[str, list]:
    """Store the per-province settings: ``values`` maps every key of :data:`pakn.settings.SETTINGS`
    to its new value, or None to go back to the default. In force from the next request of every
    worker. Returns the changes as {key: [old, new]} (None = default)."""
    from ..settings import SETTINGS, forget, overrides

    errors = _setting_errors(values)
    if errors:
        raise InvalidPayload(errors)
    now = now or utcnow()
    stored = dict(overrides())
    changed = {}
    for setting in SETTINGS:
        key = setting.key
        new, old = values.get(key), stored.get(key)
        if new == old:
            continue
        changed[key] = [old, new]
        row = db.session.get(ProvinceSetting, key)
        if new is None:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(ProvinceSetting(key=key, value=new, updated_at=now,
                                           updated_by_id=getattr(actor, "user_id", None)))
        else:
            row.value, row.updated_at, row.updated_by_id = new, now, getattr(actor, "user_id", None)
    db.session.flush()
    forget()
    if changed:
        audit("settings_update", actor, {"changes": changed}, now=now)
    return changed


# -- API tokens ---------------------------------------------------------------------------
def create_api_token(owner: User | None, name: str, scopes: list[str], days: int | None, actor
                     ) -> tuple[str, ApiToken]:
    """A token for ``owner`` with ``scopes`` valid ``days`` days; the raw token (shown once) and
    its row (only the hash is stored)."""
    from ..auth.tokens import issue_token

    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if owner is None or not owner.active:
        errors["user_id"] = [N_("Chọn tài khoản đang hoạt động.")]
    if not name or len(name) > 100:
        errors["name"] = [N_("Tên phải có từ 1 đến 100 ký tự.")]
    if not scopes or any(s not in SCOPES for s in scopes):
        errors["scopes"] = [N_("Chọn ít nhất một phạm vi.")]
    if days is None or not 1 <= days <= 730:
        errors["days"] = [N_("Thời hạn là số ngày từ 1 đến 730.")]
    if errors:
        raise InvalidPayload(errors)
    raw, row = issue_token(owner, name=name, ttl_hours=days * 24, scopes=tuple(scopes))
    audit("api_token_create", actor, {"token": row.id, "user": owner.id, "email": owner.email, "name": name,
                                      "scopes": row.scopes, "expires_at": row.expires_at.isoformat()})
    return raw, row


def revoke_api_token(row: ApiToken, actor) -> None:
    """Revoke a token: from now on it answers 401. Refused when already revoked."""
    from ..auth.tokens import revoke_token

    if row.revoked_at is not None:
        raise Conflict(N_("Mã truy cập này đã bị thu hồi."))
    revoke_token(row)
    db.session.flush()
    audit("api_token_revoke", actor, {"token": row.id, "user": row.user_id, "name": row.name})
