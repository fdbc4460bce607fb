"""Sandbox CBN/CEN (2017-09-12) through the official alibabacloud_cbn20170912 client over HTTP."""

from __future__ import annotations

import pytest

from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import api_error as _error
from tests.sandbox_cloud import serving, two_accounts

HZ, SH = "cn-hangzhou", "cn-shanghai"


@pytest.fixture
def cloud():
    world, a, b = two_accounts(9, HZ)
    va = world.backend("vpc", a.uid, HZ)
    vpc_a = va.seed_vpc("192.168.0.0/16")
    vsw_a = va.seed_vswitch(vpc_a.vpc_id, "192.168.1.0/24", "cn-hangzhou-h")
    vb = world.backend("vpc", b.uid, HZ)
    vpc_b = vb.seed_vpc("10.0.0.0/16")
    vsw_b = vb.seed_vswitch(vpc_b.vpc_id, "10.0.1.0/24", "cn-hangzhou-i")
    vb_sh = world.backend("vpc", b.uid, SH)
    vpc_b_sh = vb_sh.seed_vpc("10.8.0.0/16")
    vsw_b_sh = vb_sh.seed_vswitch(vpc_b_sh.vpc_id, "10.8.1.0/24", "cn-shanghai-b")
    with serving(world) as server:
        yield dict(world=world, a=a, b=b, vpc_a=vpc_a, vsw_a=vsw_a, vpc_b=vpc_b, vsw_b=vsw_b, vpc_b_sh=vpc_b_sh,
                   vsw_b_sh=vsw_b_sh, server=server)


def _cbn(cloud, account):
    return sdk_client("alibabacloud_cbn20170912", cloud["server"].endpoint, account.root_key)


def _cen_and_router(cloud, region=HZ):
    from alibabacloud_cbn20170912 import models as m

    client = _cbn(cloud, cloud["a"])
    cen_id = client.create_cen(m.CreateCenRequest(name="acrx", client_token="cen-1")).body.cen_id
    cloud["world"].clock.advance(30)   # a new CEN answers Operation.Blocking while it settles (cbn/busy.py)
    tr_id = client.create_transit_router(m.CreateTransitRouterRequest(cen_id=cen_id, region_id=region)).body.transit_router_id
    return client, cen_id, tr_id


def _attach(client, cen_id, tr_id, vpc, vsw, owner=None, region=HZ):
    from alibabacloud_cbn20170912 import models as m

    return client.create_transit_router_vpc_attachment(m.CreateTransitRouterVpcAttachmentRequest(
        cen_id=cen_id, transit_router_id=tr_id, region_id=region, vpc_id=vpc.vpc_id,
        vpc_owner_id=int(owner.uid) if owner else None,
        zone_mappings=[m.CreateTransitRouterVpcAttachmentRequestZoneMappings(v_switch_id=vsw.vswitch_id,
                                                                             zone_id=vsw.zone_id)])).body


def _grant(cloud, cen_id, vpc, region=HZ):
    from alibabacloud_cbn20170912 import models as m

    _cbn(cloud, cloud["b"]).grant_instance_to_transit_router(m.GrantInstanceToTransitRouterRequest(
        cen_id=cen_id, cen_owner_id=int(cloud["a"].uid), instance_id=vpc.vpc_id, instance_type="VPC",
        region_id=region, order_type="PayByCenOwner"))


def test_cen_and_transit_router(cloud):
    from alibabacloud_cbn20170912 import models as m

    client, cen_id, tr_id = _cen_and_router(cloud)
    assert client.create_cen(m.CreateCenRequest(name="acrx", client_token="cen-1")).body.cen_id == cen_id
    cens = client.describe_cens(m.DescribeCensRequest(filter=[m.DescribeCensRequestFilter(key="CenId", value=[cen_id])])).body
    assert [(c.cen_id, c.name, c.status) for c in cens.cens.cen] == [(cen_id, "acrx", "Active")]
    assert _cbn(cloud, cloud["b"]).describe_cens(m.DescribeCensRequest()).body.total_count == 0
    routers = client.list_transit_routers(m.ListTransitRoutersRequest(cen_id=cen_id, region_id=HZ)).body
    assert [(t.transit_router_id, t.type, t.ali_uid) for t in routers.transit_routers] == [
        (tr_id, "Enterprise", int(cloud["a"].uid))]
    err = _error(lambda: client.create_transit_router(m.CreateTransitRouterRequest(cen_id=cen_id, region_id=HZ)))
    assert err.code == "Forbidden.TransitRouterExist"
    err = _error(lambda: client.delete_cen(m.DeleteCenRequest(cen_id=cen_id)))
    assert err.code == "InvalidOperation.CenInstanceStatus"
    client.delete_transit_router(m.DeleteTransitRouterRequest(transit_router_id=tr_id))
    client.delete_cen(m.DeleteCenRequest(cen_id=cen_id))
    err = _error(lambda: client.delete_cen(m.DeleteCenRequest(cen_id=cen_id)))
    assert (err.code, err.status_code) == ("ParameterCenInstanceId", 400)


def test_cross_account_attachment_needs_the_grant_first(cloud):
    from alibabacloud_cbn20170912 import models as m

    world = cloud["world"]
    world.clock.scale = 1.0
    client, cen_id, tr_id = _cen_and_router(cloud)
    err = _error(lambda: _attach(client, cen_id, tr_id, cloud["vpc_b"], cloud["vsw_b"], owner=cloud["b"]))
    assert (err.code, err.status_code) == ("Forbidden.InstanceNotGranted", 400)
    # the grant is the VPC owner's call: the CEN owner cannot grant B's VPC
    err = _error(lambda: client.grant_instance_to_transit_router(m.GrantInstanceToTransitRouterRequest(
        cen_id=cen_id, cen_owner_id=int(cloud["a"].uid), instance_id=cloud["vpc_b"].vpc_id, instance_type="VPC",
        region_id=HZ)))
    assert err.code == "InvalidInstanceId.NotFound"
    _grant(cloud, cen_id, cloud["vpc_b"])
    rules = _cbn(cloud, cloud["b"]).describe_grant_rules_to_resource(m.DescribeGrantRulesToResourceRequest(
        product_type="VPC", resource_id=cloud["vpc_b"].vpc_id, region_id=HZ)).body
    assert [(r.cen_id, r.cen_owner_id) for r in rules.grant_rules] == [(cen_id, int(cloud["a"].uid))]
    seen_by_a = client.describe_grant_rules_to_cen(m.DescribeGrantRulesToCenRequest(cen_id=cen_id, product_type="VPC")).body
    assert [r.child_instance_id for r in seen_by_a.grant_rules.grant_rule] == [cloud["vpc_b"].vpc_id]

    attachment_id = _attach(client, cen_id, tr_id, cloud["vpc_b"], cloud["vsw_b"], owner=cloud["b"]).transit_router_attachment_id
    listed = client.list_transit_router_vpc_attachments(m.ListTransitRouterVpcAttachmentsRequest(cen_id=cen_id)).body
    row = listed.transit_router_attachments[0]
    assert (row.transit_router_attachment_id, row.status, row.vpc_owner_id) == (attachment_id, "Attaching", int(cloud["b"].uid))
    assert [z.v_switch_id for z in row.zone_mappings] == [cloud["vsw_b"].vswitch_id]
    world.clock.advance(60)
    listed = client.list_transit_router_vpc_attachments(m.ListTransitRouterVpcAttachmentsRequest(cen_id=cen_id)).body
    assert listed.transit_router_attachments[0].status == "Attached"
    err = _error(lambda: _attach(client, cen_id, tr_id, cloud["vpc_b"], cloud["vsw_b"], owner=cloud["b"]))
    assert err.code == "Forbidden.AttachmentExist"
    err = _error(lambda: _cbn(cloud, cloud["b"]).revoke_instance_from_transit_router(
        m.RevokeInstanceFromTransitRouterRequest(cen_id=cen_id, cen_owner_id=int(cloud["a"].uid),
                                                 instance_id=cloud["vpc_b"].vpc_id, instance_type="VPC", region_id=HZ)))
    assert err.code == "IncorrectStatus.Attachment"
    client.delete_transit_router_vpc_attachment(m.DeleteTransitRouterVpcAttachmentRequest(
        transit_router_attachment_id=attachment_id))
    _cbn(cloud, cloud["b"]).revoke_instance_from_transit_router(m.RevokeInstanceFromTransitRouterRequest(
        cen_id=cen_id, cen_owner_id=int(cloud["a"].uid), instance_id=cloud["vpc_b"].vpc_id, instance_type="VPC",
        region_id=HZ))
    err = _error(lambda: _attach(client, cen_id, tr_id, cloud["vpc_b"], cloud["vsw_b"], owner=cloud["b"]))
    assert err.code == "Forbidden.InstanceNotGranted"


def test_zone_mappings_must_be_vswitches_of_that_vpc(cloud):
    client, cen_id, tr_id = _cen_and_router(cloud)
    err = _error(lambda: _attach(client, cen_id, tr_id, cloud["vpc_a"], cloud["vsw_b"]))
    assert (err.code, err.status_code) == ("IncorrectStatus.VpcOrVswitch", 400)
    attachment = _attach(client, cen_id, tr_id, cloud["vpc_a"], cloud["vsw_a"])
    assert attachment.transit_router_attachment_id.startswith("tr-attach-")


def test_vpc_route_to_attachment_and_describe_vpc_attribute(cloud):
    from alibabacloud_vpc20160428 import models as vm

    client, cen_id, tr_id = _cen_and_router(cloud)
    own = _attach(client, cen_id, tr_id, cloud["vpc_a"], cloud["vsw_a"]).transit_router_attachment_id
    vpc_client = sdk_client("alibabacloud_vpc20160428", cloud["server"].endpoint, cloud["a"].root_key)
    vpc_client.create_route_entry(vm.CreateRouteEntryRequest(
        region_id=HZ, route_table_id=cloud["vpc_a"].route_table_id, destination_cidr_block="10.0.0.0/16",
        next_hop_type="Attachment", next_hop_id=own))
    attr = vpc_client.describe_vpc_attribute(vm.DescribeVpcAttributeRequest(region_id=HZ, vpc_id=cloud["vpc_a"].vpc_id)).body
    assert [c.cen_id for c in attr.associated_cens.associated_cen] == [cen_id]
    # an attachment of another VPC cannot be the next hop of this VPC's route
    _grant(cloud, cen_id, cloud["vpc_b"])
    theirs = _attach(client, cen_id, tr_id, cloud["vpc_b"], cloud["vsw_b"], owner=cloud["b"]).transit_router_attachment_id
    err = _error(lambda: vpc_client.create_route_entry(vm.CreateRouteEntryRequest(
        region_id=HZ, route_table_id=cloud["vpc_a"].route_table_id, destination_cidr_block="10.9.0.0/16",
        next_hop_type="Attachment", next_hop_id=theirs)))
    assert (err.code, err.status_code) == ("InvalidAttachment.NotFound", 400)


def test_cross_region_peer_attachment_and_learned_routes(cloud):
    from alibabacloud_cbn20170912 import models as m

    world = cloud["world"]
    client, cen_id, tr_hz = _cen_and_router(cloud)
    tr_sh = client.create_transit_router(m.CreateTransitRouterRequest(cen_id=cen_id, region_id=SH)).body.transit_router_id
    att_hz = _attach(client, cen_id, tr_hz, cloud["vpc_a"], cloud["vsw_a"]).transit_router_attachment_id
    _grant(cloud, cen_id, cloud["vpc_b_sh"], region=SH)
    att_sh = _attach(client, cen_id, tr_sh, cloud["vpc_b_sh"], cloud["vsw_b_sh"], owner=cloud["b"],
                     region=SH).transit_router_attachment_id
    err = _error(lambda: client.create_transit_router_peer_attachment(m.CreateTransitRouterPeerAttachmentRequest(
        cen_id=cen_id, transit_router_id=tr_hz, region_id=HZ, peer_transit_router_id=tr_hz,
        peer_transit_router_region_id=HZ)))
    assert (err.code, err.status_code) == ("InvalidParameter.PeerTransitRouterRegionId", 400)
    world.clock.scale = 1.0
    peer_id = client.create_transit_router_peer_attachment(m.CreateTransitRouterPeerAttachmentRequest(
        cen_id=cen_id, transit_router_id=tr_hz, region_id=HZ, peer_transit_router_id=tr_sh,
        peer_transit_router_region_id=SH, bandwidth_type="DataTransfer")).body.transit_router_attachment_id
    peers = client.list_transit_router_peer_attachments(m.ListTransitRouterPeerAttachmentsRequest(cen_id=cen_id)).body
    assert [(p.transit_router_attachment_id, p.status, p.peer_transit_router_region_id)
            for p in peers.transit_router_attachments] == [(peer_id, "Attaching", SH)]
    table = client.list_transit_router_route_tables(m.ListTransitRouterRouteTablesRequest(
        transit_router_id=tr_hz)).body.transit_router_route_tables[0].transit_router_route_table_id

    def routes():
        body = client.list_transit_router_route_entries(m.ListTransitRouterRouteEntriesRequest(
            transit_router_route_table_id=table)).body
        return {e.transit_router_route_entry_destination_cidr_block: e.transit_router_route_entry_next_hop_id
                for e in body.transit_router_route_entries}

    world.clock.advance(120)
    # Attached, but association and route learning are off by default (issue 12): nothing is learned.
    assert routes() == {}
    table_sh = client.list_transit_router_route_tables(m.ListTransitRouterRouteTablesRequest(
        transit_router_id=tr_sh)).body.transit_router_route_tables[0].transit_router_route_table_id
    for tbl, att in ((table, att_hz), (table, peer_id), (table_sh, att_sh), (table_sh, peer_id)):
        for call, request in ((client.associate_transit_router_attachment_with_route_table,
                               m.AssociateTransitRouterAttachmentWithRouteTableRequest),
                              (client.enable_transit_router_route_table_propagation,
                               m.EnableTransitRouterRouteTablePropagationRequest)):
            call(request(transit_router_route_table_id=tbl, transit_router_attachment_id=att))
    assert routes() == {}                            # Associating / Enabling
    world.clock.advance(10)
    assert routes()["10.8.0.0/16"] == peer_id
    assert "192.168.0.0/16" in routes()


def test_cen_tags(cloud):
    from alibabacloud_cbn20170912 import models as m

    client, cen_id, _ = _cen_and_router(cloud)
    client.tag_resources(m.TagResourcesRequest(region_id=HZ, resource_type="cen", resource_id=[cen_id],
                                               tag=[m.TagResourcesRequestTag(key="acrx:owned", value="true")]))
    rows = client.list_tag_resources(m.ListTagResourcesRequest(region_id=HZ, resource_type="cen",
                                                               resource_id=[cen_id])).body.tag_resources.tag_resource
    assert [(r.resource_id, r.tag_key, r.tag_value) for r in rows] == [(cen_id, "acrx:owned", "true")]
    tagged = client.describe_cens(m.DescribeCensRequest(tag=[m.DescribeCensRequestTag(key="acrx:owned", value="true")])).body
    assert [c.cen_id for c in tagged.cens.cen] == [cen_id]
