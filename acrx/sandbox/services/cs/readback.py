"""How the sandbox's CS shows an addon's config_schema and reads its config back: two knobs per
cluster (`Cluster.addon_readback`, `Cluster.addon_schema_shape`) that a test or a scenario
switches on. Nobody has seen the real schema or a real read-back with more keys than were sent
(one public read-back, real-cloud-audit #12, echoed exactly the keys sent), so acrx must hold
either way:

- readback "exact" (default): GetClusterAddonInstance.config is the string the caller sent.
- readback "defaults": the config comes back with the schema's default for every key not sent,
  including keys the cloud adds on its own. The extra keys below are hypothetical [?], modelled
  on the self-managed ConfigMap's documented `webhook-configuration` (D-S): a boolean default
  false and a string default, the two kinds of echo the audit warns about.
- schema_shape "json-schema" (default): DescribeAddon.config_schema is a JSON schema of an object.
- schema_shape "flat": a map of key -> {type, default} without `type`/`properties` around it, a
  shape a client cannot read as a JSON schema [?] (a plausible alternative; never seen).
"""

from __future__ import annotations

import json
from dataclasses import replace

from acrx.sandbox.services.cs import addons as catalog

READBACKS = ("exact", "defaults")
SCHEMA_SHAPES = ("json-schema", "flat")

CLOUD_KEYS: dict[str, dict[str, dict]] = {   # [?] hypothetical, see the module docstring
    catalog.MANAGED_ACR_HELPER: {
        "enableWebhook": {"type": "boolean", "default": False},
        "webhookFailurePolicy": {"type": "string", "enum": ["Ignore", "Fail"], "default": "Ignore"},
    },
    catalog.SELF_MANAGED_ACR_HELPER: {
        "webhookTimeoutSeconds": {"type": "integer", "default": 10},
    },
}


def schema_for(spec: catalog.AddonSpec, cluster) -> dict:
    """The schema the cluster's addon publishes: the catalog's, plus the cloud's own keys when it
    echoes defaults (so they are documented where a client looks)."""
    if cluster is None or getattr(cluster, "addon_readback", "exact") != "defaults":
        return spec.schema
    props = {**spec.schema.get("properties", {}), **CLOUD_KEYS.get(spec.name, {})}
    return {**spec.schema, "properties": props}


def published(spec: catalog.AddonSpec, cluster) -> catalog.AddonSpec:
    """`spec` with the schema the cluster's addon publishes, which its config is checked against."""
    return replace(spec, schema=schema_for(spec, cluster))


def schema_text(spec: catalog.AddonSpec, cluster) -> str:
    schema = schema_for(spec, cluster)
    if cluster is not None and getattr(cluster, "addon_schema_shape", "json-schema") == "flat":
        return json.dumps(schema.get("properties", {}))
    return json.dumps(schema)


def config_text(spec: catalog.AddonSpec, cluster, sent_text: str, config: dict) -> str:
    """GetClusterAddonInstance.config for an addon given `sent_text` (parsed: `config`)."""
    if getattr(cluster, "addon_readback", "exact") != "defaults":
        return sent_text or json.dumps(config)
    defaults = {key: prop["default"] for key, prop in schema_for(spec, cluster).get("properties", {}).items()
                if isinstance(prop, dict) and "default" in prop and key not in config}
    return json.dumps({**config, **defaults}, separators=(",", ":"))
