"""The three patch types of the Kubernetes API, on plain JSON values.

- Strategic merge patch: a merge patch that merges the lists the Kubernetes types mark with a
  merge key (containers by name, ports by containerPort, ...), understands `$patch`
  (replace/delete/merge), `$retainKeys`, `$setElementOrder/<list>` and
  `$deleteFromPrimitiveList/<list>` as kubectl apply writes them.
- JSON merge patch (RFC 7386).
- JSON patch (RFC 6902): add, remove, replace, test, move, copy.

Errors raise `PatchError`; the server turns them into 422 (a patch that does not apply) or 400
(a patch that is not a patch), as the real apiserver does.
"""

from __future__ import annotations

import copy
from typing import Any

# Field name -> merge key, from the `patchMergeKey` tags of the k8s.io/api types we serve.
# Field names are enough: within these kinds each name means one list type.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "ports": "containerPort",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "secrets": "name",  # ServiceAccount.secrets
    "ownerReferences": "uid",
    "conditions": "type",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "schedulingGates": "name",
    "containerStatuses": "name",
    "initContainerStatuses": "name",
}
# Lists of scalars with patchStrategy "merge" (set union rather than replace).
PRIMITIVE_MERGE_LISTS = {"finalizers"}

_DIRECTIVE = "$patch"
_RETAIN = "$retainKeys"
_ORDER_PREFIX = "$setElementOrder/"
_DELETE_PRIMITIVE_PREFIX = "$deleteFromPrimitiveList/"


class PatchError(ValueError):
    def __init__(self, message: str, *, bad_request: bool = False):
        super().__init__(message)
        self.bad_request = bad_request


# ---------------------------------------------------------------- JSON merge patch (RFC 7386)

def json_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


# ---------------------------------------------------------------- strategic merge patch

def strategic_merge_patch(original: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object", bad_request=True)
    if not isinstance(original, dict):
        original = {}
    return _merge_map(copy.deepcopy(original), copy.deepcopy(patch))


def _merge_map(original: dict, patch: dict) -> dict:
    directive = patch.pop(_DIRECTIVE, None)
    if directive == "replace":
        return _strip_directives(patch)
    if directive == "delete":
        return {}
    if directive not in (None, "merge"):
        raise PatchError(f"Unknown patch type: {directive}")

    retain = patch.pop(_RETAIN, None)
    orders: dict[str, list] = {}
    for key in [k for k in patch if k.startswith(_ORDER_PREFIX)]:
        orders[key[len(_ORDER_PREFIX):]] = patch.pop(key)
    for key in [k for k in patch if k.startswith(_DELETE_PRIMITIVE_PREFIX)]:
        field, doomed = key[len(_DELETE_PRIMITIVE_PREFIX):], patch.pop(key)
        if isinstance(original.get(field), list):
            original[field] = [v for v in original[field] if v not in doomed]

    for key, value in patch.items():
        if value is None:
            original.pop(key, None)
        elif isinstance(value, dict):
            if value.get(_DIRECTIVE) == "delete" and len(value) == 1:
                original.pop(key, None)
            elif isinstance(original.get(key), dict):
                original[key] = _merge_map(original[key], value)
            else:
                original[key] = _merge_map({}, value)
        elif isinstance(value, list):
            original[key] = _merge_list(key, original.get(key), value)
        else:
            original[key] = value

    if retain is not None:
        keep = set(retain)
        for key in [k for k in original if k not in keep]:
            del original[key]
    for field, order in orders.items():
        if isinstance(original.get(field), list):
            original[field] = _apply_order(field, original[field], order)
    return original


def _merge_list(field: str, original: Any, patch: list) -> list:
    if not isinstance(original, list):
        original = []
    merge_key = MERGE_KEYS.get(field)
    if merge_key is None:
        if field in PRIMITIVE_MERGE_LISTS:
            return original + [v for v in patch if v not in original]
        return _strip_directives(patch)
    if any(isinstance(item, dict) and item.get(_DIRECTIVE) == "replace" for item in patch):
        return [_strip_directives(i) for i in patch if not (isinstance(i, dict) and _DIRECTIVE in i)]
    result = list(original)
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"list {field} with merge key {merge_key} holds a non-object")
        if item.get(_DIRECTIVE) == "delete":
            result = [o for o in result if not (isinstance(o, dict) and o.get(merge_key) == item.get(merge_key))]
            continue
        if merge_key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {merge_key}")
        for index, existing in enumerate(result):
            if isinstance(existing, dict) and existing.get(merge_key) == item[merge_key]:
                result[index] = _merge_map(existing, item)
                break
        else:
            result.append(_merge_map({}, item))
    return result


def _apply_order(field: str, items: list, order: list) -> list:
    merge_key = MERGE_KEYS.get(field)

    def key_of(value: Any) -> Any:
        return value.get(merge_key) if merge_key and isinstance(value, dict) else value

    wanted = [key_of(o) for o in order]
    ranked = [i for i in items if key_of(i) in wanted]
    ranked.sort(key=lambda i: wanted.index(key_of(i)))
    return ranked + [i for i in items if key_of(i) not in wanted]


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items()
                if k != _DIRECTIVE and k != _RETAIN and not k.startswith(("$setElementOrder/", "$deleteFromPrimitiveList/"))}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


# ---------------------------------------------------------------- JSON patch (RFC 6902)

def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}", bad_request=True)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _resolve(doc: Any, tokens: list[str], path: str) -> Any:
    for token in tokens:
        if isinstance(doc, dict):
            if token not in doc:
                raise PatchError(f"doc is missing path: {path}: missing value")
            doc = doc[token]
        elif isinstance(doc, list):
            doc = doc[_index(doc, token, path)]
        else:
            raise PatchError(f"doc is missing path: {path}: missing value")
    return doc


def _index(items: list, token: str, path: str, *, allow_end: bool = False) -> int:
    if allow_end and token == "-":
        return len(items)
    if not token.isdigit():
        raise PatchError(f"invalid index {token!r} in {path}")
    index = int(token)
    if index > len(items) or (index == len(items) and not allow_end):
        raise PatchError(f"Unable to access invalid index: {index}: invalid index referenced: {path}")
    return index


def _add(doc: Any, path: str, value: Any) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _resolve(doc, tokens[:-1], path)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, path, allow_end=True), value)
    else:
        raise PatchError(f"doc is missing path: {path}: missing value")
    return doc


def _remove(doc: Any, path: str) -> tuple[Any, Any]:
    tokens = _pointer(path)
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent = _resolve(doc, tokens[:-1], path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"Unable to remove nonexistent key: {last}: missing value")
        return doc, parent.pop(last)
    if isinstance(parent, list):
        return doc, parent.pop(_index(parent, last, path))
    raise PatchError(f"doc is missing path: {path}: missing value")


def json_patch(target: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise PatchError("json patch must be a JSON array of operations", bad_request=True)
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid JSON patch operation: {op!r}", bad_request=True)
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"missing value for {kind} at {path}", bad_request=True)
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            doc, _ = _remove(doc, path)
        elif kind == "replace":
            _resolve(doc, _pointer(path), path)  # must exist
            if not _pointer(path):
                doc = copy.deepcopy(op["value"])
            else:
                doc, _ = _remove(doc, path)
                doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "test":
            if _resolve(doc, _pointer(path), path) != op["value"]:
                raise PatchError(f"testing value {path} failed: test failed")
        elif kind in ("move", "copy"):
            source = op.get("from")
            if source is None:
                raise PatchError(f"missing from for {kind} at {path}", bad_request=True)
            if kind == "move":
                doc, value = _remove(doc, source)
            else:
                value = copy.deepcopy(_resolve(doc, _pointer(source), source))
            doc = _add(doc, path, value)
        else:
            raise PatchError(f"Unexpected kind: {kind}", bad_request=True)
    return doc


PATCH_CONTENT_TYPES = {
    "application/strategic-merge-patch+json": strategic_merge_patch,
    "application/merge-patch+json": json_merge_patch,
    "application/json-patch+json": json_patch,
}


def apply_patch(original: dict, patch: Any, content_type: str) -> Any:
    """Apply a patch given its Content-Type (one of PATCH_CONTENT_TYPES)."""
    try:
        func = PATCH_CONTENT_TYPES[content_type]
    except KeyError:
        raise PatchError(f"unsupported patch type {content_type}", bad_request=True) from None
    return func(original, patch)
