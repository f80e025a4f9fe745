"""Background callbacks that run in threads of the server process.

Dash's ``DiskcacheManager`` forks a process per job.  TensorFlow is not
fork-safe, and a spawned process would have to import TensorFlow and load the
model again (seconds) before doing any work.  :class:`ThreadedDiskcacheManager`
keeps Dash's diskcache protocol (results, progress and ``set_props`` travel
through the cache, so ``progress=``, ``cancel=`` and ``cache_by=`` work as
documented) but runs each job in a daemon thread of the server, where the
shared model registry already holds the loaded models and compiled functions.

Cancellation is cooperative: when Dash cancels a job, the job's next call to
``set_progress`` raises :class:`JobCancelled`, which ends the job without a
result.  Long computations report progress regularly, so they stop quickly.

This manager needs one server process (the default Flask server is threaded).
For several processes set ``REDIS_URL`` and use Celery workers instead.
"""

from __future__ import annotations

import itertools
import logging
import threading

from dash import DiskcacheManager
from dash.exceptions import PreventUpdate

log = logging.getLogger("kernelscope.background")


class JobCancelled(Exception):
    """Raised inside a job's ``set_progress`` once the job has been cancelled."""


_local = threading.local()


def current_job_cancelled() -> bool:
    """True inside a background job that has been cancelled (for loops without progress)."""
    event = getattr(_local, "cancel", None)
    return bool(event is not None and event.is_set())


class ThreadedDiskcacheManager(DiskcacheManager):
    """A ``DiskcacheManager`` whose jobs are threads, with cooperative cancel."""

    def __init__(self, cache=None, cache_by=None, expire=None):
        super().__init__(cache, cache_by=cache_by, expire=expire)
        self._jobs: dict[int, tuple[threading.Thread, threading.Event]] = {}
        self._ids = itertools.count(1)
        self._guard = threading.Lock()

    def make_job_fn(self, fn, progress, key=None):
        def guarded(*args, **kwargs):
            if progress:
                set_progress, *rest = args

                def checked_progress(value):
                    if current_job_cancelled():
                        raise JobCancelled()
                    set_progress(value)

                args = (checked_progress, *rest)
            try:
                return fn(*args, **kwargs)
            except JobCancelled:
                log.info("background job cancelled")
                raise PreventUpdate from None

        guarded.__wrapped__ = fn
        return super().make_job_fn(guarded, progress, key)

    def call_job_fn(self, key, job_fn, args, context):
        job_id = next(self._ids)
        cancel = threading.Event()

        def target():
            _local.cancel = cancel
            try:
                job_fn(key, self._make_progress_key(key), args, context)
            finally:
                _local.cancel = None
                with self._guard:
                    self._jobs.pop(job_id, None)

        thread = threading.Thread(target=target, name=f"kernelscope-job-{job_id}", daemon=True)
        with self._guard:
            self._jobs[job_id] = (thread, cancel)
        thread.start()
        return job_id

    def _job(self, job):
        try:
            return self._jobs.get(int(job))
        except (TypeError, ValueError):
            return None

    def job_running(self, job):
        entry = self._job(job)
        return bool(entry and entry[0].is_alive())

    def terminate_job(self, job):
        entry = self._job(job)
        if entry is not None:
            entry[1].set()

    def terminate_unhealthy_job(self, job):
        return False
