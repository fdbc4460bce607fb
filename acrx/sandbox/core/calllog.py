"""Every call the fake cloud answered: for tests ('no write happened') and benchmarks."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Call:
    service: str
    action: str
    account: str | None
    region: str | None
    writes: bool
    status: int
    error_code: str | None
    started: float
    ended: float
    session: str | None = None   # the caller's role session name, when it called as an assumed role


class CallLog:
    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._lock = threading.Lock()

    def record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def writes(self, *, successful_only: bool = True) -> list[Call]:
        return [c for c in self.calls() if c.writes and (c.status < 400 or not successful_only)]

    def counts(self) -> Counter:
        return Counter(f"{c.service}:{c.action}" for c in self.calls())

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def mark(self) -> int:
        with self._lock:
            return len(self._calls)

    def since(self, mark: int) -> list[Call]:
        with self._lock:
            return list(self._calls[mark:])
