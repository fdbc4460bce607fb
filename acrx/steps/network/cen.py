"""network.mode cen: both VPCs attached to one CEN's Enterprise transit routers.

Changes: `cr.vpc_link.<vpcB>`, `cen.instance` (network.cen_id, else the CEN acrx made for this
cluster, else a new one, owned by the cluster's account), `cen.transit_router.<region>`,
`cen.grant.<vpcB>` run in B (GrantInstanceToTransitRouter with the CEN owner's uid) which the
cross-account `cen.attachment.<vpcB>` depends on, `cen.attachment.<vpcA>`, VPC routes towards the
attachments, then DNS. Attachments found in place are adopted (or waited for), never created twice.
One region only: preflight refuses a private cross-region path (preflight.check_same_region), so
acrx plans no peer attachment; destroy still removes acrx's peer attachments an older acrx made.
"""

from __future__ import annotations

from acrx import facts
from acrx.errors import AcrxError, PreflightError
from acrx.plan.change import Action, Change, Ref
from acrx.steps.network import cen_tables, cen_zones, dns, link
from acrx.steps.network.common import MARK_TAGS, client_token, is_marked, keep_reason, marked_name, plan_route
from acrx.steps.network.discovery import cbn_api, cluster_net, registry_net
from acrx.steps.network.preflight import check_same_region, route_destinations

CEN, TR, GRANT, ATTACH = ("cen.instance", "cen.transit_router", "cen.grant", "cen.attachment")


def _tr_addr(region: str) -> str:
    return f"{TR}.{region}"


def _cen(ctx, cluster, cbn) -> tuple[Change, object, bool]:
    configured = ctx.config.network.cen_id
    if configured:
        cen = ctx.memo(f"net:cen:{configured}", lambda: cbn.get_cen(configured))
        if cen is None:
            raise PreflightError(f"CEN {configured} was not found in account {cluster.alias!r}", field="network.cen_id")
    else:
        name = marked_name(ctx.config.cluster.id)
        found = [c for c in ctx.memo(f"net:cens:{name}", lambda: cbn.list_cens(name=name)) if is_marked(c.name, c.tags)]
        cen = found[0] if found else None
    if cen is not None:
        observed = {"cen_id": cen.id, "name": cen.name}
        reason = (f"adopted: network.cen_id {cen.id}" if configured and not is_marked(tags=cen.tags)
                  else keep_reason(is_marked(cen.name, cen.tags), f"CEN {cen.id} exists"))
        return Change(CEN, Action.NOOP, observed, observed, account=cluster.alias, kind=CEN, reason=reason), cen.id, True
    name = marked_name(ctx.config.cluster.id)
    return (Change(CEN, Action.CREATE, None, {"cen_id": Ref(CEN, "cen_id"), "name": name}, account=cluster.alias,
                   kind=CEN, data={"alias": cluster.alias, "region": cluster.region, "name": name}),
            Ref(CEN, "cen_id", "id of the new CEN"), False)


def _router(ctx, cluster, cbn, cen_id, exists: bool, region: str) -> tuple[Change, object]:
    addr = _tr_addr(region)
    routers = ctx.memo(f"net:trs:{cen_id}:{region}", lambda: cbn.transit_routers(cen_id, region)) if exists else []
    if routers:
        tr = routers[0]
        observed = {"transit_router_id": tr.id, "region": region}
        return Change(addr, Action.NOOP, observed, observed, account=cluster.alias, kind=TR,
                      reason=keep_reason(is_marked(tr.name), f"transit router {tr.id} in {region}")), tr.id
    name = marked_name(ctx.config.cluster.id, region)
    return (Change(addr, Action.CREATE, None, {"transit_router_id": Ref(addr, "transit_router_id"), "region": region},
                   account=cluster.alias, kind=TR, depends_on=(CEN,),
                   data={"alias": cluster.alias, "region": region, "cen_id": cen_id, "name": name}),
            Ref(addr, "transit_router_id", f"transit router in {region}"))


def _attachment(ctx, cbn, *, cen_id, exists, alias, owner_alias, region, vpc_id, vpc_owner_uid, vswitches, tr_id,
                deps, made: list[Change]) -> tuple[Change, object]:
    addr = f"{ATTACH}.{vpc_id}"
    found = ctx.memo(f"net:att:{cen_id}:{vpc_id}", lambda: cbn.vpc_attachments(cen_id, vpc_id=vpc_id)) if exists else []
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
    owner = cluster.alias
    cbn = cbn_api(ctx, owner, cluster.region)
    link_change, ip = link.plan_link(ctx, registry)
    cen_change, cen_id, exists = _cen(ctx, cluster, cbn)
    changes = [link_change, cen_change]
    region = cluster.region             # == registry.region (preflight.check_same_region)
    router_change, tr_id = _router(ctx, cluster, cbn, cen_id, exists, region)
    changes.append(router_change)
    vpc_b = registry.target_vpc.id
    b_deps = [_tr_addr(region)]
    cross_account = ctx.uid(cluster.alias) != ctx.uid(registry.alias)
    made: list[Change] = []
    if cross_account:
        changes.append(_grant(ctx, registry, cen_id, exists, ctx.uid(owner)))
        b_deps.append(f"{GRANT}.{vpc_b}")
    att_a, att_a_id = _attachment(ctx, cbn, cen_id=cen_id, exists=exists, alias=cluster.alias, owner_alias=owner,
                                  region=cluster.region, vpc_id=cluster.vpc.id, vpc_owner_uid=None,
                                  vswitches=cluster.vswitches, tr_id=tr_id,
                                  deps=(_tr_addr(region),), made=made)
    att_b, att_b_id = _attachment(ctx, cbn, cen_id=cen_id, exists=exists, alias=registry.alias, owner_alias=owner,
                                  region=registry.region, vpc_id=vpc_b,
                                  vpc_owner_uid=ctx.uid(registry.alias) if cross_account else None,
                                  vswitches=[registry.target_vswitch], tr_id=tr_id,
                                  deps=tuple(b_deps), made=made)
    changes += [*made, att_a, att_b]
    # Association and route learning, off by default, for every attachment (cen_tables.py).
    changes += cen_tables.plan_links(ctx, alias=owner, region=region, key=cluster.vpc.id, attachment_id=att_a_id,
                                     transit_router_id=tr_id, depends_on=(att_a.address,))
    changes += cen_tables.plan_links(ctx, alias=owner, region=region, key=vpc_b, attachment_id=att_b_id,
                                     transit_router_id=tr_id, depends_on=(att_b.address,))
    route_deps = [att_a.address, att_b.address, link_change.address]
    for table in cluster.route_tables:
        for destination in route_destinations(ctx, registry):
            changes.append(plan_route(ctx, alias=cluster.alias, region=cluster.region, table_id=table,
                                      destination=destination, hop_type="Attachment", hop_id=att_a_id,
                                      depends_on=tuple(route_deps), why="towards the registry endpoint"))
    for cidr in cluster.vswitch_cidrs:
        changes.append(plan_route(ctx, alias=registry.alias, region=registry.region,
                                  table_id=registry.target_vswitch.route_table_id, destination=cidr,
                                  hop_type="Attachment", hop_id=att_b_id, depends_on=tuple(route_deps),
                                  why="return path to the cluster's vSwitch"))
    changes.extend(dns.plan_dns(ctx, cluster, registry, ip, depends_on=(link_change.address,)))
    return changes


def _grant(ctx, registry, cen_id, exists: bool, owner_uid: str) -> Change:
    vpc_b = registry.target_vpc.id
    addr = f"{GRANT}.{vpc_b}"
    api = cbn_api(ctx, registry.alias, registry.region)
    grants = ctx.memo(f"net:grants:{vpc_b}", lambda: api.grants_of_vpc(vpc_b, registry.region)) if exists else []
    after = {"vpc_id": vpc_b, "cen_id": cen_id, "cen_owner_id": owner_uid}
    if any(g.cen_id == cen_id for g in grants):
        return Change(addr, Action.NOOP, after, after, account=registry.alias, kind=GRANT,
                      reason=f"{vpc_b} is granted to {cen_id}")
    return Change(addr, Action.CREATE, None, after, account=registry.alias, kind=GRANT, depends_on=(CEN,),
                  reason="the CEN owner may attach a VPC of another account only once it is granted",
                  data={"alias": registry.alias, "region": registry.region, "vpc_id": vpc_b, "cen_id": cen_id,
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
