"""A Plan: the ordered changes one run would make, with a fingerprint of what it was based on."""

from __future__ import annotations

import hashlib
import heapq
import json
from typing import Any, Iterable, Mapping

from acrx.errors import AcrxError
from acrx.plan.change import Action, Change, encode_value, jsonable

SAVED_PLAN_FORMAT = 2   # 2: per-change digests and the settings that shaped the plan


class StalePlan(AcrxError):
    """A saved plan whose observed state no longer matches the live state."""

    def __init__(self, addresses: list[str], source: str | None = None):
        self.addresses = addresses
        shown = ", ".join(addresses[:5]) + (" ..." if len(addresses) > 5 else "")
        super().__init__(
            f"the saved plan no longer matches the live state ({shown})",
            hint=f"run `acrx plan --out {source or 'FILE'}` again and review the new plan")


class Plan:
    """Changes in dependency order (stable by declared order), plus free-form `meta`."""

    def __init__(self, changes: Iterable[Change], meta: Mapping[str, Any] | None = None,
                 settings: Mapping[str, Any] | None = None):
        self.changes: tuple[Change, ...] = _order(list(changes))
        self.meta: dict[str, Any] = dict(meta or {})
        # The flags and modes that shaped the plan (mode, network, --route-to, ...): a saved plan
        # carries them so `setup --plan` applies it under the same settings.
        self.settings: dict[str, Any] = dict(settings or {})
        self._by_address = {c.address: c for c in self.changes}

    def __iter__(self):
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __getitem__(self, address: str) -> Change:
        return self._by_address[address]

    def __contains__(self, address: object) -> bool:
        return address in self._by_address

    @property
    def counts(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(not c.is_noop for c in self.changes)

    @property
    def pending(self) -> tuple[Change, ...]:
        """The changes apply will carry out: everything but the no-ops."""
        return tuple(c for c in self.changes if not c.is_noop)

    def why_no_changes(self) -> str:
        """Why there is nothing to do, in one sentence (a planner that finds nothing says why)."""
        if self.meta.get("no_changes_reason"):
            return str(self.meta["no_changes_reason"])
        if not self.changes:
            return "Nothing in the configuration is managed by this command."
        n = len(self.changes)
        return f"The live state matches the configuration ({n} resource{'s' * (n != 1)} checked)."

    def by_account(self) -> dict[str | None, list[Change]]:
        """Changes grouped by account alias, accounts in order of first appearance."""
        groups: dict[str | None, list[Change]] = {}
        for change in self.changes:
            groups.setdefault(change.account, []).append(change)
        return groups

    def change_digest(self, change: Change) -> str:
        """sha256 over everything a handler is given for `change` (see `change_material`)."""
        return _digest(change_material(change))

    @property
    def fingerprint(self) -> str:
        """sha256 over the settings that shaped the plan and every change's digest, in order.

        It covers the whole change (address, action, kind, account, dependencies, before, after
        and the handler's data), so a saved plan edited anywhere no longer matches it. Refs count
        as their markers and secrets only by their source, never by value."""
        return _digest({"settings": jsonable(self.settings),
                        "changes": [self.change_digest(c) for c in self.changes]})

    def stale_addresses(self, live: "Plan", skip: Iterable[str] = ()) -> list[str]:
        """Addresses where `live` disagrees with this (saved) plan; `skip` are addresses already
        applied by an interrupted run of this plan (their live state changed on purpose)."""
        skipped = set(skip)
        stale = []
        for change in self.changes:
            if change.address in skipped:
                continue
            other = live._by_address.get(change.address)
            if other is None or other.action != change.action or (
                    encode_value(other.before, saved=True) != encode_value(change.before, saved=True)):
                stale.append(change.address)
        stale.extend(c.address for c in live.changes
                     if c.address not in self._by_address and not c.is_noop)
        return stale

    def ensure_matches(self, live: "Plan", skip: Iterable[str] = (), source: str | None = None) -> None:
        stale = self.stale_addresses(live, skip)
        if stale:
            raise StalePlan(stale, source)

    def to_dict(self) -> dict[str, Any]:
        """The saved-plan form (`--out plan.json`): markers for Refs and secrets, never a secret;
        each change carries its digest so an edit is refused naming the change edited."""
        changes = []
        for change in self.changes:
            changes.append({**change.to_dict(saved=True), "digest": self.change_digest(change)})
        return {
            "format": SAVED_PLAN_FORMAT,
            "fingerprint": self.fingerprint,
            "settings": jsonable(self.settings),
            "meta": encode_value(self.meta, saved=True),
            "changes": changes,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "Plan":
        """A saved plan, refused (PlanEdited) unless every change and the settings are exactly
        what was saved; see acrx.plan.saved for the payload checks."""
        if not isinstance(raw, Mapping) or raw.get("format") != SAVED_PLAN_FORMAT:
            raise ValueError(f"not a saved acrx plan of format {SAVED_PLAN_FORMAT}")
        from acrx.plan.payloads import PayloadInvalid, check_payload

        if not isinstance(raw.get("fingerprint"), str) or not raw["fingerprint"]:
            raise PlanEdited(None, "it has no fingerprint")
        raw_changes = raw.get("changes")
        if not isinstance(raw_changes, list) or not all(isinstance(c, Mapping) for c in raw_changes):
            raise PlanEdited(None, "its changes are not a list of objects")
        changes = []
        for item in raw_changes:
            address = item.get("address")
            digest = item.get("digest")
            fields = {k: v for k, v in item.items() if k != "digest"}
            try:
                change = Change.from_dict(fields)
            except (KeyError, TypeError, ValueError) as exc:
                raise PlanEdited(address, f"it cannot be read ({exc})") from None
            if not isinstance(digest, str) or digest != _digest(change_material(change)):
                raise PlanEdited(change.address, "it differs from what was planned")
            try:
                check_payload(change.address, change.kind, change.action.value, item.get("data") or {})
            except PayloadInvalid as exc:
                raise PlanEdited(None, str(exc)) from None
            changes.append(change)
        settings = raw.get("settings")
        if not isinstance(settings, Mapping):
            raise PlanEdited(None, "its settings are missing")
        try:
            plan = cls(changes, raw.get("meta"), settings)
        except ValueError as exc:
            raise PlanEdited(None, str(exc)) from None
        if plan.fingerprint != raw["fingerprint"]:
            raise PlanEdited(None, "its settings or the order of its changes differ from what was planned")
        return plan


class PlanEdited(ValueError):
    """A saved plan that is not byte-for-byte what `acrx plan --out` wrote (in meaning)."""

    def __init__(self, address: str | None, why: str):
        self.address = address
        where = f"change {address}: " if address else ""
        super().__init__(f"the saved plan was edited or is incomplete: {where}{why}")


def change_material(change: Change) -> dict[str, Any]:
    """What a change's digest covers: all but its reason (display text)."""
    return {
        "address": change.address, "action": change.action.value, "kind": change.kind,
        "account": change.account, "depends_on": list(change.depends_on),
        "before": encode_value(change.before, saved=True),
        "after": encode_value(change.after, saved=True),
        "data": encode_value(dict(change.data), saved=True),
    }


def _digest(material: Any) -> str:
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _order(changes: list[Change]) -> tuple[Change, ...]:
    """Topological order by dependencies; among ready changes, the one declared first wins."""
    index: dict[str, int] = {}
    for i, change in enumerate(changes):
        if change.address in index:
            raise ValueError(f"duplicate change address {change.address}")
        index[change.address] = i
    waiting_on: dict[str, set[str]] = {}
    dependents: dict[str, list[str]] = {c.address: [] for c in changes}
    for change in changes:
        deps = set(change.all_dependencies())
        unknown = sorted(d for d in deps if d not in index)
        if unknown:
            raise ValueError(f"{change.address} depends on {', '.join(unknown)}, "
                             "which is not in the plan")
        waiting_on[change.address] = deps
        for dep in deps:
            dependents[dep].append(change.address)
    ready = [index[a] for a, deps in waiting_on.items() if not deps]
    heapq.heapify(ready)
    ordered: list[Change] = []
    while ready:
        change = changes[heapq.heappop(ready)]
        ordered.append(change)
        for dependent in dependents[change.address]:
            waiting_on[dependent].discard(change.address)
            if not waiting_on[dependent]:
                heapq.heappush(ready, index[dependent])
    if len(ordered) != len(changes):
        stuck = sorted(a for a, deps in waiting_on.items() if deps)
        raise ValueError(f"dependency cycle among {', '.join(stuck)}")
    return tuple(ordered)
