"""The fleet scenario (issue 16): one registry account and ACR EE instance, N ACK clusters spread
over K cluster accounts and two regions, each cluster with its own VPC, NAT EIP and worker role.

`FleetSandbox` is a `Sandbox` whose world holds the whole fleet and whose `start` runs a
Kubernetes API (with the credential helper and a kubelet) per cluster. Its `config()` is a fleet
acrx.yaml (`clusters:`) with mixed modes and networks: clusters in the registry's region take
peering, public and cen in turn; the others public, since a private pull across regions is
refused (the layers come from the registry region's OSS internal endpoint, docs/network.md).
The clusters carry ACK tags (`cluster_tags`), which --cluster-selector reads with
DescribeClustersV1; the config holds none.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from acrx.sandbox.app import Sandbox, _write_private, env_prefix, env_values
from acrx.sandbox.core.world import World
from acrx.sandbox.kube.cluster import SandboxCluster
from acrx.sandbox.registry.images import ImageStore, image_size
from acrx.sandbox.services.cs import precheck

REGISTRY_REGION, REGISTRY_ZONE = "cn-hangzhou", "cn-hangzhou-i"
OTHER_REGION, OTHER_ZONE = "cn-shanghai", "cn-shanghai-b"
LOCAL_NETWORKS = ("peering", "public", "cen")
MODES = ("rrsa", "worker-role")
TEAMS = ("payments", "search", "platform")
MAX_CLUSTERS = 150   # one 10.(100+i).0.0/16 per cluster; 10.10.0.0/16 is the registry's


@dataclass(frozen=True)
class FleetCluster:
    cluster_id: str
    name: str
    account_alias: str
    account_uid: str
    region: str
    vpc_id: str
    egress_ip: str
    mode: str
    network: str
    tags: dict           # the cluster's ACK tags, as seeded (not written into the config)


@dataclass(frozen=True)
class FleetSeeded:
    account_b: str
    region_b: str
    vpc_b: str
    instance_id: str
    instance_name: str
    domain_public: str
    domain_vpc: str
    namespace: str
    image_repo: str
    image_tag: str
    image_size: int
    clusters: tuple[FleetCluster, ...]
    cluster_accounts: tuple[str, ...]   # aliases

    @property
    def cluster_id(self) -> str:   # the first cluster, for code that expects one
        return self.clusters[0].cluster_id


def cluster_tags(i: int) -> dict:
    """The ACK tags the i-th cluster is seeded with (DescribeClustersV1 answers them; the fleet
    config does not repeat them): env alternates prod/staging, team cycles over three teams."""
    return {"env": "prod" if i % 2 == 0 else "staging", "team": TEAMS[i % len(TEAMS)]}


def _egress_ip(i: int) -> str:
    # TEST-NET-3 then TEST-NET-2: never real addresses
    return f"203.0.113.{100 + i}" if i < 150 else f"198.51.100.{i - 150 + 1}"


def seed_fleet(world: World, images: ImageStore, clusters: int, accounts: int) -> FleetSeeded:
    if not 1 <= clusters <= MAX_CLUSTERS:
        raise ValueError(f"--clusters must be between 1 and {MAX_CLUSTERS}, not {clusters}")
    if not 1 <= accounts <= clusters:
        raise ValueError(f"--accounts must be between 1 and the number of clusters ({clusters}), not {accounts}")
    b = world.add_account("registry", REGISTRY_REGION)
    vpc_b_backend = world.backend("vpc", b.uid, REGISTRY_REGION)
    vpc_b = vpc_b_backend.seed_vpc("10.10.0.0/16", name="acr-vpc")
    vsw_b = vpc_b_backend.seed_vswitch(vpc_b.vpc_id, "10.10.1.0/24", REGISTRY_ZONE, name="acr")
    cr = world.backend("cr", b.uid, REGISTRY_REGION)
    instance = cr.seed_instance("acme", spec="Enterprise_Advanced", status="RUNNING")
    cr.seed_vpc_link(instance.instance_id, vpc_b.vpc_id, vsw_b.vswitch_id, "10.10.1.10")
    cr.seed_namespace(instance.instance_id, "team")
    seeded_images = images.seed_defaults(instance.instance_id, "team")
    for repo in sorted({ref.rpartition(":")[0] for ref in seeded_images}):
        cr.seed_repository(instance.instance_id, "team", repo.split("/", 1)[1], store=images)
    nginx_ref = next(ref for ref in seeded_images if ref.endswith("/nginx:v1"))

    account_objs = []
    for k in range(accounts):
        account = world.add_account(f"cluster-{k + 1}", REGISTRY_REGION)
        precheck.seed_role(world, account.uid)   # AliyunCSManagedAcrRole granted, as after ACK's one-click grant
        account_objs.append(account)
    made, locals_made = [], 0
    for i in range(clusters):
        account = account_objs[i % accounts]
        local = i % 3 != 2   # two clusters in three in the registry's region
        region, zone = (REGISTRY_REGION, "cn-hangzhou-h") if local else (OTHER_REGION, OTHER_ZONE)
        cidr = ipaddress.ip_network(f"10.{100 + i}.0.0/16")
        nodes, pods = str(list(cidr.subnets(new_prefix=24))[0]), str(list(cidr.subnets(new_prefix=22))[2])
        vpc_backend = world.backend("vpc", account.uid, region)
        vpc = vpc_backend.seed_vpc(str(cidr), name=f"ack-vpc-{i + 1}")
        node_vsw = vpc_backend.seed_vswitch(vpc.vpc_id, nodes, zone, name="nodes")
        pod_vsw = vpc_backend.seed_vswitch(vpc.vpc_id, pods, zone, name="pods")
        egress = _egress_ip(i)
        vpc_backend.seed_nat_gateway(vpc.vpc_id, node_vsw.vswitch_id, [egress], [node_vsw.vswitch_id, pod_vsw.vswitch_id])
        name = f"fleet-{i + 1:03d}"
        tags = cluster_tags(i)
        cluster = world.backend("cs", account.uid, region).seed_cluster(
            name, vpc_id=vpc.vpc_id, vswitch_ids=[node_vsw.vswitch_id, pod_vsw.vswitch_id], tags=tags)
        _seed_worker_role(world, account.uid, cluster.worker_ram_role_name)
        network = LOCAL_NETWORKS[locals_made % len(LOCAL_NETWORKS)] if local else "public"
        locals_made += local
        made.append(FleetCluster(cluster.cluster_id, name, account.alias, account.uid, region, vpc.vpc_id, egress,
                                 MODES[i % len(MODES)], network, tags))
    return FleetSeeded(
        account_b=b.uid, region_b=REGISTRY_REGION, vpc_b=vpc_b.vpc_id, instance_id=instance.instance_id,
        instance_name="acme", domain_public=f"acme-registry.{REGISTRY_REGION}.cr.aliyuncs.com",
        domain_vpc=f"acme-registry-vpc.{REGISTRY_REGION}.cr.aliyuncs.com", namespace="team",
        image_repo=nginx_ref.rpartition(":")[0], image_tag="v1", image_size=image_size(seeded_images[nginx_ref]),
        clusters=tuple(made), cluster_accounts=tuple(a.alias for a in account_objs))


def _seed_worker_role(world, account: str, name: str) -> None:
    """ACK creates the worker role with a trust policy for ECS; acrx never manages it."""
    import json

    trust = {"Version": "1", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                            "Principal": {"Service": ["ecs.aliyuncs.com"]}}]}
    world.backend("ram", account, "global").create_role(name, json.dumps(trust),
                                                        description="ACK worker role", max_session_duration=3600)


class FleetSandbox(Sandbox):
    """A Sandbox seeded with a fleet (see the module doc)."""

    def __init__(self, clusters: int = 5, accounts: int = 2, *, clock_scale: float = 0.0,
                 reconcile_interval_s: float = 0.5, rate_limits: bool = True):
        import secrets

        from acrx.sandbox.core.qps import FLEET_LIMITS

        self.scenario = None
        self.world = World(seed=0, clock_scale=clock_scale)
        self.images = ImageStore()
        self.seeded = seed_fleet(self.world, self.images, clusters, accounts)
        if rate_limits:   # per-account, per-API QPS limits on (core/qps.py: sources and assumptions)
            self.world.knobs.qps_limits = dict(FLEET_LIMITS)
        self.reconcile_interval_s = reconcile_interval_s
        self.cloud = None
        self.registry = None
        self.clusters: dict[str, SandboxCluster] = {}
        self.runtimes: dict[str, object] = {}
        self.control_secret = secrets.token_urlsafe(32)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> "FleetSandbox":
        from acrx.sandbox.core.server import CloudServer
        from acrx.sandbox.kube.runtime import ClusterRuntime
        from acrx.sandbox.registry.server import RegistryServer
        from acrx.sandbox.services.cr.registry_auth import CrRegistryAuth

        self.cloud = CloudServer(self.world, control_secret=self.control_secret).start(host, port)
        auth = CrRegistryAuth(self.world)
        self.registry = RegistryServer(self.images, auth, auth.instance_for_host, auth.region_for_instance,
                                       clock=self.world.clock.now).start(host)
        self.world.hooks["kubeconfig"] = lambda cluster_id, private=False: self.clusters[cluster_id].kubeconfig_yaml()
        self.world.hooks["registry_url"] = self.registry.url
        for fc in self.seeded.clusters:
            cluster = SandboxCluster(fc.cluster_id).start(host)
            self.clusters[fc.cluster_id] = cluster
            runtime = ClusterRuntime(self.world, fc.cluster_id, cluster, self.cloud.endpoint, self.registry,
                                     reconcile_interval_s=self.reconcile_interval_s)
            runtime.start()
            self.runtimes[fc.cluster_id] = runtime
        return self

    def env(self) -> dict[str, str]:
        return env_values(self, ("registry", *self.seeded.cluster_accounts))

    def config(self, mode: str | None = None, network: str | None = None) -> dict:
        """A fleet acrx.yaml (clusters:) for the seeded world; credentials by env-var name only.
        `mode`/`network` given: every cluster takes them instead of the mixed ones."""
        s = self.seeded

        def account(alias: str) -> dict:
            prefix = env_prefix(alias)
            return {"uid": self.world.account_by_alias(alias).uid,
                    "env": {"access_key_id": f"{prefix}_ACCESS_KEY_ID", "access_key_secret": f"{prefix}_ACCESS_KEY_SECRET"}}

        clusters = []
        for c in s.clusters:
            net = network or c.network
            domain = s.domain_public if net == "public" else s.domain_vpc
            clusters.append({"account": c.account_alias, "id": c.cluster_id, "region": c.region, "name": c.name,
                             "mode": mode or c.mode, "network": {"mode": net},
                             "verify": {"image": f"{domain}/{s.image_repo}:{s.image_tag}"}})
        return {
            "version": 1,
            "accounts": {alias: account(alias) for alias in ("registry", *s.cluster_accounts)},
            "clusters": clusters,
            "registries": [{"account": "registry", "instance_id": s.instance_id, "region": s.region_b,
                            "instance_name": s.instance_name}],
        }

    def write_state(self, state_dir, *, mode: str | None = None, network: str | None = None) -> None:
        import yaml

        state_dir.mkdir(parents=True, exist_ok=True)
        _write_private(state_dir / "sandbox.env", "".join(f"export {k}={v}\n" for k, v in self.env().items()))
        _write_private(state_dir / "kubeconfig", self.cluster.kubeconfig_yaml())   # the first cluster's
        header = "# a fleet acrx.yaml for the sandbox world; credentials come from sandbox.env (acrx --sandbox DIR)\n"
        (state_dir / "acrx.yaml").write_text(header + yaml.safe_dump(self.config(mode, network), sort_keys=False))
