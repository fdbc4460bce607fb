"""The RAM/STS/CS/CR adapters and CloudSession against a real sandbox CloudServer, two accounts."""

from __future__ import annotations

import json
import time

import pytest

from acrx.cloud.credentials import Secret
from acrx.cloud.retry import RetryPolicy
from acrx.cloud.sandbox_target import SandboxTarget
from acrx.cloud.session import CloudSession
from acrx.errors import CloudError, UsageError
from acrx.sandbox.core.server import CloudServer
from acrx.sandbox.core.world import World

REGION = "cn-hangzhou"


class Sandbox:
    def __init__(self, tmp_path):
        self.world = World(seed=11, clock_scale=0.0)
        self.a = self.world.add_account("cluster", REGION)
        self.b = self.world.add_account("registry", REGION)
        self.server = CloudServer(self.world).start()
        self.dir = tmp_path
        lines = [f"export ACRX_SANDBOX_ENDPOINT={self.server.endpoint}",
                 "export ACRX_SANDBOX_REGISTRY_ENDPOINT=http://127.0.0.1:1"]
        for acct in (self.a, self.b):
            key = acct.alias.upper()
            lines += [f"export ACRX_SANDBOX_{key}_UID={acct.uid}",
                      f"export ACRX_SANDBOX_{key}_ACCESS_KEY_ID={acct.root_key.access_key_id}",
                      f"export ACRX_SANDBOX_{key}_ACCESS_KEY_SECRET='{acct.root_key.secret}'"]
        (tmp_path / "sandbox.env").write_text("\n".join(lines) + "\n")
        # Cluster in A; instance (with a VPC to link) in B.
        vpc_a = self.world.backend("vpc", self.a.uid, REGION).seed_vpc("192.168.0.0/16")
        vsw_a = self.world.backend("vpc", self.a.uid, REGION).seed_vswitch(vpc_a.vpc_id, "192.168.1.0/24",
                                                                          "cn-hangzhou-h")
        self.cluster = self.world.backend("cs", self.a.uid, REGION).seed_cluster(
            "demo", vpc_id=vpc_a.vpc_id, vswitch_ids=[vsw_a.vswitch_id])
        # Account A authorized AliyunCSManagedAcrRole, which CS's addon precheck wants (issue 13).
        from acrx.sandbox.services.cs import precheck
        precheck.seed_role(self.world, self.a.uid)
        vpc_backend_b = self.world.backend("vpc", self.b.uid, REGION)
        self.vpc_b = vpc_backend_b.seed_vpc("10.0.0.0/16")
        self.vsw_b = vpc_backend_b.seed_vswitch(self.vpc_b.vpc_id, "10.0.1.0/24", "cn-hangzhou-h")
        cr = self.world.backend("cr", self.b.uid, REGION)
        self.instance = cr.seed_instance("acme")
        cr.seed_repository(self.instance.instance_id, "demo", "nginx", {"1.25": ("sha256:" + "a" * 64, 1234)})

    def config(self, *, cluster_uid=None, registry: dict | None = None, registry_alias_keys="REGISTRY"):
        from acrx.config.model import AcrxConfig

        def env(key):
            return {"env": {"access_key_id": f"ACRX_SANDBOX_{key}_ACCESS_KEY_ID",
                            "access_key_secret": f"ACRX_SANDBOX_{key}_ACCESS_KEY_SECRET"}}

        cluster = env("CLUSTER")
        if cluster_uid:
            cluster["uid"] = cluster_uid
        return AcrxConfig.model_validate({
            "accounts": {"cluster": cluster, "registry": registry or env(registry_alias_keys)},
            "cluster": {"account": "cluster", "id": self.cluster.cluster_id, "region": REGION},
            "registries": [{"account": "registry", "instance_id": self.instance.instance_id, "region": REGION}],
        })

    def session(self, config=None) -> CloudSession:
        return CloudSession(config or self.config(), SandboxTarget.load(self.dir),
                            retry_policy=RetryPolicy(budget_s=5, initial_s=0.01))


@pytest.fixture
def sbx(tmp_path):
    box = Sandbox(tmp_path)
    yield box
    box.server.stop()


# -- accounts ------------------------------------------------------------------------------------
def test_uids_are_learned_with_get_caller_identity(sbx):
    session = sbx.session()
    assert session.uid("cluster") == sbx.a.uid
    assert session.uid("registry") == sbx.b.uid
    assert not session.same_account()
    session.uid("cluster")
    # The server logs a call after answering it: give the log a moment before counting.
    deadline = time.monotonic() + 30
    while len(sbx.world.calls.calls()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert [c.action for c in sbx.world.calls.calls()] == ["GetCallerIdentity"] * 2  # learned once each


def test_configured_uid_is_checked(sbx):
    assert sbx.session(sbx.config(cluster_uid=sbx.a.uid)).uid("cluster") == sbx.a.uid
    with pytest.raises(UsageError) as info:
        sbx.session(sbx.config(cluster_uid="1111222233334444")).uid("cluster")
    assert info.value.field == "accounts.cluster.uid"
    assert sbx.a.uid in str(info.value) and "1111222233334444" in str(info.value)
    assert sbx.a.root_key.secret not in str(info.value)


def test_same_account_when_both_aliases_use_one_account(sbx):
    session = sbx.session(sbx.config(registry_alias_keys="CLUSTER"))
    assert session.same_account()


def test_missing_env_variable_names_the_variable(sbx):
    cfg = sbx.config(registry={"env": {"access_key_id": "ACRX_TEST_NOT_SET_ID",
                                       "access_key_secret": "ACRX_TEST_NOT_SET_SECRET"}})
    with pytest.raises(UsageError) as info:
        sbx.session(cfg).uid("registry")
    assert "ACRX_TEST_NOT_SET_ID" in str(info.value)
    assert info.value.field == "accounts.registry.env.access_key_id"


def test_profile_source_is_refused_in_sandbox_mode(sbx):
    with pytest.raises(UsageError) as info:
        sbx.session(sbx.config(registry={"profile": "prod-b"})).uid("registry")
    assert info.value.field == "accounts.registry.profile"


def test_missing_sandbox_dir_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError) as info:
        SandboxTarget.load(tmp_path / "nope")
    assert "acrx sandbox up --state-dir" in (info.value.hint or "")


def test_assume_role_source_goes_through_the_sandbox_sts(sbx):
    session = sbx.session()
    ram_b = session.account("registry").ram_api
    trust = {"Version": "1", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                            "Principal": {"RAM": [f"acs:ram::{sbx.a.uid}:root"]}}]}
    role = ram_b.create_role("acrx-deployer", trust)
    cfg = sbx.config(registry={"assume_role": {"role_arn": role.arn, "source": "cluster", "session_name": "acrx"}})
    chained = sbx.session(cfg)
    who = chained.account("registry").sts_api.caller_identity()
    assert who.account_id == sbx.b.uid
    assert who.identity_type == "AssumedRoleUser"
    assert chained.uid("registry") == sbx.b.uid


def test_failing_assume_role_source_names_the_sts_error(sbx):
    cfg = sbx.config(registry={"assume_role": {"role_arn": f"acs:ram::{sbx.b.uid}:role/nope", "source": "cluster"}})
    with pytest.raises(CloudError) as info:
        sbx.session(cfg).uid("registry")
    err = info.value
    assert err.code == "EntityNotExist.Role" and err.http_status == 404
    assert "could not obtain credentials" in str(err) and "nope" in str(err)
    assert sbx.a.root_key.secret not in str(err)


# -- RAM -------------------------------------------------------------------------------------------
def test_ram_roles_and_policies(sbx):
    ram = sbx.session().account("registry").ram_api
    assert ram.get_role("acrx-pull") is None
    trust = {"Version": "1", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                            "Principal": {"RAM": [f"acs:ram::{sbx.a.uid}:root"]}}]}
    created = ram.create_role("acrx-pull", trust, max_session_duration=3600, description="acrx")
    assert created.arn == f"acs:ram::{sbx.b.uid}:role/acrx-pull"
    with pytest.raises(CloudError) as info:
        ram.create_role("acrx-pull", trust)
    assert info.value.code == "EntityAlreadyExists.Role"
    got = ram.get_role("acrx-pull")
    assert got.trust == trust and got.max_session_duration == 3600
    updated = ram.update_role("acrx-pull", max_session_duration=7200)
    assert updated.max_session_duration == 7200 and ram.get_role("acrx-pull").max_session_duration == 7200

    doc = {"Version": "1", "Statement": [{"Action": ["cr:GetAuthorizationToken"], "Resource": "*",
                                          "Effect": "Allow"}]}
    assert ram.get_policy("acrx-pull-policy") is None
    ram.create_policy("acrx-pull-policy", doc, description="acrx")
    policy = ram.get_policy("acrx-pull-policy")
    assert policy.parsed == doc and policy.default_version == "v1"
    for i in range(6):  # past the limit of five: the oldest non-default version rotates out
        new_doc = dict(doc, Statement=[dict(doc["Statement"][0], Resource=f"acs:cr:*:*:instance/cri-{i}")])
        version = ram.create_policy_version("acrx-pull-policy", new_doc)
        assert version.is_default
    versions = ram.list_policy_versions("acrx-pull-policy")
    assert len(versions) == 5 and sum(v.is_default for v in versions) == 1
    assert json.loads(ram.get_policy("acrx-pull-policy").document)["Statement"][0]["Resource"].endswith("cri-5")
    oldest = sorted((v for v in versions if not v.is_default), key=lambda v: int(v.version_id[1:]))[0]
    assert ram.delete_policy_version("acrx-pull-policy", oldest.version_id)

    ram.attach_policy_to_role("acrx-pull", "acrx-pull-policy")
    assert ("acrx-pull-policy", "Custom") in [(p.name, p.type) for p in ram.list_policies_for_role("acrx-pull")]
    assert ram.detach_policy_from_role("acrx-pull", "acrx-pull-policy")
    assert ram.list_policies_for_role("acrx-pull") == []
    assert ram.detach_policy_from_role("acrx-pull", "acrx-pull-policy", missing_ok=True) is False
    assert ram.delete_policy("acrx-pull-policy")
    assert ram.delete_role("acrx-pull")
    assert ram.delete_role("acrx-pull", missing_ok=True) is False


def test_ram_users_and_access_keys(sbx):
    from tests.sandbox_clients import sdk_client

    ram = sbx.session().account("registry").ram_api
    assert ram.get_user("acrx-pull") is None
    user = ram.create_user("acrx-pull", display_name="acrx pull")
    assert ram.get_user("acrx-pull").user_id == user.user_id
    ram.create_policy("p-cr", {"Version": "1", "Statement": [{"Action": "cr:*", "Resource": "*", "Effect": "Allow"}]})
    ram.attach_policy_to_user("acrx-pull", "p-cr")
    assert [p.name for p in ram.list_policies_for_user("acrx-pull")] == ["p-cr"]
    key = ram.create_access_key("acrx-pull")
    assert isinstance(key.secret, Secret)
    assert key.secret.reveal() not in repr(key) and key.secret.reveal() not in f"{key}"
    assert [k.access_key_id for k in ram.list_access_keys("acrx-pull")] == [key.access_key_id]
    # The key works: STS says who it is.
    sts = sdk_client("alibabacloud_sts20150401", sbx.server.endpoint, (key.access_key_id, key.secret.reveal()))
    assert sts.get_caller_identity().body.arn.endswith(":user/acrx-pull")
    assert ram.delete_access_key("acrx-pull", key.access_key_id)
    assert ram.detach_policy_from_user("acrx-pull", "p-cr")
    assert ram.delete_user("acrx-pull")


def test_ram_tags(sbx):
    ram = sbx.session().account("registry").ram_api
    trust = {"Version": "1", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                            "Principal": {"RAM": [f"acs:ram::{sbx.a.uid}:root"]}}]}
    # Tags go in the create calls (CreateRoleRequest.tag / CreatePolicyRequest.tag).
    ram.create_role("tagged", trust, tags={"acrx:managed": "true"})
    assert ram.list_tags("role", "tagged") == {"acrx:managed": "true"}
    ram.create_role("untagged", trust)
    assert ram.list_tags("role", "untagged") == {}
    doc = {"Version": "1", "Statement": [{"Action": "cr:PullRepository", "Effect": "Allow", "Resource": "*"}]}
    ram.create_policy("tagged-policy", doc, tags={"acrx:managed": "true"})
    assert ram.list_tags("policy", "tagged-policy") == {"acrx:managed": "true"}


# -- STS -------------------------------------------------------------------------------------------
def test_sts_assume_role_hides_secrets(sbx):
    session = sbx.session()
    trust = {"Version": "1", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                            "Principal": {"RAM": [f"acs:ram::{sbx.a.uid}:root"]}}]}
    role = session.account("registry").ram_api.create_role("acrx-target", trust)
    creds = session.account("cluster").sts_api.assume_role(role.arn, "acrx-test", 900)
    assert creds.access_key_id.startswith("STS.")
    assert creds.assumed_role_arn.endswith(":assumed-role/acrx-target/acrx-test")
    ak, sk, token = creds.as_tuple()
    assert sk not in repr(creds) and token not in repr(creds)
    with pytest.raises(CloudError) as info:  # B's root may not assume A's roles: not in trust
        session.account("registry").sts_api.assume_role(f"acs:ram::{sbx.a.uid}:role/nope", "x-y", 900)
    assert info.value.action == "sts:AssumeRole"


# -- CS --------------------------------------------------------------------------------------------
def test_cs_cluster_rrsa_and_tasks(sbx):
    cs = sbx.session().account("cluster").cs_api(REGION)
    cluster = cs.describe_cluster(sbx.cluster.cluster_id)
    assert (cluster.id, cluster.type, cluster.spec, cluster.region) == \
        (sbx.cluster.cluster_id, "ManagedKubernetes", "ack.pro.small", REGION)
    assert cluster.vpc_id == sbx.cluster.vpc_id and cluster.worker_ram_role_name
    assert cluster.rrsa is None or not cluster.rrsa.enabled
    task_id = cs.modify_rrsa(sbx.cluster.cluster_id, True)
    assert task_id
    task = cs.describe_task(task_id)
    assert task.finished and task.succeeded  # clock_scale 0: slow operations finish at once
    rrsa = cs.describe_cluster(sbx.cluster.cluster_id).rrsa
    assert rrsa.enabled and rrsa.issuer and "," not in rrsa.issuer
    assert rrsa.oidc_arn == f"acs:ram::{sbx.a.uid}:oidc-provider/ack-rrsa-{sbx.cluster.cluster_id}"
    with pytest.raises(CloudError) as info:
        sbx.session().account("registry").cs_api(REGION).describe_cluster(sbx.cluster.cluster_id)
    assert info.value.http_status == 404


def test_cs_addons(sbx):
    cs = sbx.session().account("cluster").cs_api(REGION)
    cid = sbx.cluster.cluster_id
    name = "aliyun-acr-credential-helper"
    info = cs.describe_addon(name, cluster_id=cid)
    assert "tokenMode" in info.config_schema.get("properties", {})
    assert cs.get_addon_instance(cid, name) is None
    task = cs.install_addons(cid, [{"name": name, "config": json.dumps({"tokenMode": "auto"})}])
    assert task
    instance = cs.get_addon_instance(cid, name)
    assert instance is not None and json.loads(instance.config) == {"tokenMode": "auto"}
    assert name in [a.name for a in cs.list_addon_instances(cid)]
    cs.modify_addon_config(cid, name, json.dumps({"tokenMode": "workerRole"}))
    assert json.loads(cs.get_addon_instance(cid, name).config) == {"tokenMode": "workerRole"}
    assert cs.uninstall_addons(cid, [name])
    assert cs.get_addon_instance(cid, name) is None


def test_cs_user_kubeconfig_is_wrapped(sbx):
    sbx.world.hooks["kubeconfig"] = lambda cluster_id, private: f"apiVersion: v1\n# {cluster_id}\ntoken: tok-123456789\n"
    kc = sbx.session().account("cluster").cs_api(REGION).user_kubeconfig(sbx.cluster.cluster_id, minutes=60)
    assert "tok-123456789" in kc.text.reveal()
    assert "tok-123456789" not in repr(kc) and kc.expiration


# -- CR --------------------------------------------------------------------------------------------
def test_cr_instance_endpoints_acl_and_vpc(sbx):
    cr = sbx.session().account("registry").cr_api(REGION)
    iid = sbx.instance.instance_id
    assert [i.id for i in cr.list_instances()] == [iid]
    inst = cr.get_instance(iid)
    assert inst.status == "RUNNING" and inst.specification.startswith("Enterprise")
    # One endpoint for all regions: the x-acs-region-id header says which region is asked about.
    assert sbx.session().account("registry").cr_api("cn-beijing").list_instances() == []
    internet = cr.endpoint(iid, "Internet")
    assert internet is not None and not internet.enabled
    cr.set_internet_endpoint(iid, True)
    assert cr.endpoint(iid, "internet").enabled
    cr.add_acl_entry(iid, "203.0.113.0/24", "acrx")
    assert "203.0.113.0/24" in [e.cidr for e in cr.endpoint(iid, "internet").acl]
    cr.delete_acl_entry(iid, "203.0.113.0/24")
    assert "203.0.113.0/24" not in [e.cidr for e in cr.endpoint(iid, "internet").acl]
    cr.link_vpc(iid, sbx.vpc_b.vpc_id, sbx.vsw_b.vswitch_id)
    vpc_ep = cr.get_vpc_endpoint(iid)
    linked = {v.vpc_id: v for v in vpc_ep.linked_vpcs}
    assert sbx.vpc_b.vpc_id in linked and linked[sbx.vpc_b.vpc_id].ip.startswith("10.0.1.")
    assert vpc_ep.domains
    cr.unlink_vpc(iid, sbx.vpc_b.vpc_id, sbx.vsw_b.vswitch_id)
    assert cr.get_vpc_endpoint(iid).linked_vpcs == ()
    assert cr.get_instance("cri-doesnotexist0000") is None


def test_cr_token_and_repositories(sbx):
    cr = sbx.session().account("registry").cr_api(REGION)
    iid = sbx.instance.instance_id
    token = cr.get_authorization_token(iid)
    assert token.username and token.expire_time_ms > 0
    assert token.password.reveal() not in repr(token)
    repos = cr.list_repositories(iid)
    assert [(r.namespace, r.name) for r in repos] == [("demo", "nginx")]
    repo = cr.get_repository(iid, "demo", "nginx")
    assert repo.id == repos[0].id
    tags = cr.list_repo_tags(iid, repo.id)
    assert [(t.tag, t.size) for t in tags] == [("1.25", 1234)]
    assert cr.get_repository(iid, "demo", "absent") is None


def test_throttling_knob_is_absorbed_by_the_retry_policy(sbx):
    sbx.world.knobs.set(throttle_rate=0.5, seed=1)  # seed 1: rolls 1, 4, 5, 6 throttle
    session = sbx.session()
    session.retry_policy.sleep = lambda s: None
    session.retry_policy.max_attempts = 30
    for _ in range(5):
        assert session.account("registry").cr_api(REGION).get_instance(sbx.instance.instance_id) is not None
    time.sleep(0.1)  # the server logs each call just after answering it
    throttled = [c for c in sbx.world.calls.calls() if c.error_code == "Throttling.User"]
    assert throttled and session.retry_policy.stats.total_retries == len(throttled)


def test_sdk_http_debug_dumps_stay_off(sbx, monkeypatch):
    """DEBUG=sdk would make the SDK log whole requests (tokens) and responses (new secrets)."""
    import logging

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    monkeypatch.setenv("DEBUG", "sdk")
    handler = Keep(level=logging.DEBUG)
    logging.getLogger("darabonba-core").addHandler(handler)
    try:
        ram = sbx.session().account("registry").ram_api
        ram.create_user("dbg")
        key = ram.create_access_key("dbg")
    finally:
        logging.getLogger("darabonba-core").removeHandler(handler)
    assert not any(key.secret.reveal() in r for r in records)
    assert not any(sbx.b.root_key.access_key_id in r for r in records)


def test_real_mode_endpoints_come_from_the_sdk_rules(sbx):
    """Without a sandbox: no endpoint override, plain SDK rules, HTTPS, timeouts set (no call made)."""
    env = {"ACRX_T_AK": "LTAIexample", "ACRX_T_SK": "not-a-real-secret"}
    from acrx.cloud.credentials import CredentialsFactory
    from acrx.config.model import AcrxConfig

    source = {"env": {"access_key_id": "ACRX_T_AK", "access_key_secret": "ACRX_T_SK"}}
    cfg = AcrxConfig.model_validate({
        "accounts": {"cluster": source, "registry": source},
        "cluster": {"account": "cluster", "id": sbx.cluster.cluster_id, "region": "cn-beijing"},
        "registries": [{"account": "registry", "instance_id": sbx.instance.instance_id, "region": "cn-shanghai"}]})
    session = CloudSession(cfg, None, credentials=CredentialsFactory(cfg, None, environ=env))
    a = session.account("cluster")
    assert a.ram()._endpoint == "ram.aliyuncs.com"
    assert a.sts()._endpoint == "sts.cn-beijing.aliyuncs.com"
    assert a.cs("cn-beijing")._endpoint == "cs.cn-beijing.aliyuncs.com"
    assert session.account("registry").cr("cn-shanghai")._endpoint == "cr.cn-shanghai.aliyuncs.com"
    assert a.cbn()._endpoint == "cbn.aliyuncs.com"
    assert a.cs("cn-beijing")._protocol in (None, "", "https", "HTTPS")
    assert a.cs("cn-beijing")._read_timeout and a.cs("cn-beijing")._connect_timeout
    assert a.cs("cn-beijing") is a.cs("cn-beijing")           # cached per product and region
    assert a.cs("cn-beijing") is not a.cs("cn-hangzhou")


def test_sandbox_target_never_shows_secrets(sbx):
    target = SandboxTarget.load(sbx.dir)
    assert target.endpoint == sbx.server.endpoint
    assert target.access_key("registry") == (sbx.b.root_key.access_key_id, sbx.b.root_key.secret)
    assert target.uid("registry") == sbx.b.uid
    assert sbx.b.root_key.secret not in repr(target)
