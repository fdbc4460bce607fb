"""pytest-xdist scheduling for this suite (`python -m pytest -n 4`, `--dist loadgroup` in pyproject).

Each test is sent alone to the next free worker (tests take 0.01 s to 30 s, so batches would queue
short tests behind long ones), except a module whose tests share a class- or module-scoped fixture
(a cluster, a registry, a fleet): those may build on each other's changes to it (the kubectl
tests delete what an earlier test applied), so such a module runs whole on one worker, in order.

Which modules share state is known only where the tests are collected, on the workers; the
scheduler runs in the controller. So each worker writes the list to a file the controller named
in its workerinput, and the scheduler reads it once every worker has sent its collection.
pytest-xdist's own `xdist_group` mark cannot serve: under pytest 9 its rename of `item._nodeid`
no longer changes the node id the scheduler sees.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

SHARED_SCOPES = ("class", "module", "package")
KEY = "acrx_shared_state_file"


def shares_state(item) -> bool:
    defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    return any(d and d[-1].scope in SHARED_SCOPES for d in defs.values())


def record_shared_modules(config, items) -> None:
    """On a worker: write the modules of `items` that share a fixture where the controller reads them."""
    workerinput = getattr(config, "workerinput", None)
    if not workerinput or KEY not in workerinput:
        return
    modules = sorted({item.nodeid.split("::", 1)[0] for item in items if shares_state(item)})
    target = Path(workerinput[KEY])
    mine = target.with_name(f"{target.name}.{workerinput['workerid']}")
    mine.write_text(json.dumps(modules))
    os.replace(mine, target)   # every worker collects the same tests, so any complete copy will do


class _Groups:
    """The controller's side: a temporary file per run, named to the workers."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="acrx-xdist-"))
        self.file = self.dir / "shared-state-modules.json"
        self._modules: frozenset[str] | None = None

    def modules(self) -> frozenset[str]:
        if self._modules is None:
            # Read after every worker sent its collection, so after each wrote the file.
            self._modules = frozenset(json.loads(self.file.read_text()))
        return self._modules

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


_groups: _Groups | None = None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    global _groups
    if _groups is None:
        _groups = _Groups()
    node.workerinput[KEY] = str(_groups.file)


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if _groups is not None and path in _groups.modules() else nodeid

    return ModuleGroups(config, log)


def pytest_unconfigure(config) -> None:
    global _groups
    if _groups is not None and not hasattr(config, "workerinput"):
        _groups.close()
        _groups = None
