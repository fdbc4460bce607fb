"""Sandbox VpcPeer (2022-01-01) through the official alibabacloud_vpcpeer20220101 client over HTTP."""

from __future__ import annotations

import pytest

from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import api_error as _error
from tests.sandbox_cloud import serving, two_accounts

HZ, SH = "cn-hangzhou", "cn-shanghai"


@pytest.fixture
def cloud():
    world, a, b = two_accounts(5, HZ)
    c = world.add_account("stranger", HZ)
    va = world.backend("vpc", a.uid, HZ)
    vpc_a = va.seed_vpc("192.168.0.0/16")
    nodes = va.seed_vswitch(vpc_a.vpc_id, "192.168.1.0/24", "cn-hangzhou-h")
    vpc_a2 = va.seed_vpc("172.16.0.0/16")
    vpc_b = world.backend("vpc", b.uid, HZ).seed_vpc("10.0.0.0/16")
    vpc_b_sh = world.backend("vpc", b.uid, SH).seed_vpc("10.8.0.0/16")
    with serving(world) as server:
        yield dict(world=world, a=a, b=b, c=c, vpc_a=vpc_a, vpc_a2=vpc_a2, nodes=nodes, vpc_b=vpc_b,
                   vpc_b_sh=vpc_b_sh, server=server)


def _peer(cloud, account):
    return sdk_client("alibabacloud_vpcpeer20220101", cloud["server"].endpoint, account.root_key)


def _create(cloud, accepting_vpc, *, region=HZ, accepting_region=HZ, uid=None, token=None, bandwidth=None,
            vpc=None):
    from alibabacloud_vpcpeer20220101 import models as m

    return _peer(cloud, cloud["a"]).create_vpc_peer_connection(m.CreateVpcPeerConnectionRequest(
        region_id=region, vpc_id=(vpc or cloud["vpc_a"]).vpc_id, accepting_ali_uid=int(uid or cloud["b"].uid),
        accepting_region_id=accepting_region, accepting_vpc_id=accepting_vpc.vpc_id, client_token=token,
        bandwidth=bandwidth, name="acrx-peering")).body.instance_id


def _status(cloud, account, instance_id):
    from alibabacloud_vpcpeer20220101 import models as m

    return _peer(cloud, account).get_vpc_peer_connection_attribute(
        m.GetVpcPeerConnectionAttributeRequest(instance_id=instance_id)).body


def test_cross_account_peering_is_accepted_by_the_accepter_only(cloud):
    from alibabacloud_vpcpeer20220101 import models as m

    world = cloud["world"]
    world.clock.scale = 1.0
    pcc = _create(cloud, cloud["vpc_b"])
    body = _status(cloud, cloud["a"], pcc)
    assert body.status == "Accepting"
    assert body.accepting_owner_uid == int(cloud["b"].uid)
    assert body.vpc.ipv_4cidrs == ["192.168.0.0/16"] and body.accepting_vpc.ipv_4cidrs == ["10.0.0.0/16"]
    assert _status(cloud, cloud["b"], pcc).status == "Accepting"          # visible to both accounts
    err = _error(lambda: _status(cloud, cloud["c"], pcc))
    assert (err.code, err.status_code) == ("ResourceNotFound.InstanceId", 404)

    for wrong in (cloud["a"], cloud["c"]):
        err = _error(lambda: _peer(cloud, wrong).accept_vpc_peer_connection(
            m.AcceptVpcPeerConnectionRequest(instance_id=pcc)))
        assert (err.code, err.status_code) == ("ResourceNotFound.InstanceId", 404)

    _peer(cloud, cloud["b"]).accept_vpc_peer_connection(m.AcceptVpcPeerConnectionRequest(instance_id=pcc))
    assert _status(cloud, cloud["b"], pcc).status == "Updating"
    err = _error(lambda: _peer(cloud, cloud["b"]).accept_vpc_peer_connection(
        m.AcceptVpcPeerConnectionRequest(instance_id=pcc)))
    assert err.code == "IncorrectStatus.VpcPeer"
    world.clock.advance(60)
    assert _status(cloud, cloud["a"], pcc).status == "Activated"
    listed_b = _peer(cloud, cloud["b"]).list_vpc_peer_connections(
        m.ListVpcPeerConnectionsRequest(region_id=HZ, vpc_id=[cloud["vpc_b"].vpc_id])).body
    assert [(p.instance_id, p.status) for p in listed_b.vpc_peer_connects] == [(pcc, "Activated")]


def test_same_account_goes_creating_to_activated(cloud):
    world = cloud["world"]
    world.clock.scale = 1.0
    pcc = _create(cloud, cloud["vpc_a2"], uid=cloud["a"].uid)
    assert _status(cloud, cloud["a"], pcc).status == "Creating"
    world.clock.advance(60)
    assert _status(cloud, cloud["a"], pcc).status == "Activated"


def test_cross_region_needs_bandwidth(cloud):
    err = _error(lambda: _create(cloud, cloud["vpc_b_sh"], accepting_region=SH))
    assert (err.code, err.status_code) == ("MissingParameter", 400)
    pcc = _create(cloud, cloud["vpc_b_sh"], accepting_region=SH, bandwidth=100)
    body = _status(cloud, cloud["b"], pcc)
    assert (body.region_id, body.accepting_region_id, body.bandwidth) == (HZ, SH, 100)
    err = _error(lambda: _create(cloud, cloud["vpc_b_sh"]))   # wrong accepting region for that VPC
    assert (err.code, err.status_code) == ("ResourceNotFound.AcceptingVpcId", 404)


def test_client_token_and_duplicates(cloud):
    first = _create(cloud, cloud["vpc_b"], token="tok-1")
    assert _create(cloud, cloud["vpc_b"], token="tok-1") == first
    err = _error(lambda: _create(cloud, cloud["vpc_b"], token="tok-2"))
    assert (err.code, err.status_code) == ("ResourceAlreadyExist.VpcPeer", 400)
    err = _error(lambda: _create(cloud, cloud["vpc_b"], uid=cloud["c"].uid))   # the VPC is not C's
    assert err.code == "ResourceNotFound.AcceptingVpcId"
    err = _error(lambda: _create(cloud, cloud["vpc_b"], vpc=cloud["vpc_b"]))  # not the caller's VPC
    assert err.code == "ResourceNotFound.VpcId"
    from alibabacloud_vpcpeer20220101 import models as m

    listed = _peer(cloud, cloud["a"]).list_vpc_peer_connections(m.ListVpcPeerConnectionsRequest(region_id=HZ)).body
    assert [p.instance_id for p in listed.vpc_peer_connects] == [first]


def test_delete_is_refused_while_routes_point_at_it(cloud):
    from alibabacloud_vpc20160428 import models as vm
    from alibabacloud_vpcpeer20220101 import models as m

    pcc = _create(cloud, cloud["vpc_b"])
    _peer(cloud, cloud["b"]).accept_vpc_peer_connection(m.AcceptVpcPeerConnectionRequest(instance_id=pcc))
    vpc_client = sdk_client("alibabacloud_vpc20160428", cloud["server"].endpoint, cloud["a"].root_key)
    vpc_client.create_route_entry(vm.CreateRouteEntryRequest(
        region_id=HZ, route_table_id=cloud["vpc_a"].route_table_id, destination_cidr_block="10.0.0.0/16",
        next_hop_type="VpcPeer", next_hop_id=pcc))
    err = _error(lambda: _peer(cloud, cloud["a"]).delete_vpc_peer_connection(
        m.DeleteVpcPeerConnectionRequest(instance_id=pcc)))
    assert (err.code, err.status_code) == ("OperationDenied.RouteEntryExist", 400)
    vpc_client.delete_route_entry(vm.DeleteRouteEntryRequest(
        region_id=HZ, route_table_id=cloud["vpc_a"].route_table_id, destination_cidr_block="10.0.0.0/16"))
    _peer(cloud, cloud["a"]).delete_vpc_peer_connection(m.DeleteVpcPeerConnectionRequest(instance_id=pcc))
    err = _error(lambda: _status(cloud, cloud["a"], pcc))
    assert err.code == "ResourceNotFound.InstanceId"


def test_route_to_a_peering_not_yet_active_is_refused(cloud):
    from alibabacloud_vpc20160428 import models as vm

    pcc = _create(cloud, cloud["vpc_b"])
    vpc_client = sdk_client("alibabacloud_vpc20160428", cloud["server"].endpoint, cloud["a"].root_key)
    err = _error(lambda: vpc_client.create_route_entry(vm.CreateRouteEntryRequest(
        region_id=HZ, route_table_id=cloud["vpc_a"].route_table_id, destination_cidr_block="10.0.0.0/16",
        next_hop_type="VpcPeer", next_hop_id=pcc)))
    assert (err.code, err.status_code) == ("IncorrectStatus.VpcPeer", 400)
    # the accepter's VPC cannot use a peering of two other VPCs either
    vpc_b_client = sdk_client("alibabacloud_vpc20160428", cloud["server"].endpoint, cloud["b"].root_key)
    other = _create(cloud, cloud["vpc_a2"], uid=cloud["a"].uid)
    err = _error(lambda: vpc_b_client.create_route_entry(vm.CreateRouteEntryRequest(
        region_id=HZ, route_table_id=cloud["vpc_b"].route_table_id, destination_cidr_block="172.16.0.0/16",
        next_hop_type="VpcPeer", next_hop_id=other)))
    assert err.code == "ResourceNotFound.VpcPeer"


def test_tags_on_peering(cloud):
    from alibabacloud_vpcpeer20220101 import models as m

    pcc = _create(cloud, cloud["vpc_b"])
    client = _peer(cloud, cloud["a"])
    client.tag_resources(m.TagResourcesRequest(region_id=HZ, resource_type="PeerConnection", resource_id=[pcc],
                                               tag=[m.TagResourcesRequestTag(key="acrx:owned", value="true")]))
    rows = client.list_tag_resources(m.ListTagResourcesRequest(region_id=HZ, resource_type="PeerConnection",
                                                               resource_id=[pcc])).body.tag_resources
    assert [(r.resource_id, r.tag_key, r.tag_value) for r in rows] == [(pcc, "acrx:owned", "true")]
    assert [(t.key, t.value) for t in _status(cloud, cloud["b"], pcc).tags] == [("acrx:owned", "true")]
    err = _error(lambda: client.tag_resources(m.TagResourcesRequest(
        region_id=HZ, resource_type="PeerConnection", resource_id=["pcc-nothere"],
        tag=[m.TagResourcesRequestTag(key="k", value="v")])))
    assert err.code == "ResourceNotFound.ResourceId"
