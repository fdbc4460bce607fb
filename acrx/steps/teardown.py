"""Every destroy planner in one plan, for `acrx destroy`, with the order between stages reversed.

Setup configures the component after the identity it names; destroy undoes it the other way
round (acrx.steps.registry derives DESTROY_AFTER from setup's order): acrx's ConfigMap keys
first, then the addon, then the roles, policies and user the helper used, so the helper never
runs on a half-removed chain. The network stage depends on nothing and runs alongside. Within a stage, each planner orders its own
deletes (routes before the peering, detachments before the policy, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from acrx.plan.change import Change
from acrx.plan.plan import Plan
from acrx.steps import registry
from acrx.steps.base import plan_meta
from acrx.steps.context import StepContext
from acrx.steps.setup import order_stages

# stage -> the stages whose deletes must be done before its own
DESTROY_AFTER = registry.destroy_after()


@dataclass(frozen=True)
class DestroyStep:
    """A step as acrx.steps.base.Step sees it, built from one package's destroy module."""

    name: str
    planner: Callable[[StepContext], list[Change]]
    handler_factory: Callable[[StepContext], dict[str, Any]]

    def preflight(self, ctx: StepContext) -> None:
        """Destroy has no preflight: an absent thing is simply not planned."""

    def plan(self, ctx: StepContext) -> list[Change]:
        return self.planner(ctx)

    def handlers(self, ctx: StepContext) -> dict[str, Any]:
        return self.handler_factory(ctx)


def destroy_steps(config=None) -> list[DestroyStep]:
    """The destroy steps, in the registry's destroy order. `config` is accepted for symmetry with
    setup_steps: every planner looks for what any mode or network may have made, so the list does
    not depend on it."""
    return [DestroyStep(spec.name, spec.planner, spec.handlers) for spec in registry.DESTROYERS]


def plan_destroy_all(ctx: StepContext, steps: Iterable[DestroyStep]) -> Plan:
    steps = list(steps)
    for step in steps:
        step.preflight(ctx)
    by_stage = {step.name: step.plan(ctx) for step in steps}
    meta = plan_meta(ctx, steps)
    meta["command"] = "destroy"
    if not any(not c.is_noop for changes in by_stage.values() for c in changes):
        kept = sum(len(changes) for changes in by_stage.values())
        meta["no_changes_reason"] = ("Nothing acrx created was found" +
                                     (f"; {kept} adopted or shared thing(s) stay." if kept else "."))
    return Plan(order_stages(by_stage, DESTROY_AFTER), meta=meta)

