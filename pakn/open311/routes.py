"""Open311 GeoReport v2 views: parse the standard's parameters, call one operation or query,
answer in the standard's shape.

Mapping (``POST requests``):

=====================================  ===============================================
Open311                                pakn
=====================================  ===============================================
``api_key``                            an API token with the ``open311`` scope (403 otherwise)
``service_code``                       the field (*lĩnh vực*) code
``description``                        ``content``
``attribute[kind]``                    ``kind`` (``phan_anh`` / ``kien_nghi``)
``attribute[subject]``                 ``title``
``attribute[proposal]``                ``proposal`` (required for a kiến nghị)
``attribute[submitter_address]``       ``submitter_address`` (required by NĐ 20/2008)
``attribute[organisation]``            ``submitter_organisation``
``first_name`` + ``last_name``         ``submitter_name``
``email``, ``phone``                   ``submitter_email``, ``submitter_phone``
``lat``, ``long``, ``address_string``  ``location_lat``, ``location_long``, ``location_address``
``media_url``                          ``reference_urls`` (listed for staff, never fetched)
``address_id``, ``device_id``,         accepted and ignored (no address registry, no accounts)
``account_id``, ``jurisdiction_id``
=====================================  ===============================================

The case is created with channel ``api`` by the system on the client's behalf (trigger
``receive_on_behalf``, audited with the client's token name); deadlines start at once.

``GET requests`` shows for every case only what may be public: code, open/closed, the
state's label (or, once published, the published answer as ``status_notes`` and the
answering agency as ``agency_responsible``), field, dates and the answer deadline as
``expected_datetime``; ``description`` is the published title and summary, and ``address``
the place the client gave only when the published text names it. Name, phone, e-mail,
the submitter's address, coordinates and attachments never appear.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, request
from flask_babel import gettext
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from workflows.calendar import TZ
from workflows.engine import N_
from workflows.glossary import Kind, RejectReason
from workflows.pakn import WORKFLOW

from ..auth.tokens import token_for
from ..extensions import db
from ..models import Agency, Feedback, Field
from ..models.types import utcnow
from ..operations import InvalidPayload, OperationError, SystemActor, hash_token, receive_feedback, transaction
from ..schemas.action import refusal_message
from ..schemas.base import coded_label
from ..text import fold
from ..web.errors import MESSAGES
from . import bp
from .render import FORMATS, error_response, respond, w3c

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: When this endpoint last changed in a way clients could notice (the discovery's changeset).
CHANGESET = "2026-12-04T00:00:00+07:00"
#: Our states the standard calls ``closed``; every other state is ``open``.
CLOSED_STATES = ("published", "closed", "rejected", "merged", "withdrawn")
OPEN_STATES = tuple(s for s in WORKFLOW.states if s not in CLOSED_STATES)
#: ``GET requests`` without dates covers this many days back, and never a longer span.
WINDOW_DAYS = 90
MAX_REQUESTS = 1000
FMT = "<any(json, xml):fmt>"


class Open311Error(Exception):
    """A refusal in the standard's format: the HTTP status and one description per problem."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__(f"{status}")
        self.status = status
        self.descriptions = list(descriptions) or [gettext(MESSAGES.get(status, MESSAGES[500]))]


def _request_format() -> str:
    fmt = (request.view_args or {}).get("fmt")
    if fmt in FORMATS:
        return fmt
    return "xml" if request.path.endswith(".xml") else "json"


@bp.errorhandler(Open311Error)
def _open311_error(err: Open311Error):
    return error_response(_request_format(), err.status, err.descriptions)


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException):
    status = err.code or 500
    return error_response(_request_format(), status, [gettext(MESSAGES.get(status, MESSAGES[500]))])


@bp.errorhandler(Exception)
def _unexpected(err: Exception):
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(_request_format(), 500, [gettext(MESSAGES[500])])


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str):
    """Any other path under /open311/v2 (or a format other than .json/.xml): 404 in the format;
    a known path with another method: 405."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in ("GET", "POST"):
        try:
            endpoint, _args = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != request.endpoint:
            raise Open311Error(405)
    raise Open311Error(404, gettext("Không có tài nguyên Open311 này (chỉ hỗ trợ .json và .xml)."))


# -- discovery and services -------------------------------------------------------------------
@bp.get("/")
@bp.get(f"/discovery.{FMT}")
def discovery(fmt: str = "json"):
    """Where the endpoint is, which formats it speaks, and how to get an api_key."""
    config = current_app.config
    url = config["PUBLIC_BASE_URL"].rstrip("/") + "/open311/v2"
    return respond(fmt, "discovery", {
        "changeset": CHANGESET,
        "contact": gettext("Văn phòng UBND tỉnh %(province)s: %(email)s, %(phone)s",
                           province=config["PROVINCE_NAME"], email=config["OFFICE_EMAIL"],
                           phone=config["OFFICE_PHONE"]),
        "key_service": gettext("Khóa api_key để gửi phản ánh, kiến nghị do quản trị viên cấp tại trang quản trị; "
                               "liên hệ Văn phòng UBND tỉnh để được cấp."),
        "endpoints": [{"specification": SPECIFICATION, "url": url, "changeset": CHANGESET, "type": "production",
                       "formats": ["text/xml", "application/json"]}],
    })


def _active_fields() -> list[Field]:
    return db.session.scalars(select(Field).where(Field.active.is_(True)).order_by(Field.name, Field.code)).all()


def _service_view(field: Field) -> dict:
    return {
        "service_code": field.code,
        "service_name": field.name,
        "description": gettext("Phản ánh, kiến nghị về quy định hành chính thuộc lĩnh vực %(field)s.",
                               field=field.name),
        "metadata": True,
        "type": "realtime",
        "keywords": "pakn, phản ánh, kiến nghị",
        "group": gettext("Phản ánh, kiến nghị"),
    }


@bp.get(f"/services.{FMT}")
def services(fmt: str):
    """One service per active field (lĩnh vực)."""
    return respond(fmt, "services", [_service_view(f) for f in _active_fields()])


def _field_or_404(code: str) -> Field:
    field = db.session.scalar(select(Field).where(Field.code == code, Field.active.is_(True)))
    if field is None:
        raise Open311Error(404, gettext("Không có dịch vụ (lĩnh vực) có mã %(code)s.", code=code))
    return field


#: Our attributes, in order: (code, datatype, required, description, datatype_description).
ATTRIBUTES = (
    ("kind", "singlevaluelist", True, N_("Loại: phản ánh (nêu vấn đề) hay kiến nghị (kèm phương án xử lý)."),
     N_("Chọn một giá trị.")),
    ("subject", "string", True, N_("Tiêu đề: tóm tắt vấn đề trong một câu (5–250 ký tự)."),
     N_("Văn bản một dòng.")),
    ("proposal", "text", False, N_("Phương án xử lý hoặc sáng kiến đề xuất (bắt buộc với kiến nghị)."),
     N_("Văn bản nhiều dòng.")),
    ("submitter_address", "string", True,
     N_("Địa chỉ liên hệ của người gửi (bắt buộc theo quy định; không được công khai)."), N_("Văn bản một dòng.")),
    ("organisation", "string", False, N_("Tên cơ quan, tổ chức, doanh nghiệp (nếu người gửi là tổ chức)."),
     N_("Văn bản một dòng.")),
)
#: Our payload field → the Open311 parameter it comes from (error messages name the parameter).
PARAMETER_OF = {
    "kind": "attribute[kind]", "title": "attribute[subject]", "proposal": "attribute[proposal]",
    "submitter_address": "attribute[submitter_address]", "submitter_organisation": "attribute[organisation]",
    "content": "description", "submitter_name": "first_name, last_name", "submitter_phone": "phone",
    "submitter_email": "email", "location_lat": "lat", "location_long": "long",
    "location_address": "address_string", "reference_urls": "media_url", "field": "service_code",
}


@bp.get(f"/services/<code>.{FMT}")
def service_definition(code: str, fmt: str):
    """The attributes a request for this service takes."""
    _field_or_404(code)
    attributes = []
    for order, (name, datatype, required, description, datatype_description) in enumerate(ATTRIBUTES, 1):
        attribute = {"variable": True, "code": name, "datatype": datatype, "required": required,
                     "datatype_description": gettext(datatype_description), "order": order,
                     "description": gettext(description)}
        if name == "kind":
            attribute["values"] = [{"key": k.value, "name": gettext(k.label)} for k in Kind]
        attributes.append(attribute)
    return respond(fmt, "service_definition", {"service_code": code, "attributes": attributes})


# -- POST requests ----------------------------------------------------------------------------
def _post_params() -> dict[str, str]:
    """The request's parameters, form-encoded (the standard) or a JSON object; ``attribute`` as
    a JSON object is flattened to ``attribute[code]``."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Open311Error(400, gettext("Dữ liệu JSON không hợp lệ: cần một đối tượng."))
        params: dict[str, object] = {}
        for key, value in body.items():
            if key == "attribute" and isinstance(value, dict):
                params.update({f"attribute[{k}]": v for k, v in value.items()})
            else:
                params[key] = value
    else:
        params = {key: request.form.get(key) for key in request.form}
    for key, value in params.items():
        if value is not None and not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise Open311Error(400, gettext("%(param)s: giá trị không hợp lệ.", param=key))
    return {k: str(v).strip() for k, v in params.items() if v is not None and str(v).strip()}


def _client(params: dict[str, str]):
    """The api_key's token (open311 scope) or 403."""
    raw = params.get("api_key") or request.args.get("api_key")
    if not raw:
        raise Open311Error(403, gettext("Thiếu api_key."))
    token = token_for(raw, scope="open311")
    if token is None:
        raise Open311Error(403, gettext("api_key không hợp lệ, đã hết hạn hoặc không được phép gửi yêu cầu."))
    return token


def _coordinate(params: dict[str, str], name: str) -> float | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, gettext("%(param)s: phải là một số thập phân (WGS84).", param=name)) from None
    return value


def _payload(params: dict[str, str], now: datetime) -> dict:
    """Our intake payload from the Open311 parameters (400 for an unknown attribute)."""
    known = {f"attribute[{a[0]}]" for a in ATTRIBUTES}
    unknown = sorted(k for k in params if k.startswith("attribute[") and k not in known)
    if unknown:
        raise Open311Error(400, *[gettext("%(param)s: thuộc tính không có trong định nghĩa dịch vụ.", param=k)
                                  for k in unknown])
    if ("lat" in params) != ("long" in params):
        raise Open311Error(400, gettext("lat, long: cần cả vĩ độ và kinh độ."))
    name = " ".join(p for p in (params.get("first_name"), params.get("last_name")) if p)
    payload = {
        "channel": "api", "received_at": now.isoformat(), "field": params.get("service_code"),
        "kind": params.get("attribute[kind]"), "title": params.get("attribute[subject]"),
        "content": params.get("description"), "proposal": params.get("attribute[proposal]"),
        "submitter_name": name or None, "submitter_organisation": params.get("attribute[organisation]"),
        "submitter_address": params.get("attribute[submitter_address]"),
        "submitter_phone": params.get("phone"), "submitter_email": params.get("email"),
        "location_lat": _coordinate(params, "lat"), "location_long": _coordinate(params, "long"),
        "location_address": params.get("address_string"),
        "reference_urls": [params["media_url"]] if params.get("media_url") else None,
    }
    return {k: v for k, v in payload.items() if v is not None}


def _flatten(messages) -> list[str]:
    if isinstance(messages, dict):
        return [m for v in messages.values() for m in _flatten(v)]
    if isinstance(messages, (list, tuple)):
        return [m for v in messages for m in _flatten(v)]
    return [gettext(str(messages))]


def _payload_errors(err: InvalidPayload) -> Open311Error:
    descriptions = []
    for name, messages in err.fields.items():
        param = PARAMETER_OF.get(name, name)
        descriptions += [f"{param}: {m}" for m in dict.fromkeys(_flatten(messages))]
    return Open311Error(400, *descriptions)


@bp.post(f"/requests.{FMT}")
def post_request(fmt: str):
    """File a PAKN for a citizen: the case is created at once and its code returned."""
    params = _post_params()
    token = _client(params)
    if not params.get("service_code"):
        raise Open311Error(400, gettext("service_code: bắt buộc."))
    if db.session.scalar(select(Field.id).where(Field.code == params["service_code"],
                                                Field.active.is_(True))) is None:
        raise Open311Error(400, gettext("service_code: không có dịch vụ (lĩnh vực) có mã %(code)s.",
                                        code=params["service_code"]))
    now = utcnow()
    payload = _payload(params, now)
    actor = SystemActor(label=f"Open311: {token.name or token.id}"[:100])
    try:
        with transaction():
            case, _token = receive_feedback(payload, actor, trigger="receive_on_behalf", now=now)
    except InvalidPayload as err:
        raise _payload_errors(err) from None
    except OperationError as err:
        raise Open311Error(err.status, refusal_message(err)) from None
    due = case.answer_due_at.astimezone(TZ).strftime("%d/%m/%Y") if case.answer_due_at else "—"
    notice = gettext("Đã tiếp nhận. Hạn trả lời: %(due)s. Người gửi nhận mã tra cứu qua thư điện tử hoặc "
                     "tin nhắn.", due=due)
    return respond(fmt, "service_requests",
                   [{"service_request_id": case.code, "service_notice": notice, "account_id": None}])


# -- GET requests -----------------------------------------------------------------------------
#: The only columns any GET reads: nothing about the submitter.
COLUMNS = (
    Feedback.code, Feedback.state, Feedback.reject_reason_code, Feedback.received_at, Feedback.updated_at,
    Feedback.answer_due_at, Feedback.published_at, Feedback.public_title, Feedback.public_summary,
    Feedback.public_answer, Feedback.location_address, Field.code.label("field_code"),
    Field.name.label("field_name"), Agency.name.label("agency_name"),
)


def _query():
    return (select(*COLUMNS).outerjoin(Field, Field.id == Feedback.field_id)
            .outerjoin(Agency, Agency.id == Feedback.agency_id))


def _status_notes(row) -> str:
    if row.published_at is not None:
        return row.public_answer
    label = gettext(WORKFLOW.states[row.state].label)
    if row.state == "rejected" and row.reject_reason_code:
        return f"{label}: {coded_label(RejectReason, row.reject_reason_code)}"
    return label


def _public_address(row) -> str | None:
    """The place the client gave, only when the published text names it (then it is public)."""
    if row.published_at is None or not row.location_address:
        return None
    published = fold(row.public_title, row.public_summary, row.public_answer)
    return row.location_address if fold(row.location_address) in published else None


def _request_view(row) -> dict:
    published = row.published_at is not None
    description = None
    if published:
        description = " — ".join(p for p in (row.public_title, row.public_summary) if p)
    return {
        "service_request_id": row.code,
        "status": "closed" if row.state in CLOSED_STATES else "open",
        "status_notes": _status_notes(row),
        "service_name": row.field_name,
        "service_code": row.field_code,
        "description": description,
        "agency_responsible": row.agency_name if published else None,
        "service_notice": None,
        "requested_datetime": w3c(row.received_at),
        "updated_datetime": w3c(row.updated_at),
        "expected_datetime": w3c(row.answer_due_at),
        "address": _public_address(row),
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def _listed(name: str) -> list[str]:
    return [v.strip() for v in request.args.get(name, "").split(",") if v.strip()]


def _instant(name: str) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise Open311Error(400, gettext("%(param)s: ngày giờ không hợp lệ (định dạng W3C, ví dụ "
                                        "2026-12-01T00:00:00+07:00).", param=name)) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=TZ)


def _window(now: datetime) -> tuple[datetime, datetime]:
    """The standard's date range: both given (at most 90 days), one given (90 days from or to
    it), or none (the last 90 days)."""
    start, end = _instant("start_date"), _instant("end_date")
    span = timedelta(days=WINDOW_DAYS)
    if start and end:
        if end < start:
            raise Open311Error(400, gettext("end_date: phải sau start_date."))
        if end - start > span:
            raise Open311Error(400, gettext("start_date, end_date: khoảng thời gian tối đa %(days)s ngày.",
                                            days=WINDOW_DAYS))
        return start, end
    if start:
        return start, start + span
    if end:
        return end - span, end
    return now - span, now


@bp.get(f"/requests.{FMT}")
def list_requests(fmt: str):
    """Requests by id (comma-separated: then the other filters are ignored, as the standard
    says) or by service_code, status and date window; newest first, at most 1000."""
    query = _query()
    ids = _listed("service_request_id")
    if ids:
        query = query.where(Feedback.code.in_(ids[:MAX_REQUESTS]))
    else:
        statuses = _listed("status")
        bad = [s for s in statuses if s not in ("open", "closed")]
        if bad:
            raise Open311Error(400, gettext("status: chỉ nhận open hoặc closed."))
        if statuses and len(set(statuses)) == 1:
            query = query.where(Feedback.state.in_(CLOSED_STATES if statuses[0] == "closed" else OPEN_STATES))
        codes = _listed("service_code")
        if codes:
            query = query.where(Field.code.in_(codes))
        start, end = _window(utcnow())
        query = query.where(Feedback.received_at >= start, Feedback.received_at <= end)
    rows = db.session.execute(query.order_by(Feedback.received_at.desc(), Feedback.id.desc())
                              .limit(MAX_REQUESTS)).all()
    return respond(fmt, "service_requests", [_request_view(r) for r in rows])


@bp.get(f"/requests/<code>.{FMT}")
def get_request(code: str, fmt: str):
    """One request by its id (our case code), as a one-item list like the standard's example."""
    row = db.session.execute(_query().where(Feedback.code == code)).first()
    if row is None:
        raise Open311Error(404, gettext("Không có yêu cầu có mã %(code)s.", code=code))
    return respond(fmt, "service_requests", [_request_view(row)])


@bp.get(f"/tokens/<token>.{FMT}")
def token_lookup(token: str, fmt: str):
    """The standard's token is our tracking token (sent to the submitter in the receipt): it
    answers the case code. Only the token's hash is stored, so it is looked up by its hash."""
    code = db.session.scalar(select(Feedback.code).where(Feedback.tracking_token_hash == hash_token(token)))
    if code is None:
        raise Open311Error(404, gettext("Không có yêu cầu ứng với mã này."))
    return respond(fmt, "service_requests", [{"service_request_id": code, "token": token}])
