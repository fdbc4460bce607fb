"""The Typer root. Command modules register on `app`; nothing here imports an SDK."""

import os
from pathlib import Path
from typing import Optional

import typer

from acrx import __version__
from acrx.cli.context import AppContext

app = typer.Typer(
    name="acrx",
    help="Plan, apply and prove cross-account image pulls from ACR Enterprise Edition to ACK.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


if os.environ.get("_ACRX_COMPLETE"):
    # A Tab press from the script `acrx completion SHELL` prints: Typer's completion classes
    # must be registered before it answers (add_completion=False leaves them out otherwise).
    from typer._completion_classes import completion_init

    completion_init()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"acrx {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    verbose: int = typer.Option(0, "-v", "--verbose", count=True, help="More detail; -v shows tracebacks."),
    sandbox: Optional[Path] = typer.Option(
        None, "--sandbox", envvar="ACRX_SANDBOX", help="Point every client at the sandbox in DIR."
    ),
    no_color: bool = typer.Option(False, "--no-color", help="No colour or bold (also NO_COLOR=1)."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No progress lines; results, warnings and errors only."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    record: Optional[Path] = typer.Option(
        None, "--record", metavar="FILE",
        help="Write every cloud and Kubernetes call of this run (no secrets) to FILE as JSON, for a bug report.",
    ),
) -> None:
    ctx.obj = AppContext.from_options(verbose, sandbox, no_color=no_color, quiet=quiet)
    if record is not None:
        from acrx.cloud import record as recording

        recording.start(record, command=ctx.invoked_subcommand)
        ctx.call_on_close(recording.stop)   # written however the command ends


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if obj is None:  # called without the root callback (tests building sub-apps)
        obj = ctx.find_root().obj = AppContext()
    return obj
