"""A saved plan is a contract (issue 11, item 1): `setup --plan FILE` applies exactly what was
reviewed, under the settings it was made with, or refuses with exit 2 and changes nothing."""

from __future__ import annotations

import json

import pytest

from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _cli(run_cli, sb, command: str, *extra):
    return run_cli("--sandbox", sb.dir, command, "-f", sb.config_path, *extra)


def _saved(run_cli, sb, tmp_path, *flags):
    out = tmp_path / "p.json"
    result = _cli(run_cli, sb, "plan", "--out", out, *flags)
    assert result.exit_code == 0, result.stderr[-2000:]
    return out


def _edit(path, fn) -> None:
    raw = json.loads(path.read_text())
    fn(raw)
    path.write_text(json.dumps(raw))


def _change(raw, address):
    return next(c for c in raw["changes"] if c["address"] == address)


def _widen_pull_policy(raw) -> None:
    change = _change(raw, "ram.policy.registry_pull")
    for side in (change["data"], change["after"]):
        side["document"]["Statement"] = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]


@pytest.mark.parametrize("edit, names", [
    (_widen_pull_policy, "ram.policy.registry_pull"),
    (lambda raw: raw.pop("fingerprint"), "no fingerprint"),
    (lambda raw: raw["settings"].update(pull_policy_scope="any"), "settings"),
    (lambda raw: _change(raw, "ram.role.registry")["data"].update(max_session_duration=43200), "ram.role.registry"),
    (lambda raw: raw["changes"].pop(), "edited or is incomplete"),
])
def test_an_edited_saved_plan_is_refused_and_nothing_is_written(tmp_path, run_cli, edit, names):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        path = _saved(run_cli, sb, tmp_path)
        _edit(path, edit)
        mark = sb.mark()
        result = _cli(run_cli, sb, "setup", "--plan", path, "--yes", "--no-verify")
        assert result.exit_code == 2, result.stderr[-2000:]
        first = result.stderr.splitlines()[0]
        assert first.startswith("error: --plan: ") and names in first, result.stderr
        assert sb.calls_since(mark) == [], "a refused plan must not even read the cloud"


def test_a_plan_made_with_flags_applies_with_setup_plan_alone(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="rrsa", network="public") as sb:
        # The file says rrsa + public; its verify image is the one a cen path reaches.
        import yaml

        config = sb.sandbox.config("rrsa", "cen")
        config["network"] = {**config["network"], "mode": "public"}
        sb.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        path = _saved(run_cli, sb, tmp_path, "--mode", "worker-role", "--network", "cen",
                      "--pull-policy-scope", "any")
        settings = json.loads(path.read_text())["settings"]
        assert settings["mode"] == "worker-role" and settings["network"] == "cen"
        assert settings["pull_policy_scope"] == "any"

        result = _cli(run_cli, sb, "setup", "--plan", path, "--yes")
        assert result.exit_code == 0, result.stderr[-3000:]
        assert "Successfully pulled image" in result.stdout + result.stderr
        again = _cli(run_cli, sb, "plan", "--mode", "worker-role", "--network", "cen",
                     "--pull-policy-scope", "any", "--detailed-exitcode")
        assert again.exit_code == 0, again.stdout[-2000:]


@pytest.mark.parametrize("flag", [["--mode", "rrsa"], ["--network", "public"], ["--pull-policy-scope", "instance"],
                                  ["--route-to", "vpc"], ["--allow-plaintext-access-key"]])
def test_a_flag_contradicting_the_saved_plan_exits_2_naming_it(tmp_path, run_cli, flag):
    with running_sandbox(tmp_path, mode="rrsa", network="public") as sb:
        path = _saved(run_cli, sb, tmp_path, "--mode", "worker-role", "--network", "cen",
                      "--pull-policy-scope", "any", "--route-to", "endpoint")
        mark = sb.mark()
        result = _cli(run_cli, sb, "setup", "--plan", path, "--yes", *flag)
        assert result.exit_code == 2, result.stderr[-2000:]
        assert result.stderr.startswith(f"error: {flag[0]}: the saved plan was made with"), result.stderr
        assert sb.writes_since(mark) == []
        # The same value as the file is no contradiction.
        same = _cli(run_cli, sb, "setup", "--plan", path, "--yes", "--no-verify", "--mode", "worker-role")
        assert same.exit_code == 0, same.stderr[-3000:]


def test_a_stale_saved_plan_names_the_file_in_its_hint(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        path = _saved(run_cli, sb, tmp_path)
        assert _cli(run_cli, sb, "setup", "--yes", "--no-verify").exit_code == 0
        result = _cli(run_cli, sb, "setup", "--plan", path, "--yes", "--no-verify")
        assert result.exit_code == 1
        assert "no longer matches the live state" in result.stderr
        assert f"acrx plan --out {path}" in result.stderr


def test_plan_out_into_a_missing_directory_is_one_line_exit_2(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        target = tmp_path / "no" / "such" / "dir" / "mine.json"
        mark = sb.mark()
        result = _cli(run_cli, sb, "plan", "--out", target)
        assert result.exit_code == 2
        lines = result.stderr.strip().splitlines()
        assert lines[0].startswith("error: --out: ") and str(target) in lines[0]
        assert all(line.startswith(("error:", "hint:")) for line in lines)
        assert "Errno" not in result.stderr and result.stdout == ""
        assert sb.calls_since(mark) == []


def test_destroy_detailed_exitcode_needs_dry_run(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        mark = sb.mark()
        result = _cli(run_cli, sb, "destroy", "--yes", "--detailed-exitcode")
        assert result.exit_code == 2
        assert result.stderr.startswith("error: --detailed-exitcode: ")
        assert sb.calls_since(mark) == []
