"""Network shapes of the issue-12 scenarios, seeded through the services' own seed methods.

`node-pools`: the nodes sit in a vSwitch outside the cluster's `vswitch_ids` (the control plane's,
per the CS SDK model), with their own custom route table and their own NAT gateway and SNAT EIP, as
node pools commonly do. The cluster's single default node pool names only that vSwitch
(DescribeClusterNodePools scaling_group.vswitch_ids).
"""

from __future__ import annotations


def seed_node_pool(world, scenario, account: str, vpc_id: str, cluster) -> str:
    """The node pool's vSwitch, route table and NAT; returns the vSwitch id."""
    from acrx.sandbox.services.cs.nodepools import seed_pool

    backend = world.backend("vpc", account, scenario.region_a)
    vswitch = backend.seed_vswitch(vpc_id, scenario.node_pool_cidr, scenario.zone_a, name="node-pool")
    table = backend.seed_route_table(vpc_id, [vswitch.vswitch_id], name="node-pool")
    nat = backend.seed_nat_gateway(vpc_id, vswitch.vswitch_id, [scenario.node_pool_eip], [vswitch.vswitch_id],
                                   name="node-pool")
    for entry in table.entries:               # its own way out: 0.0.0.0/0 to the pool's NAT gateway
        if entry.destination == "0.0.0.0/0":
            entry.next_hop_type, entry.next_hop_id = "NatGateway", nat.nat_gateway_id
    seed_pool(cluster, "np-" + world.ids.alnum(24), "workers", [vswitch.vswitch_id])
    return vswitch.vswitch_id


def seed_tr_zones(world, scenario, account_a: str, vpc_a: str, account_b: str, vpc_b: str) -> None:
    """`cen-multizone`: transit routers of the region span a primary and a secondary zone
    (cbn/zones.py), so each VPC attachment needs vSwitches in both. A's VPC gets a vSwitch in the
    second zone; B's VPC the vSwitches of `extra_vswitches_b` (none in `cen-multizone-missing`)."""
    from acrx.sandbox.services.cbn.zones import set_rule

    master, slave = scenario.tr_zones
    set_rule(world, scenario.region_b, master, slave)
    for account, vpc_id, region, extra in ((account_a, vpc_a, scenario.region_a, scenario.extra_vswitches_a),
                                           (account_b, vpc_b, scenario.region_b, scenario.extra_vswitches_b)):
        backend = world.backend("vpc", account, region)
        for cidr, zone in extra:
            backend.seed_vswitch(vpc_id, cidr, zone, name=f"tr-{zone}")
