"""Slow cloud operations as state machines on the sandbox clock.

An operation is created with the time the real cloud takes for it; it finishes when the clock
passes `ready_at` (instantly at scale 0), or fails when its kind is in `knobs.failing_tasks`.
Models read `op.state()` lazily on every describe, so nothing runs in the background.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from acrx.sandbox.core.knobs import TASK_KINDS

RUNNING, SUCCESS, FAIL = "running", "success", "fail"


@dataclass
class SlowOp:
    kind: str
    started: float
    ready_at: float
    fails: bool = False
    clock: object = field(default=None, repr=False)
    error: tuple[str, str] | None = None   # (code, message) when it fails

    def state(self) -> str:
        if self.clock.now() < self.ready_at:
            return RUNNING
        return FAIL if self.fails else SUCCESS

    @property
    def finished(self) -> bool:
        return self.state() != RUNNING


def start(world, kind: str, cloud_seconds: float, *, error: tuple[str, str] | None = None) -> SlowOp:
    if kind not in TASK_KINDS:  # `--fail-task` is checked against this list: keep it whole
        raise ValueError(f"slow operation kind {kind!r} is missing from knobs.TASK_KINDS")
    fails = world.knobs.task_fails(kind)
    return SlowOp(kind=kind, started=world.clock.now(), ready_at=world.clock.ready_at(cloud_seconds),
                  fails=fails, clock=world.clock,
                  error=(error or (f"{kind}.Failed", f"The {kind} task failed.")) if fails else None)
