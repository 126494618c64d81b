"""The token bucket, with a clock the test moves (no sleeping)."""

from __future__ import annotations

from app.auth.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_up_to_the_limit_then_one_per_interval() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 60.0, clock=clock)
    assert [limiter.hit("a").allowed for _ in range(4)] == [True, True, True, False]
    refused = limiter.hit("a")
    assert not refused.allowed
    assert refused.retry_after == 20.0  # one token every 60 / 3 seconds
    assert refused.retry_after_seconds == 20
    clock.now += 19.9
    assert not limiter.hit("a").allowed
    clock.now += 0.2
    assert limiter.hit("a").allowed
    assert not limiter.hit("a").allowed


def test_identities_are_apart_and_a_full_window_refills_all() -> None:
    clock = Clock()
    limiter = RateLimiter(2, 1.0, clock=clock)
    assert limiter.hit("a").allowed
    assert limiter.hit("a").allowed
    assert not limiter.hit("a").allowed
    assert limiter.hit("b").allowed
    clock.now += 1.0
    assert [limiter.hit("a").allowed for _ in range(3)] == [True, True, False]


def test_retry_after_is_at_least_a_second() -> None:
    clock = Clock()
    limiter = RateLimiter(1000, 1.0, clock=clock)
    for _ in range(1000):
        assert limiter.hit("a").allowed
    refused = limiter.hit("a")
    assert not refused.allowed
    assert 0 < refused.retry_after <= 0.001
    assert refused.retry_after_seconds == 1


def test_zero_turns_it_off() -> None:
    limiter = RateLimiter(0, 60.0)
    assert not limiter.enabled
    assert all(limiter.hit("a").allowed for _ in range(10_000))
    assert len(limiter) == 0


def test_memory_stays_bounded() -> None:
    clock = Clock()
    limiter = RateLimiter(5, 10.0, clock=clock, max_identities=100)
    for number in range(100):
        limiter.hit(f"old{number}")
    clock.now += 10.0  # every old bucket is full again: forgetting it changes nothing
    limiter.hit("new")
    assert len(limiter) == 1
    for number in range(250):
        limiter.hit(f"busy{number}")  # nobody idle: the oldest half goes
    assert len(limiter) <= 100
