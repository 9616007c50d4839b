"""The staff second factor: TOTP (RFC 6238, pyotp) with one-time recovery codes.

Every staff role needs it (ASVS 6.3.3). A staff member without one is led through enrolment
at the next login: a new secret is drawn and stored sealed (:mod:`pakn.sealing`), shown as
text, as an ``otpauth://`` URI and as a QR code (segno, rendered on the server as inline
SVG: nothing is loaded from another site); a code from the app confirms it, and then ten
recovery codes are shown once and stored as SHA-256 hashes.

A TOTP code is accepted once only: the 30-s step of the last accepted code is kept on the
user (``totp_last_step``), and only a later step is accepted, claimed with a conditional
UPDATE so that two parallel requests carrying the same code cannot both pass (ASVS 6.5.1).
Codes of the previous, current and next step are accepted (clock drift of up to 30 s).

Every function flushes only; the caller commits (the request's ``transaction()``).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

import pyotp
from flask import current_app
from markupsafe import Markup
from sqlalchemy import delete, func, or_, select, update

from ..extensions import db
from ..models import AuditEvent, RecoveryCode, User
from ..models.types import utcnow
from ..sealing import seal, unseal

#: Seconds per TOTP step and the steps accepted around the current one (clock drift).
STEP_SECONDS = 30
DRIFT_STEPS = 1
#: Recovery codes issued at enrolment (and each time they are renewed).
RECOVERY_CODE_COUNT = 10
#: Letters and digits without 0/O and 1/I: 32 symbols, 5 bits each; 12 of them = 60 bits.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_RECOVERY_LENGTH = 12
_SEPARATORS = re.compile(r"[\s\-]")


def issuer() -> str:
    """The name the authenticator app shows above the code."""
    return f"PAKN {current_app.config['PROVINCE_NAME']}"


# -- enrolment ----------------------------------------------------------------------------------
def pending_secret(user: User) -> str:
    """The secret being enrolled for ``user``: the one already drawn (so reloading the page
    does not invalidate an app already set up), or a new one. Refused once enrolled."""
    if user.second_factor_enrolled:
        raise ValueError("already enrolled; reset the second factor first")
    secret = unseal(user.totp_secret)
    if secret is None:
        secret = pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 advises
        user.totp_secret = seal(secret)
        user.totp_last_step = None
        db.session.flush()
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://totp/…`` URI an authenticator app reads (from the QR code or pasted)."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=user.email, issuer_name=issuer())


def qr_svg(uri: str, title: str) -> Markup:
    """``uri`` as an inline SVG QR code (no script, no style attribute: fits the CSP)."""
    import segno

    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, title=title, svgclass="qr", lineclass=None)
    return Markup(svg)


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def confirm_enrolment(user: User, code: str, now: float | None = None) -> list[str] | None:
    """Confirm the pending secret with a code from the app; returns the new recovery codes
    (to show once), or None when the code is wrong. Audited."""
    if user.second_factor_enrolled or not verify_totp(user, code, now):
        return None
    user.totp_confirmed_at = utcnow()
    codes = new_recovery_codes(user)
    audit_account_event(user, "second_factor_enrolled", user)
    return codes


# -- verification -------------------------------------------------------------------------------
def _normal_totp(code: str | None) -> str | None:
    code = _SEPARATORS.sub("", code or "")
    return code if len(code) == 6 and code.isascii() and code.isdigit() else None


def verify_totp(user: User, code: str | None, now: float | None = None) -> bool:
    """True when ``code`` is the user's TOTP for a step near ``now`` not used before; that
    step is then claimed (a replay of the same code, even within its 30 s, is refused)."""
    code = _normal_totp(code)
    secret = unseal(user.totp_secret)
    if code is None or secret is None:
        return False
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return _claim_step(user, step)
    return False


def _claim_step(user: User, step: int) -> bool:
    """Record ``step`` as used unless another request recorded it (or a later one) first."""
    claimed = db.session.execute(
        update(User).where(User.id == user.id,
                           or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return False
    user.totp_last_step = step
    return True


def _normal_recovery(code: str | None) -> str | None:
    code = _SEPARATORS.sub("", code or "").upper()
    if len(code) != _RECOVERY_LENGTH or any(c not in _ALPHABET for c in code):
        return None
    return code


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def use_recovery_code(user: User, code: str | None) -> bool:
    """True when ``code`` is one of the user's unused recovery codes; it is then spent
    (a conditional UPDATE, so the same code cannot be spent twice in parallel). Audited."""
    code = _normal_recovery(code)
    if code is None or not user.second_factor_enrolled:
        return False
    spent = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        return False
    audit_account_event(user, "second_factor_recovery_code_used", user, left=recovery_codes_left(user))
    return True


def verify_second_factor(user: User, code: str | None, now: float | None = None) -> str | None:
    """Check an enrolled user's code: ``"totp"`` or ``"recovery"`` for the kind accepted,
    None when refused. Six digits are a TOTP code; anything else is tried as a recovery code."""
    if not user.second_factor_enrolled:
        return None
    if _normal_totp(code) is not None:
        return "totp" if verify_totp(user, code, now) else None
    return "recovery" if use_recovery_code(user, code) else None


# -- recovery codes -----------------------------------------------------------------------------
def _recovery_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, _RECOVERY_LENGTH, 4))


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with :data:`RECOVERY_CODE_COUNT` new ones; returns
    them as shown to the user (only their hashes are stored)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(_normal_recovery(c))) for c in codes)
    db.session.flush()
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


# -- reset --------------------------------------------------------------------------------------
def reset_second_factor(user: User, actor: User | None) -> None:
    """Remove ``user``'s second factor and recovery codes and end their sessions: at the next
    login they enrol again. ``actor`` is the admin (None from the command line). Audited."""
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.session_version = (user.session_version or 0) + 1
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit_account_event(user, "second_factor_reset", actor)


def audit_account_event(user: User, action: str, actor: User | None, **data) -> None:
    """An append-only audit row about ``user``'s account (no case), by ``actor`` (None: the CLI)."""
    db.session.add(AuditEvent(
        action=action, at=utcnow(), actor_id=actor.id if actor else None,
        actor_role=actor.role if actor else "system", actor_label=actor.full_name if actor else "command line",
        data={"user_id": user.id, **data}))
    db.session.flush()
