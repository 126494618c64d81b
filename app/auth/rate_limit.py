"""Requests per identity per window: a token bucket per identity, in this process's memory.

Each identity (a session token, an API key, or a client IP) has a bucket of ``limit`` tokens
that refills continuously at ``limit / window`` tokens a second; a request takes one. A burst
of ``limit`` requests is allowed, then one every ``window / limit`` seconds. The state lives in
one process: with N processes behind a load balancer an identity gets up to N times the limit
(docs/security.md). A bucket that has refilled completely is the same as none, so idle
identities are forgotten and the table stays small.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_IDENTITIES = 100_000
AUTHENTICATED = "devicegraph_authenticated"
"""Request-state key: whether the request's bearer token signed someone in (set by the GraphQL
layer, app.auth.hardening, read by the HTTP middleware to trust the token as an identity)."""


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: float
    """Seconds until the next request would be allowed (0 when allowed)."""

    @property
    def retry_after_seconds(self) -> int:
        """For the Retry-After header: whole seconds, at least 1."""
        return max(1, math.ceil(self.retry_after))


class RateLimiter:
    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_identities: int = MAX_IDENTITIES,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.rate = limit / window_seconds if limit else 0.0
        self._clock = clock
        self._max_identities = max_identities
        self._buckets: dict[str, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def __len__(self) -> int:
        return len(self._buckets)

    def hit(self, identity: str) -> Decision:
        """Take one token for ``identity``; refused (with when to retry) if there is none."""
        if not self.enabled:
            return Decision(allowed=True, retry_after=0.0)
        now = self._clock()
        bucket = self._buckets.get(identity)
        if bucket is None:
            if len(self._buckets) >= self._max_identities:
                self._forget_idle(now)
            bucket = self._buckets[identity] = _Bucket(tokens=float(self.limit), updated=now)
        else:
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(self.limit), bucket.tokens + elapsed * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Decision(allowed=True, retry_after=0.0)
        return Decision(allowed=False, retry_after=(1.0 - bucket.tokens) / self.rate)

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that are full again; if none is, the oldest half (bounded memory)."""
        full_after = self.window
        idle = [key for key, b in self._buckets.items() if now - b.updated >= full_after]
        for key in idle:
            del self._buckets[key]
        if len(self._buckets) >= self._max_identities:
            by_age = sorted(self._buckets, key=lambda key: self._buckets[key].updated)
            for key in by_age[: len(by_age) // 2]:
                del self._buckets[key]
