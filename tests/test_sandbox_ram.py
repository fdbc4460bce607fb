"""Sandbox RAM through the official alibabacloud_ram20150501 client over HTTP."""

from __future__ import annotations

import json

import pytest

from acrx.sandbox.core.world import World
from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import expect_error, serving

TRUST_ECS = json.dumps({"Version": "1", "Statement": [
    {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": ["ecs.aliyuncs.com"]}}]})


def doc(actions, resource="*", effect="Allow") -> str:
    return json.dumps({"Version": "1", "Statement": [{"Action": actions, "Effect": effect, "Resource": resource}]})


@pytest.fixture
def cloud():
    world = World(seed=3)
    account = world.add_account("cluster", "cn-hangzhou")
    with serving(world) as server:
        yield world, server, account


@pytest.fixture
def ram(cloud):
    _, server, account = cloud
    return sdk_client("alibabacloud_ram20150501", server.endpoint, account.root_key)


def m():
    from alibabacloud_ram20150501 import models
    return models


# -- roles --------------------------------------------------------------------------------------
def test_role_lifecycle(ram, cloud):
    _, _, account = cloud
    created = ram.create_role(m().CreateRoleRequest(role_name="acrx-pull", assume_role_policy_document=TRUST_ECS,
                                                    description="pulls images", max_session_duration=7200)).body.role
    assert created.arn == f"acs:ram::{account.uid}:role/acrx-pull"
    assert created.max_session_duration == 7200 and created.role_id.isdigit()

    got = ram.get_role(m().GetRoleRequest(role_name="acrx-pull")).body.role
    assert json.loads(got.assume_role_policy_document) == json.loads(TRUST_ECS)
    assert (got.description, got.role_id) == ("pulls images", created.role_id)

    updated = ram.update_role(m().UpdateRoleRequest(role_name="acrx-pull", new_max_session_duration=43200,
                                                    new_description="changed")).body.role
    assert (updated.max_session_duration, updated.description) == (43200, "changed")

    listed = ram.list_roles(m().ListRolesRequest()).body
    assert [r.role_name for r in listed.roles.role] == ["acrx-pull"] and listed.is_truncated is False

    ram.delete_role(m().DeleteRoleRequest(role_name="acrx-pull"))
    expect_error(lambda: ram.get_role(m().GetRoleRequest(role_name="acrx-pull")), "EntityNotExist.Role", 404)
    expect_error(lambda: ram.delete_role(m().DeleteRoleRequest(role_name="acrx-pull")), "EntityNotExist.Role", 404)


@pytest.mark.parametrize("kwargs, code", [
    (dict(role_name="bad_name!"), "InvalidParameter.RoleName"),
    (dict(role_name="x" * 65), "InvalidParameter.RoleName"),
    (dict(role_name="ok", assume_role_policy_document="{not json"), "MalformedPolicyDocument"),
    (dict(role_name="ok", assume_role_policy_document=doc("sts:AssumeRole")), "MalformedPolicyDocument"),
    (dict(role_name="ok", max_session_duration=3599), "InvalidParameter.MaxSessionDuration"),
    (dict(role_name="ok", max_session_duration=43201), "InvalidParameter.MaxSessionDuration"),
], ids=["bad-chars", "too-long", "trust-not-json", "trust-without-principal", "duration-low", "duration-high"])
def test_create_role_validation(ram, kwargs, code):
    request = m().CreateRoleRequest(**{"assume_role_policy_document": TRUST_ECS, **kwargs})
    expect_error(lambda: ram.create_role(request), code, 400)


def test_duplicate_role_and_bad_update(ram):
    ram.create_role(m().CreateRoleRequest(role_name="r1", assume_role_policy_document=TRUST_ECS))
    expect_error(lambda: ram.create_role(m().CreateRoleRequest(role_name="r1", assume_role_policy_document=TRUST_ECS)),
                 "EntityAlreadyExists.Role", 409)
    expect_error(lambda: ram.update_role(m().UpdateRoleRequest(role_name="r1", new_max_session_duration=60)),
                 "InvalidParameter.MaxSessionDuration", 400)
    expect_error(lambda: ram.update_role(m().UpdateRoleRequest(role_name="r1", new_assume_role_policy_document="[]")),
                 "MalformedPolicyDocument", 400)


def test_list_roles_pages_with_marker(ram):
    for name in ("a1", "a2", "a3"):
        ram.create_role(m().CreateRoleRequest(role_name=name, assume_role_policy_document=TRUST_ECS))
    first = ram.list_roles(m().ListRolesRequest(max_items=2)).body
    assert [r.role_name for r in first.roles.role] == ["a1", "a2"] and first.is_truncated
    second = ram.list_roles(m().ListRolesRequest(max_items=2, marker=first.marker)).body
    assert [r.role_name for r in second.roles.role] == ["a3"] and second.is_truncated is False


# -- policies -----------------------------------------------------------------------------------
def test_policy_versions_limit_rotation_and_default(ram):
    ram.create_policy(m().CreatePolicyRequest(policy_name="acrx-cr", policy_document=doc("cr:GetAuthorizationToken")))
    for n in range(2, 6):
        v = ram.create_policy_version(m().CreatePolicyVersionRequest(
            policy_name="acrx-cr", policy_document=doc(f"cr:Get{n}"), set_as_default=(n == 3))).body.policy_version
        assert v.version_id == f"v{n}"
    expect_error(lambda: ram.create_policy_version(m().CreatePolicyVersionRequest(
        policy_name="acrx-cr", policy_document=doc("cr:X"))), "LimitExceeded.Policy.Version", 409)

    rotated = ram.create_policy_version(m().CreatePolicyVersionRequest(
        policy_name="acrx-cr", policy_document=doc("cr:X"), set_as_default=True,
        rotate_strategy="DeleteOldestNonDefaultVersionWhenLimitExceeded")).body.policy_version
    assert rotated.version_id == "v6" and rotated.is_default_version
    versions = ram.list_policy_versions(m().ListPolicyVersionsRequest(policy_name="acrx-cr", policy_type="Custom"))
    assert [v.version_id for v in versions.body.policy_versions.policy_version] == ["v2", "v3", "v4", "v5", "v6"]

    got = ram.get_policy(m().GetPolicyRequest(policy_name="acrx-cr", policy_type="Custom")).body
    assert got.policy.default_version == "v6" and json.loads(got.default_policy_version.policy_document) == json.loads(doc("cr:X"))

    expect_error(lambda: ram.delete_policy_version(m().DeletePolicyVersionRequest(policy_name="acrx-cr", version_id="v6")),
                 "DeleteConflict.Policy.Version.Default", 409)
    ram.set_default_policy_version(m().SetDefaultPolicyVersionRequest(policy_name="acrx-cr", version_id="v3"))
    v3 = ram.get_policy_version(m().GetPolicyVersionRequest(policy_name="acrx-cr", policy_type="Custom", version_id="v3"))
    assert v3.body.policy_version.is_default_version is True
    ram.delete_policy_version(m().DeletePolicyVersionRequest(policy_name="acrx-cr", version_id="v6"))
    expect_error(lambda: ram.get_policy_version(m().GetPolicyVersionRequest(
        policy_name="acrx-cr", policy_type="Custom", version_id="v6")), "EntityNotExist.Policy.Version", 404)

    expect_error(lambda: ram.delete_policy(m().DeletePolicyRequest(policy_name="acrx-cr")),
                 "DeleteConflict.Policy.Version", 409)
    ram.delete_policy(m().DeletePolicyRequest(policy_name="acrx-cr", cascading_delete=True))
    expect_error(lambda: ram.get_policy(m().GetPolicyRequest(policy_name="acrx-cr", policy_type="Custom")),
                 "EntityNotExist.Policy", 404)


def test_policy_validation_and_duplicates(ram):
    expect_error(lambda: ram.create_policy(m().CreatePolicyRequest(policy_name="bad.name", policy_document=doc("cr:*"))),
                 "InvalidParameter.PolicyName", 400)
    expect_error(lambda: ram.create_policy(m().CreatePolicyRequest(policy_name="p", policy_document='{"Version":"1"}')),
                 "MalformedPolicyDocument", 400)
    ram.create_policy(m().CreatePolicyRequest(policy_name="p", policy_document=doc("cr:*")))
    expect_error(lambda: ram.create_policy(m().CreatePolicyRequest(policy_name="p", policy_document=doc("cr:*"))),
                 "EntityAlreadyExists.Policy", 409)


def test_system_policies_exist_and_cannot_change(ram):
    got = ram.get_policy(m().GetPolicyRequest(policy_name="AliyunSTSAssumeRoleAccess", policy_type="System")).body
    statement = json.loads(got.policy.policy_document)["Statement"][0]
    assert (statement["Action"], statement["Resource"]) == ("sts:AssumeRole", "*")
    full = ram.get_policy(m().GetPolicyRequest(policy_name="AliyunContainerRegistryFullAccess", policy_type="System"))
    assert json.loads(full.body.policy.policy_document)["Statement"][0]["Action"] == "cr:*"
    ram.get_policy(m().GetPolicyRequest(policy_name="AliyunContainerRegistryReadOnlyAccess", policy_type="System"))
    expect_error(lambda: ram.create_policy_version(m().CreatePolicyVersionRequest(
        policy_name="AliyunSTSAssumeRoleAccess", policy_document=doc("*"))), "EntityNotExist.Policy", 404)
    expect_error(lambda: ram.delete_policy(m().DeletePolicyRequest(policy_name="AliyunSTSAssumeRoleAccess")),
                 "EntityNotExist.Policy", 404)
    expect_error(lambda: ram.create_policy(m().CreatePolicyRequest(
        policy_name="AliyunSTSAssumeRoleAccess", policy_document=doc("*"))), "EntityAlreadyExists.Policy", 409)


def test_attach_detach_policies_to_role(ram):
    ram.create_role(m().CreateRoleRequest(role_name="r", assume_role_policy_document=TRUST_ECS))
    ram.create_policy(m().CreatePolicyRequest(policy_name="custom", policy_document=doc("cr:*")))
    attach = m().AttachPolicyToRoleRequest(policy_type="System", policy_name="AliyunSTSAssumeRoleAccess", role_name="r")
    ram.attach_policy_to_role(attach)
    ram.attach_policy_to_role(m().AttachPolicyToRoleRequest(policy_type="Custom", policy_name="custom", role_name="r"))
    expect_error(lambda: ram.attach_policy_to_role(attach), "EntityAlreadyExists.Role.Policy", 409)
    expect_error(lambda: ram.attach_policy_to_role(m().AttachPolicyToRoleRequest(
        policy_type="Custom", policy_name="nope", role_name="r")), "EntityNotExist.Policy", 404)
    expect_error(lambda: ram.attach_policy_to_role(m().AttachPolicyToRoleRequest(
        policy_type="Weird", policy_name="custom", role_name="r")), "InvalidParameter.PolicyType", 400)

    listed = ram.list_policies_for_role(m().ListPoliciesForRoleRequest(role_name="r")).body.policies.policy
    assert {(p.policy_name, p.policy_type) for p in listed} == {("AliyunSTSAssumeRoleAccess", "System"), ("custom", "Custom")}
    assert ram.get_policy(m().GetPolicyRequest(policy_name="custom", policy_type="Custom")).body.policy.attachment_count == 1

    expect_error(lambda: ram.delete_role(m().DeleteRoleRequest(role_name="r")), "DeleteConflict.Role.Policy", 409)
    expect_error(lambda: ram.delete_policy(m().DeletePolicyRequest(policy_name="custom")), "DeleteConflict.Policy.Role", 409)
    ram.detach_policy_from_role(m().DetachPolicyFromRoleRequest(policy_type="System", policy_name="AliyunSTSAssumeRoleAccess", role_name="r"))
    ram.detach_policy_from_role(m().DetachPolicyFromRoleRequest(policy_type="Custom", policy_name="custom", role_name="r"))
    expect_error(lambda: ram.detach_policy_from_role(m().DetachPolicyFromRoleRequest(
        policy_type="Custom", policy_name="custom", role_name="r")), "EntityNotExist.Role.Policy", 404)
    ram.delete_role(m().DeleteRoleRequest(role_name="r"))


# -- users and AccessKeys -----------------------------------------------------------------------
def test_user_access_keys_lifecycle(ram, cloud):
    from tests.sandbox_clients import sdk_client as client

    _, server, _ = cloud
    user = ram.create_user(m().CreateUserRequest(user_name="deployer@acrx", display_name="Deployer")).body.user
    assert user.user_id and ram.get_user(m().GetUserRequest(user_name="deployer@acrx")).body.user.display_name == "Deployer"
    expect_error(lambda: ram.create_user(m().CreateUserRequest(user_name="deployer@acrx")), "EntityAlreadyExists.User", 409)
    expect_error(lambda: ram.create_user(m().CreateUserRequest(user_name="no spaces")), "InvalidParameter.UserName", 400)

    first = ram.create_access_key(m().CreateAccessKeyRequest(user_name="deployer@acrx")).body.access_key
    assert first.access_key_secret and first.status == "Active"
    ram.create_access_key(m().CreateAccessKeyRequest(user_name="deployer@acrx"))
    expect_error(lambda: ram.create_access_key(m().CreateAccessKeyRequest(user_name="deployer@acrx")),
                 "LimitExceeded.User.AccessKey", 409)
    raw = ram.list_access_keys(m().ListAccessKeysRequest(user_name="deployer@acrx")).body.to_map()
    assert len(raw["AccessKeys"]["AccessKey"]) == 2 and first.access_key_secret not in json.dumps(raw)

    # The new key signs calls as the user: denied until a policy allows it.
    as_user = client("alibabacloud_ram20150501", server.endpoint, (first.access_key_id, first.access_key_secret))
    denied = expect_error(lambda: as_user.get_user(m().GetUserRequest(user_name="deployer@acrx")), "NoPermission", 403)
    assert denied.access_denied_detail["AuthAction"] == "ram:GetUser"
    ram.create_policy(m().CreatePolicyRequest(policy_name="read-users", policy_document=doc("ram:GetUser")))
    ram.attach_policy_to_user(m().AttachPolicyToUserRequest(policy_type="Custom", policy_name="read-users", user_name="deployer@acrx"))
    expect_error(lambda: ram.attach_policy_to_user(m().AttachPolicyToUserRequest(
        policy_type="Custom", policy_name="read-users", user_name="deployer@acrx")), "EntityAlreadyExists.User.Policy", 409)
    assert as_user.get_user(m().GetUserRequest(user_name="deployer@acrx")).body.user.user_name == "deployer@acrx"
    listed = ram.list_policies_for_user(m().ListPoliciesForUserRequest(user_name="deployer@acrx")).body.policies.policy
    assert [p.policy_name for p in listed] == ["read-users"]

    ram.update_access_key(m().UpdateAccessKeyRequest(user_name="deployer@acrx", user_access_key_id=first.access_key_id,
                                                      status="Inactive"))
    expect_error(lambda: as_user.get_user(m().GetUserRequest(user_name="deployer@acrx")), "InvalidAccessKeyId.Inactive", 403)

    expect_error(lambda: ram.delete_user(m().DeleteUserRequest(user_name="deployer@acrx")), "DeleteConflict.User.AccessKey", 409)
    for key in ram.list_access_keys(m().ListAccessKeysRequest(user_name="deployer@acrx")).body.access_keys.access_key:
        ram.delete_access_key(m().DeleteAccessKeyRequest(user_name="deployer@acrx", user_access_key_id=key.access_key_id))
    expect_error(lambda: as_user.get_user(m().GetUserRequest(user_name="deployer@acrx")), "InvalidAccessKeyId.NotFound", 404)
    expect_error(lambda: ram.delete_access_key(m().DeleteAccessKeyRequest(
        user_name="deployer@acrx", user_access_key_id=first.access_key_id)), "EntityNotExist.AccessKey", 404)

    expect_error(lambda: ram.delete_user(m().DeleteUserRequest(user_name="deployer@acrx")), "DeleteConflict.User.Policy", 409)
    ram.detach_policy_from_user(m().DetachPolicyFromUserRequest(policy_type="Custom", policy_name="read-users", user_name="deployer@acrx"))
    ram.delete_user(m().DeleteUserRequest(user_name="deployer@acrx"))
    expect_error(lambda: ram.get_user(m().GetUserRequest(user_name="deployer@acrx")), "EntityNotExist.User", 404)


# -- tags ---------------------------------------------------------------------------------------
def test_role_tags_mark_what_acrx_owns(ram):
    ram.create_role(m().CreateRoleRequest(role_name="owned", assume_role_policy_document=TRUST_ECS,
                                          tag=[m().CreateRoleRequestTag(key="acrx:managed", value="true")]))
    ram.create_role(m().CreateRoleRequest(role_name="foreign", assume_role_policy_document=TRUST_ECS))
    ram.tag_resources(m().TagResourcesRequest(resource_type="role", resource_names=["foreign"],
                                              tag=[m().TagResourcesRequestTag(key="team", value="infra")]))

    managed = ram.list_roles(m().ListRolesRequest(tag=[m().ListRolesRequestTag(key="acrx:managed", value="true")]))
    assert [r.role_name for r in managed.body.roles.role] == ["owned"]
    assert managed.body.roles.role[0].tags.tag[0].tag_key == "acrx:managed"

    rows = ram.list_tag_resources(m().ListTagResourcesRequest(resource_type="role")).body.tag_resources
    assert {(r.resource_name, r.tag_key, r.tag_value) for r in rows} == {("owned", "acrx:managed", "true"),
                                                                         ("foreign", "team", "infra")}
    ram.untag_resources(m().UntagResourcesRequest(resource_type="role", resource_names=["foreign"], tag_keys=["team"]))
    rows = ram.list_tag_resources(m().ListTagResourcesRequest(resource_type="role", resource_names=["foreign"]))
    assert rows.body.tag_resources == []
    expect_error(lambda: ram.tag_resources(m().TagResourcesRequest(
        resource_type="role", resource_names=["ghost"], tag=[m().TagResourcesRequestTag(key="k", value="v")])),
        "EntityNotExist.Role", 404)


# -- eventual consistency -----------------------------------------------------------------------
def test_new_role_and_policy_are_invisible_until_the_delay_passes(ram, cloud):
    world, _, _ = cloud
    world.knobs.set(consistency_delay_s=5)
    ram.create_role(m().CreateRoleRequest(role_name="slow", assume_role_policy_document=TRUST_ECS))
    ram.create_policy(m().CreatePolicyRequest(policy_name="slow-p", policy_document=doc("cr:*")))
    expect_error(lambda: ram.get_role(m().GetRoleRequest(role_name="slow")), "EntityNotExist.Role", 404)
    expect_error(lambda: ram.get_policy(m().GetPolicyRequest(policy_name="slow-p", policy_type="Custom")),
                 "EntityNotExist.Policy", 404)
    assert ram.list_roles(m().ListRolesRequest()).body.roles.role == []
    world.clock.advance(5)
    assert ram.get_role(m().GetRoleRequest(role_name="slow")).body.role.role_name == "slow"
    assert ram.get_policy(m().GetPolicyRequest(policy_name="slow-p", policy_type="Custom")).body.policy.policy_name == "slow-p"


def test_writes_are_recorded_in_the_call_log(ram, cloud):
    world, _, _ = cloud
    ram.create_role(m().CreateRoleRequest(role_name="logged", assume_role_policy_document=TRUST_ECS))
    ram.get_role(m().GetRoleRequest(role_name="logged"))
    writes = [(c.action, c.writes) for c in world.calls.calls() if c.service == "ram"]
    assert writes == [("CreateRole", True), ("GetRole", False)]
