"""Issue 12, items 8 and 9: PrivateZone as Terraform's provider meets it.

Sources (terraform-provider-alicloud): BindZoneVpc right after AddZone answers Zone.NotExists for a
while and is retried (resource_alicloud_pvtz_zone_attachment.go); zone writes answer System.Busy
(resource_alicloud_pvtz_zone.go:158); a missing zone is Zone.Invalid.Id / Zone.Invalid.UserId
(service_alicloud_pvtz.go:29).
"""

from __future__ import annotations

import pytest

from acrx.cloud.pvtz import Binding, PvtzApi
from acrx.cloud.retry import RetryPolicy
from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import api_error, serving, two_accounts

pytestmark = pytest.mark.timeout(120)

REGION = "cn-hangzhou"
PVTZ = "alibabacloud_pvtz20180101"
DOMAIN = "reg-registry-vpc.cn-hangzhou.cr.aliyuncs.com"


@pytest.fixture
def cloud():
    world, a, _ = two_accounts(seed=37, clock_scale=1.0)
    vpc = world.backend("vpc", a.uid, REGION).seed_vpc("192.168.0.0/16")
    with serving(world) as server:
        yield world, server.endpoint, a, vpc.vpc_id


def test_the_sandbox_zone_is_not_bindable_at_once_and_busy_between_writes(cloud):
    world, endpoint, a, vpc_id = cloud
    from alibabacloud_pvtz20180101 import models as m

    client = sdk_client(PVTZ, endpoint, a.root_key, region=REGION)
    zone_id = client.add_zone(m.AddZoneRequest(zone_name=DOMAIN, proxy_pattern="ZONE")).body.zone_id

    def bind():
        return client.bind_zone_vpc(m.BindZoneVpcRequest(
            zone_id=zone_id, vpcs=[m.BindZoneVpcRequestVpcs(region_id=REGION, vpc_id=vpc_id)]))

    def add_record():
        return client.add_zone_record(m.AddZoneRecordRequest(zone_id=zone_id, rr="@", type="A", value="10.0.0.9"))

    assert api_error(bind).code == "Zone.NotExists"          # just added: not yet bindable
    world.clock.advance(5)
    bind()
    assert api_error(add_record).code == "System.Busy"       # the binding is still settling
    world.clock.advance(5)
    add_record()
    missing = api_error(lambda: client.describe_zone_info(m.DescribeZoneInfoRequest(zone_id="0" * 32)))
    assert missing.code == "Zone.Invalid.Id"


def test_acrx_binds_right_after_adding_and_retries_busy_zone_writes(cloud):
    world, endpoint, a, vpc_id = cloud
    # clock scale 1: Zone.NotExists for 3 s after AddZone, System.Busy for 1 s after a write
    api = PvtzApi(lambda: sdk_client(PVTZ, endpoint, a.root_key, region=REGION),
                  RetryPolicy(budget_s=20, initial_s=0.05), region=REGION)
    mark = world.calls.mark()
    zone_id = api.add_zone(DOMAIN, proxy_pattern="ZONE", client_token="zone-1")
    api.bind(zone_id, [Binding(vpc_id, REGION)])
    api.add_record(zone_id, "@", "A", "10.0.0.9", ttl=60, remark="acrx-managed", client_token="rec-1")
    answered = [(c.action, c.error_code) for c in world.calls.since(mark)]
    assert ("BindZoneVpc", "Zone.NotExists") in answered
    assert ("AddZoneRecord", "System.Busy") in answered
    assert [b.vpc_id for b in api.bindings(zone_id)] == [vpc_id]
    assert [r.value for r in api.records(zone_id)] == ["10.0.0.9"]


def test_a_deleted_zone_is_gone_for_acrx(cloud):
    world, endpoint, a, vpc_id = cloud
    world.clock.scale = 0.0
    api = PvtzApi(lambda: sdk_client(PVTZ, endpoint, a.root_key, region=REGION),
                  RetryPolicy(budget_s=5, initial_s=0.01), region=REGION)
    zone_id = api.add_zone(DOMAIN, proxy_pattern="ZONE", client_token="zone-2")
    assert api.delete_zone(zone_id, missing_ok=True) is True
    assert api.delete_zone(zone_id, missing_ok=True) is False      # Zone.Invalid.Id = already gone
    assert api.bindings(zone_id) == []


def test_a_deleted_transit_router_answers_parameter_instance_id_and_acrx_calls_it_gone():
    """Item 9 for CEN: TF resource_alicloud_cen_transit_router.go:266 reads ParameterInstanceId as gone."""
    from acrx.cloud.cbn import CbnApi

    world, a, _ = two_accounts(seed=41)
    with serving(world) as server:
        api = CbnApi(lambda: sdk_client("alibabacloud_cbn20170912", server.endpoint, a.root_key, region=REGION),
                     RetryPolicy(budget_s=5, initial_s=0.01), region=REGION)
        cen_id = api.create_cen(name="acrx-t", description="acrx-managed", client_token="cen-1", tags={})
        tr_id = api.create_transit_router(cen_id=cen_id, region=REGION, name="acrx-t", description="acrx-managed",
                                          client_token="tr-1")
        assert api.delete_transit_router(tr_id, missing_ok=True) is True
        mark = world.calls.mark()
        assert api.delete_transit_router(tr_id, missing_ok=True) is False
        assert [c.error_code for c in world.calls.since(mark)] == ["ParameterInstanceId"]
