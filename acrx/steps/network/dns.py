"""The instance's VPC domain must resolve inside the cluster's VPC (account A).

Nodes resolve through the VPC DNS, so a PrivateZone zone in account A named after the VPC domain,
with an apex A record to the endpoint IP and bound to the cluster's VPC, makes it resolve:
`pvtz.zone.<domain>`, `pvtz.record.<domain>`, `pvtz.binding.<vpc>`. Nothing is planned when the
name already resolves there (the instance linked to that very VPC), and an existing zone of the
same name is adopted, never recreated.
"""

from __future__ import annotations

from acrx import facts
from acrx.cloud.pvtz import Binding
from acrx.plan.change import Action, Change, Ref
from acrx.steps import ownership
from acrx.steps.network.common import client_token, is_marked, keep_reason, marked_name
from acrx.steps.network.discovery import pvtz_api

ZONE, RECORD, BINDING = "pvtz.zone", "pvtz.record", "pvtz.binding"


def resolves_through_link(cluster, registry) -> bool:
    """ACR writes the VPC domain into a VPC it is linked to: then the cluster VPC resolves it already."""
    return _linked(registry, cluster.vpc.id)


def _linked(registry, vpc_id: str) -> bool:
    return any(i.link.vpc_id == vpc_id and i.link.status.upper() == facts.VPC_LINK_RUNNING for i in registry.linked)


def prefetch(ctx, registry, vpc_id: str) -> None:
    """plan_dns's reads for the cluster VPC `vpc_id` (the zone, then its records and bindings),
    read ahead by a planner as soon as the registry's side is known."""
    if _linked(registry, vpc_id) or not ctx.config.network.private_zone:
        return
    api, domain = pvtz_api(ctx, ctx.config.cluster.account, ctx.config.cluster.region), registry.vpc_domain
    zone = ctx.memo(f"net:zone:{domain}", lambda: api.find_zone(domain))
    if zone is not None:
        ctx.prefetch({f"net:records:{zone.id}": lambda: api.records(zone.id),
                      f"net:bindings:{zone.id}": lambda: api.bindings(zone.id)})


def plan_dns(ctx, cluster, registry, ip, depends_on=()) -> list[Change]:
    domain = registry.vpc_domain
    zone_addr, record_addr, binding_addr = (f"{ZONE}.{domain}", f"{RECORD}.{domain}", f"{BINDING}.{cluster.vpc.id}")
    alias, region = cluster.alias, cluster.region
    if resolves_through_link(cluster, registry):
        return [Change(zone_addr, Action.NOOP, None, None, account=alias, kind=ZONE,
                       reason=f"{domain} resolves in {cluster.vpc.id} already (the instance is linked to it)")]
    if not ctx.config.network.private_zone:
        ctx.warn(f"network.private_zone is false: make {domain} resolve to the endpoint IP in {cluster.vpc.id} "
                 "yourself (a PrivateZone record or /etc/hosts through node-pool user data)")
        return []
    api = pvtz_api(ctx, alias, region)
    zone = ctx.memo(f"net:zone:{domain}", lambda: api.find_zone(domain))
    base = {"alias": alias, "region": region, "domain": domain}
    changes: list[Change] = []
    if zone is None:
        zone_id = Ref(zone_addr, "zone_id", f"id of zone {domain}")
        changes.append(Change(zone_addr, Action.CREATE, None, {"name": domain, "zone_id": zone_id,
                                                               "proxy_pattern": facts.PVTZ_PROXY_PATTERN},
                              account=alias, kind=ZONE, depends_on=depends_on, data=base))
        records, bindings = [], []
    else:
        zone_id = zone.id
        observed = {"name": domain, "zone_id": zone.id, "proxy_pattern": zone.proxy_pattern}
        if not is_marked(tags=zone.tags) and ownership.recorded(ctx, zone_addr) is not None:
            changes.append(Change(zone_addr, Action.UPDATE, observed, observed, account=alias, kind=ZONE, data=base,
                                  reason=f"zone {domain} was made by acrx (recorded in the cluster) in a run stopped "
                                         "before it was tagged: it is tagged now"))
        else:
            changes.append(Change(zone_addr, Action.NOOP, observed, observed, account=alias, kind=ZONE,
                                  reason=keep_reason(is_marked(tags=zone.tags), f"zone {domain} exists")))
        ctx.prefetch({f"net:records:{zone.id}": lambda: api.records(zone.id),
                      f"net:bindings:{zone.id}": lambda: api.bindings(zone.id)})
        records = ctx.memo(f"net:records:{zone.id}", lambda: api.records(zone.id))
        bindings = ctx.memo(f"net:bindings:{zone.id}", lambda: api.bindings(zone.id))
    changes.append(_record(zone_addr, record_addr, zone_id, records, ip, base, depends_on))
    changes.append(_binding(zone_addr, binding_addr, zone_id, bindings, cluster, base))
    return changes


def _record(zone_addr, addr, zone_id, records, ip, base, depends_on) -> Change:
    apex = [r for r in records if r.rr == "@" and r.type == "A"]
    after = {"rr": "@", "type": "A", "value": ip}
    data = {**base, "zone_id": zone_id, "value": ip}
    deps = tuple(depends_on) + ((zone_addr,) if isinstance(zone_id, Ref) else ())
    if not isinstance(ip, Ref):
        match = next((r for r in apex if r.value == ip), None)
        if match is not None and len(apex) == 1:
            return Change(addr, Action.NOOP, after, after, account=base["alias"], kind=RECORD,
                          reason=keep_reason(is_marked(description=match.remark), f"@ A {ip}"))
    if not apex:
        return Change(addr, Action.CREATE, None, after, account=base["alias"], kind=RECORD, depends_on=deps, data=data)
    before = {"rr": "@", "type": "A", "value": sorted(r.value for r in apex)}
    stale = [r.id for r in apex if isinstance(ip, Ref) or r.value != ip]
    keep = any(r.value == ip for r in apex) if not isinstance(ip, Ref) else False
    return Change(addr, Action.UPDATE, before, after, account=base["alias"], kind=RECORD, depends_on=deps,
                  reason="the apex A record must point at the endpoint IP only",
                  data={**data, "stale_ids": stale, "present": keep})


def _binding(zone_addr, addr, zone_id, bindings, cluster, base) -> Change:
    wanted = Binding(cluster.vpc.id, cluster.region)
    after = {"vpc_id": wanted.vpc_id, "region": wanted.region, "zone_id": zone_id}
    if any(b.vpc_id == wanted.vpc_id for b in bindings):
        return Change(addr, Action.NOOP, after, after, account=base["alias"], kind=BINDING,
                      reason=f"zone {base['domain']} is bound to {wanted.vpc_id}")
    existing = [{"vpc_id": b.vpc_id, "region": b.region} for b in bindings]
    deps = (zone_addr,) if isinstance(zone_id, Ref) else ()
    return Change(addr, Action.CREATE, None, after, account=base["alias"], kind=BINDING, depends_on=deps,
                  data={**base, "zone_id": zone_id, "existing": existing, "vpc_id": wanted.vpc_id,
                        "vpc_region": wanted.region})


# -- handlers ---------------------------------------------------------------------------------
def apply_zone(ctx, change, actx) -> dict:
    """AddZone takes no resource tag, so acrx records the zone in the cluster first, then adds and
    tags it; a zone found untagged but recorded is acrx's own from a run stopped before the tag."""
    d = change.data
    api = pvtz_api(ctx, d["alias"], d["region"])
    record = f"{ZONE}.{d['domain']}"
    zone = api.find_zone(d["domain"])      # a zone made by an interrupted run is taken, not doubled
    ours = zone is None or ownership.recorded(ctx, record) is not None
    if zone is None:
        ownership.record(ctx, record, zone=d["domain"])
    zone_id = zone.id if zone is not None else api.add_zone(d["domain"], proxy_pattern=facts.PVTZ_PROXY_PATTERN,
                                                            client_token=client_token(actx))
    if ours and (zone is None or not ownership.tags_marked(zone.tags)):
        api.tag_zone(zone_id, ownership.TAGS)
    if ours:
        ownership.drop(ctx, record)        # the tag is the mark from here on
    ctx.forget(f"net:zone:{d['domain']}")
    return {"zone_id": zone_id, "name": d["domain"]}


def apply_record(ctx, change, actx) -> dict:
    d = change.data
    api = pvtz_api(ctx, d["alias"], d["region"])
    record_id = None
    if not d.get("present"):
        record_id = api.add_record(d["zone_id"], "@", "A", d["value"], ttl=facts.PVTZ_RECORD_TTL,
                                   remark=marked_name("managed"), client_token=client_token(actx))
    for stale in d.get("stale_ids") or ():
        if stale != record_id:
            api.delete_record(stale)
    ctx.forget(f"net:records:{d['zone_id']}")
    return {"record_id": record_id, "value": d["value"]}


def apply_binding(ctx, change, actx) -> dict:
    d = change.data
    api = pvtz_api(ctx, d["alias"], d["region"])
    current = api.bindings(d["zone_id"])          # BindZoneVpc replaces the list: send all of it
    vpcs = [*current, Binding(d["vpc_id"], d["vpc_region"])]
    if not any(b.vpc_id == d["vpc_id"] for b in current):
        api.bind(d["zone_id"], vpcs)
    ctx.forget(f"net:bindings:{d['zone_id']}")
    return {"vpc_id": d["vpc_id"], "zone_id": d["zone_id"]}
