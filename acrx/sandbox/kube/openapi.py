"""The smallest OpenAPI v3 documents kubectl apply needs.

Why they exist: with `--validate=strict` (the default) kubectl asks /openapi/v3 whether the
server validates fields itself (a `fieldValidation` query parameter on the PATCH operation of
the kind); if it cannot tell, it downloads /openapi/v2 to validate client-side and fails with
"failed to download openapi" when that is 404. So each group-version document lists, per kind,
the operations with their `x-kubernetes-group-version-kind` and query parameters.

Their PATCH request bodies deliberately omit the strategic-merge content type and carry no
schemas: kubectl then computes apply patches from its compiled-in Go types (the real merge keys)
rather than from a schema we would have to keep in step with Kubernetes. /openapi/v2 stays 404.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .errors import KubeError
from .resources import RESOURCE_TYPES, ResourceType

_NOT_FOUND = KubeError(404, "NotFound", "the server could not find the requested resource")


def _query(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": {"type": "string"},
            "uniqueItems": True}


_WRITE_PARAMS = [
    _query("dryRun", "When present, indicates that modifications should not be persisted."),
    _query("fieldManager", "a name associated with the actor or entity that is making these changes."),
    _query("fieldValidation", "instructs the server on how to handle objects in the request containing "
                              "unknown or duplicate fields."),
]
_OBJECT_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True}
_PATCH_BODY = {"content": {"application/json-patch+json": {"schema": {"type": "object"}},
                           "application/merge-patch+json": {"schema": {"type": "object"}}}, "required": True}
_OK = {"200": {"description": "OK"}}


def _operation(rt: ResourceType, verb: str, action: str, params: list, body: dict | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"{verb}{rt.kind}",
        "parameters": params,
        "responses": _OK,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
    }
    if body is not None:
        op["requestBody"] = body
    return op


def _paths(rt: ResourceType) -> dict[str, Any]:
    prefix = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
    scope = f"{prefix}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{prefix}/{rt.plural}"
    item = {
        "get": _operation(rt, "read", "get", []),
        "put": _operation(rt, "replace", "put", _WRITE_PARAMS, _OBJECT_BODY),
        "patch": _operation(rt, "patch", "patch", _WRITE_PARAMS + [_query("force", "Force is going to \"force\" "
                                                                           "Apply requests.")], _PATCH_BODY),
        "delete": _operation(rt, "delete", "delete", [_query("dryRun", ""), _query("propagationPolicy", "")]),
    }
    collection = {
        "get": _operation(rt, "list", "list", [_query("labelSelector", ""), _query("fieldSelector", "")]),
        "post": _operation(rt, "create", "post", _WRITE_PARAMS, _OBJECT_BODY),
    }
    return {scope: collection, f"{scope}/{{name}}": item}


def _group_version_key(rt: ResourceType) -> str:
    return f"apis/{rt.group}/{rt.version}" if rt.group else f"api/{rt.version}"


def group_version_document(key: str) -> dict[str, Any] | None:
    paths: dict[str, Any] = {}
    for rt in RESOURCE_TYPES:
        if _group_version_key(rt) == key:
            paths.update(_paths(rt))
    if not paths:
        return None
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.31.1"}, "paths": paths,
            "components": {"schemas": {}}}


def _hash(document: dict[str, Any]) -> str:
    return hashlib.sha512(json.dumps(document, sort_keys=True).encode()).hexdigest().upper()[:128]


def document(parts: list[str], query: dict[str, str]) -> dict[str, Any]:
    """/openapi/v3 (the index) or /openapi/v3/<api/v1 | apis/group/version>."""
    if parts[:2] != ["openapi", "v3"]:
        raise _NOT_FOUND
    if len(parts) == 2:
        index = {}
        for key in sorted({_group_version_key(rt) for rt in RESOURCE_TYPES}):
            doc = group_version_document(key)
            index[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={_hash(doc or {})}"}
        return {"paths": index}
    doc = group_version_document("/".join(parts[2:]))
    if doc is None:
        raise _NOT_FOUND
    return doc
