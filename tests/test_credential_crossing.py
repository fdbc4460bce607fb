"""Credentials never cross: in access-key mode, an account's own AccessKey is never taken as the
key the ConfigMap holds. Same variable or same key id: exit 2 naming both fields, nothing written."""

from __future__ import annotations

import json

import pytest

from sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def _clean_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    for name in ("ACRX_ADDON_ACCESS_KEY_ID", "ACRX_ADDON_ACCESS_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)


def _access_key_config(sb, **access_key):
    return sb.write_config(mode="access-key", network="public", addon={"access_key": access_key} if access_key else {})


def _assert_refused(result, *fields):
    assert result.exit_code == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: addon.access_key."), result.stderr
    for field in fields:
        assert field in lines[0], lines[0]
    assert "ConfigMap" in lines[0]
    assert "Traceback" not in result.stderr


def test_defaults_name_no_account_source():
    from acrx.config import defaults
    from acrx.config.model import AcrxConfig

    config = AcrxConfig.model_validate({"cluster": {"id": "c" + "0" * 32, "region": "cn-hangzhou"},
                                        "registry": {"instance_id": "cri-" + "a" * 16, "region": "cn-hangzhou"}})
    names = {config.addon.access_key.access_key_id_env, config.addon.access_key.access_key_secret_env}
    assert names == {defaults.DEFAULT_AK_ID_ENV, defaults.DEFAULT_AK_SECRET_ENV}
    for account in config.accounts.values():
        assert not names & {account.env_source.access_key_id, account.env_source.access_key_secret}
    assert not any("REGISTRY" in n for n in names)   # the names docs/ci.md once gave account B


@pytest.mark.parametrize("command", [("setup", "--yes", "--no-verify", "--allow-plaintext-access-key"),
                                     ("plan",), ("policy", "attach", "--yes", "--allow-plaintext-access-key")])
def test_same_variable_as_the_registry_account_exits_2(tmp_path, run_cli, command):
    with running_sandbox(tmp_path, mode="access-key", network="public") as sb:
        # The sandbox's account B reads ACRX_SANDBOX_REGISTRY_ACCESS_KEY_ID/SECRET: the same names here.
        _access_key_config(sb, access_key_id_env="ACRX_SANDBOX_REGISTRY_ACCESS_KEY_ID",
                           access_key_secret_env="ACRX_SANDBOX_REGISTRY_ACCESS_KEY_SECRET")
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, *command, "-f", sb.config_path)
        _assert_refused(result, "addon.access_key.access_key_id_env", "accounts.registry.env.access_key_id")
        assert sb.writes_since(mark) == []
        assert sb.sandbox.cluster.store.list("configmaps", "kube-system") == [] or all(
            "accessKey" not in json.dumps(cm.get("data") or {})
            for cm in sb.sandbox.cluster.store.list("configmaps", "kube-system"))


def test_the_consent_flag_lets_it_through_with_a_warning_and_verify_never_refuses(tmp_path, run_cli):
    """--allow-foreign-access-key is the explicit consent; verify and doctor write no key, so they
    never refuse (a setup made with the consent must stay verifiable)."""
    with running_sandbox(tmp_path, mode="access-key", network="public") as sb:
        _access_key_config(sb, access_key_id_env="ACRX_SANDBOX_REGISTRY_ACCESS_KEY_ID",
                           access_key_secret_env="ACRX_SANDBOX_REGISTRY_ACCESS_KEY_SECRET")
        result = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path, "--allow-foreign-access-key",
                         "--allow-plaintext-access-key")
        assert result.exit_code in (0, 3), result.stderr
        assert "warning: --allow-foreign-access-key" in result.stderr
        assert "addon.access_key.access_key_id_env" not in result.stderr
        for command in ("verify", "doctor"):
            result = run_cli("--sandbox", sb.dir, command, "-f", sb.config_path, "--timeout", "20s")
            assert "error: addon.access_key." not in result.stderr, result.stderr
            assert "--allow-foreign-access-key" not in result.stderr


def test_same_key_id_under_other_names_exits_2(tmp_path, run_cli, monkeypatch):
    with running_sandbox(tmp_path, mode="access-key", network="public") as sb:
        _access_key_config(sb)
        own = sb.sandbox.account_key("registry")
        # account B's deploy key, exported under the addon's default names
        monkeypatch.setenv("ACRX_ADDON_ACCESS_KEY_ID", own.access_key_id)
        monkeypatch.setenv("ACRX_ADDON_ACCESS_KEY_SECRET", own.secret)
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes", "--no-verify",
                         "--allow-plaintext-access-key")
        _assert_refused(result, "addon.access_key.access_key_id_env", "accounts.registry.env.access_key_id")
        assert own.secret not in result.stdout + result.stderr
        assert sb.writes_since(mark) == []


def test_the_cluster_account_is_a_source_too(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="access-key", network="public") as sb:
        _access_key_config(sb, access_key_secret_env="ACRX_SANDBOX_CLUSTER_ACCESS_KEY_SECRET")
        result = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path)
        _assert_refused(result, "addon.access_key.access_key_secret_env", "accounts.cluster.env.access_key_secret")


def test_rrsa_mode_writes_no_key_so_nothing_is_refused(tmp_path, run_cli):
    with running_sandbox(tmp_path) as sb:
        sb.write_config(mode="rrsa", addon={"access_key": {"access_key_id_env": "ACRX_SANDBOX_REGISTRY_ACCESS_KEY_ID"}})
        result = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path)
        assert result.exit_code in (0, 3), result.stderr


def test_profile_key_id_is_compared(tmp_path, monkeypatch):
    """An aliyun CLI profile holding the same key id as the addon's variable is a crossing too."""
    from acrx.config.crossing import check_access_key_crossing
    from acrx.config.model import AcrxConfig
    from acrx.errors import UsageError

    config = AcrxConfig.model_validate({
        "mode": "access-key", "accounts": {"cluster": {"profile": "a"}, "registry": {"profile": "b"}},
        "cluster": {"id": "c" + "0" * 32, "region": "cn-hangzhou"},
        "registry": {"instance_id": "cri-" + "a" * 16, "region": "cn-hangzhou"}})
    profiles = {"a": "LTAIaaaa", "b": "LTAIbbbb"}
    environ = {"ACRX_ADDON_ACCESS_KEY_ID": "LTAIbbbb", "ACRX_ADDON_ACCESS_KEY_SECRET": "s"}
    with pytest.raises(UsageError) as caught:
        check_access_key_crossing(config, environ=environ, profile_lookup=profiles.get)
    assert "accounts.registry.profile" in str(caught.value) and caught.value.field.startswith("addon.access_key")
    check_access_key_crossing(config, environ=environ, profile_lookup=profiles.get, allow_foreign=True)
    check_access_key_crossing(config, environ={**environ, "ACRX_ADDON_ACCESS_KEY_ID": "LTAIpull"},
                              profile_lookup=profiles.get)
