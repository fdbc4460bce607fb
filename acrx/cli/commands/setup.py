"""`acrx plan` and `acrx setup`: every step in one plan, grouped by account.

`plan` is read-only (the same plan setup would apply; `--detailed-exitcode` for CI, `--out` to
save it). `setup` shows the plan, asks (or takes `--yes`), applies it with progress on stderr,
then runs `acrx verify` unless `--no-verify`. `setup --plan FILE` applies a saved plan, refused
when the live state no longer matches what it was planned against.
"""


from pathlib import Path
from typing import Annotated, Optional

import typer

from acrx.cli.options import (DEFAULT_FILE, AnySourceOpt, AssumeOpt, FileOpt, KubeconfigOpt, LockTimeoutOpt, ModeOpt,
                              NetworkOpt, NoResumeOpt, OutputOpt, PlainAkOpt, RouteToOpt, ScopeOpt, YesOpt,
                              check_any_source, check_identity_flags)
from acrx.cli.root import app, app_context


def _context(ctx: typer.Context, file: Path, mode, network, assume_policy, pull_policy_scope,
             allow_plaintext_access_key, allow_any_source, route_to, kubeconfig):
    from acrx.cli.flow import load_config, step_context
    from acrx.steps.context import StepOptions

    check_identity_flags(assume_policy, pull_policy_scope)
    actx = app_context(ctx)
    config = load_config(file, {"mode": mode, "network.mode": network}, actx.sandbox_dir)
    check_any_source(allow_any_source, config.network.mode)
    options = StepOptions(assume_policy=assume_policy, allow_plaintext_access_key=allow_plaintext_access_key,
                          allow_any_source=allow_any_source or None, route_to=route_to,
                          kubeconfig=str(kubeconfig) if kubeconfig else None,
                          extra={"pull_policy_scope": pull_policy_scope})
    # Every setting that shapes the plan: saved with it, so `setup --plan` needs none of them again.
    settings = {"mode": config.mode, "network": config.network.mode, "route_to": route_to,
                "assume_policy": assume_policy, "pull_policy_scope": pull_policy_scope,
                "allow_plaintext_access_key": bool(allow_plaintext_access_key),
                "allow_any_source": bool(allow_any_source)}
    return actx, config, options, step_context(actx, config, options), settings


@app.command("plan")
def plan(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None, network: NetworkOpt = None,
         dry_run: Annotated[bool, typer.Option("--dry-run", help="Accepted for symmetry: plan never writes.")] = True,
         output: OutputOpt = "table",
         detailed_exitcode: Annotated[bool, typer.Option(
             "--detailed-exitcode", help="Exit 0 with no changes, 3 with changes pending.")] = False,
         out: Annotated[Optional[Path], typer.Option("--out", help="Save the plan (JSON) for `acrx setup --plan`.")] = None,
         assume_policy: AssumeOpt = None, pull_policy_scope: ScopeOpt = "instance",
         allow_plaintext_access_key: PlainAkOpt = False, allow_any_source: AnySourceOpt = False,
         route_to: RouteToOpt = None, kubeconfig: KubeconfigOpt = None) -> int:
    """Show what `acrx setup` would change, reading only (CI: --detailed-exitcode -o json)."""
    from acrx.cli.flow import RunOptions, check_out_path, plan_and_apply
    from acrx.steps.setup import plan_setup, setup_steps

    if out is not None:
        check_out_path(out)   # before any cloud read: a typo in --out costs nothing
    actx, config, options, step_ctx, settings = _context(
        ctx, file, mode, network, assume_policy, pull_policy_scope, allow_plaintext_access_key, allow_any_source,
        route_to, kubeconfig)
    run = RunOptions(dry_run=True, output=output, detailed_exitcode=detailed_exitcode, out=out)
    return plan_and_apply(actx, step_ctx, setup_steps(config, settings["network"]), run, planner=plan_setup,
                          settings=settings)


@app.command("setup")
def setup(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None, network: NetworkOpt = None,
          yes: YesOpt = False,
          output: OutputOpt = "table",
          no_verify: Annotated[bool, typer.Option("--no-verify", help="Do not run acrx verify afterwards.")] = False,
          saved_plan: Annotated[Optional[Path], typer.Option(
              "--plan", help="Apply this saved plan (from acrx plan --out), under the settings it was made with.")] = None,
          keep: Annotated[bool, typer.Option("--keep", help="Keep verify's nginx Deployment.")] = False,
          assume_policy: AssumeOpt = None, pull_policy_scope: ScopeOpt = "instance",
          allow_plaintext_access_key: PlainAkOpt = False, allow_any_source: AnySourceOpt = False,
          route_to: RouteToOpt = None, kubeconfig: KubeconfigOpt = None,
          lock_timeout: LockTimeoutOpt = None, no_resume: NoResumeOpt = False) -> int:
    """Plan every step, apply the plan, then prove a pod pulls (acrx verify)."""
    from acrx.cli.flow import RunOptions, plan_and_apply, step_context
    from acrx.steps.setup import plan_setup, setup_steps

    saved = None
    if saved_plan is not None:
        from acrx.cli.saved_plan import given_flags, read_saved_plan, settings_for

        saved = read_saved_plan(saved_plan)
        flags = {"mode": mode, "network": network, "route_to": route_to, "assume_policy": assume_policy,
                 "pull_policy_scope": pull_policy_scope, "allow_plaintext_access_key": allow_plaintext_access_key,
                 "allow_any_source": allow_any_source}
        chosen = settings_for(saved.settings, flags, given_flags(ctx))
        mode, network, route_to = chosen["mode"], chosen["network"], chosen["route_to"]
        assume_policy, pull_policy_scope = chosen["assume_policy"], chosen["pull_policy_scope"]
        allow_plaintext_access_key = chosen["allow_plaintext_access_key"]
        allow_any_source = chosen["allow_any_source"]
    actx, config, options, step_ctx, settings = _context(
        ctx, file, mode, network, assume_policy, pull_policy_scope, allow_plaintext_access_key, allow_any_source,
        route_to, kubeconfig)

    def verify(sink) -> int:
        if no_verify:
            return 0
        from acrx.cli.commands.verify import run_verify, verify_run

        fresh = step_context(actx, config, options)   # apply changed the world; read it anew
        return run_verify(actx, verify_run(actx, fresh, file, None, keep), output, sink)

    run = RunOptions(yes=yes, output=output, lock_timeout=lock_timeout, no_resume=no_resume)
    return plan_and_apply(actx, step_ctx, setup_steps(config, settings["network"]), run, planner=plan_setup,
                          saved=saved, after_apply=verify, settings=settings)
