"""plan_cen's reads, read ahead in rounds (issue 16: reads that do not depend on each other overlap).

plan_cen (cen.py) is written in sequence: the CEN, its transit router, the grants, the
attachments, the router's route table, each attachment's association and propagation. Each of
those reads needs only the answers of an earlier round below, so `prefetch` reads a round at a
time into the run's memo, under the keys plan_cen reads (the key functions here: no call twice)
and only under the conditions plan_cen reads them (no call a sequential plan would not make, but
the hub's DescribeCens on the old layout, cen_hub.look_both, and, on a plan that stops with an
error, a read of the other VPC's zone or grant that the sequential plan would have reached next).
An error waits in the memo for plan_cen, which meets it where it would in sequence; what a
failed read would have told is not read ahead.

1. the CEN: the old layout's and the hub's DescribeCens side by side (cen_hub.find).
2. with its id: the transit routers in the region, its VPC attachments (one list for both VPCs),
   the grants of each VPC whose account does not own the CEN.
3. the router's system route table (when an attachment of the two VPCs is found); where a VPC
   has no attachment yet (both, for a CEN still to be made), the transit router zones, and B's
   grants when the hub will attach B's VPC (cen._refuse_second_cen).
4. the table's associations and propagations; the vSwitch lists of the VPCs whose own vSwitches
   miss a zone the router needs (cen_zones.lists_vswitches).

The warm-up (acrx.steps.warmup) starts this beside the preflights and discovery: round 1 needs
only the config and the registry account's uid, round 2 the cluster's VPC id (its detail).
"""

from __future__ import annotations

from acrx.steps.network import cen_hub, cen_tables, cen_zones
from acrx.steps.network.discovery import cbn_api, cluster_net, cluster_vpc_id, registry_net, vpc_api

_NONE = object()   # not answered: not read, or its read failed (the error waits for plan_cen)


def routers_key(cen_id: str, region: str) -> str:
    return f"net:trs:{cen_id}:{region}"


def attachments_key(cen_id: str) -> str:
    return f"net:atts:{cen_id}"


def grants_key(vpc_id: str) -> str:
    return f"net:grants:{vpc_id}"


def prefetch(ctx) -> None:
    """Read plan_cen's reads ahead, a round at a time; raises nothing (plan_cen meets each error)."""
    config = ctx.config
    region = config.cluster.region
    if config.registries[0].region != region:   # plan_cen refuses a cross-region path before reading
        return
    try:
        _rounds(ctx, config.cluster.account, config.registries[0].account, region)
    except Exception:
        # a read the memo does not keep an error of (a uid, the cluster's detail, discovery,
        # network.cen_id's lookup): plan_cen reads it again in its place and meets the error there
        return


def _place(ctx, cluster_alias: str, registry_alias: str, region: str):
    """cen_hub.find's place once its lookups are answered, else None (their errors wait for plan_cen)."""
    if not ctx.config.network.cen_id:
        cen_hub.look_both(ctx, cluster_alias, registry_alias, region)
        if not cen_hub.answered(ctx, registry_alias):
            return None
    return cen_hub.find(ctx, cluster_alias, registry_alias, region)[0]


def _grant(ctx, alias: str, region: str, vpc_id: str | None, owner_uid: str) -> dict:
    """plan_cen's read of `vpc_id`'s grants (cen._grant): only when the VPC's account does not own the CEN."""
    if vpc_id is None or ctx.uid(alias) == owner_uid:
        return {}
    api = cbn_api(ctx, alias, region)
    return {grants_key(vpc_id): lambda: api.grants_of_vpc(vpc_id, region)}


def _b_vpc(ctx, registry_alias: str, owner_uid: str) -> str | None:
    """B's VPC when plan_cen reads its grants (its account does not own the CEN), else None; B's
    side is discovery's, so only then is it waited for."""
    if ctx.uid(registry_alias) == owner_uid:
        return None
    target = registry_net(ctx).target_vpc
    return target.id if target is not None else None


def _rounds(ctx, cluster_alias: str, registry_alias: str, region: str) -> None:
    place = _place(ctx, cluster_alias, registry_alias, region)               # round 1
    if place is None:
        return
    owner, owner_uid = place.owner, ctx.uid(place.owner)
    cbn = cbn_api(ctx, owner, region)
    cen_id = place.cen.id if place.cen is not None else None
    a_vpc = cluster_vpc_id(ctx)
    if cen_id is not None:                                                   # round 2
        ctx.parallel([lambda: ctx.prefetch({routers_key(cen_id, region): lambda: cbn.transit_routers(cen_id, region),
                                            attachments_key(cen_id): lambda: cbn.vpc_attachments(cen_id),
                                            **_grant(ctx, cluster_alias, region, a_vpc, owner_uid)}),
                      lambda: ctx.prefetch(_grant(ctx, registry_alias, region,
                                                  _b_vpc(ctx, registry_alias, owner_uid), owner_uid))])
    registry = registry_net(ctx)
    if registry.target_vpc is None or registry.target_vswitch is None:   # preflight.check_target refuses
        return
    b_vpc = registry.target_vpc.id
    attachments = ctx.answer(attachments_key(cen_id), _NONE) if cen_id is not None else []
    routers = ctx.answer(routers_key(cen_id, region), _NONE) if cen_id is not None else []
    if attachments is _NONE:
        return
    vpcs = {a_vpc: cluster_alias}
    vpcs.setdefault(b_vpc, registry_alias)   # the cluster in B's VPC: one attachment serves both (plan_cen)
    missing = [(alias, vpc_id) for vpc_id, alias in vpcs.items() if vpc_id not in {a.vpc_id for a in attachments}]
    tr_id = routers[0].id if routers is not _NONE and routers else None
    reads = {}                                                               # round 3
    if tr_id is not None and len(missing) < len(vpcs):   # cen_tables.plan_links: a known attachment and router
        reads[cen_tables.table_key(tr_id)] = lambda: cbn.system_route_table(tr_id)
    if missing:
        reads[cen_zones.zones_key(region)] = lambda: cbn.transit_router_zones(region)
    if place.layout == cen_hub.HUB and (registry_alias, b_vpc) in missing:
        # cen._refuse_second_cen, when the hub will attach B's VPC (as the registry account's)
        b_api = cbn_api(ctx, registry_alias, region)
        reads[grants_key(b_vpc)] = lambda: b_api.grants_of_vpc(b_vpc, region)
    ctx.prefetch(reads)
    reads = {}                                                               # round 4
    table = ctx.answer(cen_tables.table_key(tr_id)) if tr_id is not None else None
    if table:
        for kind, _, _ in cen_tables.LINKS:
            reads[cen_tables.links_key(kind, table)] = lambda k=kind: cbn.route_table_links(k, table)
    zones = ctx.answer(cen_zones.zones_key(region)) if missing else None
    for alias, vpc_id in missing if zones else ():
        preferred = cluster_net(ctx).vswitches if vpc_id == a_vpc else [registry.target_vswitch]
        if cen_zones.lists_vswitches(zones, preferred):
            api = vpc_api(ctx, alias, region)
            reads[cen_zones.vswitches_key(alias, region, vpc_id)] = lambda a=api, v=vpc_id: a.list_vswitches(v)
    ctx.prefetch(reads)
