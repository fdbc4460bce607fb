"""The identity commands against the sandbox, through the real SDKs over HTTP: apply, plan again
(only no-ops), the credential chain end to end, drift, preflight refusals and injected faults."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from acrx import facts
from acrx.sandbox.kube import helper_chain as chain
from acrx.sandbox.services.cs.models import find_cluster
from sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(180)

COMMANDS = (("rrsa", "enable"), ("roles", "apply"), ("policy", "attach"))
AK_FLAG = "--allow-plaintext-access-key"
RAM = "alibabacloud_ram20150501"


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    for name in ("ACRX_ADDON_ACCESS_KEY_ID", "ACRX_ADDON_ACCESS_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)


def acrx(run_cli, sb, *args):
    return run_cli("--sandbox", sb.dir, *args, "-f", sb.config_path)


# The setting flags each step command takes (no dead flags: `rrsa enable` takes none of them).
TAKES = {("rrsa", "enable"): (), ("roles", "apply"): ("--assume-policy",),
         ("policy", "attach"): ("--pull-policy-scope", AK_FLAG)}


def _own(command, *flags) -> list[str]:
    """`flags` (a flag alone or followed by its value) that `command` takes."""
    out, i = [], 0
    while i < len(flags):
        takes_value = i + 1 < len(flags) and not flags[i + 1].startswith("-")
        if flags[i] in TAKES[tuple(command)]:
            out += flags[i:i + 2] if takes_value else flags[i:i + 1]
        i += 2 if takes_value else 1
    return out


def apply_all(run_cli, sb, *extra):
    outputs = []
    for command in COMMANDS:
        result = acrx(run_cli, sb, *command, "--yes", *_own(command, AK_FLAG, *extra))
        assert result.exit_code == 0, (command, result.stderr)
        outputs.append(result)
    return outputs


def plan_of(run_cli, sb, command, *extra) -> dict:
    result = acrx(run_cli, sb, *command, "--dry-run", "-o", "json", *_own(command, AK_FLAG, *extra))
    assert result.exit_code == 0, result.stderr
    envelope = json.loads(result.stdout)
    return {c["address"]: c for c in envelope["data"]["changes"]}


def assert_only_noops(run_cli, sb):
    mark = sb.mark()
    for command in COMMANDS:
        result = acrx(run_cli, sb, *command, "--dry-run", "--detailed-exitcode", *_own(command, AK_FLAG))
        assert result.exit_code == 0, (command, result.stdout, result.stderr)
    assert sb.writes_since(mark) == []


# -- the chain, as the helper runs it ------------------------------------------------------------
def endpoint(sb) -> str:
    return sb.sandbox.cloud.endpoint


def role_b_arn(sb) -> str:
    return facts.role_arn(sb.seeded.account_b, f"acrx-pull-{sb.seeded.cluster_id}")


def helper_token(sb) -> tuple[str, str]:
    """A projected token of the helper's service account signed by the cluster's key."""
    cluster = find_cluster(sb.world, sb.seeded.cluster_id)
    issuer = facts.first_issuer(cluster.rrsa_config()["issuer"])
    now = int(sb.world.clock.now())
    claims = {"iss": issuer, "sub": facts.HELPER_OIDC_SUBJECT, "aud": [facts.OIDC_AUDIENCE],
              "iat": now, "nbf": now, "exp": now + 3600}
    return cluster.signing_key.sign(claims), cluster.oidc_arn


def worker_key(sb) -> chain.Key:
    """The worker role's session, as the node's metadata service hands it out."""
    s = sb.seeded
    role = sb.world.backend("ram", s.account_a, "global").get_role_for_sts(s.worker_role)
    session = sb.world.backend("sts", s.account_a, "global").issue(
        role, "ecs-ram-role", 21600, None, f"acs:ecs::{s.account_a}:instance/node")
    c = session.credential
    return chain.Key(c.access_key_id, c.secret, c.security_token)


def chain_login(sb, mode: str) -> chain.RegistryLogin:
    s = sb.seeded
    if mode == "access-key":
        user = f"acrx-pull-{s.cluster_id}"
        (key,) = sb.world.backend("ram", s.account_b, "global").access_keys(user)
        key_b = chain.Key(key.access_key_id, key.secret)
    else:
        if mode == "rrsa":
            token, provider = helper_token(sb)
            role_a = facts.role_arn(s.account_a, f"acrx-rrsa-{s.cluster_id}")
            key_a = chain.assume_role_with_oidc(endpoint(sb), s.region_a, role_a, provider, token)
        else:
            key_a = worker_key(sb)
        key_b = chain.assume_role(endpoint(sb), s.region_b, key_a, role_b_arn(sb), 3600)
    # ListInstanceEndpoint and GetAuthorizationToken: both allowed by the scoped pull policy.
    assert s.domain_vpc in chain.list_domains(endpoint(sb), s.region_b, key_b, s.instance_id)
    return chain.authorization_token(endpoint(sb), s.region_b, key_b, s.instance_id)


# Successful creates of one apply: each thing once (rrsa: two roles, two policies).
EXPECTED_CREATES = {
    "rrsa": Counter({"CreateRole": 2, "CreatePolicy": 2}),
    "worker-role": Counter({"CreateRole": 1, "CreatePolicy": 2}),
    "access-key": Counter({"CreateUser": 1, "CreateAccessKey": 1, "CreatePolicy": 1}),
}


def create_counts(sb) -> Counter:
    return Counter(c.action for c in sb.world.calls.calls()
                   if c.service == "ram" and c.action.startswith("Create") and c.status < 400)


# -- every mode: apply, plan again, chain --------------------------------------------------------
@pytest.mark.parametrize("mode", ["rrsa", "worker-role", "access-key"])
def test_apply_then_noop_then_chain_works(tmp_path, run_cli, mode):
    with running_sandbox(tmp_path, mode=mode) as sb:
        outputs = apply_all(run_cli, sb)
        assert_only_noops(run_cli, sb)
        login = chain_login(sb, mode)
        assert login.username and login.password
        assert create_counts(sb) == EXPECTED_CREATES[mode]
        if mode == "access-key":
            (key,) = sb.world.backend("ram", sb.seeded.account_b, "global").access_keys(
                f"acrx-pull-{sb.seeded.cluster_id}")
            printed = "".join(r.stdout + r.stderr for r in outputs)
            assert key.secret not in printed and "plaintext" in printed
            journals = list((tmp_path / "state" / "journal").rglob("*.jsonl"))
            assert journals and all(key.secret not in j.read_text() for j in journals)


def test_dry_run_writes_nothing_and_reports_pending_changes(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role") as sb:
        mark = sb.mark()
        plain = acrx(run_cli, sb, "roles", "apply", "--dry-run")
        detailed = acrx(run_cli, sb, "roles", "apply", "--dry-run", "--detailed-exitcode", "-o", "json")
        assert plain.exit_code == 0 and "ram.role.registry" in plain.stdout
        assert detailed.exit_code == 3
        envelope = json.loads(detailed.stdout)
        assert envelope["kind"] == "Plan" and envelope["data"]["summary"]["create"] == 3
        assert sb.writes_since(mark) == []


def test_access_key_mode_needs_the_plaintext_flag(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="access-key") as sb:
        mark = sb.mark()
        result = acrx(run_cli, sb, "policy", "attach", "--yes")
        assert result.exit_code == 2 and "--allow-plaintext-access-key" in result.stderr
        assert sb.writes_since(mark) == []


def test_system_assume_policy_and_any_scope(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role") as sb:
        results = apply_all(run_cli, sb, "--assume-policy", "system", "--pull-policy-scope", "any")
        assert "--pull-policy-scope any" in results[2].stderr
        assert "--assume-policy system" in results[1].stderr and "ANY role" in results[1].stderr
        attached = sb.world.backend("ram", sb.seeded.account_a, "global").roles[sb.seeded.worker_role].attachments
        assert [(a.policy_type, a.policy_name) for a in attached] == [("System", facts.SYSTEM_ASSUME_POLICY)]
        assert chain_login(sb, "worker-role").password


# -- drift ----------------------------------------------------------------------------------------
def test_drift_is_named_mended_and_others_statements_survive(tmp_path, run_cli):
    from alibabacloud_ram20150501 import models as ram_models

    with running_sandbox(tmp_path, mode="rrsa") as sb:
        apply_all(run_cli, sb)
        s = sb.seeded
        ram_b = sb.client(RAM, alias="registry")
        ram_a = sb.client(RAM, alias="cluster")
        theirs = {"Action": "sts:AssumeRole", "Effect": "Allow",
                  "Principal": {"RAM": [f"acs:ram::{s.account_a}:role/someone-else"]}}
        role_b, role_a = f"acrx-pull-{s.cluster_id}", f"acrx-rrsa-{s.cluster_id}"
        # Someone replaces the registry role's trust, changes its session length...
        ram_b.update_role(ram_models.UpdateRoleRequest(
            role_name=role_b, new_assume_role_policy_document=json.dumps({"Version": "1", "Statement": [theirs]}),
            new_max_session_duration=7200))
        # ...detaches the pull policy, and adds a statement of their own to the cluster role.
        ram_b.detach_policy_from_role(ram_models.DetachPolicyFromRoleRequest(
            policy_type="Custom", policy_name=f"acrx-pull-{s.instance_id}", role_name=role_b))
        current = json.loads(sb.world.backend("ram", s.account_a, "global").roles[role_a].trust_document)
        extra = {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": ["ecs.aliyuncs.com"]}}
        current["Statement"].append(extra)
        ram_a.update_role(ram_models.UpdateRoleRequest(role_name=role_a,
                                                       new_assume_role_policy_document=json.dumps(current)))

        roles_plan = plan_of(run_cli, sb, ("roles", "apply"))
        policy_plan = plan_of(run_cli, sb, ("policy", "attach"))
        registry_role = roles_plan["ram.role.registry"]
        assert registry_role["action"] == "update"
        assert "does not admit" in registry_role["reason"] and "MaxSessionDuration is 7200" in registry_role["reason"]
        assert roles_plan["ram.role.cluster"]["action"] == "no-op"   # an extra statement is not drift
        attachment = policy_plan["ram.policy_attachment.registry_pull"]
        assert attachment["action"] == "create" and "detached" in attachment["reason"]

        apply_all(run_cli, sb)
        assert_only_noops(run_cli, sb)
        ram_state = sb.world.backend("ram", s.account_b, "global").roles[role_b]
        assert theirs in json.loads(ram_state.trust_document)["Statement"]
        assert ram_state.max_session_duration == 3600
        assert extra in json.loads(sb.world.backend("ram", s.account_a, "global").roles[role_a].trust_document)[
            "Statement"]
        assert chain_login(sb, "rrsa").password


def test_a_drifted_policy_becomes_a_new_default_version(tmp_path, run_cli):
    from alibabacloud_ram20150501 import models as ram_models

    with running_sandbox(tmp_path, mode="worker-role") as sb:
        apply_all(run_cli, sb)
        name = f"acrx-pull-{sb.seeded.instance_id}"
        ram_b = sb.client(RAM, alias="registry")
        narrowed = {"Version": "1", "Statement": [{"Action": "cr:GetAuthorizationToken", "Resource": "*",
                                                   "Effect": "Allow"}]}
        for _ in range(5):   # fill RAM's five versions, so acrx's must rotate the oldest out
            ram_b.create_policy_version(ram_models.CreatePolicyVersionRequest(
                policy_name=name, policy_document=json.dumps(narrowed), set_as_default=True,
                rotate_strategy="DeleteOldestNonDefaultVersionWhenLimitExceeded"))
        change = plan_of(run_cli, sb, ("policy", "attach"))["ram.policy.registry_pull"]
        assert change["action"] == "update" and "new default version" in change["reason"]
        mark = sb.mark()
        apply_all(run_cli, sb)
        actions = [c.action for c in sb.writes_since(mark)]
        assert "CreatePolicyVersion" in actions and "DeletePolicy" not in actions and "CreatePolicy" not in actions
        policy = sb.world.backend("ram", sb.seeded.account_b, "global").policies[name]
        assert len(policy.versions) == 5
        assert_only_noops(run_cli, sb)
        assert chain_login(sb, "worker-role").password


# -- preflight: exit 2, nothing written ------------------------------------------------------------
@pytest.mark.parametrize("variant, mode, command, needle", [
    ("old-k8s", "rrsa", ("rrsa", "enable"), "1.22+"),
    ("serverless", "worker-role", ("roles", "apply"), "worker-role mode runs on"),
    ("instance-not-running", "rrsa", ("roles", "apply"), "not RUNNING"),
    ("cluster-stopped", "worker-role", ("policy", "attach"), "not running"),
])
def test_preflight_refuses_before_any_write(tmp_path, run_cli, variant, mode, command, needle):
    with running_sandbox(tmp_path, scenario=variant, mode=mode) as sb:
        mark = sb.mark()
        result = acrx(run_cli, sb, *command, "--yes")
        assert result.exit_code == 2, result.stderr
        assert needle in result.stderr
        assert sb.writes_since(mark) == []


def test_standalone_commands_say_which_step_comes_first(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="rrsa") as sb:
        mark = sb.mark()
        roles = acrx(run_cli, sb, "roles", "apply", "--yes")
        policy = acrx(run_cli, sb, "policy", "attach", "--yes")
        assert roles.exit_code == 2 and "acrx rrsa enable" in roles.stderr
        assert policy.exit_code == 2 and "acrx roles apply" in policy.stderr
        assert sb.writes_since(mark) == []


# -- faults: throttling, 5xx, a role invisible for a while -----------------------------------------
def apply_directly(sb, mode: str):
    """All three steps in one plan (as `acrx setup` runs them), with a fast retry policy."""
    from acrx.cloud.retry import RetryPolicy
    from acrx.cloud.sandbox_target import SandboxTarget
    from acrx.cloud.session import CloudSession
    from acrx.config.loader import load_config
    from acrx.execute.executor import Executor
    from acrx.steps.base import handlers_for, plan_steps
    from acrx.steps.context import StepContext, StepOptions
    from acrx.steps.identity import PolicyStep, RolesStep, RrsaStep

    config = load_config(sb.config_path, {"mode": mode})
    policy = RetryPolicy(initial_s=0.01, max_delay_s=0.05, max_attempts=40, budget_s=30)
    ctx = StepContext(config, CloudSession(config, SandboxTarget.load(sb.dir), retry_policy=policy),
                      StepOptions(allow_plaintext_access_key=True, extra={"readiness_budget_s": 30}))
    steps = [RrsaStep(), RolesStep(), PolicyStep()]
    plan = plan_steps(ctx, steps)
    return plan, Executor(handlers_for(ctx, steps)).apply(plan)


@pytest.mark.parametrize("mode, knobs", [
    ("rrsa", {"throttle_rate": 0.3, "seed": 7}),
    ("worker-role", {"error_rate": 0.3, "seed": 11}),
    ("access-key", {"throttle_rate": 0.2, "error_rate": 0.2, "seed": 3}),
    ("rrsa", {"consistency_delay_s": 2.0}),
])
def test_faults_converge_and_create_nothing_twice(tmp_path, run_cli, mode, knobs):
    with running_sandbox(tmp_path, mode=mode) as sb:
        sb.world.knobs.set(**knobs)
        plan, result = apply_directly(sb, mode)
        assert set(result.applied) == {c.address for c in plan.pending}
        assert create_counts(sb) == EXPECTED_CREATES[mode]
        faults = Counter(c.error_code for c in sb.world.calls.calls() if c.status >= 400)
        if knobs.get("consistency_delay_s"):   # the readiness wait really saw the role invisible
            assert faults["EntityNotExist.Role"] > 0, faults
        else:
            assert faults["Throttling.User"] + faults["ServiceUnavailable"] > 0, faults
        sb.world.knobs.set(throttle_rate=0.0, error_rate=0.0)
        again, _ = apply_directly(sb, mode)
        assert not again.has_changes, [(c.address, c.reason) for c in again.pending]
        if knobs.get("consistency_delay_s"):
            sb.world.clock.advance(knobs["consistency_delay_s"])
        assert chain_login(sb, mode).password


def test_new_access_key_secret_is_sensitive_in_json_output(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="access-key") as sb:
        result = acrx(run_cli, sb, "policy", "attach", "--yes", "-o", "json", AK_FLAG)
        assert result.exit_code == 0, result.stderr
        (key,) = sb.world.backend("ram", sb.seeded.account_b, "global").access_keys(
            f"acrx-pull-{sb.seeded.cluster_id}")
        assert key.secret not in result.stdout + result.stderr
        applied = json.loads(result.stdout)        # one envelope: the plan and what applying it did
        assert applied["kind"] == "ApplyResult" and applied["data"]["plan"]["changes"]
        outputs = applied["data"]["result"]["outputs"]["ram.access_key.registry"]
        assert outputs == {"access_key_id": key.access_key_id, "access_key_secret": "(sensitive)"}
