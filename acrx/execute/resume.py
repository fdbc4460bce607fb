"""Resume only what is still true.

An interrupted run leaves a journal of the changes it finished. A later run of the same command
against the same cluster skips one of them only when the fresh (live) plan shows that address as
a no-op: the cloud still holds what the journal says was done. Anything else (destroyed since,
changed by someone, never finished) is applied again. The journal never overrules the cloud.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from acrx.execute.journal import unfinished
from acrx.plan.change import Ref


@dataclass
class Resume:
    """What this run takes over from interrupted ones."""

    skip: dict[str, dict[str, Any]] = field(default_factory=dict)   # address -> outputs
    done: list[str] = field(default_factory=list)        # what the interrupted run(s) finished
    redo: list[str] = field(default_factory=list)        # journaled as done, no longer true
    of: int = 0                                          # how many changes that run set out to make
    started: float | None = None

    @property
    def found(self) -> bool:
        return self.started is not None

    def message(self) -> str | None:
        """`resuming: N of M changes were done by an interrupted run at <time>` (and what is redone)."""
        if not self.found:
            return None
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.started))
        total = max(self.of, len(self.done))
        line = (f"resuming: {len(self.done)} of {total} change{'s' * (total != 1)} were done by an "
                f"interrupted run at {when}")
        if self.redo:
            line += (f"; {len(self.redo)} of them no longer hold{'s' * (len(self.redo) == 1)} and "
                     f"{'is' if len(self.redo) == 1 else 'are'} applied again ({', '.join(self.redo)})")
        return line


def plan_resume(state_dir: Path | str, cluster: str, command: str, plan, live) -> Resume:
    """The addresses of `plan` this run may skip, read from the unfinished journals of `command`
    against `cluster` and checked against `live` (the fresh plan; `plan` itself, unless a saved
    plan is applied)."""
    prior = unfinished(state_dir, cluster, command)
    if prior is None:
        return Resume()
    live_by = {c.address: c for c in live.changes}
    resume = Resume(done=list(prior.done), of=len(prior.pending), started=prior.started)
    for address, outputs in prior.done.items():
        now = live_by.get(address)
        if now is not None and now.is_noop:
            if address in plan and not plan[address].is_noop:
                resume.skip[address] = {**outputs, **_observed(now.after)}
        elif address in plan and not plan[address].is_noop:
            resume.redo.append(address)
    return resume


def _observed(after: Any) -> dict[str, Any]:
    if not isinstance(after, Mapping):
        return {}
    return {k: v for k, v in after.items() if not isinstance(v, Ref)}
