"""Sandbox CS (ACK) through the official SDK client over HTTP: clusters, RRSA tasks, addons."""

from __future__ import annotations

import json

import pytest

from acrx.sandbox.core.server import CloudServer
from acrx.sandbox.core.world import World
from acrx.sandbox.services.cs import addons as catalog
from acrx.sandbox.services.cs import models as cs_models
from acrx.sandbox.services.cs import models_addons
from acrx.sandbox.services.cs import precheck
from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import error_code as _error

REGION = "cn-hangzhou"
MANAGED, SELF_MANAGED = catalog.MANAGED_ACR_HELPER, catalog.SELF_MANAGED_ACR_HELPER


class Env:
    def __init__(self, clock_scale: float = 0.0):
        self.world = World(seed=5, clock_scale=clock_scale)
        self.a = self.world.add_account("cluster", REGION)
        self.other = self.world.add_account("registry", REGION)
        self.cs = self.world.backend("cs", self.a.uid, REGION)
        precheck.seed_role(self.world, self.a.uid)   # the one-click grant CS's addon precheck wants
        self.pro = self.seed("pro")
        self.events: list[tuple] = []
        self.world.hooks["addon_changed"] = lambda cid, name, state, config: self.events.append((name, state, config))
        self.server = CloudServer(self.world).start()

    def seed(self, name, **kw):
        return self.cs.seed_cluster(name, vpc_id="vpc-a", vswitch_ids=["vsw-a1", "vsw-a2"], **kw)

    def client(self, key=None, product="alibabacloud_cs20151215"):
        return sdk_client(product, self.server.endpoint, key or self.a.root_key)

    def install(self, cluster, name, config=None, version=None):
        from alibabacloud_cs20151215 import models as m

        item = m.InstallClusterAddonsRequestBody(name=name, config=json.dumps(config) if config is not None else None,
                                                 version=version)
        return self.client().install_cluster_addons(cluster.cluster_id, m.InstallClusterAddonsRequest(body=[item])).body

    def addon(self, cluster, name):
        return self.client().get_cluster_addon_instance(cluster.cluster_id, name).body


@pytest.fixture
def env():
    e = Env()
    yield e
    e.server.stop()


@pytest.fixture
def slow_env():
    e = Env(clock_scale=1.0)
    yield e
    e.server.stop()


def _m():
    from alibabacloud_cs20151215 import models

    return models


# -- clusters -----------------------------------------------------------------------------------
def test_describe_cluster_detail(env):
    body = env.client().describe_cluster_detail(env.pro.cluster_id).body
    assert body.cluster_id.startswith("c") and len(body.cluster_id) == 33
    assert (body.cluster_type, body.profile, body.cluster_spec, body.state) == \
        ("ManagedKubernetes", "Default", "ack.pro.small", "running")
    assert body.vswitch_ids == ["vsw-a1", "vsw-a2"] and body.worker_ram_role_name.startswith("KubernetesWorkerRole-")
    assert body.rrsa_config.enabled is False
    assert json.loads(body.meta_data)["RRSAConfig"]["enabled"] is False
    assert _error(lambda: env.client().describe_cluster_detail("c" + "0" * 32)) == ("ErrorClusterNotFound", 404)
    # Another account does not see the cluster at all.
    foreign = env.client(env.other.root_key)
    assert _error(lambda: foreign.describe_cluster_detail(env.pro.cluster_id)) == ("ErrorClusterNotFound", 404)
    assert cs_models.find_cluster(env.world, env.pro.cluster_id) is env.pro


def test_cluster_in_another_region_is_found_by_id(env):
    west = env.world.backend("cs", env.a.uid, "cn-shanghai").seed_cluster("west", vpc_id="vpc-w", vswitch_ids=["vsw-w"])
    assert env.client().describe_cluster_detail(west.cluster_id).body.region_id == "cn-shanghai"


def test_enable_rrsa_is_a_task_that_sets_up_the_issuer(slow_env):
    env, m = slow_env, _m()
    client, cid = env.client(), env.pro.cluster_id
    started = client.modify_cluster(cid, m.ModifyClusterRequest(enable_rrsa=True)).body
    assert started.cluster_id == cid and started.task_id and started.request_id
    assert client.describe_task_info(started.task_id).body.state == "running"
    assert client.describe_cluster_detail(cid).body.state == "updating"
    assert _error(lambda: client.modify_cluster(cid, m.ModifyClusterRequest(enable_rrsa=False))) == \
        (cs_models.CLUSTER_NOT_RUNNING, 400)
    env.world.clock.advance(cs_models.RRSA_SECONDS + 1)
    assert client.describe_task_info(started.task_id).body.state == "success"
    detail = client.describe_cluster_detail(cid).body
    issuer_url = f"https://oidc-ack-{REGION}.oss-{REGION}.aliyuncs.com/{cid}"
    rrsa = detail.rrsa_config
    assert detail.state == "updating" and rrsa.enabled is True    # settling after the task (ART waits)
    env.world.clock.advance(cs_models.CLUSTER_SETTLE_SECONDS + 1)
    assert client.describe_cluster_detail(cid).body.state == "running"
    assert rrsa.issuer.split(",") == [issuer_url, "https://kubernetes.default.svc", "kubernetes.default.svc"]
    assert rrsa.audience == "sts.aliyuncs.com" and rrsa.oidc_name == f"ack-rrsa-{cid}"
    assert rrsa.oidc_arn == f"acs:ram::{env.a.uid}:oidc-provider/ack-rrsa-{cid}"
    assert rrsa.jwks_url and rrsa.open_api_configuration_url and rrsa.max_oidc_token_expiration
    meta = json.loads(detail.meta_data)["RRSAConfig"]
    assert meta["enabled"] is True and meta["issuer"] == rrsa.issuer and meta["oidc_arn"] == rrsa.oidc_arn
    assert env.world.oidc.keys(issuer_url) == {env.pro.signing_key.kid: env.pro.signing_key.public_key}
    assert env.pro.rrsa_enabled_at is not None
    ram = env.world.backend("ram", env.a.uid, "global")
    assert ram.get_oidc_provider_by_arn(rrsa.oidc_arn).issuer_url == issuer_url
    # Disabling reverses it.
    off = client.modify_cluster(cid, m.ModifyClusterRequest(enable_rrsa=False)).body
    env.world.clock.advance(cs_models.RRSA_SECONDS + 1)
    assert client.describe_task_info(off.task_id).body.state == "success"
    assert client.describe_cluster_detail(cid).body.rrsa_config.enabled is False
    assert env.world.oidc.keys(issuer_url) is None and ram.get_oidc_provider_by_arn(rrsa.oidc_arn) is None


def test_rrsa_task_failure_changes_nothing(env):
    m = _m()
    env.world.knobs.set(failing_tasks={"rrsa"})
    task = env.client().modify_cluster(env.pro.cluster_id, m.ModifyClusterRequest(enable_rrsa=True)).body
    info = env.client().describe_task_info(task.task_id).body
    assert info.state == "fail" and info.error.code and info.error.message
    assert env.client().describe_cluster_detail(env.pro.cluster_id).body.rrsa_config.enabled is False


def test_modify_cluster_rules(env):
    m = _m()
    dedicated = env.seed("ded", cluster_type="Kubernetes", cluster_spec="")
    stopped = env.seed("stopped", state="stopped")
    assert _error(lambda: env.client().modify_cluster(dedicated.cluster_id, m.ModifyClusterRequest(enable_rrsa=True))) == \
        (cs_models.CLUSTER_TYPE_NOT_SUPPORTED, 400)
    assert _error(lambda: env.client().modify_cluster(stopped.cluster_id, m.ModifyClusterRequest(enable_rrsa=True))) == \
        (cs_models.CLUSTER_NOT_RUNNING, 400)
    assert _error(lambda: env.client().describe_task_info("T-nope")) == (cs_models.TASK_NOT_FOUND, 404)


def test_kubeconfig_comes_from_the_cluster_hook(env):
    m = _m()
    client, cid = env.client(), env.pro.cluster_id
    assert _error(lambda: client.describe_cluster_user_kubeconfig(cid, m.DescribeClusterUserKubeconfigRequest())) == \
        (cs_models.CLUSTER_NOT_READY, 400)
    env.world.hooks["kubeconfig"] = lambda cluster_id, private: f"apiVersion: v1\n# {cluster_id} private={private}\n"
    body = client.describe_cluster_user_kubeconfig(cid, m.DescribeClusterUserKubeconfigRequest(
        private_ip_address=True, temporary_duration_minutes=60)).body
    assert body.config == f"apiVersion: v1\n# {cid} private=True\n" and body.expiration
    assert _error(lambda: client.describe_cluster_user_kubeconfig(cid, m.DescribeClusterUserKubeconfigRequest(
        temporary_duration_minutes=5))) == ("InvalidParameter.TemporaryDurationMinutes", 400)


def test_cs_actions_are_authorized_on_the_cluster(env):
    from alibabacloud_ram20150501 import models as ram

    ram_client = env.client(product="alibabacloud_ram20150501")
    ram_client.create_user(ram.CreateUserRequest(user_name="viewer"))
    key = ram_client.create_access_key(ram.CreateAccessKeyRequest(user_name="viewer")).body.access_key
    viewer = env.client((key.access_key_id, key.access_key_secret))
    assert _error(lambda: viewer.describe_cluster_detail(env.pro.cluster_id)) == ("NoPermission", 403)
    doc = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "cs:DescribeClusterDetail",
                                          "Resource": f"acs:cs:{REGION}:{env.a.uid}:cluster/{env.pro.cluster_id}"}]}
    ram_client.create_policy(ram.CreatePolicyRequest(policy_name="view", policy_document=json.dumps(doc)))
    ram_client.attach_policy_to_user(ram.AttachPolicyToUserRequest(policy_type="Custom", policy_name="view",
                                                                   user_name="viewer"))
    assert viewer.describe_cluster_detail(env.pro.cluster_id).body.state == "running"
    assert _error(lambda: viewer.modify_cluster(env.pro.cluster_id, _m().ModifyClusterRequest(enable_rrsa=True))) == \
        ("NoPermission", 403)


# -- addons -------------------------------------------------------------------------------------
def test_describe_addon_gives_the_config_schema(env):
    m = _m()
    body = env.client().describe_addon(MANAGED, m.DescribeAddonRequest(cluster_id=env.pro.cluster_id)).body
    schema = json.loads(body.config_schema)
    item = schema["properties"]["AcrInstanceInfo"]["items"]["properties"]
    assert item["expireDuration"]["type"] == "integer" and "rrsaOIDCProviderRoleARN" in item
    assert schema["properties"]["enableRRSA"]["type"] == "boolean" and body.managed is True
    selfm = json.loads(env.client().describe_addon(SELF_MANAGED, m.DescribeAddonRequest(region_id=REGION)).body.config_schema)
    assert selfm["properties"]["tokenMode"]["enum"] == ["auto", "managedRole", "workerRole"]
    assert _error(lambda: env.client().describe_addon("no-such-addon", m.DescribeAddonRequest())) == ("AddonNotFound", 404)


def test_install_managed_helper_and_lifecycle(slow_env):
    env, m = slow_env, _m()
    client, cid = env.client(), env.pro.cluster_id
    config = {"AcrInstanceInfo": [{"instanceId": "cri-x", "regionId": REGION, "expireDuration": 3600}],
              "enableRRSA": True, "watchNamespace": "default", "serviceAccount": "default"}
    task = env.install(env.pro, MANAGED, config)
    assert env.addon(env.pro, MANAGED).state == "installing"
    assert client.describe_task_info(task.task_id).body.state == "running"
    env.world.clock.advance(models_addons.INSTALL_SECONDS + 1)
    got = env.addon(env.pro, MANAGED)
    assert got.state == "active" and json.loads(got.config) == config
    assert [(a.name, a.state) for a in client.list_cluster_addon_instances(cid).body.addons] == [(MANAGED, "active")]
    assert env.events == [(MANAGED, "installing", config), (MANAGED, "active", config)]
    # Installing it again is refused, with the code in the message as ack-ram-tool expects.
    from alibabacloud_tea_openapi.exceptions import ClientException
    with pytest.raises(ClientException) as info:
        env.install(env.pro, MANAGED, config)
    assert info.value.code == "AddonAlreadyInstalled" and "AddonAlreadyInstalled" in info.value.message
    assert info.value.status_code == 400
    # The self-managed edition conflicts with it.
    assert _error(lambda: env.install(env.pro, SELF_MANAGED)) == (catalog.ADDON_CONFLICT, 400)
    # Modify replaces the whole config.
    new = {"AcrInstanceInfo": [{"instanceId": "cri-y"}], "enableRRSA": False}
    client.modify_cluster_addon(cid, MANAGED, m.ModifyClusterAddonRequest(config=json.dumps(new)))
    assert env.addon(env.pro, MANAGED).state == "updating"
    assert _error(lambda: client.modify_cluster_addon(cid, MANAGED, m.ModifyClusterAddonRequest(config="{}"))) == \
        (catalog.ADDON_BUSY, 400)
    env.world.clock.advance(models_addons.CONFIG_SECONDS + 1)
    got = env.addon(env.pro, MANAGED)
    assert got.state == "active" and json.loads(got.config) == new
    # Uninstall.
    gone = client.un_install_cluster_addons(cid, m.UnInstallClusterAddonsRequest(
        addons=[m.UnInstallClusterAddonsRequestAddons(name=MANAGED)])).body
    assert env.addon(env.pro, MANAGED).state == "deleting"
    env.world.clock.advance(models_addons.UNINSTALL_SECONDS + 1)
    assert client.describe_task_info(gone.task_id).body.state == "success"
    assert _error(lambda: env.addon(env.pro, MANAGED)) == ("AddonNotFound", 404)
    assert env.events[-1][:2] == (MANAGED, "deleted")
    assert client.list_cluster_addon_instances(cid).body.addons == []


def test_addon_config_is_validated(env):
    assert _error(lambda: env.install(env.pro, MANAGED, {"unknownKey": 1})) == (catalog.ADDON_CONFIG_INVALID, 400)
    assert _error(lambda: env.install(env.pro, MANAGED, {"enableRRSA": "yes"})) == (catalog.ADDON_CONFIG_INVALID, 400)
    assert _error(lambda: env.install(env.pro, MANAGED, {"AcrInstanceInfo": [{"instanceId": "cri-x",
                                                                              "expireDuration": "3600"}]})) == \
        (catalog.ADDON_CONFIG_INVALID, 400)
    assert _error(lambda: env.install(env.pro, SELF_MANAGED, {"tokenMode": "magic"})) == (catalog.ADDON_CONFIG_INVALID, 400)
    assert _error(lambda: env.install(env.pro, SELF_MANAGED, version="v0.0.1")) == (catalog.ADDON_VERSION_INVALID, 400)
    env.install(env.pro, SELF_MANAGED, {"tokenMode": "workerRole"})
    assert json.loads(env.addon(env.pro, SELF_MANAGED).config) == {"tokenMode": "workerRole"}
    m = _m()
    assert _error(lambda: env.client().modify_cluster_addon(env.pro.cluster_id, SELF_MANAGED, m.ModifyClusterAddonRequest(
        config=json.dumps({"tokenMode": 3})))) == (catalog.ADDON_CONFIG_INVALID, 400)


@pytest.mark.parametrize("kw, name, allowed", [
    ({"cluster_spec": "ack.standard"}, MANAGED, True),              # Basic 1.22+: the current doc (issue 13)
    ({"cluster_spec": "ack.pro.xlarge"}, MANAGED, True),            # a Pro XL tier is Pro
    ({"cluster_spec": "ack.standard"}, SELF_MANAGED, True),
    ({"profile": "Serverless"}, MANAGED, True),
    ({"profile": "Serverless"}, SELF_MANAGED, False),
    ({"profile": "Edge"}, MANAGED, True),
    ({"cluster_type": "Kubernetes", "cluster_spec": ""}, SELF_MANAGED, True),
    ({"cluster_type": "Kubernetes", "cluster_spec": ""}, MANAGED, False),
    ({"version": "1.21.3-aliyun.1"}, MANAGED, False),               # managed needs 1.22+
    ({"version": "1.21.3-aliyun.1"}, SELF_MANAGED, True),
    ({"version": "1.18.8-aliyun.1"}, SELF_MANAGED, False),          # self-managed needs 1.20+
])
def test_which_clusters_take_which_edition(env, kw, name, allowed):
    cluster = env.seed("variant", **kw)
    if allowed:
        env.install(cluster, name)
        assert env.addon(cluster, name).state == "active"
    else:
        assert _error(lambda: env.install(cluster, name)) == (catalog.ADDON_NOT_SUPPORTED, 400)


def test_addon_rules_on_cluster_state_and_failures(env):
    m = _m()
    stopped = env.seed("stopped", state="stopped")
    assert _error(lambda: env.install(stopped, "coredns")) == (cs_models.CLUSTER_NOT_RUNNING, 400)
    assert _error(lambda: env.install(env.pro, "no-such-addon")) == ("AddonNotFound", 404)
    assert _error(lambda: env.client().un_install_cluster_addons(env.pro.cluster_id, m.UnInstallClusterAddonsRequest(
        addons=[m.UnInstallClusterAddonsRequestAddons(name="coredns")]))) == ("AddonNotFound", 404)
    env.world.knobs.set(failing_tasks={"addon_install"})
    task = env.install(env.pro, MANAGED)
    assert env.client().describe_task_info(task.task_id).body.state == "fail"
    assert env.addon(env.pro, MANAGED).state == "failed"
    env.world.knobs.set(failing_tasks=set())
    env.install(env.pro, MANAGED)   # a failed install may be retried
    assert env.addon(env.pro, MANAGED).state == "active"
