"""Fault and timing knobs, deterministic under a seed, for tests, benchmarks and the demo.

They can be changed while the sandbox runs (`acrx sandbox faults`, through the control endpoint
in core/control.py): `update()` validates a whole set of values before it applies any of them.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field

# The kinds of slow operation the models start (core/slowop.py refuses any other), so that
# `failing_tasks` can be checked: a typo would otherwise make a fault silently never happen.
TASK_KINDS = frozenset({
    "rrsa", "cluster_update", "addon_install", "addon_uninstall", "addon_config",  # CS
    "vpc_link",                                                                   # CR
    "peering",                                                                    # VpcPeer
    "route",                                                                      # VPC
    "cen_attachment", "cen_peer_attachment",                                      # CBN
})
RATES = ("throttle_rate", "error_rate", "reset_rate", "lost_answer_rate")
MAX_DELAY_S = 600.0   # a latency or consistency delay beyond this is a typo, not a test


@dataclass
class Knobs:
    latency_s: float = 0.0               # added to every cloud call
    throttle_rate: float = 0.0           # share of calls answered Throttling.User
    throttle_retry_after_ms: int | None = None  # also send x-acs-retry-after on throttles
    error_rate: float = 0.0              # share of calls answered 503 ServiceUnavailable
    reset_rate: float = 0.0              # share of calls dropped unanswered before the handler runs
    lost_answer_rate: float = 0.0        # share of calls carried out whose answer is then dropped
    consistency_delay_s: float = 0.0     # new roles/policies stay invisible this long to reads and STS
    failing_tasks: set[str] = field(default_factory=set)  # async task kinds that end in failure
    only_actions: set[str] | None = None # limit the random faults to these actions
    # action -> [(code, message, HTTP status), ...]: the next calls of that action answer these,
    # one each, in order (issue 13's retryable and not-found codes; services/cloud_codes.py).
    scripted_faults: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    # Per-account, per-API rate limits (core/qps.py): "product:Action" | "product:*" | "*" -> a
    # qps_limits.Limit, ((calls, period_s), ...) or calls/s.
    qps_limits: dict[str, object] = field(default_factory=dict)
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

    # -- the operator's view (JSON in, JSON out) --------------------------------------------
    def snapshot(self) -> dict:
        return {"latency_s": self.latency_s, "throttle_rate": self.throttle_rate,
                "throttle_retry_after_ms": self.throttle_retry_after_ms, "error_rate": self.error_rate,
                "reset_rate": self.reset_rate, "lost_answer_rate": self.lost_answer_rate,
                "consistency_delay_s": self.consistency_delay_s, "failing_tasks": sorted(self.failing_tasks),
                "only_actions": None if self.only_actions is None else sorted(self.only_actions),
                "seed": self.seed}

    def update(self, values: dict, *, clear: bool = False) -> None:
        """Apply operator-given values (after clearing, if asked), all or none; ValueError names
        the first bad one."""
        clean = {key: _validate(key, value) for key, value in values.items()}
        if clear:
            self.clear()
        self.set(**clean)

    def clear(self) -> None:
        """Every fault off, the seed kept (a cleared sandbox answers like a new one)."""
        self.set(latency_s=0.0, throttle_rate=0.0, throttle_retry_after_ms=None, error_rate=0.0,
                 reset_rate=0.0, lost_answer_rate=0.0, consistency_delay_s=0.0, failing_tasks=set(),
                 only_actions=None, seed=self.seed)


def _number(key: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{key} must be a number, not {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{key} must be between {low:g} and {high:g}, not {value!r}")
    return float(value)


def _names(key: str, value, allowed: frozenset[str] | None) -> set[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{key} must be a list of names")
    unknown = sorted(set(value) - allowed) if allowed is not None else []
    if unknown:
        raise ValueError(f"{key}: unknown {', '.join(unknown)}; known: {', '.join(sorted(allowed))}")
    return set(value)


def _validate(key: str, value):
    if key in RATES:
        return _number(key, value, 0.0, 1.0)
    if key in ("latency_s", "consistency_delay_s"):
        return _number(key, value, 0.0, MAX_DELAY_S)
    if key == "throttle_retry_after_ms":
        return None if value is None else int(_number(key, value, 0, MAX_DELAY_S * 1000))
    if key == "failing_tasks":
        return _names(key, value, TASK_KINDS)
    if key == "only_actions":
        return None if value is None else _names(key, value, None)
    if key == "seed":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"seed must be a whole number >= 0, not {value!r}")
        return value
    raise ValueError(f"unknown knob {key!r}")
