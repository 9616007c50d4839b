"""The authorization matrix: what every role gets from every route of the app (issue 10, item 1).

``tests/test_authz_matrix.py`` sends each row's request as each role and compares the status
with this table; a rule of ``app.url_map`` (endpoint × method) without a row fails the build.

Adding a row for a new route — one line in ``ROWS``::

    Row("admin.users", "GET", "/admin/users", exp(404, admin=200, public=LOGIN)),
    Row("admin.user_edit", "POST", "/admin/users/{clerk_id}", exp(404, admin=302, public=LOGIN),
        data={"full_name": "Nguyễn Văn A"}),

* ``endpoint`` and ``method``: the rule covered (the test checks the URL really routes there).
* ``url``: a path formatted with the seeded world's names (``authz_support.build_matrix_world``):
  case codes ``a_received a_forwarded a_case a_answered a_published`` (agency A, SXD),
  ``b_case`` (agency B, STNMT), ``sub_case`` (the ``sub`` role's own case, needs_info) and
  ``other_case`` (``other_sub``'s); ``<code>_version`` for each; files ``a_submitter_file``
  ``a_file`` (A's draft) ``a_pdf a_docx`` (A's answer document) ``b_file``; ``a_visit`` (open
  stage of a_forwarded), ``agency_a agency_b office_id``, ``plan task plan_import alias``,
  ``overlay outbox_dead notification`` (clerk's) ``saved_filter`` (clerk's) ``rule year period``,
  user ids ``<key>_id`` (``clerk_id`` …), ``level field`` (ids of the level ``so_nganh`` and the
  field ``xay_dung``), ``open311_key`` (an ``api_key`` with only the ``open311`` scope) and
  ``open311_token`` (its row), ``password_link`` (a valid reset link of ``clerk``),
  ``received_at`` (now, ISO). Per role: ``{token}`` is the tracking token the role
  holds (``sub``: sub_case's; ``other_sub``: other_case's; everyone else: a wrong one).
* ``expect``: the status per role, built by :func:`exp`: a default, then groups, then single
  roles (later and narrower win). ``LOGIN`` means 302 to ``/auth/login``. Roles are in
  ``authz_support.ROLES``; groups in ``GROUPS`` below.
* ``data`` (a form: the role's CSRF token is added; keys are formatted too) or ``json`` (the API: staff send their
  bearer token): values are formatted like the URL. Every request runs in a transaction that is
  rolled back, so a POST may really succeed (302/303/200) without changing the next row's world.

Bodies are checked too: agency B never sees A's private marks (``A_MARKERS``), and the roles
without a staff session never see a submitter's personal data (``CANARY_MARKERS``).
"""
from __future__ import annotations

from dataclasses import dataclass

from pakn.scenarios import SUBMISSION

from .authz_support import PUBLIC, ROLES

LOGIN = "login"

GROUPS: dict[str, tuple[str, ...]] = {
    "public": PUBLIC,
    "office": ("clerk", "lead"),
    "agency_a": ("officer_a", "lead_a"),
    "agency_b": ("officer_b", "lead_b"),
    "agency": ("officer_a", "lead_a", "officer_b", "lead_b"),
    "staff": ("clerk", "lead", "officer_a", "lead_a", "officer_b", "lead_b", "admin"),
    "submitters": ("sub", "other_sub"),
}


def exp(default, **by) -> dict[str, int | str]:
    """Statuses per role: ``default``, overridden by group keys, then by role keys."""
    unknown = set(by) - set(GROUPS) - set(ROLES)
    assert not unknown, f"unknown role or group {unknown}"
    out = {}
    for role in ROLES:
        value = default
        for key, status in by.items():
            if key in GROUPS and role in GROUPS[key]:
                value = status
        out[role] = by.get(role, value)
    return out


@dataclass(frozen=True)
class Row:
    endpoint: str
    method: str
    url: str
    expect: dict
    data: dict | None = None
    json: dict | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.url}"


#: Public pages: the same for everyone.
EVERYONE_200 = exp(200)
#: Staff pages of everyone signed in; the rest are sent to log in.
STAFF_200 = exp(LOGIN, staff=200)
#: Office console: office staff only, 404 for everyone else, signed in or not.
OFFICE_ONLY = lambda ok=200: exp(404, office=ok)  # noqa: E731
#: Admin pages (calendar, clock, outbox): admin only, 404 for other staff, login for the rest.
ADMIN_ONLY = lambda ok=200: exp(404, public=LOGIN, admin=ok)  # noqa: E731
#: The agency portal: agency staff; office staff and admins 403; the rest log in.
AGENCY_PORTAL = exp(403, public=LOGIN, agency=200)
#: One of agency A's objects in the portal: A only; B 404.
A_OBJECT = lambda ok=200: exp(403, public=LOGIN, agency_a=ok, agency_b=404)  # noqa: E731
#: Plans: office staff and admins read, admins change (office 403), agencies 404.
PLAN_READ = exp(404, public=LOGIN, office=200, admin=200)
PLAN_ADMIN = lambda ok=200: exp(404, public=LOGIN, office=403, admin=ok)  # noqa: E731

#: The administration console (/admin/…): admin only, 404 for everyone else, signed in or not.
ADMIN_CONSOLE = lambda ok=200: exp(404, admin=ok)  # noqa: E731
#: One of agency A's objects through the API (a case, its files, its report): office, admins and A; B 404.
API_A_OBJECT = exp(401, office=200, admin=200, agency_a=200, agency_b=404)
API_B_OBJECT = exp(401, office=200, admin=200, agency_a=404, agency_b=200)

TRACKED = exp(404, sub=303)
PORTAL_ACTION = {"message": "Tôi xin bổ sung số hồ sơ 123/2026 nộp ngày 02/10/2026."}
A_PROGRESS = {"post_progress-version": "{a_case_version}",
              "post_progress-message": "Sở đang rà soát hồ sơ, dự kiến trả lời trong tuần tới."}

ROWS: list[Row] = [
    # -- citizen portal (public) ------------------------------------------------------------
    Row("web.home", "GET", "/", EVERYONE_200),
    Row("web.set_language", "GET", "/lang/en", exp(302)),
    Row("static", "GET", "/static/pakn.css", EVERYONE_200),
    Row("portal.guidance", "GET", "/huong-dan", EVERYONE_200),
    Row("portal.submit", "GET", "/gop-y", EVERYONE_200),
    Row("portal.submit", "POST", "/gop-y", EVERYONE_200,
        data={"action": "similar", "title": "Giấy phép xây dựng", "content": "Thời hạn cấp giấy phép"}),
    Row("portal.receipt", "GET", "/gop-y/bien-nhan/{sub_case}", exp(404)),  # only the browser that submitted
    Row("portal.track", "GET", "/tra-cuu", EVERYONE_200),
    Row("portal.track", "POST", "/tra-cuu", exp(303), data={"code": "{sub_case}", "contact": "binh.le@example.com"}),
    Row("portal.track", "POST", "/tra-cuu", exp(422), data={"code": "{a_case}", "contact": "binh.le@example.com"}),
    Row("portal.status", "GET", "/tra-cuu/{sub_case}?token={token}", TRACKED),
    Row("portal.status", "GET", "/tra-cuu/{sub_case}", exp(303, sub=200)),
    Row("portal.status", "GET", "/tra-cuu/{other_case}", exp(303, other_sub=200)),
    Row("portal.supply_info", "POST", "/tra-cuu/{sub_case}/bo-sung", exp(404, sub=303), data=PORTAL_ACTION),
    Row("portal.supply_info", "POST", "/tra-cuu/{other_case}/bo-sung", exp(404, other_sub=409), data=PORTAL_ACTION),
    Row("portal.answers", "GET", "/tra-loi?q=canary", EVERYONE_200),
    Row("portal.answer", "GET", "/tra-loi/{a_published}", EVERYONE_200),
    Row("portal.answer", "GET", "/tra-loi/{a_case}", exp(404)),
    Row("portal.feed", "GET", "/tra-loi/atom.xml", EVERYONE_200),
    Row("portal.open_data", "GET", "/du-lieu-mo", EVERYONE_200),
    Row("portal.open_data_csv", "GET", "/du-lieu-mo/pakn.csv", EVERYONE_200),
    Row("portal.open_data_json", "GET", "/du-lieu-mo/pakn.json", EVERYONE_200),
    Row("portal.statistics", "GET", "/thong-ke", EVERYONE_200),

    # -- sign-in and the shared staff pages --------------------------------------------------
    Row("auth.login", "GET", "/auth/login", exp(302, public=200)),
    Row("auth.login", "POST", "/auth/login", EVERYONE_200, data={"email": "", "password": ""}),
    Row("auth.logout", "POST", "/auth/logout", exp(302)),
    # A signed single-use link (invitation or reset) is its own credential: the same for everyone.
    Row("auth.set_password", "GET", "/auth/set-password/{password_link}", EVERYONE_200),
    # Success sends to the login page (the link is used up, inside this row's rollback).
    Row("auth.set_password", "POST", "/auth/set-password/{password_link}", exp(LOGIN),
        data={"password": "mat-khau-moi-rat-dai-2026", "confirm": "mat-khau-moi-rat-dai-2026"}),
    Row("auth.set_password", "GET", "/auth/set-password/{password_link}x", exp(404)),
    Row("auth.set_password", "GET", "/auth/set-password/{token}", exp(404)),
    Row("auth.set_password", "POST", "/auth/set-password/{token}", exp(404),
        data={"password": "mat-khau-moi-rat-dai-2026", "confirm": "mat-khau-moi-rat-dai-2026"}),
    # The second step of a login and the enrolment answer only a login pending in this session:
    # without one, everybody is sent back to the password step.
    Row("auth.second_factor", "GET", "/auth/code", exp(LOGIN)),
    Row("auth.second_factor", "POST", "/auth/code", exp(LOGIN), data={"code": "000000"}),
    Row("auth.enrol", "GET", "/auth/enrol", exp(LOGIN)),
    Row("auth.enrol", "POST", "/auth/enrol", exp(LOGIN), data={"code": "000000"}),
    Row("auth.account", "GET", "/auth/account", exp(LOGIN, staff=200)),
    Row("auth.change_password", "POST", "/auth/account/password", exp(LOGIN, staff=422),
        data={"current_password": "sai-mat-khau-123", "new_password": "", "confirm": ""}),
    Row("auth.renew_recovery_codes", "POST", "/auth/account/recovery-codes", exp(LOGIN, staff=422),
        data={"code": "000000"}),
    Row("auth.second_factor_admin", "GET", "/auth/second-factor", exp(404, admin=200, public=LOGIN)),
    Row("auth.reset_second_factor_view", "POST", "/auth/second-factor/{clerk_id}/reset",
        exp(404, admin=302, public=LOGIN), data={}),
    Row("web.dashboard", "GET", "/staff/", STAFF_200),
    Row("notifications.index", "GET", "/notifications", STAFF_200),
    Row("notifications.mark_read", "POST", "/notifications/{notification}/read",
        exp(404, public=LOGIN, clerk=302), data={}),
    Row("notifications.mark_all_read", "POST", "/notifications/read-all", exp(LOGIN, staff=302), data={}),

    # -- JSON API ----------------------------------------------------------------------------
    Row("api.create_token", "POST", "/api/v1/auth/token", exp(401),
        json={"email": "clerk@pakn.test", "password": "sai-mat-khau-123", "otp": "000000"}),
    Row("api.delete_token", "DELETE", "/api/v1/auth/token", exp(401, staff=204)),
    Row("api.submit_feedback", "POST", "/api/v1/feedback", exp(422), json={"title": "Thiếu nội dung"}),
    Row("api.track_feedback", "GET", "/api/v1/feedback/{sub_case}?token={token}", exp(404, sub=200)),
    Row("api.submitter_action", "POST", "/api/v1/feedback/{sub_case}/actions/supply_info?token={token}",
        exp(404, sub=200), json=PORTAL_ACTION),
    Row("api.list_cases", "GET", "/api/v1/cases", exp(401, staff=200)),
    Row("api.list_cases", "GET", "/api/v1/cases?q=tr%E1%BA%A1m+BTS", exp(401, staff=200)),
    Row("api.case_detail", "GET", "/api/v1/cases/{a_case}", API_A_OBJECT),
    Row("api.case_detail", "GET", "/api/v1/cases/{b_case}", API_B_OBJECT),
    Row("api.case_actions", "GET", "/api/v1/cases/{a_case}/actions",
        API_A_OBJECT),
    Row("api.case_action", "POST", "/api/v1/cases/{a_case}/actions/post_progress",
        exp(401, office=403, admin=403, agency_a=200, agency_b=404),
        json={"version": "{a_case_version}", "message": "Sở đang rà soát hồ sơ, dự kiến trả lời tuần tới."}),
    Row("api.case_action", "POST", "/api/v1/cases/{a_forwarded}/actions/forward",
        exp(401, office=409, admin=403, agency_a=403, agency_b=404),
        json={"version": "{a_forwarded_version}", "agency": "STNMT", "field": "dat_dai", "subject": "quy_dinh",
              "content_category": "2"}),
    Row("api.case_action", "POST", "/api/v1/cases/{a_received}/actions/reject",
        exp(401, office=200, admin=403, agency_a=404, agency_b=404),
        json={"version": "{a_received_version}", "reason_code": "complaint"}),

    Row("api.intake", "POST", "/api/v1/cases", exp(401, staff=403, office=201),
        json={**SUBMISSION, "channel": "post", "external_ref": "CV-77/2026", "received_at": "{received_at}"}),
    Row("api.case_attachments", "GET", "/api/v1/cases/{a_case}/attachments", API_A_OBJECT),
    Row("api.case_attachments", "GET", "/api/v1/cases/{b_case}/attachments", API_B_OBJECT),
    Row("api.case_attachment", "GET", "/api/v1/cases/{a_case}/attachments/{a_submitter_file}", API_A_OBJECT),
    Row("api.case_attachment", "GET", "/api/v1/cases/{a_case}/attachments/{a_file}", API_A_OBJECT),
    Row("api.case_attachment", "GET", "/api/v1/cases/{a_answered}/attachments/{a_pdf}", API_A_OBJECT),
    # A's files through B's case (child-object IDOR), and B's file through A's case.
    Row("api.case_attachment", "GET", "/api/v1/cases/{b_case}/attachments/{a_file}", exp(401, staff=404)),
    Row("api.case_attachment", "GET", "/api/v1/cases/{b_case}/attachments/{a_pdf}", exp(401, staff=404)),
    Row("api.case_attachment", "GET", "/api/v1/cases/{a_case}/attachments/{b_file}", exp(401, staff=404)),
    Row("api.case_attachment", "GET", "/api/v1/cases/{b_case}/attachments/{b_file}", API_B_OBJECT),
    Row("api.case_documents", "GET", "/api/v1/cases/{a_answered}/documents", API_A_OBJECT),
    Row("api.case_documents", "GET", "/api/v1/cases/{b_case}/documents", API_B_OBJECT),
    Row("api.case_answers", "GET", "/api/v1/cases/{a_case}/answers", API_A_OBJECT),
    Row("api.case_answers", "GET", "/api/v1/cases/{a_answered}/answers", API_A_OBJECT),
    Row("api.case_answers", "GET", "/api/v1/cases/{b_case}/answers", API_B_OBJECT),
    Row("api.published_answers", "GET", "/api/v1/answers", EVERYONE_200),
    Row("api.published_answers", "GET", "/api/v1/answers?q=canary", EVERYONE_200),
    Row("api.published_answer", "GET", "/api/v1/answers/{a_published}", EVERYONE_200),
    Row("api.published_answer", "GET", "/api/v1/answers/{a_case}", exp(404)),
    Row("api.field_list", "GET", "/api/v1/fields", EVERYONE_200),
    Row("api.agency_list", "GET", "/api/v1/agencies", EVERYONE_200),
    Row("api.report", "GET", "/api/v1/reports/{year}/{period}", exp(401, staff=200)),
    Row("api.report", "GET", "/api/v1/reports/{year}/{period}?agency={agency_a}",
        API_A_OBJECT),
    Row("api.report", "GET", "/api/v1/reports/{year}/{period}?agency={agency_b}",
        API_B_OBJECT),
    Row("api.plan_list", "GET", "/api/v1/plans", exp(401, office=200, admin=200, agency=404)),
    Row("api.plan_detail", "GET", "/api/v1/plans/{plan}", exp(401, office=200, admin=200, agency=404)),
    Row("api.openapi", "GET", "/api/v1/openapi.json", EVERYONE_200),
    Row("api.docs", "GET", "/api/v1/docs", EVERYONE_200),
    Row("api.docs_asset", "GET", "/api/v1/docs/assets/swagger-ui.css", EVERYONE_200),
    Row("api.docs_asset", "GET", "/api/v1/docs/assets/..%2F..%2Fapp.py", exp(404)),

    # -- Open311 (GeoReport v2): public reads; filing needs an api_key with the open311 scope ---
    Row("open311.discovery", "GET", "/open311/v2/", EVERYONE_200),
    Row("open311.discovery", "GET", "/open311/v2/discovery.json", EVERYONE_200),
    Row("open311.services", "GET", "/open311/v2/services.xml", EVERYONE_200),
    Row("open311.service_definition", "GET", "/open311/v2/services/xay_dung.json", EVERYONE_200),
    Row("open311.service_definition", "GET", "/open311/v2/services/khong_co.json", exp(404)),
    Row("open311.list_requests", "GET", "/open311/v2/requests.json", EVERYONE_200),
    Row("open311.get_request", "GET", "/open311/v2/requests/{a_published}.json", EVERYONE_200),
    Row("open311.get_request", "GET", "/open311/v2/requests/{a_case}.json", EVERYONE_200),  # no PII: the canaries
    Row("open311.token_lookup", "GET", "/open311/v2/tokens/{token}.json", exp(404, submitters=200)),
    Row("open311.post_request", "POST", "/open311/v2/requests.json", exp(403), data={"service_code": "xay_dung"}),
    Row("open311.post_request", "POST", "/open311/v2/requests.json", exp(403),  # an unknown api_key
        data={"api_key": "x" * 43, "service_code": "xay_dung"}),
    Row("open311.post_request", "POST", "/open311/v2/requests.json", exp(200),
        data={"api_key": "{open311_key}", "service_code": "xay_dung", "first_name": "Bình", "last_name": "Lê",
              "email": "binh.le@example.com",
              "attribute[kind]": "phan_anh", "attribute[subject]": "Thời hạn cấp giấy phép xây dựng",
              "attribute[submitter_address]": "Số 5 đường 3/2, phường 1",
              "description": "Đề nghị công khai thời hạn cấp giấy phép xây dựng nhà ở riêng lẻ tại phường 1."}),
    *[Row("open311.unknown", m, "/open311/v2/khong-co.json", exp(404)) for m in ("GET", "POST", "PUT", "PATCH",
                                                                                 "DELETE")],

    # -- office console ----------------------------------------------------------------------
    Row("office.inbox", "GET", "/office/", OFFICE_ONLY()),
    Row("office.inbox", "GET", "/office/?q=tr%E1%BA%A1m+BTS", OFFICE_ONLY()),
    Row("office.case_page", "GET", "/office/cases/{a_case}", OFFICE_ONLY()),
    Row("office.next_case", "GET", "/office/cases/{a_case}/next", OFFICE_ONLY(302)),
    Row("office.case_action", "POST", "/office/cases/{a_received}/actions/reject", OFFICE_ONLY(302),
        data={"version": "{a_received_version}", "reason_code": "complaint"}),
    Row("office.case_assign", "POST", "/office/cases/{a_received}/assign", OFFICE_ONLY(302),
        data={"version": "{a_received_version}", "clerk": "{clerk_id}"}),
    Row("office.attachment", "GET", "/office/cases/{a_case}/attachments/{a_submitter_file}", OFFICE_ONLY()),
    Row("office.attachment", "GET", "/office/cases/{b_case}/attachments/{a_submitter_file}", exp(404)),
    Row("office.bulk", "POST", "/office/bulk", OFFICE_ONLY(),
        data={"action": "assign", "case": "{a_received}:{a_received_version}", "clerk": "{clerk_id}"}),
    Row("office.save_filter", "POST", "/office/filters", OFFICE_ONLY(302),
        data={"name": "Đất đai", "query": "state=received"}),
    Row("office.delete_filter", "POST", "/office/filters/{saved_filter}/delete", exp(404, clerk=302), data={}),
    Row("office.intake", "GET", "/office/intake", OFFICE_ONLY()),
    Row("office.intake", "POST", "/office/intake", OFFICE_ONLY(422), data={"channel": "post"}),
    Row("office.register", "GET", "/office/register", OFFICE_ONLY()),
    Row("office.register_xlsx", "GET", "/office/register.xlsx", OFFICE_ONLY()),
    Row("office.batch_import", "GET", "/office/import", OFFICE_ONLY()),
    Row("office.batch_import", "POST", "/office/import", OFFICE_ONLY(422), data={}),
    Row("office.batch_import_confirm", "POST", "/office/import/confirm", OFFICE_ONLY(400), data={}),
    Row("office.board", "GET", "/office/board", OFFICE_ONLY()),
    Row("office.remind", "POST", "/office/board/remind/{a_visit}", OFFICE_ONLY(302), data={}),
    Row("office.remind_all", "POST", "/office/board/remind-agency/{agency_a}", OFFICE_ONLY(302), data={}),
    Row("office.routing_rules", "GET", "/office/routing-rules", exp(404, lead=200, admin=200)),
    Row("office.routing_rule_add", "POST", "/office/routing-rules", exp(404, lead=302, admin=302),
        data={"kind": "keyword", "keyword": "đất đai", "agency": "STNMT", "priority": "1"}),
    Row("office.routing_rule_toggle", "POST", "/office/routing-rules/{rule}/toggle",
        exp(404, lead=302, admin=302), data={}),

    # -- agency portal -----------------------------------------------------------------------
    Row("agency.inbox", "GET", "/agency/?view=all", AGENCY_PORTAL),
    Row("agency.inbox", "GET", "/agency/?view=all&q=tr%E1%BA%A1m+BTS", AGENCY_PORTAL),
    Row("agency.dashboard", "GET", "/agency/dashboard", AGENCY_PORTAL),
    Row("agency.export", "GET", "/agency/export.csv?view=all", AGENCY_PORTAL),
    Row("agency.case_page", "GET", "/agency/cases/{a_case}", A_OBJECT()),
    Row("agency.case_page", "GET", "/agency/cases/{a_answered}", A_OBJECT()),
    Row("agency.case_page", "GET", "/agency/cases/{a_received}", exp(403, public=LOGIN, agency=404)),
    Row("agency.draft", "GET", "/agency/cases/{a_case}/draft", A_OBJECT()),
    Row("agency.attachment", "GET", "/agency/cases/{a_case}/attachments/{a_file}", A_OBJECT()),
    Row("agency.attachment", "GET", "/agency/cases/{a_case}/attachments/{a_submitter_file}", A_OBJECT()),
    Row("agency.attachment", "GET", "/agency/cases/{a_answered}/attachments/{a_pdf}", A_OBJECT()),
    Row("agency.attachment", "GET", "/agency/cases/{a_answered}/attachments/{a_docx}", A_OBJECT()),
    # A's files through B's case (child-object IDOR), and B's own file through A's case.
    Row("agency.attachment", "GET", "/agency/cases/{b_case}/attachments/{a_file}", exp(403, public=LOGIN, agency=404)),
    Row("agency.attachment", "GET", "/agency/cases/{b_case}/attachments/{a_pdf}", exp(403, public=LOGIN, agency=404)),
    Row("agency.attachment", "GET", "/agency/cases/{a_case}/attachments/{b_file}", exp(403, public=LOGIN, agency=404)),
    Row("agency.attachment", "GET", "/agency/cases/{b_case}/attachments/{b_file}",
        exp(403, public=LOGIN, agency_a=404, agency_b=200)),
    Row("agency.act", "POST", "/agency/cases/{a_case}/actions/post_progress", A_OBJECT(302), data=A_PROGRESS),
    Row("agency.act", "POST", "/agency/cases/{a_forwarded}/actions/accept", A_OBJECT(302),
        data={"accept-version": "{a_forwarded_version}"}),
    # Classification and routing are not the agency's (A8): the portal has no such action.
    Row("agency.act", "POST", "/agency/cases/{a_case}/actions/forward", exp(403, public=LOGIN, agency=404),
        data={"forward-version": "{a_case_version}", "forward-agency": "STNMT", "forward-field": "dat_dai"}),

    # -- plans -------------------------------------------------------------------------------
    Row("plans.index", "GET", "/plans/", PLAN_READ),
    Row("plans.show", "GET", "/plans/{plan}", PLAN_READ),
    Row("plans.bindings", "GET", "/plans/{plan}/bindings", PLAN_ADMIN()),
    Row("plans.bindings", "POST", "/plans/{plan}/bindings", PLAN_ADMIN(302), data={"in_force": "1"}),
    Row("plans.record_done", "POST", "/plans/{plan}/tasks/{task}/done", PLAN_ADMIN(302),
        data={"done_on": "2026-03-02", "done_note": "Đã hoàn thành."}),
    Row("plans.delete_alias", "POST", "/plans/aliases/{alias}/delete", PLAN_ADMIN(302), data={}),
    Row("plans.upload", "GET", "/plans/import", PLAN_ADMIN()),
    Row("plans.upload", "POST", "/plans/import", PLAN_ADMIN(422), data={}),
    Row("plans.preview", "GET", "/plans/imports/{plan_import}", PLAN_ADMIN()),
    Row("plans.preview", "POST", "/plans/imports/{plan_import}", PLAN_ADMIN(422), data={}),
    Row("plans.units", "GET", "/plans/units", PLAN_ADMIN()),
    Row("plans.units", "POST", "/plans/units", PLAN_ADMIN(422), data={}),

    # -- periodic reports --------------------------------------------------------------------
    Row("reports.index", "GET", "/reports/", STAFF_200),
    Row("reports.show", "GET", "/reports/{year}/{period}/", STAFF_200),
    Row("reports.show", "GET", "/reports/{year}/{period}/?agency={agency_a}",
        exp(LOGIN, office=200, admin=200, agency_a=200, agency_b=404)),
    Row("reports.xlsx", "GET", "/reports/{year}/{period}/report.xlsx", STAFF_200),
    Row("reports.xlsx", "GET", "/reports/{year}/{period}/report.xlsx?agency={agency_a}",
        exp(LOGIN, office=200, admin=200, agency_a=200, agency_b=404)),
    Row("reports.pdf", "GET", "/reports/{year}/{period}/report.pdf", STAFF_200),
    Row("reports.pdf", "GET", "/reports/{year}/{period}/report.pdf?agency={agency_a}",
        exp(LOGIN, office=200, admin=200, agency_a=200, agency_b=404)),
    Row("reports.file_report", "POST", "/reports/{year}/{period}/file", exp(LOGIN, staff=302, admin=403), data={}),

    # -- deadlines administration (/admin/calendar, /admin/clock, /admin/sla) ----------------
    Row("deadlines.calendar", "GET", "/admin/calendar", ADMIN_ONLY()),
    Row("deadlines.add_overlay", "POST", "/admin/calendar/overlay", ADMIN_ONLY(302), data={}),
    Row("deadlines.delete_overlay", "POST", "/admin/calendar/overlay/{overlay}/delete", ADMIN_ONLY(302), data={}),
    Row("deadlines.import_calendar", "GET", "/admin/calendar/import", ADMIN_ONLY()),
    Row("deadlines.import_calendar", "POST", "/admin/calendar/import", ADMIN_ONLY(422), data={}),
    Row("deadlines.confirm_import", "POST", "/admin/calendar/import/confirm", ADMIN_ONLY(400), data={}),
    Row("deadlines.explain", "GET", "/admin/calendar/explain?case={a_case}", exp(404, public=LOGIN, office=200,
                                                                                  admin=200)),
    Row("deadlines.clock", "GET", "/admin/clock", ADMIN_ONLY()),
    Row("deadlines.clock", "POST", "/admin/clock", ADMIN_ONLY(422), data={}),
    Row("deadlines.sla", "GET", "/admin/sla", exp(404, public=LOGIN, office=200, admin=200)),

    # -- notifications administration --------------------------------------------------------
    Row("notifications.outbox", "GET", "/admin/outbox", ADMIN_ONLY()),
    Row("notifications.retry", "POST", "/admin/outbox/{outbox_dead}/retry", ADMIN_ONLY(302), data={}),

    # -- the administration console (/admin) -------------------------------------------------
    Row("admin.home", "GET", "/admin/", ADMIN_CONSOLE()),
    Row("admin.agencies", "GET", "/admin/agencies", ADMIN_CONSOLE()),
    Row("admin.agency_new", "GET", "/admin/agencies/new", ADMIN_CONSOLE()),
    Row("admin.agency_new", "POST", "/admin/agencies/new", ADMIN_CONSOLE(302),
        data={"code": "SYT", "name": "Sở Y tế", "level_id": "{level}", "parent_id": "{office_id}", "active": "y"}),
    Row("admin.agency_new", "POST", "/admin/agencies/new", ADMIN_CONSOLE(422), data={}),
    Row("admin.agency_edit", "GET", "/admin/agencies/{agency_a}", ADMIN_CONSOLE()),
    Row("admin.agency_edit", "POST", "/admin/agencies/{agency_a}", ADMIN_CONSOLE(302),
        data={"code": "SXD", "name": "Sở Xây dựng tỉnh", "level_id": "{level}", "parent_id": "{office_id}",
              "active": "y"}),
    Row("admin.levels", "GET", "/admin/agencies/levels", ADMIN_CONSOLE()),
    Row("admin.levels", "POST", "/admin/agencies/levels", ADMIN_CONSOLE(302),
        data={"code": "xa", "name": "Cấp xã", "rank": "2"}),
    Row("admin.level_edit", "GET", "/admin/agencies/levels/{level}", ADMIN_CONSOLE()),
    Row("admin.level_edit", "POST", "/admin/agencies/levels/{level}", ADMIN_CONSOLE(422), data={"name": ""}),
    Row("admin.merge", "GET", "/admin/agencies/merge", ADMIN_CONSOLE()),
    Row("admin.merge", "GET", "/admin/agencies/merge?source_id={agency_b}&target_id={agency_a}", ADMIN_CONSOLE()),
    Row("admin.merge", "POST", "/admin/agencies/merge", ADMIN_CONSOLE(302),
        data={"source_id": "{agency_b}", "target_id": "{agency_a}", "confirm": "1"}),
    Row("admin.users", "GET", "/admin/users", ADMIN_CONSOLE()),
    Row("admin.user_invite", "GET", "/admin/users/invite", ADMIN_CONSOLE()),
    Row("admin.user_invite", "POST", "/admin/users/invite", ADMIN_CONSOLE(302),
        data={"email": "moi@pakn.test", "full_name": "Trần Thị Mới", "role": "office_clerk",
              "agency_id": "{office_id}"}),
    Row("admin.user_edit", "GET", "/admin/users/{clerk_id}", ADMIN_CONSOLE()),
    Row("admin.user_edit", "POST", "/admin/users/{clerk_id}", ADMIN_CONSOLE(302),
        data={"full_name": "Nguyễn Văn A", "role": "office_clerk", "agency_id": "{office_id}"}),
    Row("admin.user_active", "POST", "/admin/users/{officer_b_id}/active", ADMIN_CONSOLE(302), data={"active": "0"}),
    Row("admin.user_password_link", "POST", "/admin/users/{clerk_id}/password-link", ADMIN_CONSOLE(302), data={}),
    Row("admin.fields", "GET", "/admin/fields", ADMIN_CONSOLE()),
    Row("admin.fields", "POST", "/admin/fields", ADMIN_CONSOLE(302), data={"code": "y_te", "name": "Y tế"}),
    Row("admin.field_edit", "POST", "/admin/fields/{field}", ADMIN_CONSOLE(302),
        data={"f{field}-name": "Xây dựng và quy hoạch", "f{field}-active": "y"}),
    Row("admin.settings_page", "GET", "/admin/settings", ADMIN_CONSOLE()),
    Row("admin.settings_page", "POST", "/admin/settings", ADMIN_CONSOLE(302),
        data={"OFFICE_PHONE": "0270 3822 123"}),
    Row("admin.settings_page", "POST", "/admin/settings", ADMIN_CONSOLE(422), data={"UPLOAD_MAX_FILES": "99"}),
    Row("admin.tokens", "GET", "/admin/tokens", ADMIN_CONSOLE()),
    Row("admin.token_create", "POST", "/admin/tokens", ADMIN_CONSOLE(),
        data={"user_id": "{admin_id}", "name": "Cổng dịch vụ công tỉnh", "scopes": "open311",
              "days": "30"}),
    Row("admin.token_revoke", "POST", "/admin/tokens/{open311_token}/revoke", ADMIN_CONSOLE(302), data={}),
    Row("admin.audit", "GET", "/admin/audit", ADMIN_CONSOLE()),
    Row("admin.audit", "GET", "/admin/audit?case={a_case}", ADMIN_CONSOLE()),
    Row("admin.audit_csv", "GET", "/admin/audit.csv", ADMIN_CONSOLE()),
]
