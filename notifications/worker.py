"""RQ worker classes that build the app once, before forking (``rq worker -w …``).

``notifications.worker.Worker`` forks a work horse per job (RQ's default, isolation against
crashes and leaks); ``notifications.worker.SimpleWorker`` runs jobs in the worker process
(faster, no isolation). Both preload the app so that a job does not pay for ``create_app``.
"""
from __future__ import annotations

from rq.worker import SimpleWorker as _SimpleWorker
from rq.worker import Worker as _Worker

from .runtime import preload


class Worker(_Worker):
    def work(self, *args, **kwargs):
        preload()
        return super().work(*args, **kwargs)


class SimpleWorker(_SimpleWorker):
    def work(self, *args, **kwargs):
        preload()
        return super().work(*args, **kwargs)
