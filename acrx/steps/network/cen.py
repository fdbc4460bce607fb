"""network.mode cen: the cluster's VPC and B's VPC attached to one CEN's Enterprise transit router.

Where the CEN is and who owns it: cen_hub.py (the hub of the registry account by default; the CEN
network.cen_id names; an older acrx's per-cluster CEN, kept as it is). Changes, each in the
account that runs the call: `cr.vpc_link.<vpcB>`, `cen.instance` and `cen.transit_router.<region>`
(the owner's), then per VPC: `cen.grant.<vpc>` run by the VPC's account when it is not the
owner's (GrantInstanceToTransitRouter with the owner's uid), which the cross-account
`cen.attachment.<vpc>` (VpcOwnerId) depends on, the attachment's association and propagation
(cen_tables.py), VPC routes in the cluster's tables towards its own attachment and in B's table
back to B's attachment, then DNS. Attachments found in place are adopted (or waited for), never
created twice. The hub's pieces (CEN, router, B's attachment and its links) are named alike in
every cluster's plan, and a cluster VPC's pieces are keyed by the VPC id, so a fleet plans each
once (acrx.plan.fleet). One region only: preflight refuses a private cross-region path
(preflight.check_same_region); destroy still removes acrx's peer attachments an older acrx made.
"""

from __future__ import annotations

from acrx import facts
from acrx.errors import AcrxError, PreflightError
from acrx.plan.change import Action, Change, Ref
from acrx.steps.network import cen_hub, cen_reads, cen_tables, cen_zones, dns, link
from acrx.steps.network.common import MARK_TAGS, client_token, is_marked, keep_reason, marked_name, plan_route
from acrx.steps.network.discovery import cbn_api, cluster_net, registry_net
from acrx.steps.network.preflight import check_same_region, route_destinations

CEN, TR, GRANT, ATTACH = ("cen.instance", "cen.transit_router", "cen.grant", "cen.attachment")


def _tr_addr(region: str) -> str:
    return f"{TR}.{region}"


def _cen(ctx, place: cen_hub.CenPlace, region: str) -> tuple[Change, object, bool]:
    cen, owner = place.cen, place.owner
    if cen is not None:
        observed = {"cen_id": cen.id, "name": cen.name}
        if place.layout == cen_hub.CONFIGURED and not place.owned:
            reason = f"adopted: network.cen_id {cen.id} (account {owner!r})"
        elif place.layout == cen_hub.OLD:
            reason = (f"CEN {cen.id} (acrx-managed), made for this cluster by an older acrx: kept as it is, no "
                      "traffic is moved to the registry account's hub")
        else:
            reason = keep_reason(is_marked(cen.name, cen.tags), f"CEN {cen.id} exists")
        return Change(CEN, Action.NOOP, observed, observed, account=owner, kind=CEN, reason=reason), cen.id, True
    return (Change(CEN, Action.CREATE, None, {"cen_id": Ref(CEN, "cen_id"), "name": place.name}, account=owner,
                   kind=CEN, reason=f"the hub: one CEN in account {owner!r}, shared by every cen cluster",
                   data={"alias": owner, "region": region, "name": place.name}),
            Ref(CEN, "cen_id", "id of the new CEN"), False)


def _router(ctx, owner, cbn, cen_id, exists: bool, region: str, layout: str) -> tuple[Change, object]:
    addr = _tr_addr(region)
    routers = ctx.memo(cen_reads.routers_key(cen_id, region), lambda: cbn.transit_routers(cen_id, region)) \
        if exists else []
    if routers:
        tr = routers[0]
        observed = {"transit_router_id": tr.id, "region": region}
        return Change(addr, Action.NOOP, observed, observed, account=owner, kind=TR,
                      reason=keep_reason(is_marked(tr.name), f"transit router {tr.id} in {region}")), tr.id
    return (Change(addr, Action.CREATE, None, {"transit_router_id": Ref(addr, "transit_router_id"), "region": region},
                   account=owner, kind=TR, depends_on=(CEN,),
                   data={"alias": owner, "region": region, "cen_id": cen_id,
                         "name": marked_name("hub" if layout == cen_hub.HUB else ctx.config.cluster.id, region)}),
            Ref(addr, "transit_router_id", f"transit router in {region}"))


def _attachment(ctx, cbn, *, cen_id, exists, alias, owner_alias, region, vpc_id, vpc_owner_uid, vswitches, tr_id,
                deps, made: list[Change]) -> tuple[Change, object]:
    addr = f"{ATTACH}.{vpc_id}"
    # One list of the CEN's attachments serves both VPCs (and, through the fleet's read memo, every
    # cluster on the hub): one read per resource, not one per cluster and VPC.
    found = [a for a in ctx.memo(cen_reads.attachments_key(cen_id), lambda: cbn.vpc_attachments(cen_id))
             if a.vpc_id == vpc_id] if exists else []
    if found:
        att = found[0]
        observed = {"attachment_id": att.id, "vpc_id": vpc_id, "status": att.status}
        if att.status == facts.CEN_ATTACHED:
            return Change(addr, Action.NOOP, observed, observed, account=owner_alias, kind=ATTACH,
                          reason=keep_reason(is_marked(att.name), f"{att.id} attaches {vpc_id}")), att.id
        return (Change(addr, Action.UPDATE, observed, {**observed, "status": facts.CEN_ATTACHED}, account=owner_alias,
                       kind=ATTACH, reason=f"{att.id} is {att.status}: wait", depends_on=deps,
                       data={"alias": owner_alias, "region": region, "cen_id": cen_id, "attachment_id": att.id,
                             "vpc_id": vpc_id}), att.id)
    # The transit router's zones decide which vSwitches are mapped (cen_zones.py); exit 2 when one is missing.
    # `made`: a vSwitch --create-zone-vswitch adds in a missing zone (zone_vswitch.py), planned before it.
    mappings = cen_zones.zone_mappings(ctx, cbn, alias=alias, region=region, vpc_id=vpc_id, preferred=vswitches,
                                       created=made)
    after = {"attachment_id": Ref(addr, "attachment_id"), "vpc_id": vpc_id, "status": facts.CEN_ATTACHED,
             "zone_mappings": [f"{v.label if isinstance(v, Ref) else v} ({z})" for v, z in mappings]}
    deps = (*deps, *(c.address for c in made if c.address.startswith(f"vpc.zone_vswitch.{vpc_id}.")))
    return (Change(addr, Action.CREATE, None, after, account=owner_alias, kind=ATTACH, depends_on=deps,
                   reason=None if alias == owner_alias else f"the VPC belongs to account {alias!r}",
                   data={"alias": owner_alias, "region": region, "cen_id": cen_id, "transit_router_id": tr_id,
                         "vpc_id": vpc_id, "vpc_owner_uid": vpc_owner_uid, "zone_mappings": mappings,
                         "name": marked_name(vpc_id)}),
            Ref(addr, "attachment_id", f"attachment of {vpc_id}"))


def plan_cen(ctx) -> list[Change]:
    cluster, registry = cluster_net(ctx), registry_net(ctx)
    check_same_region(cluster, registry, "cen")      # preflight's rule, here too: no path is planned across
    region = cluster.region             # == registry.region (preflight.check_same_region)
    cen_reads.prefetch(ctx)             # the reads below, in rounds (the warm-up has begun them)
    place = cen_hub.find(ctx, cluster.alias, registry.alias, region)[0]
    owner = place.owner
    cbn = cbn_api(ctx, owner, region)
    link_change, ip = link.plan_link(ctx, registry)
    cen_change, cen_id, exists = _cen(ctx, place, region)
    changes = [link_change, cen_change]
    router_change, tr_id = _router(ctx, owner, cbn, cen_id, exists, region, place.layout)
    changes.append(router_change)
    made: list[Change] = []
    attached = {}
    for alias, vpc_id, vswitches in ((cluster.alias, cluster.vpc.id, cluster.vswitches),
                                     (registry.alias, registry.target_vpc.id, [registry.target_vswitch])):
        if vpc_id in attached:          # the cluster in B's own VPC: one attachment serves both
            continue
        deps = [_tr_addr(region)]
        cross_account = ctx.uid(alias) != ctx.uid(owner)
        if cross_account:
            changes.append(_grant(ctx, alias, region, vpc_id, cen_id, exists, ctx.uid(owner)))
            deps.append(f"{GRANT}.{vpc_id}")
        att, att_id = _attachment(ctx, cbn, cen_id=cen_id, exists=exists, alias=alias, owner_alias=owner,
                                  region=region, vpc_id=vpc_id, vpc_owner_uid=ctx.uid(alias) if cross_account else None,
                                  vswitches=vswitches, tr_id=tr_id, deps=tuple(deps), made=made)
        if att.action is Action.CREATE and alias == registry.alias and place.layout == cen_hub.HUB:
            _refuse_second_cen(ctx, registry, vpc_id, cen_id)
        attached[vpc_id] = (att, att_id)
    att_a, att_a_id = attached[cluster.vpc.id]
    att_b, att_b_id = attached[registry.target_vpc.id]
    changes += [*made, *(a for a, _ in attached.values())]
    # Association and route learning, off by default, for every attachment (cen_tables.py).
    for vpc_id, (att, att_id) in attached.items():
        changes += cen_tables.plan_links(ctx, alias=owner, region=region, key=vpc_id, attachment_id=att_id,
                                         transit_router_id=tr_id, depends_on=(att.address,))
    route_deps = tuple(dict.fromkeys([att_a.address, att_b.address, link_change.address]))
    for table in cluster.route_tables:
        for destination in route_destinations(ctx, registry):
            changes.append(plan_route(ctx, alias=cluster.alias, region=cluster.region, table_id=table,
                                      destination=destination, hop_type="Attachment", hop_id=att_a_id,
                                      depends_on=route_deps, why="towards the registry endpoint"))
    if cluster.vpc.id != registry.target_vpc.id:
        for cidr in cluster.vswitch_cidrs:
            changes.append(plan_route(ctx, alias=registry.alias, region=registry.region,
                                      table_id=registry.target_vswitch.route_table_id, destination=cidr,
                                      hop_type="Attachment", hop_id=att_b_id, depends_on=route_deps,
                                      why="return path to the cluster's vSwitch"))
    changes.extend(dns.plan_dns(ctx, cluster, registry, ip, depends_on=(link_change.address,)))
    return changes


def _refuse_second_cen(ctx, registry, vpc_id: str, hub_id) -> None:
    """B's VPC granted to another CEN (an older acrx's per-cluster CEN, or someone's) is likely
    attached there, and a VPC is on one CEN only ([?] documented for AttachCenChildInstance:
    InvalidOperation.ChildInstanceAlreadyAttached; the transit-router API's rule is not, and the
    sandbox takes the same, stricter, reading). Stop before any write instead of half-way."""
    api = cbn_api(ctx, registry.alias, registry.region)
    grants = ctx.memo(cen_reads.grants_key(vpc_id), lambda: api.grants_of_vpc(vpc_id, registry.region))
    other = next((g for g in grants if g.cen_id != hub_id), None)
    if other is not None:
        raise PreflightError(
            f"the registry's VPC {vpc_id} is granted to CEN {other.cen_id} of account {other.cen_owner_id} (an older "
            f"acrx made one CEN per cluster), so it cannot join the registry account's CEN hub: a VPC is on one CEN "
            f"only", field="network.cen_id",
            hint=f"set network.cen_id: {other.cen_id} to use that CEN (its account must be under accounts), or "
                 f"`acrx destroy` the cluster set up with it first, then set both up again")


def _grant(ctx, alias: str, region: str, vpc_id: str, cen_id, exists: bool, owner_uid: str) -> Change:
    addr = f"{GRANT}.{vpc_id}"
    api = cbn_api(ctx, alias, region)
    grants = ctx.memo(cen_reads.grants_key(vpc_id), lambda: api.grants_of_vpc(vpc_id, region)) if exists else []
    after = {"vpc_id": vpc_id, "cen_id": cen_id, "cen_owner_id": owner_uid}
    if any(g.cen_id == cen_id for g in grants):
        return Change(addr, Action.NOOP, after, after, account=alias, kind=GRANT,
                      reason=f"{vpc_id} is granted to {cen_id}")
    return Change(addr, Action.CREATE, None, after, account=alias, kind=GRANT, depends_on=(CEN,),
                  reason="the CEN owner may attach a VPC of another account only once it is granted",
                  data={"alias": alias, "region": region, "vpc_id": vpc_id, "cen_id": cen_id,
                        "cen_owner_id": owner_uid})


# -- handlers ---------------------------------------------------------------------------------
def apply_cen(ctx, change, actx) -> dict:
    d = change.data
    api = cbn_api(ctx, d["alias"], d["region"])
    # An interrupted run may have made it already: take that one (the name is deterministic).
    found = [c for c in api.list_cens(name=d["name"]) if is_marked(c.name, c.tags)]
    cen_id = found[0].id if found else api.create_cen(name=d["name"], description=marked_name("managed"),
                                                      client_token=client_token(actx), tags=MARK_TAGS)
    actx.wait_until(lambda: (api.get_cen(cen_id) or _gone("CEN", cen_id)).status == "Active",
                    what=f"CEN {cen_id}", budget_s=ctx.options.wait_budget_s)
    return {"cen_id": cen_id}


def apply_router(ctx, change, actx) -> dict:
    d = change.data
    api = cbn_api(ctx, d["alias"], d["region"])
    found = api.transit_routers(d["cen_id"], d["region"])
    tr_id = found[0].id if found else api.create_transit_router(
        cen_id=d["cen_id"], region=d["region"], name=d["name"], description=marked_name("managed"),
        client_token=client_token(actx))

    def active():
        routers = [t for t in api.transit_routers(d["cen_id"], d["region"]) if t.id == tr_id]
        return bool(routers) and routers[0].status == "Active"

    actx.wait_until(active, what=f"transit router {tr_id}", budget_s=ctx.options.wait_budget_s)
    return {"transit_router_id": tr_id}


def apply_grant(ctx, change, actx) -> dict:
    d = change.data
    api = cbn_api(ctx, d["alias"], d["region"])
    if not any(g.cen_id == d["cen_id"] for g in api.grants_of_vpc(d["vpc_id"], d["region"])):
        api.grant_vpc(vpc_id=d["vpc_id"], region=d["region"], cen_id=d["cen_id"], cen_owner_id=d["cen_owner_id"],
                      order_type=facts.CEN_GRANT_ORDER_TYPE)
    return {"vpc_id": d["vpc_id"], "cen_id": d["cen_id"]}


def apply_attachment(ctx, change, actx) -> dict:
    d = change.data
    api = cbn_api(ctx, d["alias"], d["region"])
    attachment_id = d.get("attachment_id")
    if attachment_id is None:
        attachment_id = api.create_vpc_attachment(
            cen_id=d["cen_id"], transit_router_id=d["transit_router_id"], region=d["region"], vpc_id=d["vpc_id"],
            vpc_owner_id=d.get("vpc_owner_uid"), zone_mappings=[tuple(m) for m in d["zone_mappings"]], name=d["name"],
            description=marked_name("managed"), client_token=client_token(actx))

    def attached():
        found = [a for a in api.vpc_attachments(d["cen_id"], attachment_id=attachment_id) if a.id == attachment_id]
        if not found:
            _gone("attachment", attachment_id)
        return found[0].status == facts.CEN_ATTACHED

    actx.wait_until(attached, what=f"attachment {attachment_id}", budget_s=ctx.options.wait_budget_s)
    return {"attachment_id": attachment_id}


def _gone(what: str, resource_id: str):
    raise AcrxError(f"{what} {resource_id} disappeared while acrx waited for it (its creation failed in the cloud); "
                    "apply again to create it anew")
