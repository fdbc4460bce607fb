"""`acrx destroy`: remove, in reverse order, everything acrx created, and nothing it only adopted.

Planned first like every command: the plan lists each delete with its reason and each thing that
stays (adopted, shared, RRSA) as a no-op saying why. `--dry-run` shows it and changes nothing
(`--detailed-exitcode`: 3 when something would be deleted); otherwise it asks (or takes `--yes`)
and applies it with progress on stderr.
"""


from pathlib import Path
from typing import Annotated, Optional

import typer

from acrx.cli.options import LockTimeoutOpt, NoResumeOpt
from acrx.cli.root import app, app_context


@app.command("destroy")
def destroy(ctx: typer.Context,
            file: Annotated[Path, typer.Option("-f", "--file", help="Config file.")] = Path("acrx.yaml"),
            mode: Annotated[Optional[str], typer.Option(
                "--mode", help="rrsa | worker-role | access-key (overrides the file; destroy looks for every mode's "
                               "resources anyway).")] = None,
            network: Annotated[Optional[str], typer.Option(
                "--network", help="public | peering | cen | none (overrides the file).")] = None,
            yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only; delete nothing.")] = False,
            output: Annotated[str, typer.Option("-o", "--output", help="table | json.")] = "table",
            detailed_exitcode: Annotated[bool, typer.Option(
                "--detailed-exitcode", help="With --dry-run: exit 0 with nothing to delete, 3 otherwise.")] = False,
            kubeconfig: Annotated[Optional[Path], typer.Option(
                "--kubeconfig", help="Use this kubeconfig instead of asking CS for a temporary one.")] = None,
            lock_timeout: LockTimeoutOpt = None, no_resume: NoResumeOpt = False) -> int:
    """Remove what acrx created (by its ownership mark), in reverse order; keep what it adopted."""
    from acrx.cli.flow import RunOptions, load_config, plan_and_apply, step_context
    from acrx.steps.context import StepOptions
    from acrx.steps.teardown import destroy_steps, plan_destroy_all

    if detailed_exitcode and not dry_run:
        from acrx.errors import UsageError

        raise UsageError("only means something with --dry-run (destroy exits 0 once it has deleted)",
                         field="--detailed-exitcode", hint="add --dry-run to ask whether anything would be deleted")
    actx = app_context(ctx)
    config = load_config(file, {"mode": mode, "network.mode": network}, actx.sandbox_dir)
    options = StepOptions(kubeconfig=str(kubeconfig) if kubeconfig else None)
    step_ctx = step_context(actx, config, options)
    run = RunOptions(dry_run=dry_run, yes=yes, output=output, detailed_exitcode=detailed_exitcode,
                     lock_timeout=lock_timeout, no_resume=no_resume)
    return plan_and_apply(actx, step_ctx, destroy_steps(config), run, planner=plan_destroy_all)
