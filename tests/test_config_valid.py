"""Valid configs: examples, defaults, derived names, shorthand, overrides, schema and docs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from acrx import facts
from acrx.config import formats
from acrx.config.loader import load_config
from acrx.config.model import AcrxConfig
from acrx.config.schema import config_json_schema
from acrx.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = "c0123456789abcdef0123456789abcdef"
INSTANCE = "cri-a1b2c3d4e5f6g7h8"
MINIMAL = {"cluster": {"id": CLUSTER, "region": "cn-hangzhou"},
           "registry": {"instance_id": INSTANCE, "region": "cn-hangzhou"}}


def _write(tmp_path, doc) -> Path:
    path = tmp_path / "acrx.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.parametrize("name,mode", [("rrsa-peering.yaml", "rrsa"), ("worker-role-cen.yaml", "worker-role"),
                                       ("access-key-public.yaml", "access-key")])
def test_examples_are_valid(name, mode):
    config = load_config(ROOT / "examples" / name, {})
    assert config.mode == mode
    assert config.registries[0].instance_id.startswith("cri-")


def test_example_modes_and_networks():
    pairs = {(c.mode, c.network.mode) for c in
             (load_config(ROOT / "examples" / n, {}) for n in
              ("rrsa-peering.yaml", "worker-role-cen.yaml", "access-key-public.yaml"))}
    assert pairs == {("rrsa", "peering"), ("worker-role", "cen"), ("access-key", "public")}


def test_minimal_defaults_and_derived_names():
    config = AcrxConfig.model_validate(MINIMAL)
    assert config.version == 1 and config.mode == "rrsa"
    assert config.registries[0].instance_id == INSTANCE  # `registry:` shorthand
    assert config.addon_flavour == "managed" and config.token_mode is None
    assert config.cluster_role_name == f"acrx-rrsa-{CLUSTER}"
    assert config.registry_role_name == f"acrx-pull-{CLUSTER}"
    assert config.pull_policy_name() == f"acrx-pull-{INSTANCE}"
    assert config.assume_policy_name == f"acrx-assume-{CLUSTER}"
    assert config.max_session_duration == 3600
    assert config.cluster_account.source_kind == "env"
    assert config.cluster_account.env_source.access_key_id == "ALIBABA_CLOUD_ACCESS_KEY_ID"
    assert config.expiring_threshold_seconds == 900 and config.verify_timeout_seconds == 300
    assert config.network.mode == "peering" and config.addon.service_accounts == ["default"]


@pytest.mark.parametrize("mode,flavour,token", [
    ("rrsa", "managed", None), ("worker-role", "self-managed", "workerRole"), ("access-key", "self-managed", "auto")])
def test_mode_resolves_flavour_and_token_mode(mode, flavour, token):
    config = AcrxConfig.model_validate({**MINIMAL, "mode": mode})
    assert (config.addon_flavour, config.token_mode) == (flavour, token)


def test_rrsa_self_managed_with_explicit_token_mode():
    config = AcrxConfig.model_validate({**MINIMAL, "addon": {"flavour": "self-managed", "token_mode": "managedRole"}})
    assert config.token_mode == "managedRole"


def test_custom_names_and_system_assume_policy():
    config = AcrxConfig.model_validate({**MINIMAL, "roles": {
        "cluster_role": "a.role", "registry_role": "b-role", "pull_policy": "p-1", "assume_policy": "system",
        "max_session_duration": 7200}})
    assert (config.cluster_role_name, config.registry_role_name, config.pull_policy_name()) == ("a.role", "b-role", "p-1")
    assert config.assume_policy_name == facts.SYSTEM_ASSUME_POLICY
    assert config.max_session_duration == 7200


def test_several_registries_each_get_a_pull_policy():
    doc = {"cluster": MINIMAL["cluster"], "roles": {"pull_policy": "first"}, "registries": [
        {"instance_id": INSTANCE, "region": "cn-hangzhou", "expire_duration": 3600},
        {"instance_id": "cri-z9y8x7w6v5u4t3s2", "region": "cn-beijing", "expire_duration": 7200}]}
    config = AcrxConfig.model_validate(doc)
    assert config.pull_policy_name(config.registries[0]) == "first"
    assert config.pull_policy_name(config.registries[1]) == "acrx-pull-cri-z9y8x7w6v5u4t3s2"
    assert config.max_session_duration == 7200


def test_accounts_assume_role_and_profile_sources():
    doc = {**MINIMAL, "accounts": {
        "cluster": {"profile": "prod-a"},
        "registry": {"assume_role": {"role_arn": "acs:ram::6543210987654321:role/admin", "source": "cluster"}},
        "ops": {"assume_role": {"role_arn": "acs:ram::6543210987654321:role/x", "source": "profile:ops"}}}}
    config = AcrxConfig.model_validate(doc)
    assert config.registry_account().source_kind == "assume_role"
    assert config.cluster_account.source_kind == "profile"


def test_wildcards_alone_are_fine():
    config = AcrxConfig.model_validate({**MINIMAL, "addon": {"service_accounts": ["*"], "watch_namespaces": ["all"]}})
    assert config.addon.service_accounts == ["*"]


def test_config_is_frozen():
    config = AcrxConfig.model_validate(MINIMAL)
    with pytest.raises(Exception):
        config.mode = "access-key"  # type: ignore[misc]


def test_loader_overrides_win_over_file(tmp_path):
    path = _write(tmp_path, {**MINIMAL, "network": {"mode": "peering"}})
    config = load_config(path, {"mode": "worker-role", "network.mode": "public", "cluster.region": "cn-beijing",
                                "registries[0].domains": ["x-registry.cn-hangzhou.cr.aliyuncs.com"],
                                "roles.registry_role": None})
    assert (config.mode, config.network.mode, config.cluster.region) == ("worker-role", "public", "cn-beijing")
    assert config.registries[0].domains == ["x-registry.cn-hangzhou.cr.aliyuncs.com"]


def test_loader_without_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    config = load_config(missing, {"cluster.id": CLUSTER, "cluster.region": "cn-hangzhou",
                                   "registries[0].instance_id": INSTANCE, "registries[0].region": "cn-hangzhou"})
    assert config.cluster.id == CLUSTER
    with pytest.raises(UsageError) as info:
        load_config(missing, {"cluster.id": CLUSTER})
    assert "--instance-id" in str(info.value) and "--region" in str(info.value)


def test_loader_empty_file_needs_required_fields(tmp_path):
    path = tmp_path / "acrx.yaml"
    path.write_text("")
    with pytest.raises(UsageError) as info:
        load_config(path, {})
    assert "cluster: is required" in str(info.value)


@pytest.mark.parametrize("text,seconds", [("15m", 900), ("1h", 3600), ("90s", 90), ("1h30m", 5400)])
def test_durations(text, seconds):
    assert formats.duration_seconds(text) == seconds


@pytest.mark.parametrize("image", ["nginx", "nginx:1.25", "acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com/ns/app:v1",
                                   "localhost:5000/a/b@sha256:" + "a" * 64])
def test_image_references(image):
    assert formats.image(image) == image


def test_schema_is_strict_and_complete():
    schema = config_json_schema()
    assert schema["additionalProperties"] is False
    assert all(d.get("additionalProperties") is False for d in schema["$defs"].values() if d.get("type") == "object")
    assert set(schema["properties"]) == {"version", "mode", "accounts", "cluster", "registries", "roles", "addon",
                                         "network", "verify", "clusters"}


def test_committed_configuration_doc_is_generated():
    spec = importlib.util.spec_from_file_location("gen_config_ref", ROOT / "docs" / "gen_config_ref.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "configuration.md").read_text() == module.render_reference(), \
        "docs/configuration.md is stale: run python docs/gen_config_ref.py"
