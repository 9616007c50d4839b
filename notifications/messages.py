"""The text of each message: Jinja templates under ``templates/emails/``, text and HTML twins.

``emails/<kind>.txt`` holds the subject (block ``subject``) and the plain-text body;
``emails/<kind>.html`` the HTML body. Both get the same context, built here from the case as
it is now (the outbox payload carries only ids and small facts). Links: the submitter's
receipt carries the tracking link with its token (the token is unsealed from the payload,
see :mod:`pakn.sealing`); later messages link to the tracking page with the case code, and
the submitter looks the case up with the code and the token from the receipt.
"""
from __future__ import annotations

import binascii
import email.policy
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from typing import Any
from urllib.parse import quote, urlencode

from flask import current_app
from sqlalchemy import select

from pakn.extensions import db
from pakn.models import Agency, Answer, Attachment, Feedback, OutboxMessage, StageVisit, User
from pakn.sealing import unseal
from pakn.storage import attachment_path
from workflows.calendar import TZ
from workflows.glossary import AnswerOutcome, RejectReason
from workflows.pakn import WORKFLOW

from . import digests
from .kinds import SWEEP_KINDS


CRLF = "\r\n"


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


def tracking_link(code: str, token: str | None = None) -> str:
    """The portal's tracking page for ``code``: with the token (receipt only, while it is known)
    the link opens the case's status directly (/tra-cuu/<code>?token=…); without it, the look-up
    form with the code filled in, asking for the e-mail or phone given (/tra-cuu?code=…)."""
    base = current_app.config["TRACKING_URL"].rstrip("/")
    if token:
        return f"{base}/{quote(code)}?{urlencode({'token': token})}"
    return f"{base}?{urlencode({'code': code})}"


def staff_link(case: Feedback | None, recipient_kind: str) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if case is None:
        return f"{base}/notifications"
    area = "office" if recipient_kind == "office" else "agency"
    return f"{base}/{area}/cases/{case.code}"


def local_date(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.astimezone(TZ).strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _latest_answer(case: Feedback) -> Answer | None:
    return db.session.scalar(select(Answer).where(Answer.feedback_id == case.id)
                             .order_by(Answer.revision.desc()).limit(1))


def latest_answers(case_ids) -> dict[int, Answer]:
    """The latest answer of each of these cases (one query, for a batch of rows)."""
    found: dict[int, Answer] = {}
    if case_ids:
        for answer in db.session.scalars(select(Answer).where(Answer.feedback_id.in_(case_ids))
                                         .order_by(Answer.feedback_id, Answer.revision)):
            found[answer.feedback_id] = answer
    return found


def context_for(row: OutboxMessage, case: Feedback | None,
                answers: dict[int, Answer] | None = None) -> dict[str, Any]:
    """Everything a template may show, re-read from the database now (``answers``: the cases'
    latest answers, read by :func:`latest_answers` for the whole batch a job delivers)."""
    payload = dict(row.payload or {})
    agency = db.session.get(Agency, row.recipient_agency_id) if row.recipient_agency_id else None
    ctx: dict[str, Any] = {
        "kind": row.kind, "payload": payload, "case": case, "agency": agency,
        "province": current_app.config["PROVINCE_NAME"], "local_date": local_date,
        "staff_link": staff_link(case, row.recipient_kind),
        "notifications_link": current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/notifications",
    }
    if case is not None:
        token = unseal(payload.get("tracking_sealed")) if row.kind == "submitter.receipt" else None
        ctx.update({
            "code": case.code, "title": case.title, "state_label": WORKFLOW.states[case.state].label,
            "tracking_link": tracking_link(case.code, token), "has_token_link": token is not None,
            "tracking_page": current_app.config["TRACKING_URL"],
            "received_on": local_date(case.received_at), "answer_due_on": local_date(case.answer_due_at),
            "case_agency": case.agency, "field_name": case.field.name if case.field else None,
        })
        if case.reject_reason_code:
            ctx["reject_reason"] = RejectReason(case.reject_reason_code).label
            ctx["reject_guidance"] = case.reject_guidance
        if case.duplicate_of is not None:
            ctx["duplicate_code"] = case.duplicate_of.code
        answer = answers.get(case.id) if answers is not None else _latest_answer(case)
        if answer is not None:
            ctx["answer"] = answer
            ctx["answer_outcome"] = AnswerOutcome(answer.outcome).label
    if payload.get("agency"):  # e.g. the agency that returned a case
        ctx["from_agency"] = db.session.scalar(select(Agency.name).where(Agency.code == payload["agency"]))
    if payload.get("suggested_agency"):
        ctx["suggested_agency"] = db.session.scalar(
            select(Agency.name).where(Agency.code == payload["suggested_agency"]))
    if row.recipient_user_id:
        ctx["user"] = db.session.get(User, row.recipient_user_id)
    if payload.get("link_sealed"):  # an account's one-time set-password link (admin console)
        ctx["set_password_link"] = unseal(payload["link_sealed"])
        ctx["valid_hours"] = payload.get("valid_hours")
        ctx["login_link"] = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/auth/login"
    if payload.get("visit_id"):
        visit = db.session.get(StageVisit, payload["visit_id"])
        ctx["visit"] = visit
        if visit is not None:
            ctx["stage_label"] = WORKFLOW.stages[visit.stage].label
            ctx["due_on"] = local_date(visit.extended_due_at or visit.due_at)
    if payload.get("run_id") and row.kind in SWEEP_KINDS:
        ctx.update(sweep_listing(row, agency))
    if payload.get("due_at") and "due_on" not in ctx:
        ctx["due_on"] = local_date(payload["due_at"])
    if row.kind == "office.overdue_digest":
        ctx["digest"] = digests.overdue_rows(payload.get("date"))
        ctx["digest_date"] = local_date(payload.get("date"))
    elif row.kind == "agency.daily_digest":
        ctx["digest"] = digests.agency_rows(row.recipient_agency_id, payload.get("date"))
        ctx["digest_date"] = local_date(payload.get("date"))
    return ctx


def thousands(number: int) -> str:
    """12345 → "12.345" (the Vietnamese digit grouping)."""
    return f"{number:,}".replace(",", ".")


def sweep_listing(row: OutboxMessage, agency: Agency | None) -> dict[str, Any]:
    """The cases of a deadline-sweep message (one per recipient, kind and sweep run): its
    claims, earliest due first, each with its stage, due date and a link to the case; at most
    ``LIST_LIMIT`` of them, the others counted and linked through the recipient's list."""
    from pakn.deadlines.sweep import LIST_LIMIT, notices_of

    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    office = agency is not None and agency.is_office
    area = "office" if office else "agency"
    lines = [{"code": code, "title": title, "stage": WORKFLOW.stages[stage].label if stage in WORKFLOW.stages else stage,
              "agency": agency_name or "", "due_on": local_date(due_at), "sequence": sequence,
              "link": f"{base}/{area}/cases/{code}"}
             for _visit, sequence, due_at, stage, code, title, agency_name
             in notices_of(row.payload["run_id"], row.kind, row.recipient_agency_id, LIST_LIMIT)]
    count = int(row.payload.get("count") or len(lines))
    if office:
        list_link = f"{base}/office/board"
    else:
        list_link = f"{base}/agency/?view=" + ("due_soon" if row.kind == "agency.reminder" else "overdue")
    return {"notices": lines, "notice_count": count, "notice_count_text": thousands(count),
            "notices_more": max(count - len(lines), 0), "notices_more_text": thousands(max(count - len(lines), 0)),
            "list_link": list_link}


def render(kind: str, ctx: dict[str, Any]) -> Rendered:
    env = current_app.jinja_env
    text_tpl = env.get_template(f"emails/{kind}.txt")
    subject = "".join(text_tpl.blocks["subject"](text_tpl.new_context(dict(ctx))))
    subject = " ".join(subject.split())  # one line: no header injection through a title
    return Rendered(subject=subject, text=text_tpl.render(ctx).strip() + "\n",
                    html=env.get_template(f"emails/{kind}.html").render(ctx))


def message_id(outbox_id: int, channel: str, address: str) -> str:
    """Stable per outbox row and recipient: a resend carries the same Message-ID."""
    import hashlib

    domain = parseaddr(current_app.config["MAIL_SENDER"])[1].rpartition("@")[2] or "pakn.local"
    digest = hashlib.sha256(f"{channel}:{address.lower()}".encode()).hexdigest()[:12]
    return f"<pakn.outbox-{outbox_id}.{digest}@{domain}>"


#: Kinds whose e-mail carries documents named in the outbox payload (attachment ids of the case):
#: the agency receives the forwarding document (văn bản chuyển xử lý) with the notice.
ATTACHED_DOCUMENTS = {"agency.forwarded": ("pdf_attachment_id", "docx_attachment_id")}


def attached_files(row: OutboxMessage) -> list[tuple[str, str, bytes]]:
    """(file name, content type, bytes) of the documents this message carries. A file the disk
    lost is left out (the message still links to the case, where staff find the document)."""
    files = []
    for key in ATTACHED_DOCUMENTS.get(row.kind, ()):
        attachment = db.session.get(Attachment, (row.payload or {}).get(key) or 0)
        if attachment is None or attachment.feedback_id != row.feedback_id:
            continue
        try:
            files.append((attachment.original_name, attachment.content_type,
                          attachment_path(attachment).read_bytes()))
        except (OSError, ValueError) as exc:
            current_app.logger.warning("outbox %s: document %s not attached: %s", row.id, attachment.id, exc)
    return files


def email_message(rendered: Rendered, to: str, msg_id: str,
                  files: list[tuple[str, str, bytes]] = ()) -> EmailMessage:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = rendered.subject
    msg["From"] = current_app.config["MAIL_SENDER"]
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = msg_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(rendered.text, cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    for name, content_type, data in files:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", filename=name)
    return msg


def email_bytes(rendered: Rendered, to: str, msg_id: str, files: list[tuple[str, str, bytes]] = ()) -> bytes:
    """The message as :func:`email_message` writes it, ready for DATA (CRLF, not dot-stuffed).

    The usual message (text and HTML, no attachment, an ASCII address) is written directly:
    the same headers and MIME structure, quoted-printable bodies from ``binascii`` — about 20
    times cheaper than :mod:`email`'s generator, which dominated a delivery job's CPU."""
    if files or not to.isascii() or "\n" in to or "\r" in to:
        return email_message(rendered, to, msg_id, files).as_bytes()
    name, address = parseaddr(current_app.config["MAIL_SENDER"])
    boundary = f"===============pakn{secrets.token_hex(12)}=="
    head = (f"Subject: {Header(rendered.subject, 'utf-8', header_name='Subject').encode(linesep=CRLF)}{CRLF}"
            f"From: {formataddr((name, address), 'utf-8')}{CRLF}To: {to}{CRLF}"
            f"Date: {formatdate(localtime=False)}{CRLF}Message-ID: {msg_id}{CRLF}"
            f"Auto-Submitted: auto-generated{CRLF}MIME-Version: 1.0{CRLF}"
            f'Content-Type: multipart/alternative; boundary="{boundary}"{CRLF}{CRLF}')
    parts = [head.encode("ascii")]
    for subtype, body in (("plain", rendered.text), ("html", rendered.html)):
        parts.append(f'--{boundary}{CRLF}Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
                     f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}".encode("ascii"))
        body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\n", CRLF)
        parts.append(binascii.b2a_qp(body.encode("utf-8"), istext=True) + b"\r\n")
    parts.append(f"--{boundary}--{CRLF}".encode("ascii"))
    return b"".join(parts)


def sms_text(rendered: Rendered, ctx: dict[str, Any]) -> str:
    link = ctx.get("tracking_link") or ""
    return f"{rendered.subject} {link}".strip()
