"""Issue 16: with a fleet config, `acrx plan` plans the fleet and `acrx verify` verifies every
cluster (`--all`, the default there), reusing the fleet commands; flags that address one cluster
are refused before any read. Single-cluster configs keep their behaviour (the other test files)."""

from __future__ import annotations

import json

import pytest

from acrx.sandbox.fleet import FleetSandbox

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def fleet(tmp_path):
    sandbox = FleetSandbox(clusters=3, accounts=2).start()
    try:
        sandbox.write_state(tmp_path / "sandbox")
        yield sandbox, tmp_path / "sandbox"
    finally:
        sandbox.stop()


def test_plan_and_verify_on_a_fleet_config_cover_every_cluster(run_cli, fleet):
    sandbox, directory = fleet
    config = directory / "acrx.yaml"
    names = sorted(c.name for c in sandbox.seeded.clusters)

    def acrx(*args):
        return run_cli("--sandbox", directory, *args, "-f", config)

    refused = acrx("plan", "--out", directory / "p.json")
    assert refused.exit_code == 2 and "--out" in refused.stderr and not (directory / "p.json").exists()
    refused = acrx("verify", "--kubeconfig", directory / "kc")
    assert refused.exit_code == 2 and "--kubeconfig" in refused.stderr

    before = acrx("plan", "--detailed-exitcode", "-o", "json")
    assert before.exit_code == 3, before.stderr
    planned = json.loads(before.stdout)["data"]
    assert sorted(c["name"] for c in planned["meta"]["clusters"]) == names, planned["meta"]
    unverified = acrx("verify", "-o", "json")
    assert unverified.exit_code == 4
    assert sorted(r["cluster"] for r in json.loads(unverified.stdout)["data"]["clusters"]) == names

    setup = run_cli("--sandbox", directory, "fleet", "setup", "--yes", "--no-verify", "-f", config)
    assert setup.exit_code == 0, setup.stderr

    after = acrx("plan", "--detailed-exitcode")
    assert after.exit_code == 0, after.stdout + after.stderr
    assert "No changes." in after.stdout
    for args in (("verify", "-o", "json"), ("verify", "--all", "-o", "json")):
        verified = acrx(*args)
        assert verified.exit_code == 0, verified.stdout + verified.stderr
        rows = json.loads(verified.stdout)["data"]["clusters"]
        assert sorted(r["cluster"] for r in rows) == names
        assert {r["verdict"] for r in rows} == {"pass"}
    assert run_cli("--sandbox", directory, "fleet", "destroy", "--yes", "-f", config).exit_code == 0
