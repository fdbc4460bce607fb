"""Workloads for `acrx verify`: the test Deployment, its pods, and what the kubelet says about them.

Built on `KubeClient` (acrx/kube/client.py): only its `core` (CoreV1Api) and `apps` (AppsV1Api)
objects are used, so any object with those two attributes works. The official `kubernetes`
package is imported lazily, inside the functions that need its exception type.

The pull is judged from the pod's events, as a user reads `kubectl describe pod`: the kubelet's
`Successfully pulled image "…" in 1.2s (1.2s including waiting). Image size: N bytes.` (1.30+),
`… in 1.2s (1.2s including waiting)` (1.28/1.29) or `… in 1.234567891s` (older) is
success; `Failed to pull image "…": <cause>` with the container waiting in ErrImagePull or
ImagePullBackOff is failure. Events are listed again every `poll_s` (a list is one request and
needs no long-lived connection through proxies that cut watches).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from acrx import cancel
from acrx.kube.errors import KubeError

VERIFY_NAME = "acrx-verify"
VERIFY_LABEL = "app.kubernetes.io/name"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"

# kubelet texts (pkg/kubelet/images/image_manager.go). The Pulled text grew over versions: the
# "(D including waiting)" part around 1.28, the image size with 1.30 (kubernetes PR #121719);
# clusters from 1.20 are supported, so every form is success and the size is optional.
PULLED_RE = re.compile(r'^Successfully pulled image "(?P<image>[^"]+)" in (?P<took>[^ ]+?)'
                       r'(?: \((?P<waiting>[^ ]+) including waiting\))?'
                       r'(?:\. Image size: (?P<size>\d+) bytes\.)?$')
PRESENT_RE = re.compile(r'^Container image "(?P<image>[^"]+)" already present on machine')
FAILED_RE = re.compile(r'^Failed to pull image "(?P<image>[^"]+)": (?P<cause>.*)$', re.S)
PULL_FAILURE_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")


@dataclass(frozen=True)
class PodEvent:
    pod: str
    type: str
    reason: str
    message: str
    count: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"pod": self.pod, "type": self.type, "reason": self.reason, "message": self.message,
                "count": self.count}


@dataclass(frozen=True)
class PullOutcome:
    """How the pull of one image by the test pods ended."""

    ok: bool
    image: str
    status: str                      # pulled | present | failed | timeout
    message: str = ""                # the kubelet's text (the pulled line, or the failure's cause)
    waiting_reason: str | None = None
    pull_time: str | None = None     # Go duration as the kubelet prints it, e.g. "1.234s"
    image_size: int | None = None
    pod: str | None = None
    events: tuple[PodEvent, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "image": self.image, "status": self.status, "message": self.message,
                "waiting_reason": self.waiting_reason, "pull_time": self.pull_time,
                "image_size": self.image_size, "pod": self.pod,
                "events": [e.to_dict() for e in self.events]}


def _call(kube, operation: str, fn, *args, **kwargs):
    """Through KubeClient.call (timeouts, KubeError with the HTTP status) when the client has it."""
    call = getattr(kube, "call", None)
    if call is not None:
        return call(operation, fn, *args, **kwargs)
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # the official ApiException, for a bare client object
        raise KubeError(operation, str(getattr(exc, "reason", "") or exc), status=getattr(exc, "status", None),
                        reason=getattr(exc, "reason", None)) from None


def verify_deployment(image: str, *, namespace: str, service_account: str,
                      name: str = VERIFY_NAME) -> dict[str, Any]:
    """The nginx Deployment verify creates. imagePullPolicy Always: a node that already holds the
    image must still go to the registry, or the proof would prove nothing. No imagePullSecrets:
    the helper's Secret must reach the pod through the service account (the two conflict)."""
    labels = {VERIFY_LABEL: name, MANAGED_BY_LABEL: "acrx"}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {VERIFY_LABEL: name}},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"serviceAccountName": service_account,
                         "containers": [{"name": "nginx", "image": image, "imagePullPolicy": "Always",
                                         "ports": [{"containerPort": 80}]}]},
            },
        },
    }


def selector_of(name: str = VERIFY_NAME) -> str:
    return f"{VERIFY_LABEL}={name}"


def delete_deployment(kube, namespace: str, name: str = VERIFY_NAME, *, wait_s: float = 10.0,
                      poll_s: float = 0.2) -> bool:
    """Delete the Deployment and its pods (foreground); True when something was deleted."""
    try:
        _call(kube, f"delete deployment {namespace}/{name}", kube.apps.delete_namespaced_deployment,
              name, namespace, body={"propagationPolicy": "Foreground"})
    except KubeError as exc:
        if exc.status == 404:
            return False
        raise
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            _call(kube, f"read deployment {namespace}/{name}", kube.apps.read_namespaced_deployment, name, namespace)
        except KubeError as exc:
            if exc.status == 404:
                break
            raise
        cancel.sleep(poll_s)   # Ctrl-C ends the wait at once
    # Pods of an old run would mix their events into the next one's.
    for pod in list_pods(kube, namespace, selector_of(name)):
        delete_pod(kube, namespace, pod.metadata.name)
    return True


def create_deployment(kube, manifest: dict[str, Any]) -> None:
    """Create the Deployment; one left by an earlier `--keep` run is deleted first, so the pods
    that pull are new and take the service account's current pull secrets."""
    namespace, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
    delete_deployment(kube, namespace, name)
    _call(kube, f"create deployment {namespace}/{name}", kube.apps.create_namespaced_deployment, namespace, manifest)


def list_pods(kube, namespace: str, label_selector: str) -> list:
    return list(_call(kube, f"list pods in {namespace}", kube.core.list_namespaced_pod, namespace,
                      label_selector=label_selector).items or [])


def delete_pod(kube, namespace: str, name: str) -> None:
    try:
        _call(kube, f"delete pod {namespace}/{name}", kube.core.delete_namespaced_pod, name, namespace)
    except KubeError as exc:
        if exc.status != 404:
            raise


def pod_events(kube, namespace: str, pod) -> list[PodEvent]:
    """Events about one pod, oldest first."""
    selector = f"involvedObject.kind=Pod,involvedObject.name={pod.metadata.name}"
    items = _call(kube, f"list events in {namespace}", kube.core.list_namespaced_event, namespace,
                  field_selector=selector).items or []
    uid = pod.metadata.uid
    out = []
    for event in items:
        involved = event.involved_object
        if uid and involved is not None and involved.uid and involved.uid != uid:
            continue  # a pod of the same name from an earlier run
        when = event.first_timestamp or event.event_time or event.last_timestamp
        # Timestamps have one-second resolution; the resourceVersion (numeric on etcd) orders
        # the events of one second as they were written.
        version = (event.metadata.resource_version if event.metadata else "") or ""
        out.append(((when is None, str(when or ""), int(version) if version.isdigit() else 0),
                    PodEvent(pod.metadata.name, event.type or "", event.reason or "", event.message or "",
                             int(event.count or 1))))
    out.sort(key=lambda item: item[0])
    return [e for _, e in out]


def waiting_reasons(pod) -> list[tuple[str, str]]:
    """(reason, message) of every container waiting, e.g. ("ImagePullBackOff", "Back-off …")."""
    found = []
    for status in (pod.status.container_statuses if pod.status else None) or []:
        waiting = status.state.waiting if status.state else None
        if waiting is not None and waiting.reason:
            found.append((waiting.reason, waiting.message or ""))
    return found


def judge(image: str, pod, events: list[PodEvent]) -> PullOutcome | None:
    """The outcome these events show for `image`, or None while the pull is still undecided."""
    name = pod.metadata.name
    for event in events:
        match = PULLED_RE.match(event.message)
        if match and match.group("image") == image:
            return PullOutcome(True, image, "pulled", event.message, pull_time=match.group("took"),
                               image_size=int(match.group("size")) if match.group("size") else None,
                               pod=name, events=tuple(events))
    for event in events:
        match = PRESENT_RE.match(event.message)
        if match and match.group("image") == image:
            return PullOutcome(True, image, "present", event.message, pod=name, events=tuple(events))
    waiting = [r for r in waiting_reasons(pod) if r[0] in PULL_FAILURE_REASONS]
    failures = [FAILED_RE.match(e.message) for e in events]
    failures = [m for m in failures if m and m.group("image") == image]
    if failures or waiting:
        cause = failures[-1].group("cause") if failures else (waiting[0][1] or waiting[0][0])
        return PullOutcome(False, image, "failed", cause, waiting_reason=waiting[0][0] if waiting else "ErrImagePull",
                           pod=name, events=tuple(events))
    return None


def wait_for_pull(kube, namespace: str, image: str, *, label_selector: str, timeout_s: float,
                  poll_s: float = 0.5, on_progress: Callable[[str], None] | None = None,
                  clock: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = cancel.sleep) -> PullOutcome:
    """Watch the pods of `label_selector` until one pulled `image`, one failed to, or time ran out."""
    deadline = clock() + timeout_s
    seen: set[tuple[str, str, str]] = set()
    last_pod, last_events = None, []
    while True:
        for pod in list_pods(kube, namespace, label_selector):
            if pod.metadata.deletion_timestamp is not None:
                continue
            events = pod_events(kube, namespace, pod)
            last_pod, last_events = pod, events
            for event in events:
                key = (event.pod, event.reason, event.message)
                if on_progress is not None and key not in seen:
                    seen.add(key)
                    on_progress(f"{event.pod}: {event.reason}: {event.message}")
            outcome = judge(image, pod, events)
            if outcome is not None:
                return outcome
        if clock() >= deadline:
            waiting = waiting_reasons(last_pod) if last_pod is not None else []
            where = f"pod {last_pod.metadata.name}" if last_pod is not None else "no pod was created"
            state = f" (waiting: {waiting[0][0]})" if waiting else ""
            return PullOutcome(False, image, "timeout",
                               f"no pull result within {timeout_s:g}s: {where}{state}",
                               waiting_reason=waiting[0][0] if waiting else None,
                               pod=last_pod.metadata.name if last_pod is not None else None,
                               events=tuple(last_events))
        sleep(poll_s)
