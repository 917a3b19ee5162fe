"""The engine's shared workers serve runs in turn (sim.model.fair_pool): ordering, not timing."""

from __future__ import annotations

import threading
import time

import pytest

from sim.model import engine
from sim.model.fair_pool import FairPool
from sim.model.run_cancellation import RunCancelled, stop_check
from sim.model.validation import scenario_from_dict
from sim.model.work_budget import estimate_run
from tests.conftest import worst_case_link


def wait_until(condition, what: str, limit: float = 30.0) -> None:
    """Poll ``condition`` (a deadlock guard only: the assertions are about order)."""
    end = time.monotonic() + limit
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.001)


def in_thread(target):
    out = {}

    def run():
        try:
            out["value"] = target()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_results_come_back_in_order_with_progress(workers):
    pool = FairPool(workers)
    seen = []
    results = pool.map([(lambda i=i: i * i) for i in range(20)], progress=seen.append)
    assert results == [i * i for i in range(20)]
    assert seen == [(i + 1) / 20 for i in range(20)]


def test_a_run_arriving_behind_a_heavy_one_is_served_at_the_next_free_worker():
    pool = FairPool(1)
    order, started, release = [], threading.Event(), threading.Event()

    def heavy(i):
        def job():
            if i == 0:
                started.set()
                release.wait(30)
            order.append(f"heavy{i}")
        return job

    heavy_thread, heavy_out = in_thread(lambda: pool.map([heavy(i) for i in range(6)]))
    started.wait(30)
    light_thread, light_out = in_thread(lambda: pool.map([(lambda i=i: order.append(f"light{i}")) for i in range(2)]))
    wait_until(lambda: len(pool._waiting) == 2, "the light run queued")
    release.set()
    light_thread.join(30)
    heavy_thread.join(30)
    assert "error" not in light_out and "error" not in heavy_out
    # First in, first out would give heavy0 ... heavy5, light0, light1.
    assert order == ["heavy0", "light0", "light1", "heavy1", "heavy2", "heavy3", "heavy4", "heavy5"]


def test_a_light_run_starts_on_the_express_worker_while_long_jobs_hold_every_regular_one():
    pool = FairPool(2, express=1)
    release, holding, light_threads = threading.Event(), [], []

    def long_job():
        holding.append(threading.current_thread().name)
        release.wait(30)
        return threading.current_thread().name

    heavy_thread, heavy_out = in_thread(lambda: pool.map([long_job for _ in range(4)], long_jobs=True))
    wait_until(lambda: len(holding) == 2, "both regular workers in a long job")
    light = pool.map([(lambda: light_threads.append(threading.current_thread().name) or 1) for _ in range(3)])
    # Served (here, synchronously) while both long jobs are still going.
    assert light == [1, 1, 1] and len(holding) == 2 and not release.is_set()
    assert set(light_threads) == {"sim_express_2"}
    release.set()
    heavy_thread.join(30)
    assert "error" not in heavy_out
    assert not any("express" in name for name in heavy_out["value"])   # long jobs: regular workers only


def test_the_express_worker_stays_idle_without_long_jobs():
    pool = FairPool(2, express=1)
    names, both_in, release = [], threading.Barrier(2, timeout=30), threading.Event()

    def job(i):
        def run():
            names.append(threading.current_thread().name)
            if i < 2:            # the two regular workers busy with short jobs at once
                both_in.wait()
                release.wait(30)
            return i
        return run

    first, first_out = in_thread(lambda: pool.map([job(i) for i in range(4)]))
    wait_until(lambda: len(names) == 2, "both regular workers busy")
    second, second_out = in_thread(lambda: pool.map([job(10 + i) for i in range(3)]))
    wait_until(lambda: len(pool._waiting) == 2, "the second light run queued")
    with pool._cond:
        assert pool._next(express=True) is None      # nothing for the express worker
    assert len(names) == 2
    release.set()
    first.join(30)
    second.join(30)
    assert first_out["value"] == [0, 1, 2, 3] and second_out["value"] == [10, 11, 12]
    assert len(names) == 7 and not any("express" in name for name in names)


def test_two_runs_with_work_share_the_workers():
    pool = FairPool(1)
    order, started, gate = [], threading.Event(), threading.Event()

    def a(i):
        def job():
            if i == 0:
                started.set()
                gate.wait(30)
            order.append(("a", i))
        return job

    a_thread, _ = in_thread(lambda: pool.map([a(i) for i in range(4)]))
    started.wait(30)
    b_thread, _ = in_thread(lambda: pool.map([(lambda i=i: order.append(("b", i))) for i in range(4)]))
    wait_until(lambda: len(pool._waiting) == 2, "both runs queued")
    gate.set()
    a_thread.join(30)
    b_thread.join(30)
    # Neither run waits for the whole of the other: b starts before a has finished.
    assert order.index(("b", 0)) < order.index(("a", 3))
    assert sorted(order) == sorted([("a", i) for i in range(4)] + [("b", i) for i in range(4)])


def test_a_failing_job_ends_its_run_and_drops_the_jobs_not_started():
    pool = FairPool(1)
    ran = []

    def job(i):
        def run():
            ran.append(i)
            if i == 2:
                raise ValueError("chunk 2 failed")
            return i
        return run

    with pytest.raises(ValueError, match="chunk 2"):
        pool.map([job(i) for i in range(10)])
    assert ran == [0, 1, 2]
    assert pool.map([job(i) for i in (0, 1)]) == [0, 1]     # the pool serves the next run


def test_a_stopped_run_stops_between_chunks_and_the_pool_goes_on(demo):
    stop = threading.Event()
    chunks_done = []

    def progress(fraction):
        chunks_done.append(fraction)
        if len(chunks_done) == 2:
            stop.set()

    with pytest.raises(RunCancelled):
        engine.period_revenue(demo, trials=40 * engine.CHUNK, progress=progress, should_stop=stop)
    assert len(chunks_done) < 40
    # Nothing of the stopped run is left in the queue; the next run is served in full.
    assert engine._executor()._waiting == []
    assert engine.period_revenue(demo, trials=3 * engine.CHUNK).size == 3 * engine.CHUNK


def test_a_stopped_run_stops_inside_a_long_chunk():
    """A chunk of a heavy link takes seconds: the run's check is also read between the chunk's
    steps (here: one chunk of recurring deals over 36 months, a step per delay), so a closed
    session or a newer input stops it there, not at the chunk's end."""
    worst = scenario_from_dict(worst_case_link(trials=1_000))
    looks = []

    def stop_at_the_second_look():
        looks.append(1)
        return len(looks) >= 2

    with pytest.raises(RunCancelled):
        engine.period_revenue(worst, should_stop=stop_at_the_second_look)
    assert len(looks) == 2          # the look before the chunk let it start; the next one, inside it, stopped it
    looks.clear()
    revenue = engine.period_revenue(worst, should_stop=lambda: looks.append(1) is None and False)
    assert revenue.size == 1_000 and len(looks) > 30     # a run not stopped looks at every delay
    # With the monthly outputs and the stage detail (two jobs on the pool, each looking inside).
    looks.clear()
    with pytest.raises(RunCancelled):
        engine.draw(worst, detail_trials=1_000, should_stop=lambda: looks.append(1) is None and len(looks) > 4)
    assert engine.period_revenue(worst, trials=10).size == 10      # the pool goes on


def test_check_is_called_before_every_job():
    pool = FairPool(2)
    calls = []
    stop = threading.Event()
    check = stop_check(stop)

    def counted():
        calls.append(1)
        check()

    assert pool.map([(lambda i=i: i) for i in range(7)], check=counted) == list(range(7))
    assert len(calls) == 7


def test_runs_of_a_worst_case_link_say_their_jobs_are_long_and_the_demos_do_not(demo, monkeypatch):
    said = []

    class Recording(FairPool):
        def map(self, jobs, *, long_jobs=False, **kw):
            said.append(long_jobs)
            return super().map(jobs, long_jobs=long_jobs, **kw)

    monkeypatch.setattr(engine, "_pool", Recording(2, express=1))
    worst = scenario_from_dict(worst_case_link(trials=100))
    two_blocks = [3, engine.CHUNK + 1]                 # a few trials, in two chunks: two jobs
    engine.period_revenue_of(worst, two_blocks)
    engine.period_revenue_of(demo, two_blocks)
    assert said == [True, False]
    # What decides: the work budget's estimate of one chunk against LONG_JOB_SECONDS.
    assert estimate_run(worst, trials=engine.CHUNK).cpu_seconds > engine.LONG_JOB_SECONDS
    assert estimate_run(demo, trials=engine.CHUNK).cpu_seconds < engine.LONG_JOB_SECONDS
