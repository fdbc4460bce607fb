"""Shared fixtures. The SDK traps from the reference are cleared here once for every test."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from tests.xdist_groups import (pytest_configure_node, pytest_unconfigure,  # noqa: F401 (xdist hooks)
                                pytest_xdist_make_scheduler, record_shared_modules)

for _var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    os.environ.pop(_var, None)
# Never let the credentials chain reach the ECS metadata address.
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
os.environ.pop("ACRX_SANDBOX", None)


@pytest.fixture(autouse=True)
def _uncancelled():
    """acrx.cancel's event is process-wide: a test that cancels must not cancel the next one."""
    from acrx import cancel

    cancel.reset()
    yield
    cancel.reset()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys):
    """Run acrx in-process; returns exit code, stdout and stderr."""
    from acrx.cli.app import run

    def _run(*args: str) -> CliResult:
        capsys.readouterr()
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run


def pytest_collection_modifyitems(config, items):
    """Tests marked slow run first (a stable sort keeps the rest in order): under pytest-xdist a
    long test then starts at once and the short ones fill the other workers around it, instead of
    it running alone at the end. On an xdist worker, also tell the scheduler which modules share a
    fixture (tests/xdist_groups.py)."""
    record_shared_modules(config, items)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
