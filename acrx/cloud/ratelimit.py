"""Keeping acrx below each API's QPS limit (issue 16): a token bucket per account and API, shared
by every thread and every cluster of the run (a fleet plans and applies clusters concurrently,
and their calls to one account add up, as the cloud counts them).

The cloud limits calls per account (its RAM users and roles included) per API per second
("QPS limit for a single user" in the products' API limit tables). acrx takes a share of the
limit (SHARE: other tools of the account call too) and waits for a token before each attempt.
A throttling answer slows every API of that account (the account is what the cloud counts),
halving its rate (once per burst of refusals), at most down to MIN_FACTOR, and the rate doubles
again after each quiet RECOVER_S.

Limits: the published figures per (account, region, API), each with its own period, and the
assumptions where none was found, are in acrx.cloud.api_limits. One bucket per window: a
"300/60(s)" API refills at 300/60 per second and bursts at most what its minute allows.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from acrx import cancel

ASSUMED_LIMIT = 20.0       # [?] calls/second for an API api_limits has no row for (its DEFAULT)
SHARE = 0.8                # of the limit acrx allows itself
MIN_FACTOR = 1 / 4         # a throttled account is slowed at most this much
RECOVER_S = 2.0            # quiet time after which a slowed account doubles its rate again
HALVE_EVERY_S = 0.5        # throttles this close together (one burst of refusals) halve it once


def limit_for(action: str) -> tuple[tuple[float, float], ...]:
    """((calls, period_s), ...) for "product:Action" (acrx.cloud.api_limits)."""
    from acrx.cloud.api_limits import windows_for

    return windows_for(action)


class _Bucket:
    """Burst capacity is what the window's count leaves over the rate: in any one period the calls
    stay within capacity + rate * period <= the count, however the cloud's fixed windows fall."""

    def __init__(self, rate: float, capacity: float, now: float):
        self.tokens, self.capacity, self.last = capacity, capacity, now

    def take(self, rate: float, now: float) -> float:
        """Take a token at `rate`; the seconds to wait before the call (0: go now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * rate)
        self.last = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / rate


class RateLimiter:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = cancel.sleep, share: float = SHARE):
        self.clock, self.sleep, self.share = clock, sleep, share
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._slow: dict[str, tuple[float, float]] = {}   # account -> (factor, last throttled at)
        self.waited_s = 0.0
        self.throttles = 0

    def factor(self, account: str, now: float) -> float:
        factor, since = self._slow.get(account, (1.0, now))
        while factor < 1.0 and now - since >= RECOVER_S:   # recover step by step
            factor, since = min(1.0, factor * 2), since + RECOVER_S
        if factor >= 1.0:
            self._slow.pop(account, None)
        else:
            self._slow[account] = (factor, since)
        return factor

    def acquire(self, account: str, action: str, region: str | None = "") -> None:
        """Wait (cancellably) until `account` may call `action` in `region` once more."""
        from acrx.cloud.api_limits import region_key

        with self._lock:
            now = self.clock()
            factor = self.factor(account, now)
            wait = 0.0
            for calls, period in limit_for(action):   # one bucket per window; the call waits for all
                rate = calls / period * self.share * factor
                key = (account, region_key(action, region), action, period)
                bucket = self._buckets.get(key)
                if bucket is None:
                    bucket = self._buckets[key] = _Bucket(rate, max(1.0, calls * (1 - self.share)), now)
                wait = max(wait, bucket.take(rate, now))
            self.waited_s += wait
        if wait > 0:
            self.sleep(wait)

    def throttled(self, account: str) -> None:
        """The cloud refused a call of `account` for flow control: slow all of its APIs."""
        with self._lock:
            now = self.clock()
            factor = self.factor(account, now)
            _, since = self._slow.get(account, (1.0, now - HALVE_EVERY_S))
            if factor == 1.0 or now - since >= HALVE_EVERY_S:
                factor = max(MIN_FACTOR, factor / 2)
            self._slow[account] = (factor, now)
            self.throttles += 1
            for (acct, *_), bucket in self._buckets.items():
                if acct == account:
                    bucket.tokens = min(bucket.tokens, 0.0)   # no burst right after a refusal

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._slow.clear()
            self.waited_s, self.throttles = 0.0, 0


LIMITER = RateLimiter()   # one per process: every session and thread of the run shares it


def limited_client(get_client: Callable[[], object], action: str,
                   limiter: RateLimiter | None = None, region: str | None = "") -> Callable[[], object]:
    """A client factory for one call: each attempt waits for a token of the client's account, and
    a throttling answer slows that account (the retry policy then retries as before)."""
    limiter = limiter or LIMITER

    def factory():
        client = get_client()
        account = getattr(client, "acrx_account", None) or "default"
        limiter.acquire(account, action, region)
        return _Watched(client, account, limiter)

    return factory


class _Watched:
    """The SDK client, with throttling answers reported to the limiter on their way out."""

    def __init__(self, client, account: str, limiter: RateLimiter):
        self._client, self._account, self._limiter = client, account, limiter

    def __getattr__(self, name):
        value = getattr(self._client, name)
        if not callable(value) or name.startswith("_"):
            return value

        def call(*args, **kwargs):
            try:
                return value(*args, **kwargs)
            except Exception as exc:
                code = str(getattr(exc, "code", "") or "")
                if code.startswith(("Throttling", "Rejected.Throttling")) or code in ("TooManyRequests",
                                                                                     "QPSLimitExceeded"):
                    self._limiter.throttled(self._account)
                raise
        return call
