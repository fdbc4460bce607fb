"""The node agent of a sandbox cluster: binds Pending pods to its node, pulls their images the
way containerd on an ACK node would, and reports pod status and the kubelet's own events.

Images whose host is not a sandbox registry (`nginx`, `registry.k8s.io/...`, the helper's own
image) are "already present on machine". For a sandbox registry host the `NodeNetwork` decides
whether the name resolves from the cluster VPC and whether the path is open; then the registry
v2 token dance runs with the pull secrets of the pod. Failed pulls back off (10 s doubling to
300 s, the kubelet's defaults) on the sandbox clock, so a pull that becomes possible later
(secret written, route added) succeeds on a later try.

Event texts are the kubelet's (pkg/kubelet/images/image_manager.go, container/ helpers):
Pulling / Pulled / Failed / BackOff, `Error: ErrImagePull`, `Error: ImagePullBackOff`. The Pulled
text depends on the cluster's Kubernetes version (see `pulled_message`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol

from .errors import KubeError
from .registry_client import Auth, ImageRef, PullError, RegistryClient
from .dockerconfig import docker_auths_for
from .store import ClusterStore, StoreEvent, now_rfc3339
from .worker import PeriodicWorker

log = logging.getLogger(__name__)
BACKOFF_INITIAL_S, BACKOFF_MAX_S = 10.0, 300.0


class NodeNetwork(Protocol):
    """What the node's network answers about a registry host (implemented in runtime.py)."""

    def serves(self, host: str) -> bool:
        """Is `host` a registry of the sandbox cloud (else the image counts as present)?"""

    def dial(self, host: str) -> str | None:
        """None when host:443 is reachable from the node; else the Go dial error text."""


@dataclass
class _ContainerPull:
    image: str
    done: bool = False
    image_id: str = ""
    reason: str = ""             # ErrImagePull | ImagePullBackOff while failing
    message: str = ""
    backoff_s: float = 0.0
    next_try: float = 0.0        # sandbox clock
    backoff_reported: bool = False


@dataclass
class _PodState:
    uid: str
    containers: dict[str, _ContainerPull] = field(default_factory=dict)
    started_at: str | None = None
    pod_ip: str = ""


def pulled_message(image: str, seconds: float, size: int, version: tuple[int, int]) -> str:
    """The kubelet's Pulled event text for the node's Kubernetes version.

    >= 1.30: `... in D (D including waiting). Image size: N bytes.` (kubernetes PR #121719,
    merged Jan 2024, first released in v1.30). 1.28/1.29: `... in D (D including waiting)`, both
    truncated to the millisecond. Older: `Successfully pulled image %q in %v` with
    time.Since(start) untruncated. Kubelet copies of each form are cited in real-cloud-audit #11;
    [?] whether 1.27 already had the "including waiting" form (taken: it did not, the stricter
    reading for a parser since the oldest form carries the least).
    """
    if version >= (1, 30):
        took = go_duration(seconds)
        return f'Successfully pulled image "{image}" in {took} ({took} including waiting). Image size: {size} bytes.'
    if version >= (1, 28):
        took = go_duration(seconds)
        return f'Successfully pulled image "{image}" in {took} ({took} including waiting)'
    return f'Successfully pulled image "{image}" in {go_duration_ns(seconds)}'


def go_duration_ns(seconds: float) -> str:
    """Go's time.Duration.String() of an untruncated duration under a minute, e.g. 1.234567891s."""
    ns = max(int(seconds * 1e9), 1)
    if ns < 1000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:.3f}".rstrip("0").rstrip(".") + "µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.6f}".rstrip("0").rstrip(".") + "ms"
    if ns < 60_000_000_000:
        return f"{ns / 1e9:.9f}".rstrip("0").rstrip(".") + "s"
    return go_duration(seconds)


def _version_tuple(version: str) -> tuple[int, int]:
    parts = (version or "").lstrip("v").split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return (1, 30)


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String() of a duration truncated to the millisecond."""
    ms = int(seconds * 1000)
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    text = f"{ms / 1000:.3f}".rstrip("0").rstrip(".")
    if ms < 60_000:
        return text + "s"
    minutes, rest = divmod(ms / 1000, 60)
    return f"{int(minutes)}m{f'{rest:.3f}'.rstrip('0').rstrip('.')}s"


class Kubelet(PeriodicWorker):
    failure_log = "kubelet sync failed"   # a kubelet bug must not stop the node
    log = log

    def __init__(self, store: ClusterStore, network: NodeNetwork, registry_url: str, *,
                 clock_now: Callable[[], float], clock_scale: float = 0.0, node_name: str = "node-0",
                 node_ip: str = "192.168.0.10", min_backoff_wall_s: float = 0.3, tick_s: float = 0.1,
                 kubernetes_version: str = "1.30.1"):
        self._init_worker(store, tick_s)
        self.version = _version_tuple(kubernetes_version)   # picks the Pulled event's wording
        self.network = network
        self.registry = RegistryClient(registry_url)
        self.now = clock_now
        self.scale = clock_scale
        self.node_name, self.node_ip = node_name, node_ip
        self.min_backoff_wall_s = min_backoff_wall_s
        self._pods: dict[str, _PodState] = {}
        self._ip_counter = 0
        self._sync_lock = threading.Lock()   # the node thread and sync_now() never interleave

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "Kubelet":
        self._start_worker(f"kubelet-{self.node_name}")
        return self

    def _started(self) -> None:
        for pod in self.store.list("pods"):
            self._admit_pull_secrets(pod)

    def sync_now(self) -> None:
        """Sync every pod on the caller's thread (tests); retries due pulls at once."""
        self._sync_all()

    def retry_now(self) -> None:
        """Forget every back-off, as if its time had passed, and sync."""
        with self._sync_lock:
            for state in list(self._pods.values()):
                for pull in state.containers.values():
                    pull.next_try = 0.0
        self._sync_all()

    def _on_event(self, event: StoreEvent) -> None:
        if event.resource == "pods":
            if event.type == "ADDED":
                self._admit_pull_secrets(event.obj)
            elif event.type == "DELETED":
                self._pods.pop(event.obj["metadata"].get("uid", ""), None)
            self._wake.set()

    def _round(self) -> None:
        self._sync_all()

    # -- admission the sandbox API server lacks --------------------------------------------
    def _admit_pull_secrets(self, pod: dict) -> None:
        """The ServiceAccount admission plugin copies the SA's imagePullSecrets into a new pod
        that names none. The sandbox API server has no such plugin, so it is applied here, as
        soon as the pod appears: a pod created before its SA was patched keeps no secret, as in
        a real cluster (it has to be recreated)."""
        meta, spec = pod["metadata"], pod.get("spec") or {}
        if spec.get("imagePullSecrets") or spec.get("nodeName"):
            return
        try:
            sa = self.store.get("serviceaccounts", meta["namespace"], spec.get("serviceAccountName") or "default")
        except KubeError:
            return
        secrets = [{"name": s["name"]} for s in sa.get("imagePullSecrets") or [] if s.get("name")]
        if secrets:
            try:
                self.store.patch("pods", meta["namespace"], meta["name"], {"spec": {"imagePullSecrets": secrets}})
            except KubeError:
                pass

    # -- sync ------------------------------------------------------------------------------
    def _sync_all(self) -> None:
        with self._sync_lock:
            self._sync_pods()

    def _sync_pods(self) -> None:
        for pod in self.store.list("pods"):
            if pod["metadata"].get("deletionTimestamp"):
                continue
            try:
                self._sync_pod(pod)
            except KubeError as err:
                if err.status_code not in (404, 409):
                    raise

    def _sync_pod(self, pod: dict) -> None:
        meta, spec = pod["metadata"], pod.get("spec") or {}
        ns, name, uid = meta["namespace"], meta["name"], meta["uid"]
        if spec.get("nodeName") not in (None, "", self.node_name):
            return
        state = self._pods.get(uid)
        if state is None:
            state = self._pods[uid] = _PodState(uid)
            self._ip_counter += 1
            state.pod_ip = f"172.20.{(self._ip_counter // 250) % 250}.{self._ip_counter % 250 + 2}"
        if not spec.get("nodeName"):
            pod = self.store.patch("pods", ns, name, {"spec": {"nodeName": self.node_name}})
            self.store.record_event(pod, "Normal", "Scheduled",
                                    f"Successfully assigned {ns}/{name} to {self.node_name}",
                                    component="default-scheduler")
        containers = (pod["spec"].get("initContainers") or []) + (pod["spec"].get("containers") or [])
        changed = False
        for container in containers:
            pull = state.containers.get(container["name"])
            if pull is None or pull.image != container.get("image"):
                pull = state.containers[container["name"]] = _ContainerPull(container.get("image", ""))
            if not pull.done:
                changed |= self._sync_image(pod, pull)
        if all(p.done for p in state.containers.values()) and state.started_at is None:
            state.started_at = now_rfc3339()
            for container in containers:
                self.store.record_event(pod, "Normal", "Created", f"Created container {container['name']}",
                                        host=self.node_name)
                self.store.record_event(pod, "Normal", "Started", f"Started container {container['name']}",
                                        host=self.node_name)
            changed = True
        if changed or not (pod.get("status") or {}).get("containerStatuses"):
            self._write_status(ns, name, state)

    def _sync_image(self, pod: dict, pull: _ContainerPull) -> bool:
        """One step for one container image; True when the pod's status must change."""
        image = pull.image
        ref = ImageRef.parse(image)
        if not self.network.serves(ref.host):
            # The sandbox has no copy of public images: a node is assumed to have them cached.
            self.store.record_event(pod, "Normal", "Pulled", f'Container image "{image}" already present on machine',
                                    host=self.node_name)
            pull.done, pull.image_id = True, f"{ref.host}/{ref.repository}@sha256:" + \
                hashlib.sha256(str(ref).encode()).hexdigest()  # no registry digest for a local image
            return True
        if pull.reason and self.now() < pull.next_try:
            if pull.backoff_reported:
                return False
            pull.backoff_reported = True
            pull.reason, pull.message = "ImagePullBackOff", f'Back-off pulling image "{image}"'
            self.store.record_event(pod, "Normal", "BackOff", pull.message, host=self.node_name)
            self.store.record_event(pod, "Warning", "Failed", "Error: ImagePullBackOff", host=self.node_name)
            return True
        self.store.record_event(pod, "Normal", "Pulling", f'Pulling image "{image}"', host=self.node_name)
        try:
            result = self._pull(pod, ref)
        except PullError as err:
            cause = (f"rpc error: code = {err.grpc_code} desc = failed to pull and unpack image \"{ref}\": "
                     f"failed to resolve reference \"{ref}\": {err.message}")
            pull.reason, pull.message = "ErrImagePull", cause
            pull.backoff_s = BACKOFF_INITIAL_S if not pull.backoff_s else min(pull.backoff_s * 2, BACKOFF_MAX_S)
            pull.next_try = self.now() + max(self.min_backoff_wall_s, pull.backoff_s * self.scale)
            pull.backoff_reported = False
            self.store.record_event(pod, "Warning", "Failed", f'Failed to pull image "{image}": {cause}',
                                    host=self.node_name)
            self.store.record_event(pod, "Warning", "Failed", "Error: ErrImagePull", host=self.node_name)
            return True
        self.store.record_event(pod, "Normal", "Pulled",
                                pulled_message(image, result.seconds, result.size, self.version),
                                host=self.node_name)
        pull.done, pull.reason, pull.message = True, "", ""
        pull.image_id = f"{ref.host}/{ref.repository}@{result.digest}"
        return True

    def _pull(self, pod: dict, ref: ImageRef):
        failure = self.network.dial(ref.host)
        if failure is not None:
            raise PullError("network", f'failed to do request: Head "{ref.manifest_url}": {failure}')
        auths = self._auths(pod, ref.host)
        last: PullError | None = None
        # The kubelet tries each matching credential in turn, then (none matching) anonymously.
        for auth in auths or [None]:
            try:
                return self.registry.pull(ref, auth)
            except PullError as err:
                last = err
        assert last is not None
        raise last

    def _auths(self, pod: dict, host: str) -> list[Auth]:
        ns = pod["metadata"]["namespace"]
        found: list[Auth] = []
        missing: list[str] = []
        for item in (pod.get("spec") or {}).get("imagePullSecrets") or []:
            try:
                secret = self.store.get("secrets", ns, item.get("name", ""))
            except KubeError:
                missing.append(item.get("name", ""))
                continue
            found.extend(docker_auths_for(secret, host))
        if missing:
            self.store.record_event(pod, "Warning", "FailedToRetrieveImagePullSecret",
                                    f"Unable to retrieve some image pull secrets ({', '.join(missing)}); "
                                    "attempting to pull the image may not succeed.", host=self.node_name)
        return found

    # -- status ----------------------------------------------------------------------------
    def _write_status(self, ns: str, name: str, state: _PodState) -> None:
        pod = self.store.get("pods", ns, name)
        now = now_rfc3339()
        old = pod.get("status") or {}
        running = state.started_at is not None
        statuses = []
        for container in pod["spec"].get("containers") or []:
            pull = state.containers.get(container["name"]) or _ContainerPull(container.get("image", ""))
            entry = {"name": container["name"], "image": container.get("image", ""), "imageID": pull.image_id,
                     "ready": running, "restartCount": 0, "started": running, "lastState": {}}
            if running:
                entry["containerID"] = "containerd://" + hashlib.sha256(f"{state.uid}/{container['name']}".encode()).hexdigest()
                entry["state"] = {"running": {"startedAt": state.started_at}}
            else:
                waiting = {"reason": pull.reason or "ContainerCreating"}
                if pull.message:
                    waiting["message"] = pull.message
                entry["state"] = {"waiting": waiting}
            statuses.append(entry)
        old_conditions = {c["type"]: c for c in old.get("conditions") or []}

        def condition(kind: str, ok: bool, reason: str | None = None) -> dict:
            status = "True" if ok else "False"
            previous = old_conditions.get(kind, {})
            cond = {"type": kind, "status": status, "lastProbeTime": None,
                    "lastTransitionTime": previous.get("lastTransitionTime", now)
                    if previous.get("status") == status else now}
            if not ok and reason:
                cond["reason"] = reason
                names = ", ".join(c["name"] for c in pod["spec"].get("containers") or [])
                cond["message"] = f"containers with unready status: [{names}]"
            return cond

        pod["status"] = {
            "phase": "Running" if running else "Pending",
            "conditions": [condition("PodReadyToStartContainers", True), condition("Initialized", True),
                           condition("Ready", running, "ContainersNotReady"),
                           condition("ContainersReady", running, "ContainersNotReady"),
                           condition("PodScheduled", True)],
            "hostIP": self.node_ip, "hostIPs": [{"ip": self.node_ip}],
            "podIP": state.pod_ip, "podIPs": [{"ip": state.pod_ip}],
            "startTime": old.get("startTime", now), "qosClass": "BestEffort",
            "containerStatuses": statuses,
        }
        if pod["status"] != old:
            self.store.update_status("pods", ns, pod)
