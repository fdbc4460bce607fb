"""Proof in the sandbox that the rendered operator policies are enough and each action in them is
needed: CI with `oidc` sources and only the read-only policies plans without writing; RAM users with
only the full policies set up and destroy; one action taken out makes the command fail with a
message naming the account, the action and the resource, pointing at `acrx render operator-policy`.
"""

from __future__ import annotations

import pytest

from tests.operator_sandbox import operator_sandbox

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _flags(mode: str) -> list[str]:
    return ["--allow-plaintext-access-key"] if mode == "access-key" else []


def test_ci_plan_with_oidc_and_read_only_policies_writes_nothing(run_cli, tmp_path):
    with operator_sandbox(tmp_path, mode="rrsa", network="peering") as (sb, paths):
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "plan", "-f", paths["ci"], "--detailed-exitcode")
        assert result.exit_code == 3, result.stderr       # changes pending, and no error
        assert "to create" in result.stdout
        calls = sb.calls_since(mark)
        assert any(c.service == "sts" and c.action == "AssumeRoleWithOIDC" and c.status == 200 for c in calls)
        assert not sb.writes_since(mark)
        assert paths["token"].read_text() not in result.stdout + result.stderr


MATRIX = [(mode, network) for mode in ("rrsa", "worker-role", "access-key")
          for network in ("public", "peering", "cen", "none")]


@pytest.mark.parametrize("mode,network", MATRIX)
def test_setup_and_destroy_with_only_the_full_policies(run_cli, tmp_path, mode, network):
    with operator_sandbox(tmp_path, mode=mode, network=network) as (sb, paths):
        if network == "none":  # the path exists beforehand, made (by the account owners) with --via peering
            prepared = run_cli("--sandbox", sb.dir, "network", "apply", "-f", sb.write_config(mode=mode),
                               "--via", "peering", "--yes")
            assert prepared.exit_code == 0, prepared.stderr[-3000:]
        setup = run_cli("--sandbox", sb.dir, "setup", "--yes", "-f", paths["operator"], *_flags(mode))
        assert setup.exit_code == 0, setup.stderr[-3000:]
        ci = run_cli("--sandbox", sb.dir, "verify", "-f", paths["ci"])
        assert ci.exit_code == 0, ci.stderr[-3000:]
        destroy = run_cli("--sandbox", sb.dir, "destroy", "--yes", "-f", paths["operator"])
        assert destroy.exit_code == 0, destroy.stderr[-3000:]


# (alias, policy, action, command, mode, network, resource named in the error)
SAMPLE = [
    ("registry", "read_only", "cr:GetInstance", "plan", "rrsa", "peering", ":instance/"),
    ("cluster", "read_only", "cs:DescribeClusterDetail", "plan", "rrsa", "peering", ":cluster/"),
    ("cluster", "full", "cs:InstallClusterAddons", "setup", "rrsa", "peering", ":cluster/"),
    ("registry", "full", "ram:CreateRole", "setup", "rrsa", "peering", ":role/acrx-pull-"),
    ("cluster", "full", "vpc:CreateVpcPeerConnection", "setup", "rrsa", "peering", "acs:vpc:"),
    ("cluster", "full", "pvtz:AddZone", "setup", "rrsa", "peering", "acs:pvtz:"),
    ("registry", "full", "cen:CreateCen", "setup", "worker-role", "cen", "acs:cen:"),     # the hub (issue 16)
    ("cluster", "full", "cen:GrantInstanceToTransitRouter", "setup", "rrsa", "cen", "acs:cen:"),
    ("registry", "full", "cr:CreateInstanceEndpointAclPolicy", "setup", "access-key", "public", ":instance/"),
    ("registry", "full", "ram:CreateAccessKey", "setup", "access-key", "public", ":user/acrx-pull-"),
]


@pytest.mark.parametrize("alias,which,action,command,mode,network,resource", SAMPLE)
def test_each_action_is_needed(run_cli, tmp_path, alias, which, action, command, mode, network, resource):
    with operator_sandbox(tmp_path, mode=mode, network=network, drop=(alias, which, action)) as (sb, paths):
        config = paths["ci"] if which == "read_only" else paths["operator"]
        extra = ["--yes", "--no-verify"] if command == "setup" else []
        result = run_cli("--sandbox", sb.dir, command, "-f", config, *extra, *_flags(mode))
        assert result.exit_code not in (0, 3), result.stdout[-2000:]
        line = next((ln for ln in result.stderr.splitlines() if "NoPermission" in ln), "")
        assert f"account {alias!r}" in line, result.stderr[-3000:]
        assert f"may not call {action} on " in line and resource in line, line
        assert f"acrx render operator-policy --account {alias}" in line, line


def test_sandbox_up_operators_from_a_shell(tmp_path):
    """The contract name: `acrx sandbox up --operators` writes the CI and operator configs, the token
    and the keys only into 0600 files, and CI's `plan --dry-run --detailed-exitcode -o json` runs."""
    import json
    import os
    import stat
    import subprocess
    import sys

    state = tmp_path / "sb"
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["ACRX_STATE_DIR"] = str(tmp_path / "journals")

    def acrx(*args):
        return subprocess.run([sys.executable, "-m", "acrx", *map(str, args)], capture_output=True, text=True,
                              timeout=180, env=env)

    up = acrx("sandbox", "up", "--state-dir", state, "--clock-scale", "0", "--operators")
    try:
        assert up.returncode == 0, up.stderr
        for name in ("ci-token", "sandbox.env"):
            assert stat.S_IMODE((state / name).stat().st_mode) == 0o600
        ci = (state / "acrx-ci.yaml").read_text()
        assert "oidc:" in ci and "token_file" in ci
        operator = (state / "acrx-operator.yaml").read_text()
        assert "ACRX_SANDBOX_CLUSTER_OPERATOR_ACCESS_KEY_ID" in operator
        assert "ACRX_SANDBOX_CLUSTER_OPERATOR_ACCESS_KEY_ID=" in (state / "sandbox.env").read_text()
        plan = acrx("--sandbox", state, "plan", "--dry-run", "--detailed-exitcode", "-o", "json",
                    "-f", state / "acrx-ci.yaml")
        assert plan.returncode == 3, plan.stderr
        assert json.loads(plan.stdout)["data"]
        token = (state / "ci-token").read_text()
        assert token not in plan.stdout + plan.stderr + up.stdout + up.stderr
    finally:
        acrx("sandbox", "down", "--state-dir", state)
