"""RQ jobs: module-level functions taking ids. The relay enqueues them after commit.

``deliver(outbox_id)`` delivers one outbox row, idempotently:

1. **Claim** the row with one guarded UPDATE (pending; failed and due; or ``sending`` whose
   claim is older than ``NOTIFY_CLAIM_TIMEOUT``, i.e. abandoned by a killed worker). If no row
   is claimed — already sent, dead, or being sent by a live job — the job exits: a job run
   twice sends once. The first claim also expands the row into its deliveries (one per
   channel and address, each with a Message-ID derived from the outbox id) and its in-app
   notifications, in the same transaction.
2. **Send** each delivery not yet done. An e-mail is committed as ``handed_over`` just before
   the final "." of DATA, and ``sent`` when the server answers 250.
3. **Finish**: all done → ``sent``; a temporary failure (connection refused, 4xx) → ``failed``
   with ``available_at`` after a capped exponential backoff, and the job raises so RQ's
   ``Retry`` runs it again (the relay would too, from the database); a permanent failure
   (5xx) or too many attempts → ``dead``, flagged on the case as an audit event and listed on
   /admin/outbox; nothing retries it until staff press "retry".

Killed mid-send (SIGKILL): the row stays ``sending``; once the claim is stale, RQ's abandoned
job handling or the relay runs the job again, which re-claims it. Deliveries still
``pending`` or ``failed`` were never completed on the server (it takes a message only when
the final dot arrives) and are sent once. A delivery found ``handed_over`` was killed in the
few milliseconds between the final dot and recording the 250: it may or may not have been
taken, so it is never re-sent automatically (no duplicate); it becomes ``uncertain``, the row
``dead``, and staff decide on /admin/outbox. Hence: nothing is sent twice, and nothing is
lost silently.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, or_, select, update

from pakn.extensions import db
from pakn.models import AuditEvent, Delivery, Feedback, Notification, OutboxMessage
from pakn.models.types import utcnow
from workflows.glossary import Role

from . import messages, recipients
from .errors import PermanentFailure, RetryLater, TemporaryFailure, Uncertain
from .mailer import Mailer
from .runtime import job_app
from .sms import SmsGateway

log = logging.getLogger("pakn.notifications")


def job_id(outbox_id: int) -> str:
    """The RQ job id of an outbox row: enqueueing it twice replaces, never duplicates."""
    return f"outbox-{outbox_id}"


def backoff(attempt: int, config) -> int:
    """Seconds before attempt ``attempt + 1``: doubling from the base, capped."""
    return int(min(config["NOTIFY_RETRY_BASE"] * 2 ** max(attempt - 1, 0), config["NOTIFY_RETRY_CAP"]))


def deliver(outbox_id: int) -> str:
    """Deliver one outbox row (see the module docstring). Returns what happened."""
    app = job_app()
    with app.app_context():  # a fresh session, even when run in-process after a commit
        try:
            return _deliver(outbox_id)
        except RetryLater:
            raise
        except Exception as exc:  # a bug or the database: record it, then let RQ retry
            db.session.rollback()
            log.exception("delivery of outbox row %s failed", outbox_id)
            _record_crash(outbox_id, f"{exc.__class__.__name__}: {exc}")
            raise


def write_digests_job(day: str | None = None) -> int:
    """Write the day's digest rows (``flask pakn digests`` does the same)."""
    from datetime import date

    from pakn.operations import transaction

    from .digests import write_digests

    app = job_app()
    with app.app_context(), transaction():
        return write_digests(date.fromisoformat(day) if day else None)


# -- steps --------------------------------------------------------------------------------
def _claim(outbox_id: int, now: datetime) -> bool:
    config = current_app.config
    stale = now - timedelta(seconds=config["NOTIFY_CLAIM_TIMEOUT"])
    due = now + timedelta(seconds=2)  # RQ's retry and the row's available_at are computed apart
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, or_(
            OutboxMessage.status == "pending",
            and_(OutboxMessage.status == "failed", OutboxMessage.available_at <= due),
            and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < stale)))
        .values(status="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    return claimed == 1


def _expand(row: OutboxMessage, case: Feedback | None) -> None:
    """First claim: one delivery per channel and address, one notification per staff member."""
    if db.session.scalar(select(or_(exists().where(Delivery.outbox_id == row.id),
                                    exists().where(Notification.outbox_id == row.id)))):
        return
    who = recipients.resolve(row, case)
    for address, user_id in who.emails:
        db.session.add(Delivery(outbox_id=row.id, channel="email", address=address, user_id=user_id,
                                message_id=messages.message_id(row.id, "email", address)))
    for phone in who.phones:
        db.session.add(Delivery(outbox_id=row.id, channel="sms", address=phone,
                                message_id=messages.message_id(row.id, "sms", phone)))
    for user_id in who.users:
        db.session.add(Notification(user_id=user_id, outbox_id=row.id, feedback_id=row.feedback_id,
                                    kind=row.kind))


def _flag(row: OutboxMessage, case: Feedback | None, reason: str, code: int | None, now: datetime) -> None:
    """Make a dead row visible on the case: an audit event (no addresses, no message text)."""
    if case is None:
        return
    db.session.add(AuditEvent(
        feedback_id=case.id, action="notification_failed", actor_role=Role.SYSTEM.value,
        actor_label="Hệ thống", from_state=case.state, to_state=case.state, version=case.version, at=now,
        data={"outbox_id": row.id, "kind": row.kind, "reason": reason, "code": code}))


def _deliver(outbox_id: int) -> str:
    config = current_app.config
    now = utcnow()
    # This job's own session: after each commit keep the loaded rows instead of re-reading them
    # (the claim makes this job the only writer of the row and its deliveries).
    db.session().expire_on_commit = False
    if not _claim(outbox_id, now):
        db.session.rollback()
        return "not due or already done"
    row = db.session.get(OutboxMessage, outbox_id)
    case = db.session.get(Feedback, row.feedback_id) if row.feedback_id else None
    _expand(row, case)
    db.session.commit()

    deliveries = list(db.session.scalars(
        select(Delivery).where(Delivery.outbox_id == row.id).order_by(Delivery.id)))
    todo = [d for d in deliveries if d.status in ("pending", "failed", "handed_over")]
    temporary: list[str] = []
    permanent: list[tuple[str, int | None]] = []
    mailer, sms = Mailer(config), SmsGateway(config)
    rendered = ctx = None
    try:
        for delivery in todo:
            if delivery.status == "handed_over":
                # Killed between the final dot and the 250: maybe taken. Never guess; flag it.
                delivery.status = "uncertain"
                delivery.last_error = "interrupted after hand-over; not re-sent automatically"
                permanent.append(("uncertain", None))
                db.session.commit()
                continue
            if rendered is None:
                ctx = messages.context_for(row, case)
                rendered = messages.render(row.kind, ctx)
                files = messages.attached_files(row)
            try:
                if delivery.channel == "email":
                    if not mailer.configured:
                        delivery.status, delivery.last_error = "skipped", "SMTP not configured"
                        db.session.commit()
                        continue
                    msg = messages.email_message(rendered, delivery.address, delivery.message_id, files)

                    def handed_over(d=delivery):
                        d.status, d.handed_over_at, d.attempts = "handed_over", utcnow(), d.attempts + 1
                        db.session.commit()

                    mailer.send(msg, delivery.address, handed_over)
                else:
                    if not sms.configured:
                        delivery.status, delivery.last_error = "skipped", "SMS gateway not configured"
                        db.session.commit()
                        continue
                    delivery.attempts += 1
                    sms.send(delivery.address, messages.sms_text(rendered, ctx), delivery.message_id)
                delivery.status, delivery.sent_at, delivery.last_error = "sent", utcnow(), None
                if delivery is not todo[-1]:
                    db.session.commit()  # the last one is committed with the row's outcome
            except TemporaryFailure as exc:
                db.session.rollback()
                delivery.status, delivery.last_error = "failed", str(exc)[:2000]
                db.session.commit()
                temporary.append(str(exc))
            except Uncertain as exc:
                db.session.rollback()
                delivery.status, delivery.last_error = "uncertain", str(exc)[:2000]
                db.session.commit()
                permanent.append(("uncertain", None))
            except PermanentFailure as exc:
                db.session.rollback()
                delivery.status, delivery.last_error = "dead", str(exc)[:2000]
                db.session.commit()
                permanent.append((str(exc), exc.code))
    finally:
        mailer.close()
    return _finish(row, case, deliveries, temporary, permanent)


def _finish(row, case, deliveries, temporary, permanent) -> str:
    config = current_app.config
    now = utcnow()
    nobody = not deliveries and db.session.scalar(
        select(Notification.id).where(Notification.outbox_id == row.id).limit(1)) is None
    if nobody:
        permanent.append(("no recipient", None))
    if temporary and row.attempts >= config["NOTIFY_MAX_ATTEMPTS"]:
        permanent.append((f"gave up after {row.attempts} attempts: {temporary[-1]}", None))
        temporary = []
    if permanent:
        reason, code = permanent[0]
        row.status, row.last_error, row.claimed_at = "dead", reason[:2000], None
        _flag(row, case, "no recipient" if nobody else ("uncertain" if reason == "uncertain" else
                                                       "refused" if code else "gave up"), code, now)
        db.session.commit()
        log.warning("outbox row %s (%s) dead: %s", row.id, row.kind, reason)
        return "dead"
    if temporary:
        delay = backoff(row.attempts, config)
        row.status, row.last_error = "failed", temporary[-1][:2000]
        row.available_at, row.claimed_at = now + timedelta(seconds=delay), None
        db.session.commit()
        raise RetryLater(f"outbox row {row.id}: {temporary[-1]} (retry in {delay} s)")
    row.status, row.sent_at, row.claimed_at, row.last_error = "sent", now, None, None
    if any(k.endswith("_sealed") for k in (row.payload or {})):  # tracking token, set-password link
        row.payload = {k: v for k, v in row.payload.items() if not k.endswith("_sealed")}  # secret gone
    db.session.commit()
    return "sent"


def _record_crash(outbox_id: int, error: str) -> None:
    """An unexpected error: count it like a temporary failure, so the relay retries later."""
    try:
        row = db.session.get(OutboxMessage, outbox_id)
        if row is None or row.status != "sending":
            return
        config = current_app.config
        if row.attempts >= config["NOTIFY_MAX_ATTEMPTS"]:
            row.status = "dead"
        else:
            row.status = "failed"
            row.available_at = utcnow() + timedelta(seconds=backoff(row.attempts, config))
        row.last_error, row.claimed_at = error[:2000], None
        db.session.commit()
    except Exception:  # the database itself is down: the stale claim will be retried
        db.session.rollback()
        log.exception("could not record the failure of outbox row %s", outbox_id)
