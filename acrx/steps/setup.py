"""Every step in one plan, for `acrx setup` and `acrx plan`, with the order between stages.

Steps do not know each other; acrx.steps.registry holds the graph they form (which stage is
applied after which, which are planned side by side, which typed outputs flow between them).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from acrx.plan.change import Change
from acrx.plan.plan import Plan
from acrx.steps import registry
from acrx.steps.base import Step, plan_meta
from acrx.steps.context import StepContext

# Views of the registry, kept under their old names for readers of the plan code.
STAGE_AFTER = registry.stage_after()
PLAN_LANES = registry.plan_lanes()


def setup_steps(config, network_mode: str | None = None) -> list[Step]:
    return registry.build_setup_steps(network_mode)


def plan_setup(ctx: StepContext, steps: Iterable[Step]) -> Plan:
    """Preflight every step (in order, so the first problem is always the same one), plan each
    (the independent lanes concurrently), hand each step's typed outputs to the steps planned
    after the lanes, then order the stages (see STAGE_AFTER)."""
    from concurrent.futures import ThreadPoolExecutor

    steps = list(steps)
    preflight_all(ctx, steps)
    ctx.outputs.clear()   # this plan's outputs only

    def plan_one(step: Step) -> list[Change]:
        changes = step.plan(ctx)
        spec = registry.spec_for(step)
        if spec.publish is not None:
            ctx.outputs.publish(*spec.publish(ctx, changes))
        return changes

    named = {step.name: step for step in steps}
    lanes = [[named[n] for n in lane if n in named] for lane in PLAN_LANES]
    in_lanes = {step.name for lane in lanes for step in lane}
    by_stage: dict[str, list[Change]] = {}
    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        for lane_result in pool.map(lambda lane: [(s.name, plan_one(s)) for s in lane], lanes):
            by_stage.update(lane_result)
    for step in steps:
        if step.name not in in_lanes:
            by_stage[step.name] = plan_one(step)
    by_stage = {step.name: by_stage[step.name] for step in steps}   # the declared order, always
    return Plan(order_stages(by_stage, STAGE_AFTER), meta=plan_meta(ctx, steps))


def preflight_all(ctx: StepContext, steps: list[Step]) -> None:
    """Every step's preflight, side by side (they only read, and need nothing from each other) and
    alongside the warm-up of the planners' own reads (acrx.steps.warmup). What a user sees is what
    the preflights in sequence would show: each step's warnings in step order, then the first
    step's error; the warnings of steps after it are dropped, as they would never have run."""
    from acrx.steps import warmup
    from acrx.steps.context import HELD_WARNINGS

    def held(step: Step):
        said: list[str] = []
        HELD_WARNINGS.set(said)   # this worker's own context (acrx.steps.prefetch copies one)
        try:
            step.preflight(ctx)
        except Exception as error:
            return said, error
        return said, None

    def warm():
        said: list[str] = []
        HELD_WARNINGS.set(said)   # a shared reader's warning, said after the preflights'
        network = next((getattr(s, "mode", None) for s in steps if s.name == "network"), None)
        warmup.warm(ctx, {step.name for step in steps}, network)
        return said

    *results, warmed = ctx.outcomes([*[lambda s=s: held(s) for s in steps], warm])
    for result in results:
        said, error = result.get()
        for message in said:
            ctx.warn(message)
        if error is not None:
            raise error.with_traceback(None)
    for message in warmed.get():
        ctx.warn(message)


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
