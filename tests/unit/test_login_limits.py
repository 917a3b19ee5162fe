"""Password guessing limits (ui.login_limits): per source with back-off, and for the server."""

from __future__ import annotations

from ui.login_limits import FIRST_BACKOFF, FREE_FAILURES, GLOBAL_FAILURES, MAX_BACKOFF, WINDOW, GuessLimiter


def fail(limiter: GuessLimiter, source: str, times: int, start: float = 0.0, step: float = 0.0) -> float:
    """``times`` failures from ``source``, ``step`` seconds apart, each when allowed; the clock after."""
    now = start
    for _ in range(times):
        now = max(now, now + limiter.wait(source, now))
        limiter.failed(source, now)
        now += step
    return now


def test_a_source_gets_its_free_failures_then_waits_doubling():
    limiter = GuessLimiter()
    fail(limiter, "a", FREE_FAILURES - 1)
    assert limiter.wait("a", 0.0) == 0, "four wrong, the fifth attempt is checked"
    limiter.failed("a", 0.0)
    assert limiter.wait("a", 0.0) == FIRST_BACKOFF
    assert limiter.wait("a", FIRST_BACKOFF) == 0
    limiter.failed("a", FIRST_BACKOFF)
    assert limiter.wait("a", FIRST_BACKOFF) == 2 * FIRST_BACKOFF
    limiter.failed("a", 3 * FIRST_BACKOFF)
    assert limiter.wait("a", 3 * FIRST_BACKOFF) == 4 * FIRST_BACKOFF


def test_the_back_off_is_capped_and_old_failures_expire():
    limiter = GuessLimiter(global_failures=10**9)
    now = fail(limiter, "a", 40)
    assert limiter.wait("a", now) <= MAX_BACKOFF
    assert limiter.wait("a", now + WINDOW + MAX_BACKOFF) == 0, "a quiet window forgives"


def test_other_sources_are_not_slowed_by_one_guesser():
    limiter = GuessLimiter()
    fail(limiter, "guesser", FREE_FAILURES + 3)
    assert limiter.wait("someone else", 0.0) == 0


def test_many_sources_together_hit_the_global_limit():
    """Ten sessions from many addresses cannot guess five a second: the server stops checking."""
    limiter = GuessLimiter()
    for i in range(GLOBAL_FAILURES):
        limiter.failed(f"10.0.0.{i}", 1.0)
    assert limiter.wait("a new address", 1.0) == 60.0
    assert limiter.wait("a new address", 61.0) == 0


def test_a_right_password_forgives_its_source():
    limiter = GuessLimiter()
    fail(limiter, "a", FREE_FAILURES - 1)
    limiter.succeeded("a")
    limiter.failed("a", 1.0)
    assert limiter.wait("a", 1.0) == 0


def test_memory_stays_bounded():
    limiter = GuessLimiter(max_sources=100, global_failures=10**9)
    for i in range(1000):
        limiter.failed(f"s{i}", float(i))
    assert len(limiter._by_source) == 100 and "s999" in limiter._by_source
