"""network.mode public: the registry's internet endpoint on, its ACL admitting the cluster's egress.

`cr.endpoint.internet` (enable) and one `cr.acl.<cidr>` per egress EIP as /32. 0.0.0.0/0 only with
--allow-any-source, and then with a warning. ACL writes are chained one after another: the API
does not take concurrent ACL changes well (third-party report).
"""

from __future__ import annotations

import ipaddress

from acrx.plan.change import Action, Change
from acrx.steps.network.common import marked_name
from acrx.steps.network.discovery import cluster_net, cr_api, registry_net

ENDPOINT, ACL = "cr.endpoint.internet", "cr.acl"
ANY = "0.0.0.0/0"


def allow_any(ctx) -> bool:
    flag = ctx.options.allow_any_source
    return ctx.config.network.allow_any_source if flag is None else flag


def plan_public(ctx) -> list[Change]:
    cluster, registry = cluster_net(ctx), registry_net(ctx)
    alias = registry.alias
    base = {"alias": alias, "region": registry.region, "instance_id": registry.instance.id}
    internet = registry.internet
    enabled = bool(internet and internet.enabled)
    changes = []
    state = {"enabled": enabled}
    if enabled:
        changes.append(Change(ENDPOINT, Action.NOOP, state, state, account=alias, kind=ENDPOINT,
                              reason="the internet endpoint is on"))
    else:
        changes.append(Change(ENDPOINT, Action.UPDATE, state, {"enabled": True}, account=alias, kind=ENDPOINT,
                              reason="nodes pull through the internet endpoint", data=base))
    ctx.warn("public mode: pulls leave through the cluster's NAT gateway EIPs and are billed as internet "
             "traffic (EIP/NAT data transfer); peering or cen keep them private")
    present = {str(ipaddress.ip_network(e.cidr, strict=False)) for e in (internet.acl if internet else ())}
    wanted = [f"{ip}/32" for ip in cluster.egress_ips]
    if allow_any(ctx):
        ctx.warn("--allow-any-source: the registry's internet endpoint admits 0.0.0.0/0 (every address on the "
                 "internet); registry authentication is the only protection left")
        wanted.append(ANY)
    previous = ENDPOINT
    for cidr in wanted:
        addr = f"{ACL}.{cidr}"
        after = {"cidr": cidr}
        if cidr in present:
            changes.append(Change(addr, Action.NOOP, after, after, account=alias, kind=ACL,
                                  reason=f"{cidr} is in the ACL" + (" (cluster egress)" if cidr != ANY else "")))
            continue
        changes.append(Change(addr, Action.CREATE, None, after, account=alias, kind=ACL, depends_on=(previous,),
                              data={**base, "cidr": cidr}))
        previous = addr
    return changes


def apply_endpoint(ctx, change, actx) -> dict:
    d = change.data
    cr_api(ctx, d["alias"], d["region"]).set_internet_endpoint(d["instance_id"], True)
    ctx.forget("net:registry")
    return {"enabled": True}


def apply_acl(ctx, change, actx) -> dict:
    d = change.data
    cr = cr_api(ctx, d["alias"], d["region"])
    present = cr.endpoint(d["instance_id"], "internet")
    # A retried apply after an interruption may find its own entry: adding it again is refused.
    if not present or d["cidr"] not in {e.cidr for e in present.acl}:
        cr.add_acl_entry(d["instance_id"], d["cidr"], marked_name("managed"))
    return {"cidr": d["cidr"]}
