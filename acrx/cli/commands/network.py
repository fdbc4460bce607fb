"""`acrx network apply [--network public|peering|cen|none]`: the network step, planned first."""


from typing import Annotated, Optional

import typer

from acrx.cli.options import (DEFAULT_FILE, AnySourceOpt, DetailedOpt, DryRunOpt, FileOpt, KubeconfigOpt,
                              LockTimeoutOpt, NetworkMode, NoResumeOpt, OutputOpt, RouteToOpt, YesOpt,
                              ZoneVswitchOpt)
from acrx.cli.root import app

network_app = typer.Typer(help="Connect the cluster's network to the registry.", no_args_is_help=True,
                          rich_markup_mode=None)
app.add_typer(network_app, name="network")

# The same flag as setup's; --via is the older name, kept as an alias.
NetworkOrViaOpt = Annotated[Optional[NetworkMode], typer.Option(
    "--network", "--via", help="How nodes reach the registry (key: network.mode; --via is an alias).")]


@network_app.command("apply")
def apply(
    ctx: typer.Context,
    file: FileOpt = DEFAULT_FILE,
    network: NetworkOrViaOpt = None,
    route_to: RouteToOpt = None,
    allow_any_source: AnySourceOpt = False,
    create_zone_vswitch: ZoneVswitchOpt = False,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    output: OutputOpt = "table",
    detailed_exitcode: DetailedOpt = False,
    kubeconfig: KubeconfigOpt = None,
    lock_timeout: LockTimeoutOpt = None,
    no_resume: NoResumeOpt = False,
) -> None:
    """Plan and apply the network path from the cluster's nodes to the registry."""
    from acrx.cli.desired import check_marks, load
    from acrx.cli.flow import RunOptions, plan_and_apply
    from acrx.steps.network import NetworkStep

    run = RunOptions(dry_run=dry_run, yes=yes, output=output, detailed_exitcode=detailed_exitcode,
                     lock_timeout=lock_timeout, no_resume=no_resume)
    run.check()
    d = load(ctx, file, network=network, route_to=route_to, allow_any_source=allow_any_source,
             create_zone_vswitch=create_zone_vswitch, kubeconfig=kubeconfig)
    check_marks(d, takes={"network", "route_to"}, command=None if dry_run else "acrx network apply")
    code = plan_and_apply(d.actx, d.step_ctx, [NetworkStep(d.config.network.mode)], run)
    if d.config.network.mode == "none":
        _print_findings(d.actx, d.step_ctx)
    raise typer.Exit(code)


def _print_findings(actx, step_ctx) -> None:
    from acrx.steps.network.none import REPORT_KEY

    # What is missing was already said as warnings; here is what was found in place.
    for ok, sentence in step_ctx.memo(REPORT_KEY, lambda: []):
        if ok:
            actx.err.print(f"found: {sentence}", highlight=False, markup=False)
