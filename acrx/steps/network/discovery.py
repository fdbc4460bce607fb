"""What the network steps read: the cluster's side (account A) and the registry's side (account B).

Cluster side: the cluster's VPC (every CIDR), the vSwitches the cluster uses (CS `vswitch_ids`, the
control plane's, and every node pool's `scaling_group.vswitch_ids`, where the nodes are),
their route tables, and the public addresses they leave through (SNAT EIPs of the NAT gateway
their 0.0.0.0/0 route points at). Registry side: the instance, its internet endpoint (state and
ACL), its VPC endpoint (linked VPCs with IPs, domains) and the VPC of B the path must reach.
Everything is read once per run through `ctx.memo`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from acrx import facts
from acrx.errors import PreflightError


@dataclass(frozen=True)
class ClusterNet:
    alias: str
    region: str
    vpc: object                          # acrx.cloud.vpc.Vpc
    vswitches: tuple                     # acrx.cloud.vpc.VSwitch of the cluster's and node pools' vSwitches
    egress_ips: tuple[str, ...]

    @property
    def route_tables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.route_table_id for v in self.vswitches if v.route_table_id))

    @property
    def vswitch_cidrs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.cidr for v in self.vswitches))


@dataclass(frozen=True)
class LinkedVpcInfo:
    link: object                         # acrx.cloud.cr.LinkedVpc
    vpc: object | None                   # acrx.cloud.vpc.Vpc (None when it cannot be read)


@dataclass(frozen=True)
class RegistryNet:
    alias: str
    region: str
    instance: object                     # acrx.cloud.cr.Instance
    internet: object | None              # acrx.cloud.cr.Endpoint
    linked: tuple[LinkedVpcInfo, ...]
    vpc_domain: str
    public_domain: str
    target_vpc: object | None            # B's VPC the private path goes to (peering / cen)
    target_vswitch: object | None        # the vSwitch of the endpoint link in that VPC
    target_link: object | None           # the existing link to target_vpc, if any

    @property
    def endpoint_ip(self) -> str | None:
        return getattr(self.target_link, "ip", None)

    @property
    def link_limit(self) -> int:
        return facts.VPC_LINK_LIMITS.get(self.instance.specification, 1)


# -- adapters (built here so the steps need nothing from session.py beyond raw clients) ----------
def vpc_api(ctx, alias: str, region: str):
    from acrx.cloud.vpc import VpcApi

    acct = ctx.session.account(alias)
    return VpcApi(lambda: acct.vpc(region), acct.retry_policy, region=region)


def vpcpeer_api(ctx, alias: str, region: str):
    from acrx.cloud.vpcpeer import VpcPeerApi

    acct = ctx.session.account(alias)
    return VpcPeerApi(lambda: acct.vpcpeer(region), acct.retry_policy)


def cbn_api(ctx, alias: str, region: str):
    from acrx.cloud.cbn import CbnApi

    acct = ctx.session.account(alias)
    return CbnApi(lambda: acct.cbn(region), acct.retry_policy)


def pvtz_api(ctx, alias: str, region: str):
    from acrx.cloud.pvtz import PvtzApi

    acct = ctx.session.account(alias)
    return PvtzApi(lambda: acct.pvtz(region), acct.retry_policy)


def cr_api(ctx, alias: str, region: str):
    return ctx.session.account(alias).cr_api(region)


def registry_config(ctx):
    """The registry the network connects to: the first one (acrx connects one instance per run)."""
    registries = ctx.config.registries
    if len(registries) > 1:
        ctx.warn(f"network steps connect the first registry only ({registries[0].instance_id}); "
                 "the others need the same path or their own run")
    return registries[0]


# -- the cluster's side -----------------------------------------------------------------------
def vpc(ctx, alias: str, region: str, vpc_id: str):
    """A VPC (DescribeVpcAttribute), read once a run under the key the other network readers use."""
    return ctx.memo(f"net:vpc:{alias}:{region}:{vpc_id}", lambda: vpc_api(ctx, alias, region).get_vpc(vpc_id))


def routes(ctx, alias: str, region: str, table_id: str):
    """Every entry of a route table, read once a run (plan_route and the egress both use it)."""
    return ctx.memo(f"net:routes:{alias}:{region}:{table_id}",
                    lambda: vpc_api(ctx, alias, region).route_entries(table_id))


def cluster_net(ctx) -> ClusterNet:
    return ctx.memo("net:cluster", lambda: _read_cluster(ctx))


def cluster_vpc_id(ctx) -> str:
    """The cluster's VPC: from the network reading when it is done, else from the cluster's
    detail, which comes a round of reads before it (for planners that read ahead)."""
    if ctx.known("net:cluster"):
        return cluster_net(ctx).vpc.id
    return ctx.cluster().vpc_id


def both_sides(ctx) -> tuple[ClusterNet, "RegistryNet"]:
    """The cluster's side and the registry's, read side by side (they need nothing from each
    other); errors as in sequence: the cluster's first."""
    cluster, registry = ctx.parallel([lambda: cluster_net(ctx), lambda: registry_net(ctx)])
    return cluster, registry


def _read_cluster(ctx) -> ClusterNet:
    alias, region = ctx.config.cluster.account, ctx.config.cluster.region
    api = vpc_api(ctx, alias, region)
    # DescribeClusterDetail's vswitch_ids are the control plane's (the SDK model says so); the nodes,
    # which pull, sit in the node pools' vSwitches (DescribeClusterNodePools scaling_group.vswitch_ids)
    # with their own route tables and SNAT. acrx uses the union of both. Reads in rounds: each round's
    # reads need only the answers of the rounds before it.
    cluster, pools = ctx.parallel([ctx.cluster, lambda: ctx.memo(
        "cs:nodepool_vswitches", lambda: ctx.cs().node_pool_vswitch_ids(ctx.config.cluster.id))])
    ids = list(dict.fromkeys([*cluster.vswitch_ids, *pools]))
    the_vpc, nats, *found = ctx.outcomes([lambda: vpc(ctx, alias, region, cluster.vpc_id),
                                          lambda: api.nat_gateways(cluster.vpc_id),
                                          *[lambda v=v: api.get_vswitch(v) for v in ids]])
    if the_vpc.get() is None:
        raise PreflightError(f"the cluster's VPC {cluster.vpc_id} was not found in {region}", field="cluster.id")
    vswitches = [v for v in (o.get() for o in found) if v is not None]
    if not vswitches:
        raise PreflightError(f"none of the cluster's vSwitches ({', '.join(cluster.vswitch_ids) or 'none'}) "
                             "could be read", field="cluster.id")
    return ClusterNet(alias, region, the_vpc.get(), tuple(vswitches),
                      tuple(_egress_ips(ctx, api, nats.get(), vswitches)))


def _egress_ips(ctx, api, nats, vswitches) -> list[str]:
    """SNAT EIPs covering each vSwitch whose route table sends 0.0.0.0/0 to a NAT gateway."""
    nat_ids = {n.id for n in nats}
    alias, region = ctx.config.cluster.account, ctx.config.cluster.region
    tables = list(dict.fromkeys(v.route_table_id for v in vswitches))
    ctx.prefetch({f"net:routes:{alias}:{region}:{t}": lambda t=t: api.route_entries(t) for t in tables})
    hops: dict[str, str] = {}   # vSwitch -> the NAT gateway its default route leaves through
    for vswitch in vswitches:
        default = [e for e in routes(ctx, alias, region, vswitch.route_table_id) if e.destination == "0.0.0.0/0"]
        nat_id = next((e.next_hop_id for e in default if e.next_hop_type == "NatGateway"), None)
        if nat_id is not None and nat_id in nat_ids:
            hops[vswitch.id] = nat_id
    nat_list = list(dict.fromkeys(hops.values()))
    snat = dict(zip(nat_list, ctx.parallel([lambda n=n: api.snat_entries(n) for n in nat_list])))
    ips: list[str] = []
    for vswitch in vswitches:
        for entry in snat.get(hops.get(vswitch.id, ""), ()):
            if entry.source_vswitch_id == vswitch.id or _covers(entry.source_cidr, vswitch.cidr):
                for ip in entry.snat_ip.split(","):    # one entry may list several EIPs
                    if ip.strip() and ip.strip() not in ips:
                        ips.append(ip.strip())
    return ips


def _covers(outer: str, inner: str) -> bool:
    try:
        return bool(outer) and ipaddress.ip_network(inner).subnet_of(ipaddress.ip_network(outer))
    except ValueError:
        return False


# -- the registry's side ----------------------------------------------------------------------
def registry_net(ctx) -> RegistryNet:
    return ctx.memo("net:registry", lambda: _read_registry(ctx))


def _read_registry(ctx) -> RegistryNet:
    reg = registry_config(ctx)
    cr = cr_api(ctx, reg.account, reg.region)
    instance, endpoints, endpoint = ctx.outcomes([lambda: ctx.instance(reg),
                                                 lambda: cr.list_endpoints(reg.instance_id),
                                                 lambda: cr.get_vpc_endpoint(reg.instance_id)])
    instance = instance.get()
    if instance is None:
        raise PreflightError(f"instance {reg.instance_id} was not found in {reg.region}", field="registries")
    internet = next((e for e in endpoints.get() if e.type == "internet"), None)
    endpoint = endpoint.get()
    api = vpc_api(ctx, reg.account, reg.region)
    net = ctx.config.network
    wanted = None
    if net.mode in ("peering", "cen", "none"):
        wanted = net.registry_vpc_id
        if wanted is None:
            usable = [link for link in endpoint.linked_vpcs if link.status.upper() != "CREATE_FAILED"]
            if usable:
                wanted = usable[0].vpc_id
    target_link = next((link for link in endpoint.linked_vpcs if link.vpc_id == wanted), None) if wanted else None
    vswitch_id = (target_link.vswitch_id if target_link else net.registry_vswitch_id) if wanted else None
    # the linked VPCs, the target VPC and (when known already) its vSwitch: one round
    vpc_ids = list(dict.fromkeys([*(link.vpc_id for link in endpoint.linked_vpcs), *([wanted] if wanted else [])]))
    vpcs = {f"net:vpc:{reg.account}:{reg.region}:{v}": lambda v=v: api.get_vpc(v) for v in vpc_ids}
    fetched, vswitch_read = ctx.outcomes([lambda: ctx.prefetch(vpcs),
                                          lambda: api.get_vswitch(vswitch_id) if vswitch_id else None])
    fetched.get()   # the VPCs' own errors wait in the memo for vpc() below
    linked = tuple(LinkedVpcInfo(link, vpc(ctx, reg.account, reg.region, link.vpc_id)) for link in endpoint.linked_vpcs)
    name = reg.instance_name or instance.name
    vpc_domain = next((d for d in endpoint.domains if "-registry-vpc." in d),
                      facts.registry_vpc_domain(name, reg.region))
    public_domain = facts.registry_domain(name, reg.region)
    target_vpc = target_vswitch = None
    if wanted is not None:
        target_vpc = vpc(ctx, reg.account, reg.region, wanted)
        if vswitch_id is None and target_vpc is not None:
            choices = api.list_vswitches(wanted)
            vswitch_id = choices[0].id if choices else None
            if vswitch_id:
                ctx.warn(f"network.registry_vswitch_id is not set: linking {wanted} through {vswitch_id}")
            target_vswitch = api.get_vswitch(vswitch_id) if vswitch_id else None
        elif vswitch_id is not None:
            target_vswitch = vswitch_read.get()
    return RegistryNet(reg.account, reg.region, instance, internet, linked, vpc_domain, public_domain,
                       target_vpc, target_vswitch, target_link)
