"""The ``flask pakn …`` commands: seed-demo, create-user, workflow (on every backend)."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from pakn.extensions import db
from pakn.models import (
    Agency, AgencyLevel, AuditEvent, CalendarOverlay, Feedback, Field, OutboxMessage, Plan, PlanTask, PlanTaskUnit,
    StageVisit, User,
)
from pakn.models.types import utcnow
from workflows.glossary import STAFF_ROLES
from workflows.pakn import WORKFLOW

TABLES = (AgencyLevel, Agency, Field, User, Plan, PlanTask, PlanTaskUnit, CalendarOverlay, Feedback, StageVisit,
          AuditEvent, OutboxMessage)


def counts() -> dict[str, int]:
    return {t.__tablename__: db.session.scalar(select(func.count()).select_from(t)) for t in TABLES}


def credentials(output: str) -> dict[str, tuple[str, str]]:
    """email → (role, password) from the table seed-demo prints."""
    found = {}
    for line in output.splitlines():
        match = re.match(r"^\s+(\w+)\s+(\S+@\S+)\s+(\S+)\s", line)
        if match:
            found[match.group(2)] = (match.group(1), match.group(3))
    return found


def seed(runner):
    result = runner.invoke(args=["pakn", "seed-demo"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


# -- seed-demo ----------------------------------------------------------------------------
def test_seed_demo_builds_a_province_with_cases_in_every_state(app, runner):
    output = seed(runner)
    with app.app_context():
        office = db.session.scalar(select(Agency).where(Agency.is_office.is_(True)))
        assert office.name == "Văn phòng UBND tỉnh Vĩnh Long"
        assert office.email and office.phone and office.address
        levels = {lv.name for lv in db.session.scalars(select(AgencyLevel))}
        assert levels == {"Cấp tỉnh", "Sở, ban, ngành", "Cấp xã"}  # no district level since 1/7/2025
        agencies = db.session.scalars(select(Agency).where(Agency.is_office.is_(False))).all()
        assert len(agencies) >= 12
        names = {a.name for a in agencies}
        assert {"Sở Xây dựng", "Sở Tài chính", "Sở Nông nghiệp và Môi trường", "UBND xã Long Hồ"} <= names
        assert all(a.code and a.email and a.phone and a.address for a in agencies)
        fields = {f.name for f in db.session.scalars(select(Field))}
        assert {"Đất đai", "Xây dựng", "Đầu tư", "Y tế", "Tư pháp – hộ tịch"} <= fields

        # One account per staff role, each with the password printed once.
        users = db.session.scalars(select(User)).all()
        assert {u.role for u in users} == {r.value for r in STAFF_ROLES}
        printed = credentials(output)
        assert set(printed) == {u.email for u in users}
        assert len({password for _, password in printed.values()}) == len(users)  # random, not constant
        for user in users:
            role, password = printed[user.email]
            assert role == user.role and len(password) >= 12
            assert user.check_password(password)

        # The two plans, imported from the seed files: both bound, Bến Tre's in force.
        plans = {p.code: p for p in db.session.scalars(select(Plan))}
        ben_tre, ha_tinh = plans["62/9/KH-UBND"], plans["09/KH-UBND"]
        assert ben_tre.in_force and not ha_tinh.in_force
        bound = {t.number: t.binding for t in ben_tre.tasks if t.binding}
        assert bound == {"6.2": "receive_classify", "6.3": "handle", "6.4": "notify_publish", "11": "report",
                         "11.2": "report_consolidated"}
        task_62 = next(t for t in ben_tre.tasks if t.number == "6.2")
        assert task_62.lead_units == "Văn phòng UBND tỉnh"
        assert task_62.expected_product == "Văn bản chuyển xử lý PAKN"
        assert task_62.timeframe == "Thường xuyên"
        assert len(ben_tre.tasks) == 39 and len(ha_tinh.tasks) == 37
        assert {"6.1", "6.2", "6.3", "6.4", "11"} <= {t.number for t in ben_tre.tasks}
        assert {"V.1", "V.2"} <= {t.number for t in ha_tinh.tasks}
        assert {t.number: t.binding for t in ha_tinh.tasks if t.binding} == {"V.2": "receive_classify"}

        # Cases in every state of the workflow, each with its audit trail and stage visits.
        cases = db.session.scalars(select(Feedback)).all()
        assert len(cases) >= 24
        assert {c.state for c in cases} == set(WORKFLOW.states)
        assert len({c.channel for c in cases}) >= 4
        now = utcnow()
        for case in cases:
            events = db.session.scalars(
                select(AuditEvent).where(AuditEvent.feedback_id == case.id).order_by(AuditEvent.id)).all()
            assert events[0].action in ("receive", "receive_on_behalf")
            assert events[-1].to_state == case.state
            assert all(e.at <= now for e in events)
            assert [e.at for e in events] == sorted(e.at for e in events)
            visits = case.stage_visits
            assert visits and visits[0].stage == "classify"
            open_visits = [v for v in visits if v.finished_at is None]
            assert len(open_visits) == (0 if WORKFLOW.stage_of(case.state) is None else 1)
        # Stage visits carry the plan task that assigns the stage.
        classify = db.session.scalars(select(StageVisit).where(StageVisit.stage == "classify")).first()
        assert classify.plan_task.number == "6.2"
        # Some cases are overdue, so the dashboard has something urgent to show.
        overdue = db.session.scalar(select(func.count()).select_from(StageVisit).where(
            StageVisit.finished_at.is_(None), StageVisit.due_at < now))
        assert overdue >= 1


def test_seed_demo_is_idempotent(app, runner):
    seed(runner)
    with app.app_context():
        before = counts()
    again = seed(runner)
    assert "already present" in again
    assert not credentials(again)  # no new accounts, no passwords
    with app.app_context():
        assert counts() == before


def test_seed_demo_refuses_a_database_with_other_data(app, runner, world):
    result = runner.invoke(args=["pakn", "seed-demo"])
    assert result.exit_code != 0
    assert "empty database" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Feedback)) == 0


def test_calendar_overlay_adds_only_what_the_holidays_package_misses():
    from datetime import date

    import holidays

    from pakn.demo import ANNOUNCED_DAYS, missing_calendar_days

    # Every entry is in 2025–2026 and cites its basis.
    assert all(d.year in (2025, 2026) and note for d, _, note in ANNOUNCED_DAYS)
    missing = missing_calendar_days()
    package = holidays.country_holidays("VN", years=(2025, 2026))
    for day, _, _ in missing:
        assert day not in package and day not in package.weekend_workdays
    # The make-up Saturdays of 2025 and 2026 are known to the pinned package, so nothing is invented.
    assert date(2025, 4, 26) not in {d for d, _, _ in missing}
    assert date(2026, 8, 22) not in {d for d, _, _ in missing}


# -- create-user --------------------------------------------------------------------------
def invoke_create_user(runner, *extra):
    return runner.invoke(args=["pakn", "create-user", "--name", "Trần Văn Bình", *extra])


def test_create_user_makes_an_account_that_can_log_in(app, runner, world):
    result = invoke_create_user(runner, "--email", "Binh.TV@Vinhlong.example", "--role", "agency_officer",
                                "--agency", "SXD", "--password", "mat-khau-du-dai-1")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "binh.tv@vinhlong.example"))
        assert user.role == "agency_officer" and user.agency_id == world.agency_a
        assert user.check_password("mat-khau-du-dai-1")
        assert not user.check_password("mat-khau-sai-0000")


def test_create_user_generates_and_prints_a_password_when_none_given(app, runner, world):
    result = invoke_create_user(runner, "--email", "admin2@pakn.test", "--role", "admin")
    assert result.exit_code == 0, result.output
    password = re.search(r"with password (\S+)", result.output).group(1)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "admin2@pakn.test"))
        assert user.check_password(password)


def test_create_user_refuses_bad_input_and_creates_nothing(app, runner, world):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(User))
    refusals = [
        (("--email", "clerk@pakn.test", "--role", "office_clerk", "--agency", "VP", "--password", "du-dai-lam-1"),
         "already exists"),
        (("--email", "new1@pakn.test", "--role", "agency_officer", "--agency", "KHONG-CO", "--password",
          "du-dai-lam-1"), "no agency"),
        (("--email", "new2@pakn.test", "--role", "agency_officer", "--agency", "SXD", "--password", "ngan"),
         "at least 8"),
        (("--email", "new3@pakn.test", "--role", "agency_lead", "--password", "du-dai-lam-1"), "--agency"),
    ]
    for args, message in refusals:
        result = invoke_create_user(runner, *args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == before


# -- workflow -----------------------------------------------------------------------------
def test_workflow_prints_a_markdown_table_with_every_trigger_and_state(runner):
    result = runner.invoke(args=["pakn", "workflow"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "| trigger | label | from | to | roles | guards | validators | outbox |" in lines
    rows = [line for line in lines if line.startswith("| `")]
    for trigger in WORKFLOW.transitions:
        assert any(row.startswith(f"| `{trigger}` |") for row in rows), trigger
    for state in WORKFLOW.states:
        assert f"`{state}`" in result.output
