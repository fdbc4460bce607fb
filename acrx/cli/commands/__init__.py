"""Every command module; importing this package registers them all on the root app."""

from acrx.cli.commands import info  # noqa: F401
