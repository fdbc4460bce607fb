"""Every step in one plan, for `acrx setup` and `acrx plan`, with the order between stages.

Steps do not know each other. The stages they form do: the component (addon, ConfigMap) is
configured only after the identity it names exists — RRSA on, roles and policies in place —
or the helper starts on a half-built chain (the documented order trap). The network stage
depends on nothing, so it runs alongside identity.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from acrx.plan.change import Action, Change
from acrx.plan.plan import Plan
from acrx.steps.base import Step, plan_meta
from acrx.steps.context import StepContext

ACCESS_KEY_ADDRESS = "ram.access_key.registry"

# stage -> the stages whose changes must be applied before its own
STAGE_AFTER = {
    "rrsa": (),
    "roles": ("rrsa",),
    "policy": ("roles",),
    "network": (),
    "addon": ("rrsa", "roles", "policy"),
    "configmap": ("rrsa", "roles", "policy", "addon"),
}


def setup_steps(config, network_mode: str | None = None) -> list[Step]:
    from acrx.steps.addon import AddonStep
    from acrx.steps.configmap import ConfigMapStep
    from acrx.steps.identity import PolicyStep, RolesStep, RrsaStep
    from acrx.steps.network import NetworkStep

    return [RrsaStep(), RolesStep(), PolicyStep(), NetworkStep(network_mode), AddonStep(), ConfigMapStep()]


# Planning reads only: the identity chain, the network and the addon read different things and
# are planned side by side; the ConfigMap looks at what identity planned (a new access key).
PLAN_LANES = (("rrsa", "roles", "policy"), ("network",), ("addon",))


def plan_setup(ctx: StepContext, steps: Iterable[Step]) -> Plan:
    """Preflight every step (in order, so the first problem is always the same one), plan each
    (the independent lanes concurrently), then order the stages (see STAGE_AFTER)."""
    from concurrent.futures import ThreadPoolExecutor

    steps = list(steps)
    for step in steps:
        step.preflight(ctx)
    named = {step.name: step for step in steps}
    lanes = [[named[n] for n in lane if n in named] for lane in PLAN_LANES]
    in_lanes = {step.name for lane in lanes for step in lane}
    by_stage: dict[str, list[Change]] = {}
    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        for lane_result in pool.map(lambda lane: [(s.name, s.plan(ctx)) for s in lane], lanes):
            by_stage.update(lane_result)
    for step in steps:
        if step.name in in_lanes:
            continue
        if hasattr(step, "access_key_in_plan"):
            # The ConfigMap takes a new key's secret from this plan's key change (a Ref); an
            # existing key is read where it already is.
            step.access_key_in_plan = any(c.address.startswith(ACCESS_KEY_ADDRESS) and c.action is Action.CREATE
                                          for changes in by_stage.values() for c in changes)
        by_stage[step.name] = step.plan(ctx)
    by_stage = {step.name: by_stage[step.name] for step in steps}   # the declared order, always
    return Plan(order_stages(by_stage, STAGE_AFTER), meta=plan_meta(ctx, steps))


def order_stages(by_stage: dict[str, list[Change]], after: dict[str, tuple[str, ...]]) -> list[Change]:
    """Make every change of a stage depend on the changes of the stages it comes `after`."""
    ordered: list[Change] = []
    for stage, changes in by_stage.items():
        before = [c.address for s in after.get(stage, ()) for c in by_stage.get(s, ()) if not c.is_noop]
        for change in changes:
            extra = tuple(a for a in before if a not in change.depends_on)
            ordered.append(replace(change, depends_on=change.depends_on + extra) if extra and not change.is_noop
                           else change)
    return ordered
