"""Sandbox STS through the official alibabacloud_sts20150401 client: AssumeRole, the credentials
it issues, their expiry on the sandbox clock, AssumeRoleWithOIDC and GetCallerIdentity."""

from __future__ import annotations

import json

import pytest

from acrx.sandbox.core.oidc import SigningKey
from acrx.sandbox.core.server import CloudServer
from acrx.sandbox.core.world import World
from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import expect_error

ISSUER = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c0ffee"
SUBJECT = "system:serviceaccount:kube-system:aliyun-acr-credential-helper"
KEY = SigningKey()


def trust_ram(*principals: str) -> str:
    return json.dumps({"Version": "1", "Statement": [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"RAM": list(principals)}}]})


def allow(actions, resource="*") -> str:
    return json.dumps({"Version": "1", "Statement": [{"Action": actions, "Effect": "Allow", "Resource": resource}]})


def ram_m():
    from alibabacloud_ram20150501 import models
    return models


def sts_m():
    from alibabacloud_sts20150401 import models
    return models


class Cloud:
    """Account A holds user alice (allowed sts:AssumeRole); account B holds role `deployer`
    trusting A, with a policy that allows ram:GetRole only."""

    def __init__(self):
        self.world = World(seed=5)
        self.a = self.world.add_account("cluster", "cn-hangzhou")
        self.b = self.world.add_account("registry", "cn-hangzhou")
        self.server = CloudServer(self.world).start()
        ram_a, ram_b = self.ram(self.a.root_key), self.ram(self.b.root_key)
        ram_a.create_user(ram_m().CreateUserRequest(user_name="alice"))
        key = ram_a.create_access_key(ram_m().CreateAccessKeyRequest(user_name="alice")).body.access_key
        self.alice = (key.access_key_id, key.access_key_secret)
        ram_a.attach_policy_to_user(ram_m().AttachPolicyToUserRequest(
            policy_type="System", policy_name="AliyunSTSAssumeRoleAccess", user_name="alice"))
        role = ram_b.create_role(ram_m().CreateRoleRequest(
            role_name="deployer", assume_role_policy_document=trust_ram(self.a.uid), max_session_duration=7200))
        self.role = role.body.role
        ram_b.create_policy(ram_m().CreatePolicyRequest(policy_name="get-role", policy_document=allow("ram:GetRole")))
        ram_b.attach_policy_to_role(ram_m().AttachPolicyToRoleRequest(
            policy_type="Custom", policy_name="get-role", role_name="deployer"))

    def ram(self, key):
        return sdk_client("alibabacloud_ram20150501", self.server.endpoint, key)

    def sts(self, key):
        return sdk_client("alibabacloud_sts20150401", self.server.endpoint, key)

    def assume(self, key=None, **kwargs):
        request = sts_m().AssumeRoleRequest(**{"role_arn": self.role.arn, "role_session_name": "acrx", **kwargs})
        return self.sts(key or self.alice).assume_role(request).body


@pytest.fixture
def cloud():
    c = Cloud()
    yield c
    c.server.stop()


def test_assumed_credentials_sign_later_calls_as_the_role(cloud):
    out = cloud.assume(duration_seconds=900)
    creds = out.credentials
    assert creds.access_key_id.startswith("STS.") and creds.security_token
    assert out.assumed_role_user.arn == f"acs:ram::{cloud.b.uid}:assumed-role/deployer/acrx"
    assert out.assumed_role_user.assumed_role_id == f"{cloud.role.role_id}:acrx"
    session = (creds.access_key_id, creds.access_key_secret, creds.security_token)

    who = cloud.sts(session).get_caller_identity().body
    assert (who.identity_type, who.account_id, who.arn) == ("AssumedRoleUser", cloud.b.uid, out.assumed_role_user.arn)
    assert who.role_id == cloud.role.role_id and who.principal_id == f"{cloud.role.role_id}:acrx"

    # The session has exactly the role's permissions in account B.
    ram = cloud.ram(session)
    assert ram.get_role(ram_m().GetRoleRequest(role_name="deployer")).body.role.arn == cloud.role.arn
    expect_error(lambda: ram.list_roles(ram_m().ListRolesRequest()), "NoPermission", 403)
    # Issuing sessions changes no resource: a read-only run that assumes roles shows no writes.
    assert [c.writes for c in cloud.world.calls.calls() if c.action == "AssumeRole"] == [False]


def test_credentials_expire_on_the_sandbox_clock(cloud):
    creds = cloud.assume(duration_seconds=900).credentials
    session = cloud.sts((creds.access_key_id, creds.access_key_secret, creds.security_token))
    session.get_caller_identity()
    cloud.world.clock.advance(901)
    expect_error(lambda: session.get_caller_identity(), "InvalidSecurityToken.Expired", 400)


def test_wrong_security_token_is_refused(cloud):
    creds = cloud.assume().credentials
    forged = cloud.sts((creds.access_key_id, creds.access_key_secret, "CAISforged"))
    expect_error(lambda: forged.get_caller_identity(), "InvalidSecurityToken.MismatchWithAccessKey", 400)


def test_session_policy_narrows_the_role(cloud):
    creds = cloud.assume(policy=allow("ram:ListRoles")).credentials
    ram = cloud.ram((creds.access_key_id, creds.access_key_secret, creds.security_token))
    # The role allows GetRole, the session policy only ListRoles: the intersection is empty.
    expect_error(lambda: ram.get_role(ram_m().GetRoleRequest(role_name="deployer")), "NoPermission", 403)
    expect_error(lambda: cloud.assume(policy='{"Version":"1"}'), "InvalidParameter.PolicyGrammar", 400)


@pytest.mark.parametrize("kwargs, code, status", [
    (dict(role_arn="arn:aws:iam::1:role/x"), "InvalidParameter.RoleArn", 400),
    (dict(role_arn="acs:ram::123:role/missing"), "EntityNotExist.Role", 404),
    (dict(role_session_name="a"), "InvalidParameter.RoleSessionName", 400),
    (dict(role_session_name="has space"), "InvalidParameter.RoleSessionName", 400),
    (dict(duration_seconds=899), "InvalidParameter.DurationSeconds", 400),
    (dict(duration_seconds=7201), "InvalidParameter.DurationSeconds", 400),
], ids=["arn-malformed", "role-unknown", "session-too-short", "session-bad-chars", "duration-low", "duration-high"])
def test_assume_role_parameter_errors(cloud, kwargs, code, status):
    expect_error(lambda: cloud.assume(**kwargs), code, status)


def test_unknown_role_in_known_account_is_404(cloud):
    expect_error(lambda: cloud.assume(role_arn=f"acs:ram::{cloud.b.uid}:role/ghost"), "EntityNotExist.Role", 404)


def test_new_role_is_invisible_to_sts_until_the_delay_passes(cloud):
    cloud.world.knobs.set(consistency_delay_s=5)
    ram_b = cloud.ram(cloud.b.root_key)
    fresh = ram_b.create_role(ram_m().CreateRoleRequest(role_name="fresh", assume_role_policy_document=trust_ram(cloud.a.uid)))
    expect_error(lambda: cloud.assume(role_arn=fresh.body.role.arn), "EntityNotExist.Role", 404)
    cloud.world.clock.advance(5)
    assert cloud.assume(role_arn=fresh.body.role.arn).assumed_role_user.arn.endswith("assumed-role/fresh/acrx")


def test_get_caller_identity_for_root_and_user(cloud):
    root = cloud.sts(cloud.a.root_key).get_caller_identity().body
    assert (root.identity_type, root.account_id, root.arn) == ("Account", cloud.a.uid, f"acs:ram::{cloud.a.uid}:root")
    user = cloud.sts(cloud.alice).get_caller_identity().body
    assert (user.identity_type, user.arn) == ("RAMUser", f"acs:ram::{cloud.a.uid}:user/alice")
    assert user.user_id and user.principal_id == user.user_id


def test_unsigned_assume_role_is_refused(cloud):
    import urllib.error
    import urllib.request

    req = urllib.request.Request(f"{cloud.server.url}/?RoleArn={cloud.role.arn}&RoleSessionName=x", method="POST",
                                 headers={"x-acs-action": "AssumeRole", "x-acs-version": "2015-04-01"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=5)
    assert info.value.code == 400 and json.loads(info.value.read())["Code"] == "MissingAccessKeyId"


def test_assume_role_with_oidc_issues_a_session_without_an_access_key(cloud):
    world = cloud.world
    world.oidc.publish(ISSUER, KEY)
    provider = world.backend("ram", cloud.a.uid, "global").create_oidc_provider(
        "ack-rrsa-c0ffee", ISSUER, ["sts.aliyuncs.com"])
    trust = json.dumps({"Version": "1", "Statement": [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Federated": [provider.arn]},
        "Condition": {"StringEquals": {"oidc:aud": "sts.aliyuncs.com", "oidc:iss": ISSUER, "oidc:sub": SUBJECT}}}]})
    role = cloud.ram(cloud.a.root_key).create_role(ram_m().CreateRoleRequest(
        role_name="rrsa-helper", assume_role_policy_document=trust)).body.role
    now = int(world.clock.now())
    token = KEY.sign({"iss": ISSUER, "aud": "sts.aliyuncs.com", "sub": SUBJECT, "iat": now, "exp": now + 3600})

    anonymous = cloud.sts(("unused", "unused"))  # the Anonymous auth type sends no signature at all
    out = anonymous.assume_role_with_oidc(sts_m().AssumeRoleWithOIDCRequest(
        oidcprovider_arn=provider.arn, role_arn=role.arn, oidctoken=token, role_session_name="helper")).body
    assert out.oidctoken_info.issuer == ISSUER and out.oidctoken_info.subject == SUBJECT
    assert out.oidctoken_info.client_ids == "sts.aliyuncs.com"
    assert out.assumed_role_user.arn == f"acs:ram::{cloud.a.uid}:assumed-role/rrsa-helper/helper"
    creds = out.credentials
    who = cloud.sts((creds.access_key_id, creds.access_key_secret, creds.security_token)).get_caller_identity().body
    assert who.arn == out.assumed_role_user.arn
    assert world.calls.counts()["sts:AssumeRoleWithOIDC"] == 1
