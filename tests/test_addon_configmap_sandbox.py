"""`acrx addon install` and `acrx configmap apply` against the running sandbox."""

from __future__ import annotations

import json

import pytest
import yaml

from sandbox_cloud import wait_for as shared_wait_for
from sandbox_fixture import running_sandbox
from sandbox_world import Hand

pytestmark = pytest.mark.timeout(180)

MANAGED = "managed-aliyun-acr-credential-helper"
SELF_MANAGED = "aliyun-acr-credential-helper"
ROLES = {"cluster_role": "acr-helper-rrsa", "registry_role": "acr-pull-from-a"}   # the names Hand creates
SECRET_VALUE = "Zq8vSecretValueNeverShown42xx"


@pytest.fixture
def sb(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    with running_sandbox(tmp_path) as running:
        yield running


@pytest.fixture
def acrx(sb, run_cli):
    def _run(*args):
        return run_cli("--sandbox", sb.dir, *args, "-f", sb.config_path)
    return _run


def cs_cluster(sb):
    from acrx.sandbox.services.cs.models import find_cluster

    return find_cluster(sb.world, sb.seeded.cluster_id)


def addon(sb, name):
    cluster = cs_cluster(sb)
    with sb.world.lock:
        cluster.settle()
        return cluster.addons.get(name)


def store(sb):
    return sb.sandbox.cluster.store


def cm_data(sb) -> dict:
    return store(sb).get("configmaps", "kube-system", "acr-configuration").get("data") or {}


def wait_for(predicate, what):
    return shared_wait_for(predicate, what, timeout=120.0)   # ends early; a loaded machine is slow


def helper_pods(sb, running=True):
    pods = store(sb).list("pods", "kube-system", label_selector=f"app={SELF_MANAGED}")
    return [p for p in pods if not running or (p.get("status") or {}).get("phase") == "Running"]


def assert_no_change(acrx, *args):
    again = acrx(*args, "--dry-run", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout


# -- the addon ---------------------------------------------------------------------------------
def test_managed_install_reaches_active_and_plans_no_change(sb, acrx):
    result = acrx("addon", "install", "--yes")
    assert result.exit_code == 0, result.stderr
    instance = addon(sb, MANAGED)
    assert instance.state == "active"
    config = instance.config
    assert config["enableRRSA"] is True and config["serviceAccount"] == "default"
    entry = config["AcrInstanceInfo"][0]
    assert entry["instanceId"] == sb.seeded.instance_id and entry["expireDuration"] == 3600
    provider = f"acs:ram::{sb.seeded.account_a}:oidc-provider/ack-rrsa-{sb.seeded.cluster_id}"
    assert entry["rrsaOIDCProviderRoleARN"] == provider
    assert entry["domains"] == f"{sb.seeded.domain_public},{sb.seeded.domain_vpc}"
    assert_no_change(acrx, "addon", "install")


def test_self_managed_install_with_token_mode(sb, acrx):
    sb.write_config(mode="worker-role")
    result = acrx("addon", "install", "--yes", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert '"kind": "ApplyResult"' in result.stdout
    instance = addon(sb, SELF_MANAGED)
    assert instance.state == "active" and instance.config == {"tokenMode": "workerRole"}
    wait_for(lambda: helper_pods(sb), "the self-managed helper pod")
    assert_no_change(acrx, "addon", "install")


def test_config_drift_is_mended_with_the_whole_config(sb, acrx):
    assert acrx("addon", "install", "--yes").exit_code == 0
    from alibabacloud_cs20151215 import models as cs

    drifted = dict(addon(sb, MANAGED).config, watchNamespace="other")
    Hand(sb.sandbox).client("alibabacloud_cs20151215").modify_cluster_addon(
        sb.seeded.cluster_id, MANAGED, cs.ModifyClusterAddonRequest(config=json.dumps(drifted)))
    plan = acrx("addon", "install", "--dry-run", "--detailed-exitcode")
    assert plan.exit_code == 3
    assert "update cs.addon.managed-aliyun-acr-credential-helper" in plan.stdout
    assert "watchNamespace" in plan.stdout and "other -> default" in plan.stdout
    assert acrx("addon", "install", "--yes").exit_code == 0
    assert addon(sb, MANAGED).config["watchNamespace"] == "default"
    assert addon(sb, MANAGED).config["AcrInstanceInfo"]   # the whole config was sent
    assert_no_change(acrx, "addon", "install")


def test_the_other_edition_is_refused_by_name(sb, acrx):
    Hand(sb.sandbox).install_addon(SELF_MANAGED)
    mark = sb.mark()
    result = acrx("addon", "install", "--yes")
    assert result.exit_code == 2
    assert "aliyun-acr-credential-helper is installed" in result.stderr
    assert "addon.flavour: self-managed" in result.stderr
    assert not sb.writes_since(mark)


def test_a_key_missing_from_the_schema_is_refused(sb, acrx, monkeypatch):
    from acrx import facts

    monkeypatch.setattr(facts, "MA_WATCH_NAMESPACE", "watchNamespaces")   # a wrong guess
    mark = sb.mark()
    result = acrx("addon", "install", "--yes")
    assert result.exit_code == 2
    assert "watchNamespaces does not exist" in result.stderr
    assert not sb.writes_since(mark)


# -- the ConfigMap -----------------------------------------------------------------------------
def self_managed_rrsa(sb):
    sb.write_config(mode="rrsa", addon={"flavour": "self-managed"}, roles=ROLES)


def test_configmap_apply_keeps_a_foreign_key_and_plans_no_change(sb, acrx):
    self_managed_rrsa(sb)
    store(sb).create("configmaps", "kube-system", {"metadata": {"name": "acr-configuration"}, "data": {
        "service-account": "old", "webhook-configuration": "enable: true\n"}})
    plan = acrx("configmap", "apply", "--dry-run")
    assert plan.exit_code == 0
    assert "service-account: old -> default" in plan.stdout
    as_json = json.loads(acrx("configmap", "apply", "--dry-run", "-o", "json").stdout)
    change = as_json["data"]["changes"][0]
    assert "webhook-configuration" in change["reason"]   # named as kept
    assert "webhook-configuration" not in change["after"]
    result = acrx("configmap", "apply", "--yes")
    assert result.exit_code == 0, result.stderr
    data = cm_data(sb)
    assert data["webhook-configuration"] == "enable: true\n"
    assert data["service-account"] == "default"
    assert yaml.safe_load(data["rrsa"]) == {"enable": True}
    entry = yaml.safe_load(data["acr-registry-info"])[0]
    assert entry["rrsaRoleARN"] == f"acs:ram::{sb.seeded.account_a}:role/acr-helper-rrsa"
    assert entry["assumeRoleARN"] == f"acs:ram::{sb.seeded.account_b}:role/acr-pull-from-a"
    assert_no_change(acrx, "configmap", "apply")
    # Someone adds another key later: still nothing to do.
    current = store(sb).get("configmaps", "kube-system", "acr-configuration")
    current["data"]["acr-api-version"] = "2018-12-01"
    store(sb).update("configmaps", "kube-system", current)
    assert_no_change(acrx, "configmap", "apply")


def test_several_registry_entries(sb, acrx):
    sb.write_config(mode="worker-role", registries=[
        {"account": "registry", "instance_id": sb.seeded.instance_id, "region": sb.seeded.region_b,
         "instance_name": sb.seeded.instance_name},
        {"account": "registry", "instance_id": "cri-0000000000000002", "region": "cn-shanghai",
         "domains": ["second-registry.cn-shanghai.cr.aliyuncs.com"], "expire_duration": 7200}])
    assert acrx("configmap", "apply", "--yes").exit_code == 0
    entries = yaml.safe_load(cm_data(sb)["acr-registry-info"])
    assert [e["instanceId"] for e in entries] == [sb.seeded.instance_id, "cri-0000000000000002"]
    assert entries[1]["domains"] == "second-registry.cn-shanghai.cr.aliyuncs.com"
    assert entries[1]["expireDuration"] == 7200 and "rrsa" not in cm_data(sb)
    assert_no_change(acrx, "configmap", "apply")


def test_configmap_on_the_managed_flavour_is_a_usage_error(sb, acrx):
    result = acrx("configmap", "apply", "--dry-run")
    assert result.exit_code == 2 and "acrx addon install" in result.stderr


def _journals(sb) -> str:
    import os

    root = os.environ["ACRX_STATE_DIR"]
    texts = []
    for dirpath, _, files in os.walk(root):
        texts += [open(os.path.join(dirpath, f)).read() for f in files]
    return "\n".join(texts)


def test_access_key_secret_is_never_printed(sb, acrx, monkeypatch):
    from alibabacloud_ram20150501 import models as ram

    sb.write_config(mode="access-key")
    # acrx's RAM user in the registry account and its key, made by hand.
    client = Hand(sb.sandbox).client("alibabacloud_ram20150501", "b")
    user = f"acrx-pull-{sb.seeded.cluster_id}"
    client.create_user(ram.CreateUserRequest(user_name=user))
    key = client.create_access_key(ram.CreateAccessKeyRequest(user_name=user)).body.access_key
    monkeypatch.setenv("ACRX_ADDON_ACCESS_KEY_ID", key.access_key_id)
    monkeypatch.setenv("ACRX_ADDON_ACCESS_KEY_SECRET", key.access_key_secret)

    refused = acrx("configmap", "apply", "--yes")
    assert refused.exit_code == 2 and "--allow-plaintext-access-key" in refused.stderr
    outputs = []
    for args in (("--dry-run",), ("--dry-run", "-o", "json"), ("--yes", "-o", "json")):
        result = acrx("configmap", "apply", "--allow-plaintext-access-key", *args)
        assert result.exit_code == 0, result.stderr
        outputs += [result.stdout, result.stderr]
    assert "(sensitive)" in outputs[0]
    entry = yaml.safe_load(cm_data(sb)["acr-registry-info"])[0]
    assert entry["customAccessKey"] == key.access_key_id
    assert entry["customAccessKeySecret"] == key.access_key_secret   # it did reach the cluster
    journals = _journals(sb)
    assert journals   # the apply was journaled
    for text in outputs + [journals]:
        assert key.access_key_secret not in text
    assert_no_change(acrx, "configmap", "apply", "--allow-plaintext-access-key")
    # Without the env vars, the live ConfigMap's key is recognised as acrx's user's key.
    monkeypatch.delenv("ACRX_ADDON_ACCESS_KEY_ID")
    monkeypatch.delenv("ACRX_ADDON_ACCESS_KEY_SECRET")
    again = acrx("configmap", "apply", "--allow-plaintext-access-key", "--dry-run", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert key.access_key_secret not in again.stdout + again.stderr


# -- the order trap and the whole chain ---------------------------------------------------------
def test_order_trap_pod_started_before_rrsa_is_replaced(sb, acrx):
    self_managed_rrsa(sb)
    hand = Hand(sb.sandbox)
    first = acrx("addon", "install", "--yes")
    assert first.exit_code == 0 and "RRSA is not enabled" in first.stderr
    old = wait_for(lambda: helper_pods(sb), "the helper pod")[0]["metadata"]["name"]
    rrsa = hand.enable_rrsa()   # too late: the pod is already running
    hand.rrsa_roles(rrsa)
    assert acrx("configmap", "apply", "--yes").exit_code == 0
    runtime = sb.sandbox.runtimes[sb.seeded.cluster_id]

    def trapped():
        runtime.settle()
        return "OIDCTokenFileNotFound" in store(sb).read_log("kube-system", old, SELF_MANAGED)
    wait_for(trapped, "the helper to fail without its token")
    plan = acrx("addon", "install", "--dry-run", "--detailed-exitcode", "-o", "json")
    assert plan.exit_code == 3
    changes = {c["address"]: c for c in json.loads(plan.stdout)["data"]["changes"]}
    replace = changes[f"k8s.pod.kube-system/{old}"]
    assert replace["action"] == "replace" and "before RRSA was enabled" in replace["reason"]
    assert acrx("addon", "install", "--yes").exit_code == 0
    names = [p["metadata"]["name"] for p in helper_pods(sb)]
    assert old not in names and names
    wait_for(lambda: runtime.settle() or secret_on_default_sa(sb), "the helper to write the pull secret")
    assert_no_change(acrx, "addon", "install")


def secret_on_default_sa(sb) -> bool:
    sa = store(sb).get("serviceaccounts", "default", "default")
    names = [s["name"] for s in sa.get("imagePullSecrets") or [] if s["name"].startswith("acr-credential-")]
    return bool(names) and all(store(sb).get("secrets", "default", n)["type"] == "kubernetes.io/dockerconfigjson"
                               for n in names)


@pytest.mark.parametrize("flavour", ["managed", "self-managed"])
def test_full_chain_writes_the_pull_secret(sb, acrx, flavour):
    sb.write_config(mode="rrsa", network="public", addon={"flavour": flavour}, roles=ROLES)
    hand = Hand(sb.sandbox)
    rrsa = hand.enable_rrsa()
    hand.rrsa_roles(rrsa)
    hand.open_internet_endpoint([f"{sb.sandbox.scenario.egress_eip}/32"])
    assert acrx("addon", "install", "--yes").exit_code == 0
    if flavour == "self-managed":
        result = acrx("configmap", "apply", "--yes")
        assert result.exit_code == 0, result.stderr
    runtime = sb.sandbox.runtimes[sb.seeded.cluster_id]
    wait_for(lambda: runtime.settle() or secret_on_default_sa(sb), "the helper to write the pull secret")
    assert_no_change(acrx, "addon", "install")
    if flavour == "self-managed":
        assert_no_change(acrx, "configmap", "apply")


def test_kubeconfig_lands_on_disk_only_on_request_with_mode_0600(sb, acrx, tmp_path):
    import os
    import stat

    self_managed_rrsa(sb)
    target = tmp_path / "saved-kubeconfig"
    result = acrx("configmap", "apply", "--dry-run", "--save-kubeconfig", target)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert yaml.safe_load(target.read_text())["clusters"][0]["cluster"]["server"] == sb.sandbox.cluster.url
    assert sb.sandbox.cluster.token not in result.stdout + result.stderr
    both = acrx("configmap", "apply", "--dry-run", "--kubeconfig", target, "--save-kubeconfig", tmp_path / "x")
    assert both.exit_code == 2 and not (tmp_path / "x").exists()
    mine = acrx("configmap", "apply", "--dry-run", "--kubeconfig", target)
    assert mine.exit_code == 0, mine.stderr
