"""A Plan: the ordered changes one run would make, with a fingerprint of what it was based on."""

from __future__ import annotations

import hashlib
import heapq
import json
from typing import Any, Iterable, Mapping

from acrx.errors import AcrxError
from acrx.plan.change import Action, Change, encode_value

SAVED_PLAN_FORMAT = 1


class StalePlan(AcrxError):
    """A saved plan whose observed state no longer matches the live state."""

    def __init__(self, addresses: list[str]):
        self.addresses = addresses
        shown = ", ".join(addresses[:5]) + (" ..." if len(addresses) > 5 else "")
        super().__init__(
            f"the saved plan no longer matches the live state ({shown})",
            hint="run `acrx plan --out plan.json` again and review the new plan")


class Plan:
    """Changes in dependency order (stable by declared order), plus free-form `meta`."""

    def __init__(self, changes: Iterable[Change], meta: Mapping[str, Any] | None = None):
        self.changes: tuple[Change, ...] = _order(list(changes))
        self.meta: dict[str, Any] = dict(meta or {})
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

    @property
    def fingerprint(self) -> str:
        """sha256 over addresses, actions and observed (before) values, in plan order.

        Apply-time checks compare it against a fresh plan: same fingerprint means the world the
        plan was made from is still the world it would be applied to. Secrets count only by
        their source, never by value."""
        material = [[c.address, c.action.value, encode_value(c.before, saved=True)]
                    for c in self.changes]
        blob = json.dumps(material, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

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

    def ensure_matches(self, live: "Plan", skip: Iterable[str] = ()) -> None:
        stale = self.stale_addresses(live, skip)
        if stale:
            raise StalePlan(stale)

    def to_dict(self) -> dict[str, Any]:
        """The saved-plan form (`--out plan.json`): markers for Refs and secrets, never a secret."""
        return {
            "format": SAVED_PLAN_FORMAT,
            "fingerprint": self.fingerprint,
            "meta": encode_value(self.meta, saved=True),
            "changes": [c.to_dict(saved=True) for c in self.changes],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "Plan":
        if not isinstance(raw, Mapping) or raw.get("format") != SAVED_PLAN_FORMAT:
            raise ValueError(f"not a saved acrx plan of format {SAVED_PLAN_FORMAT}")
        plan = cls([Change.from_dict(c) for c in raw.get("changes") or ()], raw.get("meta"))
        if raw.get("fingerprint") and raw["fingerprint"] != plan.fingerprint:
            raise ValueError("the saved plan was edited: its fingerprint does not match its changes")
        return plan


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
