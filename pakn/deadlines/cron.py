"""RQ cron configuration for the deadline sweep.

Start the scheduler once per deployment (beside the workers, which belong to the
notifications issue and run ``rq worker --url "$REDIS_URL" default``)::

    rq cron pakn/deadlines/cron.py --url "$REDIS_URL"

It enqueues :func:`pakn.deadlines.jobs.sweep_job` on the ``default`` queue every
``PAKN_SWEEP_INTERVAL`` seconds (300 by default). Two schedulers running by mistake, or a
system cron running ``flask --app wsgi pakn sweep`` too, cause no duplicate: every
reminder and escalation is claimed exactly once in the database.
"""
from __future__ import annotations

import os

from rq import cron

from pakn.deadlines.jobs import sweep_job

SWEEP_INTERVAL_SECONDS = int(os.environ.get("PAKN_SWEEP_INTERVAL", "300"))

cron.register(sweep_job, "default", interval=SWEEP_INTERVAL_SECONDS, job_timeout=600,
              name="pakn-deadline-sweep")
