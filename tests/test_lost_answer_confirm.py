"""Writes whose API takes no ClientToken (CreateRole, CreatePolicy, CreateUser, AttachPolicyTo*,
InstallClusterAddons, CreateInstanceEndpointAclPolicy):
when the answer is lost, acrx reads before writing again (acrx.cloud.adapter.CloudApi._create), so
one setup converges with every such answer lost, and nothing exists twice."""

from __future__ import annotations

import pytest

from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(300)

NO_TOKEN_WRITES = {"CreateRole", "CreatePolicy", "CreateUser", "AttachPolicyToRole", "AttachPolicyToUser",
                   "InstallClusterAddons", "CreateInstanceEndpointAclPolicy"}
BOTH = {"CreatePolicy", "InstallClusterAddons", "CreateInstanceEndpointAclPolicy"}


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


@pytest.mark.parametrize("mode,writes", [("rrsa", BOTH | {"CreateRole", "AttachPolicyToRole"}),
                                         ("access-key", BOTH | {"CreateUser", "AttachPolicyToUser"})])
def test_every_lost_answer_of_a_ram_write_is_confirmed_by_a_read(tmp_path, run_cli, mode, writes):
    flags = ["--allow-plaintext-access-key"] if mode == "access-key" else []
    with running_sandbox(tmp_path, mode=mode, network="public") as sb:
        sb.world.knobs.set(lost_answer_rate=1.0, only_actions=NO_TOKEN_WRITES)
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes", "--no-verify", *flags)
        assert result.exit_code == 0, result.stderr
        calls = sb.calls_since(mark)
        lost = [c for c in calls if c.error_code == "LostAnswer"]
        assert {c.action for c in lost} >= writes, [c.action for c in lost]
        # each lost write was sent once: the read after it found the thing, so nothing was re-sent
        sent = [c.action for c in calls if c.action in NO_TOKEN_WRITES]
        assert len(sent) == len(lost), sent
        sb.world.knobs.set(lost_answer_rate=0.0, only_actions=None)
        plan = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path, "--detailed-exitcode", *flags)
        assert plan.exit_code == 0, plan.stdout + plan.stderr


@pytest.mark.parametrize("network,writes", [("peering", {"AcceptVpcPeerConnection"}),
                                            ("cen", {"GrantInstanceToTransitRouter"})])
def test_network_writes_without_a_token_are_read_back_too(tmp_path, run_cli, network, writes):
    with running_sandbox(tmp_path, network=network) as sb:
        sb.world.knobs.set(lost_answer_rate=1.0, only_actions=writes)
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes", "--no-verify")
        assert result.exit_code == 0, result.stderr
        lost = [c.action for c in sb.calls_since(mark) if c.error_code == "LostAnswer"]
        assert set(lost) == writes, lost
        sb.world.knobs.set(lost_answer_rate=0.0, only_actions=None)
        plan = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path, "--detailed-exitcode")
        assert plan.exit_code == 0, plan.stdout + plan.stderr
