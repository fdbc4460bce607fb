"""What is wrong, in the words of the thing that is wrong: `route 10.10.1.10/32 -> pcc-... is
missing from vtb-...`, not the plan's reason ("towards the registry endpoint"), which says why
acrx wants a change rather than what the live state lacks.

verify and doctor are read-only: every cause is in the present tense and names what the live
state is (or lacks), read from the change's before/after. Kinds without a describer fall back to
the field differences of an update, or to the change's reason.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from acrx.plan.change import KNOWN_AFTER_APPLY, SENSITIVE, Action, Change, Ref, Sensitive
from acrx.plan.diff import ABSENT, diff_values

# What a route's next hop is before it exists (its id is only known after apply).
NEXT_HOP = {"VpcPeer": "the peering connection", "Attachment": "the CEN attachment",
            "TransitRouter": "the CEN transit router"}
MAX_FIELDS = 3   # an update's cause names at most this many differing fields


def format_scalar(value: Any) -> str:
    """A value as a cause shows it: secrets masked, absent and unknown values named."""
    if isinstance(value, Ref):
        return KNOWN_AFTER_APPLY
    if isinstance(value, Sensitive):
        return SENSITIVE
    if value is ABSENT or value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_scalar(v) for v in value) + "]"
    return str(value)


def _value(data: Any, key: str, missing: str = "?") -> str:
    value = data.get(key) if isinstance(data, Mapping) else None
    if value is None:
        return missing
    return format_scalar(value)


def _hop(after: Mapping[str, Any]) -> str:
    hop = after.get("next_hop_id")
    if hop is None or isinstance(hop, Ref):
        return f"{NEXT_HOP.get(after.get('next_hop_type'), 'its next hop')} (not there yet)"
    return str(hop)


def _route(change: Change) -> str | None:
    after, before = change.after or {}, change.before or {}
    table, dest = _value(after or before, "route_table_id"), _value(after or before, "destination")
    if change.action is Action.CREATE:
        return f"route {dest} -> {_hop(after)} is missing from {table}"
    if change.action in (Action.UPDATE, Action.REPLACE):
        return f"route {dest} in {table} goes to {_value(before, 'next_hop_id')}, not {_hop(after)}"
    if change.action is Action.DELETE:
        return f"route {dest} -> {_value(before, 'next_hop_id')} in {table} is no longer wanted"
    return None


def _peering(change: Change) -> str | None:
    after = change.after or {}
    if change.action is Action.CREATE:
        return (f"no peering connection joins {_value(after, 'vpc_id')} to {_value(after, 'accepting_vpc_id')}"
                f" (account {_value(after, 'accepting_uid')})")
    return None


def _zone_name(change: Change, prefix: str) -> str:
    return change.address[len(prefix):]


def _pvtz_zone(change: Change) -> str | None:
    if change.action is Action.CREATE:
        return f"there is no PrivateZone zone {_zone_name(change, 'pvtz.zone.')}"
    return None


def _pvtz_record(change: Change) -> str | None:
    after = change.after or {}
    zone = _zone_name(change, "pvtz.record.")
    if change.action is Action.CREATE:
        return f"zone {zone} has no {_value(after, 'type', 'A')} record {_value(after, 'rr', '@')} -> {_value(after, 'value')}"
    if change.action in (Action.UPDATE, Action.REPLACE):
        return (f"the {_value(after, 'type', 'A')} record {_value(after, 'rr', '@')} of zone {zone} points to "
                f"{_value(change.before, 'value')}, not {_value(after, 'value')}")
    return None


def _pvtz_binding(change: Change) -> str | None:
    if change.action is Action.CREATE:
        return f"the registry's PrivateZone zone is not bound to {_value(change.after, 'vpc_id')}"
    return None


def _acl(change: Change) -> str | None:
    if change.action is Action.CREATE:
        entry = change.address[len("cr.acl."):]
        return f"the registry's internet endpoint ACL does not admit {entry}"
    return None


DESCRIBERS: tuple[tuple[str, Callable[[Change], str | None]], ...] = (
    ("vpc.route.", _route),
    ("vpc.peering", _peering),
    ("pvtz.zone.", _pvtz_zone),
    ("pvtz.record.", _pvtz_record),
    ("pvtz.binding.", _pvtz_binding),
    ("cr.acl.", _acl),
)


def _fields(change: Change) -> str | None:
    """`enabled is false (acrx.yaml needs true)` for the first few fields an update changes."""
    parts = []
    for path, old, new in diff_values(change.before, change.after):
        if isinstance(new, Ref):
            continue   # a value only apply can know says nothing about what is wrong now
        parts.append(f"{path or 'the value'} is {format_scalar(old)} (acrx.yaml needs {format_scalar(new)})")
    if not parts:
        return None
    more = len(parts) - MAX_FIELDS
    return "; ".join(parts[:MAX_FIELDS]) + (f"; and {more} more" if more > 0 else "")


def cause_of(change: Change) -> str:
    """The live state's problem that `change` would fix, in the present tense."""
    for prefix, describe in DESCRIBERS:
        if change.address.startswith(prefix):
            found = describe(change)
            if found:
                return found
    action = change.action
    if action is Action.CREATE:
        return change.reason or f"{change.address} does not exist"
    if action is Action.DELETE:
        return change.reason or f"{change.address} exists and acrx.yaml does not ask for it"
    fields = _fields(change)
    if fields and change.reason:
        return f"{change.reason}: {fields}"
    return fields or change.reason or f"{change.address} does not match acrx.yaml"
