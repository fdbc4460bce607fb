"""Fault and timing knobs, deterministic under a seed, for tests, benchmarks and the demo."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass
class Knobs:
    latency_s: float = 0.0               # added to every cloud call
    throttle_rate: float = 0.0           # share of calls answered Throttling.User
    throttle_retry_after_ms: int | None = None  # also send x-acs-retry-after on throttles
    error_rate: float = 0.0              # share of calls answered 503 ServiceUnavailable
    reset_rate: float = 0.0              # share of calls whose connection is dropped unanswered
    consistency_delay_s: float = 0.0     # new roles/policies stay invisible this long to reads and STS
    failing_tasks: set[str] = field(default_factory=set)  # async task kinds that end in failure
    only_actions: set[str] | None = None # limit the random faults to these actions
    # action -> [(code, message, HTTP status), ...]: the next calls of that action answer these,
    # one each, in order (issue 13's retryable and not-found codes; services/cloud_codes.py).
    scripted_faults: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    seed: int = 0
    _rng: random.Random = field(default=None, repr=False)  # type: ignore[assignment]
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def next_fault(self, action: str) -> tuple[str, str, int] | None:
        with self._lock:
            queue = self.scripted_faults.get(action)
            return queue.pop(0) if queue else None

    def roll(self, rate: float, action: str) -> bool:
        if rate <= 0 or (self.only_actions is not None and action not in self.only_actions):
            return False
        with self._lock:
            return self._rng.random() < rate

    def task_fails(self, kind: str) -> bool:
        return kind in self.failing_tasks

    def set(self, **values) -> None:
        for key, value in values.items():
            if not hasattr(self, key) or key.startswith("_"):
                raise AttributeError(f"unknown knob {key!r}")
            setattr(self, key, value)
        if "seed" in values:
            self.reseed(values["seed"])
