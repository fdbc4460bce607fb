"""A step: preflight (read-only checks), plan (live state → Changes), handlers (apply them).

Steps never write while planning. Handlers are built per run with the StepContext, so they use
the same session and memo as the planner that produced their changes.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Protocol

from acrx.plan.change import Change
from acrx.plan.plan import Plan
from acrx.steps.context import StepContext


class Step(Protocol):
    name: str

    def preflight(self, ctx: StepContext) -> None:
        """Raise acrx.errors.PreflightError when the live state rules this step out."""

    def plan(self, ctx: StepContext) -> list[Change]:
        ...

    def handlers(self, ctx: StepContext) -> Mapping[str, Any]:
        ...


def plan_steps(ctx: StepContext, steps: Iterable[Step]) -> Plan:
    """Every preflight first (so a doomed setup stops before it is even planned), then the plans."""
    steps = list(steps)
    for step in steps:
        step.preflight(ctx)
    changes: list[Change] = []
    for step in steps:
        changes.extend(step.plan(ctx))
    return Plan(changes, meta=plan_meta(ctx, steps))


def plan_meta(ctx: StepContext, steps: list[Step]) -> dict[str, Any]:
    aliases = [ctx.config.cluster.account] + [r.account for r in ctx.config.registries]
    accounts = {}
    for alias in dict.fromkeys(aliases):
        accounts[alias] = f"uid {ctx.uid(alias)}"
    return {"accounts": accounts, "steps": [s.name for s in steps],
            "cluster": ctx.config.cluster.id, "mode": ctx.config.mode}


def handlers_for(ctx: StepContext, steps: Iterable[Step]) -> dict[str, Any]:
    handlers: dict[str, Any] = {}
    for step in steps:
        for kind, handler in step.handlers(ctx).items():
            if kind in handlers and handlers[kind] is not handler:
                raise ValueError(f"two steps register a handler for {kind!r}")
            handlers[kind] = handler
    return handlers
