"""Template filters every page uses: instants shown in the province's time zone (Asia/Ho_Chi_Minh)."""
from __future__ import annotations

from datetime import datetime

from workflows.calendar import TZ

from ..richtext import rich
from . import bp


@bp.app_template_filter("localdate")
def localdate(moment: datetime | None) -> str:
    """``23/11/2026``; empty for None."""
    return moment.astimezone(TZ).strftime("%d/%m/%Y") if moment else ""


@bp.app_template_filter("localtime")
def localtime(moment: datetime | None) -> str:
    """``23/11/2026 08:30``; empty for None."""
    return moment.astimezone(TZ).strftime("%d/%m/%Y %H:%M") if moment else ""


@bp.app_template_filter("rich")
def rich_filter(text: str | None):
    """An answer part written in the agency's rich-text editor: re-cleaned, then inserted as HTML."""
    return rich(text)
