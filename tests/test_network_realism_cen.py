"""Issue 12, item 4: CEN writes answer "busy" while another write on the same CEN, transit router
or VPC owner settles, and acrx retries them.

Source: the codes Terraform's provider retries on CreateCen/CreateTransitRouter (Operation.Blocking,
IncorrectStatus.Status), on attachments (IncorrectStatus.Attachment, ...Vpc*) and on
GrantInstanceToTransitRouter (OperationFailed.TaskConflict); see acrx/sandbox/services/cbn/busy.py.
"""

from __future__ import annotations

import pytest

from acrx.cloud.cbn import CbnApi
from acrx.cloud.retry import RetryPolicy
from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import api_error, serving, two_accounts
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(240)

HZ = "cn-hangzhou"
CBN = "alibabacloud_cbn20170912"


@pytest.fixture
def cloud():
    world, a, b = two_accounts(43, HZ, clock_scale=1.0)
    va, vb = world.backend("vpc", a.uid, HZ), world.backend("vpc", b.uid, HZ)
    vpc_a = va.seed_vpc("192.168.0.0/16")
    vsw_a = va.seed_vswitch(vpc_a.vpc_id, "192.168.1.0/24", "cn-hangzhou-h")
    vpc_b = vb.seed_vpc("10.0.0.0/16")
    vsw_b = vb.seed_vswitch(vpc_b.vpc_id, "10.0.1.0/24", "cn-hangzhou-h")
    vpc_b2 = vb.seed_vpc("10.1.0.0/16")
    with serving(world) as server:
        yield dict(world=world, a=a, b=b, vpc_a=vpc_a, vsw_a=vsw_a, vpc_b=vpc_b, vsw_b=vsw_b, vpc_b2=vpc_b2,
                   endpoint=server.endpoint)


def test_the_sandbox_cen_answers_busy_to_writes_too_close_together(cloud):
    from alibabacloud_cbn20170912 import models as m

    world, a, b = cloud["world"], cloud["a"], cloud["b"]
    client = sdk_client(CBN, cloud["endpoint"], a.root_key, region=HZ)
    client_b = sdk_client(CBN, cloud["endpoint"], b.root_key, region=HZ)
    cen_id = client.create_cen(m.CreateCenRequest(name="acrx")).body.cen_id
    router = lambda: client.create_transit_router(m.CreateTransitRouterRequest(cen_id=cen_id, region_id=HZ))  # noqa: E731
    assert api_error(router).code == "Operation.Blocking"
    world.clock.advance(30)
    tr_id = router().body.transit_router_id

    def grant(vpc):
        return client_b.grant_instance_to_transit_router(m.GrantInstanceToTransitRouterRequest(
            cen_id=cen_id, cen_owner_id=int(a.uid), instance_id=vpc.vpc_id, instance_type="VPC", region_id=HZ,
            order_type="PayByCenOwner"))

    grant(cloud["vpc_b"])
    assert api_error(lambda: grant(cloud["vpc_b2"])).code == "OperationFailed.TaskConflict"

    def attach(vpc, vsw, owner=None):
        return client.create_transit_router_vpc_attachment(m.CreateTransitRouterVpcAttachmentRequest(
            cen_id=cen_id, transit_router_id=tr_id, region_id=HZ, vpc_id=vpc.vpc_id,
            vpc_owner_id=int(owner.uid) if owner else None,
            zone_mappings=[m.CreateTransitRouterVpcAttachmentRequestZoneMappings(
                v_switch_id=vsw.vswitch_id, zone_id=vsw.zone_id)]))

    attach(cloud["vpc_a"], cloud["vsw_a"])                                   # Attaching for 30 s
    busy = api_error(lambda: attach(cloud["vpc_b"], cloud["vsw_b"], owner=b))
    assert busy.code == "IncorrectStatus.Attachment"
    world.clock.advance(60)
    assert attach(cloud["vpc_b"], cloud["vsw_b"], owner=b).body.transit_router_attachment_id


def test_acrx_retries_the_cen_busy_answers(cloud):
    world, a = cloud["world"], cloud["a"]
    world.clock.scale = 0.02          # the CEN settles in 0.2 s
    api = CbnApi(lambda: sdk_client(CBN, cloud["endpoint"], a.root_key, region=HZ),
                 RetryPolicy(budget_s=20, initial_s=0.05), region=HZ)
    mark = world.calls.mark()
    cen_id = api.create_cen(name="acrx-t", description="acrx-managed", client_token="c-1", tags={})
    assert api.create_transit_router(cen_id=cen_id, region=HZ, name="acrx-t", description="acrx-managed",
                                     client_token="t-1")
    answered = [(c.action, c.error_code) for c in world.calls.since(mark)]
    assert ("CreateTransitRouter", "Operation.Blocking") in answered


def test_the_sandbox_create_cen_answers_busy_while_the_accounts_last_cen_operation_settles(cloud):
    from alibabacloud_cbn20170912 import models as m

    world, a = cloud["world"], cloud["a"]
    client = sdk_client(CBN, cloud["endpoint"], a.root_key, region=HZ)
    create = lambda name: client.create_cen(m.CreateCenRequest(name=name)).body.cen_id  # noqa: E731
    first = create("one")
    assert api_error(lambda: create("two")).code == "Operation.Blocking"
    world.clock.advance(30)
    second = create("two")
    world.clock.advance(30)
    client.delete_cen(m.DeleteCenRequest(cen_id=first))
    assert api_error(lambda: create("three")).code == "Operation.Blocking"
    world.clock.advance(30)
    assert create("three") not in (first, second)


def test_acrx_retries_a_busy_create_cen(cloud):
    """At clock scale 1 the account stays busy 5 s after a CreateCen; acrx's second CreateCen is
    refused (Operation.Blocking), retried, and lands once the account settles."""
    world, a = cloud["world"], cloud["a"]
    api = CbnApi(lambda: sdk_client(CBN, cloud["endpoint"], a.root_key, region=HZ),
                 RetryPolicy(budget_s=60, initial_s=0.2), region=HZ)
    first = api.create_cen(name="acrx-one", description="acrx-managed", client_token="c-1", tags={})
    mark = world.calls.mark()
    second = api.create_cen(name="acrx-two", description="acrx-managed", client_token="c-2", tags={})
    assert second and second != first
    answered = [(c.action, c.error_code) for c in world.calls.since(mark)]
    assert answered[0] == ("CreateCen", "Operation.Blocking"), answered
    assert answered[-1] == ("CreateCen", None), answered


def test_cen_setup_converges_through_busy_answers(tmp_path, run_cli, monkeypatch):
    """Same region: A's and B's VPC attachments land on one transit router at once; at clock scale
    0.05 the second is refused while the first is Attaching, and acrx retries it."""
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    with running_sandbox(tmp_path, network="cen", clock_scale=0.05) as sb:
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "network", "apply", "-f", sb.config_path, "--yes")
        assert result.exit_code == 0, result.stderr
        refused = {(c.action, c.error_code) for c in sb.calls_since(mark) if c.error_code}
        assert ("CreateTransitRouter", "Operation.Blocking") in refused, refused
        for _ in range(2):
            result = run_cli("--sandbox", sb.dir, "destroy", "-f", sb.config_path, "--yes")
            assert result.exit_code == 0, result.stderr
