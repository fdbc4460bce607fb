"""Server-side Table output (`Accept: application/json;as=Table`), the columns `kubectl get` prints.

The column sets and cell texts follow the apiserver's printers (pkg/printers/internalversion),
so `kubectl get pods` shows READY/STATUS/RESTARTS/AGE, with the kubelet's waiting reasons
(ErrImagePull, ImagePullBackOff) in STATUS.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from .selectors import selector_to_string

Column = tuple[str, str, int]  # name, type, priority (1 = only with -o wide)


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    s = max(int(seconds), 0)
    minutes, hours = s // 60, s // 3600
    if s < 120:
        return f"{s}s"
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        return f"{hours // 24 // 365}y{(hours // 24) % 365}d"
    return f"{hours // 24 // 365}y"


def age(timestamp: str | None) -> str:
    when = _parse_time(timestamp)
    if when is None:
        return "<unknown>"
    return human_duration((dt.datetime.now(dt.timezone.utc) - when).total_seconds())


def pod_status_text(pod: dict[str, Any]) -> tuple[str, int, int, int]:
    """STATUS, ready containers, total containers, restarts, as printPod computes them."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    total = len(spec.get("containers") or [])
    ready = restarts = 0
    for cs in reversed(status.get("containerStatuses") or []):
        restarts += cs.get("restartCount", 0)
        state = cs.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif (state.get("terminated") or {}).get("reason"):
            reason = state["terminated"]["reason"]
        elif "terminated" in state:
            term = state["terminated"]
            reason = f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode', 0)}"
        elif "running" in state and cs.get("ready"):
            ready += 1
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return reason, ready, total, restarts


def _containers(template_spec: dict) -> tuple[str, str]:
    containers = template_spec.get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _pod_row(pod: dict) -> list:
    reason, ready, total, restarts = pod_status_text(pod)
    status = pod.get("status") or {}
    return [pod["metadata"]["name"], f"{ready}/{total}", reason, restarts, age(pod["metadata"].get("creationTimestamp")),
            status.get("podIP") or "<none>", (pod.get("spec") or {}).get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>", "<none>"]


def _deployment_row(d: dict) -> list:
    spec, status = d.get("spec") or {}, d.get("status") or {}
    names, images = _containers(((spec.get("template") or {}).get("spec")) or {})
    return [d["metadata"]["name"], f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
            status.get("updatedReplicas", 0), status.get("availableReplicas", 0),
            age(d["metadata"].get("creationTimestamp")), names, images, selector_to_string(spec.get("selector"))]


def _replicaset_row(rs: dict) -> list:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    names, images = _containers(((spec.get("template") or {}).get("spec")) or {})
    return [rs["metadata"]["name"], spec.get("replicas", 0), status.get("replicas", 0), status.get("readyReplicas", 0),
            age(rs["metadata"].get("creationTimestamp")), names, images, selector_to_string(spec.get("selector"))]


def _event_row(ev: dict) -> list:
    ref = ev.get("involvedObject") or {}
    last = ev.get("lastTimestamp") or ev.get("eventTime") or ev["metadata"].get("creationTimestamp")
    first = ev.get("firstTimestamp") or last
    count = ev.get("count", 1)
    last_seen = age(last)
    if count > 1:
        last_seen = f"{last_seen} (x{count} over {age(first)})"
    source = ev.get("source") or {}
    return [last_seen, ev.get("type", ""), ev.get("reason", ""), f"{(ref.get('kind') or '').lower()}/{ref.get('name', '')}",
            (ev.get("message") or "").strip(), ", ".join(v for v in (source.get("component"), source.get("host")) if v),
            ref.get("fieldPath", ""), count, first and age(first), ev["metadata"]["name"]]


_TABLES: dict[str, tuple[list[Column], Callable[[dict], list]]] = {
    "namespaces": ([("Name", "string", 0), ("Status", "string", 0), ("Age", "string", 0)],
                   lambda o: [o["metadata"]["name"], (o.get("status") or {}).get("phase", ""),
                              age(o["metadata"].get("creationTimestamp"))]),
    "configmaps": ([("Name", "string", 0), ("Data", "integer", 0), ("Age", "string", 0)],
                   lambda o: [o["metadata"]["name"], len(o.get("data") or {}) + len(o.get("binaryData") or {}),
                              age(o["metadata"].get("creationTimestamp"))]),
    "secrets": ([("Name", "string", 0), ("Type", "string", 0), ("Data", "string", 0), ("Age", "string", 0)],
                lambda o: [o["metadata"]["name"], o.get("type", ""), len(o.get("data") or {}),
                           age(o["metadata"].get("creationTimestamp"))]),
    "serviceaccounts": ([("Name", "string", 0), ("Secrets", "string", 0), ("Age", "string", 0)],
                        lambda o: [o["metadata"]["name"], len(o.get("secrets") or []),
                                   age(o["metadata"].get("creationTimestamp"))]),
    "pods": ([("Name", "string", 0), ("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "string", 0),
              ("Age", "string", 0), ("IP", "string", 1), ("Node", "string", 1), ("Nominated Node", "string", 1),
              ("Readiness Gates", "string", 1)], _pod_row),
    "deployments": ([("Name", "string", 0), ("Ready", "string", 0), ("Up-to-date", "string", 0),
                     ("Available", "string", 0), ("Age", "string", 0), ("Containers", "string", 1),
                     ("Images", "string", 1), ("Selector", "string", 1)], _deployment_row),
    "replicasets": ([("Name", "string", 0), ("Desired", "integer", 0), ("Current", "integer", 0),
                     ("Ready", "integer", 0), ("Age", "string", 0), ("Containers", "string", 1),
                     ("Images", "string", 1), ("Selector", "string", 1)], _replicaset_row),
    "events": ([("Last Seen", "string", 0), ("Type", "string", 0), ("Reason", "string", 0),
                ("Object", "string", 0), ("Message", "string", 0), ("Source", "string", 1),
                ("Subobject", "string", 1), ("Count", "string", 1), ("First Seen", "string", 1),
                ("Name", "string", 1)], _event_row),
}


def to_table(resource: str, objects: list[dict], resource_version: str, include_object: str = "Metadata") -> dict:
    """A meta.k8s.io/v1 Table of `objects`; each row carries the object (or its metadata)."""
    columns, row_of = _TABLES[resource]
    rows = []
    for obj in objects:
        if include_object == "None":
            embedded = None
        elif include_object == "Object":
            embedded = obj
        else:
            embedded = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}
        rows.append({"cells": row_of(obj), "object": embedded})
    definitions = [{"name": name, "type": kind, "format": "name" if name == "Name" else "", "description": "",
                    "priority": priority} for name, kind, priority in columns]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": definitions, "rows": rows}
