"""CS (ACK) state: clusters, their tasks, and RRSA. Addon lifecycles live in models_addons.py.

Slow work is a `Task` holding a SlowOp; nothing runs in the background. Every read goes through
`Cluster.settle()`, which applies each finished task's effects exactly once, in start order.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Callable

from acrx.sandbox.core import slowop
from acrx.sandbox.core.errors import ApiError
from acrx.sandbox.core.oidc import SigningKey

RRSA_AUDIENCE = "sts.aliyuncs.com"
RRSA_SECONDS = 60            # observed: enabling RRSA takes about a minute
# After the ModifyCluster task the cluster is still `updating` for a while: ack-ram-tool sleeps
# 30 s after the task and then waits for state == running (pkg/ctl/rrsa/enable/enable.go,
# pkg/ctl/rrsa/common/common.go WaitClusterUpdateFinished). [?] the real duration; 30 s is ART's.
CLUSTER_SETTLE_SECONDS = 30
# Task states the cloud may end in besides success/fail: ack-ram-tool pkg/types/cluster.go:91
# treats `timeout` and `canceled` as terminal. The error body of those is [?] (never seen).
EXTRA_TASK_OUTCOMES = ("timeout", "canceled")
MAX_OIDC_TOKEN_EXPIRATION = "12h"  # documented cap of service-account tokens once RRSA is on

# Error codes. ErrorClusterNotFound is seen in public tooling; the others are [?] (no
# authoritative CS code list was found), chosen to name the cause.
CLUSTER_NOT_FOUND = "ErrorClusterNotFound"
CLUSTER_NOT_RUNNING = "ErrorClusterStateNotRunning"        # [?]
CLUSTER_TYPE_NOT_SUPPORTED = "ErrorClusterTypeNotSupported"  # [?]
CLUSTER_NOT_READY = "ErrorClusterNotReady"                  # [?] kubeconfig before the cluster API exists
TASK_NOT_FOUND = "ErrorTaskNotFound"                        # [?]


def _rrsa_issuer(region: str, cluster_id: str) -> str:
    # Pattern from the RRSA docs (likely): the OIDC discovery files live in an OSS bucket.
    return f"https://oidc-ack-{region}.oss-{region}.aliyuncs.com/{cluster_id}"


@dataclass
class Task:
    task_id: str
    cluster_id: str
    task_type: str
    op: slowop.SlowOp
    created: float
    on_success: Callable[[], None] = field(repr=False, default=lambda: None)
    on_fail: Callable[[], None] = field(repr=False, default=lambda: None)
    blocks_cluster: bool = False     # the cluster shows "updating" while it runs
    applied: bool = False
    outcome: str | None = None       # "timeout" | "canceled": how it ends instead of success/fail

    def state(self) -> str:
        state = self.op.state()
        return self.outcome if self.outcome and state != slowop.RUNNING else state


@dataclass
class Cluster:
    cluster_id: str
    name: str
    account: str
    region: str
    cluster_type: str
    profile: str
    cluster_spec: str
    current_version: str
    base_state: str
    vpc_id: str
    vswitch_ids: list[str]
    worker_ram_role_name: str | None
    created: float
    signing_key: SigningKey = field(repr=False)
    world: object = field(repr=False, default=None)
    rrsa_enabled: bool = False
    rrsa_enabled_at: float | None = None
    addons: dict = field(default_factory=dict)      # name -> AddonInstance (models_addons)
    tasks: list[Task] = field(default_factory=list)
    updating_until: float = 0.0      # sandbox clock: `updating` after a ModifyCluster task
    # Knob (tests): task kind -> "timeout" | "canceled", how the next tasks of that kind end.
    task_outcomes: dict = field(default_factory=dict)
    # Knobs (readback.py): how the addon config reads back, and the shape of config_schema.
    addon_readback: str = "exact"
    addon_schema_shape: str = "json-schema"
    tags: dict = field(default_factory=dict)   # key -> value (listing.py: DescribeClustersV1, TagResources)

    # -- lazy state machine ---------------------------------------------------------------
    def settle(self) -> None:
        """Apply the effects of every task that has finished since the last read, once."""
        for task in self.tasks:
            if task.applied or not task.op.finished:
                continue
            task.applied = True
            (task.on_success if task.state() == slowop.SUCCESS else task.on_fail)()
            if task.blocks_cluster:
                self.updating_until = max(self.updating_until, self.world.clock.ready_at(CLUSTER_SETTLE_SECONDS))

    @property
    def state(self) -> str:
        self.settle()
        if any(t.blocks_cluster and not t.applied for t in self.tasks):
            return "updating"
        if self.world is not None and self.world.clock.now() < self.updating_until:
            return "updating"
        return self.base_state

    def start_task(self, kind: str, task_type: str, seconds: float, *, on_success, on_fail=lambda: None,
                   blocks_cluster: bool = False, error: tuple[str, str] | None = None) -> Task:
        op = slowop.start(self.world, kind, seconds, error=error)
        task = Task(task_id="T-" + self.world.ids.hex(24), cluster_id=self.cluster_id, task_type=task_type,
                    op=op, created=self.world.clock.now(), on_success=on_success, on_fail=on_fail,
                    blocks_cluster=blocks_cluster, outcome=self.task_outcomes.get(kind))
        self.tasks.append(task)
        self.settle()   # at clock scale 0 the work is done before the caller reads again
        return task

    # -- RRSA -----------------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return _rrsa_issuer(self.region, self.cluster_id)

    @property
    def oidc_name(self) -> str:
        return f"ack-rrsa-{self.cluster_id}"

    @property
    def oidc_arn(self) -> str:
        return f"acs:ram::{self.account}:oidc-provider/{self.oidc_name}"

    def rrsa_config(self) -> dict:
        if not self.rrsa_enabled:
            return {"enabled": False}
        return {
            "enabled": True,
            # The first element is the OIDC issuer; the in-cluster names follow (documented).
            "issuer": f"{self.issuer},https://kubernetes.default.svc,kubernetes.default.svc",
            "audience": RRSA_AUDIENCE,
            "oidc_name": self.oidc_name,
            "oidc_arn": self.oidc_arn,
            "jwks_url": f"{self.issuer}/keys.json",  # [?] file name in the OSS bucket
            "open_api_configuration_url": f"{self.issuer}/.well-known/openid-configuration",
            "max_oidc_token_expiration": MAX_OIDC_TOKEN_EXPIRATION,
        }

    def meta_data(self) -> str:
        rrsa = self.rrsa_config()
        meta = {
            "Addons": [{"name": a.name, "version": a.version} for a in self.addons.values()],
            "KubernetesVersion": self.current_version,
            "RRSAConfig": {key: rrsa.get(key, False if key == "enabled" else "")
                           for key in ("enabled", "issuer", "audience", "oidc_name", "oidc_arn")},
        }
        return json.dumps(meta)

    def _apply_rrsa(self, enable: bool) -> None:
        ram = _ram_backend(self.world, self.account)
        if enable:
            if ram is not None:
                try:
                    ram.create_oidc_provider(self.oidc_name, self.issuer, client_ids=[RRSA_AUDIENCE])
                except ApiError as err:
                    if "EntityAlreadyExists" not in err.code:   # re-enabling keeps the provider
                        raise
            self.world.oidc.publish(self.issuer, self.signing_key)
            self.rrsa_enabled, self.rrsa_enabled_at = True, self.world.clock.now()
        else:
            if ram is not None and hasattr(ram, "delete_oidc_provider"):
                ram.delete_oidc_provider(self.oidc_name)
            self.world.oidc.unpublish(self.issuer)
            self.rrsa_enabled, self.rrsa_enabled_at = False, None

    def modify(self, enable_rrsa: bool | None) -> Task:
        if self.cluster_type != "ManagedKubernetes":
            raise ApiError(CLUSTER_TYPE_NOT_SUPPORTED,
                           f"ModifyCluster enable_rrsa is only supported on ACK managed clusters, not {self.cluster_type}.", 400)
        if self.state != "running":
            raise ApiError(CLUSTER_NOT_RUNNING, f"Cluster {self.cluster_id} is in state {self.state}, not running.", 400)
        if enable_rrsa is None or enable_rrsa == self.rrsa_enabled:
            # Nothing to change: the cloud still answers with a task, which succeeds at once.
            return self.start_task("cluster_update", "cluster_update", 0, on_success=lambda: None)
        return self.start_task("rrsa", "cluster_update", RRSA_SECONDS, blocks_cluster=True,
                               on_success=lambda: self._apply_rrsa(enable_rrsa),
                               error=("RRSA.EnableFailed", "Failed to update RRSA config of the cluster."))

    # -- kubeconfig -----------------------------------------------------------------------
    def user_kubeconfig(self, private: bool, minutes: int | None) -> dict:
        hook = self.world.hooks.get("kubeconfig")
        if hook is None or self.state in ("failed", "deleting", "deleted"):
            # Without a sandbox cluster API behind it there is nothing to point a kubeconfig
            # at; the cloud answers likewise for a cluster whose API server is not up.
            raise ApiError(CLUSTER_NOT_READY, f"The API server of cluster {self.cluster_id} is not ready.", 400)
        text = hook(self.cluster_id, private)
        # The default kubeconfig lives three years; a temporary one the requested minutes.
        expires = self.world.clock.now() + (minutes * 60 if minutes else 3 * 365 * 86400)
        return {"config": text, "expiration": self.world.clock.iso(expires)}


def _ram_backend(world, account: str):
    """RAM's backend when that service is built, else None (RAM provides create_oidc_provider)."""
    try:
        ram = world.backend("ram", account, "global")
    except ModuleNotFoundError:
        return None
    return ram if hasattr(ram, "create_oidc_provider") else None


class Backend:
    """Clusters of one account in one region."""

    def __init__(self, world, account: str, region: str):
        self.world = world
        self.account = account
        self.region = region
        self.clusters: dict[str, Cluster] = {}

    def seed_cluster(self, name: str, *, cluster_type: str = "ManagedKubernetes", profile: str = "Default",
                     cluster_spec: str = "ack.pro.small", version: str = "1.30.1-aliyun.1",
                     state: str = "running", vpc_id: str, vswitch_ids: list[str],
                     worker_ram_role_name: str | None = None, created: float | None = None,
                     tags: dict | None = None) -> Cluster:
        """Variants: Basic (cluster_spec="ack.standard"), Serverless (profile="Serverless"),
        Edge (profile="Edge"), dedicated (cluster_type="Kubernetes", cluster_spec="")."""
        cluster_id = "c" + self.world.ids.hex(32)
        if worker_ram_role_name is None and profile != "Serverless":  # Serverless has no worker nodes
            worker_ram_role_name = f"KubernetesWorkerRole-{uuid.UUID(self.world.ids.hex(32))}"
        cluster = Cluster(cluster_id=cluster_id, name=name, account=self.account, region=self.region,
                          cluster_type=cluster_type, profile=profile, cluster_spec=cluster_spec,
                          current_version=version, base_state=state, vpc_id=vpc_id,
                          vswitch_ids=list(vswitch_ids), worker_ram_role_name=worker_ram_role_name,
                          created=self.world.clock.now() if created is None else created,
                          signing_key=SigningKey(), world=self.world,
                          tags={str(k): str(v) for k, v in (tags or {}).items()})
        self.clusters[cluster_id] = cluster
        return cluster

    def find_task(self, task_id: str) -> Task | None:
        for cluster in self.clusters.values():
            cluster.settle()
            for task in cluster.tasks:
                if task.task_id == task_id:
                    return task
        return None


# -- lookups across the world (clusters are addressed by id alone on the wire) -----------------
def find_cluster(world, cluster_id: str) -> Cluster | None:
    for backend in world.backends("cs"):
        cluster = backend.clusters.get(cluster_id)
        if cluster is not None:
            cluster.settle()
            return cluster
    return None


def owned_cluster(world, account: str, cluster_id: str) -> Cluster:
    """The caller's cluster; another account's cluster is as unknown as a missing one."""
    cluster = find_cluster(world, cluster_id)
    if cluster is None or cluster.account != account:
        raise ApiError(CLUSTER_NOT_FOUND, f"cluster {cluster_id} not found", 404)
    return cluster


def owned_task(world, account: str, task_id: str) -> tuple[Task, Cluster]:
    for backend in world.backends("cs"):
        if backend.account != account:
            continue
        task = backend.find_task(task_id)
        if task is not None:
            return task, backend.clusters[task.cluster_id]
    raise ApiError(TASK_NOT_FOUND, f"task {task_id} not found", 404)


def describe_task(task: Task, cluster: Cluster, world) -> dict:
    cluster.settle()
    state = task.state()
    body = {
        "task_id": task.task_id, "cluster_id": task.cluster_id, "task_type": task.task_type, "state": state,
        "created": world.clock.iso(task.created),
        "updated": world.clock.iso(task.op.ready_at if state != slowop.RUNNING else world.clock.now()),
        "target": {"id": task.cluster_id, "type": "cluster"},
        "stages": [], "events": [],
        "task_result": [{"data": task.cluster_id, "status": "success" if state == slowop.SUCCESS else state}],
    }
    if state == slowop.FAIL:
        code, message = task.op.error or ("TaskFailed", "The task failed.")
        body["error"] = {"code": code, "message": message}
    elif state in EXTRA_TASK_OUTCOMES:   # [?] code and message: never seen on the wire
        body["error"] = {"code": f"Task{state.capitalize()}", "message": f"The task ended: {state}."}
    return body


def describe_cluster(cluster: Cluster, world) -> dict:
    state = cluster.state
    return {
        "cluster_id": cluster.cluster_id, "name": cluster.name, "region_id": cluster.region,
        "cluster_type": cluster.cluster_type, "profile": cluster.profile, "cluster_spec": cluster.cluster_spec,
        "current_version": cluster.current_version, "init_version": cluster.current_version,
        "state": state, "size": 2 if cluster.profile != "Serverless" else 0,
        "vpc_id": cluster.vpc_id, "vswitch_ids": list(cluster.vswitch_ids),
        "vswitch_id": ",".join(cluster.vswitch_ids), "network_mode": "vpc",
        "worker_ram_role_name": cluster.worker_ram_role_name or "",
        "created": world.clock.iso(cluster.created), "updated": world.clock.iso(),
        "deletion_protection": False, "resource_group_id": "",
        "tags": [{"key": k, "value": v} for k, v in cluster.tags.items()],   # the SDK's Tag model
        "meta_data": cluster.meta_data(), "rrsa_config": cluster.rrsa_config(),
    }
