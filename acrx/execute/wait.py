"""Waiting on real signals with backoff inside a time budget, and the backoff itself."""

from __future__ import annotations

import random
import time
from typing import Callable, Iterator, TypeVar

from acrx import cancel
from acrx.errors import AcrxError

T = TypeVar("T")


class WaitTimeout(AcrxError):
    def __init__(self, what: str, waited: float):
        self.what = what
        self.waited = waited
        super().__init__(f"gave up waiting for {what} after {waited:.0f}s")


class Backoff(Iterator[float]):
    """Exponential delays with jitter, optionally inside a budget.

    `next_delay(retry_after)` honours a server's Retry-After even above `max_delay`, but never
    past the budget. Iteration stops when the budget is spent.
    """

    def __init__(self, *, initial: float = 0.5, factor: float = 1.6, max_delay: float = 10.0,
                 jitter: float = 0.2, budget_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 rng: Callable[[], float] = random.random):
        if initial <= 0 or factor < 1 or max_delay <= 0 or not 0 <= jitter < 1:
            raise ValueError("backoff needs initial > 0, factor >= 1, max_delay > 0, 0 <= jitter < 1")
        self.initial, self.factor, self.max_delay, self.jitter = initial, factor, max_delay, jitter
        self.budget_s = budget_s
        self._clock, self._rng = clock, rng
        self._start = clock()
        self._attempt = 0

    def elapsed(self) -> float:
        return self._clock() - self._start

    def remaining(self) -> float | None:
        return None if self.budget_s is None else self.budget_s - self.elapsed()

    def next_delay(self, retry_after: float | None = None) -> float:
        base = min(self.initial * self.factor ** self._attempt, self.max_delay)
        self._attempt += 1
        # Jitter spreads concurrent waiters so they do not poll (or retry) in lockstep.
        delay = base * (1 + self.jitter * (2 * self._rng() - 1))
        if retry_after is not None and retry_after > delay:
            delay = retry_after
        remaining = self.remaining()
        if remaining is not None:
            if remaining <= 0:
                raise StopIteration
            delay = min(delay, remaining)
        return max(delay, 0.0)

    def __next__(self) -> float:
        return self.next_delay()

    def __iter__(self) -> "Backoff":
        return self


def wait_until(check: Callable[[], T], *, what: str, budget_s: float, initial: float = 0.5,
               factor: float = 1.6, max_delay: float = 10.0, jitter: float = 0.2,
               clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], None] = cancel.sleep,
               on_wait: Callable[[float], None] | None = None,
               rng: Callable[[], float] = random.random) -> T:
    """Call `check` until it returns a truthy value and return that value.

    Between calls, sleep with backoff; `on_wait(elapsed)` is told before each sleep. The last
    check happens when the budget runs out, then WaitTimeout(what, waited) is raised. A cancelled
    run (acrx.cancel) ends the wait at once with Interrupted, whatever `sleep` is.
    """
    backoff = Backoff(initial=initial, factor=factor, max_delay=max_delay, jitter=jitter,
                      budget_s=budget_s, clock=clock, rng=rng)
    while True:
        cancel.check()
        value = check()
        if value:
            return value
        try:
            delay = backoff.next_delay()
        except StopIteration:
            raise WaitTimeout(what, backoff.elapsed()) from None
        if on_wait is not None:
            on_wait(backoff.elapsed())
        sleep(delay)
        cancel.check()
