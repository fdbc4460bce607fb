"""`acrx network apply [--via public|peering|cen|none]`: the network step, planned first."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from acrx.cli.flow import DEFAULT_CONFIG, RunOptions, load_config, plan_and_apply, step_context
from acrx.cli.root import app, app_context
from acrx.errors import UsageError

network_app = typer.Typer(help="Connect the cluster's network to the registry.", no_args_is_help=True)
app.add_typer(network_app, name="network")

VIAS = ("public", "peering", "cen", "none")
ROUTE_TOS = ("endpoint", "vpc")


@network_app.command("apply")
def apply(
    ctx: typer.Context,
    file: Path = typer.Option(DEFAULT_CONFIG, "-f", "--file", help="The acrx.yaml to read."),
    via: Optional[str] = typer.Option(None, "--via", help="public | peering | cen | none (default network.mode)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan only; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Apply without asking."),
    output: str = typer.Option("table", "-o", "--output", help="table | json"),
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode",
                                           help="With --dry-run: exit 3 when changes are pending."),
    allow_any_source: bool = typer.Option(False, "--allow-any-source",
                                          help="public: admit 0.0.0.0/0 in the endpoint ACL."),
    route_to: Optional[str] = typer.Option(None, "--route-to",
                                           help="peering/cen: route the endpoint IP /32 (endpoint) or B's VPC (vpc)."),
) -> None:
    """Plan and apply the network path from the cluster's nodes to the registry."""
    from acrx.steps.context import StepOptions
    from acrx.steps.network import NetworkStep

    actx = app_context(ctx)
    if via is not None and via not in VIAS:
        raise UsageError(f"unknown network mode {via!r}; use one of {', '.join(VIAS)}", field="--via")
    if route_to is not None and route_to not in ROUTE_TOS:
        raise UsageError(f"unknown value {route_to!r}; use endpoint or vpc", field="--route-to")
    overrides = {"network.mode": via, "network.route_to": route_to,
                 "network.allow_any_source": True if allow_any_source else None}
    config = load_config(file, overrides)
    options = StepOptions(allow_any_source=allow_any_source or None, route_to=route_to)
    step_ctx = step_context(actx, config, options)
    run = RunOptions(dry_run=dry_run, yes=yes, output=output, detailed_exitcode=detailed_exitcode)
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
