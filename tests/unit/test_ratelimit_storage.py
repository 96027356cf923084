"""``lazymemory://`` (portal/ratelimit_storage.py): counts like ``memory://`` under every
strategy, expires lazily on access, keeps its memory bounded with a sweep on writes, is
safe under threads and never starts one."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import time_machine
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import STRATEGIES

from portal import config
from portal.ratelimit_storage import SWEEP_BATCH, LazyMemoryStorage

T0 = 1_900_000_020.0  # a whole number of minutes, so sliding windows start here


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def shift(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def storage(clock):
    return LazyMemoryStorage("lazymemory://", clock=clock)


def limiter_for(strategy: str, storage):
    return STRATEGIES[strategy](storage)


# --- registration ------------------------------------------------------------------------------


def test_the_scheme_is_registered_and_is_the_default(monkeypatch):
    assert isinstance(storage_from_string("lazymemory://"), LazyMemoryStorage)
    monkeypatch.delenv("PORTAL_RATELIMIT_STORAGE_URL", raising=False)
    assert config.load({"PORTAL_ENV": "testing"})["RATELIMIT_STORAGE_URI"] == "lazymemory://"


def test_the_app_uses_it_by_default(monkeypatch, tmp_path):
    from portal import create_app
    from portal.extensions import limiter

    monkeypatch.delenv("PORTAL_RATELIMIT_STORAGE_URL", raising=False)
    create_app({"PORTAL_ENV": "testing", "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert isinstance(limiter.storage, LazyMemoryStorage)


# --- fixed window ------------------------------------------------------------------------------


def test_fixed_window_counts_and_refuses_over_the_limit(storage, clock):
    limiter = limiter_for("fixed-window", storage)
    item = parse("3 per minute")
    assert [limiter.hit(item, "api", "k1") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(item, "api", "k2")  # another key has its own budget
    stats = limiter.get_window_stats(item, "api", "k1")
    assert stats.remaining == 0 and stats.reset_time == T0 + 60
    assert not limiter.test(item, "api", "k1")
    assert storage.get(item.key_for("api", "k1")) == 4


def test_a_window_expires_on_the_next_access(storage, clock):
    limiter = limiter_for("fixed-window", storage)
    item = parse("2 per minute")
    key = item.key_for("k")
    assert limiter.hit(item, "k") and limiter.hit(item, "k") and not limiter.hit(item, "k")
    clock.shift(59.9)
    assert not limiter.hit(item, "k")
    clock.shift(0.1)  # exactly one minute after the first hit: the window is over
    assert storage.get(key) == 0 and storage.get_expiry(key) == clock.now
    assert limiter.hit(item, "k")
    assert storage.get(key) == 1 and storage.get_expiry(key) == clock.now + 60


def test_incr_by_an_amount_and_the_expiry_is_set_by_the_first_hit(storage, clock):
    assert storage.incr("k", 10, amount=5) == 5
    clock.shift(4)
    assert storage.incr("k", 10) == 6
    assert storage.get_expiry("k") == T0 + 10
    assert storage.get_expiry("unknown") == clock.now and storage.get("unknown") == 0


def test_clear_resets_one_key_and_reset_all_of_them(storage, clock):
    for key in ("a", "b", "c"):
        storage.incr(key, 60)
    storage.clear("a")
    assert storage.get("a") == 0 and storage.get("b") == 1
    assert storage.incr("a", 60) == 1
    assert storage.reset() == 3
    assert [storage.get(key) for key in "abc"] == [0, 0, 0]
    assert storage.key_count() == 0 and storage.check()


# --- moving window and sliding window counter --------------------------------------------------


def test_moving_window_forgets_each_hit_a_window_after_it(storage, clock):
    limiter = limiter_for("moving-window", storage)
    item = parse("3 per 10 seconds")
    for _ in range(3):
        assert limiter.hit(item, "k")
        clock.shift(4)  # hits at T0, T0+4, T0+8
    clock.now = T0 + 9.5
    assert not limiter.hit(item, "k")
    assert limiter.get_window_stats(item, "k") == (T0 + 10, 0)
    clock.now = T0 + 10.5  # the first hit left the window
    assert limiter.test(item, "k") and limiter.hit(item, "k") and not limiter.hit(item, "k")
    assert not limiter.hit(item, "other", cost=4)  # more than the limit at once
    limiter.clear(item, "k")
    assert limiter.get_window_stats(item, "k") == (clock.now + 10, 3)


def test_sliding_window_weighs_the_previous_window(storage, clock):
    limiter = limiter_for("sliding-window-counter", storage)
    item = parse("10 per minute")
    assert all(limiter.hit(item, "k") for _ in range(10))
    assert not limiter.hit(item, "k")
    clock.shift(90)  # half way through the next window: the last one counts for 10 * 0.5
    assert [limiter.hit(item, "k") for _ in range(6)] == [True] * 5 + [False]
    assert limiter.get_window_stats(item, "k").remaining == 0
    limiter.clear(item, "k")
    assert limiter.get_window_stats(item, "k").remaining == 10
    clock.shift(120)
    assert limiter.hit(item, "k", cost=10) and not limiter.hit(item, "k", cost=11)


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_every_strategy_answers_like_the_memory_storage(strategy):
    """The same random walk of hits and clock moves through both storages: same answers."""
    rng = random.Random(7)
    items = [parse("5 per 10 seconds"), parse("3 per minute"), parse("20 per hour")]
    with time_machine.travel(T0 + 0.37, tick=False) as traveller:
        reference, lazy = MemoryStorage(), LazyMemoryStorage()
        try:
            limiters = [limiter_for(strategy, s) for s in (reference, lazy)]
            for _ in range(1500):
                item, who = rng.choice(items), rng.choice("abc")
                cost = rng.choice([1, 1, 1, 2])
                expected, got = (limiter.hit(item, who, cost=cost) for limiter in limiters)
                assert got == expected
                stats = [limiter.get_window_stats(item, who) for limiter in limiters]
                assert stats[1].remaining == stats[0].remaining
                assert stats[1].reset_time == pytest.approx(stats[0].reset_time)
                traveller.shift(rng.choice([0.013, 0.7, 1.9, 4.1, 33.3]))
        finally:
            reference.timer.cancel()


# --- memory, threads -------------------------------------------------------------------------


def test_the_sweep_on_writes_drops_expired_keys(storage, clock):
    for i in range(5000):
        storage.incr(f"burst:{i}", 1)  # a burst of one-off clients
    clock.shift(2)
    for _ in range(5000 // SWEEP_BATCH + 1):
        storage.incr("steady", 60)
    assert storage.key_count() == 1


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_memory_follows_the_keys_in_use_not_every_key_ever_seen(storage, clock, strategy):
    limiter = limiter_for(strategy, storage)
    item = parse("5 per 10 seconds")
    for second in range(300):  # 50 new clients a second for five minutes: 15,000 keys
        for client in range(50):
            limiter.hit(item, f"{second}:{client}")
        clock.shift(1)
    live = 50 * 10 * (2 if strategy == "sliding-window-counter" else 1)  # 2 windows kept
    assert storage.key_count() <= live + 50


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_no_thread_is_started_by_any_hit(monkeypatch, strategy):
    started = []
    original = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda t: started.append(t) or original(t))
    before = threading.active_count()
    limiter = limiter_for(strategy, LazyMemoryStorage())
    item = parse("100 per second")
    for i in range(1000):
        limiter.hit(item, f"client{i % 7}")
    assert started == [] and threading.active_count() == before


def test_the_thread_check_would_catch_the_memory_storage(monkeypatch):
    started = []
    original = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda t: started.append(t) or original(t))
    storage = MemoryStorage()
    limiter_for("fixed-window", storage).hit(parse("1 per second"), "k")
    assert started
    storage.timer.cancel()


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_threads_hitting_one_key_get_exactly_the_limit(strategy):
    storage = LazyMemoryStorage()
    limiter = limiter_for(strategy, storage)
    item = parse("1000 per hour")
    barrier = threading.Barrier(8)

    def worker(_):
        barrier.wait()
        return sum(limiter.hit(item, "shared") for _ in range(300))

    with ThreadPoolExecutor(8) as pool:
        accepted = sum(pool.map(worker, range(8)))
    assert accepted == 1000
    assert limiter.get_window_stats(item, "shared").remaining == 0


def test_threads_incrementing_one_counter_lose_no_hit():
    storage = LazyMemoryStorage()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: [storage.incr("k", 60) for _ in range(500)], range(8)))
    assert storage.get("k") == 4000
