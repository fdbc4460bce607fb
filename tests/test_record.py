"""Issue 13 item 10: `acrx --record FILE <command>` writes every cloud call and Kubernetes call of
the run to a 0600 JSON file that holds no AccessKey id, secret or token."""

from __future__ import annotations

import json
import stat

import pytest

from acrx.sandbox.services import cloud_codes
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _secrets_of(world) -> set[str]:
    """Every AccessKey id, secret and STS token the sandbox has issued (and so acrx may hold)."""
    found: set[str] = set()
    for cred in list(world.keyring._by_id.values()):
        found |= {v for v in (cred.access_key_id, cred.secret, cred.security_token) if v}
    return found


def _recorded(path):
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return path.read_text(), json.loads(path.read_text())


def test_a_recorded_setup_lists_the_calls_and_holds_no_secret(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="rrsa", network="peering") as sb:
        # One answer the cloud gives under load, to show errors are recorded with their code.
        cloud_codes.script(sb.world, "DescribeClusterDetail", "Rejected.Throttling")
        record = tmp_path / "setup.json"
        result = run_cli("--record", record, "--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes")
        assert result.exit_code == 0, result.stdout + result.stderr
        text, doc = _recorded(record)
        assert doc["command"] == "setup"
        cloud = doc["cloud_calls"]
        assert set(cloud[0]) == {"product", "action", "region", "http_status", "error_code", "request_id",
                                 "duration_ms"}
        actions = {(c["product"], c["action"]) for c in cloud}
        assert {("cs", "ModifyCluster"), ("ram", "CreateRole"), ("cs", "InstallClusterAddons")} <= actions
        throttled = [c for c in cloud if c["error_code"] == "Rejected.Throttling"]
        assert throttled and throttled[0]["http_status"] == 400 and throttled[0]["request_id"]
        # The sandbox's own call log saw as many cloud calls as the recording lists.
        from collections import Counter
        # AssumeRoleWithOIDC is the sandbox's in-cluster helper exchanging its token through the
        # credentials library, not acrx (in the cloud it runs on the nodes, not in this process).
        seen = Counter((c.service, c.action) for c in sb.world.calls.since(0) if c.action != "AssumeRoleWithOIDC")
        mine = Counter((c["product"], c["action"]) for c in cloud)
        assert mine == seen, (seen - mine, mine - seen)
        kube = doc["kubernetes_calls"]
        assert any(k["verb"] == "GET" and k["path"].startswith("/api") and k["status"] == 200 for k in kube)
        assert any(k["verb"] in ("POST", "PUT", "PATCH") for k in kube)
        secrets = _secrets_of(sb.world)
        assert len(secrets) > 4
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{len(leaked)} secret value(s) in the recording"
        for word in ("SecurityToken", "AccessKeySecret", "AccessKeyId", "Signature", "Bearer", "password"):
            assert word not in text


@pytest.mark.parametrize("command", [("plan",), ("doctor",), ("verify", "--timeout", "5s"), ("destroy", "--yes")])
def test_record_works_on_every_command(tmp_path, run_cli, command):
    with running_sandbox(tmp_path) as sb:
        record = tmp_path / "run.json"
        result = run_cli("--record", record, "--sandbox", sb.dir, command[0], "-f", sb.config_path, *command[1:])
        assert result.exit_code in (0, 1, 4), result.stderr           # verify/doctor fail before setup
        _, doc = _recorded(record)
        assert doc["command"] == command[0] and doc["cloud_calls"]
        assert all(c["request_id"] for c in doc["cloud_calls"])


def test_record_of_an_offline_command_is_an_empty_list(tmp_path, run_cli):
    record = tmp_path / "render.json"
    result = run_cli("--record", record, "render", "trust-policy", "--help")
    assert result.exit_code == 0
    _, doc = _recorded(record)
    assert doc["cloud_calls"] == [] and doc["kubernetes_calls"] == []


def test_the_recording_hooks_are_removed_after_the_run(tmp_path, run_cli):
    from alibabacloud_tea_openapi.client import Client

    before = Client.__dict__["call_api"]
    run_cli("--record", tmp_path / "x.json", "render", "trust-policy", "--help")
    assert Client.__dict__["call_api"] is before
