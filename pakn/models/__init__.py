"""The data model, one concept per module; importing this package registers every table."""
from .agency import Agency, AgencyLevel
from .answer import Answer
from .api_token import ApiToken
from .attachment import Attachment
from .audit import AuditEvent
from .calendar import CalendarOverlay
from .delivery import Delivery
from .feedback import Feedback, FeedbackCounter
from .field import Field
from .login_attempt import LoginAttempt
from .notification import Notification
from .outbox import OutboxMessage
from .plan import Plan, PlanTask
from .stage_visit import StageVisit
from .user import User

__all__ = [
    "Agency", "AgencyLevel", "Answer", "ApiToken", "Attachment", "AuditEvent", "CalendarOverlay",
    "Feedback", "FeedbackCounter", "Field", "LoginAttempt", "OutboxMessage", "Plan", "PlanTask",
    "StageVisit", "User",
]
__all__ += ["Delivery", "Notification"]
