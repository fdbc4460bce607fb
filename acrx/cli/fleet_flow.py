"""How a fleet runs (issue 16): every cluster planned by the steps as they are, concurrently in a
bounded pool, merged into one plan (acrx.plan.fleet); applied in two phases.

setup: first the shared changes (registry side, per account), one cluster after another, each
with what it depends on; then every cluster concurrently: planned again, checked to want no more
than the plan shown (else that cluster stops, naming what is new), and applied under its own run
lock and journal. destroy: the clusters that finish no shared resource first, concurrently, each
keeping every shared resource; then, one after another, a cluster per shared resource left,
planned again, deleting what no cluster outside the run still uses (the plan says which stay and
for whom). A cluster's failure never stops the others unless --fail-fast.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

from acrx.plan.change import Action, Change
from acrx.plan.fleet import is_shared, is_shared_in_destroy, shared_key
from acrx.plan.plan import Plan

# Worst first: an interruption, an error, a verification failure, bad input, changes pending, ok.
_SEVERITY = [130, 1, 4, 2, 3, 0]


def worst(codes: Iterable[int]) -> int:
    codes = list(codes) or [0]
    return min(codes, key=lambda c: _SEVERITY.index(c) if c in _SEVERITY else 1)


@dataclass
class MemberRun:
    member: Any
    ctx: Any = None
    steps: list = field(default_factory=list)
    plan: Plan | None = None
    error: BaseException | None = None
    applied: int = 0
    verify: dict | None = None
    code: int = 0

    @property
    def name(self) -> str:
        return self.member.name


class Warnings:
    """Each distinct warning once, naming the first cluster that raised it (a fleet of 100
    public clusters says the billing note once, not 100 times)."""

    def __init__(self, actx):
        self.actx, self.seen, self.lock = actx, set(), threading.Lock()

    def for_member(self, name: str) -> Callable[[str], None]:
        def warn(message: str) -> None:
            with self.lock:
                if message in self.seen:
                    return
                self.seen.add(message)
            self.actx.err.print(f"warning: [{name}] {message}", markup=False, highlight=False)
        return warn


def member_context(actx, member, options, warnings: Warnings):
    from acrx.cli.flow import KubeAccess, open_session
    from acrx.config.crossing import check_access_key_crossing
    from acrx.steps.context import StepContext

    session = open_session(actx, member.config)
    check_access_key_crossing(member.config, sandbox=session.sandbox, allow_foreign=False)
    access = KubeAccess(actx, member.config, session, kubeconfig=None, save=None, private=False)
    return StepContext(member.config, session, options, warn=warnings.for_member(member.name),
                       kube_factory=access.client)


def plan_member(actx, run: MemberRun, kind: str, options, warnings: Warnings, memo=None) -> MemberRun:
    from acrx.steps.setup import plan_setup, setup_steps
    from acrx.steps.teardown import destroy_steps, plan_destroy_all

    try:
        run.ctx = member_context(actx, run.member, options, warnings)
        # Planning only reads: the clusters share one answer per read (acrx.cloud.read_memo).
        # Switched off below, before anything of this run is applied.
        run.ctx.session.read_memo = memo
        config = run.member.config
        if kind == "setup":
            run.steps = setup_steps(config, config.network.mode)
            run.plan = plan_setup(run.ctx, run.steps)
        else:
            run.steps = destroy_steps(config)
            run.plan = plan_destroy_all(run.ctx, run.steps)
    except Exception as exc:   # one cluster's failure is that cluster's row, not the fleet's end
        run.error, run.plan = exc, None
        run.code = _code(exc)
    finally:
        if run.ctx is not None:
            run.ctx.session.read_memo = None
    return run


def _code(exc: BaseException) -> int:
    from acrx.exitcodes import exit_code_for

    return exit_code_for(exc)


def pool_map(fn, items: list, parallelism: int, fail_fast: bool = False) -> list:
    """fn over items in a bounded pool, results in order. With fail_fast, once one run has an
    error the runs not yet started are skipped (marked with a note)."""
    stop = threading.Event()

    def one(item):
        if stop.is_set():
            item.error = item.error or _Skipped()
            item.code = item.code or 1
            return item
        out = fn(item)
        if fail_fast and getattr(out, "error", None) is not None:
            stop.set()
        return out

    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(items) or 1))) as pool:
        return list(pool.map(one, items))


class _Skipped(Exception):
    def __init__(self):
        super().__init__("skipped: another cluster failed and --fail-fast was given")


def plan_all(actx, members, kind: str, options, parallelism: int, fail_fast: bool = False) -> list[MemberRun]:
    from acrx.cloud.read_memo import ReadMemo

    warnings, memo = Warnings(actx), ReadMemo()
    runs = [MemberRun(m) for m in members]
    return pool_map(lambda r: plan_member(actx, r, kind, options, warnings, memo), runs, parallelism, fail_fast)


# -- apply -------------------------------------------------------------------------------------
def apply_plan(actx, run: MemberRun, plan: Plan, command: str, lock_timeout_s: float = 0.0) -> None:
    """Apply `plan` for one cluster under its run lock and a journal (as acrx setup does)."""
    from acrx.cli.flow import state_dir
    from acrx.execute.executor import Executor
    from acrx.execute.journal import Journal, retire
    from acrx.execute.lock import acquire
    from acrx.steps.base import handlers_for

    if not plan.has_changes:
        return
    cid = run.member.cluster_id
    with acquire(state_dir(actx), cid, command, timeout_s=lock_timeout_s,
                 warn=lambda m: actx.err.print(f"warning: [{run.name}] {m}", markup=False, highlight=False)):
        journal = Journal(state_dir(actx), plan.fingerprint, cluster=cid, command=command,
                          pending=[c.address for c in plan.pending])
        result = Executor(handlers_for(run.ctx, run.steps), journal).apply(plan)
        retire(state_dir(actx), cid)
    run.applied += len(result.applied)
    actx.err.print(f"[{run.name}] applied {len(result.applied)} change(s)", highlight=False, markup=False)


def with_dependencies(plan: Plan, addresses: set[str]) -> Plan:
    """The part of `plan` holding `addresses` and what they need: the shared changes they depend
    on and every change whose output they use (a Ref). The order between stages (every network
    change after every identity change, acrx.steps.setup.order_stages) is not followed into a
    cluster's own changes: the registry side does not need them, and the shared phase must not
    write into the clusters' accounts."""
    wanted, todo = set(), list(addresses)
    while todo:
        address = todo.pop()
        if address in wanted or address not in plan:
            continue
        wanted.add(address)
        change = plan[address]
        todo.extend(d for d in change.depends_on if is_shared(d))
        todo.extend(ref.address for ref in change.refs())
    part = []
    for change in plan.changes:
        if change.address in wanted:
            part.append(replace(change, depends_on=tuple(d for d in change.depends_on if d in wanted)))
    return Plan(part, meta=plan.meta, settings=plan.settings)


def shared_leaders(runs: list[MemberRun]) -> list[tuple[MemberRun, set[str]]]:
    """Per pending shared change, the first cluster that plans it: (run, its addresses to apply)."""
    taken: set[str] = set()
    leaders = []
    for run in runs:
        if run.plan is None:
            continue
        mine = {c.address for c in run.plan.pending if is_shared(c.address) and shared_key(c) not in taken}
        taken |= {shared_key(run.plan[a]) for a in mine}
        if mine:
            leaders.append((run, mine))
    return leaders


def replan_checked(actx, run: MemberRun, kind: str, keep: Callable[[Plan], Plan] | None = None,
                   shown_merged: Plan | None = None, allow: Callable[[Change], bool] | None = None) -> Plan:
    """Plan the cluster again after the shared phase; refuse what the shown plan did not hold (a
    shared change counts as shown when the merged plan held it, from whichever cluster)."""
    from acrx.errors import AcrxError
    from acrx.steps.setup import plan_setup
    from acrx.steps.teardown import plan_destroy_all

    run.ctx.forget()
    fresh = plan_setup(run.ctx, run.steps) if kind == "setup" else plan_destroy_all(run.ctx, run.steps)
    if keep is not None:
        fresh = keep(fresh)
    shown = {c.address for c in run.plan.pending}
    merged = {c.address for c in shown_merged.pending} if shown_merged is not None else set()
    new = [c.address for c in fresh.pending if c.address not in shown and shared_key(c) not in merged
           and not (allow is not None and allow(c))]
    if new:
        raise AcrxError(f"{run.name}: the live state changed since the plan was shown; now also "
                        f"{', '.join(new[:5])}", hint="run the fleet plan again and review it")
    return fresh


def _registry_accounts(plan_or_run) -> list[str]:
    return [r.account for r in plan_or_run.member.config.registries]


def keep_shared(plan: Plan, users: dict[str, list[str]], registry_accounts: list[str],
                deferred: bool = False) -> Plan:
    """Turn the deletes of shared resources other clusters still use into no-ops saying for whom
    (`deferred`: every shared delete waits for the cluster that finishes the shared side)."""
    changes = []
    for change in plan.changes:
        if change.action is Action.DELETE and is_shared_in_destroy(change, registry_accounts):
            names = users.get(shared_key(change))
            if names:
                change = replace(change, action=Action.NOOP, depends_on=(),
                                 reason=f"kept: still used by {', '.join(sorted(names)[:5])}"
                                        + (f" and {len(names) - 5} more" if len(names) > 5 else ""))
            elif deferred:
                change = replace(change, action=Action.NOOP, depends_on=(),
                                 reason="kept for now: removed after the other clusters, by the last one using it")
        changes.append(change)
    return Plan(changes, meta=plan.meta, settings=plan.settings)


def shared_users(runs: Iterable[MemberRun], names: dict[str, str]) -> dict[str, list[str]]:
    """Shared key -> the clusters outside this run still using it, as the destroy plans found them
    in the registry-side membership marks (acrx.steps.identity.membership: the plan's keeps carry
    `used_by`, cluster ids). Shown by fleet name where the fleet config names the cluster."""
    users: dict[str, list[str]] = {}
    for run in runs:
        if run.plan is None:
            continue
        regs = _registry_accounts(run)
        for change in run.plan.changes:
            used_by = (change.data or {}).get("used_by") if change.is_noop else None
            if used_by and is_shared_in_destroy(change, regs):
                found = users.setdefault(shared_key(change), [])
                found += [n for n in (names.get(c, c) for c in used_by) if n not in found]
    return users


def named(plan: Plan, names: dict[str, str]) -> Plan:
    """The plan's "still used by <cluster id>" reasons with the fleet's names for those clusters."""
    changes = []
    for change in plan.changes:
        used_by = (change.data or {}).get("used_by") if change.is_noop else None
        if used_by and change.reason:
            reason = change.reason
            for cluster_id in used_by:
                if cluster_id in names:
                    reason = reason.replace(cluster_id, names[cluster_id])
            change = replace(change, reason=reason)
        changes.append(change)
    return Plan(changes, meta=plan.meta, settings=plan.settings)
