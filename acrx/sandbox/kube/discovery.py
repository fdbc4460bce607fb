"""Discovery documents: /version, /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>."""

from __future__ import annotations

from typing import Any

from .resources import RESOURCE_TYPES, group_versions

# ACK's current line is 1.31/1.32; kubectl 1.32 accepts a server one minor behind without a warning.
SERVER_VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.1-aliyun.1",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-10-01T00:00:00Z",
    "goVersion": "go1.22.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}

# Subresources each type publishes in its APIResourceList.
_SUBRESOURCES = {
    "pods": (("log", ("get",)), ("status", ("get", "patch", "update"))),
    "deployments": (("status", ("get", "patch", "update")), ("scale", ("get", "patch", "update"))),
    "replicasets": (("status", ("get", "patch", "update")), ("scale", ("get", "patch", "update"))),
    "namespaces": (("status", ("get", "patch", "update")),),
}


def api_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_group_list() -> dict[str, Any]:
    groups = [_group(name, versions) for name, versions in group_versions().items() if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(name: str) -> dict[str, Any] | None:
    versions = group_versions().get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    resources = []
    for rt in RESOURCE_TYPES:
        if rt.group != group or rt.version != version:
            continue
        entry: dict[str, Any] = {"name": rt.plural, "singularName": rt.singular_name, "namespaced": rt.namespaced,
                                 "kind": rt.kind, "verbs": list(rt.verbs)}
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        for sub, verbs in _SUBRESOURCES.get(rt.plural, ()):
            entry = {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced,
                     "kind": "Pod" if sub == "log" else rt.kind, "verbs": list(verbs)}
            if sub == "scale":
                entry.update({"group": "autoscaling", "version": "v1", "kind": "Scale"})
            resources.append(entry)
    if not resources:
        return None
    group_version = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}
