"""A fleet config: one registry side, many clusters (issue 16).

`clusters:` lists the clusters, each with its account alias, id and region, an optional name and
optional overrides: mode, network (a mode name or a mapping merged over the top-level `network:`),
namespaces (addon.watch_namespaces) and verify (merged over `verify:`). A config with `cluster:` is
a fleet of one. `expand` turns the fleet into one single-cluster AcrxConfig per cluster, the model
every step already takes, so no step changes.

Selection: `--cluster ID` (repeatable), `--cluster-selector key=value` and `--cluster-shard i/n`.
The selector matches the clusters' tags in ACK, as DescribeClustersV1 lists them in the named
accounts (the caller reads them and passes them to `select`); the config holds no tags, so they
cannot go stale (a `tags:` key is refused with the fix). It selects a subset: it never adds a
cluster the config does not list. Shards split the clusters sorted by id by position (i, i+n, ...):
sizes differ by at most one, and every cluster is in exactly one shard. A cluster may move to
another shard when the fleet grows; that costs nothing, since acrx keeps no state per shard (the
cloud is the state, locks and journals are per cluster).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from acrx.config.echo import clean, echo
from acrx.errors import UsageError

ENTRY_KEYS = {"account", "id", "region", "name", "mode", "network", "namespaces", "verify"}
_TAG_KEY = re.compile(r"^[^\s=]{1,128}$")   # ACK tag keys: up to 128 characters (TagResources' model)
_SHARD = re.compile(r"^(\d{1,4})/(\d{1,4})$")


@dataclass(frozen=True)
class FleetMember:
    index: int                 # position in clusters:
    cluster_id: str
    name: str
    tags: dict | None = field(default=None, hash=False)   # the cluster's ACK tags once read; None: not read
    config: Any = field(default=None, hash=False, compare=False)   # the single-cluster AcrxConfig

    @property
    def label(self) -> str:
        return self.name if self.name == self.cluster_id else f"{self.name} ({self.cluster_id})"


@dataclass(frozen=True)
class Fleet:
    members: tuple[FleetMember, ...]
    is_fleet_file: bool        # clusters: given (not cluster:)

    @property
    def ids(self) -> list[str]:
        return [m.cluster_id for m in self.members]

    def select(self, ids: Iterable[str] = (), selectors: Iterable[str] = (), shard: str | None = None,
               live_tags: Callable[[list[FleetMember]], dict] | None = None,
               notice: Callable[[str], None] = lambda line: None) -> "Fleet":
        """The members chosen by --cluster, then --cluster-selector, then --cluster-shard.

        `live_tags(members)` answers {cluster_id: its ACK tags, or None when the account's list
        does not hold it}; it is called once, for the members left after --cluster, and only when
        a selector is given. A cluster the list does not hold is left out with a `notice` line."""
        members = list(self.members)
        ids = list(ids or ())
        if ids:
            known = {m.cluster_id: m for m in members} | {m.name: m for m in members}
            unknown = [i for i in ids if i not in known]
            if unknown:
                raise UsageError(f"{echo(unknown[0])} is not a cluster id or name in clusters:", field="--cluster",
                                 hint="acrx fleet list shows the clusters")
            wanted = {known[i].cluster_id for i in ids}
            members = [m for m in members if m.cluster_id in wanted]
        wanted = [parse_selector(text) for text in selectors or ()]
        if wanted:
            if live_tags is None:
                raise ValueError("--cluster-selector needs the clusters' live tags")
            found = live_tags(members)
            kept = []
            for m in members:
                tags = found.get(m.cluster_id)
                if tags is None:
                    notice(f"{m.label}: not in DescribeClustersV1 of account {m.config.cluster.account} in "
                           f"{m.config.cluster.region}; left out of --cluster-selector (check clusters[{m.index}])")
                    continue
                kept.append(replace(m, tags=dict(tags)))
            members = [m for m in kept if all(m.tags.get(key) == value for key, value in wanted)]
        if shard is not None:
            index, count = parse_shard(shard)
            members = shard_members(members, index, count)
        return Fleet(tuple(members), self.is_fleet_file)


def parse_selector(text: str) -> tuple[str, str]:
    key, sep, value = (text or "").partition("=")
    if not sep or not _TAG_KEY.fullmatch(key) or not value:
        raise UsageError(f"{echo(text)} is not key=value", field="--cluster-selector", hint="e.g. env=prod")
    return key, value


def parse_shard(text: str) -> tuple[int, int]:
    match = _SHARD.fullmatch(text or "")
    if not match:
        raise UsageError(f"{echo(text)} is not i/n", field="--cluster-shard", hint="e.g. 0/4 for the first of 4 shards")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or index >= count:
        raise UsageError(f"shard {index}/{count} does not exist; shards count from 0 to n-1", field="--cluster-shard",
                         hint=f"use 0/{max(count, 1)} .. {max(count, 1) - 1}/{max(count, 1)}")
    return index, count


def shard_members(members: Iterable[FleetMember], index: int, count: int) -> list[FleetMember]:
    ordered = sorted(members, key=lambda m: m.cluster_id)
    return [m for pos, m in enumerate(ordered) if pos % count == index]


def is_fleet_data(data: Any) -> bool:
    return isinstance(data, dict) and "clusters" in data


def load_fleet(path: Path | None, overrides: dict | None = None, sandbox_dir: Path | None = None) -> Fleet:
    """The fleet in `path` (clusters:), or the one cluster of a single-cluster config."""
    from acrx.config.loader import read_yaml

    path = Path(path) if path is not None else Path("acrx.yaml")
    if not path.exists() and sandbox_dir is not None and path == Path("acrx.yaml"):
        path = Path(sandbox_dir) / "acrx.yaml"
    if not path.is_file():
        raise UsageError(f"{clean(str(path))} does not exist", field="--file",
                         hint="write one with `acrx init --fleet`")
    data = copy.deepcopy(read_yaml(path))
    if not is_fleet_data(data):
        from acrx.config.loader import load_config

        config = load_config(path, overrides)
        return Fleet((FleetMember(0, config.cluster.id, config.cluster.id, None, config),), False)
    return Fleet(tuple(expand(data, overrides, source=str(path))), True)


def expand(data: dict, overrides: dict | None = None, *, source: str = "acrx.yaml") -> list[FleetMember]:
    """One validated single-cluster config per entry of clusters:."""
    import pydantic

    from acrx.config.errors import describe_validation_error
    from acrx.config.loader import _normalise_shorthand, set_path
    from acrx.config.model import AcrxConfig

    entries = data.get("clusters")
    if "cluster" in data:
        raise _problem(f"{clean(source)}: give either cluster or clusters, not both", "clusters")
    if not isinstance(entries, list) or not entries:
        raise _problem(f"{clean(source)}: clusters must be a non-empty list of clusters", "clusters")
    base = {k: v for k, v in data.items() if k != "clusters"}
    _normalise_shorthand(base)
    members, seen = [], {}
    for i, entry in enumerate(entries):
        where = f"clusters[{i}]"
        if not isinstance(entry, dict):
            raise _problem(f"{clean(source)}: {where} must be a mapping (account, id, region)", where)
        if "tags" in entry:
            raise _problem(f"{clean(source)}: {where}.tags: --cluster-selector matches the cluster's tags in ACK, "
                           "not the config; tag the cluster in ACK (console or TagResources) and drop this key",
                           f"{where}.tags")
        extra = sorted(set(entry) - ENTRY_KEYS)
        if extra:
            raise _problem(f"{clean(source)}: {where}.{extra[0]}: unknown key; allowed: {', '.join(sorted(ENTRY_KEYS))}", f"{where}.{extra[0]}")
        one = copy.deepcopy(base)
        one["cluster"] = {k: entry[k] for k in ("account", "id", "region") if k in entry}
        if "mode" in entry:
            one["mode"] = entry["mode"]
        net = entry.get("network")
        if isinstance(net, str):
            net = {"mode": net}
        if net is not None:
            if not isinstance(net, dict):
                raise _problem(f"{clean(source)}: {where}.network must be a mode name or a mapping", f"{where}.network")
            one["network"] = {**(one.get("network") or {}), **net}
        if "namespaces" in entry:
            one["addon"] = {**(one.get("addon") or {}), "watch_namespaces": entry["namespaces"]}
        if "verify" in entry:
            if not isinstance(entry["verify"], dict):
                raise _problem(f"{clean(source)}: {where}.verify must be a mapping", f"{where}.verify")
            one["verify"] = {**(one.get("verify") or {}), **entry["verify"]}
        for key, value in (overrides or {}).items():
            if value is not None:
                set_path(one, "network.mode" if key == "network" else key, value)
        try:
            config = AcrxConfig.model_validate(one)
        except pydantic.ValidationError as exc:
            line = describe_validation_error(exc)
            field_name = _entry_field(line.split(":", 1)[0], entry, where)
            message = line.split(":", 1)[1].strip() if ":" in line else line
            raise _problem(f"{clean(source)}: {field_name}: {message}", field_name) from None
        except UsageError as exc:
            field_name = _entry_field(exc.field or "", entry, where)
            raise _problem(f"{clean(source)}: {where} ({echo(entry.get('id'))}): {exc}", field_name) from None
        cid = config.cluster.id
        if cid in seen:
            raise _problem(f"{clean(source)}: {where}.id: cluster {cid} is listed twice (also clusters[{seen[cid]}])", f"{where}.id")
        seen[cid] = i
        name = entry.get("name") or cid
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", name):
            raise _problem(f"{clean(source)}: {where}.name: {echo(name)} is not a name (letters, digits, _ . -)", f"{where}.name")
        members.append(FleetMember(i, cid, name, None, config))
    names: set[str] = set()
    for m in members:
        if m.name in names:
            raise _problem(f"{clean(source)}: clusters[{m.index}].name: {echo(m.name)} is used twice",
                           f"clusters[{m.index}].name")
        names.add(m.name)
    return members


def _problem(text: str, field_name: str) -> UsageError:
    """One line `<file>: <field>: <what>`, with the field kept for the JSON error."""
    err = UsageError(text)
    err.field = field_name
    return err


def _entry_field(field_name: str, entry: dict, where: str) -> str:
    """The field of the expanded config, named as the user wrote it."""
    if field_name.startswith("cluster."):
        return f"{where}.{field_name[len('cluster.'):]}"
    for key in ("mode", "network", "verify"):
        if key in entry and (field_name == key or field_name.startswith(key + ".")):
            return f"{where}.{field_name}"
    if "namespaces" in entry and field_name.startswith("addon.watch_namespaces"):
        return f"{where}.namespaces"
    return field_name
