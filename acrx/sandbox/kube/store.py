"""The object store of one sandbox cluster: what etcd plus the generic registry do for real.

Thread-safe. Objects are plain JSON dicts, copied on the way in and out, so callers never share
state with the store. One global resourceVersion counter orders every change; a bounded history
lets a watch resume from a resourceVersion (410 Expired when it is too old).

Python API for in-process controllers (kinds may be given as plural, Kind or short name):
    store.create(kind, ns, obj)            store.get(kind, ns, name)
    store.list(kind, ns=None, label_selector=None, field_selector=None)
    store.update(kind, ns, obj, subresource=None)   store.update_status(kind, ns, obj)
    store.patch(kind, ns, name, patch, patch_type="strategic")
    store.delete(kind, ns, name)           store.watch(kind, ns=None, since_rv=None) -> Watch
    store.append_log(ns, pod, container, text)      store.record_event(obj, type, reason, message)
    store.subscribe(callback)  # callback(StoreEvent) on the writer's thread, after the change
Status split: for kinds with a status subresource (pods, deployments, replicasets, namespaces)
`update`/`patch` keep the stored status and `subresource="status"` changes only the status.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import secrets
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

from . import admission
from .errors import KubeError
from .logs import PodLogs
from .patch import PatchError, apply_patch
from .resources import RESOURCE_TYPES, ResourceType, resource_type
from .selectors import (SelectorError, match_label_selector_object, parse_field_selector,
                        parse_label_selector)
from .watch import Watch

PATCH_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}
PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")
_NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the apiserver's generateName alphabet


def now_rfc3339() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class StoreEvent:
    type: str  # ADDED, MODIFIED, DELETED
    resource: str  # plural
    obj: dict[str, Any]
    old: dict[str, Any] | None
    resource_version: int

    @property
    def namespace(self) -> str:
        return self.obj["metadata"].get("namespace", "")

    @property
    def name(self) -> str:
        return self.obj["metadata"]["name"]


class ClusterStore:
    def __init__(self, history: int = 10000) -> None:
        self._lock = threading.RLock()
        self._objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {rt.plural: {} for rt in RESOURCE_TYPES}
        self._rv = itertools.count(1)
        self._current_rv = 0
        self._history: deque[StoreEvent] = deque(maxlen=history)
        self._watches: set[Watch] = set()
        self._subscribers: list[Callable[[StoreEvent], None]] = []
        self._pending = threading.local()
        self.logs = PodLogs()

    # ------------------------------------------------------------ plumbing
    @property
    def resource_version(self) -> str:
        return str(self._current_rv)

    def _next_rv(self) -> int:
        self._current_rv = next(self._rv)
        return self._current_rv

    def _emit(self, event_type: str, rt: ResourceType, obj: dict, old: dict | None) -> None:
        """Called with the lock held: record history, feed watches, queue subscriber calls."""
        event = StoreEvent(event_type, rt.plural, copy.deepcopy(obj), copy.deepcopy(old) if old else None,
                           int(obj["metadata"]["resourceVersion"]))
        self._history.append(event)
        for watch in list(self._watches):
            watch.offer(event)
        self._pending.__dict__.setdefault("events", []).append(event)

    def _flush(self) -> None:
        """Run subscribers outside the lock so they may call back into the store."""
        events = self._pending.__dict__.pop("events", [])
        for event in events:
            for callback in list(self._subscribers):
                callback(event)

    def subscribe(self, callback: Callable[[StoreEvent], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    @staticmethod
    def _key(rt: ResourceType, ns: str | None, name: str) -> tuple[str, str]:
        return (ns or "") if rt.namespaced else "", name

    def _require_namespace(self, rt: ResourceType, ns: str | None) -> str:
        if not rt.namespaced:
            return ""
        if not ns:
            raise KubeError.bad_request("the server could not find the requested resource: namespace required")
        if ("", ns) not in self._objects["namespaces"]:
            raise KubeError.not_found("namespaces", ns)
        return ns

    # ------------------------------------------------------------ reads
    def get(self, kind: str, ns: str | None, name: str) -> dict[str, Any]:
        rt = resource_type(kind)
        with self._lock:
            obj = self._objects[rt.plural].get(self._key(rt, ns, name))
            if obj is None:
                raise KubeError.not_found(rt.plural, name, rt.group)
            return copy.deepcopy(obj)

    def list(self, kind: str, ns: str | None = None, label_selector: str | dict | None = None,
             field_selector: str | None = None) -> list[dict[str, Any]]:
        return self.list_with_version(kind, ns, label_selector, field_selector)[0]

    def list_with_version(self, kind: str, ns: str | None = None, label_selector: str | dict | None = None,
                          field_selector: str | None = None) -> tuple[list[dict[str, Any]], str]:
        rt = resource_type(kind)
        matches = self.matcher(rt, ns, label_selector, field_selector)
        with self._lock:
            items = [copy.deepcopy(o) for (o_ns, name), o in sorted(self._objects[rt.plural].items()) if matches(o)]
            return items, self.resource_version

    @staticmethod
    def matcher(rt: ResourceType, ns: str | None, label_selector: str | dict | None,
                field_selector: str | None) -> Callable[[dict], bool]:
        try:
            if isinstance(label_selector, dict):
                labels_ok = lambda labels, sel=label_selector: match_label_selector_object(sel, labels)  # noqa: E731
            else:
                labels_ok = parse_label_selector(label_selector)
            fields_ok = parse_field_selector(field_selector, rt.field_labels, rt.plural)
        except SelectorError as exc:
            raise KubeError.bad_request(str(exc)) from None

        def matches(obj: dict) -> bool:
            meta = obj.get("metadata", {})
            if rt.namespaced and ns and meta.get("namespace") != ns:
                return False
            return labels_ok(meta.get("labels") or {}) and fields_ok(obj)
        return matches

    # ------------------------------------------------------------ writes
    def create(self, kind: str, ns: str | None, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        rt = resource_type(kind)
        obj = copy.deepcopy(obj)
        obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            if meta.get("namespace") and ns and meta["namespace"] != ns:
                raise KubeError.bad_request("the namespace of the provided object does not match the "
                                            "namespace sent on the request")
            ns = ns or meta.get("namespace")
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(secrets.choice(_NAME_SUFFIX_ALPHABET) for _ in range(5))
        for transient in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "managedFields",
                          "selfLink", "deletionGracePeriodSeconds"):
            meta.pop(transient, None)
        admission.apply_defaults(rt, obj)
        admission.validate(rt, obj)
        with self._lock:
            ns = self._require_namespace(rt, ns)
            key = self._key(rt, ns, meta["name"])
            if key in self._objects[rt.plural]:
                raise KubeError.already_exists(rt.plural, meta["name"], rt.group)
            if rt.plural == "pods":
                self._admit_service_account(obj)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            if rt.plural in ("deployments", "replicasets"):
                meta["generation"] = 1
            if dry_run:
                meta["resourceVersion"] = self.resource_version
                return copy.deepcopy(obj)
            meta["resourceVersion"] = str(self._next_rv())
            self._objects[rt.plural][key] = obj
            self._emit("ADDED", rt, obj, None)
            result = copy.deepcopy(obj)
        self._flush()
        return result

    def _admit_service_account(self, pod: dict) -> None:
        """The ServiceAccount admission plugin: a pod naming no imagePullSecrets gets its service
        account's, at creation only (a later change to the account does not reach the pod)."""
        spec = pod["spec"]
        account = self._objects["serviceaccounts"].get((pod["metadata"]["namespace"], spec["serviceAccountName"]))
        if account and not spec.get("imagePullSecrets") and account.get("imagePullSecrets"):
            spec["imagePullSecrets"] = [{"name": s["name"]} for s in account["imagePullSecrets"] if s.get("name")]

    def update(self, kind: str, ns: str | None, obj: dict[str, Any], *, subresource: str | None = None,
               dry_run: bool = False) -> dict[str, Any]:
        rt = resource_type(kind)
        with self._lock:
            result = self._update_locked(rt, ns, copy.deepcopy(obj), subresource, dry_run)
        self._flush()
        return result

    def update_status(self, kind: str, ns: str | None, obj: dict[str, Any]) -> dict[str, Any]:
        return self.update(kind, ns, obj, subresource="status")

    def _update_locked(self, rt: ResourceType, ns: str | None, obj: dict, subresource: str | None,
                       dry_run: bool) -> dict:
        meta = obj.setdefault("metadata", {})
        name = meta.get("name", "")
        key = self._key(rt, ns or meta.get("namespace"), name)
        current = self._objects[rt.plural].get(key)
        if current is None:
            raise KubeError.not_found(rt.plural, name, rt.group)
        cur_meta = current["metadata"]
        if meta.get("resourceVersion") and meta["resourceVersion"] != cur_meta["resourceVersion"]:
            raise KubeError.conflict(rt.plural, name, rt.group)
        if rt.namespaced and meta.get("namespace") and meta["namespace"] != cur_meta["namespace"]:
            raise KubeError.bad_request("the namespace of the provided object does not match the "
                                        "namespace sent on the request")
        if subresource == "status":
            new = copy.deepcopy(current)
            new["status"] = obj.get("status", {})
        else:
            new = obj
            new["apiVersion"], new["kind"] = rt.api_version, rt.kind
            if rt.has_status_subresource and "status" in current:
                new["status"] = copy.deepcopy(current["status"])
            admission.apply_defaults(rt, new)
        new_meta = new["metadata"]
        for fixed in ("uid", "creationTimestamp", "namespace", "deletionTimestamp", "generation"):
            if fixed in cur_meta:
                new_meta[fixed] = cur_meta[fixed]
            else:
                new_meta.pop(fixed, None)
        new_meta["resourceVersion"] = cur_meta["resourceVersion"]
        admission.validate(rt, new, current)
        if new == current:
            return copy.deepcopy(current)  # a no-op write keeps its resourceVersion, as the real one does
        if "generation" in cur_meta and new.get("spec") != current.get("spec"):
            new_meta["generation"] = cur_meta["generation"] + 1
        if dry_run:
            return copy.deepcopy(new)
        new_meta["resourceVersion"] = str(self._next_rv())
        self._objects[rt.plural][key] = new
        self._emit("MODIFIED", rt, new, current)
        return copy.deepcopy(new)

    def patch(self, kind: str, ns: str | None, name: str, patch: Any, patch_type: str = "strategic", *,
              subresource: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        rt = resource_type(kind)
        content_type = PATCH_TYPES.get(patch_type, patch_type)
        with self._lock:
            current = self._objects[rt.plural].get(self._key(rt, ns, name))
            if current is None:
                raise KubeError.not_found(rt.plural, name, rt.group)
            try:
                patched = apply_patch(current, copy.deepcopy(patch), content_type)
            except PatchError as exc:
                if exc.bad_request:
                    raise KubeError.bad_request(str(exc)) from None
                raise KubeError(422, "Invalid", str(exc)) from None
            if not isinstance(patched, dict):
                raise KubeError(422, "Invalid", "the patch turned the object into a non-object")
            meta = patched.setdefault("metadata", {})
            if meta.get("name") != name:
                raise KubeError.bad_request(f"the name of the object ({meta.get('name')}) does not match "
                                            f"the name on the URL ({name})")
            result = self._update_locked(rt, ns, patched, subresource, dry_run)
        self._flush()
        return result

    def delete(self, kind: str, ns: str | None, name: str, *, propagation: str = "Background",
               preconditions: dict | None = None, dry_run: bool = False) -> dict[str, Any]:
        rt = resource_type(kind)
        with self._lock:
            current = self._objects[rt.plural].get(self._key(rt, ns, name))
            if current is None:
                raise KubeError.not_found(rt.plural, name, rt.group)
            if rt.plural == "namespaces" and name in PROTECTED_NAMESPACES:
                raise KubeError(403, "Forbidden", f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                                {"name": name, "kind": "namespaces"})
            for field, value in (preconditions or {}).items():
                if value and current["metadata"].get(field) != value:
                    raise KubeError.conflict(rt.plural, name, rt.group,
                                             f"Precondition failed: {field.capitalize()} in precondition: {value}, "
                                             f"{field.capitalize()} in object meta: {current['metadata'].get(field)}")
            if dry_run:
                return copy.deepcopy(current)
            self._delete_locked(rt, current, propagation)
            result = copy.deepcopy(current)
        self._flush()
        return result

    def _delete_locked(self, rt: ResourceType, obj: dict, propagation: str) -> None:
        meta = obj["metadata"]
        key = self._key(rt, meta.get("namespace"), meta["name"])
        if key not in self._objects[rt.plural]:
            return
        del self._objects[rt.plural][key]
        gone = copy.deepcopy(obj)
        gone["metadata"]["resourceVersion"] = str(self._next_rv())
        self._emit("DELETED", rt, gone, None)
        if rt.plural == "pods":
            self.logs.drop_pod(meta["namespace"], meta["name"])
        if rt.plural == "namespaces":
            for other in RESOURCE_TYPES:
                if other.namespaced:
                    for child in [o for (o_ns, _), o in self._objects[other.plural].items() if o_ns == meta["name"]]:
                        self._delete_locked(other, child, "Background")
            return
        # The garbage collector: dependents named by ownerReferences go too (or are orphaned).
        uid = meta["uid"]
        for other in RESOURCE_TYPES:
            if not other.namespaced:
                continue
            for child in list(self._objects[other.plural].values()):
                refs = child["metadata"].get("ownerReferences") or []
                if child["metadata"].get("namespace") != meta.get("namespace") or \
                        not any(ref.get("uid") == uid for ref in refs):
                    continue
                if propagation == "Orphan":
                    orphan = copy.deepcopy(child)
                    orphan["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                    self._update_locked(other, orphan["metadata"]["namespace"], orphan, None, False)
                else:
                    self._delete_locked(other, child, propagation)

    # ------------------------------------------------------------ watch
    def watch(self, kind: str, ns: str | None = None, since_rv: str | int | None = None,
              label_selector: str | dict | None = None, field_selector: str | None = None) -> Watch:
        """A Watch (iterate it, or `get(timeout)`) of (type, object) events. With no since_rv (or
        "0") it starts with a synthetic ADDED per existing object, as the real server does."""
        rt = resource_type(kind)
        matches = self.matcher(rt, ns, label_selector, field_selector)
        with self._lock:
            watch = Watch(rt.plural, matches, self._watches.discard)
            if since_rv in (None, "", "0", 0):
                for obj in sorted(self._objects[rt.plural].values(), key=lambda o: int(o["metadata"]["resourceVersion"])):
                    if matches(obj):
                        watch.push("ADDED", copy.deepcopy(obj))
            else:
                start = int(since_rv)
                oldest = self._history[0].resource_version if self._history else self._current_rv + 1
                if start < oldest - 1 and len(self._history) == self._history.maxlen:
                    raise KubeError(410, "Expired", f"too old resource version: {start} ({oldest - 1})")
                for event in self._history:
                    if event.resource_version > start:
                        watch.offer(event)
            self._watches.add(watch)
            return watch

    def close(self) -> None:
        """Stop every watch (the server is going away)."""
        with self._lock:
            for watch in list(self._watches):
                watch.stop()

    # ------------------------------------------------------------ logs and events
    def append_log(self, ns: str, pod: str, container: str, text: str) -> None:
        self.logs.append(ns, pod, container, text)

    def read_log(self, ns: str, pod: str, container: str | None = None, tail_lines: int | None = None) -> str:
        return self.logs.read(ns, pod, self.log_container(ns, pod, container), tail_lines)

    def log_container(self, ns: str, pod: str, container: str | None) -> str:
        """The container whose log is asked for, with the kubelet's errors for a bad choice."""
        obj = self.get("pods", ns, pod)
        names = [c.get("name") for c in obj["spec"].get("containers", []) + obj["spec"].get("initContainers", [])]
        if not container:
            if len(obj["spec"].get("containers", [])) != 1:
                raise KubeError.bad_request(f"a container name must be specified for pod {pod}, "
                                            f"choose one of: [{' '.join(names)}]")
            container = names[0]
        if container not in names:
            raise KubeError.bad_request(f"container {container} is not valid for pod {pod}")
        if not self.logs.has_output(ns, pod, container):
            state = next((s.get("state") or {} for s in (obj.get("status") or {}).get("containerStatuses") or []
                          if s.get("name") == container), {})
            if "running" not in state and "terminated" not in state:
                reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
                raise KubeError.bad_request(f'container "{container}" in pod "{pod}" is waiting to start: {reason}')
        return container

    def record_event(self, involved: dict[str, Any], event_type: str, reason: str, message: str,
                     component: str = "kubelet", host: str | None = None) -> dict[str, Any]:
        """Record an Event about `involved` the way client-go's recorder does: a repeat of the same
        reason and message bumps count and lastTimestamp instead of adding a new Event."""
        meta = involved["metadata"]
        ns = meta.get("namespace") or "default"
        now = now_rfc3339()
        with self._lock:
            for event in self._objects["events"].values():
                ref = event["involvedObject"]
                if ref.get("uid") == meta.get("uid") and event.get("reason") == reason \
                        and event.get("message") == message and event["metadata"]["namespace"] == ns:
                    repeat = copy.deepcopy(event)
                    repeat["count"] = event.get("count", 1) + 1
                    repeat["lastTimestamp"] = now
                    result = self._update_locked(resource_type("events"), ns, repeat, None, False)
                    break
            else:
                source = {"component": component, **({"host": host} if host else {})}
                event = {
                    "metadata": {"name": f"{meta['name']}.{secrets.token_hex(8)}", "namespace": ns},
                    "involvedObject": {"kind": involved.get("kind"), "namespace": meta.get("namespace"),
                                       "name": meta["name"], "uid": meta.get("uid"),
                                       "apiVersion": involved.get("apiVersion"),
                                       "resourceVersion": meta.get("resourceVersion")},
                    "reason": reason, "message": message, "source": source, "type": event_type,
                    "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                    "reportingComponent": component, "reportingInstance": host or "",
                }
                result = None
        if result is not None:
            self._flush()
            return result
        return self.create("events", ns, event)
