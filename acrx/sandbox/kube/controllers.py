"""In-process controllers of the sandbox cluster, each a store subscriber with its own work queue.

- ServiceAccountController: every namespace has a `default` ServiceAccount (recreated if deleted).
- DeploymentController: a Deployment owns one ReplicaSet per pod template (named
  <deploy>-<pod-template-hash>); older ReplicaSets are scaled to 0 at once (no surge
  accounting). Deployment status is summed from its ReplicaSets.
- ReplicaSetController: keeps `spec.replicas` Pods (left Pending; a kubelet moves them on) and
  reports replicas/ready/available in the ReplicaSet status.
Events carry the real controllers' reasons and texts (ScalingReplicaSet, SuccessfulCreate, ...).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import queue
import threading
from typing import Any

from .errors import KubeError
from .selectors import match_label_selector_object
from .store import ClusterStore, StoreEvent, now_rfc3339

log = logging.getLogger(__name__)
_HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_REVISION_ANNOTATION = "deployment.kubernetes.io/revision"


def _controller_of(obj: dict) -> dict | None:
    return next((r for r in obj["metadata"].get("ownerReferences") or [] if r.get("controller")), None)


def _owner_ref(owner: dict) -> dict:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def pod_template_hash(template: dict) -> str:
    """A stable 10-character hash in the apiserver's safe alphabet, like `7c5ddbdf54`."""
    digest = int.from_bytes(hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()[:8], "big")
    chars = []
    for _ in range(10):
        digest, index = divmod(digest, len(_HASH_ALPHABET))
        chars.append(_HASH_ALPHABET[index])
    return "".join(chars)


def pod_is_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


class Controller:
    """Subscriber + queue + worker thread; subclasses map events to keys and reconcile keys."""

    name = "controller"

    def __init__(self, store: ClusterStore):
        self.store = store
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._unsubscribe = None
        self._outstanding = 0  # queued or running keys; 0 means caught up
        self._caught_up = threading.Condition()

    def start(self) -> None:
        self._unsubscribe = self.store.subscribe(self._on_event)
        self._thread = threading.Thread(target=self._run, name=f"sandbox-{self.name}", daemon=True)
        self._thread.start()
        self.resync()

    def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self._queue.put(None)
        if self._thread:
            self._thread.join(timeout=5)

    def enqueue(self, key: tuple) -> None:
        with self._caught_up:
            self._outstanding += 1
        self._queue.put(key)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        with self._caught_up:
            return self._caught_up.wait_for(lambda: self._outstanding == 0, timeout)

    @property
    def idle(self) -> bool:
        return self._outstanding == 0

    def _on_event(self, event: StoreEvent) -> None:
        for key in self.keys_for(event):
            self.enqueue(key)

    def _run(self) -> None:
        while True:
            key = self._queue.get()
            if key is None:
                return
            try:
                self.reconcile(*key)
            except KubeError as err:
                if err.status_code == 409:  # lost a race with another writer: try again
                    self.enqueue(key)
                elif err.status_code != 404:
                    log.warning("%s: %s %s", self.name, key, err)
            except Exception:  # a controller bug must not kill the cluster
                log.exception("%s failed on %s", self.name, key)
            with self._caught_up:
                self._outstanding -= 1
                if self._outstanding == 0:
                    self._caught_up.notify_all()

    def resync(self) -> None:  # pragma: no cover - overridden
        pass

    def keys_for(self, event: StoreEvent) -> list[tuple]:  # pragma: no cover - overridden
        return []

    def reconcile(self, *key: Any) -> None:  # pragma: no cover - overridden
        pass


class ServiceAccountController(Controller):
    name = "serviceaccount-controller"

    def resync(self) -> None:
        for ns in self.store.list("namespaces"):
            self.enqueue((ns["metadata"]["name"],))

    def keys_for(self, event: StoreEvent) -> list[tuple]:
        if event.resource == "namespaces" and event.type == "ADDED":
            return [(event.name,)]
        if event.resource == "serviceaccounts" and event.type == "DELETED" and event.name == "default":
            return [(event.namespace,)]
        return []

    def reconcile(self, namespace: str) -> None:
        try:
            self.store.get("serviceaccounts", namespace, "default")
        except KubeError as err:
            if err.status_code != 404:
                raise
            self.store.create("serviceaccounts", namespace, {"metadata": {"name": "default"}})


class DeploymentController(Controller):
    name = "deployment-controller"

    def resync(self) -> None:
        for d in self.store.list("deployments"):
            self.enqueue(("deployments", d["metadata"]["namespace"], d["metadata"]["name"]))

    def keys_for(self, event: StoreEvent) -> list[tuple]:
        if event.resource in ("deployments", "replicasets") and event.type != "DELETED":
            keys = [(event.resource, event.namespace, event.name)]
        elif event.resource in ("replicasets", "pods"):
            keys = []
        else:
            return []
        owner = _controller_of(event.obj)
        if owner and owner.get("kind") in ("Deployment", "ReplicaSet"):
            keys.append(("deployments" if owner["kind"] == "Deployment" else "replicasets",
                         event.namespace, owner["name"]))
        return keys

    def reconcile(self, resource: str, namespace: str, name: str) -> None:
        if resource == "deployments":
            self._sync_deployment(self.store.get("deployments", namespace, name))
        else:
            self._sync_replicaset(self.store.get("replicasets", namespace, name))

    # ---------------------------------------------------------------- deployments
    def _owned(self, kind: str, owner: dict) -> list[dict]:
        uid = owner["metadata"]["uid"]
        return [o for o in self.store.list(kind, owner["metadata"]["namespace"])
                if (_controller_of(o) or {}).get("uid") == uid and not o["metadata"].get("deletionTimestamp")]

    def _sync_deployment(self, deploy: dict) -> None:
        ns, spec = deploy["metadata"]["namespace"], deploy["spec"]
        template_hash = pod_template_hash(spec["template"])
        owned = self._owned("replicasets", deploy)
        new_rs = next((rs for rs in owned
                       if rs["metadata"].get("labels", {}).get("pod-template-hash") == template_hash), None)
        revision = 1 + max((int(rs["metadata"].get("annotations", {}).get(_REVISION_ANNOTATION, "0")) for rs in owned),
                           default=0)
        if new_rs is None:
            template = copy.deepcopy(spec["template"])
            template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = template_hash
            selector = copy.deepcopy(spec["selector"])
            selector.setdefault("matchLabels", {})["pod-template-hash"] = template_hash
            new_rs = self.store.create("replicasets", ns, {
                "metadata": {"name": f"{deploy['metadata']['name']}-{template_hash}",
                             "labels": template["metadata"]["labels"],
                             "annotations": {_REVISION_ANNOTATION: str(revision),
                                             "deployment.kubernetes.io/desired-replicas": str(spec["replicas"])},
                             "ownerReferences": [_owner_ref(deploy)]},
                "spec": {"replicas": 0, "selector": selector, "template": template},
            })
        revision_now = new_rs["metadata"].get("annotations", {}).get(_REVISION_ANNOTATION)
        if revision_now and deploy["metadata"].get("annotations", {}).get(_REVISION_ANNOTATION) != revision_now:
            self.store.patch("deployments", ns, deploy["metadata"]["name"],
                             {"metadata": {"annotations": {_REVISION_ANNOTATION: revision_now}}})
        if all(rs["metadata"]["uid"] != new_rs["metadata"]["uid"] for rs in owned):
            owned.append(new_rs)
        for rs in owned:
            want = spec["replicas"] if rs["metadata"]["uid"] == new_rs["metadata"]["uid"] else 0
            if rs["spec"].get("replicas") != want:
                before = rs["spec"].get("replicas", 0)
                self.store.patch("replicasets", ns, rs["metadata"]["name"], {"spec": {"replicas": want}})
                direction = "up" if want > before else "down"
                self.store.record_event(deploy, "Normal", "ScalingReplicaSet",
                                        f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {want}",
                                        component="deployment-controller")
        self._deployment_status(deploy, new_rs)

    def _deployment_status(self, deploy: dict, new_rs: dict) -> None:
        deploy = self.store.get("deployments", deploy["metadata"]["namespace"], deploy["metadata"]["name"])
        owned = self._owned("replicasets", deploy)
        new_rs = next((rs for rs in owned if rs["metadata"]["uid"] == new_rs["metadata"]["uid"]), new_rs)
        total = sum((rs.get("status") or {}).get("replicas", 0) for rs in owned)
        ready = sum((rs.get("status") or {}).get("readyReplicas", 0) for rs in owned)
        available = sum((rs.get("status") or {}).get("availableReplicas", 0) for rs in owned)
        desired = deploy["spec"]["replicas"]
        old_conditions = {c["type"]: c for c in (deploy.get("status") or {}).get("conditions") or []}
        now = now_rfc3339()

        def condition(kind: str, status: str, reason: str, message: str) -> dict:
            old = old_conditions.get(kind, {})
            changed = old.get("status") != status
            return {"type": kind, "status": status, "reason": reason, "message": message,
                    "lastUpdateTime": now if changed or old.get("reason") != reason else old.get("lastUpdateTime", now),
                    "lastTransitionTime": now if changed else old.get("lastTransitionTime", now)}

        rs_name = new_rs["metadata"]["name"]
        progressed = (new_rs.get("status") or {}).get("availableReplicas", 0) >= desired
        status = {
            "observedGeneration": deploy["metadata"].get("generation", 1),
            "replicas": total,
            "updatedReplicas": (new_rs.get("status") or {}).get("replicas", 0),
            "readyReplicas": ready,
            "availableReplicas": available,
            "conditions": [
                condition("Available", "True" if available >= desired else "False",
                          "MinimumReplicasAvailable" if available >= desired else "MinimumReplicasUnavailable",
                          "Deployment has minimum availability." if available >= desired
                          else "Deployment does not have minimum availability."),
                condition("Progressing", "True", "NewReplicaSetAvailable" if progressed else "ReplicaSetUpdated",
                          f'ReplicaSet "{rs_name}" has successfully progressed.' if progressed
                          else f'ReplicaSet "{rs_name}" is progressing.'),
            ],
        }
        if total - available > 0:
            status["unavailableReplicas"] = total - available
        for key in ("readyReplicas", "availableReplicas", "updatedReplicas", "replicas"):
            if not status[key]:
                del status[key]  # zero counts are omitted on the wire, as omitempty does
        if status != deploy.get("status"):
            deploy["status"] = status
            self.store.update_status("deployments", deploy["metadata"]["namespace"], deploy)

    # ---------------------------------------------------------------- replicasets
    def _sync_replicaset(self, rs: dict) -> None:
        ns, spec = rs["metadata"]["namespace"], rs["spec"]
        pods = [p for p in self._owned("pods", rs)
                if match_label_selector_object(spec["selector"], p["metadata"].get("labels") or {})]
        want = spec.get("replicas", 1)
        template = spec.get("template") or {}
        for _ in range(want - len(pods)):
            pod = self.store.create("pods", ns, {
                "metadata": {"generateName": f"{rs['metadata']['name']}-",
                             "labels": copy.deepcopy((template.get("metadata") or {}).get("labels") or {}),
                             "annotations": copy.deepcopy((template.get("metadata") or {}).get("annotations") or {}),
                             "ownerReferences": [_owner_ref(rs)]},
                "spec": copy.deepcopy(template.get("spec") or {}),
            })
            pods.append(pod)
            self.store.record_event(rs, "Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}",
                                    component="replicaset-controller")
        for pod in sorted(pods, key=lambda p: p["metadata"]["creationTimestamp"], reverse=True)[:max(len(pods) - want, 0)]:
            self.store.delete("pods", ns, pod["metadata"]["name"])
            pods.remove(pod)
            self.store.record_event(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}",
                                    component="replicaset-controller")
        ready = sum(1 for p in pods if pod_is_ready(p))
        status = {"replicas": len(pods), "fullyLabeledReplicas": len(pods), "readyReplicas": ready,
                  "availableReplicas": ready, "observedGeneration": rs["metadata"].get("generation", 1)}
        status = {k: v for k, v in status.items() if v or k in ("replicas", "observedGeneration")}
        current = self.store.get("replicasets", ns, rs["metadata"]["name"])
        if current.get("status") != status:
            current["status"] = status
            self.store.update_status("replicasets", ns, current)
