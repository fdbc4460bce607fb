"""Every command module; importing this package registers them all on the root app.

The import order is the order `acrx --help` lists the commands in: the whole job first, then
one step each, then the offline and sandbox tools."""

from acrx.cli.commands import init  # noqa: F401
from acrx.cli.commands import setup  # noqa: F401  (plan, setup)
from acrx.cli.commands import verify  # noqa: F401  (verify, doctor)
from acrx.cli.commands import destroy  # noqa: F401
from acrx.cli.commands import status  # noqa: F401
from acrx.cli.commands import fleet  # noqa: F401  (fleet list|plan|setup|verify|destroy)
from acrx.cli.commands import identity  # noqa: F401  (rrsa, roles, policy)
from acrx.cli.commands import network  # noqa: F401
from acrx.cli.commands import addon  # noqa: F401
from acrx.cli.commands import configmap  # noqa: F401
from acrx.cli.commands import render  # noqa: F401  (render, schema)
from acrx.cli.commands import sandbox  # noqa: F401  (sandbox, demo)
from acrx.cli.commands import info  # noqa: F401  (version)
from acrx.cli.commands import completion  # noqa: F401
