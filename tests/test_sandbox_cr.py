"""Sandbox CR (ACR EE) through the official SDK client over HTTP, and the registry's auth side."""

from __future__ import annotations

import ipaddress
import json

import pytest

from acrx.sandbox.core.server import CloudServer
from acrx.sandbox.core.world import World
from acrx.sandbox.registry.images import ImageStore
from acrx.sandbox.services.cr import models as cr_models
from acrx.sandbox.services.cr.registry_auth import CrRegistryAuth
from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import error_code as _error

REGION = "cn-hangzhou"


class Env:
    def __init__(self, clock_scale: float = 0.0):
        self.world = World(seed=3, clock_scale=clock_scale)
        self.b = self.world.add_account("registry", REGION)
        self.other = self.world.add_account("cluster", REGION)
        vpcs = self.world.backend("vpc", self.b.uid, REGION)
        self.vpc = vpcs.seed_vpc("10.1.0.0/16")
        self.vsw = vpcs.seed_vswitch(self.vpc.vpc_id, "10.1.1.0/24", "cn-hangzhou-h")
        self.vpc2 = vpcs.seed_vpc("10.2.0.0/16")
        self.vsw2 = vpcs.seed_vswitch(self.vpc2.vpc_id, "10.2.1.0/24", "cn-hangzhou-h")
        foreign = self.world.backend("vpc", self.other.uid, REGION)
        self.foreign_vpc = foreign.seed_vpc("192.168.0.0/16")
        self.foreign_vsw = foreign.seed_vswitch(self.foreign_vpc.vpc_id, "192.168.1.0/24", "cn-hangzhou-h")
        self.cr = self.world.backend("cr", self.b.uid, REGION)
        self.inst = self.cr.seed_instance("acme")
        self.store = ImageStore()
        self.store.seed_defaults(self.inst.instance_id, "team")
        self.repo = self.cr.seed_repository(self.inst.instance_id, "team", "nginx", store=self.store)
        self.server = CloudServer(self.world).start()

    def client(self, key=None, product="alibabacloud_cr20181201"):
        return sdk_client(product, self.server.endpoint, key or self.b.root_key)

    def user(self, name: str, statements: list[dict] | None, *, assume_role_access: bool = False):
        """A RAM user of account B holding a custom policy; returns (ak, secret)."""
        from alibabacloud_ram20150501 import models as ram

        client = self.client(product="alibabacloud_ram20150501")
        client.create_user(ram.CreateUserRequest(user_name=name))
        if statements:
            doc = json.dumps({"Version": "1", "Statement": statements})
            client.create_policy(ram.CreatePolicyRequest(policy_name=f"{name}-policy", policy_document=doc))
            client.attach_policy_to_user(ram.AttachPolicyToUserRequest(policy_type="Custom",
                                                                       policy_name=f"{name}-policy", user_name=name))
        if assume_role_access:
            client.attach_policy_to_user(ram.AttachPolicyToUserRequest(
                policy_type="System", policy_name="AliyunSTSAssumeRoleAccess", user_name=name))
        key = client.create_access_key(ram.CreateAccessKeyRequest(user_name=name)).body.access_key
        return key.access_key_id, key.access_key_secret

    def stop(self):
        self.server.stop()


@pytest.fixture
def env():
    e = Env()
    yield e
    e.stop()


@pytest.fixture
def slow_env():
    e = Env(clock_scale=1.0)
    yield e
    e.stop()


def _m():
    from alibabacloud_cr20181201 import models

    return models


# -- instances and endpoints --------------------------------------------------------------------
def test_list_and_get_instance(env):
    m, client, iid = _m(), env.client(), env.inst.instance_id
    listed = client.list_instance(m.ListInstanceRequest()).body
    assert listed.is_success and listed.code == "success" and listed.total_count == 1
    assert listed.instances[0].instance_id == iid and listed.instances[0].instance_status == "RUNNING"
    got = client.get_instance(m.GetInstanceRequest(instance_id=iid)).body
    assert (got.instance_name, got.instance_specification) == ("acme", "Enterprise_Standard")
    assert _error(lambda: client.get_instance(m.GetInstanceRequest(instance_id="cri-missing"))) == ("INSTANCE_NOT_EXIST", 404)
    # Another account's key sees no such instance.
    foreign = env.client(env.other.root_key)
    assert _error(lambda: foreign.get_instance(m.GetInstanceRequest(instance_id=iid))) == ("INSTANCE_NOT_EXIST", 404)


def test_endpoints_and_internet_switch(env):
    m, client, iid = _m(), env.client(), env.inst.instance_id
    endpoints = {e.endpoint_type: e for e in client.list_instance_endpoint(
        m.ListInstanceEndpointRequest(instance_id=iid, module_name="Registry")).body.endpoints}
    assert endpoints["internet"].domains[0].domain == "acme-registry.cn-hangzhou.cr.aliyuncs.com"
    assert endpoints["vpc"].domains[0].domain == "acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com"
    assert endpoints["internet"].enable is False
    client.update_instance_endpoint_status(m.UpdateInstanceEndpointStatusRequest(
        instance_id=iid, endpoint_type="Internet", enable=True))   # EndpointType case-insensitive
    got = client.get_instance_endpoint(m.GetInstanceEndpointRequest(instance_id=iid, endpoint_type="internet")).body
    assert got.enable is True and got.status == "RUNNING"
    assert _error(lambda: client.update_instance_endpoint_status(m.UpdateInstanceEndpointStatusRequest(
        instance_id=iid, endpoint_type="vpc", enable=True))) == ("InvalidParameter.EndpointType", 400)
    assert _error(lambda: client.get_instance_endpoint(m.GetInstanceEndpointRequest(instance_id=iid))) == \
        ("MissingParameter", 400)


def test_write_actions_need_a_running_instance(env):
    m, client = _m(), env.client()
    stopped = env.cr.seed_instance("frozen", status="STOPPED")
    assert _error(lambda: client.update_instance_endpoint_status(m.UpdateInstanceEndpointStatusRequest(
        instance_id=stopped.instance_id, endpoint_type="internet", enable=True))) == ("INSTANCE_STATUS_NOT_SUPPORT", 400)
    assert _error(lambda: client.create_instance_vpc_endpoint_linked_vpc(m.CreateInstanceVpcEndpointLinkedVpcRequest(
        instance_id=stopped.instance_id, vpc_id=env.vpc.vpc_id, vswitch_id=env.vsw.vswitch_id))) == \
        ("INSTANCE_STATUS_NOT_SUPPORT", 400)


def test_acl_policies(env):
    m, client, iid = _m(), env.client(), env.inst.instance_id
    ok = client.create_instance_endpoint_acl_policy(m.CreateInstanceEndpointAclPolicyRequest(
        instance_id=iid, endpoint_type="internet", entry="47.1.2.3/32", comment="egress")).body
    assert ok.is_success and ok.code == "success"
    duplicate = client.create_instance_endpoint_acl_policy(m.CreateInstanceEndpointAclPolicyRequest(
        instance_id=iid, endpoint_type="internet", entry="47.1.2.3/32")).body
    assert duplicate.is_success is False and duplicate.code == cr_models.ACL_ENTRY_EXISTS
    client.create_instance_endpoint_acl_policy(m.CreateInstanceEndpointAclPolicyRequest(
        instance_id=iid, endpoint_type="internet",
        entries=[m.AccessControlEntry(entry="10.9.0.0/16", comment="office")]))
    entries = client.get_instance_endpoint(m.GetInstanceEndpointRequest(
        instance_id=iid, endpoint_type="internet")).body.acl_entries
    assert [(e.entry, e.comment) for e in entries] == [("47.1.2.3/32", "egress"), ("10.9.0.0/16", "office")]
    assert _error(lambda: client.create_instance_endpoint_acl_policy(m.CreateInstanceEndpointAclPolicyRequest(
        instance_id=iid, endpoint_type="internet", entry="not-a-cidr"))) == ("InvalidParameter.Entry", 400)
    client.delete_instance_endpoint_acl_policy(m.DeleteInstanceEndpointAclPolicyRequest(
        instance_id=iid, endpoint_type="internet", entry="47.1.2.3/32"))
    gone = client.delete_instance_endpoint_acl_policy(m.DeleteInstanceEndpointAclPolicyRequest(
        instance_id=iid, endpoint_type="internet", entry="47.1.2.3/32")).body
    assert gone.is_success is False and gone.code == cr_models.ACL_ENTRY_NOT_EXIST


def test_vpc_link_lifecycle(slow_env):
    env, m = slow_env, _m()
    client, iid = env.client(), env.inst.instance_id
    client.create_instance_vpc_endpoint_linked_vpc(m.CreateInstanceVpcEndpointLinkedVpcRequest(
        instance_id=iid, vpc_id=env.vpc.vpc_id, vswitch_id=env.vsw.vswitch_id))
    link = client.get_instance_vpc_endpoint(m.GetInstanceVpcEndpointRequest(instance_id=iid)).body.linked_vpcs[0]
    assert link.status == "CREATING"
    env.world.clock.advance(cr_models.VPC_LINK_SECONDS + 1)
    body = client.get_instance_vpc_endpoint(m.GetInstanceVpcEndpointRequest(instance_id=iid)).body
    link = body.linked_vpcs[0]
    assert link.status == "RUNNING" and ipaddress.ip_address(link.ip) in ipaddress.ip_network("10.1.1.0/24")
    assert body.domains == ["acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com"]
    assert cr_models.vpc_endpoint_records(env.world) == [
        ("acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com", link.ip, env.vpc.vpc_id, env.b.uid, REGION, "RUNNING")]
    again = client.create_instance_vpc_endpoint_linked_vpc(m.CreateInstanceVpcEndpointLinkedVpcRequest(
        instance_id=iid, vpc_id=env.vpc.vpc_id, vswitch_id=env.vsw.vswitch_id)).body
    assert again.is_success is False and again.code == cr_models.VPC_ALREADY_LINKED
    client.delete_instance_vpc_endpoint_linked_vpc(m.DeleteInstanceVpcEndpointLinkedVpcRequest(
        instance_id=iid, vpc_id=env.vpc.vpc_id, vswitch_id=env.vsw.vswitch_id))
    assert client.get_instance_vpc_endpoint(m.GetInstanceVpcEndpointRequest(instance_id=iid)).body.linked_vpcs == []
    missing = client.delete_instance_vpc_endpoint_linked_vpc(m.DeleteInstanceVpcEndpointLinkedVpcRequest(
        instance_id=iid, vpc_id=env.vpc.vpc_id, vswitch_id=env.vsw.vswitch_id)).body
    assert missing.code == "INSTANCE_ACCESS_NOT_EXIST" and missing.is_success is False


def test_vpc_link_rules(env):
    m, client = _m(), env.client()
    iid = env.inst.instance_id
    # The VPC must be the instance owner's, in the instance's region.
    assert _error(lambda: client.create_instance_vpc_endpoint_linked_vpc(m.CreateInstanceVpcEndpointLinkedVpcRequest(
        instance_id=iid, vpc_id=env.foreign_vpc.vpc_id, vswitch_id=env.foreign_vsw.vswitch_id))) == (
        cr_models.VPC_NOT_EXIST, 400)
    assert _error(lambda: client.create_instance_vpc_endpoint_linked_vpc(m.CreateInstanceVpcEndpointLinkedVpcRequest(
        instance_id=iid, vpc_id=env.vpc.vpc_id, vswitch_id=env.vsw2.vswitch_id))) == (cr_models.VSWITCH_NOT_EXIST, 400)
    failing = m.CreateInstanceVpcEndpointLinkedVpcRequest(instance_id=iid, vpc_id=env.vpc.vpc_id)
    assert _error(lambda: client.create_instance_vpc_endpoint_linked_vpc(failing)) == ("MissingParameter", 400)
    # An Enterprise_Basic instance links one VPC at most.
    basic = env.cr.seed_instance("small", spec="Enterprise_Basic")
    client.create_instance_vpc_endpoint_linked_vpc(m.CreateInstanceVpcEndpointLinkedVpcRequest(
        instance_id=basic.instance_id, vpc_id=env.vpc.vpc_id, vswitch_id=env.vsw.vswitch_id))
    over = client.create_instance_vpc_endpoint_linked_vpc(m.CreateInstanceVpcEndpointLinkedVpcRequest(
        instance_id=basic.instance_id, vpc_id=env.vpc2.vpc_id, vswitch_id=env.vsw2.vswitch_id)).body
    assert over.is_success is False and over.code == cr_models.VPC_LINK_QUOTA


def test_vpc_link_task_failure(slow_env):
    env, m = slow_env, _m()
    env.world.knobs.set(failing_tasks={"vpc_link"})
    env.client().create_instance_vpc_endpoint_linked_vpc(m.CreateInstanceVpcEndpointLinkedVpcRequest(
        instance_id=env.inst.instance_id, vpc_id=env.vpc.vpc_id, vswitch_id=env.vsw.vswitch_id))
    env.world.clock.advance(cr_models.VPC_LINK_SECONDS + 1)
    link = env.client().get_instance_vpc_endpoint(m.GetInstanceVpcEndpointRequest(
        instance_id=env.inst.instance_id)).body.linked_vpcs[0]
    assert link.status != "RUNNING"


# -- repositories -------------------------------------------------------------------------------
def test_namespaces_repositories_and_tags_match_the_registry(env):
    m, client, iid = _m(), env.client(), env.inst.instance_id
    namespaces = client.list_namespace(m.ListNamespaceRequest(instance_id=iid)).body
    assert [n.namespace_name for n in namespaces.namespaces] == ["team"] and namespaces.total_count == "1"
    repos = client.list_repository(m.ListRepositoryRequest(instance_id=iid, repo_namespace_name="team")).body
    assert [(r.repo_namespace_name, r.repo_name) for r in repos.repositories] == [("team", "nginx")]
    got = client.get_repository(m.GetRepositoryRequest(instance_id=iid, repo_namespace_name="team",
                                                        repo_name="nginx")).body
    assert got.repo_id == env.repo.repo_id
    tags = {i.tag: i for i in client.list_repo_tag(m.ListRepoTagRequest(instance_id=iid, repo_id=got.repo_id)).body.images}
    manifest = env.store.manifest(iid, "team/nginx", "v1")
    doc = json.loads(manifest.data)
    assert tags["v1"].digest == manifest.digest.split(":", 1)[1]
    assert tags["v1"].image_size == doc["config"]["size"] + sum(layer["size"] for layer in doc["layers"])
    assert set(tags) == set(env.store.tags(iid, "team/nginx"))
    assert _error(lambda: client.list_repo_tag(m.ListRepoTagRequest(instance_id=iid))) == ("MissingParameter", 400)
    assert _error(lambda: client.get_repository(m.GetRepositoryRequest(
        instance_id=iid, repo_namespace_name="team", repo_name="absent"))) == ("REPO_NOT_EXIST", 404)
    assert _error(lambda: client.list_repository(m.ListRepositoryRequest(
        instance_id=iid, repo_namespace_name="nobody"))) == ("NAMESPACE_NOT_EXIST", 404)


def test_static_tags_when_no_store(env):
    m = _m()
    repo = env.cr.seed_repository(env.inst.instance_id, "ops", "tool", {"1.0": ("sha256:" + "ab" * 32, 1234)})
    images = env.client().list_repo_tag(m.ListRepoTagRequest(instance_id=env.inst.instance_id,
                                                             repo_id=repo.repo_id)).body.images
    assert [(i.tag, i.digest, i.image_size) for i in images] == [("1.0", "ab" * 32, 1234)]


# -- GetAuthorizationToken and the registry's auth ----------------------------------------------
def test_root_gets_a_token_and_the_registry_accepts_it(env):
    m, iid = _m(), env.inst.instance_id
    body = env.client().get_authorization_token(m.GetAuthorizationTokenRequest(instance_id=iid, expires_in_hours=2)).body
    assert body.temp_username == "cr_temp_user" and body.authorization_token
    now_ms = env.world.clock.now() * 1000
    assert 2 * 3600 * 1000 - 5000 < body.expire_time - now_ms <= 2 * 3600 * 1000
    auth = CrRegistryAuth(env.world)
    session = auth.login(body.temp_username, body.authorization_token)
    assert session is not None and session.expires_at == pytest.approx(body.expire_time / 1000, abs=0.01)
    assert auth.login("cr_temp_user", "wrong") is None
    assert auth.login("someone", body.authorization_token) is None
    assert auth.can_pull(session, iid, "team", "nginx") is True
    other = env.cr.seed_instance("second")
    assert auth.can_pull(session, other.instance_id, "team", "nginx") is False   # bound to its instance
    assert auth.instance_for_host("acme-registry.cn-hangzhou.cr.aliyuncs.com") == iid
    assert auth.instance_for_host("ACME-registry-vpc.cn-hangzhou.cr.aliyuncs.com") == iid
    assert auth.instance_for_host("nobody-registry.cn-hangzhou.cr.aliyuncs.com") is None
    assert auth.region_for_instance(iid) == REGION
    env.world.clock.advance(2 * 3600 + 1)
    assert auth.login(body.temp_username, body.authorization_token) is None
    assert body.authorization_token not in repr(env.cr.tokens)


def test_token_needs_the_permission_on_all_resources(env):
    m, iid = _m(), env.inst.instance_id
    arn = f"acs:cr:{REGION}:{env.b.uid}:instance/{iid}"
    nobody = env.client(env.user("nobody", None))
    assert _error(lambda: nobody.get_authorization_token(m.GetAuthorizationTokenRequest(instance_id=iid))) == \
        ("NoPermission", 403)
    # Scoped to the instance: not enough, the action is checked on "*".
    scoped = env.client(env.user("scoped", [{"Effect": "Allow", "Action": "cr:GetAuthorizationToken", "Resource": arn}]))
    assert _error(lambda: scoped.get_authorization_token(m.GetAuthorizationTokenRequest(instance_id=iid))) == \
        ("NoPermission", 403)
    token_only = env.client(env.user("tokenonly", [{"Effect": "Allow", "Action": "cr:GetAuthorizationToken",
                                                     "Resource": "*"}]))
    body = token_only.get_authorization_token(m.GetAuthorizationTokenRequest(instance_id=iid)).body
    auth = CrRegistryAuth(env.world)
    session = auth.login(body.temp_username, body.authorization_token)
    assert session is not None and session.principal.name == "tokenonly"
    assert auth.can_pull(session, iid, "team", "nginx") is False   # no cr:PullRepository
    # Instance-level reads are checked on the instance ARN.
    assert _error(lambda: token_only.get_instance(m.GetInstanceRequest(instance_id=iid))) == ("NoPermission", 403)


def test_sts_session_caps_the_token_and_pull_follows_policy(env):
    from alibabacloud_ram20150501 import models as ram
    from alibabacloud_sts20150401 import models as sts

    m, iid = _m(), env.inst.instance_id
    trust = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                            "Principal": {"RAM": [f"acs:ram::{env.b.uid}:root"]}}]}
    pull = {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "cr:GetAuthorizationToken", "Resource": "*"},
        {"Effect": "Allow", "Action": "cr:PullRepository",
         "Resource": f"acs:cr:{REGION}:{env.b.uid}:repository/{iid}/team/*"}]}
    ram_client = env.client(product="alibabacloud_ram20150501")
    ram_client.create_role(ram.CreateRoleRequest(role_name="puller", assume_role_policy_document=json.dumps(trust)))
    ram_client.create_policy(ram.CreatePolicyRequest(policy_name="pull", policy_document=json.dumps(pull)))
    ram_client.attach_policy_to_role(ram.AttachPolicyToRoleRequest(policy_type="Custom", policy_name="pull",
                                                                   role_name="puller"))
    caller = env.user("hopper", None, assume_role_access=True)
    creds = env.client(caller, "alibabacloud_sts20150401").assume_role(sts.AssumeRoleRequest(
        role_arn=f"acs:ram::{env.b.uid}:role/puller", role_session_name="pull", duration_seconds=900)).body.credentials
    session_client = env.client((creds.access_key_id, creds.access_key_secret, creds.security_token))
    body = session_client.get_authorization_token(m.GetAuthorizationTokenRequest(instance_id=iid, expires_in_hours=5)).body
    now_ms = env.world.clock.now() * 1000
    assert body.expire_time - now_ms <= 900 * 1000   # capped at the STS session's expiry
    auth = CrRegistryAuth(env.world)
    session = auth.login(body.temp_username, body.authorization_token)
    assert session.principal.kind == "assumed-role"
    assert auth.can_pull(session, iid, "team", "nginx") is True
    assert auth.can_pull(session, iid, "other", "nginx") is False
    env.world.clock.advance(901)
    assert auth.login(body.temp_username, body.authorization_token) is None


def test_registry_server_pulls_with_a_token_from_get_authorization_token(env):
    """The whole dance against the sandbox registry server: token endpoint, then the manifest."""
    import base64
    import urllib.error
    import urllib.request

    from acrx.sandbox.registry.server import RegistryServer, service_for

    m, iid = _m(), env.inst.instance_id
    auth = CrRegistryAuth(env.world)
    registry = RegistryServer(env.store, auth, auth.instance_for_host, auth.region_for_instance,
                              clock=env.world.clock.now).start()
    try:
        body = env.client().get_authorization_token(m.GetAuthorizationTokenRequest(instance_id=iid)).body
        basic = base64.b64encode(f"{body.temp_username}:{body.authorization_token}".encode()).decode()
        query = f"service={service_for(REGION, iid)}&scope=repository:team/nginx:pull"
        request = urllib.request.Request(f"{registry.realm(REGION)}?{query}", headers={"Authorization": f"Basic {basic}"})
        token = json.loads(urllib.request.urlopen(request, timeout=5).read())["token"]
        manifest = urllib.request.Request(
            f"{registry.url}/v2/team/nginx/manifests/v1",
            headers={"Authorization": f"Bearer {token}", "Host": env.inst.public_domain,
                     "Accept": "application/vnd.docker.distribution.manifest.v2+json"})
        answer = urllib.request.urlopen(manifest, timeout=5)
        assert answer.headers["Docker-Content-Digest"] == env.store.manifest(iid, "team/nginx", "v1").digest
        wrong = base64.b64encode(f"{body.temp_username}:not-the-token".encode()).decode()
        bad = urllib.request.Request(f"{registry.realm(REGION)}?{query}", headers={"Authorization": f"Basic {wrong}"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(bad, timeout=5)
        assert info.value.code == 401
    finally:
        registry.stop()
