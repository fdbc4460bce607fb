"""`acrx destroy`: remove, in reverse order, everything acrx created, and nothing it only adopted.

Planned first like every command: the plan lists each delete with its reason and each thing that
stays (adopted, shared, RRSA) as a no-op saying why. `--dry-run` shows it and changes nothing
(`--detailed-exitcode`: 3 when something would be deleted); otherwise it asks (or takes `--yes`)
and applies it with progress on stderr.
"""


from pathlib import Path
from typing import Annotated, Optional

import typer

from acrx.cli.options import (DEFAULT_FILE, AnySourceOpt, AssumeOpt, DetailedOpt, DryRunOpt, FileOpt, KubeconfigOpt,
                              LockTimeoutOpt, ModeOpt, NetworkOpt, NoResumeOpt, OutOpt, OutputOpt, PlainAkOpt,
                              RouteToOpt, ScopeOpt)
from acrx.cli.root import app

SAVED_KIND = "destroy"   # a saved plan's meta.command: only a teardown plan is applied by destroy --plan


@app.command("destroy")
def destroy(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None, network: NetworkOpt = None,
            route_to: RouteToOpt = None, assume_policy: AssumeOpt = None, pull_policy_scope: ScopeOpt = None,
            allow_any_source: AnySourceOpt = False, allow_plaintext_access_key: PlainAkOpt = False,
            yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
            dry_run: DryRunOpt = False, output: OutputOpt = "table",
            detailed_exitcode: Annotated[bool, typer.Option(
                "--detailed-exitcode", help="With --dry-run: exit 0 with nothing to delete, 3 otherwise.")] = False,
            out: OutOpt = None,
            saved_plan: Annotated[Optional[Path], typer.Option(
                "--plan", help="Apply this saved teardown (from acrx destroy --dry-run --out), exactly.")] = None,
            kubeconfig: KubeconfigOpt = None,
            lock_timeout: LockTimeoutOpt = None, no_resume: NoResumeOpt = False) -> int:
    """Remove what acrx created (by its ownership mark), in reverse order; keep what it adopted.

    The desired-state flags are those of setup; destroy looks for what any mode or network made."""
    from acrx.cli.desired import load
    from acrx.cli.flow import RunOptions, check_out_path, plan_and_apply
    from acrx.errors import UsageError
    from acrx.steps.teardown import destroy_steps, plan_destroy_all

    if detailed_exitcode and not dry_run:
        raise UsageError("only means something with --dry-run (destroy exits 0 once it has deleted)",
                         field="--detailed-exitcode", hint="add --dry-run to ask whether anything would be deleted")
    if out is not None:
        if not dry_run:
            raise UsageError("saves a teardown to review, so it goes with --dry-run", field="--out",
                             hint="acrx destroy --dry-run --out FILE, then acrx destroy --plan FILE")
        check_out_path(out)
    flags = dict(mode=mode, network=network, route_to=route_to, assume_policy=assume_policy,
                 pull_policy_scope=pull_policy_scope, allow_any_source=allow_any_source,
                 allow_plaintext_access_key=allow_plaintext_access_key)
    saved = None
    if saved_plan is not None:
        from acrx.cli.saved_plan import given_flags, read_saved_plan, settings_for

        if dry_run:
            raise UsageError("applies a saved teardown; a dry run would apply nothing", field="--plan",
                             hint="drop --dry-run")
        saved = read_saved_plan(saved_plan)
        if (saved.meta or {}).get("command") != SAVED_KIND:
            raise UsageError(f"{saved_plan} is a setup plan, not a teardown", field="--plan",
                             hint="apply it with `acrx setup --plan`, or save a teardown with "
                                  "`acrx destroy --dry-run --out FILE`")
        flags = settings_for(saved.settings, flags, given_flags(ctx))
    d = load(ctx, file, kubeconfig=kubeconfig, **flags)
    run = RunOptions(dry_run=dry_run, yes=yes, output=output, detailed_exitcode=detailed_exitcode, out=out,
                     lock_timeout=lock_timeout, no_resume=no_resume)
    return plan_and_apply(d.actx, d.step_ctx, destroy_steps(d.config), run, planner=plan_destroy_all,
                          saved=saved, settings=d.settings)
