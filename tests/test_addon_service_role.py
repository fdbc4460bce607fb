"""Issue 13 item 1: the credential helper's service role AliyunCSManagedAcrRole.

The cloud (through the official SDKs): on an ACK managed cluster created on or after 2023-04-03,
CS's precheck refuses to install or update either edition of the helper until account A holds
the role as ACK's one-click authorization makes it; a cluster created before installs without
it. acrx (through the CLI): the plan reads the role in account A and creates it, setup passes on
`no-acr-service-role`, and destroy keeps the account-wide role and says so.
"""

from __future__ import annotations

import json

import pytest
from alibabacloud_cs20151215 import models as cs_models
from alibabacloud_ram20150501 import models as ram_models
from Tea.exceptions import TeaException

from acrx import facts
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(300)

ROLE = "AliyunCSManagedAcrRole"
ADDRESS = f"ram.service_role.{ROLE}"
ONE_CLICK_TRUST = {"Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                  "Principal": {"Service": ["cs.aliyuncs.com"]}}], "Version": "1"}


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _install(sb, name: str, config: dict):
    cs = sb.client("alibabacloud_cs20151215")
    body = [cs_models.InstallClusterAddonsRequestBody(name=name, config=json.dumps(config))]
    return cs.install_cluster_addons(sb.seeded.cluster_id, cs_models.InstallClusterAddonsRequest(body=body))


def _ram_a(sb):
    return sb.world.backend("ram", sb.seeded.account_a, "global")


def _cli(run_cli, sb, command: str, *extra):
    return run_cli("--sandbox", sb.dir, *command.split(), "-f", sb.config_path, *extra)


def _changes(stdout: str) -> dict[str, dict]:
    envelope = json.loads(stdout)
    return {c["address"]: c for c in envelope.get("data", envelope)["changes"]}


# -- the cloud, through the official SDKs -----------------------------------------------------------
@pytest.mark.parametrize("name, config", [
    (facts.MANAGED_ADDON, {"enableRRSA": False, "watchNamespace": "default"}),
    (facts.SELF_MANAGED_ADDON, {"tokenMode": "auto"}),
])
def test_precheck_refuses_either_edition_on_a_new_cluster_without_the_role(tmp_path, name, config):
    with running_sandbox(tmp_path, scenario="no-acr-service-role") as sb:
        detail = sb.client("alibabacloud_cs20151215").describe_cluster_detail(sb.seeded.cluster_id).body
        assert detail.created >= "2023-04-03"
        mark = sb.mark()
        with pytest.raises(TeaException) as caught:
            _install(sb, name, config)
        assert caught.value.code == "ErrManagedAddonRoleNotAttach"
        assert caught.value.statusCode == 400
        assert "Failed to pass the precheck" in caught.value.message and ROLE in caught.value.message
        assert not sb.writes_since(mark)
        assert not sb.world.backends("cs")[0].clusters[sb.seeded.cluster_id].addons


def test_a_cluster_created_before_2023_04_03_installs_without_the_role(tmp_path):
    with running_sandbox(tmp_path, scenario="old-cluster") as sb:
        detail = sb.client("alibabacloud_cs20151215").describe_cluster_detail(sb.seeded.cluster_id).body
        assert detail.created == "2022-11-08T03:00:00Z"
        assert ROLE not in _ram_a(sb).roles
        assert _install(sb, facts.SELF_MANAGED_ADDON, {"tokenMode": "auto"}).body.task_id


def test_the_role_as_one_click_makes_it_passes_the_precheck_and_half_of_it_does_not(tmp_path):
    """Install, and update too: CS checks the role on both."""
    with running_sandbox(tmp_path, scenario="no-acr-service-role") as sb:
        ram = sb.client("alibabacloud_ram20150501")
        ram.create_role(ram_models.CreateRoleRequest(role_name=ROLE,
                                                     assume_role_policy_document=json.dumps(ONE_CLICK_TRUST)))
        with pytest.raises(TeaException) as caught:     # the role without its system policy: still refused
            _install(sb, facts.SELF_MANAGED_ADDON, {"tokenMode": "auto"})
        assert caught.value.code == "ErrManagedAddonRoleNotAttach"
        policy = ram.get_policy(ram_models.GetPolicyRequest(policy_name="AliyunCSManagedAcrRolePolicy",
                                                            policy_type="System")).body
        assert "cr:PullRepository" in policy.default_policy_version.policy_document
        ram.attach_policy_to_role(ram_models.AttachPolicyToRoleRequest(
            policy_type="System", policy_name="AliyunCSManagedAcrRolePolicy", role_name=ROLE))
        assert _install(sb, facts.SELF_MANAGED_ADDON, {"tokenMode": "auto"}).body.task_id
        # "cannot install or update": with the policy gone again, a config change is refused too.
        ram.detach_policy_from_role(ram_models.DetachPolicyFromRoleRequest(
            policy_type="System", policy_name="AliyunCSManagedAcrRolePolicy", role_name=ROLE))
        with pytest.raises(TeaException) as caught:
            sb.client("alibabacloud_cs20151215").modify_cluster_addon(
                sb.seeded.cluster_id, facts.SELF_MANAGED_ADDON,
                cs_models.ModifyClusterAddonRequest(config=json.dumps({"tokenMode": "workerRole"})))
        assert caught.value.code == "ErrManagedAddonRoleNotAttach"


# -- acrx, through the CLI -----------------------------------------------------------------------------
def test_setup_rrsa_with_the_managed_addon_creates_the_role_and_destroy_keeps_it(tmp_path, run_cli):
    with running_sandbox(tmp_path, scenario="no-acr-service-role", mode="rrsa") as sb:
        sb.write_config(mode="rrsa", network="peering", addon={"flavour": "managed"})
        mark = sb.mark()
        planned = _cli(run_cli, sb, "plan", "-o", "json")
        assert planned.exit_code == 0, planned.stdout + planned.stderr
        change = _changes(planned.stdout)[ADDRESS]
        assert change["action"] == "create" and change["account"] == "cluster"
        assert "on or after 2023-04-03" in change["reason"] and "destroy keeps it" in change["reason"]
        assert change["after"]["AttachedPolicy"] == "System AliyunCSManagedAcrRolePolicy"
        reads = [c for c in sb.calls_since(mark) if c.service == "ram" and c.action == "GetRole"
                 and c.account == sb.seeded.account_a]
        assert reads, "the plan reads the role in account A"
        assert not sb.writes_since(mark)

        result = _cli(run_cli, sb, "setup", "--yes")
        assert result.exit_code == 0, result.stdout + result.stderr
        role = _ram_a(sb).roles[ROLE]
        assert json.loads(role.trust_document) == ONE_CLICK_TRUST
        assert [(a.policy_type, a.policy_name) for a in role.attachments] == [("System", "AliyunCSManagedAcrRolePolicy")]
        assert role.tags.get(facts.MARK_TAG_KEY) == facts.MARK_TAG_VALUE      # tagged in the create call
        assert facts.MANAGED_ADDON in sb.world.backends("cs")[0].clusters[sb.seeded.cluster_id].addons

        again = _changes(_cli(run_cli, sb, "plan", "-o", "json").stdout)[ADDRESS]
        assert again["action"] == "no-op" and "is authorized" in again["reason"]

        doomed = _cli(run_cli, sb, "destroy", "--dry-run", "-o", "json")
        assert doomed.exit_code == 0, doomed.stdout + doomed.stderr
        kept = _changes(doomed.stdout)[ADDRESS]
        assert kept["action"] == "no-op" and "created by acrx" in kept["reason"] and "account-wide" in kept["reason"]
        assert _cli(run_cli, sb, "destroy", "--yes").exit_code == 0
        assert ROLE in _ram_a(sb).roles and _ram_a(sb).roles[ROLE].attachments


def test_addon_install_alone_adds_only_what_a_half_made_role_lacks(tmp_path, run_cli):
    """Someone made the role by hand without its policy: acrx attaches the policy, keeps the role
    unmarked (adopted) and its trust as it was."""
    with running_sandbox(tmp_path, scenario="no-acr-service-role", mode="worker-role") as sb:
        _ram_a(sb).create_role(ROLE, json.dumps(ONE_CLICK_TRUST), description="by hand")
        sb.write_config(mode="worker-role", network="peering", addon={"flavour": "self-managed"})
        planned = _changes(_cli(run_cli, sb, "addon install", "--dry-run", "-o", "json").stdout)
        assert planned[ADDRESS]["action"] == "update"
        assert "AliyunCSManagedAcrRolePolicy" in planned[ADDRESS]["reason"] and "adopted" in planned[ADDRESS]["reason"]
        assert ADDRESS in planned[f"cs.addon.{facts.SELF_MANAGED_ADDON}"]["depends_on"]
        result = _cli(run_cli, sb, "addon install", "--yes")
        assert result.exit_code == 0, result.stdout + result.stderr
        role = _ram_a(sb).roles[ROLE]
        assert role.description == "by hand" and facts.MARK_TAG_KEY not in role.tags
        assert json.loads(role.trust_document) == ONE_CLICK_TRUST
        assert facts.SELF_MANAGED_ADDON in sb.world.backends("cs")[0].clusters[sb.seeded.cluster_id].addons


def test_a_new_role_is_waited_on_until_readers_see_it(tmp_path, run_cli):
    """RAM is eventually consistent and CS's precheck reads it like anyone: acrx installs the addon
    only once a read sees the role it created, so the precheck never refuses it."""
    with running_sandbox(tmp_path, scenario="no-acr-service-role", mode="worker-role") as sb:
        sb.write_config(mode="worker-role", network="peering", addon={"flavour": "self-managed"})
        sb.world.knobs.set(consistency_delay_s=2.0)
        result = _cli(run_cli, sb, "addon install", "--yes")
        assert result.exit_code == 0, result.stdout + result.stderr
        calls = sb.world.calls.calls()
        created = next(i for i, c in enumerate(calls) if c.action == "CreateRole" and c.status < 400)
        later = calls[created:]
        assert any(c.action == "GetRole" and c.error_code == "EntityNotExist.Role" for c in later)
        assert not any(c.error_code == "ErrManagedAddonRoleNotAttach" for c in calls)
        assert facts.SELF_MANAGED_ADDON in sb.world.backends("cs")[0].clusters[sb.seeded.cluster_id].addons


def test_old_cluster_needs_no_role_and_acrx_creates_none(tmp_path, run_cli):
    with running_sandbox(tmp_path, scenario="old-cluster", mode="rrsa") as sb:
        sb.write_config(mode="rrsa", network="peering", addon={"flavour": "managed"})
        planned = _changes(_cli(run_cli, sb, "plan", "-o", "json").stdout)[ADDRESS]
        assert planned["action"] == "no-op"
        assert "not needed: the cluster was created 2022-11-08, before 2023-04-03" in planned["reason"]
        result = _cli(run_cli, sb, "setup", "--yes")
        assert result.exit_code == 0, result.stdout + result.stderr
        assert ROLE not in _ram_a(sb).roles
        assert facts.MANAGED_ADDON in sb.world.backends("cs")[0].clusters[sb.seeded.cluster_id].addons


def test_the_default_account_is_authorized_and_acrx_leaves_its_role_alone(tmp_path, run_cli):
    with running_sandbox(tmp_path, scenario="default", mode="rrsa") as sb:
        planned = _changes(_cli(run_cli, sb, "plan", "-o", "json").stdout)[ADDRESS]
        assert planned["action"] == "no-op" and "is authorized" in planned["reason"] and "adopted" in planned["reason"]
        kept = _changes(_cli(run_cli, sb, "destroy", "--dry-run", "-o", "json").stdout)[ADDRESS]
        assert kept["action"] == "no-op" and "created by acrx" not in kept["reason"]


# -- the pure part: which clusters CS's precheck covers --------------------------------------------
@pytest.mark.parametrize("cluster_type, created, needed", [
    ("ManagedKubernetes", "2023-04-03T00:30:00+08:00", True),     # the day itself, Beijing time
    ("ManagedKubernetes", "2023-04-02T17:00:00Z", True),          # = 2023-04-03 01:00 in UTC+8
    ("ManagedKubernetes", "2023-04-02T23:59:00+08:00", False),
    ("ManagedKubernetes", "2022-11-08T03:00:00Z", False),
    ("ManagedKubernetes", None, True),                            # unknown: the stricter reading
    ("ManagedKubernetes", "not a time", True),
    ("Kubernetes", "2025-01-01T00:00:00Z", False),                # dedicated: not covered by the notice
])
def test_which_clusters_need_the_role(cluster_type, created, needed):
    from acrx.cloud.cs import Cluster
    from acrx.steps.identity.service_role import requirement

    cluster = Cluster(id="c" + "0" * 32, name="x", type=cluster_type, profile="Default", spec="ack.pro.small",
                      version="1.30.1-aliyun.1", state="running", region="cn-hangzhou", vpc_id="vpc-x",
                      vswitch_ids=(), worker_ram_role_name=None, rrsa=None, created=created)
    assert requirement(cluster)[0] is needed
