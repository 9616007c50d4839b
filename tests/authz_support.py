"""The seeded world of the authorization matrix and the privacy crawl, the clients of every role,
and a rollback around any request.

* :func:`build_matrix_world` creates, through the operations layer, cases of agency A and B in
  useful states with attachments, answer documents and requests for information, a published
  case, a submitter's own case and another submitter's, and one of every other object a URL
  names (plan, import draft, alias, overlay day, dead outbox row, notification, saved filter,
  routing rule). It returns the names a matrix URL may use (``{a_case}``, ``{a_file}``, …).
* :func:`role_clients` logs every role in once and keeps its session cookie, CSRF token and
  API bearer token; :meth:`RoleClient.client` gives a fresh test client holding that session.
* :func:`rolled_back` runs requests in a transaction that is rolled back afterwards (SQLAlchemy's
  "join a session into an external transaction" recipe: the app's own commits only release
  savepoints), so a matrix row may really change things and leave the world as it was.
"""
from __future__ import annotations

import io
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_sqlalchemy.session import Session as FlaskSession, _app_ctx_id
from sqlalchemy import select
from sqlalchemy.orm import scoped_session, sessionmaker
from werkzeug.datastructures import FileStorage

from pakn.extensions import db
from pakn.models import (
    AgencyAlias, Answer, Attachment, Feedback, Notification, OutboxMessage, PlanImport,
    RoutingRule, SavedFilter, StageVisit,
)
from pakn.models.types import utcnow
from pakn.operations import apply_transition, transaction
from pakn.scenarios import DRAFT

from .conftest import build_world, case_factory, csrf_token, sign_in
from .portal_support import CANARY, CANARY_MARKERS

#: Every role of the matrix, in the order of the tables.
ROLES = ("anon", "sub", "other_sub", "clerk", "lead", "officer_a", "lead_a", "officer_b", "lead_b", "admin",
         "disabled")
#: The roles without a working staff session. ``disabled`` holds a session (and an API token)
#: from before its account was deactivated.
PUBLIC = ("anon", "sub", "other_sub", "disabled")

#: Agency A's private marks (title, draft, request, file name, officer): never shown to agency B.
A_TITLE = "Canary-7Q Giấy phép xây dựng trạm BTS phường Long Châu"
A_DRAFT = "Dự thảo canary-7Q chỉ Sở Xây dựng được xem."
A_REQUEST = "Đề nghị bổ sung canary-7Q bản vẽ hiện trạng."
A_FILE_NAME = "canary-7Q rà soát.pdf"
A_MARKERS = (A_TITLE, "canary-7Q", "Canary-7Q", "Cán bộ officer_a", "Cán bộ lead_a")
#: The published case's public texts (no canary: they are public by design).
PUBLIC_TEXTS = {"public_title": "Thời hạn cấp phép trạm viễn thông", "public_summary": "Phản ánh về thời hạn.",
                "public_answer": "Sở Xây dựng trả lời: thời hạn là 15 ngày làm việc."}
#: Personal data of the two submitters who hold tracking links (their own pages may show it).
SUB_PERSON = {"submitter_name": "Lê Văn Bình", "submitter_email": "binh.le@example.com",
              "submitter_phone": "0912 345 678", "submitter_address": "Số 5 đường 3/2, phường 1"}
OTHER_PERSON = {"submitter_name": "Phạm Thị Hoa", "submitter_email": "hoa.pham@example.com",
                "submitter_phone": "0903 123 456", "submitter_address": "Số 3 đường Lý Thường Kiệt"}
B_PERSON = {"submitter_name": "Võ Văn Bảy", "submitter_email": "bay.vo@example.com",
            "submitter_phone": "0905 111 222", "submitter_address": "Số 7 đường Nguyễn Huệ"}

__all__ = ["A_MARKERS", "CANARY_MARKERS", "PUBLIC", "ROLES", "RoleClient", "build_matrix_world", "role_clients",
           "rolled_back"]


def simple_pdf() -> bytes:
    from .test_storage import simple_pdf as make

    return make()


def _upload(case: Feedback, name: str, user=None, answer=None) -> Attachment:
    from pakn.storage import store_upload

    return store_upload(FileStorage(io.BytesIO(simple_pdf()), filename=name, content_type="application/pdf"),
                        feedback=case, uploaded_by=user, answer=answer)


def build_matrix_world(app) -> dict:
    """Seed the world (committed) and return the names matrix URLs are built from."""
    from pakn.agency_portal.documents import submit_with_document
    from pakn.deadlines.admin import add_overlay_day
    from pakn.documents import Signer
    from pakn.plans.importer import apply_import
    from pakn.plans.parse import parse_text
    from pakn.text import fold

    from .plan_helpers import BEN_TRE

    world = build_world(app)
    make = case_factory(app, world)
    canary = {**CANARY, "title": A_TITLE}
    names: dict = {"world": world, "agency_a": world.agency_a, "agency_b": world.agency_b,
                   "office_id": world.office, "year": utcnow().year, "period": "Y"}
    names["a_received"], _ = make("received", **canary)
    names["a_forwarded"], _ = make("forwarded", **canary)
    names["a_case"], _ = make("in_progress", **canary)
    names["a_answered"], _ = make("answer_approved", **canary)
    names["a_published"], _ = make("published", **canary)
    names["b_case"], _ = make("in_progress", agency="STNMT", **B_PERSON)
    names["sub_case"], names["sub_token"] = make("needs_info", **SUB_PERSON)
    names["other_case"], names["other_token"] = make("received", **OTHER_PERSON)
    with app.app_context(), transaction():
        user = world.user
        a_case = db.session.scalar(select(Feedback).where(Feedback.code == names["a_case"]))
        names["a_submitter_file"] = _upload(a_case, "canary-7Q ảnh hiện trạng.pdf").id
        apply_transition(a_case, "agency_request_info", user("officer_a"), {"message": A_REQUEST})
        apply_transition(a_case, "draft_answer", user("officer_a"), {**DRAFT, "body": A_DRAFT + " " + DRAFT["body"]})
        answer = db.session.scalar(select(Answer).where(Answer.feedback_id == a_case.id)
                                   .order_by(Answer.revision.desc()))
        names["a_file"] = _upload(a_case, A_FILE_NAME, user("officer_a"), answer).id
        b_case = db.session.scalar(select(Feedback).where(Feedback.code == names["b_case"]))
        names["b_file"] = _upload(b_case, "ho-so-b.pdf").id
        answered = db.session.scalar(select(Feedback).where(Feedback.code == names["a_answered"]))
        document = submit_with_document(answered, user("officer_a"), Signer(name="Cán bộ lead_a",
                                                                                 authority=("GIÁM ĐỐC",)),
                                        answered.version, utcnow())
        names["a_pdf"], names["a_docx"] = document.pdf_attachment_id, document.docx_attachment_id
        forwarded = db.session.scalar(select(Feedback).where(Feedback.code == names["a_forwarded"]))
        names["a_visit"] = db.session.scalar(select(StageVisit.id).where(
            StageVisit.feedback_id == forwarded.id, StageVisit.finished_at.is_(None)))
        plan = apply_import(parse_text(BEN_TRE.read_text(encoding="utf-8"))).plan
        names["plan"] = plan.id
        names["task"] = next(t.id for t in plan.tasks if not t.is_group)
        draft = PlanImport(filename="ke-hoach.txt", source_format="text", parsed={"tasks": []},
                           created_by_id=world.users["admin"])
        alias = AgencyAlias(name="Sở XD tỉnh", folded=fold("Sở XD tỉnh"), agency_id=world.agency_a,
                            created_by_id=world.users["admin"])
        saved = SavedFilter(user_id=world.users["clerk"], name="Của tôi", query="state=received")
        rule = RoutingRule(kind="keyword", agency_id=world.agency_a, priority=0, active=True,
                           created_by_id=world.users["lead"])
        rule.set_keyword("giấy phép")
        db.session.add_all([draft, alias, saved, rule])
        day_off = date(utcnow().year + 1, 10, 1)
        day_off += timedelta(days=(2 - day_off.weekday()) % 7)  # a Wednesday, no holiday
        add_overlay_day(day_off, "day_off", "Thông báo 9441/TB-BNV", user("admin"), utcnow())
        db.session.flush()
        outbox = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id))
        outbox.status, outbox.last_error = "dead", "550 mailbox unavailable"
        notice = Notification(user_id=world.users["clerk"], outbox_id=outbox.id, feedback_id=a_case.id,
                              kind="office.answer_submitted")
        db.session.add(notice)
        db.session.flush()
        from pakn.models import CalendarOverlay

        names.update(plan_import=draft.id, alias=alias.id, saved_filter=saved.id, rule=rule.id,
                     overlay=db.session.scalar(select(CalendarOverlay.id)), outbox_dead=outbox.id,
                     notification=notice.id)
    with app.app_context():
        for key in ("a_received", "a_forwarded", "a_case", "a_answered", "a_published", "b_case", "sub_case",
                    "other_case"):
            names[f"{key}_version"] = db.session.scalar(select(Feedback.version).where(Feedback.code == names[key]))
    names.update({f"{key}_id": uid for key, uid in world.users.items()})
    _seed_admin_and_open311(app, names)
    return names


def _seed_admin_and_open311(app, names: dict) -> None:
    """The objects the admin console, Open311 and the set-password link name: a level and a
    field id, an Open311 ``api_key`` (the ``open311`` scope only) and its row, and a valid reset
    link of ``clerk`` (the signed token of ``/auth/set-password/<token>``)."""
    from pakn.auth.password_links import link_for
    from pakn.auth.tokens import issue_token
    from pakn.models import AgencyLevel, Field

    world = names["world"]
    with app.app_context(), transaction():
        names["level"] = db.session.scalar(select(AgencyLevel.id).where(AgencyLevel.code == "so_nganh"))
        names["field"] = db.session.scalar(select(Field.id).where(Field.code == "xay_dung"))
        raw, row = issue_token(world.user("admin"), name="Cổng dịch vụ công", scopes=("open311",))
        names["open311_key"], names["open311_token"] = raw, row.id
        names["received_at"] = utcnow().isoformat()
    with app.test_request_context():
        link, _hours = link_for(world.user("clerk"), "reset")
        names["password_link"] = link.rsplit("/", 1)[1]


# -- the clients of every role ----------------------------------------------------------------
@dataclass
class RoleClient:
    """What a role holds between requests: its session cookie, CSRF token and bearer token."""

    role: str
    cookie: str | None = None
    csrf: str = ""
    headers: dict = field(default_factory=dict)

    def client(self, app):
        """A fresh test client with this role's session (nothing left over from an earlier request)."""
        c = app.test_client()
        if self.cookie:
            c.set_cookie(app.config["SESSION_COOKIE_NAME"], self.cookie)
        return c


def _session_cookie(app, client) -> str | None:
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return cookie.value if cookie else None


def _public_session(app, tracking: tuple[str, str] | None = None) -> tuple[str | None, str]:
    client = app.test_client()
    if tracking:
        code, token = tracking
        assert client.get(f"/tra-cuu/{code}?token={token}").status_code == 303
    html = client.get("/tra-cuu").get_data(as_text=True)
    return _session_cookie(app, client), csrf_token(html)


def _staff_session(app, key: str) -> tuple[str | None, str]:
    client = app.test_client()
    response = sign_in(client, f"{key}@pakn.test")  # password, then the second factor
    assert response.status_code == 302, (key, response.status_code)
    token = csrf_token(client.get("/tra-cuu").get_data(as_text=True))  # puts the CSRF secret in the session
    return _session_cookie(app, client), token


def role_clients(app, names: dict) -> dict[str, RoleClient]:
    """Log every role in once. ``disabled`` logs in while active, gets an API token, and is then
    deactivated: both must stop working at the next request."""
    from pakn.auth.tokens import issue_token

    world = names["world"]
    clients: dict[str, RoleClient] = {}
    clients["anon"] = RoleClient("anon", *_public_session(app))
    clients["sub"] = RoleClient("sub", *_public_session(app, (names["sub_case"], names["sub_token"])))
    clients["other_sub"] = RoleClient("other_sub", *_public_session(app, (names["other_case"], names["other_token"])))
    with app.app_context(), transaction():
        world.user("disabled").active = True
    for key in ROLES[3:]:
        cookie, token = _staff_session(app, key)
        with app.app_context(), transaction():
            raw, _ = issue_token(world.user(key))
        clients[key] = RoleClient(key, cookie, token, {"Authorization": f"Bearer {raw}"})
    with app.app_context(), transaction():
        world.user("disabled").active = False  # deactivated as an admin does: nothing else changes
    return clients


# -- a rollback around requests -----------------------------------------------------------------
class _JoinedSession(FlaskSession):
    """Flask-SQLAlchemy's session, bound to one connection whatever the model."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind or self.bind


@contextmanager
def rolled_back(app):
    """Everything the app commits inside the block is undone at its end.

    The app's ``db.session`` is swapped for one bound to a connection inside an outer
    transaction, with ``join_transaction_mode="create_savepoint"``: ``transaction()``'s commit
    releases a savepoint, the after-commit hooks run as usual, and the outer transaction is
    rolled back at the end.
    """
    with app.app_context():
        engine = db.engine
    connection = engine.connect()
    outer = connection.begin()
    if connection.dialect.name == "sqlite":
        # pysqlite opens its transaction lazily, and a SAVEPOINT outside one would commit on
        # RELEASE: open it now, so every savepoint nests inside.
        connection.exec_driver_sql("BEGIN")
    original = db.session
    db.session = scoped_session(sessionmaker(db=db, class_=_JoinedSession, query_cls=db.Query, bind=connection,
                                             join_transaction_mode="create_savepoint"), scopefunc=_app_ctx_id)
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()


def table_counts(app) -> dict[str, int]:
    """Rows per table: the world's fingerprint (a row that leaked a change shows here)."""
    from sqlalchemy import func

    with app.app_context():
        return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def placeholders(url: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", url))
