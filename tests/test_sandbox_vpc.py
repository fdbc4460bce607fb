"""Sandbox VPC (2016-04-28) through the official alibabacloud_vpc20160428 client over HTTP."""

from __future__ import annotations

import pytest

from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import api_error as _error
from tests.sandbox_cloud import serving, two_accounts

REGION = "cn-hangzhou"


@pytest.fixture
def cloud():
    world, a, b = two_accounts(3, REGION)
    va = world.backend("vpc", a.uid, REGION)
    vpc = va.seed_vpc("192.168.0.0/16", secondary_cidrs=["172.20.0.0/16"], name="cluster-vpc")
    nodes = va.seed_vswitch(vpc.vpc_id, "192.168.1.0/24", "cn-hangzhou-h")
    pods = va.seed_vswitch(vpc.vpc_id, "192.168.2.0/24", "cn-hangzhou-i")
    nat = va.seed_nat_gateway(vpc.vpc_id, nodes.vswitch_id, ["47.96.10.1"], [nodes.vswitch_id, pods.vswitch_id])
    custom = va.seed_route_table(vpc.vpc_id, [pods.vswitch_id], name="pods")
    vb = world.backend("vpc", b.uid, REGION)
    vpc_b = vb.seed_vpc("10.0.0.0/16")
    with serving(world) as server:
        yield dict(world=world, a=a, b=b, vpc=vpc, nodes=nodes, pods=pods, nat=nat, custom=custom, vpc_b=vpc_b,
                   server=server)


def _client(cloud, account):
    return sdk_client("alibabacloud_vpc20160428", cloud["server"].endpoint, account.root_key)


def test_vpc_and_vswitch_attributes(cloud):
    from alibabacloud_vpc20160428 import models as m

    client = _client(cloud, cloud["a"])
    body = client.describe_vpc_attribute(m.DescribeVpcAttributeRequest(region_id=REGION, vpc_id=cloud["vpc"].vpc_id)).body
    assert body.cidr_block == "192.168.0.0/16"
    assert body.secondary_cidr_blocks.secondary_cidr_block == ["172.20.0.0/16"]
    assert set(body.v_switch_ids.v_switch_id) == {cloud["nodes"].vswitch_id, cloud["pods"].vswitch_id}
    assert body.owner_id == int(cloud["a"].uid)
    vsw = client.describe_vswitch_attributes(
        m.DescribeVSwitchAttributesRequest(region_id=REGION, v_switch_id=cloud["pods"].vswitch_id)).body
    assert vsw.cidr_block == "192.168.2.0/24" and vsw.zone_id == "cn-hangzhou-i"
    assert vsw.route_table.route_table_id == cloud["custom"].route_table_id
    assert vsw.route_table.route_table_type == "Custom"
    listed = client.describe_vswitches(m.DescribeVSwitchesRequest(region_id=REGION, vpc_id=cloud["vpc"].vpc_id)).body
    assert listed.total_count == 2
    vpcs = client.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION)).body
    assert [v.vpc_id for v in vpcs.vpcs.vpc] == [cloud["vpc"].vpc_id]   # only the caller's VPCs


def test_other_accounts_vpc_is_not_found(cloud):
    from alibabacloud_vpc20160428 import models as m

    err = _error(lambda: _client(cloud, cloud["a"]).describe_vpc_attribute(
        m.DescribeVpcAttributeRequest(region_id=REGION, vpc_id=cloud["vpc_b"].vpc_id)))
    assert (err.code, err.status_code) == ("InvalidVpcId.NotFound", 404)


def test_route_tables_and_system_entries(cloud):
    from alibabacloud_vpc20160428 import models as m

    client = _client(cloud, cloud["a"])
    tables = client.describe_route_table_list(
        m.DescribeRouteTableListRequest(region_id=REGION, vpc_id=cloud["vpc"].vpc_id)).body
    kinds = {t.route_table_id: (t.route_table_type, t.v_switch_ids.v_switch_id)
             for t in tables.router_table_list.router_table_list_type}
    assert kinds[cloud["vpc"].route_table_id] == ("System", [cloud["nodes"].vswitch_id])
    assert kinds[cloud["custom"].route_table_id] == ("Custom", [cloud["pods"].vswitch_id])
    entries = client.describe_route_entry_list(
        m.DescribeRouteEntryListRequest(region_id=REGION, route_table_id=cloud["vpc"].route_table_id)).body
    by_dest = {e.destination_cidr_block: e for e in entries.route_entrys.route_entry}
    assert by_dest["100.64.0.0/10"].type == "System"
    assert by_dest["0.0.0.0/0"].next_hops.next_hop[0].next_hop_type == "NatGateway"
    assert by_dest["0.0.0.0/0"].next_hops.next_hop[0].next_hop_id == cloud["nat"].nat_gateway_id


def test_nat_snat_and_eips(cloud):
    from alibabacloud_vpc20160428 import models as m

    client = _client(cloud, cloud["a"])
    nats = client.describe_nat_gateways(m.DescribeNatGatewaysRequest(region_id=REGION, vpc_id=cloud["vpc"].vpc_id)).body
    nat = nats.nat_gateways.nat_gateway[0]
    assert [ip.ip_address for ip in nat.ip_lists.ip_list] == ["47.96.10.1"]
    snat_table = nat.snat_table_ids.snat_table_id[0]
    snats = client.describe_snat_table_entries(
        m.DescribeSnatTableEntriesRequest(region_id=REGION, snat_table_id=snat_table)).body
    assert {e.source_vswitch_id for e in snats.snat_table_entries.snat_table_entry} == {
        cloud["nodes"].vswitch_id, cloud["pods"].vswitch_id}
    assert {e.snat_ip for e in snats.snat_table_entries.snat_table_entry} == {"47.96.10.1"}
    eips = client.describe_eip_addresses(
        m.DescribeEipAddressesRequest(region_id=REGION, associated_instance_type="Nat")).body
    assert [(e.ip_address, e.instance_id) for e in eips.eip_addresses.eip_address] == [
        ("47.96.10.1", cloud["nat"].nat_gateway_id)]
    err = _error(lambda: client.describe_snat_table_entries(
        m.DescribeSnatTableEntriesRequest(region_id=REGION, snat_table_id="stb-nope")))
    assert (err.code, err.status_code) == ("InvalidSnatTableId.NotFound", 404)


def test_create_route_entry_rules(cloud):
    from alibabacloud_vpc20160428 import models as m

    client = _client(cloud, cloud["a"])
    table = cloud["custom"].route_table_id

    def create(dest, hop_type="VpcPeer", hop="pcc-doesnotexist", table_id=table):
        return client.create_route_entry(m.CreateRouteEntryRequest(
            region_id=REGION, route_table_id=table_id, destination_cidr_block=dest, next_hop_type=hop_type,
            next_hop_id=hop))

    err = _error(lambda: create("100.100.2.0/24"))
    assert (err.code, err.status_code) == ("InvalidCidrBlock", 400)
    assert "100.64.0.0/10" in err.message
    err = _error(lambda: create("192.168.2.0/25"))          # inside a vSwitch of the VPC
    assert err.code == "InvalidCidrBlock"
    err = _error(lambda: create("10.0.0.0/33"))
    assert err.code == "InvalidCidrBlock.Malformed"
    err = _error(lambda: create("10.0.0.0/16"))
    assert (err.code, err.status_code) == ("ResourceNotFound.VpcPeer", 400)
    err = _error(lambda: create("10.0.0.0/16", hop_type="Instance", hop="i-nothere"))
    assert err.code == "InvalidNextHop.NotFound"
    err = _error(lambda: create("10.0.0.0/16", table_id="vtb-nothere"))
    assert (err.code, err.status_code) == ("InvalidRouteTableId.NotFound", 404)
    err = _error(lambda: create("0.0.0.0/0", hop_type="NatGateway", hop=cloud["nat"].nat_gateway_id))
    assert (err.code, err.status_code) == ("InvalidCIDRBlock.Duplicate", 400)
    assert not cloud["world"].calls.writes()   # every refused write left nothing behind


def test_route_entry_pending_then_available_and_deleted(cloud):
    from alibabacloud_vpc20160428 import models as m

    world = cloud["world"]
    world.clock.scale = 1.0
    client = _client(cloud, cloud["a"])
    table = cloud["vpc"].route_table_id
    created = client.create_route_entry(m.CreateRouteEntryRequest(
        region_id=REGION, route_table_id=table, destination_cidr_block="8.8.8.8/32", next_hop_type="NatGateway",
        next_hop_id=cloud["nat"].nat_gateway_id, route_entry_name="acrx", client_token="tok-1")).body
    again = client.create_route_entry(m.CreateRouteEntryRequest(
        region_id=REGION, route_table_id=table, destination_cidr_block="8.8.8.8/32", next_hop_type="NatGateway",
        next_hop_id=cloud["nat"].nat_gateway_id, route_entry_name="acrx", client_token="tok-1")).body
    assert again.route_entry_id == created.route_entry_id     # ClientToken idempotency: the same request

    def status():
        listed = client.describe_route_entry_list(m.DescribeRouteEntryListRequest(
            region_id=REGION, route_table_id=table, route_entry_id=created.route_entry_id)).body
        return [e.status for e in listed.route_entrys.route_entry]

    assert status() == ["Pending"]
    world.clock.advance(10)
    assert status() == ["Available"]
    client.delete_route_entry(m.DeleteRouteEntryRequest(region_id=REGION, route_entry_id=created.route_entry_id))
    assert status() == []
    err = _error(lambda: client.delete_route_entry(
        m.DeleteRouteEntryRequest(region_id=REGION, route_entry_id=created.route_entry_id)))
    assert err.code == "InvalidRouteEntry.NotFound"


def test_failed_route_task_disappears(cloud):
    from alibabacloud_vpc20160428 import models as m

    world = cloud["world"]
    world.knobs.failing_tasks = {"route"}
    client = _client(cloud, cloud["a"])
    client.create_route_entry(m.CreateRouteEntryRequest(
        region_id=REGION, route_table_id=cloud["vpc"].route_table_id, destination_cidr_block="8.8.4.4/32",
        next_hop_type="NatGateway", next_hop_id=cloud["nat"].nat_gateway_id))
    listed = client.describe_route_entry_list(m.DescribeRouteEntryListRequest(
        region_id=REGION, route_table_id=cloud["vpc"].route_table_id, destination_cidr_block="8.8.4.4/32")).body
    assert listed.route_entrys.route_entry == []


def test_tags_mark_owned_resources(cloud):
    from alibabacloud_vpc20160428 import models as m

    client = _client(cloud, cloud["a"])
    vpc_id = cloud["vpc"].vpc_id
    client.tag_resources(m.TagResourcesRequest(region_id=REGION, resource_type="VPC", resource_id=[vpc_id],
                                               tag=[m.TagResourcesRequestTag(key="acrx:owned", value="yes")]))
    listed = client.list_tag_resources(m.ListTagResourcesRequest(region_id=REGION, resource_type="VPC",
                                                                 resource_id=[vpc_id])).body
    assert [(t.resource_id, t.tag_key, t.tag_value) for t in listed.tag_resources.tag_resource] == [
        (vpc_id, "acrx:owned", "yes")]
    filtered = client.describe_vpcs(m.DescribeVpcsRequest(
        region_id=REGION, tag=[m.DescribeVpcsRequestTag(key="acrx:owned", value="yes")])).body
    assert filtered.total_count == 1
    client.un_tag_resources(m.UnTagResourcesRequest(region_id=REGION, resource_type="VPC", resource_id=[vpc_id],
                                                    tag_key=["acrx:owned"]))
    listed = client.list_tag_resources(m.ListTagResourcesRequest(region_id=REGION, resource_type="VPC",
                                                                 resource_id=[vpc_id])).body
    assert listed.tag_resources.tag_resource == []
    err = _error(lambda: client.tag_resources(m.TagResourcesRequest(
        region_id=REGION, resource_type="VPC", resource_id=["vpc-nothere"],
        tag=[m.TagResourcesRequestTag(key="k", value="v")])))
    assert (err.code, err.status_code) == ("InvalidResourceId.NotFound", 404)
