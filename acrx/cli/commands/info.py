"""Small commands that need nothing but the package itself."""


import typer

from acrx import __version__
from acrx.cli.root import app


@app.command("version")
def version() -> None:
    """Print the acrx version."""
    typer.echo(f"acrx {__version__}")
