"""The network adapters' deletes (VPC routes, VpcPeer, CBN, PrivateZone) and the CR internet ACL
read, against a real sandbox CloudServer with two accounts: a "cluster" and b "registry"."""

from __future__ import annotations

import pytest

from acrx.cloud.cbn import CbnApi
from acrx.cloud.cr import AclEntry, CrApi
from acrx.cloud.pvtz import Binding, PvtzApi
from acrx.cloud.retry import RetryPolicy
from acrx.cloud.vpc import VpcApi
from acrx.cloud.vpcpeer import VpcPeerApi
from acrx.errors import CloudError
from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import serving, two_accounts

REGION = "cn-hangzhou"
OTHER_REGION = "cn-shanghai"
ZONE = "cn-hangzhou-h"


class World:
    """Account a with VPC 192.168.0.0/16, account b with VPC 10.0.0.0/16 and a CR instance."""

    def __init__(self, endpoint: str, world, a, b):
        self.endpoint, self.world, self.a, self.b = endpoint, world, a, b
        vpcs_a, vpcs_b = world.backend("vpc", a.uid, REGION), world.backend("vpc", b.uid, REGION)
        self.vpc_a = vpcs_a.seed_vpc("192.168.0.0/16")
        self.vsw_a = vpcs_a.seed_vswitch(self.vpc_a.vpc_id, "192.168.1.0/24", ZONE)
        self.vpc_b = vpcs_b.seed_vpc("10.0.0.0/16")
        self.vsw_b = vpcs_b.seed_vswitch(self.vpc_b.vpc_id, "10.0.1.0/24", ZONE)
        self.cr = world.backend("cr", b.uid, REGION)
        self.instance = self.cr.seed_instance("acme")

    def api(self, cls, product: str, acct, region: str = REGION):
        return cls(lambda: sdk_client(product, self.endpoint, acct.root_key, region=region),
                   RetryPolicy(budget_s=5, initial_s=0.01), region=region)


@pytest.fixture
def net():
    world, a, b = two_accounts(seed=23)
    with serving(world) as server:
        yield World(server.endpoint, world, a, b)


def _peering(net) -> str:
    """An Activated connection a -> b (the clock runs at zero delay)."""
    peer_a, peer_b = (net.api(VpcPeerApi, "alibabacloud_vpcpeer20220101", acct) for acct in (net.a, net.b))
    peering_id = peer_a.create(region=REGION, vpc_id=net.vpc_a.vpc_id, accepting_uid=net.b.uid,
                               accepting_region=REGION, accepting_vpc_id=net.vpc_b.vpc_id, name="acrx-test",
                               description="acrx-test", client_token="peer-1")
    peer_b.accept(peering_id)
    assert peer_a.get(peering_id).status == "Activated"
    return peering_id


# -- VPC routes and VpcPeer ---------------------------------------------------------------------
def test_route_entries_and_the_peering_they_use_are_deleted(net):
    peering_id = _peering(net)
    vpc_a = net.api(VpcApi, "alibabacloud_vpc20160428", net.a)
    vpc_b = net.api(VpcApi, "alibabacloud_vpc20160428", net.b)
    table_a, table_b = net.vpc_a.route_table_id, net.vpc_b.route_table_id
    vpc_a.create_route_entry(table_a, "10.0.0.0/16", "VpcPeer", peering_id, name="acrx-r", description="acrx",
                             client_token="route-a")
    entry_b = vpc_b.create_route_entry(table_b, "192.168.0.0/16", "VpcPeer", peering_id, name="acrx-r",
                                       description="acrx", client_token="route-b")
    peer_a = net.api(VpcPeerApi, "alibabacloud_vpcpeer20220101", net.a)

    # No Force: routes still pointing at the connection stop its delete.
    with pytest.raises(CloudError) as refused:
        peer_a.delete_peering(peering_id, missing_ok=True)
    assert refused.value.code == "OperationDenied.RouteEntryExist"

    # By destination and next hop (no entry id), and by entry id.
    assert vpc_a.delete_route_entry(table_a, "10.0.0.0/16", next_hop_id=peering_id, missing_ok=True) is True
    assert vpc_b.delete_route_entry(table_b, "192.168.0.0/16", entry_id=entry_b, missing_ok=True) is True
    assert not [e for e in vpc_a.route_entries(table_a) if e.destination == "10.0.0.0/16"]
    assert vpc_a.delete_route_entry(table_a, "10.0.0.0/16", next_hop_id=peering_id, missing_ok=True) is False
    assert not [e for e in vpc_b.route_entries(table_b) if e.destination == "192.168.0.0/16"]

    assert peer_a.delete_peering(peering_id, missing_ok=True) is True
    assert peer_a.get(peering_id) is None
    assert peer_a.delete_peering(peering_id, missing_ok=True) is False
    with pytest.raises(CloudError) as gone:
        peer_a.delete_peering(peering_id)
    assert gone.value.code == "ResourceNotFound.InstanceId"


def test_route_delete_of_a_missing_table_is_done_only_with_missing_ok(net):
    vpc_a = net.api(VpcApi, "alibabacloud_vpc20160428", net.a)
    assert vpc_a.delete_route_entry("vtb-doesnotexist", "10.0.0.0/16", missing_ok=True) is False
    with pytest.raises(CloudError):
        vpc_a.delete_route_entry("vtb-doesnotexist", "10.0.0.0/16")


# -- CBN: attachment, grant, transit router, CEN, in destroy's order -----------------------------
def test_cen_pieces_are_deleted_children_first(net):
    cbn_a = net.api(CbnApi, "alibabacloud_cbn20170912", net.a)
    cbn_b = net.api(CbnApi, "alibabacloud_cbn20170912", net.b)
    cen_id = cbn_a.create_cen(name="acrx-test", description="acrx", client_token="cen-1", tags={"acrx": "managed"})
    tr_id = cbn_a.create_transit_router(cen_id=cen_id, region=REGION, name="acrx-tr", description="acrx",
                                        client_token="tr-1")
    cbn_b.grant_vpc(vpc_id=net.vpc_b.vpc_id, region=REGION, cen_id=cen_id, cen_owner_id=net.a.uid,
                    order_type="PayByCenOwner")
    attachment_id = cbn_a.create_vpc_attachment(
        cen_id=cen_id, transit_router_id=tr_id, region=REGION, vpc_id=net.vpc_b.vpc_id, vpc_owner_id=net.b.uid,
        zone_mappings=[(net.vsw_b.vswitch_id, ZONE)], name="acrx-att", description="acrx", client_token="att-1")

    with pytest.raises(CloudError):      # the router still has the attachment
        cbn_a.delete_transit_router(tr_id, missing_ok=True)

    assert cbn_a.delete_vpc_attachment(attachment_id, missing_ok=True) is True
    assert cbn_a.vpc_attachments(cen_id) == []
    assert cbn_a.delete_vpc_attachment(attachment_id, missing_ok=True) is False
    with pytest.raises(CloudError):
        cbn_a.delete_vpc_attachment(attachment_id)

    assert cbn_b.grants_of_vpc(net.vpc_b.vpc_id, REGION)
    assert cbn_b.revoke_grant(vpc_id=net.vpc_b.vpc_id, region=REGION, cen_id=cen_id, cen_owner_id=net.a.uid,
                              missing_ok=True) is True
    assert cbn_b.grants_of_vpc(net.vpc_b.vpc_id, REGION) == []

    assert cbn_a.delete_transit_router(tr_id, missing_ok=True) is True
    assert cbn_a.transit_routers(cen_id) == []
    assert cbn_a.delete_transit_router(tr_id, missing_ok=True) is False

    assert cbn_a.delete_cen(cen_id, missing_ok=True) is True
    assert cbn_a.get_cen(cen_id) is None

    # An interrupted destroy applied again meets what is already gone: done, not an error.
    assert cbn_b.revoke_grant(vpc_id=net.vpc_b.vpc_id, region=REGION, cen_id=cen_id, cen_owner_id=net.a.uid,
                              missing_ok=True) is False
    assert cbn_a.delete_cen(cen_id, missing_ok=True) is False


def test_peer_attachment_between_two_regions_is_deleted(net):
    cbn_a = net.api(CbnApi, "alibabacloud_cbn20170912", net.a)
    cen_id = cbn_a.create_cen(name="acrx-test", description="acrx", client_token="cen-2", tags={})
    tr_here = cbn_a.create_transit_router(cen_id=cen_id, region=REGION, name="acrx-tr", description="acrx",
                                          client_token="tr-here")
    tr_there = cbn_a.create_transit_router(cen_id=cen_id, region=OTHER_REGION, name="acrx-tr", description="acrx",
                                           client_token="tr-there")
    # acrx no longer makes peer attachments (a private cross-region path is refused); an older acrx did,
    # and destroy still deletes them: made here through the SDK.
    from alibabacloud_cbn20170912 import models as m

    client = sdk_client("alibabacloud_cbn20170912", net.endpoint, net.a.root_key, region=REGION)
    attachment_id = client.create_transit_router_peer_attachment(m.CreateTransitRouterPeerAttachmentRequest(
        cen_id=cen_id, transit_router_id=tr_here, region_id=REGION, peer_transit_router_id=tr_there,
        peer_transit_router_region_id=OTHER_REGION, transit_router_attachment_name="acrx-peer",
        client_token="peer-att")).body.transit_router_attachment_id
    assert [a.id for a in cbn_a.peer_attachments(cen_id)] == [attachment_id]

    assert cbn_a.delete_peer_attachment(attachment_id, missing_ok=True) is True
    assert cbn_a.peer_attachments(cen_id) == []
    assert cbn_a.delete_peer_attachment(attachment_id, missing_ok=True) is False
    with pytest.raises(CloudError):
        cbn_a.delete_peer_attachment(attachment_id)


# -- PrivateZone ---------------------------------------------------------------------------------
def test_records_binding_and_zone_are_deleted(net):
    other = net.world.backend("vpc", net.a.uid, REGION).seed_vpc("172.16.0.0/16")
    pvtz = net.api(PvtzApi, "alibabacloud_pvtz20180101", net.a)
    zone_id = pvtz.add_zone("acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com", proxy_pattern="ZONE",
                            client_token="zone-1")
    ids = [pvtz.add_record(zone_id, rr, "A", "10.0.1.7", ttl=60, remark="acrx-managed", client_token=rr)
           for rr in ("@", "www")]
    pvtz.bind(zone_id, [Binding(net.vpc_a.vpc_id, REGION), Binding(other.vpc_id, REGION)])

    # Only the named VPC leaves; the other binding stays (BindZoneVpc replaces the whole list).
    pvtz.unbind_zone(zone_id, net.vpc_a.vpc_id)
    assert pvtz.bindings(zone_id) == [Binding(other.vpc_id, REGION)]
    pvtz.unbind_zone(zone_id, net.vpc_a.vpc_id)          # again: the same list, nothing changes
    assert pvtz.bindings(zone_id) == [Binding(other.vpc_id, REGION)]

    with pytest.raises(CloudError):      # still bound to a VPC
        pvtz.delete_zone(zone_id, missing_ok=True)
    pvtz.unbind_zone(zone_id, other.vpc_id)
    assert pvtz.bindings(zone_id) == []

    # Records: the count of those deleted now; one already gone is done with missing_ok.
    assert pvtz.delete_records([ids[0]], missing_ok=True) == 1
    assert pvtz.delete_records(ids, missing_ok=True) == 1
    assert pvtz.records(zone_id) == []
    with pytest.raises(CloudError):
        pvtz.delete_records(ids)

    assert pvtz.delete_zone(zone_id, missing_ok=True) is True
    assert pvtz.find_zone("acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com") is None
    assert pvtz.delete_zone(zone_id, missing_ok=True) is False
    with pytest.raises(CloudError):
        pvtz.delete_zone(zone_id)


# -- CR internet ACL -----------------------------------------------------------------------------
def test_internet_acl_entries_keep_the_comments_and_follow_deletes(net):
    instance_id = net.instance.instance_id
    net.cr.seed_acl_entry(instance_id, "203.0.113.7/32", "acrx-managed")
    net.cr.seed_acl_entry(instance_id, "198.51.100.0/24", "")
    cr = net.api(CrApi, "alibabacloud_cr20181201", net.b)

    assert set(cr.internet_acl_entries(instance_id)) == {AclEntry("203.0.113.7/32", "acrx-managed"),
                                                          AclEntry("198.51.100.0/24", "")}
    cr.delete_acl_entry(instance_id, "203.0.113.7/32")
    assert cr.internet_acl_entries(instance_id) == (AclEntry("198.51.100.0/24", ""),)


def test_internet_acl_entries_of_a_missing_instance_are_none(net):
    cr = net.api(CrApi, "alibabacloud_cr20181201", net.b)
    assert cr.internet_acl_entries("cri-doesnotexist") == ()
