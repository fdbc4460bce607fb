"""Verdicts that mean what they say: a check that did not run is SKIP, never PASS; a trust policy
acrx cannot fully evaluate is UNKNOWN, never PASS; the summary line names what was skipped."""

from __future__ import annotations

import json

import pytest

from sandbox_fixture import running_sandbox
from test_verify_sandbox import FAST, _layers_of, _ram, setup_everything

PROVIDER = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1"
HELPER_SUB = "system:serviceaccount:kube-system:aliyun-acr-credential-helper"
CLAIMS = {"oidc:sub": HELPER_SUB, "oidc:aud": "sts.aliyuncs.com", "oidc:iss": "https://oidc-ack.example/c1"}
ROLE_A = "acs:ram::1234567890123456:role/acrx-rrsa-c1"


def _oidc(effect="Allow", condition=None, **extra):
    statement = {"Effect": effect, "Action": "sts:AssumeRole", "Principal": {"Federated": [PROVIDER]}, **extra}
    if condition is not None:
        statement["Condition"] = condition
    return statement


def _allow_helper():
    return _oidc(condition={"StringEquals": {"oidc:sub": HELPER_SUB, "oidc:aud": "sts.aliyuncs.com"}})


@pytest.mark.parametrize("statements,status,words", [
    ([_allow_helper()], "pass", ()),
    ([_oidc(condition={"StringLike": {"oidc:sub": "system:serviceaccount:kube-system:*"}})], "pass", ()),
    ([_oidc(condition={"StringNotEquals": {"oidc:sub": "system:serviceaccount:default:x"}})], "pass", ()),
    ([_oidc(condition={"StringNotEquals": {"oidc:sub": HELPER_SUB}})], "fail", ("must not be",)),
    ([_oidc(condition={"StringNotLike": {"oidc:sub": "system:serviceaccount:kube-system:*"}})], "fail",
     ("must not match",)),
    ([_oidc(condition={"StringEqualsIgnoreCase": {"oidc:sub": HELPER_SUB.upper()}})], "pass", ()),
    # an explicit Deny that applies wins over the Allow
    ([_allow_helper(), _oidc("Deny")], "fail", ("statement 2 explicitly denies",)),
    ([_allow_helper(), _oidc("Deny", {"StringLike": {"oidc:sub": "*:kube-system:*"}})], "fail", ("denies",)),
    # a Deny whose condition does not hold leaves the Allow standing
    ([_allow_helper(), _oidc("Deny", {"StringEquals": {"oidc:sub": "system:serviceaccount:default:x"}})], "pass", ()),
    ([_allow_helper(), _oidc("Deny", {"StringNotEquals": {"oidc:sub": HELPER_SUB}})], "pass", ()),
    # what acrx does not model is unknown, never pass
    ([_allow_helper(), _oidc("Deny", {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}})], "unknown", ("IpAddress",)),
    ([_oidc(condition={"DateLessThan": {"acs:CurrentTime": "2030-01-01T00:00:00Z"}})], "unknown",
     ("DateLessThan",)),
    ([_oidc(condition={"StringEquals": {"oidc:sub": HELPER_SUB, "acs:SourceVpc": "vpc-x"}})], "unknown",
     ("acs:SourceVpc",)),
    ([_oidc(condition={"ForAnyValue:StringEquals": {"oidc:sub": [HELPER_SUB]}})], "unknown", ("ForAnyValue",)),
    ([{"Effect": "Allow", "NotAction": "ram:*", "Principal": {"Federated": [PROVIDER]}}], "unknown", ("NotAction",)),
    ([_oidc(condition={"StringNotEquals": {"oidc:sub": [HELPER_SUB, "other"]}})], "unknown", ("several values",)),
    # an undecidable Allow next to a definite Deny is still a fail
    ([_oidc(condition={"DateLessThan": {"acs:CurrentTime": "2030"}}), _oidc("Deny")], "fail", ("denies",)),
    ([], "fail", ("no statement trusts",)),
])
def test_oidc_trust_tri_state(statements, status, words):
    from acrx.doctor.trust import evaluate_oidc_trust

    found = evaluate_oidc_trust({"Version": "1", "Statement": statements}, PROVIDER, CLAIMS)
    assert found.status == status, found
    for word in words:
        assert word in found.why, found.why


def test_ram_trust_conditions_and_deny_are_not_a_pass():
    from acrx.doctor.trust import evaluate_ram_trust

    allow = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": [ROLE_A]}}
    assert evaluate_ram_trust({"Statement": [allow]}, ROLE_A).status == "pass"
    root = dict(allow, Principal={"RAM": ["acs:ram::1234567890123456:root"]})
    assert evaluate_ram_trust({"Statement": [root]}, ROLE_A).status == "pass"
    # AssumeRole's request context belongs to STS: any condition is unknown here
    cond = dict(allow, Condition={"StringEquals": {"sts:ExternalId": "x"}})
    assert evaluate_ram_trust({"Statement": [cond]}, ROLE_A).status == "unknown"
    deny = {"Effect": "Deny", "Action": "sts:*", "Principal": {"RAM": ["*"]}}
    assert evaluate_ram_trust({"Statement": [allow, deny]}, ROLE_A).status == "fail"
    assert evaluate_ram_trust({"Statement": [dict(allow, Action="ram:GetRole")]}, ROLE_A).status == "fail"


def test_layer_of_only_skips_is_skip_and_unknown_is_never_pass():
    from acrx.doctor.layers import failed, layer_from_checks, passed, skipped, unknown, verdict

    only_skips = layer_from_checks("registry probe", [skipped("probe x", "no key")])
    assert only_skips.status == "skip" and only_skips.ok is None and only_skips.skipped_reason == "no key"
    assert layer_from_checks("empty", []).status == "skip"
    mixed = layer_from_checks("component", [passed("addon"), skipped("secret expiry", "not recorded")])
    assert mixed.status == "pass"
    undecided = layer_from_checks("control plane", [passed("a"), unknown("trust", "a Deny acrx cannot read")])
    assert undecided.status == "unknown" and undecided.ok is None
    assert "a Deny acrx cannot read" in undecided.to_dict()["unknown_reason"]
    assert layer_from_checks("x", [unknown("t", "?"), failed("f", "broken")]).status == "fail"

    ok = verdict([mixed, only_skips], proof="registry probe")
    assert ok.status == "pass" and ok.summary == "passed; skipped: registry probe (no key)"
    not_proven = verdict([undecided, mixed, only_skips], proof="registry probe")
    assert not_proven.status == "unknown" and not not_proven.ok
    assert not_proven.summary.startswith("not proven; unknown: control plane (a Deny acrx cannot read)")
    pulled = layer_from_checks("pull", [passed("pull x", "Successfully pulled")])
    assert verdict([undecided, mixed, pulled], proof="pull").summary == \
        "passed; unknown: control plane (a Deny acrx cannot read)"
    assert verdict([only_skips]).status == "unknown"   # nothing ran: nothing is proven


def _add_statement(sb, statement) -> None:
    from alibabacloud_ram20150501 import models as ram

    from acrx.config.loader import load_config

    config = load_config(sb.config_path, {})
    client = _ram(sb, "cluster")
    role = client.get_role(ram.GetRoleRequest(role_name=config.cluster_role_name)).body.role
    trust = json.loads(role.assume_role_policy_document)
    trust["Statement"].append(statement)
    client.update_role(ram.UpdateRoleRequest(role_name=config.cluster_role_name,
                                             new_assume_role_policy_document=json.dumps(trust)))


@pytest.mark.timeout(240)
def test_doctor_reports_unknown_for_an_unmodelled_deny_and_fail_for_a_deny(tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    with running_sandbox(tmp_path) as sb:
        setup_everything(sb, run_cli)
        provider = f"acs:ram::{sb.seeded.account_a}:oidc-provider/ack-rrsa-{sb.seeded.cluster_id}"
        # A Deny on the source IP: acrx cannot know it, so the trust check is UNKNOWN, not PASS
        _add_statement(sb, {"Effect": "Deny", "Action": "sts:AssumeRole", "Principal": {"Federated": [provider]},
                            "Condition": {"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}})
        result = run_cli("--sandbox", sb.dir, "doctor", "-f", sb.config_path, *FAST)
        assert result.exit_code == 4, result.stdout + result.stderr
        assert ("UNKNOWN", "control") in [(s, n) for n, s in _layers_of(result)] or \
            "UNKNOWN  control plane" in result.stdout, result.stdout
        assert "NotIpAddress" in result.stdout
        assert "not proven; unknown: control plane (" in result.stdout
        as_json = run_cli("--sandbox", sb.dir, "doctor", "-f", sb.config_path, *FAST, "-o", "json")
        assert as_json.exit_code == 4
        data = json.loads(as_json.stdout)["data"]
        assert data["ok"] is False and data["verdict"] == "unknown"
        assert data["layers"][0]["status"] == "unknown"
        # an explicit Deny acrx does evaluate: FAIL naming the statement
        _add_statement(sb, {"Effect": "Deny", "Action": "sts:AssumeRole", "Principal": {"Federated": [provider]},
                            "Condition": {"StringLike": {"oidc:sub": "system:serviceaccount:kube-system:*"}}})
        denied = run_cli("--sandbox", sb.dir, "doctor", "-f", sb.config_path, *FAST)
        assert denied.exit_code == 4
        assert "explicitly denies" in denied.stdout and "FAIL  control plane" in denied.stdout, denied.stdout
