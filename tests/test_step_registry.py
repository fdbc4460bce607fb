"""The one registry of steps (issue 11, item 2; review findings F3 and F5a).

setup, plan, destroy and the doctor read the stage graph from acrx.steps.registry. These tests
drive the CLI against the sandbox and check what each command does with the graph: the doctor
names the step command that fixes each address, destroy undoes setup in reverse, every address a
plan holds belongs to a registered step, and a step that fails to import fails the doctor
instead of passing a layer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from acrx.steps import registry
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(240)

REPO = Path(__file__).resolve().parent.parent
STAGES = ["rrsa", "roles", "policy", "network", "addon", "configmap"]


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _cli(run_cli, sb, *args):
    return run_cli("--sandbox", sb.dir, *args, "-f", sb.config_path)


def _data(stdout: str) -> dict:
    envelope = json.loads(stdout)
    return envelope.get("data", envelope)


def test_destroy_order_is_setup_order_reversed():
    """Derived from the steps' `after`, not written down a second time."""
    after = registry.destroy_after()
    assert {stage: after[stage] for stage in ("configmap", "addon", "identity", "network")} == {
        "configmap": (), "addon": ("configmap",), "identity": ("configmap", "addon"), "network": ()}
    assert registry.plan_lanes() == (("rrsa", "roles", "policy"), ("network",), ("addon",))
    assert [spec.name for spec in registry.STEPS] == STAGES


@pytest.mark.parametrize("mode,network", [("rrsa", "cen"), ("access-key", "public")])
def test_every_planned_address_belongs_to_a_registered_step(tmp_path, run_cli, mode, network):
    with running_sandbox(tmp_path, mode=mode, network=network) as sb:
        flags = ["--allow-plaintext-access-key"] if mode == "access-key" else []
        result = _cli(run_cli, sb, "plan", "-o", "json", *flags)
        assert result.exit_code == 0, result.stderr[-3000:]
        data = _data(result.stdout)
        addresses = [c["address"] for c in data["changes"]]
        assert len(addresses) > 5
        assert [a for a in addresses if registry.fix_for_address(a) is None] == []
        assert data["meta"]["steps"] == STAGES


def test_doctor_names_the_step_command_and_destroy_undoes_setup_in_reverse(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        result = _cli(run_cli, sb, "doctor", "--timeout", "8s", "-o", "json")
        assert result.exit_code != 0, result.stdout[-2000:]
        checks = {c["name"]: c for c in _data(result.stdout)["layers"][0]["checks"]}
        expected = {"ram.role.registry": "acrx roles apply", "ram.policy.cluster_assume": "acrx roles apply",
                    "ram.policy.registry_pull": "acrx policy attach",
                    "ram.policy_attachment.registry_pull": "acrx policy attach",
                    "cr.endpoint.internet": "acrx network apply",
                    "cs.addon.aliyun-acr-credential-helper": "acrx addon install",
                    "k8s.configmap.kube-system/acr-configuration": "acrx configmap apply"}
        for address, command in expected.items():
            assert checks[address]["status"] == "fail", checks[address]
            assert checks[address]["fix_command"].startswith(command + " "), checks[address]

        result = _cli(run_cli, sb, "setup", "--yes", "--no-verify")
        assert result.exit_code == 0, result.stderr[-3000:]
        result = _cli(run_cli, sb, "destroy", "--dry-run", "-o", "json")
        assert result.exit_code == 0, result.stderr[-3000:]
        deletes = {c["address"]: c for c in _data(result.stdout)["changes"] if c["action"] != "no-op"}
        configmap = "k8s.configmap.kube-system/acr-configuration"
        addon = "cs.addon.aliyun-acr-credential-helper"
        assert {configmap, addon, "ram.role.registry"} <= set(deletes)
        # The helper never runs on a half-removed chain: its ConfigMap keys go first, then the
        # addon, then the identity it used; the network is independent of all three.
        assert configmap in deletes[addon]["depends_on"]
        assert {configmap, addon} <= set(deletes["ram.role.registry"]["depends_on"])
        network = [c for a, c in deletes.items() if registry.fix_for_address(a) == "acrx network apply"]
        assert network, sorted(deletes)
        assert all(not set(c["depends_on"]) & {configmap, addon} for c in network)


def test_a_step_that_fails_to_import_fails_the_doctor(tmp_path):
    """F5a: the doctor used to skip a step it could not import, and the layer passed."""
    with running_sandbox(tmp_path, mode="rrsa", network="peering") as sb:
        script = ("import sys; sys.modules['acrx.steps.network'] = None\n"
                  "from acrx.cli.app import run\n"
                  f"sys.exit(run(['--sandbox', {str(sb.dir)!r}, 'doctor', '-f', {str(sb.config_path)!r}, "
                  "'--timeout', '8s', '-o', 'json']))\n")
        proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                              timeout=180, env={**__import__("os").environ, "ACRX_STATE_DIR": str(tmp_path / "s")})
        assert proc.returncode not in (0, 4), proc.stdout[-2000:] + proc.stderr[-2000:]
        assert "acrx.steps.network" in proc.stdout + proc.stderr
        assert '"status": "pass"' not in proc.stdout
