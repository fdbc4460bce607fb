"""Destroy planning for the network step: what acrx made between the cluster's VPC and the registry.

Whatever network.mode says now, every kind of thing setup may have made is looked for, so a
destroy after a mode switch (peering set up, config now `none`) still finds it:

    vpc.route.<table>.<cidr>   custom routes named/described `acrx-` in the cluster's route tables
                               and in those of the VPCs the instance is linked to
    vpc.peering                the connection named acrx-<cluster id> and tagged acrx:managed
    vpc.zone_vswitch.<vpc>.<z> a vSwitch acrx made with --create-zone-vswitch (tagged), after the
                               attachments of its VPC (zone_vswitch.py)
    cen.*                      cen_destroy.py: this cluster's attachment to the registry account's
                               hub (and its grant); the hub, its router and B's attachment only
                               when no other VPC is attached; an older per-cluster CEN whole
    pvtz.*                     acrx's records in the VPC domain's zone while no other VPC is bound
                               to it; the binding, and the zone itself when tagged acrx:managed
    cr.acl.<cidr>              ACL entries with the comment acrx-managed, one after another
    cr.endpoint.internet       switched off after acrx's ACL entries when the cluster's
                               acrx-ownership record says acrx switched it on (acrx.steps.ownership)
                               and no other ACL entry shows another client

Shared registry-side things (B's ACL entries, B's return routes, the internet endpoint) are
counted by the other clusters' membership marks (acrx.steps.identity.membership, one list of
B's roles and users per run): what another cluster's mark names stays, "kept: still used by
<cluster>"; an acrx entry or route no mark names (an older acrx's, a destroyed cluster's) goes.

Order: routes before the peering and the attachments they point at; attachments before the
grant, the transit routers and the CEN; records and binding before the zone. Kept as no-ops with
their reason: the instance's VPC links (no mark is possible on them, and other clients of the
registry may use them), an endpoint acrx did not switch on, and anything without acrx's mark.
"""

from __future__ import annotations

from acrx import facts
from acrx.plan.change import Action, Change
from acrx.steps import ownership
from acrx.steps.network import destroy_handlers as calls
from acrx.steps.network import zone_vswitch
from acrx.steps.network.common import is_marked, marked_name, route_address
from acrx.steps.network.discovery import cluster_net, cr_api, pvtz_api, registry_config, vpc_api, vpcpeer_api

KEEP = "keep"
ENDPOINT = "cr.endpoint.internet"
ADOPTED = ownership.ADOPTED_KEPT


def _keep(address: str, account: str, reason: str, before=None, used_by=()) -> Change:
    data = {"used_by": list(used_by)} if used_by else {}
    return Change(address, Action.NOOP, before, before, account=account, kind=KEEP, reason=reason, data=data)


def _other_members(ctx, alias: str) -> list:
    """The other clusters' membership marks in registry account `alias` (acrx.steps.identity.membership):
    one ListRoles + ListUsers per run."""
    from acrx.steps.identity import membership

    return membership.others(ctx, alias)


def _still_used(address: str, account: str, users: list, before, what: str = "") -> Change:
    from acrx.steps.identity import membership

    return _keep(address, account, f"kept{what}: still used by {membership.used_by_text(users)}", before,
                 used_by=membership.names(users))


def _delete(address: str, account: str, kind: str, data: dict, before=None, depends_on=(), reason="created by acrx"):
    return Change(address, Action.DELETE, before if before is not None else {k: v for k, v in data.items()
                                                                                 if k not in ("alias", "region")},
                  None, account=account, kind=kind, depends_on=tuple(dict.fromkeys(depends_on)), reason=reason,
                  data=data)


def _registry_side(ctx) -> dict:
    """The instance, its internet endpoint, its linked VPCs and their route tables (account B)."""
    def read() -> dict:
        reg = registry_config(ctx)
        cr = cr_api(ctx, reg.account, reg.region)
        instance = cr.get_instance(reg.instance_id)
        if instance is None:
            return {"reg": reg, "instance": None, "internet": None, "acl": (), "links": (), "tables": (), "domain": None}
        endpoint = cr.get_vpc_endpoint(reg.instance_id)
        internet = next((e for e in cr.list_endpoints(reg.instance_id) if e.type == "internet"), None)
        acl = cr.internet_acl_entries(reg.instance_id) if internet is not None else ()
        api = vpc_api(ctx, reg.account, reg.region)
        tables = []
        for link in endpoint.linked_vpcs:
            tables += [v.route_table_id for v in api.list_vswitches(link.vpc_id) if v.route_table_id]
        name = reg.instance_name or instance.name
        domain = next((d for d in endpoint.domains if "-registry-vpc." in d), facts.registry_vpc_domain(name, reg.region))
        return {"reg": reg, "instance": instance, "internet": internet, "acl": acl, "links": endpoint.linked_vpcs,
                "tables": tuple(dict.fromkeys(tables)), "domain": domain}

    return ctx.memo("destroy:net:registry", read)


def plan_routes(ctx, cluster, side) -> list[Change]:
    """acrx's routes in the cluster's tables, and in B's those no other cluster's mark names (B's
    return routes are shared: two clusters with one vSwitch CIDR share one route)."""
    reg = side["reg"]
    others = _other_members(ctx, reg.account) if side["tables"] else []
    changes = []
    for in_b, alias, region, tables in ((False, cluster.alias, cluster.region, cluster.route_tables),
                                        (True, reg.account, reg.region, side["tables"])):
        for table in tables:
            entries = ctx.memo(f"net:routes:{alias}:{region}:{table}", lambda a=alias, r=region, t=table:
                               vpc_api(ctx, a, r).route_entries(t))
            for entry in entries:
                if entry.kind == "System" or entry.next_hop_type not in ("VpcPeer", "Attachment") and not is_marked(
                        entry.name, description=entry.description):
                    continue
                address = route_address(table, entry.destination)
                before = {"route_table_id": table, "destination": entry.destination,
                          "next_hop_type": entry.next_hop_type, "next_hop_id": entry.next_hop_id}
                if not is_marked(entry.name, description=entry.description):
                    changes.append(_keep(address, alias, ADOPTED, before))
                    continue
                users = [m for m in others if m.uses.uses_route(entry.destination)] if in_b else []
                if users:
                    changes.append(_still_used(address, alias, users, before))
                    continue
                changes.append(_delete(address, alias, calls.KIND_ROUTE, {
                    "alias": alias, "region": region, "route_table_id": table, "destination": entry.destination,
                    "next_hop_id": entry.next_hop_id, "route_entry_id": entry.entry_id}, before=before))
    return changes


def _pointing_at(routes: list[Change], hop_id) -> list[Change]:
    return [c for c in routes if (c.before or {}).get("next_hop_id") == hop_id]


def _blocked(routes: list[Change], hop_id) -> bool:
    """An adopted route still points at it: deleting it would be refused (or take that route)."""
    return any(c.is_noop for c in _pointing_at(routes, hop_id))


def plan_peering(ctx, cluster, routes) -> list[Change]:
    api = vpcpeer_api(ctx, cluster.alias, cluster.region)
    found = [p for p in ctx.memo("net:peerings", lambda: api.list(cluster.region, cluster.vpc.id))
             if p.vpc_id == cluster.vpc.id and p.status not in ("Deleted", "Deleting", "Rejected", "Expired")]
    name = marked_name(ctx.config.cluster.id)
    changes = []
    for index, conn in enumerate(found):
        address = "vpc.peering" if index == 0 else f"vpc.peering.{conn.id}"
        before = {"peering_id": conn.id, "vpc_id": conn.vpc_id, "accepting_vpc_id": conn.accepting_vpc_id,
                  "status": conn.status}
        if conn.name != name or not is_marked(tags=conn.tags):
            changes.append(_keep(address, cluster.alias, ADOPTED, before))
        elif _blocked(routes, conn.id):
            shared = sorted({n for c in _pointing_at(routes, conn.id) for n in (c.data or {}).get("used_by", ())})
            why = (f"kept: B's route to a CIDR that {', '.join(shared)} still use(s) points at it" if shared
                   else "kept: routes acrx did not make still point at it")
            changes.append(_keep(address, cluster.alias, why, before))
        else:
            deps = [c.address for c in _pointing_at(routes, conn.id)]
            changes.append(_delete(address, cluster.alias, calls.KIND_PEERING, {
                "alias": cluster.alias, "region": cluster.region, "peering_id": conn.id}, before=before,
                depends_on=deps))
    return changes


def plan_cen(ctx, cluster, side, routes) -> list[Change]:
    """The CEN pieces: acrx.steps.network.cen_destroy (the hub is counted, not taken)."""
    from acrx.steps.network import cen_destroy

    return cen_destroy.plan_cen(ctx, cluster, side, routes)


def plan_dns(ctx, cluster, side) -> list[Change]:
    domain = side["domain"]
    if domain is None:
        return []
    alias, region = cluster.alias, cluster.region
    api = pvtz_api(ctx, alias, region)
    zone = ctx.memo(f"net:zone:{domain}", lambda: api.find_zone(domain))
    recorded = ownership.recorded(ctx, f"pvtz.zone.{domain}") is not None   # AddZone done, tag not yet
    if zone is None:
        if not recorded:
            return []
        return [_delete(f"pvtz.zone.{domain}", alias, calls.KIND_ZONE, {"alias": alias, "region": region,
                        "zone_id": None, "domain": domain}, before={"name": domain},
                        reason="absent, but recorded by a run that stopped before AddZone: the record is removed")]
    base = {"alias": alias, "region": region, "zone_id": zone.id, "domain": domain}
    records = [r for r in ctx.memo(f"net:records:{zone.id}", lambda: api.records(zone.id))]
    ours = [r for r in records if is_marked(description=r.remark)]
    changes: list[Change] = []
    deps = []
    # The zone's records serve every VPC bound to it: while another VPC (another cluster's) is
    # bound, acrx's records stay with the zone.
    bound = ctx.memo(f"net:bindings:{zone.id}", lambda: api.bindings(zone.id)) if ours else ()
    other_vpcs = [b.vpc_id for b in bound if b.vpc_id != cluster.vpc.id]
    if ours and other_vpcs:
        changes.append(_keep(f"pvtz.record.{domain}", alias, f"kept: the zone is still bound to "
                             f"{', '.join(other_vpcs)}, whose pulls resolve through these records",
                             {"records": [f"{r.rr} {r.type} {r.value}" for r in ours]}))
        ours = []
    if ours:
        changes.append(_delete(f"pvtz.record.{domain}", alias, calls.KIND_RECORDS, {**base, "record_ids": [r.id for r in ours]},
                               before={"records": [f"{r.rr} {r.type} {r.value}" for r in ours]}))
        deps.append(changes[-1].address)
    zone_before = {"zone_id": zone.id, "name": domain}
    if not is_marked(tags=zone.tags) and not recorded:
        changes.append(_keep(f"pvtz.zone.{domain}", alias, ADOPTED + "; its binding to the cluster's VPC stays",
                             zone_before))
        return changes
    bindings = ctx.memo(f"net:bindings:{zone.id}", lambda: api.bindings(zone.id))
    if any(b.vpc_id == cluster.vpc.id for b in bindings):
        changes.append(_delete(f"pvtz.binding.{cluster.vpc.id}", alias, calls.KIND_BINDING,
                               {**base, "vpc_id": cluster.vpc.id}, before={"zone_id": zone.id, "vpc_id": cluster.vpc.id}))
        deps.append(changes[-1].address)
    others = [b.vpc_id for b in bindings if b.vpc_id != cluster.vpc.id]
    foreign_records = [r for r in records if r not in ours]
    if others or foreign_records:
        why = (f"kept: still bound to {', '.join(others)}" if others else
               f"kept: it holds {len(foreign_records)} record(s) acrx did not write")
        changes.append(_keep(f"pvtz.zone.{domain}", alias, why, zone_before))
    else:
        changes.append(_delete(f"pvtz.zone.{domain}", alias, calls.KIND_ZONE, base, before=zone_before, depends_on=deps))
    return changes


def plan_registry_endpoints(ctx, side) -> list[Change]:
    reg, internet = side["reg"], side["internet"]
    others = _other_members(ctx, reg.account)
    changes: list[Change] = []
    previous = ()
    foreign_acl = 0
    for entry in side["acl"]:
        cidr = entry.cidr
        address = f"cr.acl.{cidr}"
        if not is_marked(description=entry.comment):
            if (entry.cidr, entry.comment) != facts.CR_DEFAULT_ACL_ENTRY:
                foreign_acl += 1
            continue   # someone's ACL entry: not acrx's to list, let alone remove
        # An entry another cluster's mark names stays; one no member names (left by an older acrx,
        # or by a cluster already destroyed) goes.
        users = [m for m in others if m.uses.uses_acl(cidr)]
        if users:
            changes.append(_still_used(address, reg.account, users, {"cidr": cidr}))
            continue
        changes.append(_delete(address, reg.account, calls.KIND_ACL, {
            "alias": reg.account, "region": reg.region, "instance_id": reg.instance_id, "cidr": cidr},
            before={"cidr": cidr}, depends_on=previous))
        previous = (address,)    # one at a time: the API takes concurrent ACL changes badly
    changes += _plan_endpoint(ctx, reg, internet, foreign_acl, previous,
                              [m for m in others if m.uses.uses_public()])
    for link in side["links"]:
        changes.append(_keep(f"cr.vpc_link.{link.vpc_id}", reg.account, "kept: a VPC link carries no ownership mark, "
                             "and the registry's other clients in that VPC may use it",
                             {"vpc_id": link.vpc_id, "ip": link.ip}))
    return changes


def _plan_endpoint(ctx, reg, internet, foreign_acl: int, after: tuple, public_users: list = ()) -> list[Change]:
    """The internet endpoint goes off only when the cluster's record says acrx switched it on
    (ownership.endpoint_record), no other cluster's mark says it pulls through it (public mode, or
    needs unknown) and no ACL entry of anyone else's shows another client."""
    from acrx.steps.identity import membership

    enabled = internet is not None and internet.enabled
    record = ownership.recorded(ctx, ownership.endpoint_record(reg.instance_id))
    data = {"alias": reg.account, "region": reg.region, "instance_id": reg.instance_id}
    if record is None and enabled and any(m.uses.endpoint for m in membership.own(ctx, reg.account)):
        # Switched on by acrx for a cluster destroyed since, which handed it over to this one's mark.
        # Only the holder plans the switch-off (a fleet merge lets its delete win over the others' keeps).
        record = {"from": "membership marks"}
    if record is None:
        if not enabled:
            return []
        return [_keep(ENDPOINT, reg.account, "adopted, kept on: it was on before acrx (no record in the cluster that "
                      "acrx switched it on), and other clients of the registry may use it", {"enabled": True})]
    if not enabled:
        return [_delete(ENDPOINT, reg.account, calls.KIND_ENDPOINT, {**data, "record_only": True},
                        before={"enabled": False}, reason="already off; acrx's record of switching it on is removed")]
    if public_users:
        kept = [_still_used(ENDPOINT, reg.account, list(public_users), {"enabled": True}, what=" on")]
        return kept + _handover(reg, list(public_users))
    if foreign_acl:
        return [_keep(ENDPOINT, reg.account, f"kept on: acrx switched it on, but {foreign_acl} ACL entry(ies) acrx did "
                      "not add show other clients use it", {"enabled": True})]
    return [_delete(ENDPOINT, reg.account, calls.KIND_ENDPOINT, data, before={"enabled": True}, depends_on=after,
                    reason=("acrx switched it on (handed over to this cluster's membership mark); " if record.get("from")
                            else "acrx switched it on for this cluster (recorded in the cluster before the switch); ")
                    + "no other cluster uses it and no other client's ACL entry remains")]


def plan_destroy(ctx) -> list[Change]:
    cluster = cluster_net(ctx)
    side = _registry_side(ctx)
    if side["instance"] is None:
        ctx.warn(f"instance {side['reg'].instance_id} was not found: only the cluster's side is cleaned")
    routes = plan_routes(ctx, cluster, side)
    cen = plan_cen(ctx, cluster, side, routes)
    if cen:   # a zone vSwitch exists only beside an acrx CEN, which goes after it
        reg = side["reg"]
        vpcs = [(cluster.alias, cluster.region, cluster.vpc.id)] + [(reg.account, reg.region, link.vpc_id)
                                                                     for link in side["links"]]
        cen = zone_vswitch.plan_destroy(ctx, vpcs, cen)
    changes = routes + plan_peering(ctx, cluster, routes) + cen
    changes += plan_dns(ctx, cluster, side)
    if side["instance"] is not None:
        changes += plan_registry_endpoints(ctx, side)
    return changes


def _handover(reg, users: list) -> list[Change]:
    """This cluster's record of switching the endpoint on goes with it: the public clusters that
    keep the endpoint on get e=1 in their marks, so the last of them switches it off."""
    from acrx.steps.identity import membership

    targets = membership.handover_targets(users)
    if not targets:
        return []
    clusters = membership.names(targets)
    return [Change(f"{ENDPOINT}.handover", Action.UPDATE, {"acrx_switched_on": "this cluster's record"},
                   {"acrx_switched_on": f"the marks of {', '.join(clusters)}"}, account=reg.account,
                   kind=membership.KIND_HANDOVER, reason="the endpoint stays on for them; the record that acrx "
                   "switched it on moves to their membership marks (e=1)",
                   data={"members": [[m.kind, m.name] for m in targets], "clusters": clusters,
                         "instance_id": reg.instance_id})]


def destroy_handlers(ctx) -> dict:
    from acrx.steps.identity import membership

    return {**calls.destroy_handlers(ctx), membership.KIND_HANDOVER: membership.HandoverHandler(ctx)}
