"""Settings that stick (issue 14): every desired-state setting is an acrx.yaml key, acrx's marks on
the cluster record the settings a setup applied, and when a plain run's config disagrees with
those marks, plan, setup, verify and doctor say so in one line naming the flags to pass, change
nothing and offer no fix command. Through the CLI against the sandbox."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(900)

FIXES = ("fix:", "acrx setup", "acrx network apply", "acrx rrsa enable", "acrx roles apply", "acrx policy attach",
         "acrx addon install", "acrx destroy")


def _acrx(run_cli, sb, *args):
    return run_cli("--sandbox", sb.dir, *args, "-f", sb.config_path)


def _set_key(sb, section: str, key: str, value) -> None:
    doc = yaml.safe_load(sb.config_path.read_text())
    doc.setdefault(section, {})[key] = value
    sb.config_path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _refused(result, message: str, switch: str | None = None) -> None:
    """Exit 2 with exactly `message`. A read-only command offers nothing more; a command that
    applies also says how to switch on purpose (`switch`: the file's settings as flags)."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"error: {message}", result.stderr
    if switch is None:
        assert len(lines) == 1, result.stderr
        assert not any(f in result.stdout + result.stderr for f in FIXES), result.stderr
    else:
        path = message.rsplit("edit ", 1)[1]
        assert lines[1:] == [f"hint: to set the cluster up for what {path} says instead, ask for it with flags: "
                             f"{switch}"], result.stderr


def test_worker_role_cen_then_plain_commands_name_the_flags(run_cli, tmp_path):
    with running_sandbox(tmp_path, mode="rrsa", network="peering") as sb:
        setup = _acrx(run_cli, sb, "setup", "--mode", "worker-role", "--network", "cen", "--yes")
        assert setup.exit_code == 0, setup.stderr
        path = sb.config_path
        message = (f"the cluster is set up for worker-role + cen (acrx's marks); {path} says rrsa + peering: "
                   f"pass --mode worker-role --network cen or edit {path}")
        mark = sb.mark()
        for command in ("verify", "doctor", "plan"):
            _refused(_acrx(run_cli, sb, command), message)
        _refused(_acrx(run_cli, sb, "setup", "--dry-run"), message)
        _refused(_acrx(run_cli, sb, "setup", "--yes"), message, switch="acrx setup --mode rrsa --network peering")
        # step commands name only the flags they have
        _refused(_acrx(run_cli, sb, "network", "apply", "--yes"),
                 f"the cluster is set up for worker-role + cen (acrx's marks); {path} says rrsa + peering: "
                 f"pass --network cen or edit {path}", switch="acrx network apply --network peering")
        _refused(_acrx(run_cli, sb, "rrsa", "enable", "--dry-run"),
                 f"the cluster is set up for worker-role + cen (acrx's marks); {path} says rrsa + peering: "
                 f"pass --mode worker-role or edit {path}")
        assert sb.writes_since(mark) == []
        # the flags named make every command agree with the working setup
        flags = ("--mode", "worker-role", "--network", "cen")
        assert _acrx(run_cli, sb, "plan", *flags, "--detailed-exitcode").exit_code == 0
        verify = _acrx(run_cli, sb, "verify", *flags)
        assert verify.exit_code == 0, verify.stderr
        assert "verified: Successfully pulled image" in verify.stdout
        assert _acrx(run_cli, sb, "doctor", *flags).exit_code == 0
        # asking for peering on purpose: the cen route in the way is named as acrx's own, not as
        # one "acrx did not plan"
        switch = _acrx(run_cli, sb, "plan", "--mode", "worker-role", "--network", "peering")
        assert switch.exit_code == 2, switch.stderr
        assert "a route acrx made for another network path" in switch.stderr, switch.stderr
        assert "did not plan" not in switch.stderr
        # ... and so does acrx.yaml once it says the same
        sb.write_config(mode="worker-role", network="cen")
        assert _acrx(run_cli, sb, "plan", "--detailed-exitcode").exit_code == 0
        assert _acrx(run_cli, sb, "verify").exit_code == 0


@pytest.mark.parametrize("flag,value,section,key", [
    ("--route-to", "vpc", "network", "route_to"),
    ("--assume-policy", "system", "roles", "assume_policy"),
    ("--pull-policy-scope", "any", "roles", "pull_policy_scope"),
])
def test_a_setting_given_as_a_flag_sticks(run_cli, tmp_path, flag, value, section, key):
    with running_sandbox(tmp_path, mode="rrsa", network="peering") as sb:
        setup = _acrx(run_cli, sb, "-q", "setup", flag, value, "--yes", "--no-verify")
        assert setup.exit_code == 0, setup.stderr
        path = sb.config_path
        default = {"route_to": "endpoint", "assume_policy": "custom", "pull_policy_scope": "instance"}[key]
        mark = sb.mark()
        _refused(_acrx(run_cli, sb, "verify"),
                 f"the cluster is set up for rrsa + peering, {key} {value} (acrx's marks); {path} says "
                 f"rrsa + peering, {key} {default}: pass {flag} {value} or edit {path}")
        _refused(_acrx(run_cli, sb, "plan", "--detailed-exitcode"),
                 f"the cluster is set up for rrsa + peering, {key} {value} (acrx's marks); {path} says "
                 f"rrsa + peering, {key} {default}: pass {flag} {value} or edit {path}")
        assert sb.writes_since(mark) == []
        assert _acrx(run_cli, sb, "plan", flag, value, "--detailed-exitcode").exit_code == 0
        verify = _acrx(run_cli, sb, "verify", flag, value)
        assert verify.exit_code == 0, verify.stderr
        # the same setting as an acrx.yaml key
        _set_key(sb, section, key, value)
        assert _acrx(run_cli, sb, "plan", "--detailed-exitcode").exit_code == 0
        assert _acrx(run_cli, sb, "verify").exit_code == 0


def test_a_later_setup_restamps_the_marks(run_cli, tmp_path):
    """setup --route-to vpc over a default setup: the marks now say vpc, so a plain plan does not
    offer to put the /32 routes back."""
    with running_sandbox(tmp_path, mode="rrsa", network="peering") as sb:
        assert _acrx(run_cli, sb, "-q", "setup", "--yes", "--no-verify").exit_code == 0
        assert _acrx(run_cli, sb, "plan", "--detailed-exitcode").exit_code == 0
        switch = _acrx(run_cli, sb, "-q", "setup", "--route-to", "vpc", "--yes", "--no-verify")
        assert switch.exit_code == 0, switch.stderr
        plain = _acrx(run_cli, sb, "plan", "--detailed-exitcode")
        assert plain.exit_code == 2 and "pass --route-to vpc" in plain.stderr, plain.stderr
        status = _acrx(run_cli, sb, "status", "-o", "json")
        marks = [r["applied_for"] for r in json.loads(status.stdout)["data"]["resources"] if r["applied_for"]]
        assert marks, status.stdout


def test_pull_policy_scope_is_a_config_key(run_cli, tmp_path):
    with running_sandbox(tmp_path, mode="rrsa", network="peering") as sb:
        _set_key(sb, "roles", "pull_policy_scope", "any")
        saved = tmp_path / "saved.json"
        plan = _acrx(run_cli, sb, "plan", "--out", saved)
        assert plan.exit_code == 0, plan.stderr
        assert json.loads(saved.read_text())["settings"]["pull_policy_scope"] == "any"
        # the policy acrx would write is the documented any-instance form
        policy = next(c for c in json.loads(saved.read_text())["changes"]
                      if c["address"] == "ram.policy.registry_pull")
        assert [st["Resource"] for st in policy["after"]["document"]["Statement"]] == ["*"], policy["after"]
        _set_key(sb, "roles", "pull_policy_scope", "every")
        bad = _acrx(run_cli, sb, "plan")
        assert bad.exit_code == 2 and "roles.pull_policy_scope" in bad.stderr, bad.stderr
        assert yaml.safe_load(sb.config_path.read_text())["roles"]["pull_policy_scope"] == "every"


def test_fix_commands_keep_the_settings_given(run_cli, tmp_path):
    """doctor --route-to vpc on a broken vpc-routed setup: the fix keeps --route-to vpc, and a step
    command is only given the flags it has."""
    from alibabacloud_vpc20160428 import models as m

    from tests.sandbox_clients import sdk_client

    with running_sandbox(tmp_path, mode="rrsa", network="peering") as sb:
        assert _acrx(run_cli, sb, "-q", "setup", "--route-to", "vpc", "--yes", "--no-verify").exit_code == 0
        plan = json.loads(_acrx(run_cli, sb, "plan", "--route-to", "vpc", "-o", "json").stdout)
        route = next(c for c in plan["data"]["changes"] if c["address"].startswith("vpc.route.")
                     and c["account"] == "cluster")
        region = sb.seeded.region_a
        client = sdk_client("alibabacloud_vpc20160428", sb.sandbox.cloud.endpoint, sb.sandbox.account_key("cluster"),
                            region=region)
        client.delete_route_entry(m.DeleteRouteEntryRequest(
            region_id=region, route_table_id=route["after"]["route_table_id"],
            destination_cidr_block=route["after"]["destination"], next_hop_id=route["after"]["next_hop_id"]))
        doctor = _acrx(run_cli, sb, "doctor", "--route-to", "vpc")
    assert doctor.exit_code == 4, doctor.stderr
    assert f"fix:   acrx network apply --route-to vpc -f {sb.config_path}" in doctor.stdout, doctor.stdout
    assert "--route-to endpoint" not in doctor.stdout + doctor.stderr


def test_the_comparison_rules():
    from acrx.steps.applied import applied, disagreement

    marks = applied({"a": {"mode": "worker-role", "network": "public", "route_to": "vpc", "at": "2026-01-01T00:00:00Z"},
                     "b": {"mode": "rrsa", "network": "cen", "route_to": "vpc", "at": "2026-02-01T00:00:00Z"},
                     "raw": {"raw": "not json"}})
    assert marks == {"mode": "rrsa", "network": "cen", "route_to": "vpc"}     # the newest mark
    wanted = {"mode": "rrsa", "network": "cen", "route_to": "endpoint", "assume_policy": "custom"}
    assert disagreement(marks, wanted, source="a.yaml") == (
        "the cluster is set up for rrsa + cen, route_to vpc (acrx's marks); a.yaml says rrsa + cen, "
        "route_to endpoint: pass --route-to vpc or edit a.yaml")
    assert disagreement(marks, wanted, given={"route_to"}) is None           # a flag is a choice
    # route_to shapes nothing in public mode: not a disagreement there
    assert disagreement({"mode": "rrsa", "network": "public", "route_to": "vpc"},
                        {"mode": "rrsa", "network": "public", "route_to": "endpoint"}) is None
    assert disagreement(None, wanted) is None                                # no marks, nothing to say
