"""Per-province settings an admin edits at /admin/settings; each row overrides a config default."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import JSONType, UTCDateTime, utcnow


class ProvinceSetting(db.Model):
    """The value of one setting (``key`` is the config key it overrides, e.g. ``OFFICE_PHONE``).

    No row: the default from :mod:`pakn.config` (the environment) applies. Read through
    :func:`pakn.settings.value`, never from ``app.config`` directly.
    """

    __tablename__ = "province_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[object] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
