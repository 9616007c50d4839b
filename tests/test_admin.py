"""The administration console (/admin) through the web UI (HTTP client, real CSRF), on every backend."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from pakn.extensions import db
from pakn.models import (Agency, AgencyAlias, AgencyLevel, ApiToken, AuditEvent, Feedback, Field, OutboxMessage,
                         ProvinceSetting, RoutingRule, StageVisit, User)
from pakn.models.types import utcnow
from pakn.operations import transaction
from pakn.scenarios import forward_to

from .conftest import PASSWORD, csrf_token, sign_in
from .test_notifications import notify, sink  # noqa: F401  (fixtures: in-process delivery to an SMTP sink)
from .test_web import compiled_catalogs, english  # noqa: F401  (fixtures)

ADMIN_URLS = ["/admin/", "/admin/agencies", "/admin/agencies/new", "/admin/agencies/levels", "/admin/agencies/merge",
              "/admin/users", "/admin/users/invite", "/admin/fields", "/admin/settings", "/admin/tokens",
              "/admin/audit", "/admin/audit.csv"]


def page(client, url: str):
    response = client.get(url)
    return response, response.get_data(as_text=True)


def post_form(client, url: str, data: dict, form_url: str | None = None):
    """Post ``data`` with the CSRF token of the page holding the form (``form_url``, else ``url``)."""
    html = client.get(form_url or url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_token(html)})


def text(response) -> str:
    return response.get_data(as_text=True)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def agency_id(code: str) -> int:
    return db.session.scalar(select(Agency.id).where(Agency.code == code))


def level_id(code: str) -> int:
    return db.session.scalar(select(AgencyLevel.id).where(AgencyLevel.code == code))


# -- who gets in ----------------------------------------------------------------------------------
@pytest.mark.parametrize("who", [None, "clerk", "lead", "officer_a", "lead_a"])
def test_everyone_but_an_admin_gets_404(client, login, who):
    if who:
        login(who)
    for url in ADMIN_URLS:
        assert client.get(url).status_code == 404, url
    assert client.post("/admin/fields", data={"code": "x", "name": "y"}).status_code in (400, 404)


def test_console_home_lists_every_admin_area(client, login):
    login("admin")
    response, html = page(client, "/admin/")
    assert response.status_code == 200
    for href in ("/admin/agencies", "/admin/users", "/admin/fields", "/office/routing-rules", "/admin/settings",
                 "/admin/calendar", "/admin/clock", "/admin/sla", "/admin/tokens", "/admin/audit", "/admin/outbox",
                 "/plans/"):
        assert f'href="{href}' in html, href
    assert "Trang quản trị" in html
    assert 'href="/admin/"' in page(client, "/")[1]  # the header links the console
    for url in ADMIN_URLS:
        assert client.get(url).status_code == 200, url
    rules = page(client, "/office/routing-rules")[1]  # built by the office console, one implementation
    assert 'href="/admin/"' in rules and 'accesskey="i"' not in rules  # no links an admin cannot open


def test_console_in_english(client, login, english):
    login("admin")
    html = page(client, "/admin/?lang=en")[1]
    assert "Administration console" in html and "API tokens" in html


# -- agencies --------------------------------------------------------------------------------------
def test_levels_and_agencies_are_created_and_shown_as_a_tree(app, client, world, login):
    login("admin")
    response = post_form(client, "/admin/agencies/levels", {"code": "xa", "name": "Cấp xã", "rank": "2"})
    assert response.status_code == 302
    bad = post_form(client, "/admin/agencies/levels", {"code": "xa", "name": "", "rank": "1"})
    assert bad.status_code == 422
    assert "Mã này đã được dùng." in text(bad) and "Tên phải có từ 1 đến 100 ký tự." in text(bad)
    bad = post_form(client, "/admin/agencies/levels", {"code": "ap", "name": "Cấp ấp", "rank": "abc"})
    assert bad.status_code == 422 and "Vui lòng nhập một số nguyên." in text(bad) and 'value="Cấp ấp"' in text(bad)
    with app.app_context():
        xa, vp = level_id("xa"), world.office
    response = post_form(client, "/admin/agencies/new", {
        "code": "XA_TAN_PHU", "name": "UBND xã Tân Phú", "level_id": xa, "parent_id": vp,
        "email": "tanphu@vinhlong.gov.vn", "phone": "0270 3 111 222", "address": "Ấp 1, xã Tân Phú", "active": "y"})
    assert response.status_code == 302
    html = page(client, "/admin/agencies")[1]
    office_at, commune_at = html.index(">Văn phòng UBND tỉnh</a>"), html.index(">UBND xã Tân Phú</a>")
    assert office_at < commune_at and html.count('<ul class="tree">') >= 2  # nested under the office
    with app.app_context():
        agency = db.session.get(Agency, agency_id("XA_TAN_PHU"))
        assert (agency.parent_id, agency.email, agency.active) == (vp, "tanphu@vinhlong.gov.vn", True)
        assert [e.data["code"] for e in events("agency_create")] == ["XA_TAN_PHU"]
        assert [e.data["code"] for e in events("agency_level_create")] == ["xa"]
        assert events("agency_create")[0].actor_id == world.users["admin"]
    # "Add a sub-agency" opens the form with its parent chosen; a number no agency has chooses none.
    chosen = re.compile(r'<option[^>]*selected[^>]*value="(\d+)"|<option[^>]*value="(\d+)"[^>]*selected')
    assert any(str(vp) in m for m in chosen.findall(page(client, f"/admin/agencies/new?parent={vp}")[1]))
    for odd in ("abc", str(2**31), str(10**30)):
        response, html = page(client, f"/admin/agencies/new?parent={odd}")
        assert response.status_code == 200 and not chosen.findall(html.split('name="parent_id"', 1)[1].split("</select>")[0])


def test_invalid_agency_input_is_refused_with_what_was_typed_kept(app, client, world, login):
    login("admin")
    with app.app_context():
        dept = level_id("so_nganh")
    response = post_form(client, "/admin/agencies/new", {
        "code": "SXD", "name": "Sở Khoa học và Công nghệ", "level_id": dept, "email": "không-phải-email",
        "address": "Số 1 đường Phạm Thái Bường"})
    html = text(response)
    assert response.status_code == 422
    assert "Mã này đã được dùng." in html and "Thư điện tử không hợp lệ" in html
    assert 'value="Sở Khoa học và Công nghệ"' in html and "Số 1 đường Phạm Thái Bường" in html
    with app.app_context():
        assert db.session.scalar(select(Agency).where(Agency.name == "Sở Khoa học và Công nghệ")) is None
        assert events("agency_create") == []
    garbage = post_form(client, "/admin/agencies/new", {"code": "SKHCN", "name": "Sở Khoa học", "level_id": "abc"})
    assert garbage.status_code == 422 and "Chọn cấp." in text(garbage)
    # A parent that is the agency itself is refused too.
    edit = post_form(client, f"/admin/agencies/{world.agency_a}", {
        "code": "SXD", "name": "Sở Xây dựng", "level_id": dept, "parent_id": world.agency_a, "active": "y"})
    assert edit.status_code == 422 and "không thể là chính cơ quan này" in text(edit)


def test_deactivated_agency_is_no_longer_offered_but_keeps_its_history(app, client, world, login, make_case):
    code, _ = make_case("forwarded", agency="SXD")
    login("admin")
    with app.app_context():
        dept = level_id("so_nganh")
    values = {"code": "SXD", "name": "Sở Xây dựng", "level_id": dept, "parent_id": world.office,
              "email": "sxd@vinhlong.gov.vn"}  # "active" unchecked
    refused = post_form(client, f"/admin/agencies/{world.agency_a}", values)
    assert refused.status_code == 422 and "Cơ quan còn PAKN đang xử lý" in text(refused)
    from pakn.operations import InvalidPayload, apply_transition

    with app.app_context(), transaction():  # the agency returns it: back in the office's hands
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        apply_transition(case, "return_not_competent", world.user("officer_a"),
                         {"reason": "Không thuộc thẩm quyền của Sở Xây dựng."})
    assert post_form(client, f"/admin/agencies/{world.agency_a}", values).status_code == 302
    with app.app_context():
        assert db.session.get(Agency, world.agency_a).active is False
        assert events("agency_update")[-1].data["changes"]["active"] == [True, False]
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        assert {v.agency_id for v in db.session.scalars(select(StageVisit).where(
            StageVisit.feedback_id == case.id))} >= {world.agency_a}  # its stages with SXD stay recorded
    html = page(client, "/office/routing-rules")[1]
    assert 'value="SXD"' not in html and 'value="STNMT"' in html
    # The operations layer refuses to forward to it as well (web and API alike).
    other, _ = make_case("received")
    with app.app_context():
        case = db.session.scalar(select(Feedback).where(Feedback.code == other))
        with pytest.raises(InvalidPayload) as err, transaction():
            apply_transition(case, "forward", world.user("clerk"), forward_to("SXD", "xay_dung"))
        assert "agency" in err.value.fields


def test_merge_moves_cases_users_rules_and_says_so_on_each_timeline(app, client, world, login, make_case):
    first, _ = make_case("forwarded", agency="SXD")
    second, _ = make_case("in_progress", agency="SXD")
    other, _ = make_case("forwarded", agency="STNMT")
    with app.app_context(), transaction():
        field = db.session.scalar(select(Field).where(Field.code == "xay_dung"))
        db.session.add(RoutingRule(kind="field", field=field, agency_id=world.agency_a, priority=3, active=True))
    login("admin")
    response, html = page(client, f"/admin/agencies/merge?source_id={world.agency_a}&target_id={world.agency_b}")
    assert response.status_code == 200
    assert "Sáp nhập Sở Xây dựng vào Sở Nông nghiệp và Môi trường" in html
    assert first in html and second in html and other not in html
    assert "Xác nhận sáp nhập" in html
    with app.app_context():  # a preview changes nothing
        assert db.session.scalar(select(Feedback.agency_id).where(Feedback.code == first)) == world.agency_a
    response = client.post("/admin/agencies/merge", data={
        "source_id": world.agency_a, "target_id": world.agency_b, "confirm": "yes", "csrf_token": csrf_token(html)})
    assert response.status_code == 302
    assert "Đã sáp nhập Sở Xây dựng vào Sở Nông nghiệp và Môi trường: 2 PAKN đã chuyển." in page(
        client, response.headers["Location"])[1]
    with app.app_context():
        a, b = db.session.get(Agency, world.agency_a), db.session.get(Agency, world.agency_b)
        assert (a.active, a.merged_into_id) == (False, b.id) and a.merged_at is not None
        for code in (first, second, other):
            assert db.session.scalar(select(Feedback.agency_id).where(Feedback.code == code)) == b.id
        assert db.session.scalar(select(StageVisit.id).where(StageVisit.agency_id == a.id)) is None
        assert {world.user("officer_a").agency_id, world.user("lead_a").agency_id} == {b.id}
        assert db.session.scalar(select(RoutingRule.agency_id)) == b.id
        alias = db.session.scalar(select(AgencyAlias).where(AgencyAlias.name == "Sở Xây dựng"))
        assert alias.agency_id == b.id
        moved = events("agency_merged")
        assert sorted(db.session.get(Feedback, e.feedback_id).code for e in moved) == sorted([first, second])
        merge = events("agency_merge")
        assert len(merge) == 1 and merge[0].data["moved"]["cases"] == 2 and merge[0].data["moved"]["users"] == 2
    # The office's timeline of a moved case says so; so does the agency portal of the successor,
    # where the former SXD officer now works on it.
    timeline = page(client, "/admin/")  # still signed in as admin
    client.post("/auth/logout", data={"csrf_token": csrf_token(text(timeline[0]))})
    login("clerk")
    assert "Chuyển sang cơ quan tiếp nhận khi sáp nhập" in page(client, f"/office/cases/{first}")[1]
    client.post("/auth/logout", data={"csrf_token": csrf_token(page(client, "/office/")[1])})
    login("officer_a")
    response, html = page(client, f"/agency/cases/{second}")
    assert response.status_code == 200
    assert "Chuyển sang cơ quan tiếp nhận khi sáp nhập" in html and "Sở Xây dựng" in html
    # A merged agency can be merged no more, and is not offered as a successor.
    client.post("/auth/logout", data={"csrf_token": csrf_token(html)})
    login("admin")
    html = page(client, "/admin/agencies/merge")[1]
    assert f'<option value="{world.agency_a}"' not in html


def test_merge_refusals(app, client, world, login):
    login("admin")
    response, html = page(client, f"/admin/agencies/merge?source_id={world.office}&target_id={world.agency_a}")
    assert "Không thể sáp nhập Văn phòng UBND tỉnh vào cơ quan khác." in html and "Xác nhận sáp nhập" not in html
    refused = client.post("/admin/agencies/merge", data={
        "source_id": world.agency_a, "target_id": world.agency_a, "csrf_token": csrf_token(html)})
    assert refused.status_code == 409 and "Hãy chọn hai cơ quan khác nhau." in text(refused)
    preselected = client.get(f"/admin/agencies/merge?source_id={world.agency_a}")  # from the agency's page
    assert preselected.status_code == 200 and f'<option selected value="{world.agency_a}"' in text(preselected)
    missing = client.post("/admin/agencies/merge", data={"source_id": world.agency_a, "csrf_token": csrf_token(html)})
    assert missing.status_code == 422 and "Chọn cơ quan được sáp nhập và cơ quan tiếp nhận." in text(missing)
    assert client.post("/admin/agencies/merge", data={"source_id": world.agency_a,
                                                     "target_id": world.agency_b}).status_code == 400  # no CSRF
    with app.app_context():
        assert db.session.get(Agency, world.agency_a).active and events("agency_merge") == []


# -- users ------------------------------------------------------------------------------------------
def test_invitation_mail_link_sets_the_password_once(app, client, world, login, notify):
    login("admin")
    response = post_form(client, "/admin/users/invite", {
        "email": "moi.canbo@vinhlong.gov.vn", "full_name": "Nguyễn Thị Mới", "role": "agency_officer",
        "agency_id": world.agency_a})
    assert response.status_code == 302
    assert "Chưa nhận lời mời" in page(client, "/admin/users")[1]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "moi.canbo@vinhlong.gov.vn"))
        assert (user.role, user.agency_id) == ("agency_officer", world.agency_a)
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "user.invitation"))
        assert row.status == "sent" and "link_sealed" not in row.payload  # the link left with the mail only
        assert events("user_invite")[0].data["email"] == "moi.canbo@vinhlong.gov.vn"
    [msg] = notify.to("moi.canbo@vinhlong.gov.vn")
    body = notify.text(msg)
    assert "Mời sử dụng hệ thống" in str(msg["Subject"]) and "Sở Xây dựng" in body
    link = re.search(r"https://pakn\.vinhlong\.test(/auth/set-password/\S+)", body).group(1)
    # Before accepting, the account cannot log in with anything.
    invitee = app.test_client()
    form = invitee.get("/auth/login")
    refused = invitee.post("/auth/login", data={"email": "moi.canbo@vinhlong.gov.vn", "password": PASSWORD,
                                                "csrf_token": csrf_token(text(form))})
    assert "Email hoặc mật khẩu không đúng." in text(refused)
    # Sent again (lost mail): the new link works, the old one no longer does.
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.email == "moi.canbo@vinhlong.gov.vn"))
    again = post_form(client, f"/admin/users/{uid}/password-link", {}, f"/admin/users/{uid}")
    assert "Đã gửi lại thư mời tới moi.canbo@vinhlong.gov.vn." in page(client, again.headers["Location"])[1]
    assert invitee.get(link).status_code == 404
    first = notify.to("moi.canbo@vinhlong.gov.vn")[-1]
    link = re.search(r"https://pakn\.vinhlong\.test(/auth/set-password/\S+)", notify.text(first)).group(1)
    html = text(invitee.get(link))
    assert "Nhận lời mời và đặt mật khẩu" in html and "Nguyễn Thị Mới" in html
    short = invitee.post(link, data={"password": "ngắn", "confirm": "ngắn", "csrf_token": csrf_token(html)})
    assert short.status_code == 422 and "Mật khẩu phải có ít nhất 8 ký tự." in text(short)
    common = invitee.post(link, data={"password": "password123", "confirm": "password123",
                                      "csrf_token": csrf_token(html)})
    assert common.status_code == 422 and "Mật khẩu này quá phổ biến" in text(common)
    done = invitee.post(link, data={"password": "mat-khau-moi-rat-dai", "confirm": "mat-khau-moi-rat-dai",
                                    "csrf_token": csrf_token(html)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/auth/login")
    # The first login leads through the second factor's enrolment, then into the portal.
    enrolled = sign_in(invitee, "moi.canbo@vinhlong.gov.vn", "mat-khau-moi-rat-dai")
    assert enrolled.status_code == 200 and invitee.get("/agency/").status_code == 200
    # The link worked once.
    again = app.test_client().get(link)
    assert again.status_code == 404 and "Đường dẫn không còn hiệu lực" in text(again)
    with app.app_context():
        assert events("user_password_set")[0].actor_label == "Nguyễn Thị Mới"
        assert [e.data["email"] for e in events("user_invite_resend")] == ["moi.canbo@vinhlong.gov.vn"]


def test_password_reset_link_and_expired_links(app, client, world, login, notify, monkeypatch):
    login("admin")
    response = post_form(client, f"/admin/users/{world.users['clerk']}/password-link", {},
                         f"/admin/users/{world.users['clerk']}")
    assert response.status_code == 302
    assert "Đã gửi đường dẫn đặt lại mật khẩu tới clerk@pakn.test." in page(client, response.headers["Location"])[1]
    [msg] = notify.to("clerk@pakn.test")
    link = urlparse(re.search(r"https://\S+/auth/set-password/\S+", notify.text(msg)).group(0)).path
    assert app.test_client().get(link).status_code == 200
    monkeypatch.setitem(app.config, "PASSWORD_LINK_RESET_HOURS", 0)  # the link's validity is over
    assert app.test_client().get(link).status_code == 404
    assert app.test_client().get("/auth/set-password/forged.token.value").status_code == 404
    with app.app_context():
        assert events("user_password_reset")[0].data["email"] == "clerk@pakn.test"


def test_role_rules_refuse_with_what_was_typed_kept(app, client, world, login):
    login("admin")
    office_role_elsewhere = post_form(client, "/admin/users/invite", {
        "email": "sai.vai.tro@vinhlong.gov.vn", "full_name": "Trần Văn Sai", "role": "office_clerk",
        "agency_id": world.agency_a})
    html = text(office_role_elsewhere)
    assert office_role_elsewhere.status_code == 422
    assert "Cán bộ Văn phòng phải thuộc Văn phòng UBND tỉnh." in html
    assert 'value="sai.vai.tro@vinhlong.gov.vn"' in html and 'value="Trần Văn Sai"' in html
    no_agency = post_form(client, "/admin/users/invite", {
        "email": "khong.co.quan@vinhlong.gov.vn", "full_name": "Lê Thị Thiếu", "role": "agency_lead"})
    assert no_agency.status_code == 422 and "Cán bộ cơ quan phải thuộc một cơ quan đang hoạt động" in text(no_agency)
    taken = post_form(client, "/admin/users/invite", {"email": "CLERK@pakn.test", "full_name": "Trùng",
                                                      "role": "admin"})
    assert taken.status_code == 422 and "Đã có tài khoản với thư điện tử này." in text(taken)
    # Editing: a clerk moved to an agency role must change agency too.
    moved = post_form(client, f"/admin/users/{world.users['clerk']}", {
        "full_name": "Cán bộ clerk", "role": "agency_officer", "agency_id": world.office})
    assert moved.status_code == 422 and "Cán bộ cơ quan phải thuộc" in text(moved)
    ok = post_form(client, f"/admin/users/{world.users['clerk']}", {
        "full_name": "Cán bộ clerk", "role": "agency_officer", "agency_id": world.agency_b})
    assert ok.status_code == 302
    # The last admin keeps the role.
    last = post_form(client, f"/admin/users/{world.users['admin']}", {"full_name": "Cán bộ admin", "role": "office_lead",
                                                                      "agency_id": world.office})
    assert last.status_code == 422 and "quản trị viên cuối cùng" in text(last)
    with app.app_context():
        assert world.user("clerk").role == "agency_officer" and world.user("clerk").agency_id == world.agency_b
        assert world.user("admin").role == "admin"
        assert db.session.scalar(select(User).where(User.email.like("%vinhlong.gov.vn"))) is None
        assert events("user_update")[0].data["changes"]["role"] == ["office_clerk", "agency_officer"]


def test_deactivation_ends_a_live_session_at_its_next_request(app, client, world, login):
    clerk = app.test_client()
    sign_in(clerk, "clerk@pakn.test")
    assert clerk.get("/office/").status_code == 200
    login("admin")
    response = post_form(client, f"/admin/users/{world.users['clerk']}/active", {"active": "0"},
                         f"/admin/users/{world.users['clerk']}")
    assert response.status_code == 302
    assert "phiên đăng nhập của tài khoản này đã kết thúc" in page(client, response.headers["Location"])[1]
    assert clerk.get("/office/").status_code == 404  # signed out: the console does not exist for it
    after = clerk.get("/staff/")
    assert after.status_code == 302 and "/auth/login" in after.headers["Location"]
    with app.app_context():
        assert world.user("clerk").active is False
        assert [e.data["email"] for e in events("user_deactivate")] == ["clerk@pakn.test"]
    # Reactivated, the old session stays ended; a fresh login works.
    post_form(client, f"/admin/users/{world.users['clerk']}/active", {"active": "1"}, f"/admin/users/{world.users['clerk']}")
    assert clerk.get("/office/").status_code == 404
    sign_in(clerk, "clerk@pakn.test")
    assert clerk.get("/office/").status_code == 200
    # An admin cannot deactivate themself.
    own = post_form(client, f"/admin/users/{world.users['admin']}/active", {"active": "0"}, "/admin/users")
    assert "Bạn không thể tự ngừng kích hoạt" in page(client, own.headers["Location"])[1]


def test_user_list_filters(client, world, login):
    login("admin")
    html = page(client, "/admin/users?role=agency_lead")[1]
    assert "lead_a@pakn.test" in html and "lead_b@pakn.test" in html and "clerk@pakn.test" not in html
    html = page(client, f"/admin/users?agency={world.agency_a}")[1]
    assert "officer_a@pakn.test" in html and "officer_b@pakn.test" not in html
    html = page(client, "/admin/users?status=inactive")[1]
    assert "disabled@pakn.test" in html and "clerk@pakn.test" not in html
    assert "officer_b@pakn.test" in page(client, "/admin/users?q=can bo officer_b")[1]
    # A number no agency can have (beyond the database's integer) filters nothing, like a non-number.
    for odd in ("abc", "\u00b2", str(2**31), str(10**30)):
        response, html = page(client, f"/admin/users?agency={odd}")
        assert response.status_code == 200 and "officer_a@pakn.test" in html and "officer_b@pakn.test" in html


# -- fields -----------------------------------------------------------------------------------------
def test_fields_add_rename_deactivate(app, client, world, login):
    login("admin")
    assert post_form(client, "/admin/fields", {"code": "giao_duc", "name": "Giáo dục"}).status_code == 302
    duplicate = post_form(client, "/admin/fields", {"code": "giao_duc_2", "name": "giao duc"})
    assert duplicate.status_code == 422 and "Đã có lĩnh vực cùng tên." in text(duplicate)
    assert 'value="giao_duc_2"' in text(duplicate)
    with app.app_context():
        fid = db.session.scalar(select(Field.id).where(Field.code == "giao_duc"))
    assert "Giáo dục" in page(app.test_client(), "/gop-y")[1]  # a citizen's form
    renamed = post_form(client, f"/admin/fields/{fid}", {f"f{fid}-name": "Giáo dục và Đào tạo", f"f{fid}-active": "y"},
                        "/admin/fields")
    assert renamed.status_code == 302
    assert post_form(client, f"/admin/fields/{fid}", {f"f{fid}-name": "Giáo dục và Đào tạo"},
                     "/admin/fields").status_code == 302  # unchecked: deactivated
    html = page(client, "/admin/fields")[1]
    assert "Giáo dục và Đào tạo" in html and "ngừng dùng" in html
    assert "Giáo dục và Đào tạo" not in page(app.test_client(), "/gop-y")[1]
    with app.app_context():
        changes = [e.data["changes"] for e in events("field_update")]
        assert changes == [{"name": ["Giáo dục", "Giáo dục và Đào tạo"]}, {"active": [True, False]}]
        assert events("field_create")[0].data["code"] == "giao_duc"


# -- per-province settings ------------------------------------------------------------------------------
def test_settings_change_the_guidance_page_and_upload_limits_at_once(app, client, world, login):
    login("admin")
    assert "0270 3822 000" in page(client, "/huong-dan")[1]  # the default from the environment
    html = page(client, "/admin/settings")[1]
    assert "Mặc định: 0270 3822 000" in html and 'href="/admin/clock"' in html
    assert "Mặc định: 10</p>" in html and "Mặc định: 20</p>" in html  # MB, as typed
    bad = post_form(client, "/admin/settings", {
        "OFFICE_ADDRESS": "Số 1 đường Lê Lợi, phường Phước Hậu", "OFFICE_EMAIL": "khong-hop-le",
        "UPLOAD_MAX_FILE_BYTES": "8", "UPLOAD_MAX_TOTAL_BYTES": "4"})
    html = text(bad)
    assert bad.status_code == 422
    assert "Thư điện tử không hợp lệ" in html and "không được nhỏ hơn dung lượng một tệp" in html
    assert "Số 1 đường Lê Lợi, phường Phước Hậu" in html
    with app.app_context():
        assert db.session.scalar(select(ProvinceSetting.key)) is None
    ok = post_form(client, "/admin/settings", {
        "OFFICE_ADDRESS": "Số 1 đường Lê Lợi, phường Phước Hậu", "OFFICE_PHONE": "0270 3 999 888",
        "OFFICE_EMAIL": "vanphong@vinhlong.gov.vn", "UPLOAD_MAX_FILES": "2", "UPLOAD_MAX_FILE_BYTES": "2,5",
        "UPLOAD_MAX_TOTAL_BYTES": "5"})
    assert ok.status_code == 302
    assert 'value="2.5"' in page(client, "/admin/settings")[1]
    guidance = page(client, "/huong-dan")[1]
    assert "0270 3 999 888" in guidance and "vanphong@vinhlong.gov.vn" in guidance
    assert "Số 1 đường Lê Lợi, phường Phước Hậu" in guidance
    form = page(app.test_client(), "/gop-y")[1]
    assert "Tối đa 2 tệp, mỗi tệp không quá 2.5 MB, tổng cộng không quá 5 MB" in form
    with app.app_context():
        assert db.session.get(ProvinceSetting, "UPLOAD_MAX_FILE_BYTES").value == int(2.5 * 1024 * 1024)
        [event] = events("settings_update")
        assert event.data["changes"]["OFFICE_PHONE"] == [None, "0270 3 999 888"]
        # Enforced by the storage checks (another worker reads the same rows).
        from werkzeug.datastructures import FileStorage

        from pakn.storage import validate_uploads

        with app.test_request_context():
            png = _png()
            errors = validate_uploads([FileStorage(io.BytesIO(png), "a.png") for _ in range(3)])
            assert any("2" in e.text for e in errors)
    # Blank goes back to the default.
    post_form(client, "/admin/settings", {"OFFICE_ADDRESS": "", "OFFICE_PHONE": "", "OFFICE_EMAIL": ""})
    assert "0270 3822 000" in page(client, "/huong-dan")[1]


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, "PNG")
    return out.getvalue()


# -- API tokens -------------------------------------------------------------------------------------------
def test_tokens_scopes_revocation_and_expiry(app, client, world, login, make_case):
    code, _ = make_case("received")
    login("admin")
    response = post_form(client, "/admin/tokens", {"user_id": world.users["clerk"], "name": "Ứng dụng một cửa",
                                                   "scopes": ["read"], "days": "30"})
    html = text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "chỉ hiển thị một lần" in html
    raw = re.search(r'<code id="raw-token">([^<]+)</code>', html).group(1)
    headers = {"Authorization": f"Bearer {raw}"}
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.name == "Ứng dụng một cửa"))
        assert row.scopes == "read" and raw not in row.token_hash and 29 <= (row.expires_at - utcnow()).days <= 30
        assert events("api_token_create")[0].data["scopes"] == "read"
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    version = client.get(f"/api/v1/cases/{code}", headers=headers).get_json()["version"]
    refused = client.post(f"/api/v1/cases/{code}/actions/forward", json=forward_to("SXD", "xay_dung"),
                          headers={**headers, "If-Match": f'"{version}"'})
    assert refused.status_code == 403
    # The list shows it, with its last use; the raw token is not shown again.
    html = page(client, "/admin/tokens")[1]
    assert "Ứng dụng một cửa" in html and "Còn hiệu lực" in html and raw not in html
    assert post_form(client, f"/admin/tokens/{row.id}/revoke", {}, "/admin/tokens").status_code == 302
    assert client.get("/api/v1/cases", headers=headers).status_code == 401
    assert "Đã thu hồi" in page(client, "/admin/tokens")[1]
    again = post_form(client, f"/admin/tokens/{row.id}/revoke", {}, "/admin/tokens")
    assert "Mã truy cập này đã bị thu hồi." in page(client, again.headers["Location"])[1]
    # A write token, then expired.
    html = text(post_form(client, "/admin/tokens", {"user_id": world.users["clerk"], "name": "Ghi",
                                                    "scopes": ["read", "write"], "days": "1"}))
    raw = re.search(r'<code id="raw-token">([^<]+)</code>', html).group(1)
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    with app.app_context(), transaction():
        db.session.scalar(select(ApiToken).where(ApiToken.name == "Ghi")).expires_at = utcnow() - timedelta(minutes=1)
    assert client.get("/api/v1/cases", headers=headers).status_code == 401
    with app.app_context():
        assert [e.data["name"] for e in events("api_token_revoke")] == ["Ứng dụng một cửa"]


def test_token_form_refusals_keep_what_was_typed(app, client, world, login):
    login("admin")
    response = post_form(client, "/admin/tokens", {"user_id": world.users["disabled"], "name": "Mã cho đối tác",
                                                   "days": "30"})
    html = text(response)
    assert response.status_code == 422
    assert "Chọn tài khoản đang hoạt động." in html and "Chọn ít nhất một phạm vi." in html
    assert 'value="Mã cho đối tác"' in html
    response = post_form(client, "/admin/tokens", {"user_id": world.users["clerk"], "name": "Mã cho đối tác",
                                                   "scopes": ["open311"], "days": "9999"})
    html = text(response)
    assert response.status_code == 422 and "Thời hạn là số ngày từ 1 đến 730." in html
    assert 'value="open311" checked' in html or 'checked id="scopes-2"' in html or re.search(r'checked[^>]*value="open311"', html)
    with app.app_context():
        assert db.session.scalar(select(ApiToken.id)) is None


# -- audit log --------------------------------------------------------------------------------------------
def test_audit_log_filters_pages_and_exports_without_formulas(app, client, world, login, make_case, monkeypatch):
    code, _ = make_case("forwarded")
    login("admin")
    # The admin renames themself to something a spreadsheet would run.
    assert post_form(client, f"/admin/users/{world.users['admin']}", {
        "full_name": "=HYPERLINK(\"http://x\")", "role": "admin"}).status_code == 302
    for name in ("Y tế", "Giáo dục", "Văn hóa"):
        post_form(client, "/admin/fields", {"code": fold_code(name), "name": name})
    body = page(client, "/admin/audit?action=field_create")[1].split("<tbody>")[1]
    assert body.count("Thêm lĩnh vực <span") == 3 and "forward" not in body
    body = page(client, f"/admin/audit?case={code}")[1].split("<tbody>")[1]
    assert "Chuyển xử lý" in body and code in body and "field_create" not in body
    body = page(client, f"/admin/audit?actor={world.users['clerk']}")[1].split("<tbody>")[1]
    assert "Cán bộ clerk" in body and "forward" in body and "field_create" not in body
    bad = client.get("/admin/audit?date_from=31-02-2026")
    assert bad.status_code == 422 and "Từ ngày không hợp lệ" in text(bad)
    today = utcnow().date().isoformat()
    assert "Thêm lĩnh vực" in page(client, f"/admin/audit?date_from={today}&date_to={today}&action=field_create")[1]
    assert "Không có sự kiện nào phù hợp." in page(client, "/admin/audit?date_to=2001-01-01")[1]
    # Keyset paging.
    monkeypatch.setattr("pakn.admin.routes.PAGE_SIZE", 2)
    first = page(client, "/admin/audit?action=field_create")[1]
    assert first.count("Thêm lĩnh vực <span") == 2
    next_url = re.search(r'href="([^"]+before=\d+[^"]*)"', first).group(1).replace("&amp;", "&")
    second = page(client, next_url)[1]
    assert second.count("Thêm lĩnh vực <span") == 1 and "Y tế" in second
    beyond = page(client, f"/admin/audit?action=field_create&before={10**30}")  # not a row id: the first page
    assert beyond[0].status_code == 200 and beyond[1].count("Thêm lĩnh vực <span") == 2
    # CSV export, same filters; formula cells neutralised.
    export = client.get("/admin/audit.csv?action=user_update")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Số" and len(rows) == 2
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")" and rows[1][5] == "user_update"


def fold_code(name: str) -> str:
    from pakn.text import fold

    return fold(name).replace(" ", "_")


def test_csv_cell_neutralises_every_formula_start():
    from pakn.admin.routes import csv_cell

    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_cell(start + "1+1") == "'" + start + "1+1"
    assert csv_cell("Sở Xây dựng") == "Sở Xây dựng" and csv_cell(None) == "" and csv_cell(12) == "12"


def test_guidance_page_publishes_the_clock_settings_in_force(app, client, world, login):
    """The settings page links the clock settings; what an admin saves there is what citizens read."""
    assert "Phân loại, chuyển xử lý: 5 ngày làm việc" in page(app.test_client(), "/huong-dan")[1]
    login("admin")
    assert post_form(client, "/admin/clock", {
        "forward_days": "3", "answer_days": "15", "answer_day_unit": "working", "progress_update_days": "7",
        "result_entry_days": "2", "check_days": "2", "publish_days": "2", "reminder_days": "1",
        "note": "Quyết định 99/QĐ-UBND rút ngắn thời hạn"}).status_code == 302
    html = page(app.test_client(), "/huong-dan")[1]
    assert "Phân loại, chuyển xử lý: 3 ngày làm việc" in html and "Trả lời: 15 ngày làm việc" in html
    assert "Thời hạn phân loại, chuyển xử lý: 3 ngày làm việc" in page(app.test_client(), "/")[1]
