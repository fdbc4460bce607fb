"""Issue 13 items 5 and 6: the cloud's retryable and not-found answers, CS task states `timeout` and
`canceled`, and a cluster that stays `updating` after ModifyCluster.

Each behaviour is shown twice: the sandbox answering it through the official SDKs, and acrx
handling it through its CLI.
"""

from __future__ import annotations

import json
import time

import pytest

from acrx.sandbox.services import cloud_codes
from acrx.sandbox.services.cs import models as cs_models
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(180)

CS = "alibabacloud_cs20151215"
STS = "alibabacloud_sts20150401"


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _sdk_error(call):
    try:
        call()
    except Exception as exc:  # the SDK's ResponseException / ThrottlingException
        return exc
    raise AssertionError("the call succeeded")


def _cluster(sb) -> cs_models.Cluster:
    return cs_models.find_cluster(sb.world, sb.seeded.cluster_id)


# -- item 5: the codes --------------------------------------------------------------------------
def test_sandbox_answers_each_scripted_code_through_the_sdk(tmp_path):
    with running_sandbox(tmp_path) as sb:
        sts = sb.client(STS)
        for name, (code, message, status) in cloud_codes.ANSWERS.items():
            cloud_codes.script(sb.world, "GetCallerIdentity", name)
            err = _sdk_error(sts.get_caller_identity)
            assert (err.code, err.status_code) == (code, status), name
            assert sts.get_caller_identity().body.account_id == sb.seeded.account_a  # once only


def test_plan_retries_every_retryable_code_and_reads_404_as_not_found(tmp_path, run_cli):
    scripted = {"DescribeClusterDetail": "Rejected.Throttling", "GetRole": "System.Busy",
                "ListInstanceEndpoint": "SLB_SERVICE_ERROR", "DescribeVpcAttribute": "ServiceUnavailable",
                "GetInstance": "Throttling.User",
                # the addon read answers 404 with a code no list knows: "not installed"
                "GetClusterAddonInstance": "404"}
    with running_sandbox(tmp_path, network="public") as sb:
        for action, name in scripted.items():
            cloud_codes.script(sb.world, action, name)
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path, "-o", "json")
        assert result.exit_code == 0, result.stderr
        calls = sb.calls_since(mark)
        for action, name in scripted.items():
            answers = [(c.status, c.error_code) for c in calls if c.action == action]
            code, _, status = cloud_codes.answer(name)
            assert answers[0] == (status, code), (action, answers)
            if name != "404":   # retried, then answered for real
                assert len(answers) > 1 and answers[1][1] != code, (action, answers)
        changes = {c["address"]: c["action"] for c in json.loads(result.stdout)["data"]["changes"]}
        addon = [a for a in changes if a.startswith("cs.addon.")]
        assert addon and changes[addon[0]] == "create"


# -- item 5: CS task states ---------------------------------------------------------------------
@pytest.mark.parametrize("outcome", ["timeout", "canceled"])
def test_sandbox_task_can_end_timeout_or_canceled(tmp_path, outcome):
    with running_sandbox(tmp_path) as sb:
        _cluster(sb).task_outcomes["addon_install"] = outcome
        cs = sb.client(CS)
        from alibabacloud_cs20151215 import models as m

        body = [m.InstallClusterAddonsRequestBody(name="aliyun-acr-credential-helper")]
        task_id = cs.install_cluster_addons(sb.seeded.cluster_id, m.InstallClusterAddonsRequest(body=body)).body.task_id
        info = cs.describe_task_info(task_id).body
        assert info.state == outcome and info.error.code


def test_addon_task_ending_timeout_fails_at_once(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="none") as sb:
        sb.write_config(mode="worker-role", network="none", addon={"flavour": "self-managed"})
        _cluster(sb).task_outcomes["addon_install"] = "timeout"
        started = time.monotonic()
        result = run_cli("--sandbox", sb.dir, "addon", "install", "-f", sb.config_path, "--yes")
        took = time.monotonic() - started
        assert result.exit_code == 1, result.stdout + result.stderr
        assert "timeout" in result.stderr
        # The wait budget is 900 s; a terminal state ends the wait on the first read.
        assert took < 60, took


# -- item 6: the cluster stays `updating` after ModifyCluster -------------------------------------
SCALE = 0.05   # RRSA task 60 s -> 3 s, the settle after it 30 s -> 1.5 s


def test_sandbox_cluster_stays_updating_after_the_rrsa_task_and_refuses_addons(tmp_path):
    from alibabacloud_cs20151215 import models as m

    with running_sandbox(tmp_path, clock_scale=SCALE) as sb:
        cs = sb.client(CS)
        cid = sb.seeded.cluster_id
        task_id = cs.modify_cluster(cid, m.ModifyClusterRequest(enable_rrsa=True)).body.task_id
        deadline = time.monotonic() + 60
        while cs.describe_task_info(task_id).body.state != "success":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert cs.describe_cluster_detail(cid).body.state == "updating"
        body = [m.InstallClusterAddonsRequestBody(name="aliyun-acr-credential-helper")]
        err = _sdk_error(lambda: cs.install_cluster_addons(cid, m.InstallClusterAddonsRequest(body=body)))
        assert err.code == cs_models.CLUSTER_NOT_RUNNING
        while cs.describe_cluster_detail(cid).body.state != "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_rrsa_enable_returns_only_when_the_cluster_runs_again(tmp_path, run_cli):
    from alibabacloud_cs20151215 import models as m

    with running_sandbox(tmp_path, clock_scale=SCALE) as sb:
        result = run_cli("--sandbox", sb.dir, "rrsa", "enable", "-f", sb.config_path, "--yes")
        assert result.exit_code == 0, result.stderr
        cs = sb.client(CS)
        assert cs.describe_cluster_detail(sb.seeded.cluster_id).body.state == "running"
        body = [m.InstallClusterAddonsRequestBody(name="aliyun-acr-credential-helper")]
        assert cs.install_cluster_addons(sb.seeded.cluster_id,
                                         m.InstallClusterAddonsRequest(body=body)).body.task_id
