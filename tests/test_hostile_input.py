"""Hostile input: every bad file, field or flag exits 2 within 5 s with ONE line naming the file,
field or flag; nothing raw reaches the terminal, nothing long is echoed back."""

from __future__ import annotations

import copy
import time

import pytest
import yaml

from test_config_invalid import BASE, CLUSTER_ID, INSTANCE_ID, _set

DEADLINE_S = 5.0


def _run_timed(run_cli, *args):
    started = time.monotonic()
    result = run_cli(*args)
    return result, time.monotonic() - started


def _assert_one_line_exit_2(result, elapsed, *names):
    assert result.exit_code == 2, result.stdout + result.stderr
    assert elapsed < DEADLINE_S, f"took {elapsed:.1f}s"
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith("error: "), result.stderr
    assert len([line for line in lines if not line.startswith("hint: ")]) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for name in names:
        assert name in lines[0], lines[0]
    assert "\x1b" not in result.stderr and "\r" not in result.stderr
    return lines[0]


def _write(tmp_path, doc) -> str:
    path = tmp_path / "acrx.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


# -- full matches: a final newline passes no pattern ----------------------------------------------
NEWLINE_CASES = [
    ("cluster.id", _set("cluster.id", CLUSTER_ID + "\n")),
    ("cluster.region", _set("cluster.region", "cn-hangzhou\n")),
    ("cluster.account", _set("cluster.account", "cluster\n")),
    ("registries[0].region", _set("registries.0.region", "cn-hangzhou\n")),
    ("registries[0].instance_id", _set("registries.0.instance_id", INSTANCE_ID + "\n")),
    ("registries[0].instance_name", _set("registries.0.instance_name", "acme\n")),
    ("registries[0].domains[0]", _set("registries.0.domains", ["acme-registry.cn-hangzhou.cr.aliyuncs.com\n"])),
    ("accounts.cluster.uid", _set("accounts.cluster.uid", "1234567890123456\n")),
    ("accounts.cluster.profile", _set("accounts.cluster.profile", "prod-a\n")),
    ("accounts.registry.env.access_key_id", _set("accounts.registry.env.access_key_id", "B_AK_ID\n")),
    ("accounts.registry.env.security_token", _set("accounts.registry.env.security_token", "B_TOKEN\n")),
    ("accounts.registry.assume_role.role_arn", _set("accounts.registry", {"assume_role": {
        "role_arn": "acs:ram::6543210987654321:role/admin\n", "source": "cluster"}})),
    ("accounts.registry.assume_role.source", _set("accounts.registry", {"assume_role": {
        "role_arn": "acs:ram::6543210987654321:role/admin", "source": "cluster\n"}})),
    ("accounts.registry.assume_role.session_name", _set("accounts.registry", {"assume_role": {
        "role_arn": "acs:ram::6543210987654321:role/admin", "source": "cluster", "session_name": "acrx\n"}})),
    ("accounts.registry.assume_role.external_id", _set("accounts.registry", {"assume_role": {
        "role_arn": "acs:ram::6543210987654321:role/admin", "source": "cluster", "external_id": "abc\n"}})),
    ("accounts", _set("accounts", {"cluster\n": {"profile": "a"}, "registry": {"profile": "b"}})),
    ("roles.cluster_role", _set("roles.cluster_role", "acrx-rrsa\n")),
    ("roles.registry_role", _set("roles.registry_role", "acrx-pull\n")),
    ("roles.pull_policy", _set("roles.pull_policy", "acrx-pull\n")),
    ("addon.service_accounts[0]", _set("addon.service_accounts", ["default\n"])),
    ("addon.watch_namespaces[0]", _set("addon.watch_namespaces", ["default\n"])),
    ("addon.expiring_threshold", _set("addon.expiring_threshold", "15m\n")),
    ("addon.notify_email", _set("addon.notify_email", "ops@example.com\n")),
    ("addon.access_key.access_key_id_env", _set("addon.access_key", {"access_key_id_env": "PULL_ID\n"})),
    ("network.registry_vpc_id", _set("network.registry_vpc_id", "vpc-abcdefgh12\n")),
    ("network.registry_vswitch_id", _set("network.registry_vswitch_id", "vsw-abcdefgh12\n")),
    ("network.cen_id", _set("network", {"mode": "cen", "cen_id": "cen-abcdefgh12\n"})),
    ("verify.image", _set("verify.image", "acme-registry.cn-hangzhou.cr.aliyuncs.com/ns/nginx:1\n")),
    ("verify.namespace", _set("verify.namespace", "default\n")),
    ("verify.service_account", _set("verify.service_account", "default\n")),
    ("verify.timeout", _set("verify.timeout", "5m\n")),
]


@pytest.mark.parametrize("field,mutate", NEWLINE_CASES, ids=[c[0] for c in NEWLINE_CASES])
def test_a_final_newline_is_refused(tmp_path, run_cli, field, mutate):
    doc = copy.deepcopy(BASE)
    mutate(doc)
    result, elapsed = _run_timed(run_cli, "render", "configmap", "-f", _write(tmp_path, doc))
    line = _assert_one_line_exit_2(result, elapsed, field)
    assert "\\n" in line or field == "accounts"   # the value is shown escaped


def _without_newlines(node):
    if isinstance(node, dict):
        return {_without_newlines(k): _without_newlines(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_without_newlines(v) for v in node]
    return node.replace("\n", "") if isinstance(node, str) else node


def test_the_valid_values_of_the_newline_cases_pass():
    """Each case above differs from a valid config only by its newline: the newline is the cause."""
    from acrx.config.model import AcrxConfig

    for _field, mutate in NEWLINE_CASES:
        doc = copy.deepcopy(BASE)
        mutate(doc)
        AcrxConfig.model_validate(_without_newlines(doc))


@pytest.mark.parametrize("flag,value", [("--cluster-id", CLUSTER_ID + "\n"), ("--region", "cn-hangzhou\n"),
                                        ("--instance-id", INSTANCE_ID + "\n"), ("--registry-region", "cn-beijing\n")])
def test_flags_with_a_final_newline_are_refused(tmp_path, run_cli, flag, value):
    path = _write(tmp_path, BASE)
    result, elapsed = _run_timed(run_cli, "render", "configmap", "-f", path, flag, value)
    _assert_one_line_exit_2(result, elapsed)
    # init would have templated the newline into the file it writes: refused before writing
    target = tmp_path / "new.yaml"
    result, elapsed = _run_timed(run_cli, "init", "-f", target, flag, value)
    _assert_one_line_exit_2(result, elapsed, flag)
    assert not target.exists()


# -- a bounded loader ---------------------------------------------------------------------------------
def _alias_bomb() -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    previous = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text


BAD_FILES = [
    ("alias-bomb", _alias_bomb().encode(), "alias"),
    ("alias-cycle", b"cluster: &a {x: [*a]}\n", "contains it"),
    ("deep-flow", b"x: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nest"),
    ("deep-block", "".join("  " * i + f"k{i}:\n" for i in range(300)).encode() + b"  " * 300 + b"v: 1\n", "nest"),
    ("binary", bytes(range(256)) * 4, "binary"),
    ("latin-1", "cluster:\n  region: cn-hangzh\u00f6u\n".encode("latin-1"), "UTF-8"),
    ("utf-16", "mode: rrsa\n".encode("utf-16"), ""),
    ("too-big", b"mode: rrsa\n# " + b"x" * (1024 * 1024) + b"\n", "KiB"),
    ("escape-in-yaml", b"mode: \x1b[31mrrsa\n", "YAML"),
]


@pytest.mark.parametrize("name,content,words", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_hostile_files_exit_2_fast_naming_the_file(tmp_path, run_cli, name, content, words):
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(content)
    result, elapsed = _run_timed(run_cli, "render", "configmap", "-f", path)
    line = _assert_one_line_exit_2(result, elapsed, path.name)
    assert words in line
    assert len(line) < 400


def test_plan_refuses_an_alias_bomb_too(tmp_path, run_cli):
    path = tmp_path / "acrx.yaml"
    path.write_text(_alias_bomb())
    result, elapsed = _run_timed(run_cli, "plan", "-f", path)
    _assert_one_line_exit_2(result, elapsed, "acrx.yaml")


def test_ordinary_anchors_and_aliases_still_load(tmp_path, run_cli):
    text = yaml.safe_dump(BASE, sort_keys=False).replace("  namespace: default\n", "  namespace: &ns default\n", 1)
    text = text.replace("  service_account: default\n", "  service_account: *ns\n")
    path = tmp_path / "acrx.yaml"
    path.write_text(text)
    assert "*ns" in text
    result = run_cli("render", "configmap", "-f", path)
    assert result.exit_code == 0, result.stderr


# -- what the terminal sees --------------------------------------------------------------------------
def test_control_characters_in_a_key_are_escaped(tmp_path, run_cli):
    doc = copy.deepcopy(BASE)
    doc["cluster"]["\x1b]0;pwned\x07\x1b[2J"] = "x"
    result, elapsed = _run_timed(run_cli, "render", "configmap", "-f", _write(tmp_path, doc))
    line = _assert_one_line_exit_2(result, elapsed, "cluster.", "unknown key")
    assert "\\x1b]0;pwned\\x07" in line and "\x07" not in result.stderr


def test_control_characters_in_a_value_are_escaped(tmp_path, run_cli):
    doc = copy.deepcopy(BASE)
    doc["cluster"]["region"] = "cn-\x1b[31mhangzhou\u202e"
    result, elapsed = _run_timed(run_cli, "render", "configmap", "-f", _write(tmp_path, doc))
    line = _assert_one_line_exit_2(result, elapsed, "cluster.region")
    assert "\\x1b[31m" in line and "\u202e" not in result.stderr


@pytest.mark.parametrize("field,mutate", [
    ("cluster.id", lambda doc: doc["cluster"].update(id="c" * 1_000_000)),
    ("verify.image", lambda doc: doc["verify"].update(image="x/" * 500_000)),
    ("mode", lambda doc: doc.update(mode="m" * 1_000_000)),
    ("cluster", lambda doc: doc["cluster"].update({"k" * 500_000: 1})),
])
def test_a_huge_value_is_not_echoed_whole(tmp_path, run_cli, field, mutate):
    doc = copy.deepcopy(BASE)
    mutate(doc)
    result, elapsed = _run_timed(run_cli, "render", "configmap", "-f", _write(tmp_path, doc))
    line = _assert_one_line_exit_2(result, elapsed, field)
    assert len(line) < 400, len(line)
    assert "..." in line


def test_a_huge_flag_value_is_not_echoed_whole(tmp_path, run_cli):
    result, elapsed = _run_timed(run_cli, "render", "configmap", "-f", _write(tmp_path, BASE),
                                 "-o", "\x1b[31m" + "j" * 100_000)
    line = _assert_one_line_exit_2(result, elapsed, "--output")
    assert len(line) < 400


# -- silently accepted before, refused now -----------------------------------------------------------
@pytest.mark.parametrize("value", ["1000000h", "2h", "61m", "3601s"])
def test_verify_timeout_above_an_hour_is_refused(tmp_path, run_cli, value):
    doc = copy.deepcopy(BASE)
    doc["verify"]["timeout"] = value
    result, elapsed = _run_timed(run_cli, "render", "configmap", "-f", _write(tmp_path, doc))
    line = _assert_one_line_exit_2(result, elapsed, "verify.timeout")
    assert "maximum 1h" in line


def test_verify_timeout_of_an_hour_is_accepted(tmp_path, run_cli):
    doc = copy.deepcopy(BASE)
    doc["verify"]["timeout"] = "1h"
    assert run_cli("render", "configmap", "-f", _write(tmp_path, doc)).exit_code == 0


@pytest.mark.parametrize("command", ["verify", "doctor"])
@pytest.mark.parametrize("value", ["1000000h", "3601", "0", "soon\n"])
def test_timeout_flag_above_an_hour_is_refused(tmp_path, run_cli, command, value):
    result, elapsed = _run_timed(run_cli, command, "-f", _write(tmp_path, BASE), "--timeout", value)
    _assert_one_line_exit_2(result, elapsed, "--timeout")


def test_allow_any_source_without_the_public_network_is_refused(tmp_path, run_cli):
    path = _write(tmp_path, BASE)   # network.mode peering
    for args in (("setup", "--yes"), ("setup", "--yes", "--network", "cen"), ("plan",)):
        result, elapsed = _run_timed(run_cli, *args, "-f", path, "--allow-any-source")
        _assert_one_line_exit_2(result, elapsed, "--allow-any-source")
    result, elapsed = _run_timed(run_cli, "network", "apply", "-f", path, "--allow-any-source", "--yes")
    _assert_one_line_exit_2(result, elapsed, "--allow-any-source")   # the flag, as setup and plan
