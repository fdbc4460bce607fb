"""Check an addon config against DescribeAddon's `config_schema`, and coerce it to the schema.

The JSON spellings of the helper's config keys come from third-party installs, not from an API
document (facts marked [?]). The cloud publishes a JSON schema per addon, so every key acrx is
about to send is looked up there first: a key the schema does not have is refused with its path
(that is how a wrong guess surfaces before the cloud sees it), and scalar types follow the
schema (expireDuration as integer or string, whichever it says).
"""

from __future__ import annotations

from typing import Any

from acrx.errors import PreflightError


class SchemaMismatch(PreflightError):
    def __init__(self, addon: str, path: str, problem: str):
        self.addon, self.path = addon, path
        super().__init__(
            f"addon {addon}: config key {path} {problem} in the config_schema DescribeAddon returned",
            hint="the key spelling in acrx.facts does not match this addon version; correct it there "
                 "(or report it) before installing")


def _coerce_scalar(addon: str, path: str, value: Any, kind: str | None) -> Any:
    if kind is None or value is None:
        return value
    if kind == "integer":
        if isinstance(value, bool):
            raise SchemaMismatch(addon, path, "is an integer, not a boolean,")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
    elif kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    elif kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, bool):
            return "true" if value else "false"
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    else:
        return value
    raise SchemaMismatch(addon, path, f"must be of type {kind} (acrx has {type(value).__name__})")


def _type_of(schema: dict) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):  # ["string", "null"]: the first non-null type
        kind = next((k for k in kind if k != "null"), None)
    return kind


def conform(addon: str, config: Any, schema: dict, path: str = "") -> Any:
    """`config` with every key checked against `schema` and scalars coerced to its types."""
    kind = _type_of(schema) if isinstance(schema, dict) else None
    if isinstance(config, dict):
        if kind not in (None, "object"):
            raise SchemaMismatch(addon, path or "<root>", f"must be of type {kind}, not an object,")
        props = schema.get("properties")
        if not isinstance(props, dict):
            return dict(config)   # an object schema without properties lists nothing to check
        out = {}
        for key, value in config.items():
            where = f"{path}.{key}" if path else key
            if key not in props:
                raise SchemaMismatch(addon, where, "does not exist")
            out[key] = conform(addon, value, props[key] or {}, where)
        return out
    if isinstance(config, list):
        if kind not in (None, "array"):
            raise SchemaMismatch(addon, path, f"must be of type {kind}, not an array,")
        items = schema.get("items") or {}
        return [conform(addon, item, items, f"{path}[{i}]") for i, item in enumerate(config)]
    return _coerce_scalar(addon, path, config, kind)


def has_properties(schema: Any) -> bool:
    return isinstance(schema, dict) and isinstance(schema.get("properties"), dict) and bool(schema["properties"])
