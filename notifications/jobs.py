"""RQ jobs: module-level functions taking ids. The relay enqueues them after commit.

``deliver_many(outbox_ids)`` delivers several outbox rows in one job (the relay enqueues one job
per ``NOTIFY_BATCH_SIZE`` due rows); ``deliver(outbox_id)`` is the same for one row. Each row is
claimed, sent and recorded on its own, idempotently:

1. **Claim** the rows with one guarded UPDATE: each row is taken only if it is pending; failed
   and due; or ``sending`` with a claim older than ``NOTIFY_CLAIM_TIMEOUT`` (abandoned by a
   killed worker). Its ``attempts`` counter goes up by one and is this job's claim token. A row
   not claimed — already sent, dead, or being sent by a live job — is left alone: a job run
   twice sends once. A row's first claim also expands it into its deliveries (one per channel
   and address, each with a Message-ID derived from the outbox id) and its in-app
   notifications, in the same transaction as the claim.
2. **Send** each delivery not yet done. An e-mail is recorded as ``handed_over`` just before
   the final "." of DATA — one UPDATE, committed on its own, that succeeds only while the row
   still carries this job's claim token (so two jobs can never both hand over the same
   message, however long a batch takes) — and ``sent`` when the server answers 250.
3. **Finish** each row: all done → ``sent``; a temporary failure (connection refused, 4xx) →
   ``failed`` with ``available_at`` after a capped exponential backoff, and the job raises at
   its end so RQ's ``Retry`` runs it again (the relay would too, from the database); a
   permanent failure (5xx) or too many attempts → ``dead``, flagged on the case as an audit
   event and listed on /admin/outbox; nothing retries it until staff press "retry".

Killed mid-send (SIGKILL): the row being sent stays ``sending`` (and so do the rows of the
batch after it); once their claims are stale, RQ's abandoned job handling or the relay runs
them again, which re-claims them. Deliveries still ``pending`` or ``failed`` were never
completed on the server (it takes a message only when the final dot arrives) and are sent
once. A delivery found ``handed_over`` was killed in the few milliseconds between the final dot
and recording the 250: it may or may not have been taken, so it is never re-sent automatically
(no duplicate); it becomes ``uncertain``, the row ``dead``, and staff decide on /admin/outbox.
Rows of the batch already recorded ``sent`` are not claimed again. Hence: nothing is sent
twice, and nothing is lost silently.

Durability: every write here is committed with PostgreSQL's default ``synchronous_commit``.
The hot path per e-mail is two single-statement autocommit UPDATEs (``handed_over``, then
``sent`` of the delivery and of its row) on a connection of their own, instead of ORM flushes
in BEGIN … COMMIT transactions: fewer round trips, the same guarantees.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, exists, insert, or_, select, union, update

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

_O = OutboxMessage.__table__
_D = Delivery.__table__

#: Committed right before the final dot: only while the row still carries this job's claim.
_HANDED_OVER = (update(_D).where(
    _D.c.id == bindparam("d_id"), _D.c.status.in_(("pending", "failed")),
    exists().where(_O.c.id == bindparam("o_id"), _O.c.status == "sending", _O.c.attempts == bindparam("token")))
    .values(status="handed_over", handed_over_at=bindparam("at"), attempts=_D.c.attempts + 1))
_DELIVERY_DONE = (update(_D).where(_D.c.id == bindparam("d_id"))
                  .values(status=bindparam("new_status"), sent_at=bindparam("at"), last_error=bindparam("error")))
_ROW_SENT = (update(_O).where(_O.c.id == bindparam("o_id"), _O.c.status == "sending",
                              _O.c.attempts == bindparam("token"))
             .values(status="sent", sent_at=bindparam("at"), claimed_at=None, last_error=None))


class LostClaim(Exception):
    """Another job re-claimed the row (ours was taken as stale): stop, it sends the message."""


def job_id(outbox_id: int) -> str:
    """The RQ job id of a one-row job: enqueueing it twice replaces, never duplicates."""
    return f"outbox-{outbox_id}"


def batch_job_id(outbox_ids: list[int]) -> str:
    """The RQ job id of a job for these rows (``job_id`` for one row): the same rows, the same id."""
    if len(outbox_ids) == 1:
        return job_id(outbox_ids[0])
    digest = hashlib.sha1(",".join(map(str, outbox_ids)).encode(), usedforsecurity=False).hexdigest()[:10]
    return f"outbox-{outbox_ids[0]}-and-{len(outbox_ids) - 1}-{digest}"


def backoff(attempt: int, config) -> int:
    """Seconds before attempt ``attempt + 1``: doubling from the base, capped."""
    return int(min(config["NOTIFY_RETRY_BASE"] * 2 ** max(attempt - 1, 0), config["NOTIFY_RETRY_CAP"]))


def deliver(outbox_id: int) -> str:
    """Deliver one outbox row (see the module docstring). Returns what happened."""
    return deliver_many([outbox_id])[outbox_id]


def deliver_many(outbox_ids: list[int]) -> dict[int, str]:
    """Deliver these outbox rows, one after the other; returns what happened to each.

    A row that fails temporarily is recorded and the others go on; the job then raises
    :class:`RetryLater` (or, after an unexpected error, that error) so that RQ retries it."""
    app = job_app()
    with app.app_context():  # a fresh session, even when run in-process after a commit
        batch = _Batch(app.config)
        try:
            return batch.run(list(dict.fromkeys(outbox_ids)))
        finally:
            batch.close()


def write_digests_job(day: str | None = None) -> int:
    """Write the day's digest rows (``flask pakn digests`` does the same)."""
    from datetime import date

    from pakn.operations import transaction

    from .digests import write_digests

    app = job_app()
    with app.app_context(), transaction():
        return write_digests(date.fromisoformat(day) if day else None)


@dataclass
class _Sending:
    """A claimed row in this job: the ORM row (for the templates), its case and claim token."""

    row: OutboxMessage
    case: Feedback | None
    token: int


def _is_timeout(exc: BaseException) -> bool:
    """RQ's job timeout is an Exception raised inside the job: it must end the job, not a row."""
    return type(exc).__name__ == "JobTimeoutException"


class _Batch:
    def __init__(self, config) -> None:
        self.config = config
        self.mailer, self.sms = Mailer(config), SmsGateway(config)
        # The hot path's writes: single statements, each committed on its own.
        self.auto = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.answers: dict = {}

    def close(self) -> None:
        self.mailer.close()
        self.auto.close()

    def run(self, outbox_ids: list[int]) -> dict[int, str]:
        outcomes = {i: "not due or already done" for i in outbox_ids}
        claimed = self._claim(outbox_ids, utcnow())
        deliveries = self._deliveries([c.row.id for c in claimed])
        retry: list[str] = []
        crash: Exception | None = None
        for item in claimed:
            outbox_id = item.row.id
            try:
                outcomes[outbox_id] = self._deliver_row(item, deliveries.get(outbox_id, []))
            except RetryLater as exc:
                outcomes[outbox_id] = "failed"
                retry.append(str(exc))
            except LostClaim:
                outcomes[outbox_id] = "taken over by another job"
            except Exception as exc:  # a bug or the database: record it, go on, let RQ retry
                if _is_timeout(exc):
                    raise
                db.session.rollback()
                log.exception("delivery of outbox row %s failed", outbox_id)
                _record_crash(outbox_id, item.token, f"{exc.__class__.__name__}: {exc}")
                outcomes[outbox_id] = "crashed"
                crash = crash or exc
        db.session.rollback()  # end the read transaction of the templates' queries
        if crash is not None:
            raise crash
        if retry:
            raise RetryLater("; ".join(retry))
        return outcomes

    # -- claim and expansion: one transaction for the whole batch ---------------------------
    def _claim(self, outbox_ids: list[int], now: datetime) -> list[_Sending]:
        config = self.config
        stale = now - timedelta(seconds=config["NOTIFY_CLAIM_TIMEOUT"])
        due = now + timedelta(seconds=2)  # RQ's retry and the row's available_at are computed apart
        # expire_on_commit off: after each commit keep the loaded rows instead of re-reading them
        # (the claim makes this job the only writer of the rows and their deliveries).
        db.session().expire_on_commit = False
        tokens = dict(db.session.execute(
            update(_O).where(_O.c.id.in_(outbox_ids), or_(
                _O.c.status == "pending",
                and_(_O.c.status == "failed", _O.c.available_at <= due),
                and_(_O.c.status == "sending", _O.c.claimed_at < stale)))
            .values(status="sending", claimed_at=now, attempts=_O.c.attempts + 1)
            .returning(_O.c.id, _O.c.attempts)).all())
        if not tokens:
            db.session.rollback()
            return []
        rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(tokens))
                                       .order_by(OutboxMessage.id)))
        case_ids = {r.feedback_id for r in rows if r.feedback_id}
        cases = {c.id: c for c in db.session.scalars(select(Feedback).where(Feedback.id.in_(case_ids)))} \
            if case_ids else {}
        claimed = [_Sending(r, cases.get(r.feedback_id), tokens[r.id]) for r in rows]
        self.answers = messages.latest_answers(case_ids)
        self._expand(claimed)
        db.session.commit()
        return claimed

    def _expand(self, claimed: list[_Sending]) -> None:
        """First claim: one delivery per channel and address, one notification per staff member."""
        ids = [c.row.id for c in claimed]
        expanded = set(db.session.scalars(union(
            select(Delivery.outbox_id).where(Delivery.outbox_id.in_(ids)),
            select(Notification.outbox_id).where(Notification.outbox_id.in_(ids)))))
        new_deliveries, new_notifications = [], []
        for item in claimed:
            row = item.row
            if row.id in expanded:
                continue
            who = recipients.resolve(row, item.case)
            for address, user_id in who.emails:
                new_deliveries.append({"outbox_id": row.id, "channel": "email", "address": address,
                                       "user_id": user_id,
                                       "message_id": messages.message_id(row.id, "email", address)})
            for phone in who.phones:
                new_deliveries.append({"outbox_id": row.id, "channel": "sms", "address": phone, "user_id": None,
                                       "message_id": messages.message_id(row.id, "sms", phone)})
            for user_id in who.users:
                new_notifications.append({"user_id": user_id, "outbox_id": row.id, "feedback_id": row.feedback_id,
                                          "kind": row.kind})
        if new_deliveries:
            db.session.execute(insert(Delivery), new_deliveries)
        if new_notifications:
            db.session.execute(insert(Notification), new_notifications)

    def _deliveries(self, outbox_ids: list[int]) -> dict[int, list]:
        found: dict[int, list] = {}
        if outbox_ids:
            for d in self.auto.execute(select(_D.c.id, _D.c.outbox_id, _D.c.channel, _D.c.address, _D.c.status,
                                              _D.c.message_id)
                                       .where(_D.c.outbox_id.in_(outbox_ids)).order_by(_D.c.id)):
                found.setdefault(d.outbox_id, []).append(d)
        return found

    # -- one row ---------------------------------------------------------------------------
    def _mark(self, delivery_id: int, status: str, error: str | None = None) -> None:
        self.auto.execute(_DELIVERY_DONE, {"d_id": delivery_id, "new_status": status, "error": error,
                                           "at": utcnow() if status == "sent" else None})

    def _deliver_row(self, item: _Sending, deliveries: list) -> str:
        row, case = item.row, item.case
        todo = [d for d in deliveries if d.status in ("pending", "failed", "handed_over")]
        temporary: list[str] = []
        permanent: list[tuple[str, int | None]] = []
        rendered = ctx = files = None
        for n, delivery in enumerate(todo):
            last = n == len(todo) - 1
            if delivery.status == "handed_over":
                # Killed between the final dot and the 250: maybe taken. Never guess; flag it.
                self._mark(delivery.id, "uncertain", "interrupted after hand-over; not re-sent automatically")
                permanent.append(("uncertain", None))
                continue
            if rendered is None:
                ctx = messages.context_for(row, case, self.answers)
                rendered = messages.render(row.kind, ctx)
                files = messages.attached_files(row)
            try:
                if delivery.channel == "email":
                    if not self.mailer.configured:
                        self._mark(delivery.id, "skipped", "SMTP not configured")
                        continue
                    msg = messages.email_bytes(rendered, delivery.address, delivery.message_id, files)

                    def handed_over(d=delivery):
                        if self.auto.execute(_HANDED_OVER, {"d_id": d.id, "o_id": row.id, "token": item.token,
                                                            "at": utcnow()}).rowcount != 1:
                            raise LostClaim(f"outbox row {row.id} was claimed by another job")

                    self.mailer.send(msg, delivery.address, handed_over)
                else:
                    if not self.sms.configured:
                        self._mark(delivery.id, "skipped", "SMS gateway not configured")
                        continue
                    self.auto.execute(update(_D).where(_D.c.id == delivery.id).values(attempts=_D.c.attempts + 1))
                    self.sms.send(delivery.address, messages.sms_text(rendered, ctx), delivery.message_id)
                if last and not temporary and not permanent:
                    return self._sent(item, delivery.id)
                self._mark(delivery.id, "sent")
            except TemporaryFailure as exc:
                self._mark(delivery.id, "failed", str(exc)[:2000])
                temporary.append(str(exc))
            except Uncertain as exc:
                self._mark(delivery.id, "uncertain", str(exc)[:2000])
                permanent.append(("uncertain", None))
            except PermanentFailure as exc:
                self._mark(delivery.id, "dead", str(exc)[:2000])
                permanent.append((str(exc), exc.code))
        return self._finish(item, bool(deliveries), temporary, permanent)

    def _sent(self, item: _Sending, delivery_id: int | None = None) -> str:
        """The row is sent (and so is ``delivery_id``, its last delivery): on PostgreSQL one
        statement, committed on its own; elsewhere two (the delivery first, so a crash between
        them leaves a row whose next claim finds nothing left to send)."""
        row = item.row
        values = {"o_id": row.id, "token": item.token, "at": utcnow()}
        statement = _ROW_SENT
        if any(k.endswith("_sealed") for k in (row.payload or {})):  # tracking token, set-password link
            statement = statement.values(  # the secret is gone once it is sent
                payload={k: v for k, v in row.payload.items() if not k.endswith("_sealed")})
        if delivery_id is not None:
            values.update(d_id=delivery_id, new_status="sent", error=None)
            if self.auto.dialect.name == "postgresql":
                statement = statement.add_cte(_DELIVERY_DONE.returning(_D.c.id).cte("delivery_sent"))
            else:
                self.auto.execute(_DELIVERY_DONE, values)
        self.auto.execute(statement, values)
        return "sent"

    def _finish(self, item: _Sending, any_delivery: bool, temporary: list[str],
                permanent: list[tuple[str, int | None]]) -> str:
        """A row whose last delivery did not simply succeed: sent, failed (retry) or dead."""
        config = self.config
        row, case = item.row, item.case
        now = utcnow()
        nobody = not any_delivery and db.session.scalar(
            select(Notification.id).where(Notification.outbox_id == row.id).limit(1)) is None
        if nobody:
            permanent.append(("no recipient", None))
        if temporary and item.token >= config["NOTIFY_MAX_ATTEMPTS"]:
            permanent.append((f"gave up after {item.token} attempts: {temporary[-1]}", None))
            temporary = []
        if not permanent and not temporary:
            return self._sent(item)
        mine = update(_O).where(_O.c.id == row.id, _O.c.status == "sending", _O.c.attempts == item.token)
        if permanent:
            reason, code = permanent[0]
            db.session.execute(mine.values(status="dead", last_error=reason[:2000], claimed_at=None))
            _flag(row, case, "no recipient" if nobody else ("uncertain" if reason == "uncertain" else
                                                           "refused" if code else "gave up"), code, now)
            db.session.commit()
            log.warning("outbox row %s (%s) dead: %s", row.id, row.kind, reason)
            return "dead"
        delay = backoff(item.token, config)
        db.session.execute(mine.values(status="failed", last_error=temporary[-1][:2000],
                                       available_at=now + timedelta(seconds=delay), claimed_at=None))
        db.session.commit()
        raise RetryLater(f"outbox row {row.id}: {temporary[-1]} (retry in {delay} s)")


def _flag(row: OutboxMessage, case: Feedback | None, reason: str, code: int | None, now: datetime) -> None:
    """Make a dead row visible on the case: an audit event (no addresses, no message text)."""
    if case is None:
        return
    db.session.add(AuditEvent(
        feedback_id=case.id, action="notification_failed", actor_role=Role.SYSTEM.value,
        actor_label="Hệ thống", from_state=case.state, to_state=case.state, version=case.version, at=now,
        data={"outbox_id": row.id, "kind": row.kind, "reason": reason, "code": code}))


def _record_crash(outbox_id: int, token: int, error: str) -> None:
    """An unexpected error: count it like a temporary failure, so the relay retries later."""
    try:
        config = current_app.config
        mine = update(_O).where(_O.c.id == outbox_id, _O.c.status == "sending", _O.c.attempts == token)
        if token >= config["NOTIFY_MAX_ATTEMPTS"]:
            mine = mine.values(status="dead")
        else:
            mine = mine.values(status="failed", available_at=utcnow() + timedelta(seconds=backoff(token, config)))
        db.session.execute(mine.values(last_error=error[:2000], claimed_at=None))
        db.session.commit()
    except Exception:  # the database itself is down: the stale claim will be retried
        db.session.rollback()
        log.exception("could not record the failure of outbox row %s", outbox_id)
