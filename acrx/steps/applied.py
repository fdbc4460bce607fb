"""What the cluster was set up for, read from acrx's marks, against what the config asks for.

Every mark acrx writes into the cluster-side record (acrx.steps.ownership.record) carries the
settings it was applied under: mode, network, route_to, assume_policy and pull_policy_scope. A
setup that succeeds re-stamps them (`restamp`), so the newest mark always names the last applied
settings. When those disagree with the effective config on a setting no flag was given for, the
plan acrx would make is a switch the user did not ask for (a second network path, rrsa trust
added to a working worker-role setup): plan, setup, verify and doctor say so plainly and stop,
and offer no command that would change the working setup.
"""

from __future__ import annotations

from typing import Any, Iterable

# setting -> (the flag that sets it, the acrx.yaml key that holds it)
SETTINGS = {
    "mode": ("--mode", "mode"),
    "network": ("--network", "network.mode"),
    "route_to": ("--route-to", "network.route_to"),
    "assume_policy": ("--assume-policy", "roles.assume_policy"),
    "pull_policy_scope": ("--pull-policy-scope", "roles.pull_policy_scope"),
}
# Settings that only mean something under some network modes: compared only where they apply.
ROUTED = ("peering", "cen")


def stamp(config) -> dict[str, Any]:
    """The settings a mark records, from the effective config of the run that writes it (a
    setting the config does not hold is left out of the comparison: None)."""
    net, roles = config.network, getattr(config, "roles", None)
    return {"mode": config.mode, "network": net.mode, "route_to": getattr(net, "route_to", None),
            "assume_policy": getattr(roles, "assume_policy", None),
            "pull_policy_scope": getattr(roles, "pull_policy_scope", None)}


def applied(records: dict[str, dict]) -> dict[str, Any] | None:
    """The settings of the newest mark that names a mode and network; None without one."""
    marks = [r for r in records.values() if isinstance(r, dict) and r.get("mode") and r.get("network")]
    if not marks:
        return None
    newest = max(marks, key=lambda r: str(r.get("at") or ""))
    return {name: newest[name] for name in SETTINGS if newest.get(name) is not None}


def differing(marks: dict[str, Any], wanted: dict[str, Any], given: Iterable[str] = ()) -> list[str]:
    """The settings where the marks and the config disagree, leaving out those set by a flag (a
    flag is a deliberate choice; the plan then shows the switch)."""
    given = set(given)
    out = []
    for name in SETTINGS:
        if name in given or name not in marks or marks[name] == wanted.get(name):
            continue
        if name == "route_to" and (marks.get("network") not in ROUTED or wanted.get("network") not in ROUTED):
            continue   # route_to shapes nothing in public or none mode
        out.append(name)
    return out


def describe(settings: dict[str, Any], names: Iterable[str]) -> str:
    """"worker-role + cen", then any other named setting: "worker-role + cen, route_to vpc"."""
    text = f"{settings.get('mode')} + {settings.get('network')}"
    extra = [f"{n} {settings.get(n)}" for n in names if n not in ("mode", "network")]
    return ", ".join([text, *extra])


def disagreement(marks: dict[str, Any] | None, wanted: dict[str, Any], given: Iterable[str] = (),
                 source: str = "acrx.yaml") -> str | None:
    """The one plain sentence when the marks and the config disagree, else None."""
    if not marks:
        return None
    names = differing(marks, wanted, given)
    if not names:
        return None
    flags = flags_for(marks, names)
    return (f"the cluster is set up for {describe(marks, names)} (acrx's marks); {source} says "
            f"{describe(wanted, names)}: pass {flags} or edit {source}")


def flags_for(settings: dict[str, Any], names: Iterable[str]) -> str:
    """`--mode worker-role --network cen`: the flags that ask for `settings` on `names`."""
    return " ".join(f"{SETTINGS[n][0]} {settings.get(n)}" for n in names)


def read_marks(ctx) -> dict[str, Any] | None:
    """The applied settings from the cluster's record; None when there is none or it cannot be
    read (the layers and steps that need the cluster report that themselves)."""
    from acrx.errors import CloudError
    from acrx.kube.errors import KubeError
    from acrx.steps import ownership

    try:
        return applied(ownership.records(ctx))
    except (KubeError, CloudError, RuntimeError):
        return None


def restamp(ctx) -> int:
    """After a successful apply: every mark acrx holds for the cluster names the settings just
    applied. Patches only the keys that say otherwise; returns how many it rewrote."""
    import json

    from acrx.steps import ownership

    now = stamp(ctx.config)
    changes = {}
    for key, value in ownership.records(ctx).items():
        if isinstance(value, dict) and "raw" not in value and any(value.get(k) != v for k, v in now.items()):
            changes[key] = json.dumps({**value, **now}, sort_keys=True, separators=(",", ":"))
    if changes:
        try:
            ctx.kube().patch_configmap_data(ownership.RECORD_NAMESPACE, ownership.RECORD_NAME, changes)
        finally:
            ctx.forget("k8s:acrx-ownership")
    return len(changes)
