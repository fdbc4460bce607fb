"""Issue 16: the sandbox counts the published limits per (account, region, API) in each limit's own
window and answers the flow-control error beyond them (official CBN SDK over HTTP), and acrx's
adapters pace a burst of calls to a 3/1(s) API so that the sandbox refuses none of them."""

from __future__ import annotations

import threading
import time

import pytest

from acrx.sandbox.core.qps import FLEET_LIMITS
from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import api_error, serving, two_accounts

HZ, SH = "cn-hangzhou", "cn-shanghai"
pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def cloud():
    world, a, b = two_accounts(16, HZ)
    world.knobs.qps_limits = dict(FLEET_LIMITS)      # as `acrx sandbox up --scenario fleet` does
    with serving(world) as server:
        yield world, a, b, server


class Frozen:
    """The sandbox's counting clock held still, so the test decides which window a call falls in."""

    def __init__(self, world, start=1_700_000_040.0):   # a whole minute: windows of 1 s and 60 s align
        self.now = start
        world.qps.clock = lambda: self.now


def _cbn(server, account, region=HZ):
    return sdk_client("alibabacloud_cbn20170912", server.endpoint, account.root_key, region=region)


def _create_tr(client, region=HZ):
    from alibabacloud_cbn20170912 import models as m

    return lambda: client.create_transit_router(m.CreateTransitRouterRequest(cen_id="cen-none", region_id=region))


def _not_throttled(call):
    try:
        call()
    except Exception as exc:   # the call may fail for its own reasons (no such CEN), not for flow control
        assert not str(getattr(exc, "code", "")).startswith("Throttling"), exc


def test_create_transit_router_3_per_second_per_account_and_region(cloud):
    world, a, b, server = cloud
    clock = Frozen(world)
    client = _cbn(server, a)
    for _ in range(3):
        _not_throttled(_create_tr(client))
    err = api_error(_create_tr(client))                 # the 4th in the same second
    assert (err.code, err.status_code) == ("Throttling.User", 400)
    assert "flow control" in err.message
    _not_throttled(_create_tr(_cbn(server, a, SH), SH))  # another region: its own count
    _not_throttled(_create_tr(_cbn(server, b)))          # another account: its own count
    clock.now += 1.0                                     # the next second
    _not_throttled(_create_tr(client))
    assert world.qps.throttled == 1


def test_a_60_second_window_allows_a_burst_then_refuses_until_the_next_minute(cloud):
    from alibabacloud_cbn20170912 import models as m

    world, a, _, server = cloud
    clock = Frozen(world)
    client = _cbn(server, a)
    describe = lambda: client.describe_cens(m.DescribeCensRequest(page_size=10))   # noqa: E731  300/60(s)
    for _ in range(300):                                 # all 300 in one (frozen) second: a fixed window allows it
        describe()
    err = api_error(describe)
    assert (err.code, err.status_code) == ("Throttling.User", 400)
    clock.now += 59.0                                    # still the same minute
    assert api_error(describe).code == "Throttling.User"
    clock.now += 1.0                                     # the next minute
    describe()
    assert world.qps.throttled == 2


def test_acrx_paces_a_burst_of_calls_to_a_3_per_second_api(cloud):
    """Twelve deletes of transit-router attachments (3/1(s)) from six threads through acrx's CBN
    adapter: acrx's bucket spaces them, the sandbox refuses none, and it takes the time the limit
    demands (a busy machine only makes it slower)."""
    from acrx.cloud.cbn import CbnApi
    from acrx.cloud.ratelimit import LIMITER, SHARE

    world, a, _, server = cloud
    LIMITER.reset()
    mark = world.calls.mark()

    def client():
        c = _cbn(server, a)
        c.acrx_account = "cluster"          # as acrx's session tags its clients (cloud/session.py)
        return c

    api = CbnApi(client, region=HZ)
    gone = []

    def worker():
        for n in range(2):
            gone.append(api.delete_vpc_attachment(f"tr-attach-none{threading.get_ident()}{n}", missing_ok=True))

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    took = time.monotonic() - started
    calls = [c for c in world.calls.since(mark) if c.action == "DeleteTransitRouterVpcAttachment"]
    assert gone == [False] * 12                         # all answered (not found), none lost
    assert len(calls) == 12 and world.qps.throttled == 0 and LIMITER.throttles == 0
    assert took >= (12 - 1) / (3 * SHARE) * 0.9        # paced at SHARE of 3/s after a burst of one
    LIMITER.reset()
