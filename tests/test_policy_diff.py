"""Policy documents compare by meaning; merges only append; diffs are readable."""

from __future__ import annotations

import json

import pytest

from acrx.plan.policy_diff import (canonical, changed_lines, merge_statements, normalise,
                                   policies_equal, policy_unified_diff, statements_missing)

PULL = {"Version": "1", "Statement": [{"Action": ["cr:GetAuthorizationToken",
                                                  "cr:ListInstanceEndpoint", "cr:PullRepository"],
                                       "Resource": "*", "Effect": "Allow"}]}
ROLE_A = "acs:ram::1111111111111111:role/acrx-cluster"
ROLE_OTHER = "acs:ram::1111111111111111:role/someone-else"


def trust(*principals, effect="Allow"):
    return {"Version": "1", "Statement": [
        {"Action": "sts:AssumeRole", "Effect": effect, "Principal": {"RAM": list(principals)}}]}


OIDC = {"Version": "1", "Statement": [{
    "Action": "sts:AssumeRole", "Effect": "Allow",
    "Principal": {"Federated": ["acs:ram::1111111111111111:oidc-provider/ack-rrsa-c1"]},
    "Condition": {"StringEquals": {
        "oidc:aud": "sts.aliyuncs.com",
        "oidc:iss": "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1",
        "oidc:sub": "system:serviceaccount:kube-system:aliyun-acr-credential-helper"}}}]}


@pytest.mark.parametrize("variant", [
    # the JSON string RAM returns, other whitespace and key order
    json.dumps({"Statement": [{"Effect": "Allow", "Resource": ["*"], "Action": [
        "cr:PullRepository", "cr:GetAuthorizationToken", "cr:ListInstanceEndpoint"]}],
        "Version": "1"}, indent=4),
    # action case does not matter in RAM
    {"Version": "1", "Statement": [{"Action": ["CR:GETAUTHORIZATIONTOKEN", "cr:listinstanceendpoint",
                                               "cr:PullRepository"], "Resource": "*",
                                    "Effect": "allow"}]},
    # a single statement instead of a list, a duplicate action, Version as a number
    {"Version": 1, "Statement": {"Action": ["cr:PullRepository", "cr:PullRepository",
                                            "cr:GetAuthorizationToken", "cr:ListInstanceEndpoint"],
                                 "Resource": " * ", "Effect": "Allow"}},
])
def test_spelling_differences_are_not_changes(variant):
    assert policies_equal(PULL, variant)


def test_statement_order_and_duplicates_do_not_count():
    two = {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "a:B", "Resource": "*"},
        {"Effect": "Deny", "Action": "c:D", "Resource": "x"}]}
    swapped = {"Version": "1", "Statement": list(reversed(two["Statement"])) + [two["Statement"][0]]}
    assert policies_equal(two, swapped)
    assert len(normalise(swapped)["Statement"]) == 2


@pytest.mark.parametrize("other", [
    trust(ROLE_OTHER),
    trust(ROLE_A, effect="Deny"),
    {"Version": "2", "Statement": trust(ROLE_A)["Statement"]},
    {"Version": "1", "Statement": []},
])
def test_real_differences_are_changes(other):
    assert not policies_equal(trust(ROLE_A), other)


def test_condition_values_keep_their_case_and_keys_do_not():
    changed = json.loads(json.dumps(OIDC))
    changed["Statement"][0]["Condition"]["StringEquals"]["oidc:sub"] = \
        "system:serviceaccount:KUBE-SYSTEM:aliyun-acr-credential-helper"
    assert not policies_equal(OIDC, changed)
    keys_upper = json.loads(json.dumps(OIDC))
    cond = keys_upper["Statement"][0]["Condition"]["StringEquals"]
    keys_upper["Statement"][0]["Condition"]["StringEquals"] = {k.upper(): v for k, v in cond.items()}
    assert policies_equal(OIDC, keys_upper)


def test_resources_keep_their_case():
    lower = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "cr:PullRepository",
                                            "Resource": "acs:cr:*:1:repository/cri-x/team/*"}]}
    upper = json.loads(json.dumps(lower).replace("team", "TEAM"))
    assert not policies_equal(lower, upper)


def test_role_names_in_resources_fold_as_ram_folds_them():
    # Role names are case-insensitive in RAM, and STS writes them lower-cased (issue 13 item 7).
    lower = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                            "Resource": "acs:ram:*:1:role/abc"}]}
    upper = json.loads(json.dumps(lower).replace("role/abc", "role/ABC"))
    assert policies_equal(lower, upper)


def test_canonical_keeps_case_for_display():
    doc = canonical('{"Statement":[{"Resource":"*","Action":"cr:PullRepository","Effect":"Allow"}]}')
    assert doc == {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": ["cr:PullRepository"], "Resource": ["*"]}]}


def test_invalid_documents_raise_value_error():
    with pytest.raises(ValueError, match="not valid JSON"):
        normalise("{not json")
    with pytest.raises(ValueError, match="JSON object"):
        normalise("[1, 2]")


def test_statements_missing_sees_coverage():
    # A principal list that includes ours covers ours.
    assert statements_missing(trust(ROLE_OTHER, ROLE_A), trust(ROLE_A)) == []
    missing = statements_missing(trust(ROLE_OTHER), trust(ROLE_A))
    assert missing == [{"Effect": "Allow", "Principal": {"RAM": [ROLE_A]},
                        "Action": ["sts:AssumeRole"]}]
    # Wildcards in the existing policy cover the wanted actions.
    broad = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "cr:*", "Resource": "*"}]}
    assert statements_missing(broad, PULL) == []
    narrow = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "cr:PullRepository",
                                             "Resource": "*"}]}
    assert len(statements_missing(narrow, PULL)) == 1
    # A Deny never covers an Allow; a different condition does not either.
    assert len(statements_missing(trust(ROLE_A, effect="Deny"), trust(ROLE_A))) == 1
    other_sub = json.loads(json.dumps(OIDC).replace("aliyun-acr-credential-helper", "x"))
    assert len(statements_missing(other_sub, OIDC)) == 1
    assert statements_missing(OIDC, OIDC) == []
    assert len(statements_missing(None, OIDC)) == 1


def test_merge_appends_and_never_touches_other_statements():
    theirs_raw = {"Version": "1", "Statement": [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "ecs.aliyuncs.com"}},
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"RAM": ROLE_OTHER}}]}
    merged = merge_statements(json.dumps(theirs_raw), trust(ROLE_A))
    assert merged["Statement"][:2] == theirs_raw["Statement"]  # byte-for-byte as they were
    assert len(merged["Statement"]) == 3
    assert statements_missing(merged, trust(ROLE_A)) == []
    # Merging again adds nothing: idempotent.
    assert merge_statements(merged, trust(ROLE_A)) == merged
    assert merge_statements(None, PULL)["Statement"] == canonical(PULL)["Statement"]


def test_unified_diff_is_empty_for_equal_and_readable_otherwise():
    assert policy_unified_diff(PULL, json.dumps(PULL, indent=8)) == ""
    diff = policy_unified_diff(trust(ROLE_OTHER), trust(ROLE_OTHER, ROLE_A),
                               before_name="live", after_name="wanted")
    assert diff.splitlines()[:2] == ["--- live", "+++ wanted"]
    added = [line for line in diff.splitlines()[2:] if line.startswith("+")]
    assert added == [f'+          "{ROLE_A}",']
    assert not any(line.startswith("-  ") for line in diff.splitlines())


def test_changed_lines_name_statements_that_go_and_come():
    lines = changed_lines(trust(ROLE_OTHER), trust(ROLE_A))
    assert lines == [
        '- {"Effect": "Allow", "Principal": {"RAM": ["%s"]}, "Action": ["sts:AssumeRole"]}'
        % ROLE_OTHER,
        '+ {"Effect": "Allow", "Principal": {"RAM": ["%s"]}, "Action": ["sts:AssumeRole"]}'
        % ROLE_A]
    assert changed_lines(PULL, json.dumps(PULL)) == []
