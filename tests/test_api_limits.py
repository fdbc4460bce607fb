"""Issue 16: the published API rate limits, one table per side (acrx.cloud.api_limits for acrx's
buckets, acrx/sandbox/core/qps_limits.py for the sandbox's counting). Pure tests: every API acrx's
adapters call has a row in both tables, the two tables agree, and acrx's buckets keep each
window (per second and per minute) within its count."""

from __future__ import annotations

import ast
import pathlib
from collections import Counter

import pytest

from acrx.cloud import api_limits
from acrx.cloud.ratelimit import SHARE, RateLimiter

ROOT = pathlib.Path(__file__).resolve().parents[1]
ADAPTERS = ROOT / "acrx" / "cloud"


def called_apis() -> set[str]:
    """"product:Action" for every call an adapter makes: a self.<method>("Action", ...) call inside a
    class that sets PRODUCT (the adapter base prefixes the action with PRODUCT, adapter.py _call)."""
    found = set()
    for path in sorted(ADAPTERS.glob("*.py")):
        tree = ast.parse(path.read_text())
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            product = next((st.value.value for st in cls.body if isinstance(st, ast.Assign)
                            and any(getattr(t, "id", "") == "PRODUCT" for t in st.targets)
                            and isinstance(st.value, ast.Constant)), None)
            if not product:
                continue
            for node in ast.walk(cls):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                owner = node.func.value   # self.<m>(...) or super().<m>(...)
                if (isinstance(owner, ast.Name) and owner.id == "self"
                        or isinstance(owner, ast.Call) and getattr(owner.func, "id", "") == "super"):
                    args = node.args
                    if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str) \
                            and args[0].value[:1].isupper() and args[0].value.isalnum():
                        found.add(f"{product}:{args[0].value}")
    return found


def sandbox_table() -> dict:
    """The sandbox's table, read in the test (acrx itself never imports the sandbox)."""
    from acrx.sandbox.core import qps_limits

    return qps_limits


def test_the_collector_sees_the_adapters():
    apis = called_apis()
    # Spot checks of calls made through each helper (_call, _read, _create, _delete, pages).
    assert {"ram:GetRole", "ram:CreateRole", "ram:ListUsers", "sts:AssumeRole", "cbn:CreateTransitRouter",
            "cbn:ListTransitRouterVpcAttachments", "vpc:DescribeVSwitches", "cs:DescribeClusterDetail",
            "cr:GetInstanceEndpoint", "pvtz:BindZoneVpc", "vpcpeer:CreateVpcPeerConnection"} <= apis
    assert len(apis) > 80


def test_every_api_acrx_calls_has_a_row_in_both_tables():
    apis = called_apis()
    assert sorted(apis - set(api_limits.LIMITS)) == [], "acrx.cloud.api_limits lacks these"
    assert sorted(apis - set(sandbox_table().LIMITS)) == [], "acrx/sandbox/core/qps_limits.py lacks these"


def test_the_two_tables_agree():
    sandbox = sandbox_table()
    assert set(api_limits.LIMITS) == set(sandbox.LIMITS)
    for api, limit in api_limits.LIMITS.items():
        other = sandbox.LIMITS[api]
        assert tuple(map(tuple, limit.windows)) == tuple(map(tuple, other.windows)), api
        assert limit.source.startswith("[?]") == other.source.startswith("[?]"), api
    assert api_limits.DEFAULT.windows == sandbox.DEFAULT.windows
    assert api_limits.GLOBAL_PRODUCTS == sandbox.GLOBAL_PRODUCTS


def test_every_row_names_its_page_or_says_it_is_assumed():
    pages = {api_limits.RAM, api_limits.STS, api_limits.CBN, api_limits.VPC, api_limits.VPCPEER, api_limits.CS}
    for api, limit in api_limits.LIMITS.items():
        assert limit.source.startswith("[?] ") or limit.source.split(" ")[0] in pages, api
        assert limit.windows and all(n >= 1 and p >= 1 for n, p in limit.windows), api
    # The figures the brief quotes, with their periods kept.
    assert api_limits.LIMITS["cbn:CreateTransitRouter"].windows == ((3, 1),)
    assert api_limits.LIMITS["cbn:CreateCen"].windows == ((300, 60),)
    assert api_limits.LIMITS["ram:AttachPolicyToRole"].windows == ((10, 1),)
    assert api_limits.LIMITS["ram:GetRole"].windows == ((100, 1),)
    assert api_limits.LIMITS["sts:AssumeRole"].windows == ((100, 1),)
    # Conflicting copies: both kept (ListTransitRouters 500/60 and 20/1), or the lower (DescribeCens).
    assert set(api_limits.LIMITS["cbn:ListTransitRouters"].windows) == {(500, 60), (20, 1)}
    assert api_limits.LIMITS["cbn:DescribeCens"].windows == ((300, 60),)


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def _starts(limiter, t, action, n, region="cn-hangzhou", account="registry"):
    out = []
    for _ in range(n):
        limiter.acquire(account, action, region)
        out.append(t.now)
    return out


def _most_in_any(starts, period):
    """The most calls in any fixed window of `period` (however the cloud's windows are aligned)."""
    worst = 0
    for offset in (i * period / 20 for i in range(20)):
        worst = max(worst, max(Counter(int((s + offset) // period) for s in starts).values()))
    return worst


@pytest.mark.parametrize("action", ["cbn:DescribeCens", "cbn:CreateTransitRouter", "cs:DescribeClusterDetail",
                                    "cbn:ListTransitRouters", "ram:AttachPolicyToRole"])
def test_buckets_keep_every_window_within_its_count(action):
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)
    windows = api_limits.LIMITS[action].windows
    longest = max(p for _, p in windows)
    starts = _starts(limiter, t, action, int(3 * max(n for n, _ in windows)))
    for calls, period in windows:
        assert _most_in_any(starts, period) <= calls, (action, calls, period)
    # And the long-run pace is SHARE of the strictest rate (not limit/s for a per-minute limit).
    rate = min(n / p for n, p in windows) * SHARE
    assert (len(starts) - 1) / (starts[-1] - starts[0]) == pytest.approx(rate, rel=0.35)
    assert starts[-1] - starts[0] > longest


def test_the_dimension_is_account_region_and_api_with_ram_global():
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)
    burst = int(3 * (1 - SHARE)) or 1         # CreateTransitRouter 3/1(s): a burst of one
    _starts(limiter, t, "cbn:CreateTransitRouter", burst)
    before = t.now
    _starts(limiter, t, "cbn:CreateTransitRouter", 1, region="cn-shanghai")    # another region: no wait
    _starts(limiter, t, "cbn:CreateTransitRouter", 1, account="cluster-1")     # another account: no wait
    assert t.now == before
    _starts(limiter, t, "cbn:CreateTransitRouter", 1)                           # same region: waits
    assert t.now > before
    # RAM is global: the same bucket whatever region the client is bound to.
    _starts(limiter, t, "ram:AttachPolicyToRole", 2, region="cn-hangzhou")     # 10/1(s): burst 2
    before = t.now
    _starts(limiter, t, "ram:AttachPolicyToRole", 1, region="cn-beijing")
    assert t.now > before
