"""The seeded world: two accounts, their networks, an ACK cluster and an ACR EE instance.

`Scenario` holds every fact a test may vary; `VARIANTS` names the ones the tests and the demo
use. `seed(world, scenario)` builds the world through the services' own seed methods and returns
the ids it made.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from acrx.sandbox.core.clock import parse_iso
from acrx.sandbox.registry.images import ImageStore, image_size
from acrx.sandbox.services.cs import precheck
from acrx.sandbox.services.vpc import scenario_seeds


@dataclass(frozen=True)
class Scenario:
    seed: int = 0
    region_a: str = "cn-hangzhou"
    region_b: str = "cn-hangzhou"
    zone_a: str = "cn-hangzhou-h"
    zone_b: str = "cn-hangzhou-i"
    vpc_a_cidr: str = "192.168.0.0/16"
    vpc_a_secondary: tuple[str, ...] = ()
    node_vswitch_cidr: str = "192.168.0.0/24"
    pod_vswitch_cidr: str = "192.168.8.0/22"
    vpc_b_cidr: str = "10.10.0.0/16"
    vswitch_b_cidr: str = "10.10.1.0/24"
    egress_eip: str = "203.0.113.20"      # TEST-NET-3: never a real address
    nat_gateway: bool = True              # False: a cluster without internet egress
    # Issue 12: a node pool in its own vSwitch (route table, NAT, SNAT EIP) outside vswitch_ids.
    node_pool_cidr: str | None = None
    node_pool_eip: str = "203.0.113.30"
    # Issue 12: (primary, secondary) zones of the region's transit routers; extra (CIDR, zone) vSwitches.
    tr_zones: tuple[str, ...] = ()
    extra_vswitches_a: tuple[tuple[str, str], ...] = ()
    extra_vswitches_b: tuple[tuple[str, str], ...] = ()
    cluster_name: str = "prod-a"
    cluster_type: str = "ManagedKubernetes"
    cluster_profile: str = "Default"
    cluster_spec: str = "ack.pro.small"
    k8s_version: str = "1.30.1-aliyun.1"
    cluster_state: str = "running"
    # Issue 13 item 1: when the cluster was made (ISO 8601; None: now) and whether account A has
    # authorized AliyunCSManagedAcrRole, which CS's addon precheck wants for clusters made since
    # 2023-04-03 (services/cs/precheck.py). The default account has, as after ACK's one-click grant.
    cluster_created: str | None = None
    acr_service_role: bool = True
    # Issue 13 item 8: how the addon config reads back and config_schema's shape (services/cs/readback.py).
    addon_readback: str = "exact"
    addon_schema_shape: str = "json-schema"
    instance_name: str = "acme"
    instance_spec: str = "Enterprise_Standard"
    instance_status: str = "RUNNING"
    vpc_link: bool = True                 # the instance's VPC endpoint linked to B's VPC
    namespace: str = "team"
    extra_tags: tuple[str, ...] = field(default=())

    def but(self, **changes) -> "Scenario":
        return replace(self, **changes)


VARIANTS: dict[str, Scenario] = {
    "default": Scenario(),
    "overlap": Scenario(vpc_b_cidr="192.168.0.0/16", vswitch_b_cidr="192.168.100.0/24"),
    "vpc-100": Scenario(vpc_a_cidr="100.72.0.0/16", node_vswitch_cidr="100.72.0.0/24",
                        pod_vswitch_cidr="100.72.8.0/22"),
    "basic": Scenario(cluster_spec="ack.standard"),
    "serverless": Scenario(cluster_type="ManagedKubernetes", cluster_profile="Serverless"),
    "old-k8s": Scenario(k8s_version="1.21.3-aliyun.1"),
    # Issue 13: a 1.28 cluster, whose kubelet writes the Pulled event without the image size.
    "k8s-1.28": Scenario(k8s_version="1.28.9-aliyun.1"),
    # Issue 13: a Pro cluster of an XL tier (cluster_spec values from the CS SDK doc).
    "pro-xl": Scenario(cluster_spec="ack.pro.xlarge"),
    # Issue 13 item 1: a cluster made after 2023-04-03 in an account without AliyunCSManagedAcrRole,
    # and one made before it (the addon installs without the role).
    "no-acr-service-role": Scenario(acr_service_role=False),
    "old-cluster": Scenario(acr_service_role=False, cluster_created="2022-11-08T03:00:00Z"),
    # Issue 13 item 8: the addon echoes schema defaults and keys of its own; a schema of another shape.
    "addon-defaults": Scenario(addon_readback="defaults"),
    "addon-schema-flat": Scenario(addon_schema_shape="flat"),
    "cluster-stopped": Scenario(cluster_state="stopped"),
    "instance-not-running": Scenario(instance_status="STARTING"),
    "cross-region": Scenario(region_b="cn-shanghai", zone_b="cn-shanghai-b"),
    "no-egress": Scenario(nat_gateway=False),
    "basic-edition": Scenario(instance_spec="Enterprise_Basic"),
    # Issue 12: nodes outside the cluster's vswitch_ids, with their own route table and SNAT EIP.
    "node-pools": Scenario(node_pool_cidr="192.168.32.0/24"),
    # Transit routers spanning two zones: B's VPC has vSwitches in both, or (missing) in one only.
    "cen-multizone": Scenario(tr_zones=("cn-hangzhou-h", "cn-hangzhou-i"),
                              extra_vswitches_a=(("192.168.64.0/24", "cn-hangzhou-i"),),
                              extra_vswitches_b=(("10.10.2.0/24", "cn-hangzhou-h"),)),
    "cen-multizone-missing": Scenario(tr_zones=("cn-hangzhou-h", "cn-hangzhou-i"),
                                      extra_vswitches_a=(("192.168.64.0/24", "cn-hangzhou-i"),)),
}


@dataclass(frozen=True)
class Seeded:
    """What the seeding made, for the state files and the tests."""

    account_a: str
    account_b: str
    cluster_id: str
    region_a: str
    region_b: str
    vpc_a: str
    node_vswitch: str
    pod_vswitch: str
    route_table_a: str
    vpc_b: str
    vswitch_b: str
    route_table_b: str
    instance_id: str
    instance_name: str
    vpc_endpoint_ip: str | None
    domain_public: str
    domain_vpc: str
    namespace: str
    image_repo: str
    image_tag: str
    image_size: int
    worker_role: str | None


def seed(world, scenario: Scenario, images: ImageStore) -> Seeded:
    a = world.add_account("cluster", scenario.region_a)
    b = world.add_account("registry", scenario.region_b)

    vpc_a_backend = world.backend("vpc", a.uid, scenario.region_a)
    vpc_a = vpc_a_backend.seed_vpc(scenario.vpc_a_cidr, secondary_cidrs=scenario.vpc_a_secondary, name="ack-vpc")
    node_vsw = vpc_a_backend.seed_vswitch(vpc_a.vpc_id, scenario.node_vswitch_cidr, scenario.zone_a, name="nodes")
    pod_vsw = vpc_a_backend.seed_vswitch(vpc_a.vpc_id, scenario.pod_vswitch_cidr, scenario.zone_a, name="pods")
    if scenario.nat_gateway:
        vpc_a_backend.seed_nat_gateway(vpc_a.vpc_id, node_vsw.vswitch_id, [scenario.egress_eip],
                                       [node_vsw.vswitch_id, pod_vsw.vswitch_id])

    cluster = world.backend("cs", a.uid, scenario.region_a).seed_cluster(
        scenario.cluster_name, cluster_type=scenario.cluster_type, profile=scenario.cluster_profile,
        cluster_spec=scenario.cluster_spec, version=scenario.k8s_version, state=scenario.cluster_state,
        vpc_id=vpc_a.vpc_id, vswitch_ids=[node_vsw.vswitch_id, pod_vsw.vswitch_id],
        created=parse_iso(scenario.cluster_created) if scenario.cluster_created else None)
    cluster.addon_readback, cluster.addon_schema_shape = scenario.addon_readback, scenario.addon_schema_shape
    if scenario.node_pool_cidr:
        scenario_seeds.seed_node_pool(world, scenario, a.uid, vpc_a.vpc_id, cluster)
    if scenario.acr_service_role:
        precheck.seed_role(world, a.uid)
    worker_role = getattr(cluster, "worker_ram_role_name", None)
    if worker_role:
        _seed_worker_role(world, a.uid, worker_role)

    vpc_b_backend = world.backend("vpc", b.uid, scenario.region_b)
    vpc_b = vpc_b_backend.seed_vpc(scenario.vpc_b_cidr, name="acr-vpc")
    vsw_b = vpc_b_backend.seed_vswitch(vpc_b.vpc_id, scenario.vswitch_b_cidr, scenario.zone_b, name="acr")
    if scenario.tr_zones:
        scenario_seeds.seed_tr_zones(world, scenario, a.uid, vpc_a.vpc_id, b.uid, vpc_b.vpc_id)

    cr = world.backend("cr", b.uid, scenario.region_b)
    instance = cr.seed_instance(scenario.instance_name, spec=scenario.instance_spec,
                                status=scenario.instance_status)
    endpoint_ip = None
    if scenario.vpc_link:
        endpoint_ip = _first_host(scenario.vswitch_b_cidr, offset=10)
        cr.seed_vpc_link(instance.instance_id, vpc_b.vpc_id, vsw_b.vswitch_id, endpoint_ip)
    cr.seed_namespace(instance.instance_id, scenario.namespace)
    seeded_images = images.seed_defaults(instance.instance_id, scenario.namespace)
    for repo in sorted({ref.rpartition(":")[0] for ref in seeded_images}):
        cr.seed_repository(instance.instance_id, scenario.namespace, repo.split("/", 1)[1], store=images)
    nginx_ref = next(ref for ref in seeded_images if ref.endswith("/nginx:v1"))
    return Seeded(
        account_a=a.uid, account_b=b.uid, cluster_id=cluster.cluster_id,
        region_a=scenario.region_a, region_b=scenario.region_b,
        vpc_a=vpc_a.vpc_id, node_vswitch=node_vsw.vswitch_id, pod_vswitch=pod_vsw.vswitch_id,
        route_table_a=node_vsw.route_table_id, vpc_b=vpc_b.vpc_id, vswitch_b=vsw_b.vswitch_id,
        route_table_b=vsw_b.route_table_id, instance_id=instance.instance_id,
        instance_name=scenario.instance_name, vpc_endpoint_ip=endpoint_ip,
        domain_public=f"{scenario.instance_name}-registry.{scenario.region_b}.cr.aliyuncs.com",
        domain_vpc=f"{scenario.instance_name}-registry-vpc.{scenario.region_b}.cr.aliyuncs.com",
        namespace=scenario.namespace, image_repo=nginx_ref.rpartition(":")[0], image_tag="v1",
        image_size=image_size(seeded_images[nginx_ref]), worker_role=worker_role)


def _seed_worker_role(world, account: str, name: str) -> None:
    """ACK creates the worker role with a trust policy for ECS; acrx never manages it."""
    import json

    trust = {"Version": "1", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                            "Principal": {"Service": ["ecs.aliyuncs.com"]}}]}
    world.backend("ram", account, "global").create_role(name, json.dumps(trust),
                                                        description="ACK worker role", max_session_duration=3600)


def _first_host(cidr: str, offset: int) -> str:
    import ipaddress

    return str(ipaddress.ip_network(cidr)[offset])
