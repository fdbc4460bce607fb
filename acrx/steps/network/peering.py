"""network.mode peering: a VPC peering connection from the cluster's VPC (A) to the registry's (B).

Changes, in order: `cr.vpc_link.<vpcB>` (reuse or link), `vpc.peering` (created in A with
AcceptingAliUid = B's uid, accepted in B inside the same handler, waited to Activated, so every
route, which depends on it, comes after the acceptance), `vpc.route.<table>.<cidr>` on A's node
route tables towards the endpoint (/32, or B's VPC with route_to=vpc) and on B's endpoint table
back to the node vSwitch CIDRs, then the DNS changes. An existing connection between the two VPCs
is adopted (or finished: accepted, waited), never recreated.
"""

from __future__ import annotations

from acrx import facts
from acrx.errors import AcrxError
from acrx.plan.change import Action, Change, Ref
from acrx.steps.network import dns, link
from acrx.steps.network.common import MARK_TAGS, client_token, is_marked, keep_reason, marked_name, plan_route
from acrx.steps.network.discovery import cluster_net, cluster_vpc_id, registry_net, vpc_api, vpcpeer_api
from acrx.steps.network.preflight import route_destinations

ADDRESS = KIND = "vpc.peering"
GONE = ("Deleted", "Deleting", "Rejected", "Expired")


def _find(ctx, cluster, registry):
    api = vpcpeer_api(ctx, cluster.alias, cluster.region)
    pair = {cluster.vpc.id, registry.target_vpc.id}
    found = [p for p in ctx.memo("net:peerings", lambda: api.list(cluster.region, cluster.vpc.id))
             if {p.vpc_id, p.accepting_vpc_id} == pair and p.status not in GONE]
    return found[0] if found else None


def _alias_of_uid(ctx, uid: str, default: str) -> str:
    for alias in (ctx.config.cluster.account, *(r.account for r in ctx.config.registries)):
        if ctx.uid(alias) == uid:
            return alias
    return default


def plan_connection(ctx, cluster, registry) -> tuple[Change, object]:
    existing = _find(ctx, cluster, registry)
    if existing is not None:
        observed = {"peering_id": existing.id, "status": existing.status, "vpc_id": existing.vpc_id,
                    "accepting_vpc_id": existing.accepting_vpc_id}
        if existing.status == facts.PEERING_ACTIVE:
            return Change(ADDRESS, Action.NOOP, observed, observed, account=cluster.alias, kind=KIND,
                          reason=keep_reason(is_marked(existing.name, existing.tags),
                                             f"{existing.id} connects the VPCs, Activated")), existing.id
        accepter = _alias_of_uid(ctx, existing.accepting_uid, registry.alias)
        return (Change(ADDRESS, Action.UPDATE, observed, {**observed, "status": facts.PEERING_ACTIVE},
                       reason=f"{existing.id} is {existing.status}: accept it in account {accepter!r} and wait",
                       account=cluster.alias, kind=KIND,
                       data={"peering_id": existing.id, "requester": cluster.alias, "accepter": accepter,
                             "region": cluster.region, "accepter_region": registry.region}),
                existing.id)
    same_account = ctx.uid(cluster.alias) == ctx.uid(registry.alias)
    after = {"peering_id": Ref(ADDRESS, "peering_id"), "status": facts.PEERING_ACTIVE, "vpc_id": cluster.vpc.id,
             "accepting_vpc_id": registry.target_vpc.id, "accepting_uid": ctx.uid(registry.alias)}
    data = {"requester": cluster.alias, "accepter": None if same_account else registry.alias,
            "region": cluster.region, "accepter_region": registry.region, "vpc_id": cluster.vpc.id,
            "accepting_uid": ctx.uid(registry.alias), "accepting_vpc_id": registry.target_vpc.id,
            "name": marked_name(ctx.config.cluster.id)}
    return (Change(ADDRESS, Action.CREATE, None, after, account=cluster.alias, kind=KIND, data=data),
            Ref(ADDRESS, "peering_id", "id of the new peering connection"))


def prefetch(ctx) -> None:
    """The reads of plan_peering, each as soon as its input is known (acrx.steps.warmup starts
    this beside the preflights): the peerings of the cluster's VPC (its id is in the cluster's
    detail), and what return_path_prefetch reads."""
    alias, region = ctx.config.cluster.account, ctx.config.cluster.region
    api = vpcpeer_api(ctx, alias, region)
    ctx.parallel([lambda: ctx.prefetch({"net:peerings": lambda: api.list(region, cluster_vpc_id(ctx))}),
                  lambda: return_path_prefetch(ctx)])


def return_path_prefetch(ctx) -> None:
    """What a private path (peering or cen) reads once the registry's side is known: B's return
    route table (the endpoint vSwitch's) and the PrivateZone zone with its records and bindings."""
    registry = registry_net(ctx)
    vpcs = vpc_api(ctx, registry.alias, registry.region)
    reads = [lambda: dns.prefetch(ctx, registry, cluster_vpc_id(ctx))]
    if registry.target_vswitch is not None:
        table = registry.target_vswitch.route_table_id
        reads.append(lambda: ctx.prefetch({f"net:routes:{registry.alias}:{registry.region}:{table}":
                                           lambda: vpcs.route_entries(table)}))
    ctx.parallel(reads)


def plan_peering(ctx) -> list[Change]:
    cluster, registry = cluster_net(ctx), registry_net(ctx)
    prefetch(ctx)
    link_change, ip = link.plan_link(ctx, registry)
    conn_change, peering_id = plan_connection(ctx, cluster, registry)
    changes = [link_change, conn_change]
    deps = (ADDRESS, link_change.address)
    for table in cluster.route_tables:
        for destination in route_destinations(ctx, registry):
            changes.append(plan_route(ctx, alias=cluster.alias, region=cluster.region, table_id=table,
                                      destination=destination, hop_type="VpcPeer", hop_id=peering_id,
                                      depends_on=deps, why="towards the registry endpoint"))
    back_table = registry.target_vswitch.route_table_id
    for cidr in cluster.vswitch_cidrs:
        changes.append(plan_route(ctx, alias=registry.alias, region=registry.region, table_id=back_table,
                                  destination=cidr, hop_type="VpcPeer", hop_id=peering_id, depends_on=deps,
                                  why="return path to the cluster's vSwitch"))
    changes.extend(dns.plan_dns(ctx, cluster, registry, ip, depends_on=(link_change.address,)))
    return changes


def apply_peering(ctx, change, actx) -> dict:
    d = change.data
    requester = vpcpeer_api(ctx, d["requester"], d["region"])
    peering_id = d.get("peering_id")
    if peering_id is None:
        peering_id = requester.create(
            region=d["region"], vpc_id=d["vpc_id"], accepting_uid=d["accepting_uid"],
            accepting_region=d["accepter_region"], accepting_vpc_id=d["accepting_vpc_id"], name=d["name"],
            description=marked_name("managed"), client_token=client_token(actx), tags=MARK_TAGS)
    budget = ctx.options.wait_budget_s

    def status(wanted: tuple[str, ...]):
        conn = requester.get(peering_id)
        if conn is None or conn.status in GONE:
            raise AcrxError(f"peering {peering_id} is gone ({conn.status if conn else 'not found'})")
        return conn if conn.status in wanted else None

    if d.get("accepter"):
        conn = actx.wait_until(lambda: status(("Accepting", facts.PEERING_ACTIVE, "Updating")),
                               what=f"peering {peering_id} to await acceptance", budget_s=budget)
        if conn.status == "Accepting":
            vpcpeer_api(ctx, d["accepter"], d["accepter_region"]).accept(peering_id)
            actx.report(f"accepted {peering_id} in account {d['accepter']!r}")

    def active():
        conn = status((facts.PEERING_ACTIVE, "Accepting"))
        if conn is not None and conn.status == "Accepting" and d.get("accepter"):
            raise AcrxError(f"the acceptance of peering {peering_id} failed: it is Accepting again")
        return conn if conn is not None and conn.status == facts.PEERING_ACTIVE else None

    actx.wait_until(active, what=f"peering {peering_id} to be Activated", budget_s=budget)
    ctx.forget("net:peerings")
    return {"peering_id": peering_id, "status": facts.PEERING_ACTIVE}
