"""The fleet commands' runs: plan, setup, verify, destroy (phases in acrx.cli.fleet_flow)."""

from __future__ import annotations

from typing import Any

from acrx.cli.fleet_flow import (MemberRun, apply_plan, keep_shared, named, plan_all, pool_map, replan_checked,
                                 shared_leaders, shared_users, with_dependencies, worst)
from acrx.errors import UsageError
from acrx.plan.change import Action
from acrx.plan.fleet import is_shared, is_shared_in_destroy, merge, shared_key
from acrx.plan.plan import Plan


def _only(plan: Plan, shared: bool) -> Plan:
    """The shared (or the cluster-scoped) changes of a merged plan, dependencies outside dropped."""
    from dataclasses import replace

    from acrx.plan.change import Ref, map_values

    keep = [c for c in plan.changes if ("/" in c.address and _is_shared_address(c.address)) == shared]
    kept = {c.address for c in keep}

    def fix(leaf):
        return leaf if not isinstance(leaf, Ref) or leaf.address in kept else replace(leaf, address=leaf.address)

    changes = []
    for c in keep:
        deps = tuple(d for d in c.depends_on if d in kept)
        outside = [r for r in c.refs() if r.address not in kept]
        if outside:   # a Ref to a change not shown: show it as known after apply, without the link
            c = replace(c, after=map_values(c.after, lambda leaf: "(known after apply)" if isinstance(leaf, Ref)
                                            and leaf.address not in kept else leaf),
                        data=map_values(c.data, lambda leaf: "(known after apply)" if isinstance(leaf, Ref)
                                        and leaf.address not in kept else leaf))
        changes.append(replace(c, depends_on=deps))
    # The summary counts what this plan holds: no cluster rows' own changes in a shared-only plan,
    # no shared row in a shard's.
    meta = dict(plan.meta)
    if shared:
        meta["clusters"] = [{**row, "counts": {}} for row in meta.get("clusters", ())]
    else:
        meta["shared_counts"], meta["shared_users"] = {}, {}
    return Plan(changes, meta=meta, settings=plan.settings)


def _is_shared_address(merged_address: str) -> bool:
    return is_shared(merged_address.split("/", 1)[1])


def _show(actx, plan: Plan, output: str, kind: str = "FleetPlan", extra: dict | None = None) -> None:
    if output == "json":
        from acrx.plan.fleet import summary_rows
        from acrx.render.envelope import plan_data, print_json

        print_json(actx.out, kind, {**plan_data(plan), "clusters": summary_rows(plan), **(extra or {})})
    else:
        from acrx.render.fleet_view import render_fleet_plan

        render_fleet_plan(plan, actx.out, show_noops=len(plan.meta.get("clusters", ())) <= 1)


def _failed(actx, runs: list[MemberRun]) -> list[dict[str, Any]]:
    rows = []
    for run in runs:
        if run.error is not None:
            text = " ".join(str(run.error).split()) or type(run.error).__name__
            actx.err.print(f"error: [{run.name}] {text}", markup=False, highlight=False)
            rows.append({"cluster": run.name, "error": text, "exit_code": run.code})
    return rows


def _plan_fleet(actx, fleet, chosen, options, parallelism: int, fail_fast: bool, shared_only: bool,
                sharded: bool):
    # Shared resources need every cluster's view (the ACL is the union of all egress IPs).
    members = fleet.members if shared_only else chosen.members
    runs = plan_all(actx, members, "setup", options, parallelism, fail_fast)
    merged = merge((r.member, r.plan) for r in runs if r.plan is not None)
    from acrx.plan.fleet import check_limits

    check_limits(merged)   # a limit a fleet meets: exit 2 before any write
    if shared_only:
        merged = _only(merged, shared=True)
    elif sharded:
        merged = _only(merged, shared=False)
    return runs, merged


def fleet_plan(actx, fleet, chosen, options, *, parallelism: int, output: str, shared_only: bool, sharded: bool,
               fail_fast: bool, detailed_exitcode: bool) -> int:
    runs, merged = _plan_fleet(actx, fleet, chosen, options, parallelism, fail_fast, shared_only, sharded)
    failures = _failed(actx, runs)
    _show(actx, merged, output, extra={"failed": failures} if failures else None)
    if sharded and not shared_only:
        pending = _pending_shared(runs)
        if pending:
            actx.err.print(f"note: {len(pending)} shared change(s) are left to `acrx fleet setup --shared-only` "
                           f"(e.g. {pending[0]})", markup=False, highlight=False)
    code = worst(r.code for r in runs)
    if code == 0 and detailed_exitcode and merged.has_changes:
        code = 3
    return code


def _pending_shared(runs: list[MemberRun]) -> list[str]:
    return sorted({f"{c.account}/{c.address}" for r in runs if r.plan is not None
                   for c in r.plan.pending if is_shared(c.address)})


def fleet_setup(actx, fleet, chosen, options, *, parallelism: int, output: str, yes: bool, shared_only: bool,
                sharded: bool, fail_fast: bool, verify: bool, config_file: str) -> int:
    from acrx.cli.flow import confirm

    runs, merged = _plan_fleet(actx, fleet, chosen, options, parallelism, fail_fast, shared_only, sharded)
    failures = _failed(actx, runs)
    if output != "json":
        _show(actx, merged, output)
    if failures and fail_fast:
        return _finish(actx, output, merged, runs, None)
    pending_shared = _pending_shared(runs)
    if sharded and not shared_only and pending_shared:
        raise UsageError(f"{len(pending_shared)} shared change(s) are pending (e.g. {pending_shared[0]}); a shard "
                         "applies only its clusters' own changes", field="--cluster-shard",
                         hint="run `acrx fleet setup --shared-only --yes` once first (docs/fleet.md)")
    if merged.has_changes and not yes and not confirm(actx, "Apply these changes?"):
        actx.err.print("nothing applied")
        return 1
    ok = [r for r in runs if r.plan is not None]
    # Phase 1: each shared change once, by the first cluster planning it, one cluster at a time.
    for run, addresses in shared_leaders(ok):
        try:
            apply_plan(actx, run, with_dependencies(run.plan, addresses), "acrx fleet setup")
        except Exception as exc:
            from acrx.cli.fleet_flow import _code

            run.error, run.code = exc, _code(exc)
            _failed(actx, [run])
            actx.err.print("error: the shared changes failed; no cluster is applied", markup=False)
            return _finish(actx, output, merged, runs, None)
    if shared_only:
        return _finish(actx, output, merged, runs, None)
    chosen_ids = {m.cluster_id for m in chosen.members}
    targets = [r for r in ok if r.member.cluster_id in chosen_ids]

    def apply_one(run: MemberRun) -> MemberRun:
        try:
            if run.plan.has_changes:
                apply_plan(actx, run, replan_checked(actx, run, "setup", shown_merged=merged), "acrx fleet setup")
        except Exception as exc:
            from acrx.cli.fleet_flow import _code

            run.error, run.code = exc, _code(exc)
            _failed(actx, [run])
        return run

    # Phase 2: every cluster at once (bounded), each against a fresh read.
    pool_map(apply_one, targets, parallelism, fail_fast)
    table = None
    if verify:
        from acrx.cli.fleet_verify import verify_runs

        table = verify_runs(actx, [r for r in targets if r.error is None], parallelism, fail_fast,
                            timeout=None, keep=False, config_file=config_file)
    return _finish(actx, output, merged, runs, table)


def _finish(actx, output: str, merged: Plan, runs: list[MemberRun], table) -> int:
    from acrx.cli.fleet_verify import print_table

    results = [{"cluster": r.name, "cluster_id": r.member.cluster_id, "applied": r.applied,
                "exit_code": r.code, "error": (" ".join(str(r.error).split()) if r.error else None)} for r in runs]
    if table is not None:
        by_name = {row["cluster"]: row for row in table}
        for row in results:
            if row["cluster"] in by_name:
                row["verify"] = by_name[row["cluster"]]
                row["exit_code"] = worst([row["exit_code"], by_name[row["cluster"]]["exit_code"]])
    if output == "json":
        from acrx.plan.fleet import summary_rows
        from acrx.render.envelope import plan_data, print_json

        print_json(actx.out, "FleetResult", {"plan": plan_data(merged), "summary": summary_rows(merged),
                                             "clusters": results})
    elif table is not None:
        print_table(actx, table)
    return worst(r["exit_code"] for r in results)


def fleet_verify(actx, members, *, parallelism: int, output: str, fail_fast: bool, timeout, keep: bool,
                 config_file: str) -> int:
    from acrx.cli.fleet_flow import Warnings, member_context
    from acrx.cli.fleet_verify import print_table, verify_runs
    from acrx.steps.context import StepOptions

    warnings = Warnings(actx)
    runs = []
    for m in members:
        run = MemberRun(m)
        try:
            run.ctx = member_context(actx, m, StepOptions(allow_plaintext_access_key=True), warnings)
        except Exception as exc:
            from acrx.cli.fleet_flow import _code

            run.error, run.code = exc, _code(exc)
        runs.append(run)
    table = verify_runs(actx, [r for r in runs if r.error is None], parallelism, fail_fast, timeout=timeout,
                        keep=keep, config_file=config_file)
    table += [{"cluster": r.name, "layer": "-", "verdict": "error", "cause": " ".join(str(r.error).split()),
               "fix": None, "exit_code": r.code} for r in runs if r.error is not None]
    if output == "json":
        from acrx.render.envelope import print_json

        print_json(actx.out, "FleetVerify", {"clusters": table})
    else:
        print_table(actx, table)
    return worst(row["exit_code"] for row in table)


def fleet_destroy(actx, fleet, chosen, options, *, parallelism: int, output: str, yes: bool, fail_fast: bool,
                  dry_run: bool) -> int:
    from dataclasses import replace

    from acrx.cli.flow import confirm

    chosen_ids = sorted(m.cluster_id for m in chosen.members)
    # Who still needs a shared resource: the membership marks of the registry account (one list of
    # B's roles and users, read by the destroy plans and shared by the fleet's read memo); no
    # account of a cluster this run leaves alone is read. The clusters of this run ignore each
    # other's marks: among them, the last one removes what they shared.
    planning = replace(options, extra={**options.extra, "destroying": chosen_ids})
    runs = plan_all(actx, chosen.members, "destroy", planning, parallelism, fail_fast)
    failures = _failed(actx, runs)
    ok = [r for r in runs if r.plan is not None]
    names = {m.cluster_id: m.name for m in fleet.members}
    users = shared_users(ok, names)
    for run in ok:
        run.plan = keep_shared(named(run.plan, names), users, _regs(run))
    merged = _note_last_one(merge(((r.member, r.plan) for r in ok), destroy=True), users)
    if output != "json" or dry_run:
        _show(actx, merged, output, kind="FleetPlan", extra={"failed": failures} if failures else None)
    if dry_run or (failures and fail_fast):
        return worst(r.code for r in runs)
    if merged.has_changes and not yes and not confirm(actx, "Delete these resources?"):
        actx.err.print("nothing deleted")
        return 1
    finishers = {id(run) for run, _ in _delete_leaders(ok)}
    first = [r for r in ok if id(r) not in finishers]
    def destroy_one(run: MemberRun, deferred: bool) -> MemberRun:
        try:
            keep = (lambda p: keep_shared(named(p, names), users, _regs(run), deferred=deferred))
            # A shared resource a cluster of this run kept only for another cluster of this run is
            # deleted by the last one, when no cluster outside the run uses it (the plan says so).
            plan = replan_checked(actx, run, "destroy", keep, merged,
                                  allow=lambda c: c.action is Action.DELETE and is_shared_in_destroy(c, _regs(run))
                                  and shared_key(c) not in users)
            apply_plan(actx, run, plan, "acrx fleet destroy")
        except Exception as exc:
            from acrx.cli.fleet_flow import _code

            run.error, run.code = exc, _code(exc)
            _failed(actx, [run])
        return run

    # Clusters that finish no shared resource go first, side by side, every shared delete deferred;
    # then one cluster per shared resource left, one at a time, deleting what nobody else uses.
    pool_map(lambda r: destroy_one(r, True), first, parallelism, fail_fast)
    # A cluster of this run whose destroy failed keeps its mark, and counts again as a user.
    leaving = sorted(r.member.cluster_id for r in ok if r.error is None)
    for run in [r for r in ok if id(r) in finishers]:
        run.ctx.options = replace(run.ctx.options, extra={**run.ctx.options.extra, "destroying": leaving})
        destroy_one(run, False)
    return _finish(actx, output, merged, runs, None)


def _delete_leaders(runs: list[MemberRun]):
    taken: set[str] = set()
    leaders = []
    for run in runs:
        mine = {f"{c.account}/{c.address}" for c in run.plan.pending if is_shared_in_destroy(c, _regs(run))} - taken
        taken |= mine
        if mine:
            leaders.append((run, mine))
    return leaders


def _regs(run: MemberRun) -> list[str]:
    return [r.account for r in run.member.config.registries]


def _note_last_one(plan: Plan, users: dict[str, list[str]]) -> Plan:
    """Shared resources one cluster keeps for another cluster of this same run: say that the last
    one removes them (if acrx made them and nothing else holds them then)."""
    from dataclasses import replace

    changes = []
    for c in plan.changes:
        if c.is_noop and "/" in c.address and _is_shared_address(c.address) and c.address not in users \
                and "kept: still used by" not in (c.reason or "") and "never deletes" not in (c.reason or ""):
            c = replace(c, reason=f"{c.reason}; if only clusters of this run hold it, the last of them removes it")
        changes.append(c)
    return Plan(changes, meta=plan.meta, settings=plan.settings)
