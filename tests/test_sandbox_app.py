"""The sandbox as a user meets it: `acrx sandbox up|env|down` from a shell, and its state files."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time

import yaml

ACRX = [sys.executable, "-m", "acrx"]


def _run(*args, timeout=90):
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    return subprocess.run([*ACRX, *args], capture_output=True, text=True, timeout=timeout, env=env)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of nobody here is reaped by init; treat /proc state Z as gone
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return False


def test_sandbox_up_env_down_from_a_shell(tmp_path):
    state = tmp_path / "sb"
    up = _run("sandbox", "up", "--state-dir", str(state), "--clock-scale", "0")
    assert up.returncode == 0, up.stderr
    pid = int((state / "sandbox.pid").read_text())
    try:
        assert _alive(pid)
        env_file = state / "sandbox.env"
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        assert stat.S_IMODE((state / "kubeconfig").stat().st_mode) == 0o600
        values = dict(line[len("export "):].split("=", 1) for line in env_file.read_text().splitlines())
        assert values["ACRX_SANDBOX_ENDPOINT"].startswith("127.0.0.1:")
        for alias in ("CLUSTER", "REGISTRY"):
            assert values[f"ACRX_SANDBOX_{alias}_ACCESS_KEY_ID"]
            assert values[f"ACRX_SANDBOX_{alias}_UID"].isdigit()
        # the written acrx.yaml is a valid config for the seeded world
        config = yaml.safe_load((state / "acrx.yaml").read_text())
        assert config["cluster"]["id"].startswith("c")
        render = _run("render", "configmap", "-f", str(state / "acrx.yaml"))
        assert render.returncode == 0, render.stderr
        # env prints the file
        shown = _run("sandbox", "env", "--state-dir", str(state))
        assert shown.returncode == 0 and "ACRX_SANDBOX_ENDPOINT" in shown.stdout
        # the cloud answers a signed call with the written keys
        from tests.sandbox_clients import sdk_client

        sts = sdk_client("alibabacloud_sts20150401", values["ACRX_SANDBOX_ENDPOINT"],
                         (values["ACRX_SANDBOX_CLUSTER_ACCESS_KEY_ID"], values["ACRX_SANDBOX_CLUSTER_ACCESS_KEY_SECRET"]))
        assert sts.get_caller_identity().body.account_id == values["ACRX_SANDBOX_CLUSTER_UID"]
        if shutil.which("kubectl"):
            ns = subprocess.run(["kubectl", "--kubeconfig", str(state / "kubeconfig"), "get", "ns"],
                                capture_output=True, text=True, timeout=60)
            assert ns.returncode == 0, ns.stderr
            assert "kube-system" in ns.stdout
        again = _run("sandbox", "up", "--state-dir", str(state))
        assert again.returncode == 2 and "already runs" in again.stderr
    finally:
        down = _run("sandbox", "down", "--state-dir", str(state))
    assert down.returncode == 0, down.stderr
    deadline = time.monotonic() + 120
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
    assert not (state / "sandbox.env").exists()


def test_sandbox_env_without_a_sandbox_is_usage_error(run_cli, tmp_path):
    result = run_cli("sandbox", "env", "--state-dir", str(tmp_path / "none"))
    assert result.exit_code == 2
    assert "acrx sandbox up" in result.stderr


def test_unknown_scenario_is_usage_error(run_cli, tmp_path):
    result = run_cli("sandbox", "up", "--state-dir", str(tmp_path), "--scenario", "nope")
    assert result.exit_code == 2
    assert "--scenario" in result.stderr
