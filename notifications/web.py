"""Staff pages: the in-app notifications (bell, list, mark read) and the admin outbox page."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError

from pakn.extensions import db
from pakn.models import Delivery, Feedback, Notification, OutboxMessage
from pakn.models.types import utcnow
from pakn.operations import transaction
from workflows.glossary import Role

from . import kinds

bp = Blueprint("notifications", __name__)
log = logging.getLogger("pakn.notifications")
PAGE = 50


def bell_context() -> dict:
    """``notification_unread`` for the bell in base.html (staff only)."""
    if not current_user.is_authenticated:
        return {}
    try:
        count = db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == current_user.id, Notification.read_at.is_(None)))
    except SQLAlchemyError:  # e.g. rendering the error page while the database is down
        db.session.rollback()
        return {}
    return {"notification_unread": count or 0}


# -- in-app notifications ------------------------------------------------------------------
@bp.route("/notifications")
@login_required
def index():
    page = max(request.args.get("page", 1, type=int), 1)
    rows = db.session.execute(
        select(Notification, Feedback).outerjoin(Feedback, Feedback.id == Notification.feedback_id)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.read_at.is_not(None), Notification.id.desc())
        .limit(PAGE + 1).offset((page - 1) * PAGE)).all()
    return render_template("notifications/index.html", rows=rows[:PAGE], page=page,
                           has_next=len(rows) > PAGE, label=kinds.label)


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    notice = db.session.get(Notification, notification_id)
    if notice is None or notice.user_id != current_user.id:
        abort(404)
    if notice.read_at is None:
        with transaction():
            notice.read_at = utcnow()
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read():
    with transaction():
        db.session.execute(update(Notification)
                           .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
                           .values(read_at=utcnow()))
    flash(gettext("Đã đánh dấu tất cả thông báo là đã đọc."), "info")
    return redirect(url_for("notifications.index"))


# -- admin: the outbox ---------------------------------------------------------------------
def _require_admin() -> None:
    if current_user.role != Role.ADMIN.value:
        abort(404)  # out of reach: as if it did not exist


def _queue_health() -> dict | None:
    """RQ's view of the notification queue, or None without Redis; ``error`` if unreachable."""
    if not current_app.config.get("REDIS_URL"):
        return None
    try:
        from rq import Worker
        from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

        from .relay import queue

        q = queue(current_app)
        return {"queued": q.count, "started": StartedJobRegistry(queue=q).count,
                "scheduled": ScheduledJobRegistry(queue=q).count, "failed": FailedJobRegistry(queue=q).count,
                "workers": len(Worker.all(queue=q)), "name": q.name}
    except Exception as exc:  # Redis down: say so, the page still works from the database
        log.warning("queue health unavailable: %s", exc)
        return {"error": True}


@bp.route("/admin/outbox")
@login_required
def outbox():
    _require_admin()
    counts = dict(db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    oldest = db.session.scalar(select(func.min(OutboxMessage.created_at))
                               .where(OutboxMessage.status.in_(("pending", "failed", "sending"))))
    age_minutes = int((utcnow() - oldest) / timedelta(minutes=1)) if oldest else None
    rows = db.session.execute(
        select(OutboxMessage, Feedback.code).outerjoin(Feedback, Feedback.id == OutboxMessage.feedback_id)
        .where(OutboxMessage.status.in_(("failed", "dead", "sending")))
        .order_by(OutboxMessage.status.desc(), OutboxMessage.id.desc()).limit(200)).all()
    deliveries: dict[int, list[Delivery]] = {}
    if rows:
        for d in db.session.scalars(select(Delivery).where(Delivery.outbox_id.in_([r.id for r, _ in rows]))
                                    .order_by(Delivery.id)):
            deliveries.setdefault(d.outbox_id, []).append(d)
    return render_template("admin/outbox.html", counts=counts, age_minutes=age_minutes, rows=rows,
                           deliveries=deliveries, health=_queue_health(), label=kinds.label)


@bp.route("/admin/outbox/<int:outbox_id>/retry", methods=["POST"])
@login_required
def retry(outbox_id: int):
    """Send a failed or dead row again: its undelivered messages only (sent ones stay sent)."""
    _require_admin()
    row = db.session.get(OutboxMessage, outbox_id)
    if row is None or row.status not in ("failed", "dead"):
        abort(404)
    with transaction():
        db.session.execute(update(Delivery).where(
            Delivery.outbox_id == row.id, Delivery.status.in_(("failed", "dead", "uncertain")))
            .values(status="pending"))
        row.status, row.attempts, row.available_at, row.last_error = "pending", 0, utcnow(), None
    from .relay import relay_ids

    try:
        relay_ids(current_app._get_current_object(), [outbox_id])
    except Exception:  # Redis down: the periodic relay sends it
        log.warning("retry of outbox row %s left to the periodic relay", outbox_id)
    flash(gettext("Đã gửi lại thông báo #%(id)s.", id=outbox_id), "info")
    return redirect(url_for("notifications.outbox"))
