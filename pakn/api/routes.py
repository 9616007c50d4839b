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
from sqlalchemy.orm import selectinload

from workflows.engine import N_
from workflows.pakn import WORKFLOW

from ..access import visible_answers
from ..agency_portal.documents import signer_from, submit_with_document
from ..auth.second_factor import verify_second_factor
from ..auth.throttle import Throttled, authenticate, second_step
from ..auth.tokens import issue_token, revoke_token
from ..extensions import db
from ..models import ApiToken, Feedback
from ..models.types import utcnow
from ..office.actions import after_transition
from ..office.inbox import encode_cursor
from ..operations import (
    StaleVersion, SubmitterActor, apply_transition, find_by_tracking, hash_token, receive_feedback,
    transaction,
)
from ..schemas import (
    ActionsSchema, CaseDetailSchema, CaseQuerySchema, CaseSummarySchema, CitizenCaseSchema, Receipt, ReceiptSchema,
    TokenRequestSchema, TokenSchema, actions_view, detail_schema_for,
)
from ..schemas.base import state_label
from ..schemas.page import ActionResultSchema, page_of
from ..storage import store_upload
from . import bp
from .auth import CHALLENGE, authenticated_user, client_ip, presented_token, unauthorized
from .docs import operation
from .errors import ApiError
from .inputs import expected_version, json_body, load_body, load_query, tracking_token
from .queries import case_count, case_list, visible_case
from .resources import uploads_of

#: One message whatever was wrong: it must not tell whether the account exists.
BAD_CREDENTIALS = N_("Email hoặc mật khẩu không đúng.")
BAD_OTP = N_("Mã xác thực không đúng hoặc đã được dùng. Vui lòng nhập mã mới trong ứng dụng.")
NOT_ENROLLED = N_("Tài khoản chưa thiết lập xác thực hai bước. Vui lòng đăng nhập trên trang web một lần "
                  "để thiết lập, rồi lấy mã truy cập.")
THROTTLED = N_("Bạn đã đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %(minutes)s phút.")
#: The triggers a submitter fires with their tracking token.
SUBMITTER_TRIGGERS = ("withdraw", "supply_info", "supply_info_to_agency")
#: The staff triggers that may carry files (``attachments``), as the agency portal's drafting form.
FILE_TRIGGERS = ("draft_answer",)
CasePageSchema = page_of(CaseSummarySchema, "CasePageSchema", numbered=True)
#: The header a staff action sends the version it saw in.
IF_MATCH = {"in": "header", "name": "If-Match", "required": False,
            "schema": {"type": "string", "pattern": '^(W/)?"?[0-9]+"?$'},
            "description": 'The case version seen, e.g. `"3"` (or send `version` in the body).'}


def _state_body(case: Feedback) -> tuple[dict, dict]:
    """The short answer to an action: where the case is now, and its version as an ETag."""
    body = {"code": case.code, "state": case.state, "state_label": state_label(case.state),
            "version": case.version}
    return body, {"ETag": f'"{case.version}"'}


# -- tokens -----------------------------------------------------------------------------------
@bp.post("/auth/token")
@operation("Get a bearer token", tag="auth", auth="public", body=TokenRequestSchema,
           responses={201: TokenSchema}, errors=(401, 429))
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
@operation("Revoke the token presented", tag="auth", auth="token", responses={204: None}, errors=(401,))
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
@operation("Submit feedback", tag="submitter", auth="public", body=WORKFLOW.transitions["receive"].schema,
           responses={201: ReceiptSchema})
def submit_feedback():
    """Receive a submission (201 with code, tracking token, state, deadlines); 422 per field."""
    data = json_body()
    with transaction():
        case, token = receive_feedback(data, SubmitterActor())
    return ReceiptSchema().dump(Receipt(case, token)), 201, {
        "Location": url_for(".track_feedback", code=case.code)}


@bp.get("/feedback/<code>")
@operation("The submitter's view of their case", tag="submitter", auth="tracking",
           responses={200: CitizenCaseSchema})
def track_feedback(code: str):
    """The submitter's view of their case; 404 unless code and tracking token match."""
    return CitizenCaseSchema().dump(_tracked_case(code))


@bp.post("/feedback/<code>/actions/<trigger>")
@operation("The submitter acts on their case", tag="submitter", auth="tracking",
           responses={200: CitizenCaseSchema}, errors=(404, 409))
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
@operation("Cases in the caller's scope", tag="cases", query=CaseQuerySchema, responses={200: CasePageSchema})
def list_cases():
    """The cases in the user's scope under the office inbox's filters, newest first, paged by
    keyset (``after``) or by page number, with the next page's cursor and link."""
    user = authenticated_user()
    params = load_query(CaseQuerySchema(), lists=("state",))
    now = utcnow()
    per_page, by_cursor = params["per_page"], params.get("after") is not None
    query = case_list(user, params, now).options(selectinload(Feedback.stage_visits)).limit(per_page + 1)
    if not by_cursor:
        query = query.offset((params["page"] - 1) * per_page)
    rows = db.session.execute(query).all()
    items, more = [row[0] for row in rows[:per_page]], len(rows) > per_page
    next_cursor = encode_cursor(rows[per_page - 1][1], items[-1].id) if more else None
    next_url = None
    if more:
        args = request.args.to_dict(flat=False)
        if by_cursor:
            args["after"] = [next_cursor]
        else:
            args["page"] = [str(params["page"] + 1)]
        next_url = url_for(".list_cases", **args)
    return {"items": CaseSummarySchema(many=True).dump(items), "page": None if by_cursor else params["page"],
            "per_page": per_page, "total": case_count(user, params, now), "next": next_url,
            "next_cursor": next_cursor}


@bp.get("/cases/<code>")
@operation("One case in the caller's role view", tag="cases", responses={200: CaseDetailSchema})
def case_detail(code: str):
    """Everything about one case, in the user's role view, with its version as an ETag."""
    user = authenticated_user()
    case = visible_case(user, code)
    return detail_schema_for(user).dump(case), 200, {"ETag": f'"{case.version}"'}


@bp.get("/cases/<code>/actions")
@operation("What the caller may do now, and why not the rest", tag="cases", responses={200: ActionsSchema})
def case_actions(code: str):
    """What the user may do on the case now (with payload schemas), and what not and why."""
    user = authenticated_user()
    case = visible_case(user, code)
    return actions_view(case, WORKFLOW.available_transitions(case, user))


@bp.post("/cases/<code>/actions/<trigger>")
@operation("Fire a trigger", tag="actions", responses={200: ActionResultSchema}, errors=(404, 409, 428, 503),
           headers=[IF_MATCH],
           description="Fires the trigger with its payload and the case version seen (`If-Match` or "
                       "`version`). Roles, states and rules are the workflow's (`GET …/actions`).")
def case_action(code: str, trigger: str):
    """Fire ``trigger`` with a JSON payload and the version seen (If-Match or ``version``)."""
    user = authenticated_user()
    case = visible_case(user, code)
    transition = WORKFLOW.transitions.get(trigger)
    if transition is None or transition.creates:
        abort(404)
    with_files = trigger in FILE_TRIGGERS
    payload = json_body(with_files=with_files)
    version = expected_version(payload)
    files = uploads_of(payload) if with_files else []
    signer = _signer_of(payload) if trigger == "submit_answer" else None
    _apply_as_staff(case, trigger, user, payload, version, files, signer)
    body, headers = _state_body(case)
    return body, 200, headers


def _signer_of(payload: dict):
    """The signer of the văn bản trả lời when ``submit_answer`` asks for it to be issued
    (``signer_name``, ``signer_authority``), as the agency portal's form; None otherwise.

    The issued document gives the number and date, so they may not be sent as well.
    """
    if "signer_name" not in payload and "signer_authority" not in payload:
        return None
    signer = signer_from(payload.pop("signer_name", None), payload.pop("signer_authority", None))
    errors = signer if isinstance(signer, dict) else {}
    errors.update({key: [N_("Trường không được chấp nhận.")] for key in payload})
    if errors:
        raise ApiError(422, "invalid_payload", N_("Dữ liệu không hợp lệ."), fields=errors)
    return signer


def _apply_as_staff(case: Feedback, trigger: str, user, payload: dict, version: int,
                    files: list[tuple[str, bytes]] = (), signer=None) -> None:
    """Fire the trigger in its own transaction; a race lost at flush or commit still tells the
    client the case's current version and state (the operations layer cannot know them then).

    A forward issues the forwarding document as the console does; ``files`` go with the answer
    revision just drafted, as in the agency portal's drafting form; with a ``signer``,
    ``submit_answer`` issues the văn bản trả lời as the agency portal does.
    """
    case_id = case.id
    try:
        with transaction():
            if signer is not None:  # the agency portal's submission: issue the numbered document
                submit_with_document(case, user, signer, version, utcnow())
            else:
                apply_transition(case, trigger, user, payload, expected_version=version)
            after_transition(case, trigger, user)  # the console's products: the forwarding document
            if files:
                revision = visible_answers(user, case)[-1]
                for name, content in files:
                    store_upload(content, feedback=case, uploaded_by=user, answer=revision, filename=name)
    except StaleVersion as err:
        if err.current_version is not None:
            raise
        current = db.session.execute(
            select(Feedback.version, Feedback.state).where(Feedback.id == case_id)).one()
        raise StaleVersion(current.version, current.state) from None


# -- the description --------------------------------------------------------------------------
@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API (built once per process)."""
    from flask import current_app

    from .docs import build_spec

    cached = current_app.extensions.get("pakn_openapi")
    if cached is None:
        cached = current_app.extensions["pakn_openapi"] = build_spec(current_app)
    return cached


#: The Swagger UI files the docs page loads (from the pinned ``swagger-ui-bundle`` package).
DOCS_ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript",
               "swagger-ui-standalone-preset.js": "text/javascript", "favicon-32x32.png": "image/png"}


@bp.get("/docs")
def docs():
    """The API's documentation page: Swagger UI over ``openapi.json``, from our own origin."""
    from flask import render_template

    return render_template("api/docs.html")


@bp.get("/docs/assets/<name>")
def docs_asset(name: str):
    """One Swagger UI asset (a fixed list; anything else is 404)."""
    from flask import send_from_directory
    from swagger_ui_bundle import swagger_ui_path

    if name not in DOCS_ASSETS:
        abort(404)
    return send_from_directory(str(swagger_ui_path), name, mimetype=DOCS_ASSETS[name], max_age=86400)
