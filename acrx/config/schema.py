"""The JSON schema of acrx.yaml, for editors (yaml-language-server) and the docs."""

from __future__ import annotations

import json

from acrx.config.model import AcrxConfig

SCHEMA_ID = "https://acrx.dev/schema/acrx.v1.json"


def config_json_schema() -> dict:
    schema = AcrxConfig.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "acrx.yaml"
    return schema


def config_json_schema_text() -> str:
    return json.dumps(config_json_schema(), indent=2, sort_keys=False) + "\n"
