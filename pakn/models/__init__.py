"""The data model, one concept per module; importing this package registers every table."""
from .agency import Agency, AgencyLevel
from .agency_alias import AgencyAlias
from .answer import Answer
from .api_token import ApiToken
from .attachment import Attachment
from .audit import AuditEvent
from .calendar import CalendarOverlay
from .case_assignment import CaseAssignment
from .clock_setting import ClockSetting
from .deadline_notice import DeadlineNotice
from .delivery import Delivery
from .document import DOCUMENT_KINDS, GeneratedDocument
from .document_register import DocumentRegister
from .feedback import Feedback, FeedbackCounter
from .field import Field
from .login_attempt import LoginAttempt
from .notification import Notification
from .outbox import OutboxMessage
from .plan import Plan, PlanImport, PlanTask, PlanTaskUnit
from .province_setting import ProvinceSetting
from .recovery_code import RecoveryCode
from .report_filing import ReportFiling
from .routing_rule import RoutingRule
from .saved_filter import SavedFilter
from .stage_visit import StageVisit
from .submission_key import SubmissionKey
from .user import User

__all__ = [
    "Agency", "AgencyAlias", "AgencyLevel", "Answer", "ApiToken", "Attachment", "AuditEvent",
    "CalendarOverlay", "CaseAssignment", "ClockSetting", "DOCUMENT_KINDS", "DeadlineNotice",
    "DocumentRegister", "Feedback", "FeedbackCounter", "Field", "GeneratedDocument", "LoginAttempt",
    "OutboxMessage", "Plan", "PlanImport", "PlanTask", "PlanTaskUnit", "ReportFiling", "RoutingRule",
    "SavedFilter", "StageVisit", "SubmissionKey", "User",
]
__all__ += ["Delivery", "Notification"]
__all__ += ["ProvinceSetting"]
__all__ += ["RecoveryCode"]
