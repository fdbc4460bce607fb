"""Issue 16 in the sandbox: a fleet of 5 clusters in 2 cluster accounts and 2 regions, one
registry account and instance, mixed modes (rrsa, worker-role) and networks (peering, public,
cen). `acrx fleet setup` converges with a verified pull in every cluster and a second plan has
nothing to do; destroying one cluster leaves the others verified and keeps every shared resource
they use (saying for whom); destroying the rest leaves nothing acrx made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acrx.sandbox.fleet import FleetSandbox
from tests.test_setup_matrix import acrx_leftovers

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


class _Fleet:
    def __init__(self, sandbox: FleetSandbox, directory: Path):
        self.sandbox, self.dir = sandbox, directory

    @property
    def world(self):
        return self.sandbox.world

    @property
    def config_path(self) -> Path:
        return self.dir / "acrx.yaml"


def _leftovers(fleet: _Fleet) -> list[str]:
    """acrx's marked resources anywhere, and acrx's ConfigMap keys in any cluster."""
    from acrx import facts
    from acrx.sandbox.kube.errors import KubeError

    class _One:   # acrx_leftovers reads one cluster's ConfigMap: give it each in turn
        def __init__(self, cluster):
            self.world = fleet.world
            self.sandbox = type("S", (), {"cluster": cluster})()

    found: list[str] = []
    clusters = list(fleet.sandbox.clusters.values())
    found += acrx_leftovers(_One(clusters[0]))
    for cluster in clusters[1:]:
        try:
            data = cluster.store.get("configmaps", facts.CONFIGMAP_NAMESPACE, facts.CONFIGMAP_NAME).get("data") or {}
        except KubeError:
            continue
        if facts.CM_REGISTRY_INFO in data:
            found.append(f"acr-configuration in {cluster}")
    return found


@pytest.fixture(params=[(5, 2)])
def fleet(tmp_path, request):
    clusters, accounts = request.param
    sandbox = FleetSandbox(clusters=clusters, accounts=accounts).start()
    try:
        sandbox.write_state(tmp_path / "sandbox")
        yield _Fleet(sandbox, tmp_path / "sandbox")
    finally:
        sandbox.stop()


def _cli(run_cli, fleet, *args):
    return run_cli("--sandbox", fleet.dir, "fleet", *args, "-f", fleet.config_path)


@pytest.mark.parametrize("fleet", [(5, 2), (20, 3)], indirect=True, ids=["5-clusters-2-accounts",
                                                                       "20-clusters-3-accounts"])
def test_fleet_setup_verify_destroy_one_then_all(run_cli, fleet):
    """Issue 16's done-when, rate limits on: every cluster verified, a second plan exits 0,
    destroying one leaves the others verified, destroying all leaves nothing acrx made."""
    seeded = fleet.sandbox.seeded
    assert fleet.world.knobs.qps_limits
    assert {c.mode for c in seeded.clusters} == {"rrsa", "worker-role"}
    assert {c.network for c in seeded.clusters} == {"peering", "public", "cen"}
    assert len({c.region for c in seeded.clusters}) == 2 and len(seeded.cluster_accounts) >= 2

    result = _cli(run_cli, fleet, "setup", "--yes", "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)["data"]
    assert [c["verify"]["verdict"] for c in data["clusters"]] == ["pass"] * len(seeded.clusters), data["clusters"]
    assert all(c["verify"]["pulled"] for c in data["clusters"])
    # The pull policy of the instance is planned once, for all five clusters.
    users = data["plan"]["meta"]["shared_users"]
    assert sorted(users["registry/ram.policy.registry_pull"]) == [c.name for c in seeded.clusters]
    policies = [p for b in fleet.world.backends("ram") for p in b.policies.values() if p.name.startswith("acrx-pull-")]
    assert len(policies) == 1

    again = _cli(run_cli, fleet, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout

    # Destroy one public cluster: its ACL entry goes, the endpoint and the others' entries stay.
    gone = next(c for c in seeded.clusters if c.network == "public")
    still_public = next(c for c in seeded.clusters if c.network == "public" and c is not gone)
    dry = _cli(run_cli, fleet, "destroy", "--cluster", gone.name, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert f"kept: still used by {still_public.name}" in dry.stdout
    assert f"delete registry/cr.acl.{gone.egress_ip}/32" in dry.stdout
    result = _cli(run_cli, fleet, "destroy", "--cluster", gone.name, "--yes")
    assert result.exit_code == 0, result.stderr
    acl = [cidr for b in fleet.world.backends("cr") for i in b.instances.values() for cidr, _ in i.acl]
    assert f"{gone.egress_ip}/32" not in acl and f"{still_public.egress_ip}/32" in acl

    others = [a for c in seeded.clusters if c is not gone for a in ("--cluster", c.name)]
    verify = _cli(run_cli, fleet, "verify", *others)
    assert verify.exit_code == 0, verify.stdout + verify.stderr
    assert f"{len(seeded.clusters) - 1} of {len(seeded.clusters) - 1} cluster(s) verified" in verify.stdout
    # The destroyed one is reported, not hidden: verify names its layer, verdict and fix.
    alone = _cli(run_cli, fleet, "verify", "--cluster", gone.name, "-o", "json")
    assert alone.exit_code == 4
    row = json.loads(alone.stdout)["data"]["clusters"][0]
    assert row["verdict"] == "fail" and row["fix"]

    result = _cli(run_cli, fleet, "destroy", "--yes")
    assert result.exit_code == 0, result.stderr
    assert _leftovers(fleet) == []


def test_fleet_verify_failure_in_one_cluster_does_not_stop_others(run_cli, fleet):
    seeded = fleet.sandbox.seeded
    first, second = seeded.clusters[0], seeded.clusters[1]
    result = _cli(run_cli, fleet, "setup", "--yes", "--no-verify", "--cluster", first.name)
    assert result.exit_code == 0, result.stderr
    verify = _cli(run_cli, fleet, "verify", "--cluster", first.name, "--cluster", second.name, "-o", "json")
    assert verify.exit_code == 4          # the worst of 0 and 4
    rows = {r["cluster"]: r for r in json.loads(verify.stdout)["data"]["clusters"]}
    assert rows[first.name]["verdict"] == "pass" and rows[first.name]["exit_code"] == 0
    assert rows[second.name]["verdict"] == "fail" and rows[second.name]["cause"]
    result = _cli(run_cli, fleet, "destroy", "--yes", "--cluster", first.name)
    assert result.exit_code == 0, result.stderr
    assert _leftovers(fleet) == []


def test_shard_setup_needs_the_shared_run_first(run_cli, fleet):
    """A shard applies only its clusters' own changes; the shared ones come from --shared-only."""
    from acrx.plan.fleet import is_shared

    names = {c.name for c in fleet.sandbox.seeded.clusters}
    shard = json.loads(_cli(run_cli, fleet, "plan", "--cluster-shard", "0/2", "-o", "json").stdout)["data"]
    shared = json.loads(_cli(run_cli, fleet, "plan", "--shared-only", "-o", "json").stdout)["data"]
    assert shard["changes"] and all(c["address"].split("/", 1)[0] in names for c in shard["changes"])
    assert shared["changes"] and all(is_shared(c["address"].split("/", 1)[1]) for c in shared["changes"])
    assert all(c["address"].split("/", 1)[0] not in names for c in shared["changes"])
    result = _cli(run_cli, fleet, "setup", "--yes", "--cluster-shard", "0/2")
    assert result.exit_code == 2
    assert "--shared-only" in result.stderr
    mark = fleet.world.calls.mark()
    shared = _cli(run_cli, fleet, "setup", "--yes", "--shared-only")
    assert shared.exit_code == 0, shared.stderr
    writes = [c for c in fleet.world.calls.since(mark) if c.writes and c.status < 400]
    assert writes and not any(c.action in ("CreateRole", "InstallClusterAddons") for c in writes), \
        [c.action for c in writes]
    for shard in ("0/2", "1/2"):
        result = _cli(run_cli, fleet, "setup", "--yes", "--cluster-shard", shard)
        assert result.exit_code == 0, result.stdout + result.stderr
    again = _cli(run_cli, fleet, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout
    result = _cli(run_cli, fleet, "destroy", "--yes")
    assert result.exit_code == 0, result.stderr
    assert _leftovers(fleet) == []


def test_sandbox_up_fleet_scenario_from_a_shell(tmp_path):
    """`acrx sandbox up --scenario fleet --clusters N --accounts K`: N clusters over K accounts
    and two regions, a fleet acrx.yaml that `acrx fleet plan` takes as it is."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["ACRX_STATE_DIR"] = str(tmp_path / "journal")

    def acrx(*args):
        return subprocess.run([sys.executable, "-m", "acrx", *map(str, args)], capture_output=True, text=True,
                              timeout=180, env=env)

    state = tmp_path / "sb"
    up = acrx("sandbox", "up", "--state-dir", state, "--clock-scale", "0", "--scenario", "fleet",
              "--clusters", "4", "--accounts", "3")
    assert up.returncode == 0, up.stderr
    try:
        assert "fleet plan" in up.stdout
        config = yaml_load(state / "acrx.yaml")
        assert len(config["clusters"]) == 4
        assert len({c["account"] for c in config["clusters"]}) == 3
        assert len({c["region"] for c in config["clusters"]}) == 2
        values = (state / "sandbox.env").read_text()
        for alias in ("REGISTRY", "CLUSTER_1", "CLUSTER_2", "CLUSTER_3"):
            assert f"ACRX_SANDBOX_{alias}_ACCESS_KEY_ID=" in values
        plan = acrx("--sandbox", state, "fleet", "plan", "-f", state / "acrx.yaml", "-o", "json")
        assert plan.returncode == 0, plan.stderr
        rows = json.loads(plan.stdout)["data"]["clusters"]
        assert [r["cluster"] for r in rows if r["cluster"] != "(shared)"] == [c["name"] for c in config["clusters"]]
        assert all(r["create"] > 0 for r in rows)
    finally:
        down = acrx("sandbox", "down", "--state-dir", state)
        assert down.returncode == 0, down.stderr


def yaml_load(path):
    import yaml

    return yaml.safe_load(path.read_text())
