"""What acrx manages for one cluster, read from its marks (`acrx status`).

Two read-only plans give the whole picture without a state file: the destroy plan says, by
acrx's ownership marks (acrx.steps.ownership), what acrx made (it would delete it) and what it
only adopted (it would keep it); the setup plan says what the config wants that is missing or
differs. The cluster-side ownership record adds the mode and network a thing was applied for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from acrx.doctor.causes import cause_of
from acrx.errors import CloudError, PreflightError
from acrx.kube.errors import KubeError

ACRX, ADOPTED = "acrx", "adopted"                       # owner
PRESENT, MISSING, DRIFTED = "present", "missing", "drifted"  # state


@dataclass
class Item:
    address: str
    account: str | None
    owner: str | None            # "acrx" (marked), "adopted" (found in place), None (not there)
    state: str                   # present, missing, drifted
    detail: str
    applied_for: dict[str, str] | None = None   # {"mode", "network"} from acrx's record, if any

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "account": self.account, "owner": self.owner, "state": self.state,
                "detail": self.detail, "applied_for": self.applied_for}


@dataclass
class Inventory:
    cluster: str
    mode: str
    network: str
    accounts: dict[str, str]
    items: list[Item]
    notes: list[str]

    def counts(self) -> dict[str, int]:
        return {"managed": sum(i.owner == ACRX for i in self.items),
                "adopted": sum(i.owner == ADOPTED for i in self.items),
                "missing": sum(i.state == MISSING for i in self.items),
                "drifted": sum(i.state == DRIFTED for i in self.items)}

    def to_dict(self) -> dict[str, Any]:
        return {"cluster": self.cluster, "config": {"mode": self.mode, "network": self.network},
                "accounts": self.accounts, "summary": self.counts(),
                "resources": [i.to_dict() for i in self.items], "notes": self.notes}


def _applied_for(ctx, address: str, notes: list[str]) -> dict[str, str] | None:
    from acrx.steps import ownership

    try:
        found = ownership.recorded(ctx, address)
    except (KubeError, CloudError) as exc:
        if not any(n.startswith("cannot read") for n in notes):
            notes.append(f"cannot read acrx's cluster record ({exc}); modes are not shown")
        return None
    if not found or not found.get("mode"):
        return None
    return {"mode": str(found["mode"]), "network": str(found.get("network") or "?")}


def _kept_why(change) -> str:
    """The destroy plan's reason, when it tells more than "acrx made it" or what destroy would do."""
    reason = change.reason or ""
    if not change.is_noop and (reason == "created by acrx" or "delete" in reason):
        return ""
    return reason


def take(ctx) -> Inventory:
    """Read the inventory (no writes). A setup preflight that refuses is a note, not a failure:
    what acrx made is still listed from the destroy plan."""
    from acrx.steps.setup import plan_setup, setup_steps
    from acrx.steps.teardown import destroy_steps, plan_destroy_all

    config = ctx.config
    notes: list[str] = []
    items: dict[str, Item] = {}
    destroy = plan_destroy_all(ctx, destroy_steps(config))
    for change in destroy.changes:
        owner = ACRX if not change.is_noop else ADOPTED
        items[change.address] = Item(change.address, change.account, owner, PRESENT, _kept_why(change))
    try:
        wanted = plan_setup(ctx, setup_steps(config, config.network.mode)).changes
    except PreflightError as exc:
        notes.append(f"the setup plan stops at its preflight: {exc}")
        wanted = []
    for change in wanted:
        item = items.get(change.address)
        if change.action.value == "create":
            if item is None:
                items[change.address] = Item(change.address, change.account, None, MISSING, cause_of(change))
        elif not change.is_noop:
            if item is None:
                item = items[change.address] = Item(change.address, change.account, None, DRIFTED, "")
            item.state, item.detail = DRIFTED, cause_of(change)
        elif item is None:
            items[change.address] = Item(change.address, change.account, ADOPTED, PRESENT, change.reason or "")
    for item in items.values():
        if item.owner == ACRX:
            item.applied_for = _applied_for(ctx, item.address, notes)
    aliases = dict.fromkeys([config.cluster.account] + [r.account for r in config.registries])
    return Inventory(config.cluster.id, config.mode, config.network.mode,
                     {alias: ctx.uid(alias) for alias in aliases}, list(items.values()), notes)
