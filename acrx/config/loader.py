"""Load acrx.yaml, apply flag overrides, validate.

Overrides are a dict of dotted paths (`cluster.id`, `network.mode`, `registries[0].domains`)
to values; None means "flag not given" and is skipped. Flags win over the file. A missing
file is fine when the flags give everything required."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pydantic

from acrx.config import defaults
from acrx.config.echo import clean
from acrx.config.errors import describe_validation_error, format_loc
from acrx.config.model import AcrxConfig
from acrx.errors import UsageError

# What a config needs at least, and the flag that gives each when there is no file.
REQUIRED_WITHOUT_FILE = {
    "cluster.id": "--cluster-id",
    "cluster.region": "--region",
    "registries[0].instance_id": "--instance-id",
    "registries[0].region": "--registry-region",
}

_PART_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _split_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for name, index in _PART_RE.findall(path):
        parts.append(int(index) if index else name)
    if not parts:
        raise UsageError(f"empty override path {path!r}")
    return parts


def set_path(data: dict, path: str, value: Any) -> None:
    """Set `value` at a dotted path, creating mappings and list slots on the way."""
    parts = _split_path(path)
    node: Any = data
    for here, nxt in zip(parts, parts[1:]):
        empty: Any = [] if isinstance(nxt, int) else {}
        if isinstance(here, int):
            if not isinstance(node, list):
                raise UsageError(f"cannot set {path}: {format_loc(tuple(parts))} is not a list")
            while len(node) <= here:
                node.append({} if not isinstance(nxt, int) else [])
            if node[here] is None:
                node[here] = empty
            node = node[here]
        else:
            if not isinstance(node, dict):
                raise UsageError(f"cannot set {path}: parent is not a mapping")
            if node.get(here) is None:
                node[here] = empty
            node = node[here]
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list):
            raise UsageError(f"cannot set {path}: not a list")
        while len(node) <= last:
            node.append(None)
        node[last] = value
    else:
        if not isinstance(node, dict):
            raise UsageError(f"cannot set {path}: parent is not a mapping")
        node[last] = value


def get_path(data: Any, path: str) -> Any:
    node = data
    for part in _split_path(path):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def read_yaml(path: Path) -> dict:
    """The mapping in `path`, read within the bounds of acrx.config.yaml_bounds."""
    from acrx.config.yaml_bounds import load_bounded

    data = load_bounded(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{clean(str(path))}: the top level must be a mapping, not {type(data).__name__}")
    return data


def _normalise_shorthand(data: dict) -> None:
    # Overrides address registries[0]; turn `registry:` into that form first.
    if "registry" in data and "registries" not in data and isinstance(data["registry"], dict):
        data["registries"] = [data.pop("registry")]


def load_config(path: Path | None, overrides: dict | None = None) -> AcrxConfig:
    path = Path(path) if path is not None else Path(defaults.DEFAULT_CONFIG_FILE)
    have_file = path.is_file()
    if path.exists() and not have_file:
        raise UsageError(f"{clean(str(path))} is not a file", field="-f/--file")
    data = copy.deepcopy(read_yaml(path)) if have_file else {}
    if "clusters" in data:   # a fleet config (acrx.config.fleet): the fleet commands take it
        raise UsageError(f"{clean(str(path))} lists clusters (a fleet config); this command takes one cluster",
                         field="clusters", hint="use `acrx fleet plan|setup|verify|destroy` (docs/fleet.md), "
                                                "with --cluster NAME for one of them")
    _normalise_shorthand(data)
    for key, value in (overrides or {}).items():
        if key == "network" and isinstance(value, str):
            key = "network.mode"  # `--network public` is the network mode
        if value is not None:
            set_path(data, key, value)
    if not have_file:
        # Name a flag only where this command has it (its overrides hold the key): plan or verify
        # have no --cluster-id, and a hint naming one would send the user to an error.
        flags = any(p in (overrides or {}) for p in REQUIRED_WITHOUT_FILE)   # this command has them
        missing = [f"{p} ({flag})" if flags else p
                   for p, flag in REQUIRED_WITHOUT_FILE.items() if get_path(data, p) is None]
        if missing:
            raise UsageError(
                f"no config file {clean(str(path))} and no value for {', '.join(missing)}",
                field="-f/--file", hint="write one with `acrx init`, or give the flags named" if flags
                else "write one with `acrx init`, or name one with -f FILE")
    try:
        return AcrxConfig.model_validate(data)
    except pydantic.ValidationError as exc:
        line = describe_validation_error(exc)
        err = UsageError(f"{clean(str(path))}: {line}" if have_file else line)
        err.field = line.split(":", 1)[0]
        raise err from None
