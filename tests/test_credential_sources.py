"""Credential sources `default`, `oidc` and `ecs_ram_role`, driven through the CLI against the
sandbox: the default chain from environment keys or the OIDC variables, read when acrx runs (not
from the credentials library's import-time snapshot); oidc through the sandbox's STS, also as the
source of an assume_role; sources that cannot be pointed at the sandbox refused (exit 2, naming
the field, no call made); bad source config refused naming the field."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.operator_sandbox import operator_sandbox
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(180)
OIDC_VARS = ("ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE")
KEY_VARS = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN")


@pytest.fixture(autouse=True)
def _clean_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    for name in OIDC_VARS + KEY_VARS:
        monkeypatch.delenv(name, raising=False)


def _with_accounts(path, **accounts):
    config = yaml.safe_load(path.read_text())
    config["accounts"].update(accounts)
    target = path.with_name("custom.yaml")
    target.write_text(yaml.safe_dump(config, sort_keys=False))
    return target


def test_default_chain_takes_env_keys_set_after_the_library_was_imported(run_cli, tmp_path, monkeypatch):
    import alibabacloud_credentials.client  # noqa: F401  the library snapshots its variables here
    from alibabacloud_credentials.utils import auth_util

    with running_sandbox(tmp_path) as sb:
        key = sb.sandbox.account_key("cluster")
        monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", key.access_key_id)
        monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", key.secret)
        assert auth_util.environment_access_key_id != key.access_key_id  # the snapshot never saw it
        config = _with_accounts(sb.config_path, cluster={"uid": sb.seeded.account_a, "default": True})
        result = run_cli("--sandbox", sb.dir, "plan", "-f", config)
        assert result.exit_code == 0, result.stderr
        assert key.secret not in result.stdout + result.stderr


def test_default_chain_takes_the_oidc_variables(run_cli, tmp_path, monkeypatch):
    with operator_sandbox(tmp_path, mode="rrsa", network="peering") as (sb, paths):
        ci = yaml.safe_load(paths["ci"].read_text())["accounts"]["cluster"]
        monkeypatch.setenv("ALIBABA_CLOUD_ROLE_ARN", ci["oidc"]["role_arn"])
        monkeypatch.setenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", ci["oidc"]["provider_arn"])
        monkeypatch.setenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE", ci["oidc"]["token_file"])
        config = _with_accounts(paths["ci"], cluster={"uid": ci["uid"], "default": True})
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "plan", "-f", config)
        assert result.exit_code == 0, result.stderr
        # No key variable is set, so the cluster's credentials can only come from the OIDC variables:
        # one exchange for it, one for the registry's oidc source.
        exchanges = [c for c in sb.calls_since(mark) if c.action == "AssumeRoleWithOIDC" and c.status == 200]
        assert len(exchanges) >= 2
        assert not sb.writes_since(mark)


def test_oidc_as_the_source_of_an_assume_role(run_cli, tmp_path):
    """CI's OIDC identity in account A assumes a deployer role in account B."""
    with operator_sandbox(tmp_path, mode="rrsa", network="peering") as (sb, paths):
        world, ci = sb.world, yaml.safe_load(paths["ci"].read_text())["accounts"]
        ram_b = world.backend("ram", sb.seeded.account_b, "global")
        trust = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"RAM": [ci["cluster"]["oidc"]["role_arn"]]}}]}
        deployer = ram_b.create_role("ci-deployer", json.dumps(trust))
        ram_b.attach(deployer, "Role", "Custom", "acrx-operator-readonly")
        ram_a = world.backend("ram", sb.seeded.account_a, "global")
        ram_a.create_policy("ci-may-assume", json.dumps({"Version": "1", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": deployer.arn}]}))
        ram_a.attach(ram_a.role("acrx-ci-readonly"), "Role", "Custom", "ci-may-assume")
        config = _with_accounts(paths["ci"], registry={"uid": sb.seeded.account_b, "assume_role": {
            "role_arn": deployer.arn, "source": "cluster"}})
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "plan", "-f", config)
        assert result.exit_code == 0, result.stderr
        actions = [c.action for c in sb.calls_since(mark) if c.service == "sts"]
        assert "AssumeRoleWithOIDC" in actions and "AssumeRole" in actions
        assert not sb.writes_since(mark)


@pytest.mark.parametrize("source,field", [
    ({"default": True}, "accounts.cluster.default"),
    ({"ecs_ram_role": {"role_name": "runner"}}, "accounts.cluster.ecs_ram_role"),
    ({"oidc": {"role_arn": "acs:ram::1234567812345678:role/ci", "token_file": "/nonexistent/token",
               "provider_arn": "acs:ram::1234567812345678:oidc-provider/ci"}}, "accounts.cluster.oidc.token_file"),
])
def test_sources_that_cannot_reach_the_sandbox_are_refused(run_cli, tmp_path, source, field):
    with running_sandbox(tmp_path) as sb:
        config = _with_accounts(sb.config_path, cluster=source)
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "plan", "-f", config)
        assert result.exit_code == 2, result.stderr
        assert field in result.stderr
        assert not [c for c in sb.calls_since(mark) if c.account == sb.seeded.account_a]


@pytest.mark.parametrize("source,field", [
    ({"default": False}, "accounts.cluster.default"),
    ({"oidc": {"role_arn": "acs:ram::1234567812345678:role/ci", "token_file": "/t",
               "provider_arn": "arn:aws:iam::1:oidc-provider/x"}}, "accounts.cluster.oidc.provider_arn"),
    ({"ecs_ram_role": {"role_name": "bad name!"}}, "accounts.cluster.ecs_ram_role.role_name"),
    ({"default": True, "ecs_ram_role": {"role_name": "runner"}}, "accounts.cluster"),
])
def test_bad_source_config_names_the_field(run_cli, tmp_path, source, field):
    base = tmp_path / "acrx.yaml"
    base.write_text(yaml.safe_dump({
        "version": 1, "mode": "rrsa", "accounts": {"cluster": {}, "registry": {}},
        "cluster": {"id": "c0123456789abcdef0123456789abcdef", "region": "cn-hangzhou"},
        "registries": [{"instance_id": "cri-abcdefghij012345", "region": "cn-hangzhou"}]}))
    config = _with_accounts(base, cluster=source)
    result = run_cli("plan", "-f", config, "--dry-run")
    assert result.exit_code == 2, result.stderr
    assert field in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2


def _factory(tmp_path, source: dict, environ: dict):
    from acrx.cloud.credentials import CredentialsFactory
    from acrx.config.loader import load_config

    path = tmp_path / "real.yaml"
    path.write_text(yaml.safe_dump({
        "version": 1, "mode": "rrsa", "accounts": {"cluster": source, "registry": {}},
        "cluster": {"id": "c0123456789abcdef0123456789abcdef", "region": "cn-hangzhou"},
        "registries": [{"instance_id": "cri-abcdefghij012345", "region": "cn-hangzhou"}]}))
    return CredentialsFactory(load_config(path, {}), environ=environ)


def test_default_chain_reads_the_credentials_file_under_the_home_of_now(tmp_path):
    """Real mode, no network: the chain's credentials-file link, with HOME as it is when acrx runs
    (the library's own copy of HOME was taken at its import)."""
    home = tmp_path / "home"
    (home / ".alibabacloud").mkdir(parents=True)
    (home / ".alibabacloud" / "credentials.ini").write_text(
        "[default]\ntype = access_key\naccess_key_id = FAKEfromfile0001\naccess_key_secret = secret-from-file\n")
    environ = {"HOME": str(home), "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
               "ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true"}
    creds = _factory(tmp_path, {"default": True}, environ).provider("cluster").get_credentials()
    assert creds.get_access_key_id() == "FAKEfromfile0001"


def test_ecs_role_with_metadata_switched_off_names_the_field(tmp_path):
    from acrx.errors import UsageError

    factory = _factory(tmp_path, {"ecs_ram_role": {"role_name": "runner"}},
                       {"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"})
    with pytest.raises(UsageError) as info:
        factory.provider("cluster")
    assert info.value.field == "accounts.cluster.ecs_ram_role.role_name"
    assert "ALIBABA_CLOUD_ECS_METADATA_DISABLED" in str(info.value)
