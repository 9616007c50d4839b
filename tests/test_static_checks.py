"""Static gates run with the suite (issue 10, item 8; reliability.md S10, §2.4):

* bandit over the application packages finds nothing of high severity, and every ``# nosec``
  says why;
* no code updates a versioned table (``version_id_col``: staff-editable rows such as
  ``feedback``) in bulk: a bulk ``UPDATE`` bypasses the version check, so a stale write would
  silently win over a colleague's (reliability.md §2.4). Exceptions are listed with a reason.
"""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pakn", "notifications", "workflows")

#: ``path: reason`` for a bulk update of a versioned table that is nonetheless right.
BULK_UPDATE_ALLOWED: dict[str, str] = {
    # The TOTP step claim is a guarded conditional UPDATE (rowcount checked) of a column no
    # event watches: it is what makes a code usable once even when two requests race.
    "pakn/auth/second_factor.py": "single-use TOTP step claim; touches totp_last_step only",
}
#: Rows whose ORM attribute events must run on every change, so they are never updated in bulk
#: either: deactivating a user (``User.active``) ends its sessions and revokes its API tokens.
EVENT_GUARDED = ({"User"}, {"app_user"})


def _sources():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def test_bandit_finds_no_high_severity_issue():
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", *PACKAGES, "-f", "json", "-q", "--severity-level", "high"],
        cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.stdout, result.stderr
    report = json.loads(result.stdout)
    assert not report["errors"], report["errors"]
    high = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in report["results"]
            if r["issue_severity"] == "HIGH"]
    assert not high, "bandit, high severity:\n" + "\n".join(high)
    assert report["metrics"]["_totals"]["loc"] > 10000  # it really read the packages


def test_every_nosec_says_why():
    """``# nosec Bnnn`` needs its reason in a comment on the line above (bandit reads the rest
    of its own line as test ids)."""
    bare = []
    for path in _sources():
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if re.search(r"#\s*nosec\b", line):
                above = lines[number - 2].strip() if number > 1 else ""
                if not (above.startswith("#") and len(above) > 20):
                    bare.append(f"{path.relative_to(ROOT)}:{number}")
    assert not bare, "a # nosec without its reason: " + ", ".join(bare)


def _versioned() -> tuple[set[str], set[str]]:
    """The mapped classes with a ``version_id_col`` and their tables."""
    from pakn.extensions import db
    import pakn.models  # noqa: F401  (registers the mappers)

    mappers = [m for m in db.Model.registry.mappers if m.version_id_col is not None]
    return {m.class_.__name__ for m in mappers}, {m.local_table.name for m in mappers}


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def bulk_updates(source: str, classes: set[str], tables: set[str]) -> list[int]:
    """Lines of ``source`` that update a versioned class or table in bulk."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            # update(Feedback) / sa.update(Feedback) / Feedback.__table__.update()
            if name == "update" and node.args and _names_in(node.args[0]) & classes:
                found.append(node.lineno)
            elif name == "update" and isinstance(func, ast.Attribute) and _names_in(func.value) & classes:
                # session.query(Feedback)….update({...}) or Feedback.__table__.update()
                receiver = func.value
                if isinstance(receiver, ast.Call) or (isinstance(receiver, ast.Attribute)
                                                      and receiver.attr == "__table__"):
                    found.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for table in tables:
                if re.search(rf"\bUPDATE\s+{table}\b", node.value, re.IGNORECASE):
                    found.append(node.lineno)
    return sorted(set(found))


def test_no_bulk_update_of_a_versioned_table():
    classes, tables = _versioned()
    classes, tables = classes | EVENT_GUARDED[0], tables | EVENT_GUARDED[1]
    assert "Feedback" in classes and "feedback" in tables
    offenders = []
    for path in _sources():
        relative = str(path.relative_to(ROOT))
        if relative in BULK_UPDATE_ALLOWED:
            continue
        offenders += [f"{relative}:{line}" for line in bulk_updates(path.read_text(encoding="utf-8"), classes, tables)]
    assert not offenders, ("bulk UPDATE of a versioned or event-guarded table (bypasses version_id_col or the "
                           "model's events; use the ORM row, or list it in BULK_UPDATE_ALLOWED with the "
                           "reason): " + ", ".join(offenders))


def test_the_bulk_update_check_sees_every_form_it_bans():
    classes, tables = {"Feedback"}, {"feedback"}
    sample = "\n".join([
        "db.session.execute(update(Feedback).where(Feedback.id == 1).values(state='x'))",
        "db.session.execute(sa.update(Feedback).values(state='x'))",
        "db.session.query(Feedback).filter_by(id=1).update({'state': 'x'})",
        "Feedback.__table__.update().values(state='x')",
        "db.session.execute(text('UPDATE feedback SET state = :s'))",
        "db.session.execute(update(FeedbackCounter).values(n=1))",  # another table: allowed
        "data.update({'a': 1})",  # a dict: allowed
        "case.title = 'x'",  # an ORM change: versioned, allowed
    ])
    assert bulk_updates(sample, classes, tables) == [1, 2, 3, 4, 5]


def test_the_sms_gateway_opens_only_http_urls(app):
    """bandit B310: urlopen would read ``file:`` URLs; a misconfigured gateway is refused."""
    import pytest

    from notifications.errors import PermanentFailure
    from notifications.sms import SmsGateway

    gateway = SmsGateway({**app.config, "SMS_GATEWAY_URL": "file:///etc/passwd", "SMS_GATEWAY_TOKEN": "t"})
    with pytest.raises(PermanentFailure):
        gateway.send("0912345678", "Thử", "<1@pakn>")
