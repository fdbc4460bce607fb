"""acrx render / schema / init through the CLI, offline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RRSA = EXAMPLES / "rrsa-peering.yaml"
WORKER = EXAMPLES / "worker-role-cen.yaml"
AK = EXAMPLES / "access-key-public.yaml"
CLUSTER = "c0123456789abcdef0123456789abcdef"


def _registry_info(stdout: str) -> tuple[dict, list[dict]]:
    manifest = yaml.safe_load(stdout)
    assert manifest["kind"] == "ConfigMap"
    assert manifest["metadata"] == {"name": "acr-configuration", "namespace": "kube-system"}
    info = yaml.safe_load(manifest["data"]["acr-registry-info"])
    assert isinstance(info, list)
    return manifest, info


def test_rrsa_configmap_from_example(run_cli):
    result = run_cli("render", "configmap", "-f", RRSA, "--cluster-uid", "1111111111111111",
                     "--registry-uid", "2222222222222222")
    assert result.exit_code == 0, result.stderr
    manifest, info = _registry_info(result.stdout)
    (entry,) = info
    assert set(entry) == {"instanceId", "regionId", "domains", "assumeRoleARN", "expireDuration",
                          "rrsaRoleARN", "rrsaOIDCProviderRoleARN"}
    # flags override the uids of the file
    assert entry["assumeRoleARN"] == f"acs:ram::2222222222222222:role/acrx-pull-{CLUSTER}"
    assert entry["rrsaRoleARN"] == f"acs:ram::1111111111111111:role/acrx-rrsa-{CLUSTER}"
    assert entry["rrsaOIDCProviderRoleARN"] == f"acs:ram::1111111111111111:oidc-provider/ack-rrsa-{CLUSTER}"
    assert entry["expireDuration"] == 3600
    assert entry["domains"].split(",") == ["acme-registry.cn-hangzhou.cr.aliyuncs.com",
                                           "acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com"]
    assert yaml.safe_load(manifest["data"]["rrsa"]) == {"enable": True}
    assert manifest["data"]["watch-namespace"] == "default,apps"
    assert result.stderr == ""


def test_uids_from_file_need_no_flags(run_cli):
    result = run_cli("render", "configmap", "-f", RRSA)
    assert result.exit_code == 0, result.stderr
    _, (entry,) = _registry_info(result.stdout)
    assert entry["assumeRoleARN"].startswith("acs:ram::6543210987654321:role/")


def test_missing_uid_names_the_flag(tmp_path, run_cli):
    doc = yaml.safe_load(RRSA.read_text())
    del doc["accounts"]["cluster"]["uid"]
    path = tmp_path / "acrx.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = run_cli("render", "configmap", "-f", path)
    assert result.exit_code == 2
    assert "--cluster-uid" in result.stderr and result.stdout == ""


def test_missing_domains_names_the_fix(tmp_path, run_cli):
    doc = yaml.safe_load(RRSA.read_text())
    del doc["registries"][0]["instance_name"]
    path = tmp_path / "acrx.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = run_cli("render", "configmap", "-f", path)
    assert result.exit_code == 2
    assert "--domains" in result.stderr and "registries[0].domains" in result.stderr
    ok = run_cli("render", "configmap", "-f", path, "--domains", "x-registry-vpc.cn-hangzhou.cr.aliyuncs.com")
    assert ok.exit_code == 0, ok.stderr
    _, (entry,) = _registry_info(ok.stdout)
    assert entry["domains"] == "x-registry-vpc.cn-hangzhou.cr.aliyuncs.com"


def test_worker_role_configmap_has_no_rrsa_keys(run_cli):
    result = run_cli("render", "configmap", "-f", WORKER)
    assert result.exit_code == 0, result.stderr
    manifest, (entry,) = _registry_info(result.stdout)
    assert "rrsa" not in manifest["data"]
    assert "rrsaRoleARN" not in entry and "rrsaOIDCProviderRoleARN" not in entry
    assert entry["expireDuration"] == 7200
    assert manifest["data"]["service-account"] == "*"


def test_mode_flag_overrides_file(run_cli):
    result = run_cli("render", "configmap", "-f", RRSA, "--mode", "worker-role")
    # the example pins the managed flavour, which worker-role mode cannot use
    assert result.exit_code == 2 and "addon.flavour" in result.stderr


def test_access_key_refused_without_flag(run_cli, monkeypatch):
    monkeypatch.setenv("ACRX_ADDON_ACCESS_KEY_ID", "LTAI-id")
    monkeypatch.setenv("ACRX_ADDON_ACCESS_KEY_SECRET", "very-secret-value")
    result = run_cli("render", "configmap", "-f", AK)
    assert result.exit_code == 2
    assert "--allow-plaintext-access-key" in result.stderr
    assert result.stdout == "" and "very-secret-value" not in result.stderr


def test_access_key_with_flag_warns_and_renders(run_cli, monkeypatch):
    monkeypatch.setenv("ACRX_ADDON_ACCESS_KEY_ID", "LTAI-id")
    monkeypatch.setenv("ACRX_ADDON_ACCESS_KEY_SECRET", "very-secret-value")
    result = run_cli("render", "configmap", "-f", AK, "--allow-plaintext-access-key")
    assert result.exit_code == 0, result.stderr
    assert "plaintext" in result.stderr and "very-secret-value" not in result.stderr
    manifest, (entry,) = _registry_info(result.stdout)
    assert entry["customAccessKey"] == "LTAI-id"
    assert entry["customAccessKeySecret"] == "very-secret-value"
    assert "assumeRoleARN" not in entry and "rrsa" not in manifest["data"]


def test_access_key_missing_env_names_variable(run_cli, monkeypatch):
    monkeypatch.delenv("ACRX_ADDON_ACCESS_KEY_ID", raising=False)
    monkeypatch.setenv("ACRX_ADDON_ACCESS_KEY_SECRET", "very-secret-value")
    result = run_cli("render", "configmap", "-f", AK, "--allow-plaintext-access-key")
    assert result.exit_code == 2
    assert "ACRX_ADDON_ACCESS_KEY_ID" in result.stderr and result.stdout == ""


def test_configmap_json_output(run_cli):
    result = run_cli("render", "configmap", "-f", RRSA, "-o", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["metadata"]["name"] == "acr-configuration"


def test_no_file_with_enough_flags(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ("render", "configmap", "--cluster-id", CLUSTER, "--region", "cn-hangzhou",
            "--instance-id", "cri-a1b2c3d4e5f6g7h8", "--registry-region", "cn-hangzhou",
            "--instance-name", "acme", "--cluster-uid", "1234567890123456", "--registry-uid", "6543210987654321")
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    _, (entry,) = _registry_info(result.stdout)
    assert entry["instanceId"] == "cri-a1b2c3d4e5f6g7h8"
    missing = run_cli("render", "configmap", "--cluster-id", CLUSTER)
    assert missing.exit_code == 2
    assert "--region" in missing.stderr and "--instance-id" in missing.stderr


def test_trust_policies(run_cli):
    cluster = run_cli("render", "trust-policy", "--side", "cluster", "-f", RRSA,
                      "--issuer", "https://issuer.example/x,https://kubernetes.default.svc")
    assert cluster.exit_code == 0, cluster.stderr
    cond = json.loads(cluster.stdout)["Statement"][0]["Condition"]["StringEquals"]
    assert cond["oidc:iss"] == "https://issuer.example/x"
    assert cond["oidc:sub"] == "system:serviceaccount:kube-system:aliyun-acr-credential-helper"
    derived = json.loads(run_cli("render", "trust-policy", "--side", "cluster", "-f", RRSA).stdout)
    assert derived["Statement"][0]["Condition"]["StringEquals"]["oidc:iss"] == \
        f"https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/{CLUSTER}"
    registry = json.loads(run_cli("render", "trust-policy", "--side", "registry", "-f", RRSA).stdout)
    assert registry["Statement"][0]["Principal"] == {"RAM": [f"acs:ram::1234567890123456:role/acrx-rrsa-{CLUSTER}"]}


def test_worker_trust_policy_needs_worker_role_name(run_cli):
    missing = run_cli("render", "trust-policy", "--side", "registry", "-f", WORKER)
    assert missing.exit_code == 2 and "--worker-role-name" in missing.stderr
    ok = run_cli("render", "trust-policy", "--side", "registry", "-f", WORKER, "--worker-role-name", "KubernetesWorkerRole-x")
    assert json.loads(ok.stdout)["Statement"][0]["Principal"]["RAM"] == ["acs:ram::1234567890123456:role/KubernetesWorkerRole-x"]
    wrong_side = run_cli("render", "trust-policy", "--side", "cluster", "-f", WORKER)
    assert wrong_side.exit_code == 2 and "--side" in wrong_side.stderr


@pytest.mark.parametrize("args", [("--side", "both"), ()])
def test_trust_policy_side_is_checked(run_cli, args):
    result = run_cli("render", "trust-policy", "-f", RRSA, *args)
    assert result.exit_code == 2 and result.stdout == ""


def test_pull_and_assume_policies(run_cli):
    # By default the form setup applies: scoped to the instance (the registry uid is needed for it).
    pull = json.loads(run_cli("render", "pull-policy", "-f", RRSA, "--registry-uid", "2222222222222222").stdout)
    assert [st["Action"] for st in pull["Statement"]] == [
        ["cr:GetAuthorizationToken"], ["cr:ListInstanceEndpoint"], ["cr:PullRepository"]]
    assert pull["Statement"][0]["Resource"] == "*"
    assert pull["Statement"][2]["Resource"].startswith("acs:cr:cn-hangzhou:2222222222222222:repository/cri-")
    broad = run_cli("render", "pull-policy", "-f", RRSA, "--pull-policy-scope", "any")
    assert json.loads(broad.stdout)["Statement"][0]["Action"] == [
        "cr:GetAuthorizationToken", "cr:ListInstanceEndpoint", "cr:PullRepository"]
    assert "warning: --pull-policy-scope any" in broad.stderr
    assume = json.loads(run_cli("render", "assume-policy", "-f", RRSA, "--registry-uid", "2222222222222222").stdout)
    assert assume["Statement"][0]["Resource"] == f"acs:ram:*:2222222222222222:role/acrx-pull-{CLUSTER}"


def test_addon_configs(run_cli):
    managed = run_cli("render", "addon-config", "-f", RRSA)
    assert managed.exit_code == 0, managed.stderr
    config = json.loads(managed.stdout)
    assert config["enableRRSA"] is True and config["watchNamespace"] == "default,apps"
    assert config["AcrInstanceInfo"][0]["rrsaRoleARN"].endswith(f"acrx-rrsa-{CLUSTER}")
    self_managed = run_cli("render", "addon-config", "-f", WORKER)
    assert json.loads(self_managed.stdout) == {"tokenMode": "workerRole"}
    ak = run_cli("render", "addon-config", "-f", AK)
    assert json.loads(ak.stdout) == {"tokenMode": "auto"}


def test_schema_command(run_cli):
    result = run_cli("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {"mode", "cluster", "registries", "network", "addon"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_init_writes_valid_file_and_refuses_overwrite(tmp_path, run_cli):
    target = tmp_path / "acrx.yaml"
    result = run_cli("init", "--mode", "worker-role", "--network", "cen", "-f", target,
                     "--cluster-id", CLUSTER, "--region", "cn-shanghai")
    assert result.exit_code == 0, result.stderr
    text = target.read_text()
    assert "token_mode: workerRole" in text and "# " in text
    from acrx.config.loader import load_config

    config = load_config(target, {})
    assert config.mode == "worker-role" and config.network.mode == "cen" and config.cluster.region == "cn-shanghai"
    again = run_cli("init", "-f", target)
    assert again.exit_code == 2 and "--force" in again.stderr
    assert target.read_text() == text
    forced = run_cli("init", "--force", "-f", target, "--mode", "access-key", "--network", "public")
    assert forced.exit_code == 0 and load_config(target, {}).mode == "access-key"


@pytest.mark.parametrize("mode", ["rrsa", "worker-role", "access-key"])
@pytest.mark.parametrize("network", ["public", "peering", "cen", "none"])
def test_init_every_combination_is_valid(tmp_path, run_cli, mode, network):
    target = tmp_path / "acrx.yaml"
    assert run_cli("init", "--mode", mode, "--network", network, "-f", target).exit_code == 0
    from acrx.config.loader import load_config

    config = load_config(target, {})
    assert (config.mode, config.network.mode) == (mode, network)


def test_init_rejects_bad_mode(tmp_path, run_cli):
    result = run_cli("init", "--mode", "kerberos", "-f", tmp_path / "x.yaml")
    assert result.exit_code == 2 and "--mode" in result.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_render_and_schema_import_no_sdk():
    code = (
        "import sys\n"
        "from acrx.cli.app import run\n"
        f"run(['render', 'configmap', '-f', {str(RRSA)!r}])\n"
        "run(['schema'])\n"
        "bad = [m for m in sys.modules if m.startswith(('alibabacloud', 'kubernetes'))]\n"
        "print('BAD', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "BAD []" in out.stdout, out.stdout + out.stderr
