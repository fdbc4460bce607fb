"""Every command module; importing this package registers them all on the root app."""

from acrx.cli.commands import info  # noqa: F401
from acrx.cli.commands import render  # noqa: F401
from acrx.cli.commands import init  # noqa: F401
from acrx.cli.commands import sandbox  # noqa: F401
