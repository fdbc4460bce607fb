"""The plan table and the JSON envelope, as golden text.

Goldens are written with ACRX_UPDATE_GOLDEN=1 once, reviewed by eye, then compared byte for byte.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from acrx.plan.change import Change, Ref, Sensitive
from acrx.plan.plan import Plan
from acrx.render.envelope import API_VERSION, envelope, plan_data, print_json, print_plan_json
from acrx.render.plan_view import headline, render_plan_table

GOLDEN = Path(__file__).parent / "golden"
UID_A, UID_B = "1111111111111111", "2222222222222222"
CLUSTER = "c0123456789abcdef0123456789abcdef"
ROLE_A = f"acs:ram::{UID_A}:role/acrx-cluster-c0123456"
PROVIDER = f"acs:ram::{UID_A}:oidc-provider/ack-rrsa-{CLUSTER}"
ISSUER = f"https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/{CLUSTER}"


def _oidc_trust(provider):
    return {"Version": "1", "Statement": [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Federated": [provider]},
        "Condition": {"StringEquals": {
            "oidc:aud": "sts.aliyuncs.com", "oidc:iss": ISSUER,
            "oidc:sub": "system:serviceaccount:kube-system:aliyun-acr-credential-helper"}}}]}


def setup_plan() -> Plan:
    """An rrsa + public setup across two accounts, with every action and a secret."""
    someone = {"Action": "sts:AssumeRole", "Effect": "Allow",
               "Principal": {"RAM": [f"acs:ram::{UID_A}:role/ci-deployer"]}}
    return Plan([
        Change("cs.rrsa", "update", {"enabled": False, "issuer": None},
               {"enabled": True, "issuer": Ref("cs.rrsa", "issuer")},
               account="cluster", kind="cs.rrsa"),
        Change("ram.role.cluster", "create", None,
               {"RoleName": "acrx-cluster-c0123456", "MaxSessionDuration": 3600,
                "AssumeRolePolicyDocument": _oidc_trust(Ref("cs.rrsa", "oidc_provider_arn"))},
               account="cluster", kind="ram.role", depends_on=("cs.rrsa",)),
        Change("ram.policy_attachment.cluster_assume", "no-op",
               {"PolicyName": "AliyunSTSAssumeRoleAccess", "PolicyType": "System"},
               {"PolicyName": "AliyunSTSAssumeRoleAccess", "PolicyType": "System"},
               reason="already attached", account="cluster", kind="ram.attachment",
               depends_on=("ram.role.cluster",)),
        Change("ram.role.registry", "update",
               {"MaxSessionDuration": 3600,
                "AssumeRolePolicyDocument": json.dumps({"Version": "1", "Statement": [someone]})},
               {"MaxSessionDuration": 7200,
                "AssumeRolePolicyDocument": {"Version": "1", "Statement": [
                    someone, {"Action": "sts:AssumeRole", "Effect": "Allow",
                              "Principal": {"RAM": [Ref("ram.role.cluster", "arn")]}}]}},
               account="registry", kind="ram.role", depends_on=("ram.role.cluster",)),
        Change("ram.policy.registry_pull", "replace",
               {"Description": "hand-made"}, {"Description": "acrx: pull from cri-abc"},
               reason="the policy was not created by acrx and its document cannot be versioned",
               account="registry", kind="ram.policy"),
        Change("cr.acl.203.0.113.7/32", "delete", {"Entry": "203.0.113.7/32", "Comment": "acrx"},
               None, account="registry", kind="cr.acl"),
        Change("k8s.configmap.kube-system/acr-configuration", "create", None,
               {"service-account": "default", "watch-namespace": "all",
                "expiring-threshold": "15m",
                "customAccessKeySecret": Sensitive("do-not-print-me", source="env:ACRX_SK")},
               account="cluster", kind="k8s.configmap", depends_on=("ram.role.registry",)),
    ], {"mode": "rrsa", "network": "public"})


def quiet_plan() -> Plan:
    return Plan([
        Change("cs.rrsa", "no-op", {"enabled": True}, {"enabled": True},
               reason="RRSA is enabled", account="cluster", kind="cs.rrsa"),
        Change("ram.policy.registry_pull", "no-op", {"doc": 1}, {"doc": 1},
               reason="policy document matches (statement order ignored)", account="registry"),
    ], {"mode": "rrsa"})


def table_text(plan: Plan, **kwargs) -> str:
    buffer = io.StringIO()
    render_plan_table(plan, Console(file=buffer, width=120, no_color=True), **kwargs)
    return buffer.getvalue()


def json_text(plan: Plan) -> str:
    buffer = io.StringIO()
    print_plan_json(Console(file=buffer, width=40, no_color=True), plan)
    return buffer.getvalue()


def _golden(name: str, actual: str) -> None:
    # Rich pads table cells with spaces; trailing spaces are invisible and editors strip them,
    # so they are not part of the golden text.
    actual = "\n".join(line.rstrip() for line in actual.splitlines()) + "\n"
    path = GOLDEN / name
    if os.environ.get("ACRX_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing golden {name}; run with ACRX_UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name,build", [("setup", setup_plan), ("no_changes", quiet_plan)])
def test_table_golden(name, build):
    text = table_text(build())
    assert text == table_text(build())  # deterministic
    _golden(f"plan_{name}.txt", text)


def test_narrow_console_gets_a_list_golden():
    buffer = io.StringIO()
    render_plan_table(setup_plan(), Console(file=buffer, width=80, no_color=True))
    # Only a token that cannot be split (the issuer URL) runs past 80 columns, on a line of its own.
    assert all(len(line) <= 80 or len(line.split()) == 1 for line in buffer.getvalue().splitlines())
    _golden("plan_setup_narrow.txt", buffer.getvalue())


@pytest.mark.parametrize("name,build", [("setup", setup_plan), ("no_changes", quiet_plan)])
def test_json_golden(name, build):
    _golden(f"plan_{name}.json", json_text(build()))


def test_table_groups_by_account_and_shows_markers():
    text = table_text(setup_plan())
    assert text.index("Account cluster") < text.index("Account registry")
    cluster_part, registry_part = text.split("Account registry")
    assert "ram.role.cluster" in cluster_part and "ram.role.registry" not in cluster_part
    assert "cr.acl.203.0.113.7/32" in registry_part
    for marker in ("+ create", "~ update", "-/+ replace", "- delete", "= no-op"):
        assert marker in text
    assert text.rstrip().endswith("2 to create, 2 to update, 1 to replace, 1 to delete")
    assert "(known after apply)" in text and "(sensitive)" in text
    assert "do-not-print-me" not in text
    # The trust-policy update shows only the statement that comes, not the one kept.
    assert "ci-deployer" not in registry_part.split("ram.policy.registry_pull")[0].split(
        "AssumeRolePolicyDocument")[1]


def test_noops_can_be_hidden():
    text = table_text(setup_plan(), show_noops=False)
    assert "ram.policy_attachment.cluster_assume" not in text
    assert "= no-op" not in text


def test_no_changes_headline_says_why():
    assert headline(quiet_plan()) == "No changes. The live state matches the configuration " \
                                     "(2 resources checked)."
    assert table_text(Plan([], {"no_changes_reason": "Nothing to destroy."})) == \
        "No changes. Nothing to destroy.\n"


def test_json_envelope_shape():
    plan = setup_plan()
    doc = json.loads(json_text(plan))
    assert doc["apiVersion"] == API_VERSION == "acrx/v1" and doc["kind"] == "Plan"
    data = doc["data"]
    assert data["summary"] == {"create": 2, "update": 2, "replace": 1, "delete": 1, "no-op": 1,
                               "has_changes": True}
    assert data["fingerprint"] == plan.fingerprint
    first = data["changes"][0]
    assert set(first) == {"address", "action", "kind", "account", "before", "after", "reason",
                          "depends_on"}
    assert [c["address"] for c in data["changes"]] == [c.address for c in plan]
    assert "do-not-print-me" not in json_text(plan)
    quiet = json.loads(json_text(quiet_plan()))["data"]["summary"]
    assert quiet["has_changes"] is False and quiet["reason"].startswith("The live state matches")


def test_print_json_is_never_wrapped_and_masks_secrets():
    buffer = io.StringIO()
    long_value = "x" * 300
    print_json(Console(file=buffer, width=20), "Verify",
               {"long": long_value, "secret": Sensitive("hidden-value")})
    doc = json.loads(buffer.getvalue())
    assert doc == envelope("Verify", {"long": long_value, "secret": "(sensitive)"})
    assert "hidden-value" not in buffer.getvalue()
    assert plan_data(quiet_plan())["summary"]["no-op"] == 2
