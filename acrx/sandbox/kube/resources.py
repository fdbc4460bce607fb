"""The resource types the sandbox cluster serves, described once for the store, discovery and tables.

A `ResourceType` holds what the real apiserver publishes in discovery (plural, kind, short
names, verbs, scope) plus what the store needs (which field selectors the real server
accepts, whether the kind has a status subresource whose writes are split from spec writes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NAMESPACE_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    plural: str
    kind: str
    group: str  # "" for core
    version: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    # Kinds whose status is written through /status only (spec writes keep the old status).
    has_status_subresource: bool = False
    # Field selector labels the real apiserver supports beyond metadata.name/namespace.
    field_labels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    singular: str = field(default="")

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()


RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType("namespaces", "Namespace", "", "v1", False, ("ns",), NAMESPACE_VERBS,
                 has_status_subresource=True, field_labels=("status.phase",)),
    ResourceType("configmaps", "ConfigMap", "", "v1", True, ("cm",)),
    ResourceType("secrets", "Secret", "", "v1", True, field_labels=("type",)),
    ResourceType("serviceaccounts", "ServiceAccount", "", "v1", True, ("sa",)),
    ResourceType("pods", "Pod", "", "v1", True, ("po",), has_status_subresource=True,
                 field_labels=("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                               "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
                               "status.podIP", "status.nominatedNodeName"),
                 categories=("all",)),
    ResourceType("events", "Event", "", "v1", True, ("ev",),
                 field_labels=("involvedObject.kind", "involvedObject.namespace",
                               "involvedObject.name", "involvedObject.uid",
                               "involvedObject.apiVersion", "involvedObject.resourceVersion",
                               "involvedObject.fieldPath", "reason", "reportingComponent",
                               "source", "type")),
    ResourceType("deployments", "Deployment", "apps", "v1", True, ("deploy",),
                 has_status_subresource=True, categories=("all",)),
    ResourceType("replicasets", "ReplicaSet", "apps", "v1", True, ("rs",),
                 has_status_subresource=True, categories=("all",)),
)

_BY_PLURAL = {rt.plural: rt for rt in RESOURCE_TYPES}
_ALIASES: dict[str, ResourceType] = {}
for _rt in RESOURCE_TYPES:
    for _alias in (_rt.plural, _rt.kind, _rt.kind.lower(), _rt.singular_name, *_rt.short_names):
        _ALIASES[_alias] = _rt


def resource_type(kind_or_plural: str) -> ResourceType:
    """Look a type up by plural, Kind, singular or short name ("cm", "ConfigMap", "configmaps")."""
    try:
        return _ALIASES[kind_or_plural]
    except KeyError:
        raise LookupError(f"the sandbox cluster serves no resource type {kind_or_plural!r}") from None


def resource_for_path(group: str, version: str, plural: str) -> ResourceType | None:
    """The type served at /api/<version>/<plural> or /apis/<group>/<version>/<plural>."""
    rt = _BY_PLURAL.get(plural)
    if rt is None or rt.group != group or rt.version != version:
        return None
    return rt


def group_versions() -> dict[str, list[str]]:
    """{group: [versions]} for discovery; the core group is ""."""
    result: dict[str, list[str]] = {}
    for rt in RESOURCE_TYPES:
        versions = result.setdefault(rt.group, [])
        if rt.version not in versions:
            versions.append(rt.version)
    return result
