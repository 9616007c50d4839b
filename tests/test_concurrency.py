"""Two staff acting on one case at the same moment (reliability.md D1), with real threads.

Each side has its own client, session and database connection; a barrier releases both
requests together, so both have read the same version before either writes. Whoever commits
first wins; the other is refused with 409 and told the case's current state, and nothing of
its action is stored: one transition, the winner's, with its audit event.

The sequential stale-form cases are in tests/test_office.py and tests/test_api.py; the same
submission key posted in parallel in tests/test_portal.py; parallel sweeps in
tests/test_deadlines.py.
"""
from __future__ import annotations

import threading

from sqlalchemy import select

from pakn.extensions import db
from pakn.models import AuditEvent, Feedback
from pakn.scenarios import forward_to

from .conftest import csrf_token
from .test_bad_input import staff_client

ROUNDS = 3


def race(*calls):
    """Run the calls at once (a barrier between their preparation and their request)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i, call):
        try:
            results[i] = call(barrier)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def snapshot(app, code: str) -> dict:
    with app.app_context():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        found = {"state": case.state, "version": case.version, "agency_id": case.agency_id,
                 "actions": list(db.session.scalars(select(AuditEvent.action)
                                                    .where(AuditEvent.feedback_id == case.id)
                                                    .order_by(AuditEvent.id)))}
        db.session.rollback()
        return found


def test_two_staff_on_one_case_through_the_api_one_wins_the_other_gets_409(app, world, make_case, api_token):
    for _ in range(ROUNDS):
        code, _ = make_case("received")
        before = snapshot(app, code)
        headers = {"clerk": api_token("clerk"), "lead": api_token("lead")}
        actions = {"clerk": ("forward", forward_to("SXD", "xay_dung")), "lead": ("reject", {"reason_code": "unclear"})}

        def acting(who):
            def call(barrier):
                client = app.test_client()
                trigger, payload = actions[who]
                barrier.wait()
                return who, client.post(f"/api/v1/cases/{code}/actions/{trigger}", json=payload,
                                        headers={**headers[who], "If-Match": f'"{before["version"]}"'})
            return call

        results = race(acting("clerk"), acting("lead"))
        statuses = sorted(r.status_code for _, r in results)
        assert statuses == [200, 409], [(w, r.status_code, r.get_json()) for w, r in results]
        (winner, won), = [(w, r) for w, r in results if r.status_code == 200]
        (_, lost), = [(w, r) for w, r in results if r.status_code == 409]
        after = snapshot(app, code)
        error = lost.get_json()["error"]
        assert error["code"] == "stale_version"
        assert error["current_version"] == after["version"] == before["version"] + 1
        assert error["current_state"] == after["state"] == won.get_json()["state"]
        assert after["state"] == {"clerk": "forwarded", "lead": "rejected"}[winner]
        # One transition recorded, the winner's; the loser's action left nothing.
        assert [a for a in after["actions"] if a in ("forward", "reject")] == [actions[winner][0]]


def test_two_clerks_on_one_case_in_the_office_console_one_wins_the_other_sees_the_current_state(
        app, world, make_case):
    clients = {"clerk": staff_client(app, "clerk"), "lead": staff_client(app, "lead")}
    for _ in range(ROUNDS):
        code, _ = make_case("received", field="xay_dung")
        before = snapshot(app, code)
        url = f"/office/cases/{code}"
        tokens = {who: csrf_token(c.get(url).get_data(as_text=True)) for who, c in clients.items()}
        forms = {"clerk": ("forward", {"agency": "SXD", "subject": "quy_dinh", "content_category": "2",
                                       "field": "xay_dung", "note": "Chuyển Sở Xây dựng"}),
                 "lead": ("reject", {"reason_code": "complaint"})}

        def acting(who):
            def call(barrier):
                trigger, data = forms[who]
                barrier.wait()
                return who, clients[who].post(f"{url}/actions/{trigger}", data={
                    "csrf_token": tokens[who], "version": before["version"], **data})
            return call

        results = race(acting("clerk"), acting("lead"))
        statuses = sorted(r.status_code for _, r in results)
        assert statuses == [302, 409], [(w, r.status_code) for w, r in results]  # 302: back to the case
        (winner, _), = [(w, r) for w, r in results if r.status_code == 302]
        (_, lost), = [(w, r) for w, r in results if r.status_code == 409]
        after = snapshot(app, code)
        shown = {"forwarded": "Đã chuyển xử lý", "rejected": "Không tiếp nhận"}[after["state"]]
        html = lost.get_data(as_text=True)
        assert "vừa được người khác cập nhật" in html and f"<strong>{shown}</strong>" in html
        assert after["state"] == {"clerk": "forwarded", "lead": "rejected"}[winner]
        assert after["version"] == before["version"] + 1
        # One transition recorded, the winner's (forwarding also records its document).
        assert [a for a in after["actions"] if a in ("forward", "reject")] == [forms[winner][0]]
