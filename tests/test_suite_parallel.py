"""The suite under pytest-xdist (README's `python -m pytest -n 4`): a module whose tests share a
class- or module-scoped fixture runs whole on one worker, in order (tests/xdist_groups.py); every
other test goes to the next free worker."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pytest(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def test_a_shared_state_module_runs_on_one_worker_and_the_rest_spreads():
    result = _pytest("-n", "3", "-vv", "tests/test_role_arn_case.py", "tests/test_policy_diff.py")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    workers = defaultdict(set)
    for worker, module in re.findall(r"^\[(gw\d+)\] .*?(tests/test_\w+\.py)::", result.stdout, re.M):
        workers[module].add(worker)
    assert set(workers) == {"tests/test_role_arn_case.py", "tests/test_policy_diff.py"}, result.stdout[-3000:]
    assert len(workers["tests/test_role_arn_case.py"]) == 1, workers
    assert len(workers["tests/test_policy_diff.py"]) >= 2, workers


ORDERED = """
import pytest

@pytest.fixture(scope="module")
def log():
    return []

""" + "".join(f"""
def test_step_{i}(log):
    assert log == list(range({i}))
    log.append({i})
""" for i in range(8))

INDEPENDENT = "import time\n" + "".join(f"""
def test_alone_{i}():
    time.sleep(0.3)
""" for i in range(12))


def test_any_module_sharing_a_fixture_keeps_its_order_under_workers(tmp_path):
    """Found by the workers, not from a list: a new module needs nothing to be safe."""
    (tmp_path / "test_ordered.py").write_text(ORDERED)
    (tmp_path / "test_independent.py").write_text(INDEPENDENT)
    result = _pytest("-p", "tests.conftest", "--rootdir", str(tmp_path), "-n", "3", "--dist", "loadgroup", "-v",
                     str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    workers = defaultdict(set)
    for worker, module in re.findall(r"^\[(gw\d+)\] .*?(test_\w+)\.py::", result.stdout, re.M):
        workers[module].add(worker)
    assert len(workers["test_ordered"]) == 1 and len(workers["test_independent"]) >= 2, workers
    assert "20 passed" in result.stdout
