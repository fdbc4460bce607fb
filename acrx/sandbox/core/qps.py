"""Per-account, per-API QPS limits (issue 16): the cloud counts the calls of one account (its
RAM users and roles included) to one API and answers Throttling.User beyond the limit.

Published limits where found, stated assumptions where not ([?]: the stricter reading is taken):
- sts:AssumeRole: 100 calls/second per account ("Notification of Request Limit Upgrade of STS
  AssumeRole API", Alibaba Cloud notice, 2022-08-29; RAM users and roles of the account count).
- Simple Application Server, MPS, ApsaraMQ and RTC publish per-API tables in this shape ("QPS
  limit for a single user": the account and its RAM identities together, per API, per second).
- RAM, CS, CR, VPC, VpcPeer, CBN, PrivateZone: no per-API table found [?]; assumed 20
  calls/second per account per API, far below what those products are known to take, so a fleet
  that stays under it in the sandbox stays under it in the cloud.
Counting is per wall-clock second (a fixed window), as the published tables state limits.
"""

from __future__ import annotations

import threading
import time

PUBLISHED = {"sts:AssumeRole": 100.0}
ASSUMED_PER_API = 20.0   # [?] see the module doc
FLEET_LIMITS = {**PUBLISHED, "*": ASSUMED_PER_API}


class QpsLimiter:
    """limits: "product:Action" or "product:*" or "*" -> calls per second per account."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}
        self.throttled = 0   # answers refused so far (for benchmarks and tests)

    @staticmethod
    def limit_for(limits: dict[str, float], product: str, action: str) -> float | None:
        for key in (f"{product}:{action}", f"{product}:*", "*"):
            if key in limits:
                return float(limits[key])
        return None

    def admit(self, limits: dict[str, float], account: str, product: str, action: str) -> bool:
        limit = self.limit_for(limits, product, action)
        if limit is None:
            return True
        second = int(self.clock())
        key = (account, f"{product}:{action}")
        with self._lock:
            window, count = self._windows.get(key, (second, 0))
            if window != second:
                window, count = second, 0
            if count + 1 > limit:
                self.throttled += 1
                self._windows[key] = (window, count)
                return False
            self._windows[key] = (window, count + 1)
            return True
