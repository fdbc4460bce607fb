"""One retry policy for every cloud call.

The SDK's own `RuntimeOptions(autoretry=...)` is ignored by tea-openapi 0.4.6, so acrx retries
here: throttling, 503/5xx and connection failures, with exponential backoff and jitter inside a
time budget, honouring the server's `x-acs-retry-after`. A write that may have been carried out
(a lost connection, a 500/502/504) is retried only when it is idempotent: the caller says so, or
the request carries a ClientToken (the cloud then answers a repeat with the first result, see the
"How to ensure idempotence" pages of ECS and VPC). Else the error says the outcome is unknown and
that planning again converges (the cloud is the state, re-read before creating again).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from acrx import cancel
from acrx.cloud import dead_ends, errors
from acrx.errors import CloudError

T = TypeVar("T")


class RetryStats:
    """Attempts per action (thread-safe), for benchmarks and tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.attempts: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        self.slept_s = 0.0

    def record(self, action: str, *, retry: bool, slept: float = 0.0) -> None:
        with self._lock:
            if retry:
                self.retries[action] += 1
                self.slept_s += slept
            else:
                self.attempts[action] += 1

    @property
    def total_attempts(self) -> int:
        return sum(self.attempts.values())

    @property
    def total_retries(self) -> int:
        return sum(self.retries.values())

    def reset(self) -> None:
        with self._lock:
            self.attempts.clear()
            self.retries.clear()
            self.slept_s = 0.0


@dataclass
class RetryPolicy:
    budget_s: float = 60.0          # total time one call may take, retries included
    max_attempts: int = 10
    initial_s: float = 0.5
    factor: float = 2.0
    max_delay_s: float = 10.0
    jitter: float = 0.2             # +-20%: concurrent callers do not retry in lockstep
    sleep: Callable[[float], None] = cancel.sleep   # wakes (raising Interrupted) on Ctrl-C
    clock: Callable[[], float] = time.monotonic
    rng: Callable[[], float] = random.random
    stats: RetryStats = field(default_factory=RetryStats)

    def delay(self, retry_number: int, retry_after_s: float | None) -> float:
        base = min(self.initial_s * self.factor ** retry_number, self.max_delay_s)
        delay = base * (1 + self.jitter * (2 * self.rng() - 1))
        if retry_after_s is not None:
            # The server said when it will take us again: earlier is pointless, later wasteful.
            delay = max(retry_after_s, 0.0)
        return max(delay, 0.0)

    @classmethod
    def no_retries(cls) -> "RetryPolicy":
        return cls(max_attempts=1)


DEFAULT_POLICY = RetryPolicy()


def call(fn: Callable[[], T], *, action: str, policy: RetryPolicy | None = None,
         idempotent: bool = False) -> T:
    """Run `fn` (one SDK call) under the policy; failures come out as CloudError.

    `idempotent` is True for reads and for writes the server deduplicates (a ClientToken).
    """
    policy = policy or DEFAULT_POLICY
    started = policy.clock()
    retry_number = 0
    while True:
        cancel.check()   # a cancelled run starts no new call; one already in flight finishes
        policy.stats.record(action, retry=False)
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - every SDK failure is translated below
            err = errors.translate(exc, action=action)
        attempts = retry_number + 1
        if not errors.is_retryable(err, idempotent=idempotent):
            if not idempotent and errors.outcome_unknown(err):
                raise _outcome_unknown(err, attempts) from None
            raise err from None
        why = dead_ends.dead_end(err)   # a DNS failure, or nothing listening on loopback
        if attempts >= policy.max_attempts or why:
            raise _gave_up(err, attempts, policy.clock() - started, why) from None
        delay = policy.delay(retry_number, getattr(err, "retry_after_s", None))
        if policy.clock() - started + delay > policy.budget_s:
            raise _gave_up(err, attempts, policy.clock() - started) from None
        if retry_number == 0:
            dead_ends.first_retry(err, action, policy.max_attempts)
        policy.stats.record(action, retry=True, slept=delay)
        policy.sleep(delay)
        retry_number += 1


def _outcome_unknown(err: CloudError, attempts: int) -> CloudError:
    out = CloudError(err.code, f"{err.cloud_message}; the outcome of this write is unknown "
                     f"(it may or may not have been carried out), so it was not retried. "
                     f"Run the plan again: it reads the real state and converges.",
                     request_id=err.request_id, http_status=err.http_status, action=err.action,
                     access_denied_detail=err.access_denied_detail)
    out.retry_after_s, out.connection, out.attempts = None, getattr(err, "connection", None), attempts
    out.hint = "plan again; nothing will be done twice"
    out.outcome_unknown = True   # adapters that can read the thing back confirm it (CloudApi._create)
    return out


def _gave_up(err: CloudError, attempts: int, elapsed: float, why: str | None = None) -> CloudError:
    noun = "attempt" if attempts == 1 else "attempts"
    out = CloudError(err.code, f"{err.cloud_message} (gave up after {attempts} {noun} in {elapsed:.1f}s"
                     + (f": {why})" if why else ")"),
                     request_id=err.request_id, http_status=err.http_status, action=err.action,
                     access_denied_detail=err.access_denied_detail)
    out.retry_after_s, out.connection, out.attempts = getattr(err, "retry_after_s", None), \
        getattr(err, "connection", None), attempts
    return out


def invoke(get_client: Callable[[], object], method: str, *args, action: str,
           policy: RetryPolicy | None = None, idempotent: bool = False) -> dict:
    """Call `get_client().<method>(*args, RuntimeOptions())` under the policy; return the body map.

    Adapters use this so that every SDK call goes through translation and retries, and so
    that SDK models never leave acrx.cloud (the body comes back in wire field names). A request
    with a ClientToken is idempotent whatever the caller says: the same token is re-sent.
    """
    from darabonba.runtime import RuntimeOptions

    idempotent = idempotent or any(getattr(arg, "client_token", None) for arg in args)

    def once():
        client = get_client()
        dead_ends.calling(client)   # the host a failure message names
        response = getattr(client, method)(*args, RuntimeOptions())
        body = getattr(response, "body", None)
        if body is None:
            return {}
        return body.to_map() if hasattr(body, "to_map") else body

    return call(once, action=action, policy=policy, idempotent=idempotent)
