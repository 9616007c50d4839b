"""Bulk-load a province's ten years of PAKN into a throw-away PostgreSQL database.

    PAKN_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_suite \
        .venv/bin/python bench/generate.py [--cases 1000000] [--seed 11] [--now 2026-12-04]

THE DATABASE IS WIPED (its name must contain "bench"): the public schema is dropped and
rebuilt by the real migrations (``flask db upgrade``). Then, in one pass over the cases in
order of receipt, rows are streamed with COPY (psycopg ``cursor.copy``) into ``feedback``,
``stage_visit``, ``answer``, ``attachment``, ``audit_event`` and ``case_assignment``, one
connection per table, so memory stays flat whatever N is. Nothing goes through the web.

What the data looks like (deterministic for a given seed, N and --now):

* one province: the office (Văn phòng UBND tỉnh), 30 departments and 60 communes, 20 fields,
  staff accounts (office clerks and leads, an officer and a lead per agency, an admin);
* N cases received evenly over the ten years before --now, with Vietnamese titles and
  contents built from phrase lists, every channel (VPCP and API cases carry an external
  reference), kinds, subjects and content categories;
* states consistent with the CHECK constraints and with age: cases of the last weeks are
  spread over the pipeline (with an open stage visit whose due status matches --now), older
  ones are mostly published or closed, some rejected, merged or withdrawn, and about 1 % are
  still open long past their due date (the backlog an office really has);
* one stage visit per stage passed (classify, handle, check, publish) with due dates,
  outcomes and agencies; audit events for each transition (what the reports count);
  an answer for every case that got one; attachment metadata on about a fifth of the cases;
  the published texts and the folded search columns computed with ``pakn.text.fold``, as the
  ORM would.

Foreign keys are not checked row by row during the load (``session_replication_role =
replica``; the generator only references rows it wrote) and secondary indexes are dropped
before and rebuilt after it, then ``VACUUM ANALYZE``. Each case's tracking token is
``bench-<seed>-<id>``, so the load scripts can open a citizen's tracking page.
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import random
import resource
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pakn.text import fold  # noqa: E402

_fold_cached = functools.lru_cache(maxsize=100_000)(fold)


def fold_parts(*parts) -> str:
    """``fold`` of the parts joined by spaces, from cached folds of phrases (a part may be a list
    of sentences). Equal to ``fold(" ".join(parts))`` because every phrase is stripped and
    diacritics never cross a space; the first cases of each load check that equality."""
    out = []
    for part in parts:
        if isinstance(part, list):
            out.extend(_fold_cached(x) for x in part)
        elif part:
            out.append(_fold_cached(part))
    return " ".join(out)

DAY = timedelta(days=1)
VN = timezone(timedelta(hours=7))
YEARS = 10

FIELDS = ["Đất đai", "Xây dựng", "Giao thông vận tải", "Tài nguyên và môi trường", "Thuế", "Hải quan",
          "Đăng ký kinh doanh", "Đầu tư", "Lao động, việc làm", "Bảo hiểm xã hội", "Y tế", "Giáo dục và đào tạo",
          "Hộ tịch", "Cư trú", "Tư pháp", "Nông nghiệp", "Công thương", "Văn hóa, thể thao và du lịch",
          "Thông tin và truyền thông", "Tài chính"]
DEPARTMENTS = ["Sở Tài nguyên và Môi trường", "Sở Xây dựng", "Sở Giao thông vận tải", "Sở Tài chính",
               "Sở Kế hoạch và Đầu tư", "Sở Lao động - Thương binh và Xã hội", "Sở Y tế", "Sở Giáo dục và Đào tạo",
               "Sở Tư pháp", "Sở Nông nghiệp và Phát triển nông thôn", "Sở Công Thương",
               "Sở Văn hóa, Thể thao và Du lịch", "Sở Thông tin và Truyền thông", "Sở Nội vụ", "Sở Khoa học và Công nghệ",
               "Ban Quản lý các khu công nghiệp", "Công an tỉnh", "Cục Thuế tỉnh", "Bảo hiểm xã hội tỉnh",
               "Ban Dân tộc", "Thanh tra tỉnh", "Sở Ngoại vụ", "Ban Quản lý dự án đầu tư xây dựng",
               "Cục Hải quan tỉnh", "Kho bạc Nhà nước tỉnh", "Sở Quy hoạch - Kiến trúc", "Ban Quản lý khu kinh tế",
               "Trung tâm Phục vụ hành chính công", "Văn phòng Đăng ký đất đai", "Quỹ Đầu tư phát triển"]
COMMUNE_NAMES = ["An Bình", "Tân Hòa", "Long Hồ", "Phước Hậu", "Hòa Phú", "Thanh Đức", "Tân Ngãi", "Trường An",
                 "Mỹ Thuận", "Nhơn Phú", "Bình Minh", "Đông Thành", "Tam Bình", "Song Phú", "Trà Ôn", "Vũng Liêm",
                 "Quới Thiện", "Trung Thành", "Hiếu Phụng", "Mang Thít", "Chánh An", "Cái Nhum", "Tân Quới",
                 "Bình Tân", "Thành Lợi", "Tân Lược", "Mỹ Hòa", "Ngãi Tứ", "Hòa Hiệp", "Cái Ngang"]
PROBLEMS = ["Thời gian giải quyết", "Hồ sơ phải nộp", "Phí, lệ phí", "Yêu cầu bổ sung giấy tờ", "Thủ tục cấp phép",
            "Quy trình thẩm định", "Việc tiếp nhận hồ sơ trực tuyến", "Thái độ tiếp công dân", "Mẫu tờ khai",
            "Điều kiện cấp giấy chứng nhận", "Việc trả kết quả", "Quy định về chứng thực bản sao"]
SUBJECTS = ["cấp giấy chứng nhận quyền sử dụng đất", "cấp giấy phép xây dựng nhà ở riêng lẻ", "đăng ký hộ kinh doanh",
            "đăng ký khai sinh", "chuyển đổi mục đích sử dụng đất", "cấp đổi giấy phép lái xe",
            "đăng ký thường trú", "hoàn thuế giá trị gia tăng", "cấp phiếu lý lịch tư pháp",
            "thẩm định thiết kế phòng cháy", "cấp giấy phép kinh doanh rượu", "hỗ trợ người lao động mất việc",
            "xác nhận tình trạng hôn nhân", "cấp giấy phép khai thác nước ngầm", "đăng ký biến động đất đai"]
PLACES = ["tại Bộ phận một cửa", "trên Cổng dịch vụ công", "tại Trung tâm Phục vụ hành chính công",
          "ở cấp xã", "tại Văn phòng Đăng ký đất đai", "khi nộp hồ sơ qua bưu chính"]
SENTENCES = [
    "Tôi đã nộp hồ sơ {s} từ {d} ngày trước nhưng đến nay vẫn chưa nhận được kết quả.",
    "Cán bộ yêu cầu bổ sung nhiều lần, mỗi lần một loại giấy tờ khác nhau.",
    "Quy định hiện hành yêu cầu bản sao có chứng thực dù đã có dữ liệu trên hệ thống.",
    "Thời hạn giải quyết theo quy định là {d} ngày làm việc nhưng thực tế kéo dài hơn nhiều.",
    "Mức phí {s} chưa được niêm yết công khai tại nơi tiếp nhận.",
    "Tôi đề nghị cơ quan có thẩm quyền xem xét, hướng dẫn cụ thể để người dân thực hiện thuận lợi.",
    "Hệ thống dịch vụ công trực tuyến thường xuyên bị lỗi khi tải tệp đính kèm.",
    "Người dân phải đi lại nhiều lần, ảnh hưởng đến thời gian và chi phí.",
    "Doanh nghiệp chúng tôi gặp khó khăn do quy định chưa thống nhất giữa các cơ quan.",
    "Đề nghị rút ngắn thời gian giải quyết và cho phép nộp hồ sơ hoàn toàn trực tuyến.",
]
ANSWERS = [
    "Qua kiểm tra, hồ sơ của ông/bà đã được giải quyết và trả kết quả ngày {d}.",
    "Cơ quan đã chấn chỉnh việc yêu cầu bổ sung giấy tờ không đúng quy định.",
    "Quy định nêu trên đã được kiến nghị sửa đổi, bổ sung cho phù hợp thực tế.",
    "Mức phí đã được niêm yết công khai theo đúng quy định của Hội đồng nhân dân tỉnh.",
    "Cơ quan giữ nguyên quy định và giải thích căn cứ pháp lý cho người dân.",
    "Đã hướng dẫn người dân thực hiện thủ tục trên Cổng dịch vụ công của tỉnh.",
]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
MIDDLE = ["Văn", "Thị", "Minh", "Thanh", "Quốc", "Ngọc", "Hữu", "Thu", "Đức", "Kim"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hạnh", "Hùng", "Lan", "Linh", "Long", "Mai", "Nam", "Phúc",
         "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Uyên", "Vy", "Yến"]
CHANNELS = [("web", 55), ("email", 10), ("post", 10), ("phone", 8), ("in_person", 7), ("vpcp", 5), ("api", 5)]
REJECT = ["complaint", "denunciation", "legal_question", "legal_document", "missing_identity", "unclear", "duplicate"]
OUTCOMES = ["amend", "repeal", "propose", "new_rule", "keep", "conduct"]
CATEGORIES = ["1", "2", "3", "4", "5", "6", "7", "8"]
ATTACH_TYPES = [("giay-to.pdf", "application/pdf"), ("anh-chup.jpg", "image/jpeg"),
                ("don-de-nghi.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]
# The pipeline by age: (max age in days, [(state, weight)…]); older than the last row: "old".
RECENT = [
    (5, [("received", 55), ("needs_info", 5), ("forwarded", 15), ("in_progress", 25)]),
    (30, [("received", 4), ("returned", 2), ("forwarded", 6), ("in_progress", 45), ("draft_pending_approval", 10),
          ("answer_approved", 5), ("answered", 12), ("answer_accepted", 6), ("notified", 6), ("rejected", 4)]),
    (90, [("in_progress", 10), ("answered", 4), ("notified", 4), ("published", 52), ("closed", 12),
          ("rejected", 12), ("merged", 3), ("withdrawn", 3)]),
]
OLD = [("published", 50), ("closed", 31), ("rejected", 12), ("merged", 3), ("withdrawn", 3), ("in_progress", 1)]
CLASSIFY = {"received", "needs_info", "returned"}
HANDLE = {"forwarded", "in_progress", "draft_pending_approval", "answer_approved"}
TABLES = ("feedback", "stage_visit", "answer", "attachment", "audit_event", "case_assignment")


def weighted(rng: random.Random, pairs):
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def person(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def tracking_token(seed: int, case_id: int) -> str:
    return f"bench-{seed}-{case_id}"


def local_day(moment: datetime) -> date:
    return moment.astimezone(VN).date()


def end_of_local_day(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=VN).astimezone(timezone.utc)


def reset_schema(url: str) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from pakn import create_app
    from pakn.config import database_url

    import psycopg

    base, _, name = url.replace("postgresql+psycopg://", "postgresql://", 1).rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:  # run alone on a new machine
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    engine = create_engine(database_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))


class Province:
    """Agencies, fields and staff, inserted with plain SQL; ids are fixed."""

    def __init__(self, conn, rng: random.Random, now: datetime):
        from werkzeug.security import generate_password_hash

        self.office = 1
        created = now - YEARS * 366 * DAY
        cur = conn.cursor()
        cur.execute("INSERT INTO agency_level (id, code, name, rank) VALUES (1, 'tinh', 'Cấp tỉnh', 0),"
                    " (2, 'so', 'Sở, ban, ngành', 1), (3, 'xa', 'Cấp xã', 2)")
        agencies = [(1, "VP", "Văn phòng UBND tỉnh", 1, True)]
        agencies += [(i + 2, f"S{i + 1:02d}", name, 2, False) for i, name in enumerate(DEPARTMENTS)]
        base = len(agencies) + 1
        agencies += [(base + i, f"X{i + 1:02d}", f"UBND {kind} {name}", 3, False)
                     for i, (kind, name) in enumerate((k, n) for k in ("xã", "phường") for n in COMMUNE_NAMES)]
        for aid, code, name, level, office in agencies:
            cur.execute("INSERT INTO agency (id, code, name, level_id, parent_id, is_office, active, email, created_at)"
                        " VALUES (%s, %s, %s, %s, %s, %s, true, %s, %s)",
                        (aid, code, name, level, None if office else 1, office, f"{code.lower()}@bench.gov.vn",
                         created))
        self.agencies = [a[0] for a in agencies if not a[4]]
        self.departments = [a[0] for a in agencies if a[3] == 2]
        for i, name in enumerate(FIELDS, 1):
            cur.execute("INSERT INTO field (id, code, name, active) VALUES (%s, %s, %s, true)",
                        (i, f"LV{i:02d}", name))
        self.fields = list(range(1, len(FIELDS) + 1))
        pw = generate_password_hash("bench-password", method="scrypt")
        users = [("admin@bench.gov.vn", "Quản trị hệ thống", "admin", None)]
        users += [(f"vp{i}@bench.gov.vn", person(rng), "office_clerk", 1) for i in range(1, 6)]
        users += [("ldvp@bench.gov.vn", person(rng), "office_lead", 1)]
        for aid, code, *_ in agencies[1:]:
            users += [(f"cv.{code.lower()}@bench.gov.vn", person(rng), "agency_officer", aid),
                      (f"ld.{code.lower()}@bench.gov.vn", person(rng), "agency_lead", aid)]
        for uid, (email, name, role, agency) in enumerate(users, 1):
            cur.execute("INSERT INTO app_user (id, email, full_name, password_hash, role, agency_id, active,"
                        " session_version, created_at) VALUES (%s, %s, %s, %s, %s, %s, true, 1, %s)",
                        (uid, email, name, pw, role, agency, created))
        self.clerks = [i for i, u in enumerate(users, 1) if u[2] == "office_clerk"]
        self.officer_of = {u[3]: i for i, u in enumerate(users, 1) if u[2] == "agency_officer"}
        self.lead_of = {u[3]: i for i, u in enumerate(users, 1) if u[2] == "agency_lead"}
        self.office_lead = next(i for i, u in enumerate(users, 1) if u[2] == "office_lead")
        for table in ("agency_level", "agency", "field", "app_user"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


class Writers:
    """One connection and one open COPY per table, fed row by row."""

    COLUMNS = {
        "feedback": ("id", "code", "tracking_token_hash", "kind", "subject", "content_category", "field_id", "title",
                     "content", "proposal", "channel", "external_ref", "submitter_name", "submitter_organisation",
                     "submitter_address", "submitter_phone", "submitter_email", "received_at", "state", "agency_id",
                     "assignee_id", "answer_due_at", "answer_paused_days", "reject_reason_code", "reject_guidance",
                     "duplicate_of_id", "withdrawn_at", "withdraw_reason", "answered_at", "public_title",
                     "public_summary", "public_answer", "published_at", "closed_at", "created_at", "updated_at",
                     "version", "search_text", "public_search_text"),
        "stage_visit": ("id", "feedback_id", "stage", "entered_at", "due_at", "due_date", "rule", "agency_id",
                        "finished_at", "outcome", "remind_at", "due_status", "paused_days", "progress_seq"),
        "answer": ("id", "feedback_id", "revision", "agency_id", "status", "summary", "findings", "outcome",
                   "body", "author_id", "created_at", "reviewed_by_id", "reviewed_at", "document_number",
                   "document_date", "submitted_at"),
        "attachment": ("id", "feedback_id", "original_name", "stored_name", "content_type", "size", "sha256",
                       "is_public", "created_at"),
        "audit_event": ("id", "at", "feedback_id", "actor_id", "actor_role", "actor_label", "action", "from_state",
                        "to_state", "version", "data"),
        "case_assignment": ("feedback_id", "clerk_id", "assigned_by_id", "assigned_at"),
    }

    def __init__(self, url: str):
        import psycopg

        self.conns, self.copies, self._ctx, self.ids, self.counts = {}, {}, {}, {}, {}
        for table in TABLES:
            conn = psycopg.connect(url)
            conn.execute("SET session_replication_role = replica")
            ctx = conn.cursor().copy(f"COPY {table} ({', '.join(self.COLUMNS[table])}) FROM STDIN")
            self.conns[table], self._ctx[table] = conn, ctx
            self.copies[table] = ctx.__enter__()
            self.ids[table] = 0
            self.counts[table] = 0

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def write(self, table: str, row) -> None:
        self.copies[table].write_row(row)
        self.counts[table] += 1

    def finish(self) -> None:
        for table in TABLES:
            self._ctx[table].__exit__(None, None, None)
            self.conns[table].commit()
            self.conns[table].close()


class Generator:
    def __init__(self, rng: random.Random, province: Province, out: Writers, seed: int, now: datetime):
        self.rng, self.p, self.out, self.seed, self.now = rng, province, out, seed, now
        self.year_seq: dict[int, int] = {}

    def sentences(self, n: int) -> list[str]:
        rng = self.rng
        return [rng.choice(SENTENCES).format(s=rng.choice(SUBJECTS), d=rng.randint(5, 60)) for _ in range(n)]

    def state_for(self, age_days: float) -> str:
        for limit, pairs in RECENT:
            if age_days < limit:
                return weighted(self.rng, pairs)
        return weighted(self.rng, OLD)

    def visit(self, case_id, stage, entered, due, agency, finished=None, outcome=None):
        rule = {"classify": ("forward_days", 5, "working"), "handle": ("answer_days", 20, "calendar"),
                "check": ("check_days", 2, "working"), "publish": ("publish_days", 2, "working")}[stage]
        remind = due - 2 * DAY
        if finished is None:
            status = "overdue" if due < self.now else "due_soon" if remind <= self.now else "pending"
        else:
            status = "overdue" if finished > due else "pending"
        self.out.write("stage_visit", (
            self.out.next_id("stage_visit"), case_id, stage, entered, due, local_day(due),
            json.dumps({"setting": rule[0], "days": rule[1], "unit": rule[2]}), agency, finished, outcome,
            remind, status, 0, 0))

    def audit(self, case_id, at, action, from_state, to_state, version, role="office_clerk", actor=None, label=""):
        self.out.write("audit_event", (self.out.next_id("audit_event"), at, case_id, actor, role, label or role,
                                       action, from_state, to_state, version, "{}"))

    def case(self, case_id: int, received: datetime) -> None:
        rng, p, now = self.rng, self.p, self.now
        year = received.astimezone(VN).year
        seq = self.year_seq[year] = self.year_seq.get(year, 0) + 1
        code = f"PAKN-{year}-{seq:06d}"
        age = (now - received) / DAY
        state = self.state_for(age)
        if state == "merged" and case_id < 3:
            state = "rejected"
        channel = weighted(rng, CHANNELS)
        kind = "kien_nghi" if rng.random() < 0.35 else "phan_anh"
        title = f"{rng.choice(PROBLEMS)} {rng.choice(SUBJECTS)} {rng.choice(PLACES)}"
        content_parts = self.sentences(rng.randint(2, 5))
        content = " ".join(content_parts)
        proposal = self.sentences(1)[0] if kind == "kien_nghi" else None
        name = person(rng)
        organisation = f"Công ty TNHH {rng.choice(GIVEN)} {rng.choice(COMMUNE_NAMES)}" if rng.random() < 0.2 else None
        address = f"Số {rng.randint(1, 300)}, ấp {rng.randint(1, 9)}, {rng.choice(COMMUNE_NAMES)}"
        phone = f"09{rng.randint(10000000, 99999999)}" if rng.random() < 0.85 else None
        email = f"nguoidan{case_id}@example.vn" if phone is None or rng.random() < 0.4 else None
        external = f"{channel.upper()}-{case_id}" if channel in ("vpcp", "api") else None
        field = rng.choice(p.fields) if rng.random() < 0.92 else None
        answer_due = end_of_local_day(local_day(received + 20 * DAY))
        # The classify visit, and how the office decided.
        classify_due = end_of_local_day(local_day(received + 7 * DAY))
        t_classified = received + rng.uniform(0.2, 6.5) * DAY
        in_office = rng.random() < 0.1
        if in_office and state == "forwarded":
            state = "in_progress"
        agency = p.office if in_office else rng.choice(p.agencies)
        subject = rng.choice(("quy_dinh", "hanh_vi")) if state not in CLASSIFY else None
        category = rng.choice(CATEGORIES) if subject else None
        version = 1
        self.audit(case_id, received, "receive", None, "received", version, "submitter", None, name)
        row = dict(agency_id=None, assignee_id=None, reject_reason_code=None, reject_guidance=None,
                   duplicate_of_id=None, withdrawn_at=None, withdraw_reason=None, answered_at=None,
                   public_title=None, public_summary=None, public_answer=None, published_at=None, closed_at=None)
        last = received
        clerk = rng.choice(p.clerks)
        if state in CLASSIFY:
            if state == "returned":
                self.visit(case_id, "classify", received, classify_due, p.office, t_classified, "forward")
                self.audit(case_id, t_classified, "forward", "received", "forwarded", 2, "office_clerk", clerk)
                back = min(now - 0.1 * DAY, t_classified + 0.5 * DAY)
                self.visit(case_id, "handle", t_classified, answer_due, agency, back, "return_not_competent")
                self.visit(case_id, "classify", back, end_of_local_day(local_day(back + 7 * DAY)), p.office)
                self.audit(case_id, back, "return_not_competent", "forwarded", "returned", 3, "agency_officer")
                version, last = 3, back
            else:
                self.visit(case_id, "classify", received, classify_due, p.office)
                if state == "needs_info":
                    asked = received + min(age * 0.5, 1) * DAY
                    self.audit(case_id, asked, "request_info", "received", "needs_info", 2, "office_clerk", clerk)
                    version, last = 2, asked
            if rng.random() < 0.7:
                self.out.write("case_assignment", (case_id, clerk, p.office_lead, received + 0.1 * DAY))
        elif state in ("rejected", "merged", "withdrawn"):
            ended = min(t_classified, now - 0.01 * DAY)
            trigger = {"rejected": "reject", "merged": "merge", "withdrawn": "withdraw"}[state]
            self.visit(case_id, "classify", received, classify_due, p.office, ended, trigger)
            self.audit(case_id, ended, trigger, "received", state, 2,
                       "submitter" if state == "withdrawn" else "office_clerk", None if state == "withdrawn" else clerk)
            version, last = 2, ended
            if state == "rejected":
                row["reject_reason_code"] = rng.choice(REJECT)
                row["reject_guidance"] = "Đề nghị ông/bà gửi đến cơ quan có thẩm quyền theo hướng dẫn."
            elif state == "merged":
                row["duplicate_of_id"] = max(1, case_id - rng.randint(1, 50))
            else:
                row["withdrawn_at"] = ended
                row["withdraw_reason"] = "Vấn đề đã được giải quyết."
        else:
            # Forwarded (or handled in the office): the handle visit and, further on, the answer.
            t_classified = min(t_classified, received + max(age * 0.3, 0.01) * DAY)
            trigger = "handle_in_office" if in_office else "forward"
            self.visit(case_id, "classify", received, classify_due, p.office, t_classified, trigger)
            self.audit(case_id, t_classified, trigger, "received", "in_progress" if in_office else "forwarded", 2,
                       "office_clerk", clerk)
            row["agency_id"] = agency
            version, last = 2, t_classified
            officer = p.officer_of.get(agency) if not in_office else clerk
            if state not in ("forwarded",) and not in_office:
                accepted = t_classified + min(rng.uniform(0.1, 2), max((now - t_classified) / DAY * 0.5, 0.01)) * DAY
                self.audit(case_id, accepted, "accept", "forwarded", "in_progress", 3, "agency_officer", officer)
                version, last = 3, accepted
                row["assignee_id"] = officer
            if state in HANDLE:
                self.visit(case_id, "handle", t_classified, answer_due, agency)
                if state in ("draft_pending_approval", "answer_approved"):
                    self.answer(case_id, agency, "pending_approval" if state == "draft_pending_approval"
                                else "approved", last, officer, None)
            else:
                # Answered at some point before now; late for about one case in six.
                span = max((now - last) / DAY, 0.02)
                t_answer = last + min(rng.uniform(2, 24), span * 0.6) * DAY
                self.visit(case_id, "handle", t_classified, answer_due, agency, t_answer, "submit_answer")
                self.audit(case_id, t_answer, "submit_answer", "answer_approved", "answered", version + 1,
                           "agency_lead", p.lead_of.get(agency))
                row["answered_at"] = t_answer
                version, last = version + 1, t_answer
                answer_parts = [rng.choice(ANSWERS).format(d=local_day(t_answer).strftime("%d/%m/%Y"))
                                for _ in range(rng.randint(2, 4))]
                answer_text = " ".join(answer_parts)
                self.answer(case_id, agency, "submitted" if state == "answered" else "accepted", t_answer, officer,
                            t_answer, answer_text)
                check_due = end_of_local_day(local_day(t_answer + 3 * DAY))
                if state == "answered":
                    self.visit(case_id, "check", t_answer, check_due, p.office)
                else:
                    t_accept = t_answer + min(rng.uniform(0.2, 3), (now - t_answer) / DAY * 0.5) * DAY
                    self.visit(case_id, "check", t_answer, check_due, p.office, t_accept, "accept_answer")
                    self.audit(case_id, t_accept, "accept_answer", "answered", "answer_accepted", version + 1,
                               "office_clerk", clerk)
                    version, last = version + 1, t_accept
                    publish_due = end_of_local_day(local_day(t_accept + 3 * DAY))
                    if state in ("answer_accepted", "notified"):
                        if state == "notified":
                            t_notify = t_accept + (now - t_accept) * 0.3
                            self.audit(case_id, t_notify, "notify", "answer_accepted", "notified", version + 1,
                                       "office_clerk", clerk)
                            version, last = version + 1, t_notify
                        self.visit(case_id, "publish", t_accept, publish_due, p.office)
                    else:
                        t_pub = t_accept + min(rng.uniform(0.5, 3), (now - t_accept) / DAY * 0.5) * DAY
                        self.visit(case_id, "publish", t_accept, publish_due, p.office, t_pub, "publish")
                        self.audit(case_id, t_pub, "notify", "answer_accepted", "notified", version + 1,
                                   "office_clerk", clerk)
                        self.audit(case_id, t_pub, "publish", "notified", "published", version + 2,
                                   "office_clerk", clerk)
                        version, last = version + 2, t_pub
                        row["published_at"] = t_pub
                        row["public_title"] = title
                        row["public_summary"] = content_parts[0]
                        row["public_answer"] = answer_text
                        if state == "closed":
                            t_close = t_pub + min(30, (now - t_pub) / DAY * 0.5) * DAY
                            self.audit(case_id, t_close, "close", "published", "closed", version + 1,
                                       "office_clerk", clerk)
                            version, last = version + 1, t_close
                            row["closed_at"] = t_close
                if state in ("answered", "answer_accepted", "notified") and rng.random() < 0.7:
                    self.out.write("case_assignment", (case_id, clerk, p.office_lead, t_answer))
        if rng.random() < 0.2:
            for k in range(rng.randint(1, 2)):
                original, ctype = rng.choice(ATTACH_TYPES)
                digest = hashlib.sha256(f"{self.seed}:{case_id}:{k}".encode()).hexdigest()
                self.out.write("attachment", (self.out.next_id("attachment"), case_id, original, digest[:32], ctype,
                                              rng.randint(20_000, 3_000_000), digest, False, received))
        search = fold_parts(code, title, content_parts, proposal, name, organisation, external)
        public = fold_parts(title, content_parts[0], answer_parts) if row["published_at"] else None
        if case_id <= 2000:  # the cached folding must give exactly what the ORM would store
            assert search == fold(code, title, content, proposal, name, organisation, external), case_id
            assert public == (fold(row["public_title"], row["public_summary"], row["public_answer"])
                              if row["published_at"] else None), case_id
        token_hash = hashlib.sha256(tracking_token(self.seed, case_id).encode()).hexdigest()
        self.out.write("feedback", (
            case_id, code, token_hash, kind, subject, category, field, title, content, proposal, channel, external,
            name, organisation, address, phone, email, received, state, row["agency_id"], row["assignee_id"],
            answer_due, 0, row["reject_reason_code"], row["reject_guidance"], row["duplicate_of_id"],
            row["withdrawn_at"], row["withdraw_reason"], row["answered_at"], row["public_title"],
            row["public_summary"], row["public_answer"], row["published_at"], row["closed_at"], received, last,
            version, search, public))

    def answer(self, case_id, agency, status, at, author, submitted, body=None):
        rng = self.rng
        body = body or " ".join(rng.choice(ANSWERS).format(d=local_day(at).strftime("%d/%m/%Y")) for _ in range(2))
        reviewed = status in ("approved", "submitted", "accepted")
        self.out.write("answer", (
            self.out.next_id("answer"), case_id, 1, agency, status, body.split(".")[0] + ".",
            "Qua xác minh, nội dung phản ánh có cơ sở một phần.", rng.choice(OUTCOMES), body, author, at,
            self.p.lead_of.get(agency) if reviewed else None, at if reviewed else None,
            f"{rng.randint(1, 999)}/CV-{agency}" if submitted else None, local_day(at) if submitted else None,
            submitted))


def secondary_indexes(cur) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of the loaded tables that back no constraint."""
    cur.execute("""SELECT i.indexname, i.indexdef FROM pg_indexes i
                   WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
                (list(TABLES),))
    return cur.fetchall()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--now", default=None, help="the load's 'today' (YYYY-MM-DD, default: today, UTC)")
    a = ap.parse_args()
    url = os.environ.get("PAKN_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_suite")
    if "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit("refusing to wipe a database whose name does not contain 'bench'")
    today = date.fromisoformat(a.now) if a.now else datetime.now(timezone.utc).date()
    now = datetime(today.year, today.month, today.day, 1, 0, tzinfo=timezone.utc)  # 08:00 in Vietnam
    started = time.perf_counter()
    print(f"generate: {a.cases:,} cases, seed {a.seed}, now {now.isoformat()}; migrating …", flush=True)
    reset_schema(url)
    import psycopg

    pg_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    rng = random.Random(a.seed)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        province = Province(conn, rng, now)
        indexes = secondary_indexes(conn.cursor())
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
    out = Writers(pg_url)
    gen = Generator(rng, province, out, a.seed, now)
    start = now - YEARS * 365 * DAY
    step = (now - timedelta(minutes=30) - start) / a.cases
    tick = time.perf_counter()
    for case_id in range(1, a.cases + 1):
        received = start + step * (case_id - 1) + timedelta(seconds=rng.uniform(0, min(step.total_seconds(), 600)))
        gen.case(case_id, received)
        if case_id % 50_000 == 0 or case_id == a.cases:
            rate = case_id / (time.perf_counter() - tick)
            print(f"  {case_id:,} cases ({rate:,.0f}/s), peak RSS "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)
    out.finish()
    load_s = time.perf_counter() - started
    print("  rows: " + ", ".join(f"{t} {n:,}" for t, n in out.counts.items()), flush=True)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        cur = conn.cursor()
        for year, last in sorted(gen.year_seq.items()):
            cur.execute("INSERT INTO feedback_counter (year, last_value) VALUES (%s, %s)", (year, last))
        for table in ("feedback", "stage_visit", "answer", "attachment", "audit_event"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" GREATEST((SELECT max(id) FROM {table}), 1))")
        t0 = time.perf_counter()
        cur.execute("SET maintenance_work_mem = '256MB'")
        for name, definition in indexes:
            cur.execute(definition)
        print(f"  {len(indexes)} secondary indexes rebuilt in {time.perf_counter() - t0:.1f} s", flush=True)
        t0 = time.perf_counter()
        cur.execute("VACUUM ANALYZE")
        print(f"  VACUUM ANALYZE {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"generate: done in {time.perf_counter() - started:.0f} s (rows streamed in {load_s:.0f} s); "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)


if __name__ == "__main__":
    main()
