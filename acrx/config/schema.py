"""The JSON schema of acrx.yaml, for editors (yaml-language-server) and the docs.

The model is one cluster (AcrxConfig); a fleet config gives `clusters:` instead of `cluster:`
(acrx.config.fleet expands it into one AcrxConfig per entry), so the schema adds `clusters` here
and requires exactly one of the two.
"""

from __future__ import annotations

import copy
import json

from acrx import facts
from acrx.config.model import AcrxConfig

SCHEMA_ID = "https://acrx.dev/schema/acrx.v1.json"


def _fleet_entry(schema: dict) -> dict:
    """One entry of clusters: the cluster's own keys plus the overrides acrx.config.fleet.expand takes."""
    cluster = copy.deepcopy(schema["$defs"]["Cluster"])
    props = cluster["properties"]
    props["name"] = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$",
                     "description": "Shown in plans and tables; default the id."}
    props["mode"] = {"enum": list(facts.MODES), "type": "string",
                     "description": "Overrides the top-level mode for this cluster."}
    props["network"] = {"anyOf": [{"enum": list(facts.NETWORK_MODES), "type": "string"},
                                  {"$ref": "#/$defs/Network"}],
                        "description": "A network mode, or a mapping merged over the top-level network."}
    props["namespaces"] = {"type": "array", "items": {"type": "string"}, "minItems": 1,
                           "description": "Overrides addon.watch_namespaces for this cluster."}
    props["verify"] = {"$ref": "#/$defs/Verify", "description": "Merged over the top-level verify."}
    cluster["title"] = "FleetCluster"
    cluster["description"] = ("One cluster of a fleet (`clusters:`): account, id and region, with optional "
                              "per-cluster overrides. Everything else in the file is shared by the clusters.")
    return cluster


def config_json_schema() -> dict:
    schema = AcrxConfig.model_json_schema(mode="validation")
    schema["$defs"]["FleetCluster"] = _fleet_entry(schema)
    props = schema["properties"]
    props["cluster"]["description"] = "The ACK cluster; or give `clusters:` instead for a fleet."
    props["clusters"] = {"type": "array", "items": {"$ref": "#/$defs/FleetCluster"}, "minItems": 1,
                         "description": "A fleet (docs/fleet.md): many clusters sharing this file's registries; "
                                        "instead of `cluster:`."}
    schema["required"] = [r for r in schema.get("required", []) if r != "cluster"]
    schema["oneOf"] = [{"required": ["cluster"]}, {"required": ["clusters"]}]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "acrx.yaml"
    return schema


def config_json_schema_text() -> str:
    return json.dumps(config_json_schema(), indent=2, sort_keys=False) + "\n"
