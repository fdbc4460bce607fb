"""Identity planners as data: desired + observed in, Changes out. No cloud, no sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acrx import facts
from acrx.cloud.cs import RrsaConfig
from acrx.cloud.ram import AccessKeyInfo, AttachedPolicy, Policy, Role, User
from acrx.plan.change import Action, Ref, Sensitive
from acrx.plan.plan import Plan
from acrx.plan.policy_diff import canonical, policies_equal, statements_missing
from acrx.render.policies import (cluster_trust_policy, policy_json, pull_policy, registry_trust_policy)
from acrx.steps.identity import access_key, policies, preflight, roles, rrsa

GOLDEN = Path(__file__).parent / "golden"
UID_A, UID_B = "1111222233334444", "5555666677778888"
CLUSTER = "c" + "0" * 31 + "1"
PROVIDER = facts.oidc_provider_arn(UID_A, CLUSTER)
ISSUER = facts.issuer_url("cn-hangzhou", CLUSTER)
ROLE_A = facts.role_arn(UID_A, "acrx-rrsa-x")
OTHER = {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": ["ecs.aliyuncs.com"]}}


def role(trust: dict | str, msd: int = 3600, name: str = "r") -> Role:
    text = trust if isinstance(trust, str) else json.dumps(trust)
    return Role(name=name, arn=f"acs:ram::{UID_B}:role/{name}", role_id="1", trust_document=text,
                max_session_duration=msd)


def with_statements(*stmts) -> dict:
    return {"Version": "1", "Statement": list(stmts)}


# -- cs.rrsa -----------------------------------------------------------------------------------
@pytest.mark.parametrize("observed, action", [
    (None, Action.UPDATE),
    (RrsaConfig(False, None, None, None, None), Action.UPDATE),
    (RrsaConfig(True, ISSUER, "sts.aliyuncs.com", PROVIDER, "ack-rrsa-x"), Action.NOOP),
])
def test_rrsa_planner(observed, action):
    change = rrsa.plan_rrsa(account="cluster", cluster_id=CLUSTER, region="cn-hangzhou", observed=observed)
    assert change.action is action and change.address == "cs.rrsa" and change.account == "cluster"
    if action is Action.NOOP:
        assert change.after == {"enabled": True, "issuer": ISSUER, "oidc_arn": PROVIDER}
        assert "enabled" in change.reason
    else:
        assert isinstance(change.after["issuer"], Ref) and change.after["issuer"].address == "cs.rrsa"
        assert change.all_dependencies() == ()   # a Ref to its own output is not a dependency


# -- roles -------------------------------------------------------------------------------------
WANT_B = registry_trust_policy(ROLE_A)


@pytest.mark.parametrize("name, observed, msd, owned, action, reason_has", [
    ("missing", None, 3600, True, Action.CREATE, "does not exist"),
    ("same", role(WANT_B), 3600, True, Action.NOOP, "admits"),
    # RAM re-serialises: a principal as a string, other key order, whitespace; not a change.
    ("respelled", role('{"Statement":[{"Principal":{"RAM":"%s"},"Effect":"Allow","Action":"STS:AssumeRole"}],'
                       '"Version":"1"}' % ROLE_A), 3600, True, Action.NOOP, "admits"),
    ("extra statement kept", role(with_statements(OTHER, WANT_B["Statement"][0])), 3600, True, Action.NOOP, "admits"),
    ("adopted", role(WANT_B), 3600, False, Action.NOOP, "adopted"),
    ("edited", role(with_statements(OTHER)), 3600, True, Action.UPDATE, "does not admit"),
    ("session drift", role(WANT_B, msd=7200), 3600, True, Action.UPDATE, "MaxSessionDuration is 7200"),
])
def test_registry_role_planner(name, observed, msd, owned, action, reason_has):
    change = roles.plan_role("ram.role.registry", account="registry", name="r", observed=observed, owned=owned,
                             want_trust=WANT_B, admits=ROLE_A, max_session_duration=msd)
    assert change.action is action, name
    assert reason_has in change.reason, (name, change.reason)
    if action is Action.UPDATE:
        # The plan shows the whole merged document: acrx's statement added, others' kept.
        assert not statements_missing(change.after["trust_policy"], WANT_B)
        for stmt in canonical(observed.trust_document)["Statement"]:
            assert stmt in canonical(change.after["trust_policy"])["Statement"]
        assert change.after["max_session_duration"] == msd


def test_cluster_role_with_unknown_issuer_plans_an_update_that_merges_at_apply():
    want = roles._cluster_trust(rrsa.oidc_arn_ref(), rrsa.issuer_ref())
    change = roles.plan_role("ram.role.cluster", account="cluster", name="a", observed=role(with_statements(OTHER)),
                             owned=True, want_trust=want, admits="the helper")
    assert change.action is Action.UPDATE and "known after apply" in change.reason
    assert {r.address for r in change.refs()} == {"cs.rrsa"}
    assert "cs.rrsa" in change.all_dependencies()
    assert len(change.after["trust_policy"]["Statement"]) == 2


def test_cluster_role_create_refers_to_rrsa_outputs_and_resolves_to_the_documented_policy():
    want = roles._cluster_trust(rrsa.oidc_arn_ref(), rrsa.issuer_ref())
    from acrx.plan.change import map_values

    resolved = map_values(want, lambda ref: {"oidc_arn": PROVIDER, "issuer": ISSUER}[ref.attribute])
    assert policies_equal(resolved, cluster_trust_policy(PROVIDER, ISSUER))


# -- policies and attachments ------------------------------------------------------------------
def pol(doc, description="acrx: x", version="v3") -> Policy:
    return Policy(name="p", type="Custom", default_version=version, document=json.dumps(doc), description=description)


SCOPED = pull_policy(region="cn-hangzhou", uid=UID_B, instance_id="cri-abcdefgh12345678")


@pytest.mark.parametrize("observed, action, reason_has", [
    (None, Action.CREATE, "does not exist"),
    (pol(SCOPED), Action.NOOP, "v3"),
    (pol({"Statement": list(reversed(SCOPED["Statement"])), "Version": "1"}), Action.NOOP, "matches"),
    (pol(SCOPED, description="made by hand"), Action.NOOP, "adopted"),
    (pol(pull_policy()), Action.UPDATE, "new default version"),
])
def test_policy_planner(observed, action, reason_has):
    change = policies.plan_policy("ram.policy.registry_pull", account="registry", name="p", observed=observed,
                                  want_document=SCOPED, purpose="pull")
    assert change.action is action and reason_has in change.reason
    assert change.data["description"].startswith(facts.MARK_TEXT_PREFIX)


@pytest.mark.parametrize("attached, policy_new, action, reason_has", [
    (None, True, Action.CREATE, "is new"),
    ([AttachedPolicy("p", "Custom")], False, Action.NOOP, "attached to role"),
    ([AttachedPolicy("other", "Custom")], False, Action.CREATE, "detached"),
    ([AttachedPolicy("p", "System")], False, Action.CREATE, "detached"),   # type matters
    ([], True, Action.CREATE, "policy p is new"),
])
def test_attachment_planner(attached, policy_new, action, reason_has):
    change = policies.plan_attachment("ram.policy_attachment.registry_pull", account="registry",
                                      principal_type="role", principal="r", policy_name="p", policy_type="Custom",
                                      attached=attached, policy_new=policy_new)
    assert change.action is action and reason_has in change.reason


# -- access-key mode ---------------------------------------------------------------------------
def test_user_planner():
    assert access_key.plan_user("ram.user.registry", account="b", name="u", observed=None,
                                purpose="p").action is Action.CREATE
    mine = access_key.plan_user("ram.user.registry", account="b", name="u", purpose="p",
                                observed=User("u", "1", comments="acrx: p"))
    theirs = access_key.plan_user("ram.user.registry", account="b", name="u", purpose="p",
                                  observed=User("u", "1", comments="ops"))
    assert mine.is_noop and "adopted" not in mine.reason and "adopted" in theirs.reason


@pytest.mark.parametrize("keys, env_id, env_secret, action, warns, depends", [
    (None, None, False, Action.CREATE, False, ("ram.user.registry",)),
    ([], None, False, Action.CREATE, False, ()),
    ([AccessKeyInfo("LTAIold", "Active")], None, False, Action.NOOP, True, ()),
    ([AccessKeyInfo("LTAIenv", "Active")], "LTAIenv", True, Action.NOOP, False, ()),
    # A key of another user: refused unless --allow-foreign-access-key (tests/test_ownership.py).
    ([], "LTAIhalf", False, Action.NOOP, True, ()),
])
def test_access_key_planner(keys, env_id, env_secret, action, warns, depends):
    change, warning = access_key.plan_access_key(
        "ram.access_key.registry", account="b", user="u", user_address="ram.user.registry", keys=keys,
        env_id_name="AK_ID", env_secret_name="AK_SECRET", env_id=env_id, env_secret_set=env_secret)
    assert change.action is action and bool(warning) is warns and change.depends_on == depends
    if action is Action.CREATE:
        assert isinstance(change.after["access_key_secret"], Ref)
    if env_id and env_secret:
        secret = change.after["access_key_secret"]
        assert isinstance(secret, Sensitive) and secret.source == "env:AK_SECRET"
        assert "(sensitive)" in json.dumps(change.to_dict())           # what a plan shows
        assert '"$sensitive": true' in json.dumps(Plan([change]).to_dict())  # what a saved plan keeps


# -- preflight (pure parts) ---------------------------------------------------------------------
@pytest.mark.parametrize("mode, flavour, kind, version, fails", [
    ("rrsa", "managed", "pro", "1.30.1-aliyun.1", []),
    ("rrsa", "managed", "basic", "1.30.1", []),   # Basic 1.22+: the current managed-edition doc (issue 13)
    ("rrsa", "managed", "basic", "1.21.3", ["RRSA mode", "the managed addon"]),
    ("rrsa", "self-managed", "basic", "1.30.1", []),
    ("rrsa", "managed", "pro", "1.21.3-aliyun.1", ["RRSA mode", "the managed addon"]),
    ("rrsa", "self-managed", "dedicated", "1.30.1", ["RRSA mode"]),
    ("worker-role", "self-managed", "serverless-pro", "1.30.1", ["worker-role mode", "self-managed addon"]),
    ("worker-role", "self-managed", "dedicated", "1.20.4", []),
    ("access-key", "self-managed", "pro", "1.19.0", ["access-key mode", "self-managed addon"]),
    ("rrsa", "managed", "edge", "1.22.0", []),
])
def test_support_matrix(mode, flavour, kind, version, fails):
    problems = " | ".join(preflight.support_problems(mode, flavour, kind, version))
    for needle in fails:
        assert needle in problems
    assert bool(problems) is bool(fails)


def test_instance_and_session_checks():
    from acrx.cloud.cr import Instance

    class Reg:
        instance_id, region, account = "cri-x", "cn-hangzhou", "registry"

    assert "not found" in preflight.instance_problem(Reg, None)
    assert "Enterprise" in preflight.instance_problem(Reg, Instance("cri-x", "n", "Personal", "RUNNING", "r"))
    assert "STARTING" in preflight.instance_problem(Reg, Instance("cri-x", "n", "Enterprise_Basic", "STARTING", "r"))
    assert preflight.instance_problem(Reg, Instance("cri-x", "n", "Enterprise_Standard", "RUNNING", "r")) is None
    problems, warnings = preflight.session_notes("rrsa", [7200], 7200)
    assert not problems and "3600" in warnings[0]
    assert preflight.session_notes("access-key", [7200], 7200) == ([], [])
    assert "MaxSessionDuration" in preflight.session_notes("rrsa", [7200], 3600)[0][0]


# -- the scoped pull policy ---------------------------------------------------------------------
def test_scoped_pull_policy_golden_and_documented_form_unchanged():
    scoped = pull_policy(region="cn-hangzhou", uid="1234567890123456", instance_id="cri-abcdefgh12345678")
    assert policy_json(scoped) == (GOLDEN / "pull_policy_scoped.json").read_text()
    assert policy_json(pull_policy()) == (GOLDEN / "pull_policy.json").read_text()
    with pytest.raises(ValueError):
        pull_policy(region="cn-hangzhou")
