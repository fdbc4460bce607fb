"""Comparing and showing the keys of acr-configuration that acrx manages.

`acr-registry-info` and `rrsa` are YAML held in strings; they are compared by meaning (parsed)
so a re-indented value is not a change, and shown parsed so the plan diffs them field by
field: `acr-registry-info.cri-xxx.domains: a -> b`. AccessKey secrets are shown only as
"(sensitive)", and compared through `reveal()` without ever entering a Change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from acrx import facts
from acrx.plan.change import Ref, Sensitive
from acrx.yamltext import safe_load

MANAGED_KEYS = (facts.CM_SERVICE_ACCOUNT, facts.CM_WATCH_NAMESPACE, facts.CM_EXPIRING_THRESHOLD,
                facts.CM_NOTIFY_EMAIL, facts.CM_REGISTRY_INFO, facts.CM_RRSA)
YAML_KEYS = (facts.CM_REGISTRY_INFO, facts.CM_RRSA)
LIVE_SECRET_SOURCE = f"configmap:{facts.CONFIGMAP_NAMESPACE}/{facts.CONFIGMAP_NAME}"


def parse_yaml(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return safe_load(text)
    except yaml.YAMLError:
        return text   # unparseable: compared and shown as the raw string


def reveal(value: Any) -> Any:
    """The plain value of a Sensitive (or cloud Secret) leaf; anything else as it is."""
    if isinstance(value, Mapping):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    if hasattr(value, "reveal") and not isinstance(value, Ref):
        return value.reveal()
    return value


def _norm(value: Any) -> Any:
    """Scalars as strings (YAML may quote 3600 or not); containers recursively."""
    if isinstance(value, Mapping):
        return {str(k): _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value).strip()


def _has_unknown(value: Any) -> bool:
    if isinstance(value, Ref):
        return True
    if isinstance(value, Mapping):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    return False


def same_value(key: str, live: Any, desired: Any) -> bool:
    """Whether the live string of `key` already says what `desired` (parsed form) says."""
    if live is None or desired is None:
        return live is None and desired is None
    if _has_unknown(desired):
        return False   # a value known only after apply (a new AccessKey) is always a change
    if key in YAML_KEYS:
        return _norm(parse_yaml(live)) == _norm(reveal(desired))
    return _norm(live) == _norm(desired)


def _entry_label(entry: Any, index: int, seen: set[str]) -> str:
    label = str(entry.get(facts.RI_INSTANCE_ID) or "") if isinstance(entry, Mapping) else ""
    if not label or label in seen:
        label = f"[{index}]"
    seen.add(label)
    return label


def show_registry_info(entries: Any) -> Any:
    """Entries keyed by instance id, secrets masked (desired_view makes an unchanged secret
    compare equal to the live one)."""
    if not isinstance(entries, list):
        return entries
    shown: dict[str, Any] = {}
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        label = _entry_label(entry, index, seen)
        if not isinstance(entry, Mapping):
            shown[label] = entry
            continue
        item = dict(entry)
        if facts.RI_ACCESS_KEY_SECRET in item:
            secret = item[facts.RI_ACCESS_KEY_SECRET]
            if not isinstance(secret, (Sensitive, Ref)):
                secret = Sensitive(secret, source=LIVE_SECRET_SOURCE)
            item[facts.RI_ACCESS_KEY_SECRET] = secret
        shown[label] = item
    return shown


def live_view(data: Mapping[str, str]) -> dict[str, Any]:
    """The managed keys of the live ConfigMap, in display form (secrets masked)."""
    view: dict[str, Any] = {}
    for key in MANAGED_KEYS:
        if key not in data:
            continue
        value = data[key]
        if key == facts.CM_REGISTRY_INFO:
            value = show_registry_info(parse_yaml(value))
        elif key == facts.CM_RRSA:
            value = parse_yaml(value)
        view[key] = value
    return view


def desired_view(desired: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, Any]:
    """The desired managed keys in display form. A secret equal to the live one reuses the live
    side's Sensitive so the diff shows no change there."""
    view: dict[str, Any] = {}
    for key, value in desired.items():
        if key == facts.CM_REGISTRY_INFO:
            value = show_registry_info(value)
            live_entries = live.get(key) if isinstance(live.get(key), Mapping) else {}
            for label, item in value.items():
                old = live_entries.get(label)
                if isinstance(item, Mapping) and isinstance(old, Mapping) and facts.RI_ACCESS_KEY_SECRET in item:
                    mine, theirs = item[facts.RI_ACCESS_KEY_SECRET], old.get(facts.RI_ACCESS_KEY_SECRET)
                    if isinstance(theirs, Sensitive) and not isinstance(mine, Ref) and \
                            reveal(mine) == reveal(theirs):
                        item[facts.RI_ACCESS_KEY_SECRET] = theirs
        view[key] = value
    return view
