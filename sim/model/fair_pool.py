"""The engine's worker threads, shared by every caller in turn (least attained service first).

A run (one call of :meth:`FairPool.map`: the chunks of one simulation, or the summaries of
one forecast) queues its jobs; each free worker takes the next job of the run that has so far
had the least worker time, the earlier run on a tie. A first-in-first-out pool would serve a
run only after every chunk queued before it: on a shared server one heavy run (a worst-case
link, tens of seconds of chunks) would hold both cores, and every other visitor would wait for
all of it. Here a run that arrives while a heavy one is going gets the next free worker (at
most one chunk's wait), and two runs that both have work split the workers between them.

Jobs of one run may run on several workers at once; results come back in the order of the
jobs. ``check()`` is called before each job starts (it may raise, e.g.
:class:`~sim.model.run_cancellation.RunCancelled`); the first job to raise ends the run: its
jobs not yet started are dropped, and the caller gets the exception.

**Express workers.** A worker that has started a job keeps it until it ends (or its own
cancellation check stops it), and one job of a heavy run may take a second or more (a block
of a worst-case link). So a light run that
arrives while long jobs hold every worker would wait for one of them to end. A run says
whether its jobs are long (``map(..., long_jobs=True)``, from the engine's estimate of a
block). Besides the ``workers`` regular workers, ``express`` workers take jobs of runs whose
jobs are short only, and only while some regular worker is in a long job: then the light run
starts at once and the operating system shares the cores between it and the heavy run. A
light run alone (or with other light runs) uses the regular workers only, never more threads
than ``workers``.

Threads are started when first needed (daemon threads: a command-line run exits without
waiting for them). The scheduling never changes any number: every job computes the same
result on any worker and in any order (the engine's chunks are positional).
"""

from __future__ import annotations

import threading
import time
from collections import deque


class _Run:
    __slots__ = ("queue", "results", "finished", "attained", "error", "order", "check", "long_jobs")

    def __init__(self, jobs, order: int, check, long_jobs: bool = False):
        self.queue = deque(enumerate(jobs))
        self.results = [None] * len(jobs)
        self.finished = [False] * len(jobs)
        self.attained = 0.0          # worker seconds this run has had so far
        self.error: BaseException | None = None
        self.order = order
        self.check = check
        self.long_jobs = long_jobs


class FairPool:
    """``workers`` threads serving the queued runs, least attained service first, and
    ``express`` threads serving runs of short jobs while long jobs hold regular workers."""

    def __init__(self, workers: int, name: str = "sim", express: int = 0):
        self.workers = max(1, int(workers))
        self.express = max(0, int(express))
        self.name = name
        self._cond = threading.Condition()
        # The express workers wait apart (on the same lock), woken only when there may be work
        # for them: waking them at every job's end would make them contend for the GIL with the
        # workers and the sessions' script threads for nothing.
        self._express_cond = threading.Condition(self._cond)
        self._waiting: list[_Run] = []      # runs with jobs not yet started
        self._threads: list[tuple[threading.Thread, bool]] = []    # (thread, is express)
        self._order = 0
        self._in_long_jobs = 0              # regular workers now in a job of a long run

    def map(self, jobs, *, check=None, progress=None, long_jobs: bool = False) -> list:
        """Run the callables ``jobs`` on the workers; their results, in order.
        ``progress(fraction)`` is called in the calling thread as the results come in (in
        order); ``check()`` before each job starts. ``long_jobs``: the jobs may each take long
        (express workers leave them to the regular ones)."""
        jobs = list(jobs)
        if not jobs:
            return []
        with self._cond:
            self._start_threads()
            self._order += 1
            run = _Run(jobs, self._order, check, long_jobs)
            self._waiting.append(run)
            self._cond.notify_all()
            self._wake_express()
            try:
                for i in range(len(jobs)):
                    while not run.finished[i] and run.error is None:
                        self._cond.wait()
                    if run.error is not None:
                        raise run.error
                    if progress:
                        self._cond.release()
                        try:
                            progress((i + 1) / len(jobs))
                        finally:
                            self._cond.acquire()
            except BaseException:
                self._drop(run)
                raise
            return run.results

    def _drop(self, run: _Run) -> None:
        run.queue.clear()
        if run in self._waiting:
            self._waiting.remove(run)

    def _start_threads(self) -> None:
        self._threads = [(t, express) for t, express in self._threads if t.is_alive()]
        for express, wanted in ((False, self.workers), (True, self.express)):
            while sum(1 for _, e in self._threads if e == express) < wanted:
                name = f"{self.name}_{'express_' if express else ''}{len(self._threads)}"
                thread = threading.Thread(target=self._work, args=(express,), name=name, daemon=True)
                thread.start()
                self._threads.append((thread, express))

    def _express_runs(self) -> list[_Run]:
        """The waiting runs an express worker may serve (the caller holds the lock): those of
        short jobs, and only while a regular worker is in a long job."""
        if not self._in_long_jobs:
            return []
        return [r for r in self._waiting if not r.long_jobs]

    def _wake_express(self) -> None:
        """Wake the express workers if one may have a job now (the caller holds the lock)."""
        if self.express and self._express_runs():
            self._express_cond.notify_all()

    def _next(self, express: bool) -> tuple[_Run, int, object] | None:
        """The next job for a worker (the caller holds the lock): of the waiting run with the
        least attained service, among :meth:`_express_runs` for an express worker. None:
        nothing for this worker now."""
        runs = self._express_runs() if express else self._waiting
        if not runs:
            return None
        run = min(runs, key=lambda r: (r.attained, r.order))
        index, job = run.queue.popleft()
        if not run.queue:
            self._waiting.remove(run)
        return run, index, job

    def _work(self, express: bool = False) -> None:
        while True:
            with self._cond:
                waiting_on = self._express_cond if express else self._cond
                while (picked := self._next(express)) is None:
                    waiting_on.wait()
                run, index, job = picked
                in_long_job = run.long_jobs and not express
                if in_long_job:
                    self._in_long_jobs += 1
                    self._wake_express()         # a light run may be waiting
            started = time.perf_counter()
            error = None
            try:
                if run.check is not None:
                    run.check()
                result = job()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller of map()
                error = exc
            elapsed = time.perf_counter() - started
            with self._cond:
                if in_long_job:
                    self._in_long_jobs -= 1
                run.attained += elapsed
                if error is not None:
                    if run.error is None:
                        run.error = error
                    self._drop(run)
                else:
                    run.results[index] = result
                    run.finished[index] = True
                self._cond.notify_all()
                self._wake_express()
