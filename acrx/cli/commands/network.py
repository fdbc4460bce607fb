"""`acrx network apply [--via public|peering|cen|none]`: the network step, planned first."""


from typing import Annotated, Optional

import typer

from acrx.cli.flow import RunOptions, load_config, plan_and_apply, step_context
from acrx.cli.options import (DEFAULT_FILE, AnySourceOpt, DetailedOpt, DryRunOpt, FileOpt, LockTimeoutOpt, OutputOpt,
                              NoResumeOpt, RouteToOpt, YesOpt, check_network_mode, check_route_to)
from acrx.cli.root import app, app_context

network_app = typer.Typer(help="Connect the cluster's network to the registry.", no_args_is_help=True)
app.add_typer(network_app, name="network")



@network_app.command("apply")
def apply(
    ctx: typer.Context,
    file: FileOpt = DEFAULT_FILE,
    via: Annotated[Optional[str], typer.Option(
        "--via", help="public | peering | cen | none (default network.mode).")] = None,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    output: OutputOpt = "table",
    detailed_exitcode: DetailedOpt = False,
    allow_any_source: AnySourceOpt = False,
    route_to: RouteToOpt = None,
    lock_timeout: LockTimeoutOpt = None,
    no_resume: NoResumeOpt = False,
) -> None:
    """Plan and apply the network path from the cluster's nodes to the registry."""
    from acrx.steps.context import StepOptions
    from acrx.steps.network import NetworkStep

    actx = app_context(ctx)
    check_network_mode(via, "--via")
    check_route_to(route_to)
    overrides = {"network.mode": via, "network.route_to": route_to,
                 "network.allow_any_source": True if allow_any_source else None}
    config = load_config(file, overrides, actx.sandbox_dir)
    options = StepOptions(allow_any_source=allow_any_source or None, route_to=route_to)
    step_ctx = step_context(actx, config, options)
    run = RunOptions(dry_run=dry_run, yes=yes, output=output, detailed_exitcode=detailed_exitcode,
                     lock_timeout=lock_timeout, no_resume=no_resume)
    step = NetworkStep(config.network.mode)
    code = plan_and_apply(actx, step_ctx, [step], run)
    if config.network.mode == "none":
        _print_findings(actx, step_ctx)
    raise typer.Exit(code)


def _print_findings(actx, step_ctx) -> None:
    from acrx.steps.network.none import REPORT_KEY

    # What is missing was already said as warnings; here is what was found in place.
    for ok, sentence in step_ctx.memo(REPORT_KEY, lambda: []):
        if ok:
            actx.err.print(f"found: {sentence}", highlight=False, markup=False)
