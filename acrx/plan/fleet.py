"""One plan for a fleet: the clusters' plans merged (issue 16).

Each cluster is planned on its own by the steps as they are. Merging gives every cluster-scoped
address the cluster's name as a prefix (`fleet-001/ram.role.cluster`) and plans a shared
resource once: the registry side that every cluster's plan names alike (the pull policy of an
instance, the internet endpoint and its ACL entries, the instance's VPC links) and the
per-account things clusters of one account share (the PrivateZone zone and record of the
registry domain, CS's service role). A shared address is keyed by account and address
(`registry/cr.acl.203.0.113.5/32`), planned once, and records which clusters use it; two clusters
that want different payloads at one shared address stop the plan naming both.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable

from acrx.errors import UsageError
from acrx.plan.change import Change, Ref, encode_value, map_values
from acrx.plan.plan import Plan

# Addresses (prefixes) whose resource is named from the registry or the account, not the cluster.
# pvtz.binding: one per VPC, but binding sets the zone's whole VPC list, so two clusters binding
# at once would lose one binding: they are applied with the shared changes, one after another.
# cen.*: the registry account's hub (CEN, router, B's attachment) is one for all; a cluster VPC's
# grant, attachment and links are keyed by the VPC id, and so is a zone vSwitch an attachment
# maps (acrx.steps.network.cen): shared, they are planned once per VPC and applied before the
# clusters' routes that point at them (network/cen.py).
SHARED_PREFIXES = ("ram.policy.registry_pull", "cr.endpoint.", "cr.acl.", "cr.vpc_link.", "pvtz.zone.",
                   "pvtz.record.", "pvtz.binding.", "ram.service_role.", "cen.", "vpc.zone_vswitch.")


def is_shared(address: str) -> bool:
    return address.startswith(SHARED_PREFIXES)


def shared_key(change: Change) -> str:
    return f"{change.account}/{change.address}"


class SharedConflict(UsageError):
    pass


def _rename(address: str, renames: dict[str, str]) -> str:
    return renames.get(address, address)


def is_shared_in_destroy(change: Change, registry_accounts: Iterable[str]) -> bool:
    """Destroy also shares the return routes in the registry's VPC: each cluster's destroy lists
    every route acrx marked in B's tables, its own and the other clusters'."""
    return is_shared(change.address) or (change.address.startswith("vpc.route.")
                                         and change.account in set(registry_accounts))


def merge(plans: Iterable[tuple[Any, Plan]], *, destroy: bool = False) -> Plan:
    """`plans`: (member, plan) pairs, member having .name and .cluster_id. The merged Plan's meta
    holds per cluster its mode, network and counts, and per shared key the clusters using it.
    `destroy`: clusters may see a shared resource differently (only the cluster holding acrx's
    record of switching the endpoint on may switch it off), so the delete wins over a keep."""
    changes: dict[str, Change] = {}
    users: dict[str, list[str]] = {}
    clusters: list[dict[str, Any]] = []
    accounts: dict[str, str] = {}
    shared_counts: dict[str, int] = {}
    for member, plan in plans:
        regs = [r.account for r in member.config.registries]
        shared_here = (lambda c: is_shared_in_destroy(c, regs)) if destroy else (lambda c: is_shared(c.address))
        renames = {c.address: (shared_key(c) if shared_here(c) else f"{member.name}/{c.address}")
                   for c in plan.changes}
        counts = {"create": 0, "update": 0, "delete": 0, "replace": 0, "no-op": 0}
        for change in plan.changes:
            new = _retarget(change, renames)
            if shared_here(change):
                key = new.address
                users.setdefault(key, []).append(member.name)
                other = changes.get(key)
                if other is not None and destroy:
                    if new.action.value == "delete" and other.action.value != "delete":
                        changes[key] = new
                    continue
                if other is not None:
                    _check_same(other, new, users[key])
                    continue
                shared_counts[change.action.value] = shared_counts.get(change.action.value, 0) + 1
            else:
                counts[change.action.value] = counts.get(change.action.value, 0) + 1
            changes[new.address] = new
        accounts.update(plan.meta.get("accounts") or {})
        clusters.append({"cluster": member.cluster_id, "name": member.name,
                         "account": member.config.cluster.account, "region": member.config.cluster.region,
                         "mode": member.config.mode, "network": member.config.network.mode, "counts": counts})
    meta = {"fleet": True, "clusters": clusters, "shared_users": users, "shared_counts": shared_counts,
            "accounts": accounts}
    return Plan(changes.values(), meta=meta)


def _retarget(change: Change, renames: dict[str, str]) -> Change:
    def fix(leaf):
        if isinstance(leaf, Ref) and leaf.address in renames:
            return replace(leaf, address=renames[leaf.address])
        return leaf

    return replace(change, address=renames[change.address],
                   depends_on=tuple(_rename(a, renames) for a in change.depends_on),
                   after=map_values(change.after, fix), data=map_values(change.data, fix))


def _check_same(first: Change, second: Change, names: list[str]) -> None:
    if first.action != second.action or encode_value(first.after) != encode_value(second.after):
        raise SharedConflict(
            f"{first.address} is shared, but {names[0]} wants {first.action} {encode_value(first.after)} and "
            f"{names[-1]} wants {second.action} {encode_value(second.after)}",
            field="clusters", hint="give the clusters the same setting for this shared resource")


def summary_rows(plan: Plan) -> list[dict[str, Any]]:
    """cluster, account, mode, network, creates, updates, deletes: the fleet plan's summary table."""
    rows = []
    for c in plan.meta.get("clusters", ()):
        n = c["counts"]
        rows.append({"cluster": c["name"], "account": c["account"], "region": c["region"], "mode": c["mode"],
                     "network": c["network"], "create": n.get("create", 0),
                     "update": n.get("update", 0) + n.get("replace", 0), "delete": n.get("delete", 0)})
    shared = plan.meta.get("shared_counts") or {}
    if shared:
        rows.append({"cluster": "(shared)", "account": "-", "region": "-", "mode": "-", "network": "-",
                     "create": shared.get("create", 0), "update": shared.get("update", 0) + shared.get("replace", 0),
                     "delete": shared.get("delete", 0)})
    return rows


def check_limits(plan: Plan) -> None:
    """Refuse (exit 2, before any write) a fleet plan that would take one account or registry past
    a limit of acrx.facts.FLEET_LIMITS, naming the limit, the count and its source."""
    from acrx import facts
    from acrx.errors import PreflightError

    counts: dict[tuple[str, str], int] = {}

    def add(name: str, where: str) -> None:
        counts[(name, where)] = counts.get((name, where), 0) + 1

    for change in plan.changes:
        if change.action.value == "delete":
            continue
        account, _, address = change.address.partition("/")
        account = change.account or account
        if address.startswith("cr.acl.") or change.address.startswith("cr.acl."):
            add("ACL entries per internet endpoint", f"account {account}")
        elif ".pvtz.binding." in f".{address}" or "/pvtz.binding." in change.address:
            add("VPCs bound per PrivateZone zone", f"account {account}")
        elif address.startswith("ram.role.") or "/ram.role." in change.address:
            add("ram roles per account", f"account {account}")
        elif address.startswith("cen.attachment."):
            # cen is same-region only (preflight), so an account's hub has one router per registry region
            add("VPC attachments per transit router", f"the CEN hub of account {account}")
    for (name, where), count in sorted(counts.items()):
        limit, source = facts.FLEET_LIMITS[name]
        if count > limit:
            raise PreflightError(f"the fleet needs {count} {name.split(' per ')[0]} in {where}, above the limit "
                                 f"of {limit} {name} ({source})", field="clusters",
                                 hint="split the fleet over more accounts, or raise the quota first")
