"""Commands that agree (issue 14): enum flags checked while parsing with their choices in --help,
shared flag names (network apply --network, setup --dry-run/--detailed-exitcode), destroy with
setup's flags and a saved teardown (--out, --plan), global options after the subcommand, the
sandbox commands following --sandbox and ACRX_SANDBOX, no dead flags, hints that name real
options, exit codes that blame the right field, and a verify image on the wrong domain refused
before any pod runs. Through the CLI, against the sandbox where the cloud is read."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(900)


def _one_line(result, field: str) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"error: {field}"), result.stderr
    assert "Usage:" not in result.stderr and "Traceback" not in result.stderr
    return lines[0]


# -- enum flags ------------------------------------------------------------------------------------
@pytest.mark.parametrize("args,flag", [
    (("setup", "--route-to", "vcp"), "--route-to"),
    (("plan", "--mode", "kerberos"), "--mode"),
    (("destroy", "--network", "vpn"), "--network"),
    (("verify", "--assume-policy", "both"), "--assume-policy"),
    (("policy", "attach", "--pull-policy-scope", "all"), "--pull-policy-scope"),
    (("network", "apply", "--via", "vpn"), "--network"),
    (("plan", "-o", "yaml"), "--output"),
])
def test_enum_flags_are_refused_while_parsing(run_cli, tmp_path, monkeypatch, args, flag):
    monkeypatch.chdir(tmp_path)   # no acrx.yaml: a refusal after parsing would name the file instead
    line = _one_line(run_cli(*args), flag)
    assert repr(args[-1]) in line


@pytest.mark.parametrize("command,flag,choices", [
    (("setup",), "--route-to", "<endpoint|vpc>"),
    (("setup",), "--mode", "<rrsa|worker-role|access-key>"),
    (("verify",), "--network", "<public|peering|cen|none>"),
    (("destroy",), "--pull-policy-scope", "<instance|any>"),
    (("roles", "apply"), "--assume-policy", "<custom|system>"),
    (("network", "apply"), "--network, --via", "<public|peering|cen|none>"),
])
def test_help_lists_the_choices(run_cli, command, flag, choices):
    text = run_cli(*command, "--help").stdout
    assert f"{flag} {choices}" in " ".join(text.split()), text


# -- one option group for the desired state --------------------------------------------------------
GROUP = ("--mode", "--network", "--route-to", "--assume-policy", "--pull-policy-scope", "--allow-any-source")


@pytest.mark.parametrize("command", [("plan",), ("setup",), ("verify",), ("doctor",), ("destroy",)])
def test_every_desired_state_command_takes_the_group(run_cli, command):
    text = run_cli(*command, "--help").stdout
    for flag in GROUP:
        assert f"  {flag} " in text or f"  {flag}\n" in text, (command, flag)


def test_no_dead_flags(run_cli):
    rrsa = run_cli("rrsa", "enable", "--help").stdout
    for flag in ("--pull-policy-scope", "--allow-plaintext-access-key", "--assume-policy", "--route-to"):
        assert flag not in rrsa
    roles = run_cli("roles", "apply", "--help").stdout
    assert "--assume-policy" in roles and "--pull-policy-scope" not in roles
    policy = run_cli("policy", "attach", "--help").stdout
    assert "--pull-policy-scope" in policy and "--assume-policy" not in policy
    refused = run_cli("rrsa", "enable", "--allow-plaintext-access-key")
    assert refused.exit_code == 2 and "No such option: --allow-plaintext-access-key" in refused.stderr
    plan = " ".join(run_cli("plan", "--help").stdout.split())
    assert "[default: True]" not in plan and "--dry-run Accepted for symmetry" in plan
    doctor = " ".join(run_cli("doctor", "--help").stdout.split())
    assert "--timeout <str> How long to wait for the helper's pull Secret" in doctor
    assert "wait for the pull" not in doctor   # doctor pulls nothing
    setup = run_cli("setup", "--help").stdout
    assert "--dry-run" in setup and "--detailed-exitcode" in setup


def test_missing_config_hint_names_only_real_options(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in (("plan",), ("verify",), ("network", "apply")):
        result = run_cli(*command)
        assert result.exit_code == 2, result.stderr
        assert "--cluster-id" not in result.stderr and "--region" not in result.stderr, result.stderr
        assert "hint: write one with `acrx init`, or name one with -f FILE" in result.stderr
    render = run_cli("render", "configmap")
    assert render.exit_code == 2 and "--cluster-id" in render.stderr   # render has the flags it names


def test_init_into_a_missing_directory_is_one_line(run_cli, tmp_path):
    target = tmp_path / "nodir" / "acrx.yaml"
    line = _one_line(run_cli("init", "-f", target), "-f/--file")
    assert f"the directory {target.parent} does not exist" in line
    assert not target.parent.exists()


# -- against the sandbox ---------------------------------------------------------------------------
def test_global_options_after_the_subcommand_and_sandbox_commands(run_cli, tmp_path, monkeypatch):
    with running_sandbox(tmp_path) as sb:
        before = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path, "-o", "json")
        after = run_cli("plan", "-f", sb.config_path, "--sandbox", sb.dir, "-o", "json", "-q")
        assert after.exit_code == 0, after.stderr
        assert json.loads(after.stdout)["data"]["changes"] == json.loads(before.stdout)["data"]["changes"]
        nested = run_cli("network", "apply", "--dry-run", "-f", sb.config_path, "--sandbox", sb.dir)
        assert nested.exit_code == 0, nested.stderr
        # sandbox env: --state-dir, else the global --sandbox DIR (before or after), else ACRX_SANDBOX
        expected = (sb.dir / "sandbox.env").read_text()
        assert run_cli("--sandbox", sb.dir, "sandbox", "env").stdout == expected
        assert run_cli("sandbox", "env", "--sandbox", sb.dir).stdout == expected
        monkeypatch.setenv("ACRX_SANDBOX", str(sb.dir))
        assert run_cli("sandbox", "env").stdout == expected
        monkeypatch.delenv("ACRX_SANDBOX")
        monkeypatch.chdir(tmp_path)
        missing = run_cli("sandbox", "env")
        assert missing.exit_code == 2 and os.path.join(".acrx", "sandbox", "sandbox.env") in missing.stderr


def test_network_apply_takes_network_and_via(run_cli, tmp_path):
    with running_sandbox(tmp_path, network="peering") as sb:
        plans = {}
        for flag in ("--network", "--via"):
            result = run_cli("--sandbox", sb.dir, "network", "apply", "-f", sb.config_path, flag, "public",
                             "--dry-run", "-o", "json")
            assert result.exit_code == 0, result.stderr
            plans[flag] = [c["address"] for c in json.loads(result.stdout)["data"]["changes"]]
        assert plans["--network"] == plans["--via"] and any(a.startswith("cr.acl.") for a in plans["--via"])


def test_setup_dry_run_and_detailed_exitcode(run_cli, tmp_path):
    with running_sandbox(tmp_path) as sb:
        mark = sb.mark()
        pending = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--dry-run", "--detailed-exitcode")
        assert pending.exit_code == 3, pending.stderr
        assert "to create" in pending.stdout
        assert sb.writes_since(mark) == []
        _one_line(run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--detailed-exitcode", "--yes"),
                  "--detailed-exitcode")


def test_destroy_saves_a_teardown_and_applies_it_exactly(run_cli, tmp_path):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        def acrx(*args):
            return run_cli("--sandbox", sb.dir, *args, "-f", sb.config_path)

        setup_plan = tmp_path / "setup.json"
        saved_setup = acrx("plan", "--out", setup_plan)
        assert saved_setup.exit_code == 0 and "plan.json" not in saved_setup.stdout + saved_setup.stderr
        assert acrx("-q", "setup", "--yes", "--no-verify").exit_code == 0
        teardown = tmp_path / "teardown.json"
        saved = acrx("destroy", "--dry-run", "--out", teardown, "--mode", "worker-role", "--network", "public")
        assert saved.exit_code == 0, saved.stderr
        doc = json.loads(teardown.read_text())
        deletes = sorted(c["address"] for c in doc["changes"] if c["action"] == "delete")
        assert deletes and doc["meta"]["command"] == "destroy"
        # each kind of plan goes to its own command
        line = _one_line(acrx("setup", "--plan", teardown, "--yes"), "--plan")
        assert "is a teardown" in line
        line = _one_line(acrx("destroy", "--plan", setup_plan, "--yes"), "--plan")
        assert "is a setup plan" in line
        _one_line(acrx("destroy", "--out", teardown, "--yes"), "--out")
        mark = sb.mark()
        applied = acrx("destroy", "--plan", teardown, "--yes", "-o", "json")
        assert applied.exit_code == 0, applied.stderr
        result = json.loads(applied.stdout)["data"]
        assert sorted(result["plan"]["changes"][i]["address"] for i, c in enumerate(result["plan"]["changes"])
                      if c["action"] == "delete") == deletes
        assert sb.writes_since(mark)
        again = acrx("destroy", "--dry-run", "--detailed-exitcode")
        assert again.exit_code == 0, again.stdout


def test_wrong_cluster_id_and_region_blame_their_fields(run_cli, tmp_path):
    with running_sandbox(tmp_path) as sb:
        doc = yaml.safe_load(sb.config_path.read_text())
        for field, section, key, value in (("cluster.id", "cluster", "id", "c" + "0" * 32),
                                           ("cluster.region", "cluster", "region", "cn-hangzou")):
            wrong = json.loads(json.dumps(doc))
            wrong[section][key] = value
            path = tmp_path / f"{key}.yaml"
            path.write_text(yaml.safe_dump(wrong))
            mark = sb.mark()
            for command in (("plan",), ("verify",)):
                line = _one_line(run_cli("--sandbox", sb.dir, *command, "-f", path), field)
                assert value in line
            assert sb.writes_since(mark) == []
        assert "is in cn-hangzhou, not cn-hangzou" in line


@pytest.mark.parametrize("network,domain_kind", [("public", "vpc"), ("peering", "internet"), ("cen", "internet")])
def test_a_verify_image_the_network_cannot_reach_is_refused_before_any_pod(run_cli, tmp_path, network, domain_kind):
    with running_sandbox(tmp_path, network=network) as sb:
        s = sb.seeded
        wrong, right = ((s.domain_vpc, s.domain_public) if domain_kind == "vpc" else (s.domain_public, s.domain_vpc))
        doc = yaml.safe_load(sb.config_path.read_text())
        doc["verify"]["image"] = f"{wrong}/{s.image_repo}:{s.image_tag}"
        sb.config_path.write_text(yaml.safe_dump(doc))
        mark = sb.mark()
        for command in (("verify",), ("setup", "--yes")):
            result = run_cli("--sandbox", sb.dir, *command, "-f", sb.config_path)
            line = _one_line(result, "verify.image")
            assert ("VPC domain" if domain_kind == "vpc" else "internet domain") in line
            assert f"hint: set verify.image: {right}/{s.image_repo}:{s.image_tag}" in result.stderr
            assert "network apply" not in result.stderr and "PrivateZone" not in result.stderr
        assert sb.writes_since(mark) == []   # no Deployment, no change anywhere


def test_the_fix_flag_map_matches_each_commands_flags(run_cli):
    """acrx.cli.desired.TAKES words fix commands: a flag it adds must be one the command has."""
    import re

    from acrx.cli.desired import TAKES
    from acrx.steps.applied import SETTINGS

    flag_of = {**{name: flag for name, (flag, _) in SETTINGS.items()}, "allow_any_source": "--allow-any-source"}
    for command, takes in TAKES.items():
        text = run_cli(*command.split()[1:], "--help").stdout
        has = {name for name, flag in flag_of.items() if re.search(rf"^\s+{re.escape(flag)}[ ,\n]", text, re.M)}
        assert has == set(takes), command
