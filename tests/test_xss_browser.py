"""Stored XSS in a real browser (issue 10, item 3; reliability.md I9): payloads typed into every
field a citizen or a staff member fills — the submission, names, the answer's rich text,
reasons, notes, messages, comments, public texts, agency, field and user names, routing
keywords, filter names, calendar notes — are shown harmlessly on the public pages, the office
console and inbox, the agency portal, the admin pages and in every e-mail.

Chromium runs with the Content-Security-Policy *bypassed* (``Page.setBypassCSP``), so a payload
that reached the page as markup would run: that no script runs there shows escaping and
sanitising stop them, without the CSP having to. The pages' DOM is checked too: no element or
attribute of a payload exists. The CSP itself (no ``unsafe-inline``) is checked on a response.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from pakn.extensions import db
from pakn.models import Agency, CalendarOverlay, Feedback, Field, OutboxMessage, RoutingRule, SavedFilter
from pakn.models.types import utcnow
from pakn.operations import SubmitterActor, apply_transition, transaction
from pakn.scenarios import SUBMISSION, path_to

from .conftest import PASSWORD, otp_code
from .portal_support import _empty_upload_folder  # noqa: F401  (autouse fixture)
from .test_portal_browser import browser, click_and_load, live_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

#: Script tag, event handlers, a javascript: link and attribute breakers, all setting one flag.
PAYLOAD = ("\"'><script>window.__xss=1</script><img src=x onerror=window.__xss=1>"
           "<svg onload=window.__xss=1></svg><a href=\"javascript:window.__xss=1\">j</a>")
#: Free-text payload fields of the workflow's steps (codes such as ``agency`` stay valid).
TEXT_KEYS = {"message", "reason", "comment", "note", "summary", "findings", "measures", "responsible_body",
             "legal_refs", "body", "public_title", "public_summary", "public_answer", "document_number"}
SHORT = {"document_number": 50}
#: Any of these in a page means a payload became markup.
INJECTED = ("script:not([src]), img[src='x'], svg[onload], [onerror], [onload], a[href^='javascript:'], "
            "iframe, object, embed")


def _poisoned(payload: dict) -> dict:
    out = dict(payload)
    for key, value in payload.items():
        if key in TEXT_KEYS and isinstance(value, str):
            out[key] = (value + " " + PAYLOAD)[:SHORT.get(key, 10_000)] if key not in SHORT else value
    return out


def _drive(case, steps, user) -> None:
    who = {"clerk": "clerk", "lead": "lead", "officer": "officer_a", "agency_lead": "lead_a"}
    for trigger, actor, payload in steps:
        apply_transition(case, trigger, user(who[actor]), _poisoned(payload))


@pytest.fixture
def poisoned(app, world):
    """Cases whose every typed text carries the payload, and staff-editable names that do too."""
    submission = {**SUBMISSION, **{k: f"{SUBMISSION.get(k, 'Nội dung')} {PAYLOAD}" for k in (
        "title", "content", "proposal", "submitter_name", "submitter_organisation", "submitter_address")}}
    codes = {}
    with app.app_context(), transaction():
        user = world.user
        db.session.get(Agency, world.agency_a).name = "Sở Xây dựng " + PAYLOAD
        db.session.scalar(select(Field).where(Field.code == "xay_dung")).name = "Xây dựng " + PAYLOAD
        user("officer_a").full_name = "Cán bộ " + PAYLOAD
        from pakn.operations import receive_feedback

        for state in ("published", "draft_pending_approval", "returned", "withdrawn", "needs_info"):
            case, _ = receive_feedback(submission, SubmitterActor())
            _drive(case, path_to(state, "SXD", "xay_dung"), user)
            codes[state] = case.code
        drafting = db.session.scalar(select(Feedback).where(Feedback.code == codes["draft_pending_approval"]))
        apply_transition(drafting, "send_back_draft", user("lead_a"), {"comment": "Sửa lại " + PAYLOAD})
        apply_transition(drafting, "post_progress", user("officer_a"), {"message": "Tiến độ " + PAYLOAD})
        apply_transition(drafting, "agency_request_info", user("officer_a"), {"message": "Bổ sung " + PAYLOAD})
        apply_transition(drafting, "supply_info_to_agency", SubmitterActor(case_id=drafting.id),
                         {"message": "Trả lời " + PAYLOAD})
        rule = RoutingRule(kind="keyword", agency_id=world.agency_a, priority=0, active=True)
        rule.set_keyword("giấy phép " + PAYLOAD[:60])
        db.session.add_all([rule, SavedFilter(user_id=world.users["lead"], name=PAYLOAD[:100],
                                              query="state=received"),
                            CalendarOverlay(day=utcnow().date().replace(month=12, day=30), kind="day_off",
                                            note="Thông báo " + PAYLOAD)])
        dead = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
        dead.status, dead.last_error = "dead", "550 " + PAYLOAD
        from pakn.plans.importer import apply_import
        from pakn.plans.parse import parse_text

        from .plan_helpers import BEN_TRE

        codes["plan"] = apply_import(parse_text(BEN_TRE.read_text(encoding="utf-8")),
                                     overrides={"title": "Kế hoạch kiểm soát " + PAYLOAD}).plan.id
    return codes


def _log_in(browser, base: str, key: str, app) -> None:
    """The real two-step login: e-mail and password, then the authenticator app's code."""
    browser.delete_all_cookies()
    browser.get(base + "/auth/login")
    browser.find_element(By.ID, "email").send_keys(f"{key}@pakn.test")
    for field_id, value in (("password", PASSWORD), ("code", None)):
        field = browser.find_element(By.ID, field_id)
        field.send_keys(value or otp_code(app, f"{key}@pakn.test"))
        old = browser.find_element(By.TAG_NAME, "html")
        field.send_keys(Keys.ENTER)
        WebDriverWait(browser, 15).until(expected_conditions.staleness_of(old))
    assert "/auth/" not in browser.current_url, key


def _ran(browser) -> list[str]:
    """What of a payload is live in the loaded page: the flag set by a script, injected elements."""
    WebDriverWait(browser, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")
    found = []
    if browser.execute_script("return window.__xss === 1"):
        found.append("a script ran")
    injected = browser.execute_script(
        f"return Array.from(document.querySelectorAll(\"{INJECTED}\")).map(e => e.outerHTML.slice(0, 80))")
    # P9: nothing is loaded from another origin (no CDN, font, tracker) on a page showing personal data.
    origin = browser.execute_script("return location.origin")
    foreign = [url for url in browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
        if not url.startswith((origin + "/", "data:", "file:"))]
    return found + injected + foreign


def _visit(browser, url: str, shows: str | None = "window.__xss") -> list[str]:
    browser.get(url)
    problems = _ran(browser)
    if shows:  # the payload is on the page, as text (so the page was the right one)
        assert shows in browser.find_element(By.TAG_NAME, "body").text, url
    return problems


def test_stored_payloads_are_inert_on_every_page_and_in_every_email(app, world, browser, live_server, poisoned):
    b, base = browser, live_server
    b.execute_cdp_cmd("Page.setBypassCSP", {"enabled": True})
    problems: dict[str, list[str]] = {}
    try:
        published = poisoned["published"]
        # Public pages, as anyone.
        for path in ("/", "/tra-loi", "/tra-loi?q=giấy phép", f"/tra-loi/{published}", "/thong-ke"):
            problems[path] = _visit(b, base + path)
        # A citizen types the payload into the form, sees the receipt and follows the tracking link.
        b.get(base + "/gop-y")
        b.find_element(By.ID, "subject-0").click()
        for name in ("title", "content", "submitter_name", "submitter_address"):
            b.find_element(By.ID, name).send_keys(f"Giấy phép xây dựng nhà ở {PAYLOAD}")
        b.find_element(By.ID, "submitter_email").send_keys("hoa.pham@example.com")
        b.find_element(By.ID, "declaration").click()
        click_and_load(b, b.find_element(By.CSS_SELECTOR, "button[value=submit]"))
        problems["receipt"] = _ran(b)
        click_and_load(b, b.find_element(By.CSS_SELECTOR, ".link-box a"))
        problems["status"] = _ran(b)
        with app.app_context():
            assert db.session.scalar(select(Feedback).order_by(Feedback.id.desc())).title.endswith(PAYLOAD)
        # The office console, as its lead.
        _log_in(b, base, "lead", app)
        year = utcnow().year
        for path in ("/office/", "/office/?q=window", f"/office/cases/{published}",
                     f"/office/cases/{poisoned['draft_pending_approval']}", f"/office/cases/{poisoned['returned']}",
                     f"/office/cases/{poisoned['withdrawn']}", f"/office/cases/{poisoned['needs_info']}",
                     "/office/board", f"/office/register?from={year}-01-01", "/office/routing-rules", "/staff/",
                     f"/admin/calendar/explain?case={published}", f"/reports/{year}/Y/", "/plans/",
                     f"/plans/{poisoned['plan']}"):
            problems[path] = _visit(b, base + path, None)
        # The agency portal, as agency A's officer.
        _log_in(b, base, "officer_a", app)
        code = poisoned["draft_pending_approval"]
        for path in ("/agency/?view=all", f"/agency/cases/{code}", f"/agency/cases/{code}/draft",
                     f"/agency/cases/{published}", "/agency/dashboard", "/notifications"):
            problems[path] = _visit(b, base + path, None)
        # The admin pages.
        _log_in(b, base, "admin", app)
        for path in ("/admin/outbox", f"/admin/calendar?year={year}", "/office/routing-rules",
                     f"/plans/{poisoned['plan']}/bindings"):
            problems[path] = _visit(b, base + path, None)
        # Every e-mail the cases produced, its HTML opened as a page (no CSP there at all).
        from notifications.messages import context_for, render

        with app.app_context(), tempfile.TemporaryDirectory() as folder:
            rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
            assert len(rows) > 10
            for row in rows:
                page = Path(folder) / f"{row.id}.html"
                page.write_text(render(row.kind, context_for(row, db.session.get(Feedback, row.feedback_id))).html, encoding="utf-8")
                b.get(page.as_uri())
                problems[f"e-mail {row.id} {row.kind}"] = _ran(b)
    finally:
        b.execute_cdp_cmd("Page.setBypassCSP", {"enabled": False})
    live = {where: found for where, found in problems.items() if found}
    assert not live, live
    assert len(problems) > 45


def test_the_csp_allows_no_inline_script(client, world):
    policy = client.get("/tra-loi").headers["Content-Security-Policy"]
    scripts = [d for d in policy.split(";") if d.strip().startswith(("script-src", "default-src"))]
    assert scripts and not any("unsafe-inline" in d or "unsafe-eval" in d for d in scripts)
    assert "object-src 'none'" in policy and "base-uri 'none'" in policy


def test_names_shown_through_the_templates_translation_call_are_escaped(app, world, make_case):
    """The hole the browser found: ``{{ _(label) }}`` marked a field's name (a select option on
    the office case page) as safe markup."""
    from .agency_support import staff_client

    code, _ = make_case("returned")
    with app.app_context(), transaction():
        db.session.scalar(select(Field).where(Field.code == "xay_dung")).name = "Xây dựng " + PAYLOAD
    body = staff_client(app, "lead").get(f"/office/cases/{code}").get_data(as_text=True)
    assert "Xây dựng &#34;&#39;&gt;&lt;script&gt;window.__xss=1" in body
    assert "<script>window" not in body and "<img src=x" not in body


def test_translations_are_escaped_in_html_and_kept_as_typed_in_plain_text(app):
    with app.test_request_context():
        html = app.jinja_env.from_string('{{ _(name) }} {{ _("Hồ sơ %(code)s", code=name) }}')
        text = app.jinja_env.from_string('{% autoescape false %}{{ _(name) }}{% endautoescape %}')
        assert html.render(name='<b>A & "B"</b>') == ("&lt;b&gt;A &amp; &#34;B&#34;&lt;/b&gt; "
                                                       "Hồ sơ &lt;b&gt;A &amp; &#34;B&#34;&lt;/b&gt;")
        assert text.render(name='<b>A & "B"</b>') == '<b>A & "B"</b>'
