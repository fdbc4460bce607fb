"""A controller that behaves like aliyun-acr-credential-helper, inside one sandbox cluster.

Active while the sandbox cloud shows one of its addons on the cluster:
- managed (`managed-aliyun-acr-credential-helper`): settings from the addon config; it runs on
  the control plane, so there is no pod and it gets its service-account token directly;
- self-managed (`aliyun-acr-credential-helper`): this controller creates the ServiceAccount and
  Deployment in kube-system when the addon turns active (and deletes them when it goes), reads
  `kube-system/acr-configuration`, and works only while its pod runs, logging to that pod.

The documented RRSA order trap is kept: ACK's pod-identity webhook mounts the OIDC token only
into pods created while RRSA is on, so a helper pod that started before RRSA was enabled keeps
failing in RRSA mode until it is deleted and its Deployment recreates it.

Per `acr-registry-info` entry: credentials (helper_chain), GetAuthorizationToken, then one
`acr-credential-<hash>` dockerconfigjson Secret per watched namespace holding every domain of the
entry, referenced from the listed ServiceAccounts' imagePullSecrets; refreshed once the login is
within `expiring-threshold` of expiry. Work runs on a thread every `reconcile_interval_s` and
on store events (ConfigMap, namespace and ServiceAccount changes); `reconcile_now()` for tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from dataclasses import dataclass

from . import helper_chain as chain
from .dockerconfig import DOCKERCONFIGJSON, dockerconfigjson
from .errors import KubeError
from .store import ClusterStore, StoreEvent
from .worker import PeriodicWorker

log = logging.getLogger(__name__)
MANAGED = "managed-aliyun-acr-credential-helper"
SELF_MANAGED = "aliyun-acr-credential-helper"
NAME = chain.HELPER_NAME
CONFIGMAP = "acr-configuration"
SYSTEM_NS = "kube-system"
VERSION = "v25.07.21.1-8f4e2c1-aliyun"
RUNNING_STATES = ("active", "updating")   # an addon being reconfigured keeps running
DEFAULT_CONFIGMAP = {"service-account": "default", "watch-namespace": "default", "expiring-threshold": "15m"}


@dataclass
class _Cached:
    login: chain.RegistryLogin
    domains: tuple[str, ...]


def secret_name(entry: chain.RegistryEntry) -> str:
    return "acr-credential-" + hashlib.md5(f"{entry.instance_id}/{entry.region}".encode()).hexdigest()


class CredentialHelper(PeriodicWorker):
    join_timeout_s = 10.0
    failure_log = "credential helper round failed"
    log = log

    def __init__(self, world, cluster_id: str, store: ClusterStore, cloud_endpoint: str, *,
                 reconcile_interval_s: float | None = None):
        self.world = world
        self.cluster_id = cluster_id
        self.endpoint = cloud_endpoint
        scale = world.clock.scale
        # The component re-checks about once a minute; on the sandbox clock scale, never busier
        # than twice a second.
        self._init_worker(store, reconcile_interval_s if reconcile_interval_s is not None else max(0.5, 60 * scale))
        self._cache: dict[tuple, _Cached] = {}
        self._oidc_mounted: dict[str, bool] = {}   # helper pod uid -> token projected at creation
        self._reconcile_lock = threading.Lock()
        self.last_errors: list[str] = []   # the latest round's failures (managed edition has no pod)
        # A failure repeats every round; its log line only every `repeat_log_s` of sandbox time.
        self.repeat_log_s = max(5.0, 60 * scale)
        self._logged: dict[str, float] = {}

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "CredentialHelper":
        self._start_worker(f"acr-helper-{self.cluster_id[:8]}")
        self._wake.set()
        return self

    def on_addon_changed(self, name: str, state: str, config: dict) -> None:
        """Called by the cloud (with its lock held): only wake the worker."""
        if name in (MANAGED, SELF_MANAGED):
            self._wake.set()

    def _on_event(self, event: StoreEvent) -> None:
        if event.resource == "pods" and event.type == "ADDED" and event.namespace == SYSTEM_NS \
                and (event.obj["metadata"].get("labels") or {}).get("app") == NAME:
            # The webhook's decision, taken as the pod is created: is RRSA on right now?
            self._oidc_mounted[event.obj["metadata"]["uid"]] = self._rrsa_enabled()
        relevant = (event.resource in ("namespaces", "serviceaccounts") and event.type != "DELETED") or \
            (event.resource == "configmaps" and event.name == CONFIGMAP and event.namespace == SYSTEM_NS) or \
            (event.resource == "pods" and event.namespace == SYSTEM_NS) or \
            (event.resource == "secrets" and event.type == "DELETED" and event.name.startswith("acr-credential-"))
        if relevant:
            self._wake.set()

    def _round(self) -> None:
        self.reconcile_now()

    # -- the cloud's view --------------------------------------------------------------------
    def _cluster(self):
        from acrx.sandbox.services.cs.models import find_cluster
        with self.world.lock:
            return find_cluster(self.world, self.cluster_id)

    def _rrsa_enabled(self) -> bool:
        cluster = self._cluster()
        return bool(cluster and cluster.rrsa_enabled)

    def _edition(self, cluster) -> tuple[str | None, dict]:
        with self.world.lock:
            for name in (MANAGED, SELF_MANAGED):
                addon = cluster.addons.get(name)
                if addon is not None and addon.state in RUNNING_STATES:
                    return name, dict(addon.config)
        return None, {}

    # -- one round ------------------------------------------------------------------------
    def reconcile_now(self) -> None:
        with self._reconcile_lock:
            cluster = self._cluster()
            if cluster is None:
                return
            edition, config = self._edition(cluster)
            self._ensure_workload(edition == SELF_MANAGED, cluster.region)
            if edition is None:
                return
            errors: list[str] = []
            pod = None
            if edition == SELF_MANAGED:
                pod = self._running_pod()
                if pod is None:
                    return   # the component does nothing until its pod runs
                try:
                    settings = chain.from_configmap(self._configmap_data(), cluster.region)
                except (chain.ConfigError, KubeError) as exc:
                    return self._log(pod, [f"failed to load {SYSTEM_NS}/{CONFIGMAP}: {exc}"])
            else:
                try:
                    settings = chain.from_addon_config(config, cluster.region)
                except chain.ConfigError as exc:
                    return self._log(None, [f"invalid addon config: {exc}"])
            if not settings.entries:
                return self._log(pod, ["no acr-registry-info configured; nothing to do"], level="W")
            for entry in settings.entries:
                try:
                    cached = self._credentials(cluster, entry, settings, pod)
                    self._distribute(entry, cached, settings)
                except chain.ChainError as exc:
                    errors.append(f"failed to get authorization token of instance {entry.instance_id} "
                                  f"({entry.region}): {exc.step}: {exc.code}: {exc.message}")
            self._log(pod, errors)

    def _credentials(self, cluster, entry: chain.RegistryEntry, settings: chain.HelperSettings, pod) -> _Cached:
        key = (entry, settings.rrsa)
        cached = self._cache.get(key)
        now = self.world.clock.now()
        if cached is not None and now < cached.login.expires_at - settings.threshold_s:
            return cached
        base = self._base_key(cluster, entry, settings, pod)
        if entry.assume_role_arn and not entry.custom_access_key:
            base = chain.assume_role(self.endpoint, entry.region, base, entry.assume_role_arn, entry.expire_duration)
        domains = entry.domains or chain.list_domains(self.endpoint, entry.region, base, entry.instance_id)
        login = chain.authorization_token(self.endpoint, entry.region, base, entry.instance_id)
        cached = self._cache[key] = _Cached(login, tuple(domains))
        self._log(pod, [f"refreshed the authorization token of instance {entry.instance_id} for "
                        f"{', '.join(domains)}; it expires at {self.world.clock.iso(login.expires_at)}"], level="I")
        return cached

    def _base_key(self, cluster, entry, settings, pod) -> chain.Key:
        if entry.custom_access_key:
            return chain.Key(entry.custom_access_key, entry.custom_access_key_secret)
        if settings.rrsa:
            if pod is not None and not self._has_oidc_token(pod, cluster):
                raise chain.ChainError(
                    "RRSA", "OIDCTokenFileNotFound",
                    "open /var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token: no such file or directory "
                    "(the pod was created before RRSA was enabled on the cluster; delete the pod to recreate it)")
            if not entry.rrsa_role_arn or not entry.rrsa_provider_arn:
                raise chain.ChainError("RRSA", "InvalidConfig", "rrsaRoleARN and rrsaOIDCProviderRoleARN are required")
            token = self._service_account_token(cluster)
            return chain.assume_role_with_oidc(self.endpoint, entry.region, entry.rrsa_role_arn,
                                               entry.rrsa_provider_arn, token)
        return self._node_role_key(cluster)

    def _has_oidc_token(self, pod: dict, cluster) -> bool:
        uid = pod["metadata"]["uid"]
        if uid not in self._oidc_mounted:  # created before this controller watched: compare times
            created = dt.datetime.strptime(pod["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
            created_at = created.replace(tzinfo=dt.timezone.utc).timestamp()
            self._oidc_mounted[uid] = bool(cluster.rrsa_enabled_at) and created_at >= int(cluster.rrsa_enabled_at)
        return self._oidc_mounted[uid]

    def _service_account_token(self, cluster) -> str:
        """A projected service-account token of the helper SA, signed by the cluster's key."""
        with self.world.lock:
            if not cluster.rrsa_enabled:
                # Without RRSA the cluster's issuer is not the OIDC one; STS will refuse it.
                issuer = "https://kubernetes.default.svc"
            else:
                issuer = cluster.rrsa_config()["issuer"].split(",")[0]
            now = int(self.world.clock.now())
            claims = {"iss": issuer, "sub": chain.OIDC_SUBJECT, "aud": [chain.OIDC_AUDIENCE],
                      "iat": now, "nbf": now, "exp": now + 3600,
                      "kubernetes.io": {"namespace": SYSTEM_NS, "serviceaccount": {"name": NAME}}}
            return cluster.signing_key.sign(claims)

    def _node_role_key(self, cluster) -> chain.Key:
        """The worker RAM role's credentials, as the node's instance metadata service hands them
        out. ECS checks the role's trust itself, so it is not evaluated here."""
        with self.world.lock:
            role_name = cluster.worker_ram_role_name
            ram = self.world.backend("ram", cluster.account, "global")
            role = ram.get_role_for_sts(role_name) if role_name else None
            if role is None:
                raise chain.ChainError("InstanceMetadata", "RoleNotFound",
                                       f"the node has no RAM role {role_name or '(none)'} to get credentials from")
            session = self.world.backend("sts", cluster.account, "global").issue(
                role, "ecs-ram-role", 3600 * 6, None, f"acs:ecs::{cluster.account}:instance/node")
            cred = session.credential
            return chain.Key(cred.access_key_id, cred.secret, cred.security_token)

    # -- writing secrets --------------------------------------------------------------------
    def _distribute(self, entry, cached: _Cached, settings) -> None:
        name = secret_name(entry)
        data = {".dockerconfigjson": dockerconfigjson(list(cached.domains), cached.login.username,
                                                      cached.login.password)}
        namespaces = [n["metadata"]["name"] for n in self.store.list("namespaces")]
        for ns in settings.watched(namespaces):
            self._put_secret(ns, name, data)
            accounts = [sa["metadata"]["name"] for sa in self.store.list("serviceaccounts", ns)]
            for sa_name in settings.accounts(accounts):
                sa = self.store.get("serviceaccounts", ns, sa_name)
                if not any(s.get("name") == name for s in sa.get("imagePullSecrets") or []):
                    self.store.patch("serviceaccounts", ns, sa_name, {"imagePullSecrets": [{"name": name}]})

    def _put_secret(self, ns: str, name: str, data: dict) -> None:
        try:
            current = self.store.get("secrets", ns, name)
        except KubeError:
            self.store.create("secrets", ns, {"metadata": {"name": name, "labels": {"app": NAME}},
                                              "type": DOCKERCONFIGJSON, "data": data})
            return
        if current.get("data") != data:
            current["data"] = data
            self.store.update("secrets", ns, current)

    # -- the self-managed workload ------------------------------------------------------------
    def _ensure_workload(self, wanted: bool, region: str) -> None:
        try:
            self.store.get("deployments", SYSTEM_NS, NAME)
            exists = True
        except KubeError:
            exists = False
        if wanted and not exists:
            self._create_workload(region)
        elif not wanted and exists:
            for kind in ("deployments", "serviceaccounts"):
                try:
                    self.store.delete(kind, SYSTEM_NS, NAME)
                except KubeError:
                    pass

    def _create_workload(self, region: str) -> None:
        labels = {"app": NAME}
        for kind, obj in (
            ("serviceaccounts", {"metadata": {"name": NAME, "labels": labels}}),
            # [?] the install ships a ConfigMap with acr-registry-info commented out; a user's own
            # ConfigMap applied earlier is kept.
            ("configmaps", {"metadata": {"name": CONFIGMAP}, "data": dict(DEFAULT_CONFIGMAP)}),
            ("deployments", {
                "metadata": {"name": NAME, "labels": labels},
                "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                         "template": {"metadata": {"labels": labels},
                                      "spec": {"serviceAccountName": NAME, "containers": [{
                                          "name": NAME,
                                          "image": f"registry-{region}-vpc.ack.aliyuncs.com/acs/{NAME}:{VERSION}"}]}}}}),
        ):
            try:
                self.store.create(kind, SYSTEM_NS, obj)
            except KubeError as err:
                if err.status_code != 409:
                    raise

    def _running_pod(self) -> dict | None:
        pods = [p for p in self.store.list("pods", SYSTEM_NS, label_selector=f"app={NAME}")
                if (p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]
        return max(pods, key=lambda p: p["metadata"]["creationTimestamp"]) if pods else None

    def _configmap_data(self) -> dict:
        return self.store.get("configmaps", SYSTEM_NS, CONFIGMAP).get("data") or {}

    # -- logs --------------------------------------------------------------------------------
    def _log(self, pod: dict | None, lines: list[str], level: str = "E") -> None:
        if level == "E":
            self.last_errors = list(lines)
        now = self.world.clock.now()
        if level != "I":
            lines = [line for line in lines if now - self._logged.get(line, -1e18) >= self.repeat_log_s]
            self._logged.update({line: now for line in lines})
        if not lines:
            return
        # klog's header (the component is a Go program): Lmmdd hh:mm:ss.uuuuuu pid file:line] msg
        stamp = dt.datetime.fromtimestamp(self.world.clock.now(), dt.timezone.utc).strftime("%m%d %H:%M:%S.%f")
        text = "".join(f"{level}{stamp}       1 controller.go:118] {line}\n" for line in lines)
        if pod is None:
            for line in lines:
                log.info("managed %s on %s: %s", NAME, self.cluster_id, line)
            return
        self.store.append_log(SYSTEM_NS, pod["metadata"]["name"], NAME, text)
