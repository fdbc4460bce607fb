"""`acrx plan` and `acrx setup`: every step in one plan, grouped by account.

`plan` is read-only (the same plan setup would apply; `--detailed-exitcode` for CI, `--out` to
save it). `setup` shows the plan, asks (or takes `--yes`), applies it with progress on stderr,
then runs `acrx verify` unless `--no-verify`. `setup --plan FILE` applies a saved plan, refused
when the live state no longer matches what it was planned against.
"""


from pathlib import Path
from typing import Annotated, Optional

import typer

from acrx.cli.options import (DEFAULT_FILE, AnySourceOpt, AssumeOpt, DetailedOpt, DryRunOpt, FileOpt, KubeconfigOpt,
                              ForeignAkOpt, LockTimeoutOpt, ModeOpt, NetworkOpt, NoResumeOpt, OutOpt, OutputOpt, PlainAkOpt,
                              RouteToOpt, ScopeOpt, YesOpt, ZoneVswitchOpt)
from acrx.cli.root import app

PlanDryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Accepted for symmetry with setup; plan never writes.",
                                             show_default=False)]


def _desired(ctx: typer.Context, file: Path, flags: dict, kubeconfig, *, given=None, check=True, applying=False):
    """The desired state (file + flags) and, unless a saved plan fixes the settings, the check
    that acrx's marks on the cluster agree with it (acrx.cli.desired)."""
    from acrx.cli.desired import check_marks, load

    desired = load(ctx, file, kubeconfig=kubeconfig, given=given, **flags)
    if check:
        check_marks(desired, command="acrx setup" if applying else None)
    return desired


@app.command("plan")
def plan(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None, network: NetworkOpt = None,
         route_to: RouteToOpt = None, assume_policy: AssumeOpt = None, pull_policy_scope: ScopeOpt = None,
         allow_any_source: AnySourceOpt = False, allow_plaintext_access_key: PlainAkOpt = False,
         allow_foreign_access_key: ForeignAkOpt = False,
         create_zone_vswitch: ZoneVswitchOpt = False, dry_run: PlanDryRunOpt = False, output: OutputOpt = "table",
         detailed_exitcode: Annotated[bool, typer.Option(
             "--detailed-exitcode", help="Exit 0 with no changes, 3 with changes pending.")] = False,
         out: OutOpt = None, kubeconfig: KubeconfigOpt = None) -> int:
    """Show what `acrx setup` would change, reading only (CI: --detailed-exitcode -o json).
    With a fleet config (clusters:), the plan of every cluster (`acrx fleet plan`)."""
    from acrx.cli.commands.fleet import is_fleet_file
    from acrx.cli.flow import RunOptions, check_out_path, plan_and_apply
    from acrx.steps.setup import plan_setup, setup_steps

    if is_fleet_file(ctx, file):
        from acrx.cli.commands.fleet import plan_fleet_file, refuse_single_cluster_flags
        from acrx.cli.options import check_output, desired_overrides

        check_output(output)
        refuse_single_cluster_flags(**{"--out": out, "--kubeconfig": kubeconfig,
                                       "--create-zone-vswitch": create_zone_vswitch,
                                       "--allow-plaintext-access-key": allow_plaintext_access_key,
                                       "--allow-foreign-access-key": allow_foreign_access_key})
        overrides = desired_overrides(mode, network, route_to, assume_policy, pull_policy_scope, allow_any_source)
        return plan_fleet_file(ctx, file, overrides, output, detailed_exitcode)
    if out is not None:
        check_out_path(out)   # before any cloud read: a typo in --out costs nothing
    flags = dict(mode=mode, network=network, route_to=route_to, assume_policy=assume_policy,
                 pull_policy_scope=pull_policy_scope, allow_any_source=allow_any_source,
                 allow_plaintext_access_key=allow_plaintext_access_key, create_zone_vswitch=create_zone_vswitch,
                 allow_foreign_access_key=allow_foreign_access_key)
    d = _desired(ctx, file, flags, kubeconfig)
    run = RunOptions(dry_run=True, output=output, detailed_exitcode=detailed_exitcode, out=out)
    return plan_and_apply(d.actx, d.step_ctx, setup_steps(d.config, d.config.network.mode), run, planner=plan_setup,
                          settings=d.settings)


@app.command("setup")
def setup(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None, network: NetworkOpt = None,
          route_to: RouteToOpt = None, assume_policy: AssumeOpt = None, pull_policy_scope: ScopeOpt = None,
          allow_any_source: AnySourceOpt = False, allow_plaintext_access_key: PlainAkOpt = False,
          allow_foreign_access_key: ForeignAkOpt = False,
          create_zone_vswitch: ZoneVswitchOpt = False, yes: YesOpt = False, dry_run: DryRunOpt = False,
          detailed_exitcode: DetailedOpt = False, output: OutputOpt = "table",
          no_verify: Annotated[bool, typer.Option("--no-verify", help="Do not run acrx verify afterwards.")] = False,
          saved_plan: Annotated[Optional[Path], typer.Option(
              "--plan", help="Apply this saved plan (from acrx plan --out), under the settings it was made with.")] = None,
          keep: Annotated[bool, typer.Option("--keep", help="Keep verify's nginx Deployment.")] = False,
          kubeconfig: KubeconfigOpt = None,
          lock_timeout: LockTimeoutOpt = None, no_resume: NoResumeOpt = False) -> int:
    """Plan every step, apply the plan, then prove a pod pulls (acrx verify)."""
    from acrx.cli.flow import RunOptions, plan_and_apply, step_context
    from acrx.errors import UsageError

    from acrx.steps.setup import plan_setup, setup_steps

    if detailed_exitcode and not dry_run:
        raise UsageError("only means something with --dry-run (setup exits 0 once it has applied)",
                         field="--detailed-exitcode", hint="add --dry-run to ask whether anything would change")
    flags = dict(mode=mode, network=network, route_to=route_to, assume_policy=assume_policy,
                 pull_policy_scope=pull_policy_scope, allow_any_source=allow_any_source,
                 allow_plaintext_access_key=allow_plaintext_access_key, create_zone_vswitch=create_zone_vswitch,
                 allow_foreign_access_key=allow_foreign_access_key)
    saved, given = None, None
    if saved_plan is not None:
        from acrx.cli.saved_plan import SETTING_FLAGS, given_flags, read_saved_plan, settings_for

        saved = read_saved_plan(saved_plan)
        if (saved.meta or {}).get("command") == "destroy":
            raise UsageError(f"{saved_plan} is a teardown, not a setup plan", field="--plan",
                             hint=f"apply it with `acrx destroy --plan {saved_plan}`")
        flags = settings_for(saved.settings, flags, given_flags(ctx))
        given = set(SETTING_FLAGS)   # the reviewed plan's settings are a deliberate choice
    d = _desired(ctx, file, flags, kubeconfig, given=given, applying=not dry_run)
    if not (no_verify or dry_run):
        from acrx.cli.commands.verify import check_image_network

        check_image_network(d.config)   # a verify image the network cannot reach fails before any change

    def after(sink) -> int:
        from acrx.steps.applied import restamp

        restamp(d.step_ctx)   # acrx's marks now name the settings just applied (acrx.steps.applied)
        if no_verify:
            return 0
        from acrx.cli.commands.verify import run_verify, verify_run

        fresh = step_context(d.actx, d.config, d.options)   # apply changed the world; read it anew
        return run_verify(d.actx, verify_run(d.actx, fresh, file, None, keep), output, sink)

    run = RunOptions(dry_run=dry_run, yes=yes, output=output, detailed_exitcode=detailed_exitcode,
                     lock_timeout=lock_timeout, no_resume=no_resume)
    return plan_and_apply(d.actx, d.step_ctx, setup_steps(d.config, d.config.network.mode), run, planner=plan_setup,
                          saved=saved, after_apply=after, settings=d.settings)
