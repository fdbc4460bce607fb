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


def _names(keys) -> str:
    return ", ".join(sorted(str(k) for k in keys)) or "(none)"


class SchemaMismatch(PreflightError):
    def __init__(self, addon: str, path: str, problem: str, keys=None):
        self.addon, self.path = addon, path
        listed = f" (its keys here: {_names(keys)})" if keys is not None else ""
        super().__init__(
            f"addon {addon}: config key {path} {problem} in the config_schema DescribeAddon returned{listed}",
            hint="the key spelling in acrx.facts does not match this addon version; correct it there "
                 "(or report it) before installing")


class SchemaShapeUnknown(PreflightError):
    """A config_schema acrx cannot read as a JSON schema of an object with `properties`: nobody
    here has seen the real one, so a different shape stops the plan rather than send unchecked keys."""

    def __init__(self, addon: str, schema, wanted):
        keys = list(schema) if isinstance(schema, dict) else []
        shape = f"an object with keys {_names(keys)}" if isinstance(schema, dict) else f"a {type(schema).__name__}"
        super().__init__(
            f"addon {addon}: DescribeAddon's config_schema is {shape}, not a JSON schema with `properties`; "
            f"acrx cannot check the keys it means to set ({_names(wanted)}) against it",
            hint="report the schema's shape (acrx --record FILE plan ... keeps the calls) so acrx.facts and "
                 "acrx.steps.addon.schema can learn it; nothing was changed")


def check_shape(addon: str, schema, wanted) -> bool:
    """True when `schema` lists properties to check against; False when there is no schema at all
    (an empty one); raise SchemaShapeUnknown for any other shape."""
    if schema in (None, "", {}):
        return False
    if (isinstance(schema, dict) and _type_of(schema) in (None, "object")
            and isinstance(schema.get("properties"), dict) and schema["properties"]):
        return True
    raise SchemaShapeUnknown(addon, schema, wanted)


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
                raise SchemaMismatch(addon, where, "does not exist", keys=props)
            out[key] = conform(addon, value, props[key] or {}, where)
        return out
    if isinstance(config, list):
        if kind not in (None, "array"):
            raise SchemaMismatch(addon, path, f"must be of type {kind}, not an array,")
        items = schema.get("items") or {}
        return [conform(addon, item, items, f"{path}[{i}]") for i, item in enumerate(config)]
    return _coerce_scalar(addon, path, config, kind)

