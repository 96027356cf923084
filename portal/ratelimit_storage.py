"""``lazymemory://``: an in-process rate-limit storage that expires counters when they are
read or written, instead of starting a timer thread on nearly every hit as ``memory://``
(``limits.storage.MemoryStorage``) does.

Every strategy Flask-Limiter offers works on it: fixed window (the default), moving window
and sliding window counter. One lock guards everything, and no thread is ever started: a
read of an expired key answers 0, the next write to it opens a new window, and each write
also drops at most ``SWEEP_BATCH`` keys whose time has come, found through a heap with one
entry per stored key, so memory follows the keys in use and not every key ever seen.
Counters live in one process: with several workers or instances, use Redis
(``PORTAL_RATELIMIT_STORAGE_URL=redis://…``) so they share one budget.
"""

import heapq
import threading
import time
from collections import deque
from collections.abc import Callable
from math import floor

from limits.storage import MovingWindowSupport, SlidingWindowCounterSupport, Storage
from limits.storage.base import TimestampedSlidingWindow

# Expired keys dropped, at most, by one write (a write adds at most one key).
SWEEP_BATCH = 8


class _Counter:
    """A fixed-window count (also each window of the sliding window counter)."""

    __slots__ = ("count", "expires_at")

    def __init__(self, expires_at: float) -> None:
        self.count = 0
        self.expires_at = expires_at


class _Log:
    """The moving window: when each entry was acquired, oldest first."""

    __slots__ = ("times", "window")

    def __init__(self, window: float) -> None:
        self.times: deque[float] = deque()
        self.window = window

    def prune(self, now: float, window: float) -> None:
        while self.times and self.times[0] <= now - window:
            self.times.popleft()


class LazyMemoryStorage(
    Storage, MovingWindowSupport, SlidingWindowCounterSupport, TimestampedSlidingWindow
):
    """Counters and moving-window logs in dicts, expired lazily; thread-safe, no threads."""

    STORAGE_SCHEME = ["lazymemory"]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        clock: Callable[[], float] | None = None,
        **options,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._now = clock or time.time
        self._lock = threading.Lock()
        self._counters: dict[str, _Counter] = {}
        self._logs: dict[str, _Log] = {}
        # (when the key may have expired, key): exactly one entry per key in _scheduled,
        # which holds every key of _counters and _logs (and cleared ones until swept).
        self._due: list[tuple[float, str]] = []
        self._scheduled: set[str] = set()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def key_count(self) -> int:
        """How many keys are held, expired or not (what the sweep keeps bounded)."""
        with self._lock:
            return len(self._scheduled)

    # --- bookkeeping, always under the lock -------------------------------------------------

    def _live_until(self, key: str) -> float | None:
        ends = []
        if (counter := self._counters.get(key)) is not None:
            ends.append(counter.expires_at)
        if (log := self._logs.get(key)) is not None and log.times:
            ends.append(log.times[-1] + log.window)
        return max(ends) if ends else None

    def _track(self, key: str, until: float) -> None:
        """A new key: schedule a look at it once ``until`` has passed."""
        if key not in self._scheduled:
            self._scheduled.add(key)
            heapq.heappush(self._due, (until, key))

    def _sweep(self, now: float) -> None:
        for _ in range(SWEEP_BATCH):
            if not self._due or self._due[0][0] > now:
                return
            _, key = heapq.heappop(self._due)
            until = self._live_until(key)
            if until is not None and until > now:
                heapq.heappush(self._due, (until, key))  # renewed since: look again later
            else:
                self._counters.pop(key, None)
                self._logs.pop(key, None)
                self._scheduled.discard(key)

    def _live_counter(self, key: str, now: float) -> _Counter | None:
        counter = self._counters.get(key)
        return counter if counter is not None and counter.expires_at > now else None

    def _incr(self, key: str, expiry: float, amount: int, now: float) -> int:
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = _Counter(now + expiry)
            self._track(key, counter.expires_at)
        elif counter.expires_at <= now:  # the window is over: this hit opens a new one
            counter.count, counter.expires_at = 0, now + expiry
        counter.count += amount
        return counter.count

    # --- fixed window -----------------------------------------------------------------------

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        with self._lock:
            now = self._now()
            count = self._incr(key, expiry, amount, now)
            self._sweep(now)
            return count

    def get(self, key: str) -> int:
        with self._lock:
            counter = self._live_counter(key, self._now())
            return counter.count if counter else 0

    def get_expiry(self, key: str) -> float:
        with self._lock:
            now = self._now()
            counter = self._live_counter(key, now)
            return counter.expires_at if counter else now

    def check(self) -> bool:
        return True

    def clear(self, key: str) -> None:
        with self._lock:
            self._counters.pop(key, None)
            self._logs.pop(key, None)  # its heap entry stays until the sweep drops it

    def reset(self) -> int | None:
        with self._lock:
            held = len(self._counters.keys() | self._logs.keys())
            self._counters.clear()
            self._logs.clear()
            self._due.clear()
            self._scheduled.clear()
            return held

    # --- moving window ----------------------------------------------------------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        with self._lock:
            now = self._now()
            self._sweep(now)
            log = self._logs.get(key)
            if log is None:
                log = self._logs[key] = _Log(expiry)
            log.window = expiry
            log.prune(now, expiry)
            if len(log.times) + amount > limit:
                return False
            log.times.extend([now] * amount)
            self._track(key, now + expiry)
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        with self._lock:
            now = self._now()
            log = self._logs.get(key)
            if log is None:
                return now, 0
            log.prune(now, expiry)
            return (log.times[0], len(log.times)) if log.times else (now, 0)

    # --- sliding window counter -------------------------------------------------------------

    def _window(self, key: str, expiry: int, now: float) -> tuple[int, float, int, float, str]:
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous = self._live_counter(previous_key, now)
        current = self._live_counter(current_key, now)
        previous_count = previous.count if previous else 0
        previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous_count else 0.0
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        current_count = current.count if current else 0
        return previous_count, previous_ttl, current_count, current_ttl, current_key

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        if amount > limit:
            return False
        with self._lock:  # check and count under one lock: no race to undo afterwards
            now = self._now()
            previous, previous_ttl, current, _, current_key = self._window(key, expiry, now)
            if floor(previous * previous_ttl / expiry + current) + amount > limit:
                return False
            self._incr(current_key, 2 * expiry, amount, now)
            self._sweep(now)
            return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        with self._lock:
            return self._window(key, expiry, self._now())[:4]

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        for window_key in self.sliding_window_keys(key, expiry, self._now()):
            self.clear(window_key)
