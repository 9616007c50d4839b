"""``flask --app wsgi pakn …`` commands."""
from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup
from sqlalchemy import select

from workflows.glossary import STAFF_ROLES
from workflows.pakn import WORKFLOW

from .auth import passwords
from .extensions import db
from .models import Agency, User
from .operations import transaction

pakn_cli = AppGroup("pakn", help="pakn administration commands.")

_PASSWORD_PROBLEMS = {
    passwords.TOO_SHORT: "at least %(min)s characters",
    passwords.TOO_LONG: "at most %(max)s characters",
    passwords.TOO_COMMON: "one of the most common passwords, easily guessed: choose another",
    passwords.IS_EMAIL: "the same as the e-mail address",
}


@pakn_cli.command("workflow")
def workflow_command() -> None:
    """Print the PAKN workflow definition as Markdown tables."""
    click.echo(WORKFLOW.as_markdown(), nl=False)


@pakn_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in STAFF_ROLES]), required=True)
@click.option("--agency", "agency_code", help="Code of the user's agency (not needed for admin).")
@click.option("--password", help="Initial password; a random one is generated and printed when omitted.")
def create_user_command(email: str, full_name: str, role: str, agency_code: str | None,
                        password: str | None) -> None:
    """Create a staff account."""
    email = email.strip().lower()
    agency = None
    if agency_code:
        agency = db.session.scalar(select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise click.BadParameter(f"no agency with code {agency_code!r}", param_hint="--agency")
    if role != "admin" and agency is None:
        raise click.BadParameter("staff other than admin need --agency", param_hint="--agency")
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise click.BadParameter(f"{email} already exists", param_hint="--email")
    if password is not None:
        problem = passwords.password_problem(password, email)
        if problem:  # the command line speaks English, like its other messages
            raise click.BadParameter(_PASSWORD_PROBLEMS[problem[0]] % problem[1], param_hint="--password")
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    with transaction():
        user = User(email=email, full_name=full_name, role=role, agency=agency)
        user.set_password(password)
        db.session.add(user)
    click.echo(f"created {email} ({role})" + (f" with password {password}" if generated else ""))
    click.echo("The second factor (an authenticator app, TOTP) is set up at the first login.")


@pakn_cli.command("reset-second-factor")
@click.option("--email", required=True)
def reset_second_factor_command(email: str) -> None:
    """Remove a staff member's second factor (lost phone, no recovery code left, or the only
    admin locked out); they enrol again at their next login. Audited."""
    from .auth.second_factor import reset_second_factor

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.BadParameter(f"no user {email}", param_hint="--email")
    with transaction():
        reset_second_factor(user, None)
    click.echo(f"second factor of {user.email} reset: they enrol again at their next login")


@pakn_cli.command("seed-demo")
def seed_demo_command() -> None:
    """Load a realistic demo province: agencies, fields, one user per role, cases in every state."""
    from .demo import seed_demo

    seed_demo(echo=click.echo)


@pakn_cli.command("sweep")
@click.option("--now", "now_iso", help="Sweep as of this ISO 8601 instant (default: now), e.g. for a catch-up.")
def sweep_command(now_iso: str | None) -> None:
    """Mark due-soon and overdue stage visits; write reminders, escalations and progress-update notices."""
    from datetime import datetime, timezone

    from .deadlines.sweep import run_sweep

    now = None
    if now_iso:
        now = datetime.fromisoformat(now_iso)
        if now.tzinfo is None:
            raise click.BadParameter("give a time zone, e.g. 2026-02-23T08:00:00+07:00", param_hint="--now")
        now = now.astimezone(timezone.utc)
    with transaction():
        result = run_sweep(now)
    click.echo(f"sweep {result.run_id}: {result.marked_due_soon} due soon, {result.marked_overdue} overdue; "
               + (", ".join(f"{k} {v}" for k, v in sorted(result.written.items())) or "no notices")
               + f"; {sum(result.messages.values())} outbox message(s)")


@pakn_cli.command("recompute-deadlines")
def recompute_deadlines_command() -> None:
    """Recompute every open due date on today's calendar (each clock keeps its own rule version)."""
    from .models.types import utcnow
    from .operations import SystemActor
    from .operations.clock import recompute_open_due_dates

    with transaction():
        moved = recompute_open_due_dates(None, SystemActor(), "Tính lại thời hạn theo lịch hiện hành", utcnow())
    click.echo(f"{moved} case(s) with moved due dates")


@pakn_cli.command("purge-uploads")
@click.option("--older-than-hours", default=1, show_default=True, type=click.IntRange(min=0),
              help="Leave younger files alone: they may belong to a transaction still in flight.")
def purge_uploads_command(older_than_hours: int) -> None:
    """Delete upload files that no attachment row names (left by a killed worker or a lost disk)."""
    from datetime import timedelta

    from .storage import purge_orphan_files

    for path in purge_orphan_files(timedelta(hours=older_than_hours)):
        click.echo(f"removed {path}")


@pakn_cli.command("relay")
@click.option("--once", is_flag=True, help="One pass, then exit (for cron or a systemd timer).")
@click.option("--interval", type=int, default=None, help="Seconds between passes (default PAKN_RELAY_INTERVAL).")
def relay_command(once: bool, interval: int | None) -> None:
    """Re-send undelivered notifications and write the daily digests (Redis is never the record)."""
    import time

    from flask import current_app

    from notifications.relay import relay_once

    interval = interval or current_app.config["RELAY_INTERVAL"]
    while True:
        try:
            result = relay_once()
            click.echo(f"digests written: {result['digests']}; rows handed over: {result['relayed']}")
        except Exception as exc:  # Redis or the database down: try again next pass
            db.session.rollback()
            click.echo(f"relay pass failed: {exc.__class__.__name__}: {exc}", err=True)
            if once:
                raise SystemExit(1)
        if once:
            return
        time.sleep(interval)


@pakn_cli.command("digests")
@click.option("--date", "day", help="Local date YYYY-MM-DD (default: today).")
def digests_command(day: str | None) -> None:
    """Write the day's office overdue digest and agency daily digests (once per day)."""
    from datetime import date

    from notifications.digests import write_digests

    with transaction():
        written = write_digests(date.fromisoformat(day) if day else None)
    click.echo(f"digests written: {written}")


@pakn_cli.command("import-batch")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row and show what would be imported; write nothing.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]),
              help="The file's format; by default from its extension or its first character.")
def import_batch_command(path: str, dry_run: bool, fmt: str | None) -> None:
    """Import a batch of items forwarded by the Government Office (VPCP), CSV or JSON.

    Each good row becomes a case (one transaction per row); rows with errors are listed and
    skipped; rows already imported (same external id) are reported, not created again. The
    exit status is 1 when some row has an error or the file cannot be read.
    """
    import os

    from .intake_batch import ALREADY, CREATED, ERROR, detect_format, import_batch
    from .operations import SystemActor

    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException("Tệp phải là văn bản UTF-8.") from None
    fmt = fmt or detect_format(path, content)
    report = import_batch(content, fmt, SystemActor(label="Nhập lô từ VPCP (dòng lệnh)"),
                          source=os.path.basename(path), dry_run=dry_run)
    for problem in report.errors:
        click.echo(f"Lỗi tệp: {problem.text()}", err=True)
    if report.errors:
        raise SystemExit(1)
    words = {CREATED: "đã tạo", ALREADY: "đã nhập trước đó", ERROR: "lỗi", "new": "sẽ tạo"}
    for row in report.rows:
        line = f"dòng {row.line}\t{row.external_id or '—'}\t{words[row.status]}"
        if row.code:
            line += f"\t{row.code}"
        if row.problems:
            line += "\t" + "; ".join(f"{p.column}: {p.text()}" if p.column else p.text() for p in row.problems)
        click.echo(line)
    errors = report.count(ERROR)
    if dry_run:
        click.echo(f"Thử (không ghi gì): sẽ tạo {report.count('new')}, đã nhập trước đó {report.count(ALREADY)}, "
                   f"lỗi {errors}.")
    else:
        click.echo(f"Đã tạo {report.count(CREATED)}, đã nhập trước đó {report.count(ALREADY)}, lỗi {errors}.")
    if errors:
        raise SystemExit(1)
