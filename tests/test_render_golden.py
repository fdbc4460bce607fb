"""Golden files for the pure renderers. Regenerate with ACRX_UPDATE_GOLDEN=1 and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from acrx import facts
from acrx.render.addon_config import managed_addon_config, self_managed_addon_config
from acrx.render.configmap import configmap_data, configmap_manifest, configmap_yaml, registry_info_entry
from acrx.render.policies import (assume_role_permission_policy, cluster_trust_policy, policy_json,
                                  pull_policy, registry_trust_policy)

GOLDEN = Path(__file__).parent / "golden"
UID_A, UID_B = "1234567890123456", "6543210987654321"
CLUSTER = "c0123456789abcdef0123456789abcdef"
INSTANCE, INSTANCE2 = "cri-a1b2c3d4e5f6g7h8", "cri-z9y8x7w6v5u4t3s2"
ROLE_A = facts.role_arn(UID_A, f"acrx-rrsa-{CLUSTER}")
ROLE_B = facts.role_arn(UID_B, f"acrx-pull-{CLUSTER}")
PROVIDER = facts.oidc_provider_arn(UID_A, CLUSTER)
DOMAINS = facts.default_domains("acme", "cn-hangzhou")


def _rrsa_entry(instance=INSTANCE, region="cn-hangzhou", domains=DOMAINS):
    return registry_info_entry("rrsa", instance_id=instance, region=region, domains=domains, expire_duration=3600,
                               assume_role_arn=ROLE_B, rrsa_role_arn=ROLE_A, oidc_provider_arn=PROVIDER)


def _configmap(entries, rrsa, **kw):
    return configmap_yaml(configmap_manifest(configmap_data(entries, rrsa=rrsa, **kw)))


RENDERED = {
    "trust_cluster.json": lambda: policy_json(cluster_trust_policy(
        PROVIDER, facts.issuer_url("cn-hangzhou", CLUSTER) + ",https://kubernetes.default.svc")),
    "trust_registry_rrsa.json": lambda: policy_json(registry_trust_policy(ROLE_A)),
    "trust_registry_worker.json": lambda: policy_json(registry_trust_policy(
        facts.role_arn(UID_A, "KubernetesWorkerRole-0a1b2c3d"))),
    "pull_policy.json": lambda: policy_json(pull_policy()),
    "assume_policy.json": lambda: policy_json(assume_role_permission_policy(ROLE_B)),
    "configmap_rrsa.yaml": lambda: _configmap([_rrsa_entry()], True, watch_namespaces=["default", "apps"]),
    "configmap_rrsa_two_registries.yaml": lambda: _configmap(
        [_rrsa_entry(), _rrsa_entry(INSTANCE2, "cn-beijing", facts.default_domains("other", "cn-beijing"))],
        True, service_accounts=["*"], watch_namespaces=["all"], notify_email="ops@example.com"),
    "configmap_worker_role.yaml": lambda: _configmap([registry_info_entry(
        "worker-role", instance_id=INSTANCE, region="cn-shanghai",
        domains=["acme-registry-vpc.cn-shanghai.cr.aliyuncs.com"], expire_duration=7200,
        assume_role_arn=ROLE_B)], False, service_accounts=["*"], watch_namespaces=["apps", "jobs"]),
    "configmap_access_key.yaml": lambda: _configmap([registry_info_entry(
        "access-key", instance_id=INSTANCE, region="cn-beijing", domains=facts.default_domains("acme", "cn-beijing"),
        access_key_id="LTAI-test-id", access_key_secret="test-secret-value")], False),
    "addon_managed.json": lambda: managed_addon_config([_rrsa_entry()], enable_rrsa=True,
                                                      watch_namespaces=["default", "apps"]) + "\n",
    "addon_self_managed.json": lambda: self_managed_addon_config("workerRole") + "\n",
}


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_golden(name):
    text = RENDERED[name]()
    path = GOLDEN / name
    if os.environ.get("ACRX_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"missing golden file {name}; run with ACRX_UPDATE_GOLDEN=1"
    assert text == path.read_text()


def test_configmap_embedded_yaml_parses():
    manifest = yaml.safe_load(RENDERED["configmap_rrsa_two_registries.yaml"]())
    info = yaml.safe_load(manifest["data"]["acr-registry-info"])
    assert [e["instanceId"] for e in info] == [INSTANCE, INSTANCE2]
    assert info[1]["regionId"] == "cn-beijing"
    assert yaml.safe_load(manifest["data"]["rrsa"]) == {"enable": True}
    assert manifest["data"]["notify-email"] == "ops@example.com"


def test_worker_role_configmap_has_no_rrsa_keys():
    manifest = yaml.safe_load(RENDERED["configmap_worker_role.yaml"]())
    assert "rrsa" not in manifest["data"]
    (entry,) = yaml.safe_load(manifest["data"]["acr-registry-info"])
    assert set(entry) == {"instanceId", "regionId", "domains", "assumeRoleARN", "expireDuration"}


def test_cluster_trust_uses_first_issuer_and_stringlike_for_wildcards():
    doc = cluster_trust_policy(PROVIDER, "https://a,https://b", namespace="kube-system", service_account="*")
    cond = doc["Statement"][0]["Condition"]
    assert cond["StringEquals"]["oidc:iss"] == "https://a"
    assert cond["StringLike"] == {"oidc:sub": "system:serviceaccount:kube-system:*"}
    assert "oidc:sub" not in cond["StringEquals"]


def test_assume_policy_lists_several_roles_sorted():
    other = facts.role_arn("1111111111111111", "x")
    doc = assume_role_permission_policy([ROLE_B, other])
    assert doc["Statement"][0]["Resource"] == ["acs:ram:*:1111111111111111:role/x",
                                               f"acs:ram:*:{UID_B}:role/acrx-pull-{CLUSTER}"]


@pytest.mark.parametrize("mode,kwargs", [
    ("rrsa", {"assume_role_arn": ROLE_B}),  # missing the cluster-side ARNs
    ("worker-role", {}),
    ("access-key", {"access_key_id": "x"}),
    ("kerberos", {}),
])
def test_registry_info_entry_refuses_incomplete_values(mode, kwargs):
    with pytest.raises(ValueError):
        registry_info_entry(mode, instance_id=INSTANCE, region="cn-hangzhou", domains=DOMAINS, **kwargs)


def test_bad_token_mode_and_empty_inputs_refused():
    with pytest.raises(ValueError):
        self_managed_addon_config("root")
    with pytest.raises(ValueError):
        managed_addon_config([], enable_rrsa=True)
    with pytest.raises(ValueError):
        registry_trust_policy([])
