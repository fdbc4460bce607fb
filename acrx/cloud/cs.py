"""CS / ACK (2015-12-15, ROA) in acrx vocabulary: the cluster, RRSA, tasks, addons, kubeconfig, and
the account's cluster list with tags (for the fleet's --cluster-selector)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from acrx.cloud import errors
from acrx.facts import TASK_DONE_STATES
from acrx.cloud.adapter import MAX_PAGES, CloudApi
from acrx.cloud.credentials import Secret

ADDON_NOT_FOUND_CODES = ("AddonNotFound", "ErrorAddonNotFound", "ErrorAddonInstanceNotFound")
# DescribeClustersV1 pages: the API doc gives no maximum page_size [?]; 50 is what a published
# client asks for (Steampipe's alicloud plugin, listCsKubernetesClusters), well inside any limit.
LIST_PAGE_SIZE = 50


@dataclass(frozen=True)
class ListedCluster:
    """One row of DescribeClustersV1: enough to select clusters by their ACK tags."""
    id: str
    name: str
    region: str
    tags: dict = field(default_factory=dict, hash=False)   # key -> value, as ACK holds them


@dataclass(frozen=True)
class RrsaConfig:
    enabled: bool
    issuer: str | None          # the FIRST of the comma-separated issuers the API returns
    audience: str | None
    oidc_arn: str | None
    oidc_name: str | None
    all_issuers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cluster:
    id: str
    name: str
    type: str                   # ManagedKubernetes | Kubernetes | ExternalKubernetes | ...
    profile: str                # Default | Edge | Serverless | Acs ...
    spec: str                   # ack.standard | ack.pro.small ...
    version: str
    state: str
    region: str
    vpc_id: str
    vswitch_ids: tuple[str, ...]
    worker_ram_role_name: str | None
    rrsa: RrsaConfig | None
    created: str | None = None  # DescribeClusterDetail `created` (ISO 8601): the addon's service role depends on it


# Task states that end a task (facts.TASK_DONE_STATES, with their sources). Without `timeout` and
# `canceled` a task ending so would be waited on until acrx's own budget ran out.
TASK_TERMINAL_STATES = TASK_DONE_STATES
# A cluster is ready for the next change only when `running`: after ModifyCluster ack-ram-tool
# waits for the task AND for state == running (pkg/ctl/rrsa/common/common.go WaitClusterUpdateFinished).
CLUSTER_READY_STATE = "running"


@dataclass(frozen=True)
class Task:
    id: str
    state: str                  # running | success | fail | timeout | canceled (as the API says)
    error_code: str | None = None
    error_message: str | None = None
    task_type: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in TASK_TERMINAL_STATES

    @property
    def succeeded(self) -> bool:
        return self.state == "success"


@dataclass(frozen=True)
class AddonInstance:
    name: str
    version: str
    state: str
    config: str | None = None   # the JSON string the addon was given


@dataclass(frozen=True)
class AddonInfo:
    name: str
    version: str
    config_schema: dict = field(default_factory=dict)
    newer_versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kubeconfig:
    text: Secret                # holds credentials: wrapped
    expiration: str | None


def _rrsa(raw: dict) -> RrsaConfig | None:
    config = raw.get("rrsa_config")
    if not config:
        # Older clusters carry RRSA only inside meta_data (a JSON string) as RRSAConfig.
        try:
            config = (json.loads(raw.get("meta_data") or "{}") or {}).get("RRSAConfig")
        except (TypeError, ValueError):
            config = None
    if not config:
        return None
    issuers = tuple(i.strip() for i in str(config.get("issuer") or "").split(",") if i.strip())
    return RrsaConfig(enabled=bool(config.get("enabled")), issuer=issuers[0] if issuers else None,
                      audience=config.get("audience"), oidc_arn=config.get("oidc_arn") or None,
                      oidc_name=config.get("oidc_name") or None, all_issuers=issuers)


def _cluster(raw: dict, region: str) -> Cluster:
    vswitches = raw.get("vswitch_ids") or []
    if isinstance(vswitches, str):
        vswitches = [v for v in vswitches.split(",") if v]
    return Cluster(id=raw.get("cluster_id", ""), name=raw.get("name", ""), type=raw.get("cluster_type", ""),
                   profile=raw.get("profile") or "Default", spec=raw.get("cluster_spec") or "",
                   version=raw.get("current_version", ""), state=raw.get("state", ""),
                   region=raw.get("region_id") or region, vpc_id=raw.get("vpc_id", ""),
                   vswitch_ids=tuple(vswitches), worker_ram_role_name=raw.get("worker_ram_role_name") or None,
                   rrsa=_rrsa(raw), created=raw.get("created") or None)


class CsApi(CloudApi):
    """ROA calls take path parameters positionally, then the request, then a headers map."""

    PRODUCT = "cs"
    MODELS = "alibabacloud_cs20151215.models"

    def describe_cluster(self, cluster_id: str) -> Cluster:
        body = self._call("DescribeClusterDetail", "describe_cluster_detail_with_options", cluster_id, {},
                          idempotent=True)
        return _cluster(body, self.region)

    def list_clusters(self) -> list[ListedCluster]:
        """Every cluster of the account in this adapter's region, with its tags: DescribeClustersV1
        (GET /api/v1/clusters, region_id filter), page after page (page_info.total_count)."""
        m = self._m()

        def request(page: int):
            return m.DescribeClustersV1Request(region_id=self.region, page_number=page, page_size=LIST_PAGE_SIZE)

        out = []
        for page in range(1, MAX_PAGES + 1):
            body = self._call("DescribeClustersV1", "describe_clusters_v1with_options", request(page), {},
                              idempotent=True)
            batch = body.get("clusters") or []
            out += [ListedCluster(id=c.get("cluster_id", ""), name=c.get("name", ""),
                                  region=c.get("region_id") or self.region,
                                  tags={str(t.get("key")): str(t.get("value") or "") for t in c.get("tags") or []
                                        if isinstance(t, dict) and t.get("key")})
                    for c in batch]
            total = int((body.get("page_info") or {}).get("total_count") or 0)
            if len(batch) < LIST_PAGE_SIZE or (total and len(out) >= total):
                break
        return out

    def cluster_if_running(self, cluster_id: str) -> Cluster | None:
        """The cluster when its state is `running` again, else None (a poll for wait_until)."""
        cluster = self.describe_cluster(cluster_id)
        return cluster if cluster.state == CLUSTER_READY_STATE else None

    def finished_task(self, task_id: str) -> Task | None:
        """The task once it reached a terminal state, else None (a poll for wait_until)."""
        task = self.describe_task(task_id)
        return task if task.finished else None

    def modify_rrsa(self, cluster_id: str, enabled: bool) -> str:
        """Turn RRSA on or off; returns the task id to wait on."""
        req = self._m().ModifyClusterRequest(enable_rrsa=enabled)
        # Asking for the state RRSA should end in is idempotent.
        body = self._call("ModifyCluster", "modify_cluster_with_options", cluster_id, req, {}, idempotent=True)
        return body.get("task_id", "")

    def describe_task(self, task_id: str) -> Task:
        body = self._call("DescribeTaskInfo", "describe_task_info_with_options", task_id, {}, idempotent=True)
        error = body.get("error") or {}
        return Task(id=body.get("task_id") or task_id, state=str(body.get("state", "")).lower(),
                    error_code=error.get("code"), error_message=error.get("message"),
                    task_type=body.get("task_type"))

    def install_addons(self, cluster_id: str, addons: list[dict]) -> str:
        """addons: [{name, version?, config?: JSON string}]; returns the task id."""
        m = self._m()
        body = [m.InstallClusterAddonsRequestBody(name=a["name"], version=a.get("version") or None,
                                                  config=a.get("config")) for a in addons]
        names = {a["name"] for a in addons}

        def installed() -> dict | None:
            # a lost answer: the addons listed means the install was taken; the caller then waits
            # for them to settle instead of for a task whose id never arrived
            present = {a.name for a in self.list_addon_instances(cluster_id)}
            return {"task_id": ""} if names <= present else None

        out = self._create("InstallClusterAddons", "install_cluster_addons_with_options", cluster_id,
                           m.InstallClusterAddonsRequest(body=body), {}, confirm=installed)
        return out.get("task_id", "")

    def uninstall_addons(self, cluster_id: str, names: list[str]) -> str:
        m = self._m()
        req = m.UnInstallClusterAddonsRequest(addons=[m.UnInstallClusterAddonsRequestAddons(name=n) for n in names])
        out = self._call("UnInstallClusterAddons", "un_install_cluster_addons_with_options", cluster_id, req, {})
        return out.get("task_id", "")

    def list_addon_instances(self, cluster_id: str) -> list[AddonInstance]:
        body = self._call("ListClusterAddonInstances", "list_cluster_addon_instances_with_options", cluster_id, {},
                          idempotent=True)
        return [AddonInstance(a.get("name", ""), a.get("version", ""), a.get("state", ""))
                for a in body.get("addons") or []]

    def get_addon_instance(self, cluster_id: str, name: str) -> AddonInstance | None:
        try:
            body = self._call("GetClusterAddonInstance", "get_cluster_addon_instance_with_options",
                              cluster_id, name, {}, idempotent=True)
        except Exception as exc:
            if getattr(exc, "code", None) in ADDON_NOT_FOUND_CODES or errors.is_not_found(exc):
                return None
            raise
        return AddonInstance(body.get("name") or name, body.get("version", ""), body.get("state", ""),
                             body.get("config"))

    def describe_addon(self, name: str, *, cluster_id: str | None = None, version: str | None = None) -> AddonInfo:
        req = self._m().DescribeAddonRequest(cluster_id=cluster_id, region_id=None if cluster_id else self.region,
                                             version=version)
        body = self._call("DescribeAddon", "describe_addon_with_options", name, req, {}, idempotent=True)
        schema = body.get("config_schema") or {}
        if isinstance(schema, str):
            try:
                schema = json.loads(schema) if schema.strip() else {}
            except ValueError:
                schema = {}
        newer = tuple(v.get("version", "") if isinstance(v, dict) else str(v) for v in body.get("newer_versions") or [])
        return AddonInfo(body.get("name") or name, body.get("version", ""), schema, newer)

    def modify_addon_config(self, cluster_id: str, name: str, config: str) -> None:
        """Replace the addon's config (a JSON string); the addon goes `updating` then `active`."""
        req = self._m().ModifyClusterAddonRequest(config=config)
        # Setting a whole config to a given value is idempotent.
        self._call("ModifyClusterAddon", "modify_cluster_addon_with_options", cluster_id, name, req, {},
                   idempotent=True)

    def user_kubeconfig(self, cluster_id: str, *, private: bool = False, minutes: int | None = None) -> Kubeconfig:
        req = self._m().DescribeClusterUserKubeconfigRequest(private_ip_address=private,
                                                             temporary_duration_minutes=minutes)
        body = self._call("DescribeClusterUserKubeconfig", "describe_cluster_user_kubeconfig_with_options",
                          cluster_id, req, {}, idempotent=True)
        return Kubeconfig(Secret(body.get("config") or ""), body.get("expiration"))

    def node_pool_vswitch_ids(self, cluster_id: str) -> list[str]:
        """The vSwitches of every node pool (DescribeClusterNodePools `scaling_group.vswitch_ids`):
        where the nodes are. DescribeClusterDetail's `vswitch_ids` are the control plane's."""
        body = self._call("DescribeClusterNodePools", "describe_cluster_node_pools_with_options", cluster_id,
                          self._m().DescribeClusterNodePoolsRequest(), {}, idempotent=True)
        ids = [v for pool in body.get("nodepools") or [] for v in (pool.get("scaling_group") or {}).get("vswitch_ids") or []]
        return list(dict.fromkeys(ids))
