"""Periodic reports: the statistics of a seeded quarter against counts made independently,
the consolidated and per-agency views, XLSX and PDF exports, filing, and access rules."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from pakn.extensions import db
from pakn.models import Feedback, ReportFiling
from pakn.operations import SubmitterActor, apply_transition, receive_feedback, transaction
from pakn.reports.periods import due_date, report_period
from pakn.reports.stats import KEYS, compute
from pakn.scenarios import DRAFT, PUBLISH, SUBMISSION, forward_to
from tests.conftest import csrf_token
from workflows.calendar import TZ

YEAR = 2026


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(YEAR, month, day, hour, tzinfo=TZ).astimezone(timezone.utc)


def answer_steps(agency: str, field: str, outcome: str = "keep") -> list[tuple[str, str, dict]]:
    return [("forward", "clerk", forward_to(agency, field)), ("accept", "officer", {}),
            ("draft_answer", "officer", {**DRAFT, "outcome": outcome}),
            ("approve_answer", "agency_lead", {}), ("submit_answer", "officer", {"document_number": "1/TL"})]


@pytest.fixture
def quarter(app, world):
    """Cases around Q2/2026 (1/4–30/6), each step at a stated instant."""
    def make(received: datetime, steps, finish: datetime | None = None, agency: str = "SXD", channel: str = "web",
             **submission) -> str:
        users = {"SXD": ("officer_a", "lead_a"), "STNMT": ("officer_b", "lead_b")}[agency]
        who = {"clerk": "clerk", "lead": "lead", "officer": users[0], "agency_lead": users[1]}
        with app.app_context(), transaction():
            data = {**SUBMISSION, **submission}
            if channel == "web":
                case, _ = receive_feedback(data, SubmitterActor(), now=received)
            else:
                case, _ = receive_feedback({**data, "channel": channel, "received_at": received.isoformat()},
                                           world.user("clerk"), trigger="receive_on_behalf", now=received)
            last = finish or received + timedelta(hours=len(steps) + 1)
            for i, (trigger, actor, payload) in enumerate(steps, start=1):
                moment = received + (last - received) * i / len(steps)
                if trigger == "submit_answer":
                    payload = {**payload, "document_date": moment.astimezone(TZ).date().isoformat()}
                actor = SubmitterActor(case_id=case.id) if actor == "submitter" else world.user(who[actor])
                apply_transition(case, trigger, actor, payload, now=moment)
            return case.code

    codes = {
        # From Q1, still open at the end of Q2 and overdue (due 9/4).
        "carried_open": make(at(3, 20), [("forward", "clerk", forward_to("SXD", "xay_dung"))], at(3, 21)),
        # From Q1, answered on time in Q2.
        "carried_answered": make(at(3, 25), answer_steps("SXD", "xay_dung"), at(4, 5)),
        # New in Q2: rejected (a complaint).
        "rejected": make(at(4, 10), [("reject", "clerk", {"reason_code": "complaint"})], at(4, 11)),
        # New in Q2 by post, forwarded to agency B in another field, answered late and published.
        "late": make(at(4, 15), answer_steps("STNMT", "dat_dai", "amend") + [
            ("accept_answer", "clerk", {}), ("notify", "clerk", {}), ("publish", "clerk", PUBLISH)],
            at(5, 25), agency="STNMT", channel="post", kind="kien_nghi",
            proposal="Đề nghị rút ngắn thời hạn giải quyết xuống 10 ngày làm việc."),
        # New in Q2, handled by the office itself, still open (overdue at the end of the quarter).
        "own": make(at(5, 1), [("handle_in_office", "clerk", {"subject": "hanh_vi", "content_category": "1",
                                                              "field": "xay_dung"})], at(5, 2)),
        # New at the end of Q2 by phone, not classified yet: open and within time.
        "fresh": make(at(6, 25), [], channel="phone", subject=None),
        # Withdrawn by its submitter in Q2.
        "withdrawn": make(at(4, 20), [("withdraw", "submitter", {"reason": "Đã được giải quyết."})], at(4, 22)),
        # After the quarter: not in it.
        "later": make(at(7, 5), []),
    }
    with app.app_context(), transaction():
        late = db.session.scalar(select(Feedback).where(Feedback.code == codes["late"]))
        assert late.answered_at > late.answer_due_at  # the scenario is what it says
    return codes


def test_quarter_report_matches_counts_made_independently(app, world, quarter):
    with app.app_context():
        report = compute(report_period(YEAR, "Q2"))
        t = report.total
        start, end = at(4, 1, 0), at(7, 1, 0)
        cases = db.session.scalars(select(Feedback)).all()
        new = [c for c in cases if start <= c.received_at < end]
        # Counted directly from the cases, one by one.
        assert t["new"] == len(new) == 5
        assert t["previous"] == 2
        assert t["channel_web"] == sum(c.channel == "web" for c in new) == 3
        assert t["channel_post"] == t["channel_phone"] == 1
        assert t["kind_kien_nghi"] == sum(c.kind == "kien_nghi" for c in new) == 1
        assert t["subject_none"] == sum(c.subject is None for c in new) == 1
        assert t["rejected"] == 1 and t["withdrawn"] == 1 and t["merged"] == 0
        assert t["forwarded"] == 1  # the late case; the carried cases were forwarded in Q1
        assert t["own"] == 1
        answered = [c for c in cases if c.answered_at and start <= c.answered_at < end]
        assert t["answered"] == len(answered) == 2
        assert t["answered_on_time"] == sum(c.answered_at <= c.answer_due_at for c in answered) == 1
        assert t["answered_late"] == 1 and t["published"] == 1
        assert t["open"] == 3 and t["open_late"] == 2 and t["open_on_time"] == 1
        assert t["outcome_amend"] == 1
        assert t["previous"] + t["new"] == t["rejected"] + t["merged"] + t["withdrawn"] + t["answered"] + t["open"]
        assert report.reasons == [("complaint", 1)]
        # Per agency: the office holds what it did not forward; each agency its own cases.
        blocks = {b.agency: b for b in report.blocks}
        assert blocks["Sở Xây dựng"].total["previous"] == 2 and blocks["Sở Xây dựng"].total["new"] == 0
        assert blocks["Sở Nông nghiệp và Môi trường"].total["answered_late"] == 1
        assert blocks["Sở Nông nghiệp và Môi trường"].rows[0].field == "Đất đai"
        assert blocks["Văn phòng UBND tỉnh"].total["new"] == 4
        for key in KEYS:
            assert sum(b.total[key] for b in report.blocks) == t[key]
        # One agency's own report is its block of the provincial one.
        own = compute(report_period(YEAR, "Q2"), world.agency_b)
        assert own.total == blocks["Sở Nông nghiệp và Môi trường"].total
        # Q1 sees the two carried cases as new and open at its end.
        q1 = compute(report_period(YEAR, "Q1")).total
        assert (q1["new"], q1["open"], q1["forwarded"]) == (2, 2, 2)


def test_window_and_due_dates_are_configurable(app):
    with app.app_context():
        q1 = report_period(YEAR, "Q1")
        assert (q1.start, q1.end) == (date(2026, 1, 1), date(2026, 4, 1))
        assert due_date(q1) == date(2026, 3, 25) and due_date(q1, consolidated=True) == date(2026, 3, 30)
        assert due_date(report_period(YEAR, "Y")) == date(2026, 12, 25)
        app.config["REPORT_WINDOW_START_DAY"] = 15
        try:
            q2 = report_period(YEAR, "Q2")
            assert (q2.start, q2.end) == (date(2026, 3, 15), date(2026, 6, 15))
            year = report_period(YEAR, "Y")
            assert (year.start, year.end) == (date(2025, 12, 15), date(2026, 12, 15))
        finally:
            app.config["REPORT_WINDOW_START_DAY"] = 1


def test_xlsx_export_opens_and_its_sums_are_right(app, client, login, world, quarter):
    from openpyxl import load_workbook

    login("clerk")
    response = client.get(f"/reports/{YEAR}/Q2/report.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    labels = rows[3][3:]
    assert labels[:2] == ["Từ kỳ trước chuyển sang", "Mới tiếp nhận"]
    body = rows[4:]
    total = next(r for r in body if r[1] == "Tổng cộng")
    subtotals = [r for r in body if r[2] == "Cộng"]
    detail = [r for r in body if isinstance(r[0], int)]
    with app.app_context():
        expected = compute(report_period(YEAR, "Q2")).total
    assert total[3:] == [expected[k] for k in KEYS]
    for column in range(3, 3 + len(KEYS)):
        assert sum(r[column] for r in subtotals) == total[column]
        assert sum(r[column] for r in detail) == total[column]
    assert total[3 + KEYS.index("new")] == 5
    reasons = load_workbook(io.BytesIO(response.data)).worksheets[1]
    assert [list(r) for r in reasons.iter_rows(values_only=True)][1] == ["Khiếu nại", 1]


def test_pdf_export_has_the_report(client, login, world, quarter):
    from pypdf import PdfReader

    login("lead")
    response = client.get(f"/reports/{YEAR}/Q2/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Quý II năm 2026" in text and "Tổng cộng" in text and "Sở Nông nghiệp và Môi trường" in text


def test_report_page_shows_the_totals_and_charts(client, login, world, quarter):
    login("clerk")
    page = client.get(f"/reports/{YEAR}/Q2/").get_data(as_text=True)
    assert "Toàn tỉnh" in page and "<svg" in page and "PAKN mới tiếp nhận theo kênh" in page
    assert '<td class="num" data-key="new">5</td>' in page
    assert '<td class="num" data-key="previous">2</td>' in page
    assert "Hạn gửi: trước ngày 30/06/2026" in page


def test_agencies_see_only_their_own_report(client, login, world, quarter):
    login("officer_b")
    own = client.get(f"/reports/{YEAR}/Q2/?agency={world.agency_b}")
    assert own.status_code == 200
    text = own.get_data(as_text=True)
    assert "Sở Nông nghiệp và Môi trường" in text and "Sở Xây dựng" not in text
    assert client.get(f"/reports/{YEAR}/Q2/?agency={world.agency_a}").status_code == 404
    assert client.get(f"/reports/{YEAR}/Q2/report.xlsx?agency={world.agency_a}").status_code == 404
    assert client.get(f"/reports/{YEAR}/Q2/report.pdf?agency={world.office}").status_code == 404
    # Without ?agency= an agency gets its own report, never the province's.
    default = client.get(f"/reports/{YEAR}/Q2/").get_data(as_text=True)
    assert "Toàn tỉnh" not in default and "Sở Xây dựng" not in default
    assert client.get(f"/reports/{YEAR}/Q9/").status_code == 404
    assert client.get("/plans/").status_code == 404


def test_filing_records_the_report_once_and_meets_the_due_date(app, client, login, world, quarter):
    login("officer_b")
    page = client.get(f"/reports/{YEAR}/Q2/").get_data(as_text=True)
    assert "Gửi báo cáo kỳ này" in page
    response = client.post(f"/reports/{YEAR}/Q2/file", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    again = client.post(f"/reports/{YEAR}/Q2/file", data={"csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "Báo cáo kỳ này đã được gửi" in again.get_data(as_text=True)
    with app.app_context():
        filings = db.session.scalars(select(ReportFiling)).all()
        assert [(f.agency_id, f.year, f.period, f.figures["answered_late"]) for f in filings] == [
            (world.agency_b, YEAR, "Q2", 1)]
    assert client.post(f"/reports/{YEAR}/Q2/file").status_code == 400  # no CSRF token
    client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    login("clerk")
    index = client.get(f"/reports/?year={YEAR}").get_data(as_text=True)
    assert "Đã gửi" in index


def test_the_office_files_the_consolidated_report(app, client, login, world, quarter):
    login("lead")
    page = client.get(f"/reports/{YEAR}/Q2/").get_data(as_text=True)
    assert "Gửi báo cáo kỳ này" in page
    assert client.post(f"/reports/{YEAR}/Q2/file", data={"csrf_token": csrf_token(page)}).status_code == 302
    with app.app_context():
        filing = db.session.scalar(select(ReportFiling))
        assert filing.agency_id == world.office
        assert filing.figures == compute(report_period(YEAR, "Q2")).total
    # An agency's page of another agency offers no filing to the office.
    other = client.get(f"/reports/{YEAR}/Q2/?agency={world.agency_a}").get_data(as_text=True)
    assert "Gửi báo cáo kỳ này" not in other and "Sở Xây dựng" in other
