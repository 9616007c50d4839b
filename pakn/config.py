"""Configuration: one class, every key documented where it is defined.

Environment variables override the defaults; ``create_app(config={...})`` overrides both
(tests use that). Nothing secret is a constant in the code.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

INSTANCE_DIR = Path(os.environ.get("PAKN_INSTANCE_DIR", Path(__file__).resolve().parent.parent / "instance"))


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value in (None, "") else value.strip().lower() in ("1", "true", "yes", "on")


def database_url(url: str | None) -> str:
    """Normalise a database URL; an empty one means the embedded SQLite file under instance/.

    ``postgres://`` and driverless ``postgresql://`` URLs get the psycopg 3 driver.
    """
    if not url:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{INSTANCE_DIR / 'pakn.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def secret_key() -> str:
    """``SECRET_KEY`` from the environment, or one generated once and kept in instance/secret_key."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        # Exclusive create: two processes starting at once cannot both write a key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        except FileExistsError:
            pass
    return path.read_text().strip()


class Config:
    """Defaults; read at app creation so that environment changes between apps apply."""

    def __init__(self) -> None:
        #: DATABASE_URL: PostgreSQL in production; unset = SQLite file instance/pakn.sqlite3.
        self.SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
        #: REDIS_URL: RQ queues; unset = jobs run in-process after commit (embedded default).
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        #: SECRET_KEY: signs sessions and CSRF tokens; generated once under instance/ when unset.
        self.SECRET_KEY = secret_key()
        #: All local dates and deadlines are in this zone; instants are stored in UTC.
        self.TIMEZONE = "Asia/Ho_Chi_Minh"
        self.BABEL_DEFAULT_LOCALE = "vi"
        self.BABEL_DEFAULT_TIMEZONE = self.TIMEZONE
        #: UI languages offered; Vietnamese first and default.
        self.LANGUAGES = ("vi", "en")

        #: Largest request body (uploads included), bytes; larger gets 413.
        self.MAX_CONTENT_LENGTH = _env_int("PAKN_MAX_CONTENT_LENGTH", 25 * 1024 * 1024)
        #: Largest JSON body accepted by the API, bytes; larger gets 413.
        self.API_MAX_JSON_BYTES = _env_int("PAKN_API_MAX_JSON_BYTES", 256 * 1024)
        #: Folder for uploaded files, outside any static folder.
        self.UPLOAD_FOLDER = os.environ.get("PAKN_UPLOAD_FOLDER", str(INSTANCE_DIR / "uploads"))
        #: Uploads (pakn.storage): most files per submission, bytes per file and in all.
        #: Keep UPLOAD_MAX_TOTAL_BYTES below MAX_CONTENT_LENGTH so the form fields still fit.
        self.UPLOAD_MAX_FILES = _env_int("PAKN_UPLOAD_MAX_FILES", 5)
        self.UPLOAD_MAX_FILE_BYTES = _env_int("PAKN_UPLOAD_MAX_FILE_BYTES", 10 * 1024 * 1024)
        self.UPLOAD_MAX_TOTAL_BYTES = _env_int("PAKN_UPLOAD_MAX_TOTAL_BYTES", 20 * 1024 * 1024)
        #: Largest image accepted, in pixels (checked from the header: decompression-bomb guard).
        self.UPLOAD_MAX_IMAGE_PIXELS = _env_int("PAKN_UPLOAD_MAX_IMAGE_PIXELS", 40_000_000)
        #: Largest total uncompressed size of a DOCX/XLSX (ZIP-bomb guard), bytes.
        self.UPLOAD_MAX_UNZIPPED_BYTES = _env_int("PAKN_UPLOAD_MAX_UNZIPPED_BYTES", 100 * 1024 * 1024)

        #: Cookies: Secure only over HTTPS (set PAKN_SECURE_COOKIES=1 in production).
        self.SESSION_COOKIE_SECURE = _env_bool("PAKN_SECURE_COOKIES", False)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        #: With Secure cookies the session cookie is named "__Host-session" (set in create_app):
        #: browsers then accept it only with Secure, Path=/ and no Domain, so a sibling
        #: subdomain cannot plant or shadow it (ASVS 3.3.3).
        self.SESSION_COOKIE_NAME = "session"
        #: Flask-Login's remember-me cookie is never issued (no "remember me"); its flags anyway:
        self.REMEMBER_COOKIE_DURATION = 0
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        #: A staff session lasts one working day at most.
        self.PERMANENT_SESSION_LIFETIME = _env_int("PAKN_SESSION_SECONDS", 10 * 3600)
        #: ...and ends after this many seconds without a request (ASVS 7.3.1).
        self.SESSION_IDLE_SECONDS = _env_int("PAKN_SESSION_IDLE_SECONDS", 30 * 60)
        self.WTF_CSRF_TIME_LIMIT = 4 * 3600

        #: API bearer tokens live this many hours.
        self.API_TOKEN_TTL_HOURS = _env_int("PAKN_API_TOKEN_TTL_HOURS", 12)
        #: One-time set-password links e-mailed by the admin console: an invitation, a reset (hours).
        self.PASSWORD_LINK_INVITE_HOURS = _env_int("PAKN_PASSWORD_LINK_INVITE_HOURS", 7 * 24)
        self.PASSWORD_LINK_RESET_HOURS = _env_int("PAKN_PASSWORD_LINK_RESET_HOURS", 24)
        #: Login throttling: failures per account before a lock, lock length, failures per address.
        self.LOGIN_MAX_FAILURES = _env_int("PAKN_LOGIN_MAX_FAILURES", 5)
        self.LOGIN_LOCK_MINUTES = _env_int("PAKN_LOGIN_LOCK_MINUTES", 15)
        self.LOGIN_IP_MAX_FAILURES = _env_int("PAKN_LOGIN_IP_MAX_FAILURES", 30)

        #: Clock settings (per province; defaults are the legal values, shared/domain.md).
        self.CLOCK = {
            "forward_days": _env_int("PAKN_FORWARD_DAYS", 5),  # working days to classify/forward
            "answer_days": _env_int("PAKN_ANSWER_DAYS", 20),  # days to answer, from receipt
            "answer_day_unit": os.environ.get("PAKN_ANSWER_DAY_UNIT", "calendar"),  # or "working"
            "check_days": _env_int("PAKN_CHECK_DAYS", 2),  # working days for the office check
            "publish_days": _env_int("PAKN_PUBLISH_DAYS", 2),  # working days to notify and publish
            "progress_update_days": _env_int("PAKN_PROGRESS_UPDATE_DAYS", 7),  # once overdue
        }
        #: Agency portal: an open case is "due soon" when its answer is due within this many days.
        self.AGENCY_DUE_SOON_DAYS = _env_int("PAKN_AGENCY_DUE_SOON_DAYS", 3)
        #: Number of reverse proxies in front of the app (0 = none): trust that many X-Forwarded-* hops.
        self.PROXY_COUNT = _env_int("PAKN_PROXY_COUNT", 0)
        #: Public base URL used in links sent by e-mail/SMS (tracking links).
        self.PUBLIC_BASE_URL = os.environ.get("PAKN_PUBLIC_BASE_URL", "http://127.0.0.1:5000")
        #: Name of the province shown in the UI and documents.
        self.PROVINCE_NAME = os.environ.get("PAKN_PROVINCE_NAME", "Vĩnh Long")
        #: Generated documents (pakn.documents): the place printed before the date (empty =
        #: PROVINCE_NAME), the parent body printed above the issuing body (empty = "UBND TỈNH
        #: <PROVINCE_NAME>"), the office's drafting unit in its symbols ("VP-KSTT") and in
        #: "Lưu: VT, KSTT.", and a folder with other DejaVuSerifCondensed*.ttf (empty = vendored).
        self.DOCUMENT_PLACE = os.environ.get("PAKN_DOCUMENT_PLACE", "")
        self.DOCUMENT_PARENT_BODY = os.environ.get("PAKN_DOCUMENT_PARENT_BODY", "")
        self.DOCUMENT_OFFICE_UNIT = os.environ.get("PAKN_DOCUMENT_OFFICE_UNIT", "KSTT")
        self.DOCUMENT_FONT_DIR = os.environ.get("PAKN_DOCUMENT_FONT_DIR", "")
        #: The authority lines above the office lead's name on the office's documents, "|"-separated.
        self.DOCUMENT_OFFICE_SIGNER_AUTHORITY = os.environ.get(
            "PAKN_DOCUMENT_OFFICE_SIGNER_AUTHORITY", "KT. CHÁNH VĂN PHÒNG|PHÓ CHÁNH VĂN PHÒNG")

        #: The office's published contacts, shown on the citizen guidance page (Art. 10, 13 NĐ 20/2008).
        self.OFFICE_ADDRESS = os.environ.get("PAKN_OFFICE_ADDRESS", "Số 88 đường 2/9, Phường 1, tỉnh Vĩnh Long")
        self.OFFICE_PHONE = os.environ.get("PAKN_OFFICE_PHONE", "0270 3822 000")
        self.OFFICE_EMAIL = os.environ.get("PAKN_OFFICE_EMAIL", "pakn@vinhlong.gov.vn")
        #: Per-client-address limits on the public forms (the limits library's syntax). Counted in Redis
        #: when REDIS_URL is set, in memory otherwise or while Redis is unreachable.
        self.PORTAL_SUBMIT_LIMIT = os.environ.get("PAKN_PORTAL_SUBMIT_LIMIT", "20 per hour;60 per day")
        self.PORTAL_LOOKUP_LIMIT = os.environ.get("PAKN_PORTAL_LOOKUP_LIMIT", "20 per 10 minutes")
        #: Open311 POST requests per client key (per client address when no key is given): one
        #: city app files for many citizens, so its limit is higher than a person's.
        self.OPEN311_POST_LIMIT = os.environ.get("PAKN_OPEN311_POST_LIMIT", "120 per hour;1000 per day")
        #: Published answers per page of the public list.
        self.PORTAL_PAGE_SIZE = _env_int("PAKN_PORTAL_PAGE_SIZE", 20)
        #: Longest life (s) of the answer list's cached counts and filter menus; any publication
        #: renews them at once (pakn.portal.public.PublicationCache). 0 turns the cache off.
        self.PORTAL_CACHE_SECONDS = _env_int("PAKN_PORTAL_CACHE_SECONDS", 3600)
        #: Longest life (s) of the staff lists' cached counts and pages (office and agency inboxes); any change of a
        #: case renews them at once (pakn.office.inbox.changes_cache). 0 turns the cache off.
        self.COUNT_CACHE_SECONDS = _env_int("PAKN_COUNT_CACHE_SECONDS", 30)

        #: Periodic PAKN reports (domain §8): the day each report window starts (1 = calendar
        #: quarters; 15 = from the 15th of the month before the period to the 14th of its last
        #: month) and, when the plan in force does not say, the day of the period's last month
        #: before which an agency's (25) and the office's consolidated (30) report is due.
        self.REPORT_WINDOW_START_DAY = _env_int("PAKN_REPORT_WINDOW_START_DAY", 1)
        self.REPORT_AGENCY_DUE_DAY = _env_int("PAKN_REPORT_AGENCY_DUE_DAY", 25)
        self.REPORT_OFFICE_DUE_DAY = _env_int("PAKN_REPORT_OFFICE_DUE_DAY", 30)

        # -- notifications (issue 7): outbox relay, RQ jobs, e-mail, SMS, in-app ---------------
        #: SMTP server for e-mail; empty = e-mail not configured (deliveries are recorded as skipped).
        self.SMTP_HOST = os.environ.get("PAKN_SMTP_HOST", "")
        self.SMTP_PORT = _env_int("PAKN_SMTP_PORT", 25)
        #: "none", "starttls" (usually port 587) or "ssl" (implicit TLS, usually port 465).
        self.SMTP_SECURITY = os.environ.get("PAKN_SMTP_SECURITY", "none")
        self.SMTP_USERNAME = os.environ.get("PAKN_SMTP_USERNAME", "")
        self.SMTP_PASSWORD = os.environ.get("PAKN_SMTP_PASSWORD", "")
        #: Seconds before an SMTP or SMS gateway call is abandoned (then retried).
        self.SMTP_TIMEOUT = _env_int("PAKN_SMTP_TIMEOUT", 30)
        #: From: of every e-mail; its domain also names the Message-IDs.
        self.MAIL_SENDER = os.environ.get("PAKN_MAIL_SENDER", "PAKN <no-reply@pakn.local>")
        #: SMS gateway: a JSON POST {"to", "text", "message_id"} with "Authorization: Bearer <token>";
        #: empty URL = SMS not configured (deliveries are recorded as skipped).
        self.SMS_GATEWAY_URL = os.environ.get("PAKN_SMS_GATEWAY_URL", "")
        self.SMS_GATEWAY_TOKEN = os.environ.get("PAKN_SMS_GATEWAY_TOKEN", "")
        #: SMS to submitters: "fallback" (only when there is no e-mail), "always" (both) or "never".
        self.SUBMITTER_SMS = os.environ.get("PAKN_SUBMITTER_SMS", "fallback")
        #: The public tracking page; links are <url>?ma=<code>[&token=<token>].
        self.TRACKING_URL = os.environ.get("PAKN_TRACKING_URL", self.PUBLIC_BASE_URL.rstrip("/") + "/tra-cuu")
        #: Run the relay right after each commit that wrote outbox rows (off only in the test suite,
        #: so that tests of other areas see their rows pending).
        self.NOTIFY_AFTER_COMMIT = _env_bool("PAKN_NOTIFY_AFTER_COMMIT", True)
        #: RQ queue of the delivery jobs.
        self.NOTIFY_QUEUE = os.environ.get("PAKN_NOTIFY_QUEUE", "notifications")
        #: Attempts before a row is given up (dead); backoff base and cap, seconds (capped doubling).
        self.NOTIFY_MAX_ATTEMPTS = _env_int("PAKN_NOTIFY_MAX_ATTEMPTS", 8)
        self.NOTIFY_RETRY_BASE = _env_int("PAKN_NOTIFY_RETRY_BASE", 30)
        self.NOTIFY_RETRY_CAP = _env_int("PAKN_NOTIFY_RETRY_CAP", 3600)
        #: A row claimed ("sending") longer ago than this is taken as abandoned (worker killed).
        self.NOTIFY_CLAIM_TIMEOUT = _env_int("PAKN_NOTIFY_CLAIM_TIMEOUT", 300)
        #: Outbox rows per RQ job: the relay enqueues one job per this many due rows (each row is
        #: still claimed and recorded on its own); 1 = one job per row.
        self.NOTIFY_BATCH_SIZE = max(_env_int("PAKN_NOTIFY_BATCH_SIZE", 20), 1)
        #: Web requests: milliseconds during which a process gathers the outbox rows its requests
        #: commit before one thread of it enqueues them, ``NOTIFY_BATCH_SIZE`` rows per job (a
        #: job per submission cost a busy form ≈ 6 % of its CPU); 0 = enqueue at each commit.
        #: Rows not yet enqueued when the process dies stay pending: ``pakn relay`` sends them.
        self.NOTIFY_HANDOFF_MS = max(_env_int("PAKN_NOTIFY_HANDOFF_MS", 200), 0)
        #: Seconds between two passes of `flask pakn relay`.
        self.RELAY_INTERVAL = _env_int("PAKN_RELAY_INTERVAL", 30)
        #: Local hour (Asia/Ho_Chi_Minh) from which the relay writes the day's digests.
        self.DIGEST_HOUR = _env_int("PAKN_DIGEST_HOUR", 7)

        #: (PostgreSQL: a pooled connection that died with its server is replaced at checkout
        #: by pakn.liveness, without pool_pre_ping's round trip.)
        self.SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
        self.JSON_SORT_KEYS = False

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k.isupper()}
