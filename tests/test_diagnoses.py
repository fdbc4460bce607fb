"""Diagnoses that are true (issue 14): causes say what the live state lacks, the summary names
every distinct fix (or `acrx setup`), read-only commands speak in the present tense and print no
noise lines, and a dead sandbox is reported at once."""

from __future__ import annotations

import json
import re
import time

import pytest

from acrx.doctor.causes import cause_of
from acrx.plan.change import Change, Ref, Sensitive
from tests.sandbox_clients import sdk_client
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(600)


def test_a_missing_route_is_named_by_its_destination_hop_and_table():
    route = Change("vpc.route.vtb-a.10.10.1.10/32", "create", None,
                   {"route_table_id": "vtb-a", "destination": "10.10.1.10/32", "next_hop_type": "VpcPeer",
                    "next_hop_id": "pcc-1"}, reason="towards the registry endpoint", kind="vpc.route")
    assert cause_of(route) == "route 10.10.1.10/32 -> pcc-1 is missing from vtb-a"
    unknown_hop = Change(route.address, "create", None, {**route.after, "next_hop_id": Ref("vpc.peering", "id")},
                         kind="vpc.route")
    assert cause_of(unknown_hop) == ("route 10.10.1.10/32 -> the peering connection (not there yet) "
                                     "is missing from vtb-a")


def test_an_update_names_the_fields_as_they_are_and_hides_secrets():
    change = Change("cr.endpoint.internet", "update", {"enabled": False, "token": Sensitive("s3cret")},
                    {"enabled": True, "token": Sensitive("other")}, reason="nodes pull through the internet endpoint")
    cause = cause_of(change)
    assert "enabled is false (acrx.yaml needs true)" in cause
    assert "s3cret" not in cause and "other" not in cause
    assert "would" not in cause


def _vpc_client(sb, alias):
    return sdk_client("alibabacloud_vpc20160428", sb.sandbox.cloud.endpoint, sb.sandbox.account_key(alias),
                      region=sb.seeded.region_a if alias == "cluster" else sb.seeded.region_b)


def test_doctor_names_the_missing_route_not_the_plans_reason(run_cli, tmp_path):
    from alibabacloud_vpc20160428 import models as m

    with running_sandbox(tmp_path, mode="rrsa", network="peering") as sb:
        setup = run_cli("--sandbox", sb.dir, "-q", "setup", "-f", sb.config_path, "--yes", "--no-verify")
        assert setup.exit_code == 0, setup.stderr
        routes = json.loads(run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path, "-o", "json").stdout)
        assert routes["data"]["summary"]["has_changes"] is False
        # The route towards the registry endpoint (a /32): remove it behind acrx's back.
        route = next(c for c in routes["data"]["changes"]
                     if c["address"].startswith("vpc.route.") and c["after"]["destination"].endswith("/32"))
        table, dest, hop = route["after"]["route_table_id"], route["after"]["destination"], route["after"]["next_hop_id"]
        client = _vpc_client(sb, route["account"])
        client.delete_route_entry(m.DeleteRouteEntryRequest(
            region_id=sb.seeded.region_a if route["account"] == "cluster" else sb.seeded.region_b,
            route_table_id=table, destination_cidr_block=dest, next_hop_id=hop))
        doctor = run_cli("--sandbox", sb.dir, "doctor", "-f", sb.config_path)
    assert doctor.exit_code == 4, doctor.stderr
    assert f"route {dest} -> {hop} is missing from {table}" in doctor.stdout
    assert "towards the registry endpoint" not in doctor.stdout
    assert "would create" not in doctor.stdout


def test_several_fixes_are_all_named_or_setup(run_cli, tmp_path):
    with running_sandbox(tmp_path, mode="rrsa", network="public") as sb:
        text = run_cli("--sandbox", sb.dir, "doctor", "-f", sb.config_path)
        data = run_cli("--sandbox", sb.dir, "doctor", "-f", sb.config_path, "-o", "json")
    assert text.exit_code == data.exit_code == 4
    fixes = json.loads(data.stdout)["data"]["fix_commands"]
    assert len(fixes) > 2 and len(set(fixes)) == len(fixes)
    hint = next(line for line in text.stderr.splitlines() if line.startswith("hint: "))
    assert f"acrx setup -f {sb.config_path}" in hint
    for fix in fixes:
        assert f"`{fix}`" in hint


def test_read_only_commands_speak_in_the_present_without_noise(run_cli, tmp_path):
    with running_sandbox(tmp_path, mode="access-key", network="public") as sb:
        setup = run_cli("--sandbox", sb.dir, "-q", "setup", "-f", sb.config_path, "--yes",
                        "--allow-plaintext-access-key", "--no-verify")
        assert setup.exit_code == 0, setup.stderr
        verify = run_cli("--sandbox", sb.dir, "verify", "-f", sb.config_path)
        doctor = run_cli("--sandbox", sb.dir, "doctor", "-f", sb.config_path)
    for result in (verify, doctor):
        assert result.exit_code == 0, result.stdout + result.stderr
        text = result.stdout + result.stderr
        assert "sits in plaintext" in text                           # the warning is still given
        assert not re.search(r"\bwill\b", text), text                # present tense
        assert "cannot read back" not in text                        # acrx made the key: no false alarm
        assert "skip secret expiry" not in text and "(0 resources)" not in text


def test_a_dead_sandbox_is_reported_at_once(run_cli, tmp_path):
    with running_sandbox(tmp_path, mode="rrsa", network="public") as sb:
        directory, config = sb.dir, sb.config_path
    started = time.monotonic()
    result = run_cli("--sandbox", directory, "plan", "-f", config)
    assert result.exit_code == 2
    assert f"the sandbox in {directory} is not running; acrx sandbox up --state-dir {directory}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert time.monotonic() - started < 30      # not the minute of connection retries


PROFILE_CONFIG = """\
accounts:
  prod-a: {profile: prod-a}
  prod-b: {profile: prod-b}
cluster: {account: prod-a, id: c0123456789abcdef0123456789abcdef, region: cn-hangzhou}
registries:
  - {account: prod-b, instance_id: cri-a1b2c3d4e5f6g7h8, region: cn-hangzhou}
"""


def test_a_missing_cli_profile_names_the_field_and_the_fix(tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "acrx.yaml").write_text(PROFILE_CONFIG)
    home = tmp_path / "home"
    home.mkdir()

    def plan():
        env = {**os.environ, "HOME": str(home)}
        env.pop("ALIBABA_CLOUD_PROFILE", None)
        return subprocess.run([sys.executable, "-m", "acrx", "plan", "-f", "acrx.yaml"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    missing = plan()
    config = home / ".aliyun" / "config.json"
    assert missing.returncode == 2
    assert missing.stderr.strip() == (f"error: accounts.prod-a.profile: no aliyun CLI config at {config}; "
                                      "run aliyun configure --profile prod-a")
    config.parent.mkdir()
    config.write_text('{"profiles": [{"name": "other", "mode": "AK", "access_key_secret": "never-shown"}]}')
    other = plan()
    assert other.returncode == 2 and "never-shown" not in other.stderr
    assert other.stderr.strip() == (f"error: accounts.prod-a.profile: the aliyun CLI config {config} has no "
                                    "profile 'prod-a'; run aliyun configure --profile prod-a")


def test_a_failed_connection_says_so_at_the_first_retry(run_cli, tmp_path):
    """The sandbox drops the first GetCallerIdentity unanswered (seed 6545 rolls 0.049, then
    eleven rolls >= 0.5): acrx prints one line with the host and the attempt, then succeeds."""
    with running_sandbox(tmp_path, mode="rrsa", network="public") as sb:
        sb.world.knobs.set(reset_rate=0.5, only_actions={"GetCallerIdentity"}, seed=6545)
        result = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path)
        host = sb.sandbox.cloud.endpoint.split("://")[-1]
    assert result.exit_code == 0, result.stderr
    notices = [line for line in result.stderr.splitlines() if "retrying" in line]
    assert len(notices) == 1, result.stderr
    assert notices[0].startswith("warning: sts:GetCallerIdentity: cannot reach ")
    assert host in notices[0] and notices[0].endswith("retrying, attempt 2 of 10")


def test_a_name_that_does_not_resolve_is_not_retried(run_cli, tmp_path):
    with running_sandbox(tmp_path, mode="rrsa", network="public") as sb:
        config = sb.config_path.read_text()
        env = (sb.dir / "sandbox.env").read_text()
    endpoint = re.search(r"ACRX_SANDBOX_ENDPOINT=(\S+)", env).group(1)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "sandbox.env").write_text(env.replace(endpoint, "no-such-host.invalid:80"))
    (elsewhere / "acrx.yaml").write_text(config)
    started = time.monotonic()
    result = run_cli("--sandbox", elsewhere, "plan", "-f", elsewhere / "acrx.yaml")
    assert result.exit_code == 1
    assert "no-such-host.invalid does not resolve" in result.stderr
    assert "gave up after 1 attempt" in result.stderr and "retrying" not in result.stderr
    assert time.monotonic() - started < 30
