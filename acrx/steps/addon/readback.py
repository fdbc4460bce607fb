"""Is the addon's live config what acrx set? GetClusterAddonInstance's `config` read back.

Nobody here has seen the real read-back, so the comparison takes the Terraform provider's rule:
"what acrx sets ⊆ what the cluster reports" (terraform-provider-alicloud
resource_alicloud_cs_kubernetes_addon.go, needUpgrade/isSubset, real-cloud-audit #12). Keys the
cloud adds, and keys it fills with its default, are not drift. One exception keeps a removed
setting from lingering: a key acrx writes for this addon (but not this time) that the cluster
reports with a value other than empty or the schema's default is drift, so the next
ModifyClusterAddon (which replaces the whole config) clears it.
"""

from __future__ import annotations

from typing import Any

from acrx import facts

# The keys acrx writes, per addon (facts.MA_*, facts.SM_TOKEN_MODE_KEY).
ACRX_KEYS: dict[str, tuple[str, ...]] = {
    facts.MANAGED_ADDON: (facts.MA_INSTANCE_INFO, facts.MA_ENABLE_RRSA, facts.MA_WATCH_NAMESPACE,
                          facts.MA_SERVICE_ACCOUNT, facts.MA_EXPIRING_THRESHOLD, facts.MA_NOTIFY_EMAIL),
    facts.SELF_MANAGED_ADDON: (facts.SM_TOKEN_MODE_KEY,),
}
_EMPTY = (None, "", [], {})


def covers(have: Any, want: Any) -> bool:
    """`want` ⊆ `have`: every key of a wanted object is there with a covering value; lists pair
    item by item (the cloud keeps the order it was given); scalars are equal and of one kind
    (numbers compare as numbers, a boolean is never a number)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(key in have and covers(have[key], value) for key, value in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(have) == len(want) and all(covers(h, w) for h, w in zip(have, want))
    if isinstance(want, bool) or isinstance(have, bool):
        return isinstance(want, bool) and isinstance(have, bool) and want == have
    if isinstance(want, (int, float)) and isinstance(have, (int, float)):
        return want == have
    return type(want) is type(have) and want == have


def schema_defaults(schema: Any) -> dict[str, Any]:
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return {}
    return {key: spec["default"] for key, spec in props.items() if isinstance(spec, dict) and "default" in spec}


def drift(addon: str, desired: dict, live: dict, schema: Any = None) -> list[str]:
    """The top-level keys in which the live config is not what acrx set."""
    keys = [key for key, value in desired.items() if key not in live or not covers(live[key], value)]
    defaults = schema_defaults(schema)
    for key in ACRX_KEYS.get(addon, ()):
        if key in desired or key not in live or live[key] in _EMPTY:
            continue
        if key in defaults and covers(live[key], defaults[key]) and covers(defaults[key], live[key]):
            continue
        keys.append(key)
    return keys
