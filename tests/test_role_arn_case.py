"""Issue 13 item 7: STS writes role names lower-cased in the ARNs it returns; acrx compares role
ARNs without regard to case everywhere (acrx/cloud/arns.py)."""

from __future__ import annotations

import json

import pytest

from acrx import facts
from acrx.cloud.arns import fold_role_arn, role_name_is, same_role_arn
from acrx.doctor.trust import evaluate_ram_trust
from acrx.plan.policy_diff import policies_equal, statements_missing
from acrx.steps.identity.readiness import _assumed_role_arn
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(120)
ROLE = "AcrxPullRole-MixedCase"


def _trust(principal: str) -> str:
    return json.dumps({"Version": "1", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                                      "Principal": {"RAM": [principal]}}]})


@pytest.fixture(scope="module")
def sts_answers(tmp_path_factory):
    """What the sandbox's STS says about a session of a mixed-case role, through the official SDKs."""
    from alibabacloud_ram20150501 import models as ram_models
    from alibabacloud_sts20150401 import models as sts_models

    with running_sandbox(tmp_path_factory.mktemp("arn")) as sb:
        uid = sb.seeded.account_b
        ram = sb.client("alibabacloud_ram20150501", "registry")
        ram.create_role(ram_models.CreateRoleRequest(role_name=ROLE,
                                                     assume_role_policy_document=_trust(f"acs:ram::{uid}:root")))
        arn = facts.role_arn(uid, ROLE)
        sts = sb.client("alibabacloud_sts20150401", "registry")
        assumed = sts.assume_role(sts_models.AssumeRoleRequest(role_arn=arn, role_session_name="Probe",
                                                               duration_seconds=900)).body
        creds = assumed.credentials
        from tests.sandbox_clients import sdk_client

        who = sdk_client("alibabacloud_sts20150401", sb.sandbox.cloud.endpoint,
                         (creds.access_key_id, creds.access_key_secret, creds.security_token),
                         region=sb.seeded.region_b).get_caller_identity().body
        return {"uid": uid, "role_arn": arn, "assumed_arn": assumed.assumed_role_user.arn, "caller": who}


def test_sandbox_sts_lower_cases_the_role_name(sts_answers):
    assert ROLE.lower() in sts_answers["assumed_arn"] and ROLE not in sts_answers["assumed_arn"]
    assert sts_answers["assumed_arn"].endswith("/Probe")            # the session name keeps its case
    assert sts_answers["caller"].arn == f"acs:ram::{sts_answers['uid']}:assumed-role/{ROLE.lower()}/Probe"


def test_the_readiness_probe_matches_the_lower_cased_caller(sts_answers):
    seen = _assumed_role_arn(sts_answers["caller"])
    assert seen != sts_answers["role_arn"]                          # a plain == would never match
    assert same_role_arn(seen, sts_answers["role_arn"])


def test_a_trust_document_with_the_lower_cased_arn_is_no_drift():
    wanted = _trust(facts.role_arn("1234567890123456", ROLE))
    stored = _trust(fold_role_arn(facts.role_arn("1234567890123456", ROLE)))
    assert statements_missing(stored, wanted) == []
    assert policies_equal(stored, wanted)
    other = _trust(facts.role_arn("1234567890123456", "SomeOtherRole"))
    assert statements_missing(other, wanted)                        # still a real difference


def test_the_doctor_admits_a_caller_whatever_the_case(sts_answers):
    trust = json.loads(_trust(sts_answers["role_arn"]))
    assert evaluate_ram_trust(trust, _assumed_role_arn(sts_answers["caller"])).status == "pass"


def test_resources_fold_only_the_role_name():
    assert fold_role_arn("acs:ram:*:1234567890123456:role/MyRole") == "acs:ram:*:1234567890123456:role/myrole"
    assert fold_role_arn("acs:cr:cn-hangzhou:1:repository/cri-x/Team/*") == "acs:cr:cn-hangzhou:1:repository/cri-x/Team/*"
    assert role_name_is("acs:ram::1:role/acrxpull", "AcrxPull") and not role_name_is("acs:ram::1:role/x", "y")
