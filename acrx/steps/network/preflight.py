"""Read-only checks that stop a network mode before any write when it cannot work.

- public: the cluster must leave the VPC through a NAT gateway with EIPs (else no ACL can admit it).
- peering / cen: the cluster and the registry in one region (a private cross-region pull cannot
  reach the registry region's OSS internal endpoint; see check_same_region).
- peering / cen (and the none mode's claim): no CIDR of the cluster's VPC may overlap a CIDR of
  any VPC linked to the instance; the cluster VPC and vSwitches must not lie in 100.0.0.0/8 and no
  route may have to point into 100.64.0.0/10 (the FAQ's conflict; the remedies are named); a new
  VPC link must fit the edition's linked-VPC limit.
"""

from __future__ import annotations

import ipaddress

from acrx import facts
from acrx.errors import PreflightError
from acrx.steps.network.discovery import both_sides

FIELD = "network.mode"


def _net(cidr: str):
    return ipaddress.ip_network(cidr, strict=False)


def check(ctx, mode: str) -> None:
    cluster, registry = both_sides(ctx)   # read side by side
    if mode == "public":
        check_egress(cluster)
        return
    check_hundred(cluster)
    if mode == "none":
        # The user connected the networks; only what cannot work at all stops here.
        check_overlap(cluster, registry)
        return
    check_same_region(cluster, registry, mode)
    check_target(ctx, registry, mode)
    check_overlap(cluster, registry)
    check_route_destinations(ctx, registry)
    check_link_limit(registry)


def check_egress(cluster) -> None:
    if not cluster.egress_ips:
        names = ", ".join(v.id for v in cluster.vswitches)
        raise PreflightError(
            f"the cluster has no egress to the internet: none of its vSwitches ({names}) routes 0.0.0.0/0 to a "
            "NAT gateway with SNAT EIPs, so the registry's public endpoint cannot be reached or allow-listed",
            field=FIELD, hint="add a NAT gateway with an EIP and SNAT entries for the node vSwitches, "
                              "or use network mode peering or cen")


def check_hundred(cluster) -> None:
    block = _net(facts.HUNDRED_BLOCK)
    for cidr in (*cluster.vpc.cidrs, *cluster.vswitch_cidrs):
        if _net(cidr).overlaps(block):
            raise PreflightError(
                f"the cluster's network {cidr} (VPC {cluster.vpc.id}) lies in {facts.HUNDRED_BLOCK}, where the "
                "registry's auth and OSS names resolve (100.x conflict of the ACR FAQ)",
                field=FIELD, hint=facts.HUNDRED_REMEDIES)


def check_same_region(cluster, registry, mode: str) -> None:
    """A private pull crosses no region. Through the registry's VPC endpoint, layers are redirected to
    the registry region's OSS internal endpoint (official ACR doc on OSS domain routing) and the ACR
    docs on pulls from outside the VPC say the puller needs routes to the registry's auth and OSS
    internal ranges; those lie in 100.64.0.0/10, which CreateRouteEntry refuses (SDK doc), and reach
    only VPCs of their own region. acrx cannot plan that path, so it refuses it here, before any write."""
    if cluster.region == registry.region:
        return
    raise PreflightError(
        f"network mode {mode} would make a private path from {cluster.region} to the registry in "
        f"{registry.region}, but image layers come from OSS's internal endpoint of {registry.region} "
        f"({facts.CLOUD_SERVICE_BLOCK}), which VPC routes cannot reach from another region",
        field=FIELD, hint=f"use network mode public, or a registry replica (an instance) in {cluster.region} "
                          "and point registries at it")


def check_target(ctx, registry, mode: str) -> None:
    if registry.target_vpc is None:
        wanted = ctx.config.network.registry_vpc_id
        if wanted:
            raise PreflightError(f"{wanted} was not found in account {registry.alias!r}, region {registry.region}",
                                 field="network.registry_vpc_id")
        raise PreflightError(f"instance {registry.instance.id} has no VPC linked and none is configured",
                             field="network.registry_vpc_id",
                             hint="set network.registry_vpc_id and network.registry_vswitch_id to a VPC of the "
                                  "registry's account")
    if registry.target_vswitch is None and mode != "none":
        raise PreflightError(f"no vSwitch of {registry.target_vpc.id} to link the registry through",
                             field="network.registry_vswitch_id")


def check_overlap(cluster, registry) -> None:
    """Every cluster VPC CIDR against every CIDR of every VPC of B the instance is (or will be) linked to."""
    others = [(i.vpc.id, c) for i in registry.linked if i.vpc is not None for c in i.vpc.cidrs]
    if registry.target_vpc is not None:
        others += [(registry.target_vpc.id, c) for c in registry.target_vpc.cidrs]
    for mine in cluster.vpc.cidrs:
        for vpc_id, theirs in others:
            if _net(mine).overlaps(_net(theirs)):
                raise PreflightError(
                    f"the cluster VPC {cluster.vpc.id} block {mine} overlaps {theirs} of the registry's VPC {vpc_id}: "
                    "routes between overlapping networks cannot work", field=FIELD,
                    hint="link the registry to a VPC whose CIDRs do not overlap the cluster's "
                         "(network.registry_vpc_id), or use network mode public")


def route_destinations(ctx, registry) -> list[str]:
    """Where the cluster's routes point: the endpoint /32, or B's whole VPC with route_to=vpc.

    Before the link exists its IP is unknown; the endpoint's vSwitch CIDR stands in for it (the
    IP is allocated there), so the route address is known when planning.
    """
    route_to = ctx.options.route_to or ctx.config.network.route_to
    if route_to == "vpc":
        return list(registry.target_vpc.cidrs)
    if registry.endpoint_ip:
        return [f"{registry.endpoint_ip}/32"]
    return [registry.target_vswitch.cidr] if registry.target_vswitch is not None else []


def check_route_destinations(ctx, registry) -> None:
    block = _net(facts.CLOUD_SERVICE_BLOCK)
    for destination in route_destinations(ctx, registry):
        if _net(destination).overlaps(block):
            raise PreflightError(
                f"a route to the registry would have to point at {destination}, inside {facts.CLOUD_SERVICE_BLOCK}, "
                "which VPC route tables refuse (100.x conflict of the ACR FAQ)", field=FIELD,
                hint=facts.HUNDRED_REMEDIES)


def check_link_limit(registry) -> None:
    if registry.target_link is not None:
        return
    used = [i.link.vpc_id for i in registry.linked]
    if len(used) >= registry.link_limit:
        raise PreflightError(
            f"instance {registry.instance.id} ({registry.instance.specification}) allows {registry.link_limit} "
            f"linked VPC(s) and uses them all ({', '.join(used)}); {registry.target_vpc.id} cannot be linked",
            field="network.registry_vpc_id",
            hint="use an already linked VPC (leave network.registry_vpc_id unset), unlink one, or upgrade the edition")
