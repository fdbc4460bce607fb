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
def cluster_net(ctx) -> ClusterNet:
    return ctx.memo("net:cluster", lambda: _read_cluster(ctx))


def _read_cluster(ctx) -> ClusterNet:
    cluster = ctx.cluster()
    alias, region = ctx.config.cluster.account, ctx.config.cluster.region
    api = vpc_api(ctx, alias, region)
    vpc = api.get_vpc(cluster.vpc_id)
    if vpc is None:
        raise PreflightError(f"the cluster's VPC {cluster.vpc_id} was not found in {region}", field="cluster.id")
    # DescribeClusterDetail's vswitch_ids are the control plane's (the SDK model says so); the nodes,
    # which pull, sit in the node pools' vSwitches (DescribeClusterNodePools scaling_group.vswitch_ids)
    # with their own route tables and SNAT. acrx uses the union of both.
    pools = ctx.memo("cs:nodepool_vswitches", lambda: ctx.cs().node_pool_vswitch_ids(ctx.config.cluster.id))
    vswitches = []
    for vswitch_id in dict.fromkeys([*cluster.vswitch_ids, *pools]):
        vswitch = api.get_vswitch(vswitch_id)
        if vswitch is not None:
            vswitches.append(vswitch)
    if not vswitches:
        raise PreflightError(f"none of the cluster's vSwitches ({', '.join(cluster.vswitch_ids) or 'none'}) "
                             "could be read", field="cluster.id")
    return ClusterNet(alias, region, vpc, tuple(vswitches), tuple(_egress_ips(api, vpc.id, vswitches)))


def _egress_ips(api, vpc_id: str, vswitches) -> list[str]:
    """SNAT EIPs covering each vSwitch whose route table sends 0.0.0.0/0 to a NAT gateway."""
    nat_ids = {n.id for n in api.nat_gateways(vpc_id)}
    snat: dict[str, list] = {}
    ips: list[str] = []
    for vswitch in vswitches:
        default = [e for e in api.route_entries(vswitch.route_table_id, destination="0.0.0.0/0")
                   if e.destination == "0.0.0.0/0"]
        nat_id = next((e.next_hop_id for e in default if e.next_hop_type == "NatGateway"), None)
        if nat_id is None or nat_id not in nat_ids:
            continue
        if nat_id not in snat:
            snat[nat_id] = api.snat_entries(nat_id)
        for entry in snat[nat_id]:
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
    instance = cr.get_instance(reg.instance_id)
    if instance is None:
        raise PreflightError(f"instance {reg.instance_id} was not found in {reg.region}", field="registries")
    internet = next((e for e in cr.list_endpoints(reg.instance_id) if e.type == "internet"), None)
    endpoint = cr.get_vpc_endpoint(reg.instance_id)
    api = vpc_api(ctx, reg.account, reg.region)
    linked = tuple(LinkedVpcInfo(link, api.get_vpc(link.vpc_id)) for link in endpoint.linked_vpcs)
    name = reg.instance_name or instance.name
    vpc_domain = next((d for d in endpoint.domains if "-registry-vpc." in d),
                      facts.registry_vpc_domain(name, reg.region))
    public_domain = facts.registry_domain(name, reg.region)
    net = ctx.config.network
    target_vpc = target_vswitch = target_link = None
    if net.mode in ("peering", "cen", "none"):
        wanted = net.registry_vpc_id
        if wanted is None:
            usable = [i for i in linked if i.link.status.upper() != "CREATE_FAILED"]
            if usable:
                wanted = usable[0].link.vpc_id
        if wanted is not None:
            target_link = next((i.link for i in linked if i.link.vpc_id == wanted), None)
            target_vpc = api.get_vpc(wanted)
            vswitch_id = target_link.vswitch_id if target_link else net.registry_vswitch_id
            if vswitch_id is None and target_vpc is not None:
                choices = api.list_vswitches(wanted)
                vswitch_id = choices[0].id if choices else None
                if vswitch_id:
                    ctx.warn(f"network.registry_vswitch_id is not set: linking {wanted} through {vswitch_id}")
            target_vswitch = api.get_vswitch(vswitch_id) if vswitch_id else None
    return RegistryNet(reg.account, reg.region, instance, internet, linked, vpc_domain, public_domain,
                       target_vpc, target_vswitch, target_link)
