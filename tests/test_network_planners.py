"""The network planners as data: observed state in (pre-read into the context memo), changes out.

No cloud here: a fake session only answers uids; any read the planner makes that the case did not
provide fails the test (the fake account has no SDK clients).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from acrx.cloud.cbn import Attachment, Cen, Grant, TransitRouter
from acrx.cloud.cr import AclEntry, Endpoint, Instance, LinkedVpc
from acrx.cloud.pvtz import Binding, Record, Zone
from acrx.cloud.vpc import RouteEntry, Vpc, VSwitch
from acrx.cloud.vpcpeer import Peering
from acrx.config.model import AcrxConfig
from acrx.errors import PreflightError
from acrx.plan.change import Ref
from acrx.steps.context import StepContext, StepOptions
from acrx.steps.network import NetworkStep
from acrx.steps.network.discovery import ClusterNet, LinkedVpcInfo, RegistryNet

UID_A, UID_B = "1111222233334444", "5555666677778888"
CLUSTER_ID = "c" + "0" * 31 + "1"
INSTANCE_ID = "cri-abcdefgh12345678"
VPC_A, VPC_B = "vpc-aaaaaaaaaaaa", "vpc-bbbbbbbbbbbb"
TABLE_A, TABLE_B = "vtb-aaaaaaaaaaaa", "vtb-bbbbbbbbbbbb"
DOMAIN = "acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com"
IP = "10.10.1.10"


class FakeSession:
    def account(self, alias):
        return SimpleNamespace(retry_policy=None)   # no SDK client: an unplanned read fails loudly

    def uid(self, alias):
        return {"cluster": UID_A, "registry": UID_B}[alias]


def config(mode, region_b="cn-hangzhou", **network):
    return AcrxConfig.model_validate({
        "cluster": {"id": CLUSTER_ID, "region": "cn-hangzhou"},
        "registries": [{"instance_id": INSTANCE_ID, "region": region_b, "instance_name": "acme"}],
        "network": {"mode": mode, **network}})


def cluster_net(cidrs=("192.168.0.0/16",), egress=("203.0.113.20",), node_cidr="192.168.0.0/24"):
    vswitches = (VSwitch("vsw-nodes0000001", VPC_A, node_cidr, "cn-hangzhou-h", TABLE_A),)
    return ClusterNet("cluster", "cn-hangzhou", Vpc(VPC_A, "cn-hangzhou", tuple(cidrs)), vswitches, tuple(egress))


def registry_net(*, linked=True, region="cn-hangzhou", spec="Enterprise_Standard", acl=(), internet_on=False,
                 b_cidrs=("10.10.0.0/16",), ip=IP):
    vswitch = VSwitch("vsw-acr000000001", VPC_B, "10.10.1.0/24", "cn-hangzhou-i", TABLE_B)
    vpc_b = Vpc(VPC_B, region, tuple(b_cidrs))
    link = LinkedVpc(VPC_B, vswitch.id, ip, "RUNNING") if linked else None
    internet = Endpoint("internet", internet_on, "RUNNING", True, tuple(AclEntry(c) for c in acl), ())
    return RegistryNet("registry", region, Instance(INSTANCE_ID, "acme", spec, "RUNNING", region), internet,
                       (LinkedVpcInfo(link, vpc_b),) if link else (), DOMAIN, DOMAIN.replace("-vpc", ""),
                       vpc_b, vswitch, link)


def context(cfg, cluster, registry, options=None, **observed):
    ctx = StepContext(cfg, FakeSession(), options or StepOptions())
    ctx.memo("net:cluster", lambda: cluster)
    ctx.memo("net:registry", lambda: registry)
    defaults = {f"net:routes:cluster:cn-hangzhou:{TABLE_A}": [],
                f"net:routes:registry:{registry.region}:{TABLE_B}": [],
                "net:peerings": [], f"net:zone:{DOMAIN}": None,
                # transit routers offering any zone, one per attachment (ListTransitRouterAvailableResource)
                **{f"net:trzones:{r}": {"available": [], "master": [], "slave": []}
                   for r in ("cn-hangzhou", registry.region)}}
    for key, value in {**defaults, **observed}.items():
        ctx.memo(key, lambda v=value: v)
    return ctx


def plan(ctx, mode=None):
    step = NetworkStep(mode)
    step.preflight(ctx)
    return {c.address: c for c in step.plan(ctx)}


def actions(changes):
    return {a: str(c.action) for a, c in changes.items()}


# -- public ----------------------------------------------------------------------------------------
PUBLIC_CASES = [
    ("all missing", dict(), dict(internet_on=False),
     {"cr.endpoint.internet": "update", "cr.acl.203.0.113.20/32": "create", "cr.acl.203.0.113.21/32": "create"}),
    ("one present", dict(), dict(internet_on=True, acl=("203.0.113.20/32",)),
     {"cr.endpoint.internet": "no-op", "cr.acl.203.0.113.20/32": "no-op", "cr.acl.203.0.113.21/32": "create"}),
    ("any source", dict(allow_any_source=True), dict(internet_on=True, acl=("203.0.113.20/32", "203.0.113.21/32")),
     {"cr.endpoint.internet": "no-op", "cr.acl.203.0.113.20/32": "no-op", "cr.acl.203.0.113.21/32": "no-op",
      "cr.acl.0.0.0.0/0": "create"}),
]


@pytest.mark.parametrize("name,network,observed,expected", PUBLIC_CASES, ids=[c[0] for c in PUBLIC_CASES])
def test_public_planner(name, network, observed, expected):
    ctx = context(config("public", **network), cluster_net(egress=("203.0.113.20", "203.0.113.21")),
                  registry_net(**observed))
    changes = plan(ctx)
    assert actions(changes) == expected
    creates = [c for c in changes.values() if str(c.action) == "create"]
    for earlier, later in zip(creates, creates[1:]):
        assert earlier.address in later.depends_on       # ACL writes never run side by side
    assert any("traffic" in w for w in ctx.warnings)
    assert any("0.0.0.0/0" in w for w in ctx.warnings) == bool(network.get("allow_any_source"))


# -- peering ---------------------------------------------------------------------------------------
def _peer(status, tags=(("acrx:managed", "true"),), name="acrx-x"):
    return Peering("pcc-existing00001", status, "cn-hangzhou", VPC_A, UID_A, UID_B, "cn-hangzhou", VPC_B,
                   name=name, tags=tags)


PEERING_CASES = [
    ("fresh", {}, {"vpc.peering": "create", f"vpc.route.{TABLE_A}.{IP}/32": "create",
                   f"vpc.route.{TABLE_B}.192.168.0.0/24": "create", f"pvtz.zone.{DOMAIN}": "create",
                   f"pvtz.record.{DOMAIN}": "create", f"pvtz.binding.{VPC_A}": "create",
                   f"cr.vpc_link.{VPC_B}": "no-op"}),
    ("accepting", {"net:peerings": [_peer("Accepting")]}, {"vpc.peering": "update"}),
    ("adopted", {"net:peerings": [_peer("Activated", tags=(), name="by-hand")],
                 f"net:routes:cluster:cn-hangzhou:{TABLE_A}": [
                     RouteEntry(TABLE_A, f"{IP}/32", "VpcPeer", "pcc-existing00001", "Available", "Custom")]},
     {"vpc.peering": "no-op", f"vpc.route.{TABLE_A}.{IP}/32": "no-op", f"vpc.route.{TABLE_B}.192.168.0.0/24": "create"}),
]


@pytest.mark.parametrize("name,observed,expected", PEERING_CASES, ids=[c[0] for c in PEERING_CASES])
def test_peering_planner(name, observed, expected):
    changes = plan(context(config("peering"), cluster_net(), registry_net(), **observed))
    assert {a: actions(changes)[a] for a in expected} == expected
    for address, change in changes.items():
        if address.startswith("vpc.route.") and str(change.action) == "create":
            assert "vpc.peering" in change.all_dependencies()   # acceptance comes before routes
    if name == "adopted":
        assert changes["vpc.peering"].reason.startswith("adopted")
    if name == "fresh":
        assert isinstance(changes[f"vpc.route.{TABLE_A}.{IP}/32"].data["next_hop_id"], Ref)
        assert changes["vpc.peering"].data["accepting_uid"] == UID_B


def test_peering_without_link_routes_the_endpoint_vswitch_and_records_the_ip_after_apply():
    changes = plan(context(config("peering"), cluster_net(), registry_net(linked=False)))
    assert str(changes[f"cr.vpc_link.{VPC_B}"].action) == "create"
    assert f"vpc.route.{TABLE_A}.10.10.1.0/24" in changes
    assert isinstance(changes[f"pvtz.record.{DOMAIN}"].data["value"], Ref)


def test_route_to_vpc_routes_every_cidr_of_the_registry_vpc():
    ctx = context(config("peering"), cluster_net(), registry_net(b_cidrs=("10.10.0.0/16", "172.16.0.0/16")),
                  StepOptions(route_to="vpc"))
    changes = plan(ctx)
    assert {f"vpc.route.{TABLE_A}.10.10.0.0/16", f"vpc.route.{TABLE_A}.172.16.0.0/16"} <= set(changes)


@pytest.mark.parametrize("mode", ["peering", "cen"])
def test_a_private_cross_region_path_is_refused_with_the_alternatives(mode):
    """Issue 12 item 7: layers come from the registry region's OSS internal endpoint (100.64.0.0/10),
    which no VPC route can reach from another region."""
    ctx = context(config(mode, region_b="cn-shanghai"), cluster_net(), registry_net(region="cn-shanghai"),
                  **{f"net:cens:acrx-{CLUSTER_ID}": [], f"net:cens:acrx-hub-{UID_B}": []})
    with pytest.raises(PreflightError, match="OSS") as raised:
        plan(ctx)
    assert "network mode public" in raised.value.hint and "replica" in raised.value.hint


def test_a_foreign_route_for_the_destination_stops_the_plan():
    observed = {f"net:routes:cluster:cn-hangzhou:{TABLE_A}": [
        RouteEntry(TABLE_A, f"{IP}/32", "Instance", "i-someone", "Available", "Custom")]}
    with pytest.raises(PreflightError, match="already sends"):
        plan(context(config("peering"), cluster_net(), registry_net(), **observed))


# -- DNS ---------------------------------------------------------------------------------------------
def test_existing_zone_is_adopted_and_a_wrong_record_replaced():
    zone = Zone("zone1", DOMAIN, "ZONE")
    observed = {"net:peerings": [_peer("Activated")], f"net:zone:{DOMAIN}": zone,
                "net:records:zone1": [Record(7, "@", "A", "10.9.9.9", 60)],
                "net:bindings:zone1": [Binding(VPC_A, "cn-hangzhou")],
                "k8s:acrx-ownership": {}}    # no record in the cluster that acrx made the zone
    changes = plan(context(config("peering"), cluster_net(), registry_net(), **observed))
    assert changes[f"pvtz.zone.{DOMAIN}"].reason.startswith("adopted")
    record = changes[f"pvtz.record.{DOMAIN}"]
    assert str(record.action) == "update" and record.data["stale_ids"] == [7]
    assert str(changes[f"pvtz.binding.{VPC_A}"].action) == "no-op"


# -- CEN ---------------------------------------------------------------------------------------------
HUB = f"acrx-hub-{UID_B}"
NO_CEN = {f"net:cens:acrx-{CLUSTER_ID}": [], f"net:cens:{HUB}": [], f"net:grants:{VPC_B}": []}


def test_cen_from_nothing_makes_the_registry_accounts_hub_and_grants_the_cluster_vpc():
    """Issue 16: the CEN is the registry account's hub; the cluster's VPC is the cross-account one."""
    changes = plan(context(config("cen"), cluster_net(), registry_net(), **NO_CEN))
    expected = {"cen.instance": "create", "cen.transit_router.cn-hangzhou": "create", f"cen.grant.{VPC_A}": "create",
                f"cen.attachment.{VPC_A}": "create", f"cen.attachment.{VPC_B}": "create"}
    assert {a: actions(changes)[a] for a in expected} == expected
    assert f"cen.grant.{VPC_B}" not in changes and "cen.peer_attachment" not in changes
    assert changes["cen.instance"].account == "registry" and changes["cen.instance"].data["name"] == HUB
    assert changes["cen.transit_router.cn-hangzhou"].account == "registry"
    assert f"cen.grant.{VPC_A}" in changes[f"cen.attachment.{VPC_A}"].all_dependencies()
    assert changes[f"cen.grant.{VPC_A}"].account == "cluster"
    assert changes[f"cen.grant.{VPC_A}"].data["cen_owner_id"] == UID_B
    assert changes[f"cen.attachment.{VPC_A}"].data["vpc_owner_uid"] == UID_A
    assert changes[f"cen.attachment.{VPC_A}"].account == "registry"
    assert changes[f"cen.attachment.{VPC_B}"].data["vpc_owner_uid"] is None     # same account as the hub
    route = changes[f"vpc.route.{TABLE_A}.{IP}/32"]
    assert route.data["next_hop_type"] == "Attachment" and f"cen.attachment.{VPC_A}" in route.all_dependencies()


def test_cen_hub_in_place_is_joined_not_made_again():
    hub = Cen("cen-hub000000001", HUB, "Active", (("acrx:managed", "true"),))
    observed = {f"net:cens:acrx-{CLUSTER_ID}": [], f"net:cens:{HUB}": [hub],
                f"net:trs:{hub.id}:cn-hangzhou": [TransitRouter("tr-1", hub.id, "cn-hangzhou", "acrx-hub", "Active")],
                f"net:atts:{hub.id}": [Attachment("tr-attach-b", hub.id, "tr-1", "Attached", "acrx-b", VPC_B)],
                f"net:grants:{VPC_A}": [],
                "net:trtable:tr-1": "vtb-tr1",
                "net:trlinks:association:vtb-tr1": {"tr-attach-b": "Active"},
                "net:trlinks:propagation:vtb-tr1": {"tr-attach-b": "Active"}}
    changes = plan(context(config("cen"), cluster_net(), registry_net(), **observed))
    acts = actions(changes)
    assert {a: acts[a] for a in ("cen.instance", "cen.transit_router.cn-hangzhou", f"cen.attachment.{VPC_B}",
                                 f"cen.association.{VPC_B}", f"cen.propagation.{VPC_B}")} == dict.fromkeys(
        ("cen.instance", "cen.transit_router.cn-hangzhou", f"cen.attachment.{VPC_B}", f"cen.association.{VPC_B}",
         f"cen.propagation.{VPC_B}"), "no-op")
    assert acts[f"cen.grant.{VPC_A}"] == "create" and acts[f"cen.attachment.{VPC_A}"] == "create"
    assert changes[f"cen.grant.{VPC_A}"].data["cen_id"] == hub.id
    assert changes[f"vpc.route.{TABLE_B}.192.168.0.0/24"].data["next_hop_id"] == "tr-attach-b"


def test_an_older_per_cluster_cen_is_kept_for_setup():
    old = Cen("cen-old000000001", f"acrx-{CLUSTER_ID}", "Active", (("acrx:managed", "true"),))
    observed = {f"net:cens:acrx-{CLUSTER_ID}": [old], f"net:trs:{old.id}:cn-hangzhou": [],
                f"net:atts:{old.id}": [],
                f"net:grants:{VPC_B}": [Grant(old.id, UID_A, VPC_B)]}
    changes = plan(context(config("cen"), cluster_net(), registry_net(), **observed))
    assert actions(changes)["cen.instance"] == "no-op" and "older acrx" in changes["cen.instance"].reason
    assert changes["cen.instance"].account == "cluster"
    assert actions(changes)[f"cen.grant.{VPC_B}"] == "no-op"           # B's VPC granted to the cluster's CEN


def test_joining_the_hub_stops_when_the_registry_vpc_is_on_an_older_cen():
    observed = {**NO_CEN, f"net:grants:{VPC_B}": [Grant("cen-other00000001", "999", VPC_B)]}
    with pytest.raises(PreflightError, match="one CEN only") as raised:
        plan(context(config("cen"), cluster_net(), registry_net(), **observed))
    assert "cen-other00000001" in raised.value.hint and raised.value.field == "network.cen_id"


def test_cen_fully_in_place_is_all_no_ops():
    cen_id = "cen-existing000001"
    observed = {
        f"net:cen:registry:{cen_id}": Cen(cen_id, "shared", "Active"),
        f"net:trs:{cen_id}:cn-hangzhou": [TransitRouter("tr-1", cen_id, "cn-hangzhou", "acrx-x", "Active")],
        f"net:grants:{VPC_A}": [Grant(cen_id, UID_B, VPC_A)],
        f"net:atts:{cen_id}": [Attachment("tr-attach-a", cen_id, "tr-1", "Attached", "acrx-a", VPC_A),
                               Attachment("tr-attach-b", cen_id, "tr-1", "Attached", "acrx-b", VPC_B)],
        f"net:routes:cluster:cn-hangzhou:{TABLE_A}": [
            RouteEntry(TABLE_A, f"{IP}/32", "Attachment", "tr-attach-a", "Available", "Custom", name="acrx-route")],
        f"net:routes:registry:cn-hangzhou:{TABLE_B}": [
            RouteEntry(TABLE_B, "192.168.0.0/24", "Attachment", "tr-attach-b", "Available", "Custom")],
        f"net:zone:{DOMAIN}": Zone("zone1", DOMAIN, "ZONE", (("acrx:managed", "true"),)),
        "net:records:zone1": [Record(7, "@", "A", IP, 60, "acrx-managed")],
        "net:bindings:zone1": [Binding(VPC_A, "cn-hangzhou")],
        # both attachments associated with, and propagating into, the router's table (issue 12)
        "net:trtable:tr-1": "vtb-tr1",
        "net:trlinks:association:vtb-tr1": {"tr-attach-a": "Active", "tr-attach-b": "Active"},
        "net:trlinks:propagation:vtb-tr1": {"tr-attach-a": "Active", "tr-attach-b": "Active"},
    }
    changes = plan(context(config("cen", cen_id=cen_id), cluster_net(), registry_net(), **observed))
    assert set(actions(changes).values()) == {"no-op"}
    assert changes["cen.instance"].reason == f"adopted: network.cen_id {cen_id} (account 'registry')"
    assert "acrx-managed" in changes[f"vpc.route.{TABLE_A}.{IP}/32"].reason


# -- preflight -----------------------------------------------------------------------------------
PREFLIGHT_CASES = [
    ("secondary overlap", "peering", dict(cidrs=("192.168.0.0/16", "10.10.0.0/20")), dict(), "10.10.0.0/20"),
    ("cluster in 100.x", "cen", dict(cidrs=("100.72.0.0/16",), node_cidr="100.72.0.0/24"), dict(), "100.0.0.0/8"),
    ("endpoint in 100.64/10", "peering", dict(), dict(b_cidrs=("100.70.0.0/16",), ip="100.70.1.10"), "100.64.0.0/10"),
    ("no egress", "public", dict(egress=()), dict(), "no egress"),
    ("edition limit", "peering", dict(), dict(linked=False, spec="Enterprise_Basic"), None),
]


@pytest.mark.parametrize("name,mode,cluster_kw,registry_kw,needle", PREFLIGHT_CASES, ids=[c[0] for c in PREFLIGHT_CASES])
def test_preflight(name, mode, cluster_kw, registry_kw, needle):
    registry = registry_net(**registry_kw)
    if name == "edition limit":   # the one allowed link is used by another VPC of B
        other = LinkedVpcInfo(LinkedVpc("vpc-othervpc0001", "vsw-x", "10.50.0.5", "RUNNING"),
                              Vpc("vpc-othervpc0001", "cn-hangzhou", ("10.50.0.0/16",)))
        registry = RegistryNet(**{**registry.__dict__, "linked": (other,)})
        needle = "allows 1 linked VPC"
    with pytest.raises(PreflightError, match=needle.replace(".", r"\.")):
        NetworkStep(mode).preflight(context(config(mode), cluster_net(**cluster_kw), registry))
