"""network.mode public: the registry's internet endpoint on, its ACL admitting the cluster's egress.

`cr.endpoint.internet` (enable) and one `cr.acl.<cidr>` per egress EIP as /32. 0.0.0.0/0 only with
--allow-any-source, and then with a warning. ACL writes are chained one after another: the API
does not take concurrent ACL changes well (third-party report). The endpoint is asynchronous: the
handlers wait for RUNNING before any ACL write, and for each entry to be listed. The system entry
127.0.0.1/32 ("default") that enabling adds is not acrx's: destroy removes only marked entries, and
the default one only once it has switched off an endpoint acrx switched on (ownership record).
"""

from __future__ import annotations

import ipaddress

from acrx import facts
from acrx.errors import AcrxError
from acrx.plan.change import Action, Change
from acrx.steps import ownership
from acrx.steps.network.common import marked_name
from acrx.steps.network.discovery import cluster_net, cr_api, registry_net

ENDPOINT, ACL = "cr.endpoint.internet", "cr.acl"
ANY = "0.0.0.0/0"
RUNNING = "RUNNING"


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
    # The switch takes no tag: acrx's mark is a record in the cluster, written first (ownership.py).
    # Switching on adds the system's "default" ACL entry (facts.CR_DEFAULT_ACL_ENTRY); the record
    # says whether it was there before, so destroy can leave the ACL as it found it.
    cr = cr_api(ctx, d["alias"], d["region"])
    default_before = any((e.cidr, e.comment) == facts.CR_DEFAULT_ACL_ENTRY
                         for e in cr.internet_acl_entries(d["instance_id"]))
    ownership.record(ctx, ownership.endpoint_record(d["instance_id"]), instance_id=d["instance_id"],
                     registry_account=d["alias"], registry_region=d["region"], default_acl_entry_before=default_before)
    cr.set_internet_endpoint(d["instance_id"], True)
    _wait_running(ctx, cr, d, actx)
    ctx.forget("net:registry")
    return {"enabled": True}


def _wait_running(ctx, cr, d, actx) -> None:
    """The endpoint is asynchronous (CREATING -> RUNNING, official GetInstanceEndpoint doc), and an ACL
    entry written while it is CREATING is silently dropped: Terraform waits for RUNNING before any ACL
    write (resource_alicloud_cr_internet_endpoint.go, resource_alicloud_cr_endpoint_acl_policy.go)."""
    def running():
        endpoint = cr.endpoint(d["instance_id"], "internet")
        if endpoint is None or not endpoint.enabled:
            raise AcrxError(f"the internet endpoint of {d['instance_id']} is off: it was turned off meanwhile")
        return endpoint if endpoint.status.upper() == RUNNING else None

    actx.wait_until(running, what=f"the internet endpoint of {d['instance_id']} to be RUNNING",
                    budget_s=ctx.options.wait_budget_s)


def apply_acl(ctx, change, actx) -> dict:
    d = change.data
    cr = cr_api(ctx, d["alias"], d["region"])
    _wait_running(ctx, cr, d, actx)

    def listed():
        present = cr.endpoint(d["instance_id"], "internet")
        return bool(present and d["cidr"] in {e.cidr for e in present.acl})

    # A retried apply after an interruption may find its own entry: adding it again is refused.
    if not listed():
        cr.add_acl_entry(d["instance_id"], d["cidr"], marked_name("managed"))
    # Terraform waits for each entry to be listed before the next write; so does acrx (the plan
    # chains the entries one after another).
    actx.wait_until(listed, what=f"ACL entry {d['cidr']} to be listed", budget_s=ctx.options.wait_budget_s)
    ctx.forget("net:registry")
    return {"cidr": d["cidr"]}
