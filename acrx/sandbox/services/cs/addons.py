"""The CS addon catalog: which addons exist, on which clusters they install, their config schema.

Facts and choices in one place so they are easy to correct. Marked [?] where no live check
was possible (reference: alibaba-cloud.md §1.2, Part 2 §1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from acrx.sandbox.core.errors import ApiError

MANAGED_ACR_HELPER = "managed-aliyun-acr-credential-helper"
SELF_MANAGED_ACR_HELPER = "aliyun-acr-credential-helper"

# The two editions of the credential helper exclude each other (documented: only one at a time).
MUTUALLY_EXCLUSIVE = {MANAGED_ACR_HELPER: SELF_MANAGED_ACR_HELPER, SELF_MANAGED_ACR_HELPER: MANAGED_ACR_HELPER}

# Error codes the sandbox answers; [?] none of these is confirmed by a live call except the
# AddonAlreadyInstalled substring (ack-ram-tool matches it in the message).
ADDON_ALREADY_INSTALLED = "AddonAlreadyInstalled"
ADDON_NOT_FOUND = "AddonNotFound"
ADDON_NOT_SUPPORTED = "AddonNotSupportedForCluster"    # [?] exact code unknown
ADDON_CONFLICT = "AddonConflict"                       # [?] exact code unknown
ADDON_CONFIG_INVALID = "InvalidAddonConfig"            # [?] exact code unknown
ADDON_VERSION_INVALID = "InvalidAddonVersion"          # [?] exact code unknown
ADDON_BUSY = "AddonStateNotActive"                     # [?] exact code unknown

_MANAGED_HELPER_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "AcrInstanceInfo": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["instanceId"],
                "properties": {
                    "instanceId": {"type": "string"},
                    "regionId": {"type": "string"},
                    "domains": {"type": "string", "description": "comma-separated registry domains"},
                    "assumeRoleARN": {"type": "string"},
                    # [?] the type of expireDuration is not confirmed (the console shows 3600, the
                    # ConfigMap YAML an int): the sandbox chooses integer seconds.
                    "expireDuration": {"type": "integer", "minimum": 900, "maximum": 43200},
                    "rrsaRoleARN": {"type": "string"},
                    "rrsaOIDCProviderRoleARN": {"type": "string"},
                },
            },
        },
        "enableRRSA": {"type": "boolean"},
        "watchNamespace": {"type": "string", "default": "default"},
        "serviceAccount": {"type": "string", "default": "default"},
        "expiringThreshold": {"type": "string", "default": "15m"},
        "notifyEmail": {"type": "string"},
    },
}

_SELF_MANAGED_HELPER_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        # [?] that the config JSON is literally {"tokenMode": ...} is likely, not confirmed.
        "tokenMode": {"type": "string", "enum": ["auto", "managedRole", "workerRole"], "default": "auto"},
    },
}

_EMPTY_SCHEMA = {"type": "object", "additionalProperties": False, "properties": {}}


@dataclass(frozen=True)
class AddonSpec:
    name: str
    version: str
    managed: bool
    category: str
    schema: dict = field(repr=False)
    min_version: tuple[int, int] = (1, 20)
    older_versions: tuple[str, ...] = ()

    def config_schema_text(self) -> str:
        return json.dumps(self.schema)

    def known_version(self, version: str | None) -> bool:
        return not version or version == self.version or version in self.older_versions


CATALOG: dict[str, AddonSpec] = {spec.name: spec for spec in (
    AddonSpec(MANAGED_ACR_HELPER, "v24.01.29.1-5318af4-aliyun", True, "security", _MANAGED_HELPER_SCHEMA,
              min_version=(1, 22)),
    AddonSpec(SELF_MANAGED_ACR_HELPER, "v25.07.21.1-8f4e2c1-aliyun", False, "security", _SELF_MANAGED_HELPER_SCHEMA,
              min_version=(1, 20), older_versions=("v23.02.06.2-2d5b6a3-aliyun",)),
    AddonSpec("coredns", "v1.11.3.2-f57ea7ed6-aliyun", False, "network", _EMPTY_SCHEMA, min_version=(1, 16)),
    AddonSpec("ack-pod-identity-webhook", "0.2.4", False, "security", _EMPTY_SCHEMA, min_version=(1, 22)),
)}


def spec_for(name: str) -> AddonSpec:
    spec = CATALOG.get(name)
    if spec is None:
        raise ApiError(ADDON_NOT_FOUND, f"Addon {name} not found.", 404)
    return spec


# -- which clusters an addon runs on ------------------------------------------------------------
def parse_version(version: str) -> tuple[int, int]:
    major, minor = version.split("-")[0].split(".")[:2]
    return int(major), int(minor)


def cluster_kind(cluster) -> str:
    """pro | basic | serverless | edge | dedicated | other, from type, profile and spec."""
    if cluster.cluster_type == "Kubernetes":
        return "dedicated"
    if cluster.cluster_type != "ManagedKubernetes":
        return "other"
    if cluster.profile == "Serverless":
        return "serverless"
    if cluster.profile == "Edge":
        return "edge"
    if cluster.profile == "Default":
        # cluster_spec of Pro clusters: ack.pro.small/xlarge/2xlarge/4xlarge (CS SDK doc).
        return "pro" if (cluster.cluster_spec or "") in PRO_SPECS else "basic"
    return "other"


PRO_SPECS = ("ack.pro.small", "ack.pro.xlarge", "ack.pro.2xlarge", "ack.pro.4xlarge")

# Documented: managed edition on ACK managed (Basic and Pro), Serverless and Edge clusters of
# 1.22+ (the current official ZH doc, 2026-02-23: "1.22及以上版本的ACK托管集群、ACK Serverless集群、
# ACK Edge集群"; older pages said Pro only); self-managed on Basic, Pro and dedicated of 1.20+.
_KINDS = {
    MANAGED_ACR_HELPER: {"basic", "pro", "serverless", "edge"},
    SELF_MANAGED_ACR_HELPER: {"basic", "pro", "dedicated"},
}


def unsupported_reason(spec: AddonSpec, cluster) -> str | None:
    kinds = _KINDS.get(spec.name)
    kind = cluster_kind(cluster)
    if kinds is not None and kind not in kinds:
        return f"Addon {spec.name} is not supported on {kind} clusters (supported: {', '.join(sorted(kinds))})."
    if parse_version(cluster.current_version) < spec.min_version:
        need = ".".join(map(str, spec.min_version))
        return f"Addon {spec.name} requires Kubernetes {need} or later; the cluster runs {cluster.current_version}."
    return None


# -- config validation: the subset of JSON schema the catalog uses ------------------------------
_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def _check(value, schema: dict, path: str) -> None:
    kind = schema.get("type")
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind in _TYPES:
        ok = isinstance(value, _TYPES[kind])
    else:
        ok = True
    if not ok:
        raise ApiError(ADDON_CONFIG_INVALID, f"Addon config {path or '<root>'} must be of type {kind}.", 400)
    if "enum" in schema and value not in schema["enum"]:
        raise ApiError(ADDON_CONFIG_INVALID, f"Addon config {path} must be one of {schema['enum']}.", 400)
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ApiError(ADDON_CONFIG_INVALID, f"Addon config {path} must be between {low} and {high}.", 400)
    if kind == "object":
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                raise ApiError(ADDON_CONFIG_INVALID, f"Addon config {path}.{key} is required.".replace("..", "."), 400)
        for key, item in value.items():
            if key not in props:
                if schema.get("additionalProperties", True) is False:
                    raise ApiError(ADDON_CONFIG_INVALID, f"Addon config has an unknown key {(path + '.' + key).lstrip('.')}.", 400)
                continue
            _check(item, props[key], f"{path}.{key}".lstrip("."))
    if kind == "array":
        for index, item in enumerate(value):
            _check(item, schema.get("items", {}), f"{path}[{index}]")


def parse_config(spec: AddonSpec, text: str | None) -> dict:
    """The addon config (a JSON string on the wire) checked against the addon's schema."""
    if text is None or text == "":
        return {}
    if not isinstance(text, str):
        raise ApiError(ADDON_CONFIG_INVALID, "Addon config must be a JSON string.", 400)
    try:
        config = json.loads(text)
    except ValueError:
        raise ApiError(ADDON_CONFIG_INVALID, "Addon config is not valid JSON.", 400) from None
    _check(config, spec.schema, "")
    return config
