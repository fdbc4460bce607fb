"""The sandbox clock: wall time plus an offset tests can advance, and a scale for slow work.

Slow operations (RRSA enabling, addon installs, peering, CEN attachments, VPC links) are state
machines that become ready at `start + duration * scale`. Scale 0 makes them ready on the next
read, as the tests want; the demo uses a small scale so a user sees them wait.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone


class Clock:
    def __init__(self, scale: float = 0.0):
        self.scale = scale
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def ready_at(self, cloud_seconds: float) -> float:
        """When an operation the real cloud takes `cloud_seconds` for completes here."""
        return self.now() + cloud_seconds * self.scale

    def iso(self, ts: float | None = None) -> str:
        return datetime.fromtimestamp(self.now() if ts is None else ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def iso_ms(self, ts: float | None = None) -> str:
        return datetime.fromtimestamp(self.now() if ts is None else ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_iso(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
