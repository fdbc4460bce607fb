"""Issue 16: acrx stays below each API's per-account QPS limit (acrx.cloud.ratelimit), and a
throttling answer slows every API of that account; the sandbox's fleet scenario counts calls per
account, per API, per second (acrx.sandbox.core.qps) and refuses what is over."""

from __future__ import annotations

from collections import Counter

import pytest

from acrx.cloud.ratelimit import ASSUMED_LIMIT, HALVE_EVERY_S, LIMITER, RECOVER_S, SHARE, RateLimiter
from acrx.sandbox.core.qps import FLEET_LIMITS, QpsLimiter
from acrx.sandbox.core.qps_limits import GLOBAL_PRODUCTS
from acrx.sandbox.fleet import FleetSandbox

pytestmark = pytest.mark.timeout(600)


class FakeTime:
    def __init__(self):
        self.now, self.slept = 0.0, []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_paces_one_account_and_api_below_the_limit():
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)
    starts = []
    for _ in range(100):
        limiter.acquire("registry", "ram:CreateRole")   # 20/1(s) as published (acrx.cloud.api_limits)
        starts.append(t.now)
    # In every one-second window the calls stay within the assumed limit.
    for start in starts:
        assert sum(1 for s in starts if start <= s < start + 1.0) <= ASSUMED_LIMIT
    # And the pace is the share of the limit acrx allows itself.
    assert starts[-1] == pytest.approx((100 - ASSUMED_LIMIT * (1 - SHARE)) / (ASSUMED_LIMIT * SHARE), rel=0.05)


def test_a_throttle_slows_every_api_of_that_account_only_and_recovers():
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)

    def spacing(account, action):
        for _ in range(5):                   # empty whatever burst is left (capacity 4)
            limiter.acquire(account, action)
        before = t.now
        limiter.acquire(account, action)
        return t.now - before

    normal = spacing("cluster-1", "ram:CreateRole")
    limiter.throttled("cluster-1")
    limiter.throttled("cluster-1")                                                 # one burst: halved once
    assert spacing("cluster-1", "ram:CreatePolicy") == pytest.approx(2 * normal)  # another API, same account
    assert spacing("cluster-2", "ram:CreateRole") == pytest.approx(normal)        # another account
    t.now += HALVE_EVERY_S
    limiter.throttled("cluster-1")
    assert spacing("cluster-1", "ram:CreateRole") == pytest.approx(4 * normal)
    t.now += HALVE_EVERY_S
    limiter.throttled("cluster-1")                                                 # at most 4x slower
    assert spacing("cluster-1", "ram:CreateRole") == pytest.approx(4 * normal)
    t.now += 2 * RECOVER_S + 0.1
    assert spacing("cluster-1", "ram:CreateRole") == pytest.approx(normal)


def test_sandbox_counts_per_account_api_second():
    now = [1000.2]
    qps = QpsLimiter(clock=lambda: now[0])
    limits = {"ram:*": 2, "*": 5}
    assert [qps.admit(limits, "a", "ram", "GetRole") for _ in range(3)] == [True, True, False]
    assert qps.admit(limits, "b", "ram", "GetRole")            # another account
    assert qps.admit(limits, "a", "ram", "GetPolicy")          # another API
    now[0] = 1001.0
    assert qps.admit(limits, "a", "ram", "GetRole")            # the next second
    assert FLEET_LIMITS["sts:AssumeRole"].windows == ((100, 1),)


def _over_limit(calls) -> list:
    out = []
    for product in {c.service for c in calls}:
        for action in {c.action for c in calls if c.service == product}:
            for n_max, period in QpsLimiter.limit_for(FLEET_LIMITS, product, action) or ():
                per_window = Counter((c.account, c.region if product not in GLOBAL_PRODUCTS else "",
                                      int(c.started // period)) for c in calls
                                     if c.service == product and c.action == action and c.status < 400)
                out += [(product, action, key, n) for key, n in per_window.items() if n > n_max]
    return out


def test_fleet_setup_stays_below_the_sandbox_limits(tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    LIMITER.reset()
    sandbox = FleetSandbox(clusters=6, accounts=2).start()
    try:
        sandbox.write_state(tmp_path / "sb")
        mark = sandbox.world.calls.mark()
        result = run_cli("--sandbox", tmp_path / "sb", "fleet", "setup", "--yes", "--no-verify", "--parallelism", "6",
                         "-f", tmp_path / "sb" / "acrx.yaml")
        assert result.exit_code == 0, result.stderr
        calls = sandbox.world.calls.since(mark)
        assert sandbox.world.qps.throttled == 0
        assert _over_limit(calls) == []
    finally:
        sandbox.stop()


def test_a_stricter_cloud_throttles_and_the_fleet_still_converges(tmp_path, run_cli, monkeypatch):
    """RAM limited to 3 calls/s per account per API: acrx is refused, slows the account, converges."""
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    LIMITER.reset()
    sandbox = FleetSandbox(clusters=4, accounts=2).start()
    sandbox.world.knobs.qps_limits = {"ram:*": 3.0, "*": 20.0}
    try:
        sandbox.write_state(tmp_path / "sb")
        args = ("--sandbox", tmp_path / "sb", "fleet")
        result = run_cli(*args, "setup", "--yes", "--no-verify", "-f", tmp_path / "sb" / "acrx.yaml")
        assert result.exit_code == 0, result.stderr
        assert sandbox.world.qps.throttled > 0 and LIMITER.throttles > 0
        again = run_cli(*args, "plan", "--detailed-exitcode", "-f", tmp_path / "sb" / "acrx.yaml")
        assert again.exit_code == 0, again.stdout + again.stderr
    finally:
        sandbox.stop()
        LIMITER.reset()
