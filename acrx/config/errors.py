"""Turn a pydantic ValidationError into ONE line that names the field and what is wrong."""

from __future__ import annotations

from typing import Any

import pydantic

from acrx.config.echo import clean, cut, echo


class FieldProblem(ValueError):
    """Raised by cross-field validators: `field` is the dotted path relative to the model."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(message)


def format_loc(loc: tuple[Any, ...]) -> str:
    """('registries', 0, 'domains', 1) -> 'registries[0].domains[1]'. Keys come from the file,
    so each is escaped and cut short (an unknown key may hold terminal escape sequences)."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + cut(clean(str(part)), 40)
    return text


def _join(prefix: str, field: str) -> str:
    if not prefix:
        return field
    if not field:
        return prefix
    return prefix + ("" if field.startswith("[") else ".") + field


def _short(value: Any) -> str:
    return echo(value)


def _describe_one(err: dict) -> tuple[str, str]:
    loc = tuple(p for p in err.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-")))
    field = format_loc(loc)
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    given = err.get("input")
    cause = ctx.get("error")
    if isinstance(cause, FieldProblem):
        return _join(field, cause.field), clean(cause.message)
    if kind == "value_error":
        return field, clean(str(cause)) if cause is not None else clean(err.get("msg", ""))
    if kind == "extra_forbidden":
        return field, "unknown key"
    if kind == "missing":
        return field, "is required"
    if kind == "literal_error" and "," not in str(ctx.get("expected", "")) and " or " not in str(ctx.get("expected", "")):
        return field, f"{_short(given)} is not supported; it must be {ctx.get('expected', '')}"
    if kind == "literal_error":
        return field, f"{_short(given)} is not one of {ctx.get('expected', '')}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return field, f"{_short(given)} is not an integer"
    if kind in ("bool_parsing", "bool_type"):
        return field, f"{_short(given)} is not true or false"
    if kind in ("string_type",):
        return field, f"{_short(given)} is not a string"
    if kind in ("list_type",):
        return field, f"{_short(given)} is not a list"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return field, f"{_short(given)} is not a mapping"
    if kind == "greater_than_equal":
        return field, f"{_short(given)} is below the minimum {ctx.get('ge')}"
    if kind == "less_than_equal":
        return field, f"{_short(given)} is above the maximum {ctx.get('le')}"
    if kind == "too_short":
        return field, f"needs at least {ctx.get('min_length')} entr{'y' if ctx.get('min_length') == 1 else 'ies'}"
    if kind == "string_pattern_mismatch":
        return field, f"{_short(given)} does not match {ctx.get('pattern')}"
    return field, f"{_short(given)}: {clean(str(err.get('msg', '')))}"


def describe_validation_error(exc: pydantic.ValidationError) -> str:
    errors = exc.errors(include_url=False)
    if not errors:
        return str(exc).splitlines()[0]
    field, message = _describe_one(errors[0])
    line = f"{field}: {message}" if field else message
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return " ".join(line.split())
