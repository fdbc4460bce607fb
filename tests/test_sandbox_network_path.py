"""The sandbox network-path evaluator over worlds seeded by hand (two accounts' VPCs)."""

from __future__ import annotations

import pytest

from acrx.sandbox.core.errors import ApiError
from acrx.sandbox.core.world import World
from acrx.sandbox.services import network_path as npath

HZ, SH = "cn-hangzhou", "cn-shanghai"
VPC_DOMAIN = "reg-registry-vpc.cn-hangzhou.cr.aliyuncs.com"
PUBLIC_DOMAIN = "reg-registry.cn-hangzhou.cr.aliyuncs.com"
ENDPOINT_IP = "10.0.1.10"


def _world(b_region=HZ, b_cidr="10.0.0.0/16", b_vsw="10.0.1.0/24"):
    world = World(seed=21)
    a = world.add_account("cluster", HZ)
    b = world.add_account("registry", b_region)
    va = world.backend("vpc", a.uid, HZ)
    vpc_a = va.seed_vpc("192.168.0.0/16")
    nodes = va.seed_vswitch(vpc_a.vpc_id, "192.168.1.0/24", "cn-hangzhou-h")
    other = va.seed_vswitch(vpc_a.vpc_id, "192.168.9.0/24", "cn-hangzhou-h")
    va.seed_nat_gateway(vpc_a.vpc_id, nodes.vswitch_id, ["47.96.0.7", "47.96.0.8"], [nodes.vswitch_id])
    vb = world.backend("vpc", b.uid, b_region)
    vpc_b = vb.seed_vpc(b_cidr)
    vsw_b = vb.seed_vswitch(vpc_b.vpc_id, b_vsw, b_region + "-b")
    return dict(world=world, a=a, b=b, va=va, vb=vb, vpc_a=vpc_a, nodes=nodes, other=other, vpc_b=vpc_b,
                vsw_b=vsw_b, b_region=b_region)


def _peering(s):
    world = s["world"]
    peer_a = world.backend("vpcpeer", s["a"].uid, None)
    conn = peer_a.create(region=HZ, vpc_id=s["vpc_a"].vpc_id, accepting_uid=s["b"].uid,
                         accepting_region=s["b_region"], accepting_vpc_id=s["vpc_b"].vpc_id,
                         bandwidth=None if s["b_region"] == HZ else 100, link_type=None, name="", description="",
                         tags={})
    world.backend("vpcpeer", s["b"].uid, None).accept(conn.instance_id)
    return conn.instance_id


def _route(backend, table_id, dest, hop_type, hop_id):
    return backend.create_route_entry(route_table_id=table_id, destination=dest, next_hop_type=hop_type,
                                      next_hop_id=hop_id)


def _src(s):
    return (s["a"].uid, HZ, s["nodes"].vswitch_id)


# -- egress -------------------------------------------------------------------------------------
def test_egress_ips_follow_snat_and_the_default_route():
    s = _world()
    world, va = s["world"], s["va"]
    assert npath.egress_ips(world, s["a"].uid, HZ, s["vpc_a"].vpc_id, s["nodes"].vswitch_id) == ["47.96.0.7"]
    assert npath.egress_ips(world, s["a"].uid, HZ, s["vpc_a"].vpc_id, s["other"].vswitch_id) == []  # no SNAT entry
    table = va.seed_route_table(s["vpc_a"].vpc_id, [s["nodes"].vswitch_id])
    va.delete_route_entry(route_table_id=table.route_table_id, destination="0.0.0.0/0")
    assert npath.egress_ips(world, s["a"].uid, HZ, s["vpc_a"].vpc_id, s["nodes"].vswitch_id) == []  # no route to NAT
    assert npath.egress_ips(world, s["a"].uid, HZ, s["vpc_b"].vpc_id, s["nodes"].vswitch_id) == []


# -- DNS ----------------------------------------------------------------------------------------
def test_resolve_through_private_zone_bound_to_the_vpc():
    s = _world()
    world = s["world"]
    pvtz = world.backend("pvtz", s["a"].uid, None)
    zone = pvtz.add_zone(VPC_DOMAIN, "ZONE", "")
    pvtz.add_record(zone.zone_id, "@", "A", ENDPOINT_IP, None, None, "")
    args = (world, s["a"].uid, HZ, s["vpc_a"].vpc_id)
    assert npath.resolve(*args, VPC_DOMAIN) is None                 # not bound yet
    pvtz.bind_vpcs(zone.zone_id, [{"RegionId": HZ, "VpcId": s["vpc_a"].vpc_id}])
    assert npath.resolve(*args, VPC_DOMAIN) == ENDPOINT_IP
    assert npath.resolve(*args, VPC_DOMAIN.upper() + ".") == ENDPOINT_IP
    assert npath.resolve(*args, "x." + VPC_DOMAIN) is None           # ProxyPattern ZONE: NXDOMAIN
    assert npath.resolve(world, s["b"].uid, HZ, s["vpc_b"].vpc_id, VPC_DOMAIN) is None  # other VPC


def test_resolve_longest_zone_cname_and_public_names():
    s = _world()
    world = s["world"]
    pvtz = world.backend("pvtz", s["a"].uid, None)
    parent = pvtz.add_zone("cr.aliyuncs.com", "RECORD", "")
    pvtz.add_record(parent.zone_id, "reg-registry-vpc.cn-hangzhou", "CNAME", "alias.internal.example", None, None, "")
    alias = pvtz.add_zone("internal.example", "ZONE", "")
    pvtz.add_record(alias.zone_id, "alias", "A", "10.0.1.99", None, None, "")
    for z in (parent, alias):
        pvtz.bind_vpcs(z.zone_id, [{"RegionId": HZ, "VpcId": s["vpc_a"].vpc_id}])
    args = (world, s["a"].uid, HZ, s["vpc_a"].vpc_id)
    assert npath.resolve(*args, VPC_DOMAIN) == "10.0.1.99"           # CNAME followed
    # RECORD pattern: an unknown name under the zone falls through to the public answer
    assert npath.resolve(*args, PUBLIC_DOMAIN) == npath.PUBLIC_ADDRESS
    assert npath.is_public(npath.resolve(world, s["b"].uid, HZ, s["vpc_b"].vpc_id, PUBLIC_DOMAIN))
    # a longer zone wins over the parent
    exact = pvtz.add_zone(VPC_DOMAIN, "ZONE", "")
    pvtz.add_record(exact.zone_id, "@", "A", ENDPOINT_IP, None, None, "")
    pvtz.bind_vpcs(exact.zone_id, [{"RegionId": HZ, "VpcId": s["vpc_a"].vpc_id}])
    assert npath.resolve(*args, VPC_DOMAIN) == ENDPOINT_IP
    assert npath.resolve(*args, "unknown.example.org") is None


def test_resolve_acr_link_records_only_in_the_linked_vpc():
    s = _world()
    world = s["world"]
    cr = world.backend("cr", s["b"].uid, HZ)
    instance = cr.seed_instance("reg")
    cr.seed_vpc_link(instance.instance_id, s["vpc_b"].vpc_id, s["vsw_b"].vswitch_id, ENDPOINT_IP)
    assert npath.resolve(world, s["b"].uid, HZ, s["vpc_b"].vpc_id, VPC_DOMAIN) == ENDPOINT_IP
    assert npath.resolve(world, s["a"].uid, HZ, s["vpc_a"].vpc_id, VPC_DOMAIN) is None


# -- private routing: peering -------------------------------------------------------------------
def test_peering_path_needs_routes_both_ways():
    s = _world()
    world, va, vb = s["world"], s["va"], s["vb"]
    ok, reason = npath.private_path(world, _src(s), ENDPOINT_IP)
    assert not ok and reason.startswith("i/o timeout") and "no route from" in reason
    assert s["vpc_a"].route_table_id in reason                      # the NAT default route is not a way in
    pcc = _peering(s)
    _route(va, s["vpc_a"].route_table_id, ENDPOINT_IP + "/32", "VpcPeer", pcc)
    ok, reason = npath.private_path(world, _src(s), ENDPOINT_IP)
    assert not ok and "no return route" in reason and s["vpc_b"].route_table_id in reason
    _route(vb, s["vpc_b"].route_table_id, "192.168.1.0/24", "VpcPeer", pcc)
    ok, reason = npath.private_path(world, _src(s), ENDPOINT_IP)
    assert ok, reason
    # another vSwitch of A has no return route from B
    ok, reason = npath.private_path(world, (s["a"].uid, HZ, s["other"].vswitch_id), ENDPOINT_IP)
    assert not ok and "192.168.9.0/24" in reason
    # an address of B outside the routed /32 is not reachable
    ok, reason = npath.private_path(world, _src(s), "10.0.1.11")
    assert not ok


def test_pending_routes_and_unaccepted_peering_do_not_carry_traffic():
    s = _world()
    world, va, vb = s["world"], s["va"], s["vb"]
    world.clock.scale = 1.0
    peer_a = world.backend("vpcpeer", s["a"].uid, None)
    conn = peer_a.create(region=HZ, vpc_id=s["vpc_a"].vpc_id, accepting_uid=s["b"].uid, accepting_region=HZ,
                         accepting_vpc_id=s["vpc_b"].vpc_id, bandwidth=None, link_type=None, name="",
                         description="", tags={})
    with pytest.raises(ApiError) as info:                            # still Accepting
        _route(va, s["vpc_a"].route_table_id, "10.0.0.0/16", "VpcPeer", conn.instance_id)
    assert info.value.code == "IncorrectStatus.VpcPeer"
    world.backend("vpcpeer", s["b"].uid, None).accept(conn.instance_id)
    world.clock.advance(60)
    _route(va, s["vpc_a"].route_table_id, "10.0.0.0/16", "VpcPeer", conn.instance_id)
    _route(vb, s["vpc_b"].route_table_id, "192.168.0.0/16", "VpcPeer", conn.instance_id)
    ok, reason = npath.private_path(world, _src(s), ENDPOINT_IP)
    assert not ok and "no route" in reason                           # both routes still Pending
    world.clock.advance(10)
    ok, reason = npath.private_path(world, _src(s), ENDPOINT_IP)
    assert ok, reason


def test_cross_region_peering():
    s = _world(b_region=SH)
    pcc = _peering(s)
    _route(s["va"], s["vpc_a"].route_table_id, "10.0.0.0/16", "VpcPeer", pcc)
    _route(s["vb"], s["vpc_b"].route_table_id, "192.168.1.0/24", "VpcPeer", pcc)
    ok, reason = npath.private_path(s["world"], _src(s), ENDPOINT_IP)
    assert ok, reason


def test_100x_registry_vpc_cannot_be_routed():
    s = _world(b_cidr="100.64.0.0/16", b_vsw="100.64.1.0/24")
    pcc = _peering(s)
    with pytest.raises(ApiError) as info:
        _route(s["va"], s["vpc_a"].route_table_id, "100.64.0.0/16", "VpcPeer", pcc)
    assert info.value.code == "InvalidCidrBlock"
    ok, reason = npath.private_path(s["world"], _src(s), "100.64.1.10")
    assert not ok and "100.64.0.0/10" in reason and "cloud-service" in reason


# -- private routing: CEN -----------------------------------------------------------------------
def _cen(s, *, grant=True, attach_b=True, peer=True):
    world = s["world"]
    cbn_a = world.backend("cbn", s["a"].uid, None)
    cen = cbn_a.create_cen("acrx", "", {})
    tr_a = cbn_a.create_transit_router(cen.cen_id, HZ, "", "")
    tr_b = tr_a if s["b_region"] == HZ else cbn_a.create_transit_router(cen.cen_id, s["b_region"], "", "")
    att_a = cbn_a.create_vpc_attachment(region=HZ, cen_id=cen.cen_id, transit_router_id=tr_a.transit_router_id,
                                        vpc_id=s["vpc_a"].vpc_id, vpc_owner=None,
                                        zone_mappings=[{"VSwitchId": s["nodes"].vswitch_id}], name="",
                                        description="", auto_publish=False)
    att_b = None
    if grant:
        world.backend("cbn", s["b"].uid, None).grant(region=s["b_region"], vpc_id=s["vpc_b"].vpc_id,
                                                     instance_type="VPC", cen_id=cen.cen_id,
                                                     cen_owner=s["a"].uid, order_type="PayByCenOwner")
    if attach_b:
        att_b = cbn_a.create_vpc_attachment(region=s["b_region"], cen_id=cen.cen_id,
                                            transit_router_id=tr_b.transit_router_id, vpc_id=s["vpc_b"].vpc_id,
                                            vpc_owner=s["b"].uid, zone_mappings=[{"VSwitchId": s["vsw_b"].vswitch_id}],
                                            name="", description="", auto_publish=False)
    links = [(tr_a, att_a)] + ([(tr_b, att_b)] if att_b else [])
    if peer and tr_b is not tr_a:
        peer_att = cbn_a.create_peer_attachment(
            region=HZ, cen_id=cen.cen_id, transit_router_id=tr_a.transit_router_id,
            peer_transit_router_id=tr_b.transit_router_id, peer_region=s["b_region"], bandwidth=None,
            bandwidth_type="DataTransfer", name="", description="", auto_publish=False)
        links += [(tr_a, peer_att), (tr_b, peer_att)]
    # Association and route learning are off by default (trtables.py): turn both on, as acrx plans.
    from acrx.sandbox.services.cbn import trtables

    for tr, att in links:
        for kind in (trtables.ASSOC, trtables.PROP):
            trtables.add(cbn_a, kind, tr.route_table_id, att.attachment_id)
    return cen, att_a, att_b


def test_cen_same_region_path():
    s = _world()
    cen, att_a, att_b = _cen(s)
    _route(s["va"], s["vpc_a"].route_table_id, "10.0.0.0/16", "Attachment", att_a.attachment_id)
    ok, reason = npath.private_path(s["world"], _src(s), ENDPOINT_IP)
    assert not ok and "no return route" in reason
    _route(s["vb"], s["vpc_b"].route_table_id, "192.168.0.0/16", "Attachment", att_b.attachment_id)
    ok, reason = npath.private_path(s["world"], _src(s), ENDPOINT_IP)
    assert ok and cen.cen_id in reason


def test_cen_without_the_other_vpc_attached_times_out():
    s = _world()
    cen, att_a, _ = _cen(s, attach_b=False)
    _route(s["va"], s["vpc_a"].route_table_id, "10.0.0.0/16", "Attachment", att_a.attachment_id)
    ok, reason = npath.private_path(s["world"], _src(s), ENDPOINT_IP)
    assert not ok and "transit router" in reason and "no route" in reason


def test_cen_attach_without_grant_is_refused():
    s = _world()
    with pytest.raises(ApiError) as info:
        _cen(s, grant=False)
    assert info.value.code == "Forbidden.InstanceNotGranted"


def test_cen_cross_region_needs_the_peer_attachment():
    s = _world(b_region=SH)
    _, att_a, att_b = _cen(s, peer=False)
    _route(s["va"], s["vpc_a"].route_table_id, "10.0.0.0/16", "Attachment", att_a.attachment_id)
    _route(s["vb"], s["vpc_b"].route_table_id, "192.168.0.0/16", "Attachment", att_b.attachment_id)
    ok, reason = npath.private_path(s["world"], _src(s), ENDPOINT_IP)
    assert not ok and "peer attachment" in reason
    s2 = _world(b_region=SH)
    _, att_a, att_b = _cen(s2, peer=True)
    _route(s2["va"], s2["vpc_a"].route_table_id, "10.0.0.0/16", "Attachment", att_a.attachment_id)
    _route(s2["vb"], s2["vpc_b"].route_table_id, "192.168.0.0/16", "Attachment", att_b.attachment_id)
    ok, reason = npath.private_path(s2["world"], _src(s2), ENDPOINT_IP)
    assert ok, reason


def test_inside_the_same_vpc_and_bad_sources():
    s = _world()
    assert npath.private_path(s["world"], _src(s), "192.168.9.20")[0]
    ok, reason = npath.private_path(s["world"], (s["a"].uid, HZ, "vsw-nothere"), ENDPOINT_IP)
    assert not ok and "vsw-nothere" in reason
