"""Per-account, per-API rate limits (issue 16), counted as the cloud counts them: per
(account, region, API), in fixed windows of each limit's own period (a "300/60(s)" limit admits
300 calls in the wall-clock minute, however they bunch up; the next call waits for the next minute).

The figures, their pages and the assumptions ([?]) are in core/qps_limits.py. A call over any of
its windows is refused with the flow-control answer of a user's per-API limit (core/errors.py
throttled(): code Throttling.User, "Request was denied due to user flow control.", HTTP 400), the
same for every product acrx calls:
- STS: "ErrorCode: Throttling.User. Request was denied due to user flow control." (GetCallerIdentity,
  turbot/steampipe-plugin-alicloud#483); the STS notice of 2022-08-29: "Throttling errors".
- CS (ROA): terraform-provider-alicloud PR #7183 retries "Throttling.User" from the CS API.
- VPC: terraform-provider-alicloud PR #5367 ("user flow control" on route-table reads).
- HTTP 400 through the tea SDK: "code: 400, Request was denied due to user flow control."
  (developer.aliyun.com/ask/571020, /ask/639560). Throttling.Api (an API's total over all users)
  is not modelled: acrx alone cannot reach it. RAM, CBN, CR, PrivateZone, VpcPeer: the same code
  assumed [?] (the tea-based SDKs of every product share the RPC error format).
The refused call is not counted (the cloud rejects it before the API runs).
"""

from __future__ import annotations

import threading
import time

from acrx.sandbox.core.qps_limits import FLEET_LIMITS, GLOBAL_PRODUCTS, limit_of

__all__ = ["FLEET_LIMITS", "QpsLimiter"]


class QpsLimiter:
    """limits: see qps_limits.limit_of (a Limit, windows or calls/s per "product:Action" key, the
    product being the API's code as in its SDK and quota page: cbn, vpcpeer, not the RAM prefix)."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self._lock = threading.Lock()
        # (account, region, "product:Action", period) -> (window index, calls admitted in it)
        self._windows: dict[tuple[str, str, str, float], tuple[int, int]] = {}
        self.throttled = 0   # answers refused so far (for benchmarks and tests)

    @staticmethod
    def limit_for(limits: dict, product: str, action: str):
        return limit_of(limits, product, action)

    def admit(self, limits: dict, account: str, product: str, action: str, region: str | None = "") -> bool:
        windows = limit_of(limits, product, action)
        if not windows:
            return True
        region = "" if product in GLOBAL_PRODUCTS else (region or "")
        now = self.clock()
        api = f"{product}:{action}"
        with self._lock:
            counted = []
            for calls, period in windows:
                key = (account, region, api, period)
                index = int(now // period)
                window, count = self._windows.get(key, (index, 0))
                if window != index:
                    window, count = index, 0
                if count + 1 > calls:
                    self.throttled += 1
                    return False
                counted.append((key, window, count + 1))
            for key, window, count in counted:
                self._windows[key] = (window, count)
            return True
