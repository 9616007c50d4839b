"""The API's views: load, check, validate, call one operation, serialize.

Status codes (the envelope is always ``{"error": {"code", "message", "fields"}}``):

* 400 malformed JSON or a body that is not an object; 401 no/invalid credentials;
  403 the actor's role or agency may not fire the trigger; 404 unknown case, trigger or
  tracking token, or a case out of the user's scope; 409 not allowed in this state, a
  validator's refusal, or a stale version (with ``current_version``/``current_state``);
  413 body too large; 415 not JSON; 422 invalid payload or query (per field, Vietnamese);
  428 staff action without the case version; 429 login throttled (``Retry-After``).
"""
from __future__ import annotations

import math

from flask import Response, abort, request, url_for
from sqlalchemy import select

from workflows.engine import N_
from workflows.pakn import WORKFLOW

from ..auth.second_factor import verify_second_factor
from ..auth.throttle import Throttled, authenticate, second_step
from ..auth.tokens import issue_token, revoke_token
from ..extensions import db
from ..models import ApiToken, Feedback
from ..models.types import utcnow
from ..operations import (
    StaleVersion, SubmitterActor, apply_transition, find_by_tracking, hash_token, receive_feedback,
    transaction,
)
from ..schemas import (
    CaseQuerySchema, CaseSummarySchema, CitizenCaseSchema, Receipt, ReceiptSchema, TokenRequestSchema,
    TokenSchema, actions_view, detail_schema_for,
)
from ..schemas.base import state_label
from . import bp
from .auth import CHALLENGE, authenticated_user, client_ip, presented_token, unauthorized
from .errors import ApiError
from .inputs import expected_version, json_body, load_body, load_query, tracking_token
from .queries import case_list, visible_case

#: One message whatever was wrong: it must not tell whether the account exists.
BAD_CREDENTIALS = N_("Email hoặc mật khẩu không đúng.")
BAD_OTP = N_("Mã xác thực không đúng hoặc đã được dùng. Vui lòng nhập mã mới trong ứng dụng.")
NOT_ENROLLED = N_("Tài khoản chưa thiết lập xác thực hai bước. Vui lòng đăng nhập trên trang web một lần "
                  "để thiết lập, rồi lấy mã truy cập.")
THROTTLED = N_("Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %(minutes)s phút.")
#: The triggers a submitter fires with their tracking token.
SUBMITTER_TRIGGERS = ("withdraw", "supply_info", "supply_info_to_agency")


def _state_body(case: Feedback) -> tuple[dict, dict]:
    """The short answer to an action: where the case is now, and its version as an ETag."""
    body = {"code": case.code, "state": case.state, "state_label": state_label(case.state),
            "version": case.version}
    return body, {"ETag": f'"{case.version}"'}


# -- tokens -----------------------------------------------------------------------------------
@bp.post("/auth/token")
def create_token():
    """Exchange e-mail, password and second factor (``otp``) for a bearer token (201);
    401 (``invalid_credentials``, ``invalid_otp``, ``second_factor_not_enrolled``), 422, 429."""
    data = load_body(TokenRequestSchema())
    refusal = None
    try:
        with transaction():  # committed on failure too: throttling counts every attempt
            user = authenticate(data["email"], data["password"], client_ip())
            issued = None
            if user is None:
                refusal = ("invalid_credentials", BAD_CREDENTIALS)
            elif not user.second_factor_enrolled:
                refusal = ("second_factor_not_enrolled", NOT_ENROLLED)
            elif not second_step(user, client_ip(), lambda: verify_second_factor(user, data["otp"])):
                refusal = ("invalid_otp", BAD_OTP)
            else:
                raw, row = issue_token(user, name="api")
                issued = {"token": raw, "expires_at": row.expires_at}
    except Throttled as exc:
        raise ApiError(429, "too_many_requests", THROTTLED, headers={"Retry-After": str(int(exc.retry_after))},
                       minutes=max(1, math.ceil(exc.retry_after / 60))) from None
    if refusal is not None:
        raise ApiError(401, *refusal, headers={"WWW-Authenticate": CHALLENGE})
    return TokenSchema().dump(issued), 201


@bp.delete("/auth/token")
def delete_token():
    """Revoke the bearer token presented with this request (204); 401 without a valid one."""
    raw = presented_token()
    if raw is None:
        raise unauthorized()
    authenticated_user()  # 401 for an unknown, expired or revoked token
    with transaction():
        revoke_token(db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw))))
    return Response(status=204)


# -- the submitter (no account: code + tracking token) ----------------------------------------
def _tracked_case(code: str) -> Feedback:
    case = find_by_tracking(code, tracking_token())
    if case is None:
        abort(404)
    return case


@bp.post("/feedback")
def submit_feedback():
    """Receive a submission (201 with code, tracking token, state, deadlines); 422 per field."""
    data = json_body()
    with transaction():
        case, token = receive_feedback(data, SubmitterActor())
    return ReceiptSchema().dump(Receipt(case, token)), 201, {
        "Location": url_for(".track_feedback", code=case.code)}


@bp.get("/feedback/<code>")
def track_feedback(code: str):
    """The submitter's view of their case; 404 unless code and tracking token match."""
    return CitizenCaseSchema().dump(_tracked_case(code))


@bp.post("/feedback/<code>/actions/<trigger>")
def submitter_action(code: str, trigger: str):
    """The submitter withdraws or supplies information (200 with their view); 404, 409, 422."""
    if trigger not in SUBMITTER_TRIGGERS:
        abort(404)
    case = _tracked_case(code)
    payload = json_body()
    with transaction():
        apply_transition(case, trigger, SubmitterActor(case_id=case.id), payload)
    return CitizenCaseSchema().dump(case)


# -- staff ------------------------------------------------------------------------------------
@bp.get("/cases")
def list_cases():
    """The cases in the user's scope, filtered and paged, with a ``next`` link."""
    user = authenticated_user()
    params = load_query(CaseQuerySchema(), lists=("state",))
    page = db.paginate(case_list(user, params, utcnow()), page=params["page"],
                       per_page=params["per_page"], error_out=False)
    next_url = None
    if page.has_next:
        args = request.args.to_dict(flat=False)
        args["page"] = [str(page.page + 1)]
        next_url = url_for(".list_cases", **args)
    return {"items": CaseSummarySchema(many=True).dump(page.items), "page": page.page,
            "per_page": page.per_page, "total": page.total, "next": next_url}


@bp.get("/cases/<code>")
def case_detail(code: str):
    """Everything about one case, in the user's role view, with its version as an ETag."""
    user = authenticated_user()
    case = visible_case(user, code)
    return detail_schema_for(user).dump(case), 200, {"ETag": f'"{case.version}"'}


@bp.get("/cases/<code>/actions")
def case_actions(code: str):
    """What the user may do on the case now (with payload schemas), and what not and why."""
    user = authenticated_user()
    case = visible_case(user, code)
    return actions_view(case, WORKFLOW.available_transitions(case, user))


@bp.post("/cases/<code>/actions/<trigger>")
def case_action(code: str, trigger: str):
    """Fire ``trigger`` with a JSON payload and the version seen (If-Match or ``version``)."""
    user = authenticated_user()
    case = visible_case(user, code)
    transition = WORKFLOW.transitions.get(trigger)
    if transition is None or transition.creates:
        abort(404)
    payload = json_body()
    version = expected_version(payload)
    _apply_as_staff(case, trigger, user, payload, version)
    body, headers = _state_body(case)
    return body, 200, headers


def _apply_as_staff(case: Feedback, trigger: str, user, payload: dict, version: int) -> None:
    """Fire the trigger in its own transaction; a race lost at flush or commit still tells the
    client the case's current version and state (the operations layer cannot know them then)."""
    case_id = case.id
    try:
        with transaction():
            apply_transition(case, trigger, user, payload, expected_version=version)
    except StaleVersion as err:
        if err.current_version is not None:
            raise
        current = db.session.execute(
            select(Feedback.version, Feedback.state).where(Feedback.id == case_id)).one()
        raise StaleVersion(current.version, current.state) from None
