"""The verbs behind each resource path: list/watch/create/deletecollection on collections,
get/replace/patch/delete on objects, the status subresource and pod logs."""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

from .errors import KubeError
from .store import PATCH_TYPES

if TYPE_CHECKING:
    from .apiserver import _Handler, _Route

_METHOD_NOT_ALLOWED = KubeError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
_DEFAULT_WATCH_SECONDS = 1800.0


def _truthy(value: str | None) -> bool:
    return value not in (None, "", "0", "false", "False")


def handle(h: "_Handler", method: str, route: "_Route") -> None:
    if route.name is None:
        _collection(h, method, route)
    elif route.subresource is None:
        _object(h, method, route)
    elif route.subresource == "status" and route.rt.has_status_subresource:
        _status(h, method, route)
    elif route.subresource == "scale" and route.rt.plural in ("deployments", "replicasets"):
        _scale(h, method, route)
    elif route.subresource == "log" and route.rt.plural == "pods":
        if method != "GET":
            raise _METHOD_NOT_ALLOWED
        _pod_log(h, route)
    else:
        raise KubeError(404, "NotFound", "the server could not find the requested resource")


def _dry_run(h: "_Handler", options: dict | None = None) -> bool:
    return bool(h.query.get("dryRun")) or bool((options or {}).get("dryRun"))


def _collection(h: "_Handler", method: str, route: "_Route") -> None:
    store, rt, q = h.server.store, route.rt, h.query
    if method == "GET":
        if _truthy(q.get("watch")):
            _watch(h, route)
            return
        items, rv = store.list_with_version(rt.plural, route.namespace, q.get("labelSelector"), q.get("fieldSelector"))
        if h.wants_table():
            h._send_json(200, h.render(rt.plural, items, rv))
        else:
            h._send_json(200, {"kind": rt.list_kind, "apiVersion": rt.api_version,
                               "metadata": {"resourceVersion": rv}, "items": items})
    elif method == "POST":
        if rt.namespaced and route.namespace is None:
            raise _METHOD_NOT_ALLOWED
        body = h.json_body()
        if not isinstance(body, dict):
            raise KubeError.bad_request("the body of the request must be an object")
        if body.get("kind") not in (None, rt.kind):
            raise KubeError.bad_request(f"the kind of the object ({body.get('kind')}) does not match "
                                        f"the expected kind ({rt.kind})")
        h._send_json(201, store.create(rt.plural, route.namespace, body, dry_run=_dry_run(h)))
    elif method == "DELETE":
        items, rv = store.list_with_version(rt.plural, route.namespace, h.query.get("labelSelector"),
                                            h.query.get("fieldSelector"))
        deleted = []
        for item in items:
            try:
                deleted.append(store.delete(rt.plural, item["metadata"].get("namespace"), item["metadata"]["name"],
                                            dry_run=_dry_run(h)))
            except KubeError as err:
                if err.status_code != 404:
                    raise
        h._send_json(200, {"kind": rt.list_kind, "apiVersion": rt.api_version,
                           "metadata": {"resourceVersion": store.resource_version}, "items": deleted})
    else:
        raise _METHOD_NOT_ALLOWED


def _object(h: "_Handler", method: str, route: "_Route") -> None:
    store, rt, ns, name = h.server.store, route.rt, route.namespace, route.name
    if method == "GET":
        obj = store.get(rt.plural, ns, name)
        h._send_json(200, h.render(rt.plural, [obj], obj["metadata"]["resourceVersion"]) if h.wants_table() else obj)
    elif method == "PUT":
        body = _named_body(h, name)
        h._send_json(200, store.update(rt.plural, ns, body, dry_run=_dry_run(h)))
    elif method == "PATCH":
        h._send_json(200, _patch(h, route, None))
    elif method == "DELETE":
        options = h.json_body() if h.body else {}
        options = options if isinstance(options, dict) else {}
        propagation = h.query.get("propagationPolicy") or options.get("propagationPolicy") or "Background"
        obj = store.delete(rt.plural, ns, name, propagation=propagation,
                           preconditions=options.get("preconditions"), dry_run=_dry_run(h, options))
        if rt.plural in ("pods", "namespaces"):
            h._send_json(200, obj)
        else:
            details = {"name": name, "kind": rt.plural, "uid": obj["metadata"]["uid"]}
            if rt.group:
                details["group"] = rt.group
            h._send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                               "details": details})
    else:
        raise _METHOD_NOT_ALLOWED


def _named_body(h: "_Handler", name: str) -> dict:
    body = h.json_body()
    if not isinstance(body, dict):
        raise KubeError.bad_request("the body of the request must be an object")
    body_name = (body.get("metadata") or {}).get("name")
    if body_name != name:
        raise KubeError.bad_request(f"the name of the object ({body_name}) does not match the name on the URL ({name})")
    return body


def _patch(h: "_Handler", route: "_Route", subresource: str | None) -> dict:
    content_type = (h.headers.get("Content-Type") or "").split(";")[0].strip()
    if content_type not in PATCH_TYPES.values():
        # Server-side apply (application/apply-patch+yaml) is not served: kubectl falls back to
        # nothing, so say so plainly with the real 415.
        raise KubeError(415, "UnsupportedMediaType",
                        "the body of the request was in an unknown format - accepted media types include: "
                        + ", ".join(PATCH_TYPES.values()))
    return h.server.store.patch(route.rt.plural, route.namespace, route.name, h.json_body(), content_type,
                                subresource=subresource, dry_run=_dry_run(h))


def _status(h: "_Handler", method: str, route: "_Route") -> None:
    store = h.server.store
    if method == "GET":
        h._send_json(200, store.get(route.rt.plural, route.namespace, route.name))
    elif method == "PUT":
        body = _named_body(h, route.name)
        h._send_json(200, store.update(route.rt.plural, route.namespace, body, subresource="status",
                                       dry_run=_dry_run(h)))
    elif method == "PATCH":
        h._send_json(200, _patch(h, route, "status"))
    else:
        raise _METHOD_NOT_ALLOWED


def _scale_of(obj: dict) -> dict:
    from .selectors import selector_to_string

    meta = obj["metadata"]
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")},
            "spec": {"replicas": obj["spec"].get("replicas", 0)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": selector_to_string(obj["spec"].get("selector"))}}


def _scale(h: "_Handler", method: str, route: "_Route") -> None:
    """autoscaling/v1 Scale, what `kubectl scale` reads and writes."""
    store, rt, ns, name = h.server.store, route.rt, route.namespace, route.name
    current = store.get(rt.plural, ns, name)
    if method == "GET":
        h._send_json(200, _scale_of(current))
        return
    if method == "PUT":
        wanted = _named_body(h, name)
    elif method == "PATCH":
        content_type = (h.headers.get("Content-Type") or "").split(";")[0].strip()
        from .patch import PatchError, apply_patch

        try:
            wanted = apply_patch(_scale_of(current), h.json_body(), content_type)
        except PatchError as exc:
            raise KubeError(400 if exc.bad_request else 422, "BadRequest" if exc.bad_request else "Invalid",
                            str(exc)) from None
    else:
        raise _METHOD_NOT_ALLOWED
    replicas = (wanted.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or replicas < 0:
        raise KubeError.invalid("Scale", "autoscaling", name, [("spec.replicas", "FieldValueInvalid",
                                f"Invalid value: {replicas}: must be greater than or equal to 0")])
    expected_rv = (wanted.get("metadata") or {}).get("resourceVersion")
    if method == "PUT" and expected_rv and expected_rv != current["metadata"]["resourceVersion"]:
        raise KubeError.conflict(rt.plural, name, rt.group)
    updated = store.patch(rt.plural, ns, name, {"spec": {"replicas": replicas}}, "merge", dry_run=_dry_run(h))
    h._send_json(200, _scale_of(updated))


def _watch(h: "_Handler", route: "_Route") -> None:
    store, q, rt = h.server.store, h.query, route.rt
    deadline = time.monotonic() + float(q.get("timeoutSeconds") or _DEFAULT_WATCH_SECONDS)
    table = h.wants_table()
    try:
        watch = store.watch(rt.plural, route.namespace, q.get("resourceVersion") or None,
                            q.get("labelSelector"), q.get("fieldSelector"))
    except KubeError as err:
        if err.status_code != 410:
            raise
        h._start_chunked("application/json")
        h._chunk(json.dumps({"type": "ERROR", "object": err.to_status()}).encode() + b"\n")
        h._end_chunked()
        return
    h._start_chunked("application/json")
    first = True
    try:
        while not h.server.stopping.is_set() and time.monotonic() < deadline:
            event = watch.get(timeout=0.5)
            if event is None:
                if watch.stopped or h._client_gone():
                    break
                continue
            event_type, obj = event
            payload: Any = obj
            if table:
                payload = h.render(rt.plural, [obj], obj["metadata"]["resourceVersion"])
                if not first:
                    payload["columnDefinitions"] = []
            first = False
            h._chunk(json.dumps({"type": event_type, "object": payload}, separators=(",", ":")).encode() + b"\n")
    except OSError:
        pass
    finally:
        watch.stop()
    h._end_chunked()


def _pod_log(h: "_Handler", route: "_Route") -> None:
    store, q, ns, pod = h.server.store, h.query, route.namespace, route.name
    container = store.log_container(ns, pod, q.get("container"))
    tail = int(q["tailLines"]) if q.get("tailLines") else None
    text = store.logs.read(ns, pod, container, tail)
    if not _truthy(q.get("follow")):
        data = text.encode()
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
        return
    stop = threading.Event()
    h._start_chunked("text/plain")
    try:
        h._chunk(text.encode())
        offset = len(store.logs.read(ns, pod, container))
        for piece in store.logs.follow(ns, pod, container, offset, stop):
            if h.server.stopping.is_set() or h._client_gone():
                break
            h._chunk(piece.encode())
    except OSError:
        pass
    finally:
        stop.set()
    h._end_chunked()
