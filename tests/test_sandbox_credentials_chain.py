"""Independent clients against the sandbox STS and RAM: the alibabacloud_credentials providers
(whose own AssumeRole is v1-signed) and the legacy aliyun-python-sdk-core CommonRequest."""

from __future__ import annotations

import json

import pytest

from acrx.sandbox.core.oidc import SigningKey
from acrx.sandbox.core.server import CloudServer
from acrx.sandbox.core.world import World
from tests.sandbox_clients import sdk_client

ISSUER = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/cafe"
SUBJECT = "system:serviceaccount:kube-system:aliyun-acr-credential-helper"


def rm():
    from alibabacloud_ram20150501 import models
    return models


@pytest.fixture
def cloud():
    world = World(seed=9)
    a = world.add_account("cluster", "cn-hangzhou")
    b = world.add_account("registry", "cn-hangzhou")
    server = CloudServer(world).start()
    ram_a = sdk_client("alibabacloud_ram20150501", server.endpoint, a.root_key)
    ram_b = sdk_client("alibabacloud_ram20150501", server.endpoint, b.root_key)
    ram_a.create_user(rm().CreateUserRequest(user_name="deployer"))
    key = ram_a.create_access_key(rm().CreateAccessKeyRequest(user_name="deployer")).body.access_key
    ram_a.attach_policy_to_user(rm().AttachPolicyToUserRequest(
        policy_type="System", policy_name="AliyunSTSAssumeRoleAccess", user_name="deployer"))
    trust = json.dumps({"Version": "1", "Statement": [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"RAM": [f"acs:ram::{a.uid}:user/deployer"]}}]})
    role = ram_b.create_role(rm().CreateRoleRequest(role_name="acrx-deployer", assume_role_policy_document=trust)).body.role
    ram_b.create_policy(rm().CreatePolicyRequest(policy_name="read-roles", policy_document=json.dumps(
        {"Version": "1", "Statement": [{"Action": "ram:GetRole", "Effect": "Allow", "Resource": "*"}]})))
    ram_b.attach_policy_to_role(rm().AttachPolicyToRoleRequest(
        policy_type="Custom", policy_name="read-roles", role_name="acrx-deployer"))
    yield world, server, a, b, (key.access_key_id, key.access_key_secret), role
    server.stop()


def test_ram_role_arn_provider_chains_into_account_b(cloud):
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.provider import RamRoleArnCredentialsProvider, StaticAKCredentialsProvider

    world, server, _, b, (ak, sk), role = cloud
    provider = RamRoleArnCredentialsProvider(
        credentials_provider=StaticAKCredentialsProvider(access_key_id=ak, access_key_secret=sk),
        role_arn=role.arn, role_session_name="acrx-chain", duration_seconds=900,
        sts_endpoint=f"http://{server.endpoint}")
    credential = CredentialClient(provider=provider)
    ram = sdk_client("alibabacloud_ram20150501", server.endpoint, None, credential=credential)
    assert ram.get_role(rm().GetRoleRequest(role_name="acrx-deployer")).body.role.arn == role.arn

    who = sdk_client("alibabacloud_sts20150401", server.endpoint, None, credential=credential).get_caller_identity()
    assert who.body.arn == f"acs:ram::{b.uid}:assumed-role/acrx-deployer/acrx-chain"
    assert world.calls.counts()["sts:AssumeRole"] >= 1


def test_oidc_role_arn_provider_reads_the_token_file(cloud, tmp_path):
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.provider import OIDCRoleArnCredentialsProvider

    world, server, a, _, _, _ = cloud
    key = SigningKey()
    world.oidc.publish(ISSUER, key)
    provider_arn = world.backend("ram", a.uid, "global").create_oidc_provider(
        "ack-rrsa-cafe", ISSUER, ["sts.aliyuncs.com"]).arn
    trust = json.dumps({"Version": "1", "Statement": [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Federated": [provider_arn]},
        "Condition": {"StringEquals": {"oidc:aud": "sts.aliyuncs.com", "oidc:sub": SUBJECT}}}]})
    role = sdk_client("alibabacloud_ram20150501", server.endpoint, a.root_key).create_role(
        rm().CreateRoleRequest(role_name="rrsa-helper", assume_role_policy_document=trust)).body.role
    now = int(world.clock.now())
    token_file = tmp_path / "token"
    token_file.write_text(key.sign({"iss": ISSUER, "aud": "sts.aliyuncs.com", "sub": SUBJECT, "iat": now,
                                    "exp": now + 3600}))

    provider = OIDCRoleArnCredentialsProvider(role_arn=role.arn, oidc_provider_arn=provider_arn,
                                              oidc_token_file_path=str(token_file), role_session_name="helper",
                                              sts_endpoint=f"http://{server.endpoint}")
    sts = sdk_client("alibabacloud_sts20150401", server.endpoint, None, credential=CredentialClient(provider=provider))
    assert sts.get_caller_identity().body.arn == f"acs:ram::{a.uid}:assumed-role/rrsa-helper/helper"


# -- the legacy core SDK (v1 HMAC-SHA1 signatures) ----------------------------------------------
def _legacy(server, ak, sk, version, action, params=None):
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    client = AcsClient(ak, sk, "cn-hangzhou", auto_retry=False, timeout=5)
    request = CommonRequest(domain=server.endpoint, version=version, action_name=action)
    request.set_protocol_type("http")
    request.set_method("POST")
    for name, value in (params or {}).items():
        request.add_query_param(name, value)
    return json.loads(client.do_action_with_exception(request))


def test_legacy_client_calls_ram_and_sts(cloud):
    _, server, _, b, _, role = cloud
    key = b.root_key
    got = _legacy(server, key.access_key_id, key.secret, "2015-05-01", "GetRole", {"RoleName": "acrx-deployer"})
    assert got["Role"]["Arn"] == role.arn
    who = _legacy(server, key.access_key_id, key.secret, "2015-04-01", "GetCallerIdentity")
    assert (who["IdentityType"], who["AccountId"]) == ("Account", b.uid)


def test_legacy_client_wrong_signature_is_refused(cloud):
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    _, server, _, b, _, _ = cloud
    with pytest.raises(ServerException) as info:
        _legacy(server, b.root_key.access_key_id, "not-the-secret", "2015-04-01", "GetCallerIdentity")
    assert info.value.get_error_code() == "SignatureDoesNotMatch"
    assert info.value.get_http_status() == 400


def test_legacy_client_sees_ram_errors(cloud):
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    _, server, _, b, _, _ = cloud
    with pytest.raises(ServerException) as info:
        _legacy(server, b.root_key.access_key_id, b.root_key.secret, "2015-05-01", "GetRole", {"RoleName": "ghost"})
    assert (info.value.get_error_code(), info.value.get_http_status()) == ("EntityNotExist.Role", 404)
