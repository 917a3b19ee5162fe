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

Threads are started when first needed (daemon threads: a command-line run exits without
waiting for them). The scheduling never changes any number: every job computes the same
result on any worker and in any order (the engine's chunks are positional).
"""

from __future__ import annotations

import threading
import time
from collections import deque


class _Run:
    __slots__ = ("queue", "results", "finished", "attained", "error", "order", "check")

    def __init__(self, jobs, order: int, check):
        self.queue = deque(enumerate(jobs))
        self.results = [None] * len(jobs)
        self.finished = [False] * len(jobs)
        self.attained = 0.0          # worker seconds this run has had so far
        self.error: BaseException | None = None
        self.order = order
        self.check = check


class FairPool:
    """``workers`` threads serving the queued runs, least attained service first."""

    def __init__(self, workers: int, name: str = "sim"):
        self.workers = max(1, int(workers))
        self.name = name
        self._cond = threading.Condition()
        self._waiting: list[_Run] = []      # runs with jobs not yet started
        self._threads: list[threading.Thread] = []
        self._order = 0

    def map(self, jobs, *, check=None, progress=None) -> list:
        """Run the callables ``jobs`` on the workers; their results, in order.
        ``progress(fraction)`` is called in the calling thread as the results come in (in
        order); ``check()`` before each job starts."""
        jobs = list(jobs)
        if not jobs:
            return []
        with self._cond:
            self._start_threads()
            self._order += 1
            run = _Run(jobs, self._order, check)
            self._waiting.append(run)
            self._cond.notify_all()
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
        self._threads = [t for t in self._threads if t.is_alive()]
        while len(self._threads) < self.workers:
            thread = threading.Thread(target=self._work, name=f"{self.name}_{len(self._threads)}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _next(self) -> tuple[_Run, int, object]:
        """The next job: of the waiting run with the least attained service (the caller holds
        the lock and has checked that some run is waiting)."""
        run = min(self._waiting, key=lambda r: (r.attained, r.order))
        index, job = run.queue.popleft()
        if not run.queue:
            self._waiting.remove(run)
        return run, index, job

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._waiting:
                    self._cond.wait()
                run, index, job = self._next()
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
                run.attained += elapsed
                if error is not None:
                    if run.error is None:
                        run.error = error
                    self._drop(run)
                else:
                    run.results[index] = result
                    run.finished[index] = True
                self._cond.notify_all()
