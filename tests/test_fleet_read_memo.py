"""Issue 16: a fleet plan reads each shared resource once (acrx.cloud.read_memo), not once per
cluster; each cluster's own reads stay its own; nothing is shared once applying starts."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from acrx.cloud.read_memo import ReadMemo, is_shared_read
from acrx.errors import CloudError
from acrx.sandbox.fleet import FleetSandbox

# Roles in the registry account are per cluster (acrx-pull-<cluster id>): read once per cluster.
_PER_CLUSTER = {"ram:GetRole", "ram:ListPoliciesForRole", "ram:ListTagResources"}


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


@pytest.mark.timeout(600)
def test_no_change_fleet_plan_reads_each_registry_side_resource_once(tmp_path, run_cli):
    sandbox = FleetSandbox(clusters=4, accounts=2).start()
    try:
        directory = tmp_path / "sandbox"
        sandbox.write_state(directory)
        config = directory / "acrx.yaml"
        setup = run_cli("--sandbox", directory, "fleet", "setup", "--yes", "--no-verify", "-f", config)
        assert setup.exit_code == 0, setup.stderr
        mark = sandbox.world.calls.mark()
        plan = run_cli("--sandbox", directory, "fleet", "plan", "--detailed-exitcode", "-f", config)
        assert plan.exit_code == 0, plan.stdout + plan.stderr
        reads = [c for c in sandbox.world.calls.since(mark) if not c.writes]
        registry = Counter(f"{c.service}:{c.action}" for c in reads if c.account == sandbox.seeded.account_b)
        # Without the memo each of these was read once per cluster (4 times).
        assert registry["cr:GetInstance"] == 1 and registry["sts:GetCallerIdentity"] == 1, registry
        shared = {a: n for a, n in registry.items() if a not in _PER_CLUSTER}
        assert shared and set(shared.values()) == {1}, registry
        assert registry["ram:GetRole"] == len(sandbox.seeded.clusters), registry
        # The clusters' own reads are not merged: one cluster detail per cluster.
        details = [c for c in reads if c.action == "DescribeClusterDetail"]
        assert len(details) == len(sandbox.seeded.clusters)
        # After the plan, applying reads afresh: a second setup still converges and plans again.
        again = run_cli("--sandbox", directory, "fleet", "setup", "--yes", "--no-verify", "-f", config)
        assert again.exit_code == 0, again.stderr
    finally:
        sandbox.stop()


def test_concurrent_callers_of_one_read_share_one_call():
    memo, calls, gate = ReadMemo(), [], threading.Event()

    def read():
        calls.append(1)
        gate.wait(30)
        return {"Instance": {"Id": "cri-1"}}

    results = []
    threads = [threading.Thread(target=lambda: results.append(memo.read(("registry", "cr:GetInstance"), read)))
               for _ in range(6)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while memo.hits + memo.misses < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    gate.set()
    for t in threads:
        t.join(30)
    assert len(calls) == 1 and memo.misses == 1 and memo.hits == 5
    assert results == [{"Instance": {"Id": "cri-1"}}] * 6
    results[0]["Instance"]["Id"] = "changed"          # each caller holds its own copy
    assert memo.read(("registry", "cr:GetInstance"), read) == {"Instance": {"Id": "cri-1"}}
    assert memo.read(("registry", "cr:GetInstance", "other"), read) and len(calls) == 2


def test_a_cloud_answer_is_shared_but_a_failure_to_answer_is_not():
    memo = ReadMemo()
    missing = CloudError("EntityNotExist.Role", "the role does not exist")

    def not_found():
        raise missing

    for _ in range(2):
        with pytest.raises(CloudError):
            memo.read(("k",), not_found)
    assert memo.misses == 1

    attempts = []

    def broken():
        attempts.append(1)
        raise KeyboardInterrupt

    for _ in range(2):
        with pytest.raises(KeyboardInterrupt):
            memo.read(("j",), broken)
    assert len(attempts) == 2


@pytest.mark.parametrize("action,shared", [("cr:GetInstance", True), ("ram:ListPoliciesForRole", True),
                                            ("vpc:DescribeVpcAttribute", True), ("ram:CreateRole", False),
                                            ("cr:GetAuthorizationToken", False),
                                            ("cs:DescribeClusterUserKubeconfig", False),
                                            ("cs:DescribeTaskInfo", False)])
def test_only_reads_without_secrets_are_shared(action, shared):
    assert is_shared_read(action) is shared
