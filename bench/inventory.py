"""What exists in a sandbox world, read back through the official SDKs (never through acrx).

The fault campaign (bench/faults.py) takes an inventory before setup, after setup and after
destroy: a kind that holds more new things after a faulted setup than after a clean one is a
duplicate; anything new that outlives destroy is a leak. Each item is a (kind, identity) pair
whose identity names what makes the thing unique to a person reading the table (a peering by its
two VPCs, a route by its table and destination, an AccessKey by its user), so a second CEN with
another id still counts as a second CEN.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.sandbox_clients import sdk_client  # noqa: E402

RAM, VPC, PEER, CBN, PVTZ, CS, CR = ("alibabacloud_ram20150501", "alibabacloud_vpc20160428",
                                     "alibabacloud_vpcpeer20220101", "alibabacloud_cbn20170912",
                                     "alibabacloud_pvtz20180101", "alibabacloud_cs20151215",
                                     "alibabacloud_cr20181201")


def _models(product: str):
    import importlib

    return importlib.import_module(product + ".models")


class Inventory:
    """(kind, identity) items of one sandbox; `counts()` per kind."""

    def __init__(self, items: list[tuple[str, str]]):
        self.items = sorted(items)

    def counts(self) -> Counter:
        return Counter(kind for kind, _ in self.items)

    def minus(self, other: "Inventory") -> list[tuple[str, str]]:
        left = Counter(self.items)
        left.subtract(Counter(other.items))
        return sorted(item for item, n in left.items() for _ in range(max(n, 0)))


def take(sandbox) -> Inventory:
    """Every resource kind acrx may create, in both accounts, read with the SDKs."""
    s = sandbox.seeded
    endpoint = sandbox.cloud.endpoint
    items: list[tuple[str, str]] = []
    peerings: dict[str, str] = {}   # both sides list a cross-account peering: count it once, by id
    for alias, region, vpcs in (("cluster", s.region_a, [s.vpc_a]), ("registry", s.region_b, [s.vpc_b])):
        key = sandbox.account_key(alias)

        def client(product, region=region, key=key):
            return sdk_client(product, endpoint, key, region=region)

        items += _ram(client(RAM), alias)
        items += _vpc(client(VPC), alias, region, vpcs)
        peerings.update(_peer(client(PEER), region))
        items += _cbn(client(CBN), alias)
        items += _pvtz(client(PVTZ), alias)
    items += [("vpcpeer.connection", pair) for pair in peerings.values()]
    items += _cs(sdk_client(CS, endpoint, sandbox.account_key("cluster"), region=s.region_a), s.cluster_id)
    items += _cr(sdk_client(CR, endpoint, sandbox.account_key("registry"), region=s.region_b),
                 s.region_b, s.instance_id)
    items += _kube(sandbox)
    return Inventory(items)


def _ram(ram, alias: str) -> list[tuple[str, str]]:
    m = _models(RAM)
    items = [("ram.role", f"{alias}/{r.role_name}")
             for r in ram.list_roles(m.ListRolesRequest(max_items=1000)).body.roles.role or []]
    policies = ram.list_policies(m.ListPoliciesRequest(policy_type="Custom", max_items=1000)).body.policies
    items += [("ram.policy", f"{alias}/{p.policy_name}") for p in (policies.policy or [] if policies else [])]
    users = ram.list_users(m.ListUsersRequest(max_items=1000)).body.users
    for user in (users.user or [] if users else []):
        items.append(("ram.user", f"{alias}/{user.user_name}"))
        keys = ram.list_access_keys(m.ListAccessKeysRequest(user_name=user.user_name)).body.access_keys
        items += [("ram.access_key", f"{alias}/{user.user_name}") for _ in (keys.access_key or [] if keys else [])]
    return items


def _vpc(vpc, alias: str, region: str, vpc_ids: list[str]) -> list[tuple[str, str]]:
    m = _models(VPC)
    items = []
    for vpc_id in vpc_ids:
        tables = vpc.describe_route_table_list(m.DescribeRouteTableListRequest(
            region_id=region, vpc_id=vpc_id, page_size=50)).body.router_table_list
        for table in (tables.router_table_list_type or [] if tables else []):
            entries = vpc.describe_route_entry_list(m.DescribeRouteEntryListRequest(
                region_id=region, route_table_id=table.route_table_id, max_result=100)).body.route_entrys
            for entry in (entries.route_entry or [] if entries else []):
                if entry.type != "System":
                    items.append(("vpc.route", f"{alias}/{table.route_table_id}/{entry.destination_cidr_block}"))
    return items


def _peer(peer, region: str) -> dict[str, str]:
    m = _models(PEER)
    body = peer.list_vpc_peer_connections(m.ListVpcPeerConnectionsRequest(region_id=region, max_results=100)).body
    return {c.instance_id: f"{c.vpc.vpc_id}->{c.accepting_vpc.vpc_id}"
            for c in body.vpc_peer_connects or [] if c.status not in ("Deleted", "Deleting")}


def _cbn(cbn, alias: str) -> list[tuple[str, str]]:
    m = _models(CBN)
    items = []
    cens = cbn.describe_cens(m.DescribeCensRequest(page_size=50)).body.cens
    for cen in (cens.cen or [] if cens else []):
        if cen.status == "Deleting":
            continue
        items.append(("cen.instance", f"{alias}/{cen.name}"))
        routers = cbn.list_transit_routers(m.ListTransitRoutersRequest(cen_id=cen.cen_id, page_size=50)).body
        items += [("cen.transit_router", f"{cen.name}/{t.region_id}")
                  for t in routers.transit_routers or [] if t.status != "Deleting"]
        attached = cbn.list_transit_router_vpc_attachments(
            m.ListTransitRouterVpcAttachmentsRequest(cen_id=cen.cen_id, max_results=100)).body
        items += [("cen.vpc_attachment", f"{cen.name}/{a.vpc_id}")
                  for a in attached.transit_router_attachments or [] if a.status not in ("Detaching", "Deleted")]
        peers = cbn.list_transit_router_peer_attachments(
            m.ListTransitRouterPeerAttachmentsRequest(cen_id=cen.cen_id, max_results=100)).body
        items += [("cen.peer_attachment", f"{cen.name}/{a.region_id}->{a.peer_transit_router_region_id}")
                  for a in peers.transit_router_attachments or [] if a.status not in ("Detaching", "Deleted")]
        grants = cbn.describe_grant_rules_to_cen(m.DescribeGrantRulesToCenRequest(cen_id=cen.cen_id)).body
        items += [("cen.grant", f"{cen.name}/{g.child_instance_id}")
                  for g in (grants.grant_rules.grant_rule or [] if grants.grant_rules else [])]
    return items


def _pvtz(pvtz, alias: str) -> list[tuple[str, str]]:
    m = _models(PVTZ)
    items = []
    zones = pvtz.describe_zones(m.DescribeZonesRequest(page_size=100)).body.zones
    for zone in (zones.zone or [] if zones else []):
        items.append(("pvtz.zone", f"{alias}/{zone.zone_name}"))
        records = pvtz.describe_zone_records(m.DescribeZoneRecordsRequest(zone_id=zone.zone_id, page_size=100)).body
        items += [("pvtz.record", f"{zone.zone_name}/{r.rr}/{r.type}/{r.value}")
                  for r in (records.records.record or [] if records.records else [])]
        info = pvtz.describe_zone_info(m.DescribeZoneInfoRequest(zone_id=zone.zone_id)).body
        items += [("pvtz.binding", f"{zone.zone_name}/{v.vpc_id}")
                  for v in (info.bind_vpcs.vpc or [] if info.bind_vpcs else [])]
    return items


def _cs(cs, cluster_id: str) -> list[tuple[str, str]]:
    m = _models(CS)
    body = cs.list_cluster_addon_instances(cluster_id).body
    return [("cs.addon", a.name) for a in body.addons or []]


def _cr(cr, region: str, instance_id: str) -> list[tuple[str, str]]:
    m = _models(CR)
    items = []
    body = cr.list_instance_endpoint(m.ListInstanceEndpointRequest(instance_id=instance_id)).body
    for endpoint in body.endpoints or []:
        if endpoint.endpoint_type == "internet" and endpoint.enable:
            items.append(("cr.internet_endpoint", instance_id))
        items += [("cr.acl", f"{endpoint.endpoint_type}/{e.entry}") for e in endpoint.acl_entries or []]
    return items


def _kube(sandbox) -> list[tuple[str, str]]:
    """ConfigMap keys and Deployments, through the official kubernetes client."""
    import tempfile

    from kubernetes import client, config

    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as handle:
        handle.write(sandbox.cluster.kubeconfig_yaml())
        handle.flush()
        api = config.new_client_from_config(config_file=handle.name)
    items = []
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    for cm in core.list_config_map_for_all_namespaces().items:
        items += [("k8s.configmap_key", f"{cm.metadata.namespace}/{cm.metadata.name}/{k}") for k in (cm.data or {})]
    for deployment in apps.list_deployment_for_all_namespaces().items:
        items.append(("k8s.deployment", f"{deployment.metadata.namespace}/{deployment.metadata.name}"))
    return items
