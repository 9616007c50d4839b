"""The periodic RQ job of the deadline sweep (scheduled by ``rq cron pakn/deadlines/cron.py``).

The function takes no arguments and builds the app itself when it runs, never at import time,
so a worker can import this module cheaply. It commits once; on any error the transaction
rolls back and the exception propagates, so RQ records the failure and the next run (a few
minutes later) claims whatever was left: claims are exactly-once, reruns are harmless.
"""
from __future__ import annotations

from datetime import datetime


def sweep_job(now_iso: str | None = None) -> dict:
    """Run one deadline sweep and return what it wrote (kept as the job's result)."""
    from .. import create_app
    from ..operations import transaction
    from .sweep import run_sweep

    from ..extensions import db

    app = create_app()
    with app.app_context():
        try:
            with transaction():
                result = run_sweep(datetime.fromisoformat(now_iso) if now_iso else None)
        finally:
            db.engine.dispose()  # the worker keeps no connection between runs
    return {"run_id": result.run_id, "written": result.written, "messages": result.messages,
            "marked_due_soon": result.marked_due_soon, "marked_overdue": result.marked_overdue}
