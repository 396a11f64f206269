"""API rate limits counted in the worker's own memory, in constant time per request.

DRF's throttles keep each caller's whole request history (one timestamp per request in
the last period) in a cache: every request reads, unpickles, extends and re-pickles a
list as long as the rate (600 entries at 600/min), plus a network round trip with
Redis. These keep two counters per caller instead: the requests of the current fixed
window and of the previous one, and estimate the sliding window as the current count
plus the previous count weighted by how much of it still overlaps (the approximation
Cloudflare and nginx-style limiters use). Its error is at most the previous window's
uneven spread, which is immaterial for limits that bound how fast anyone walks through
searches (logins are guarded by django-axes).

With N web workers a caller may reach N × the rate before being refused.
"""

from __future__ import annotations

import threading
from typing import Any

from rest_framework import throttling

# Callers seen more than two windows ago carry no weight; entries of callers idle that
# long are dropped when the table grows past this many, so it stays bounded.
_PRUNE_ABOVE = 10_000


class _WindowCounter:
    """Per-caller (window start, count, previous window's count), behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int, int]] = {}

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()

    def hit(self, key: str, now: float, limit: int, duration: float) -> float | None:
        """Count a request if it is within `limit` per `duration`; else the seconds to wait."""
        with self._lock:
            start, count, previous = self._windows.get(key, (now, 0, 0))
            if now - start >= duration:
                passed = int((now - start) // duration)
                previous = count if passed == 1 else 0
                start += passed * duration
                count = 0
            overlap = (duration - (now - start)) / duration
            if previous * overlap + count >= limit:
                self._windows[key] = (start, count, previous)
                # When the estimate drops below the limit if no request comes meanwhile.
                needed = count + 1 - limit
                if previous and needed <= 0:
                    return max(0.0, duration * (1 - (limit - count) / previous) - (now - start))
                return max(0.0, start + duration - now)
            self._windows[key] = (start, count + 1, previous)
            if len(self._windows) > _PRUNE_ABOVE:
                self._prune(now, duration)
            return None

    def _prune(self, now: float, duration: float) -> None:
        stale = [k for k, (start, _c, _p) in self._windows.items() if now - start >= 2 * duration]
        for key in stale:
            del self._windows[key]


_COUNTERS: dict[str, _WindowCounter] = {}
_COUNTERS_LOCK = threading.Lock()


def _counter(scope: str) -> _WindowCounter:
    with _COUNTERS_LOCK:
        return _COUNTERS.setdefault(scope, _WindowCounter())


def throttles_reset() -> None:
    """Forget every caller's count (tests)."""
    with _COUNTERS_LOCK:
        for counter in _COUNTERS.values():
            counter.clear()


class _InMemoryThrottleMixin:
    rate: str | None
    num_requests: int
    duration: int
    key: str | None
    timer: Any

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)  # type: ignore[attr-defined]
        if self.key is None:
            return True
        self._wait = _counter(str(getattr(self, "scope", ""))).hit(
            self.key, self.timer(), self.num_requests, self.duration
        )
        return self._wait is None

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


class UserRateThrottle(_InMemoryThrottleMixin, throttling.UserRateThrottle):
    pass


class AnonRateThrottle(_InMemoryThrottleMixin, throttling.AnonRateThrottle):
    pass
