"""`acrx render operator-policy`: the least-privilege RAM policy per account x mode x network, as
golden files (set ACRX_UPDATE_GOLDEN=1 to rewrite them after a reviewed change), and a guard that
every cloud action an adapter calls is either in the table or listed here with the reason it needs
no operator permission."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from acrx import facts
from acrx.render import operator_policy as op

GOLDEN = Path(__file__).parent / "golden" / "operator-policy"
CONFIG = """\
version: 1
mode: rrsa
accounts:
  cluster: {uid: "1111111111111111"}
  registry: {uid: "2222222222222222"}
cluster: {id: c0123456789abcdef0123456789abcdef, region: cn-hangzhou}
registries: [{instance_id: cri-abcdefghij012345, region: cn-shanghai}]
network: {mode: peering}
"""
CASES = [(side, mode, net, ro) for side in ("cluster", "registry") for mode in facts.MODES
         for net in facts.NETWORK_MODES for ro in (False, True)]
# Adapter actions that need no permission of the operator, and why.
NOT_OPERATOR = {
    "GetCallerIdentity": "STS answers it for any valid credentials, no RAM permission needed",
    "AssumeRoleWithOIDC": "anonymous: the OIDC token is the credential",
    "GetAuthorizationToken": "called with the pull role's session or the pull user's key, never the operator's",
    "ListInstance": "discovery of instance_name when the config omits it: [?] kept out, the config names it",
    "GetRepository": "doctor probe with the pull identity",
    "TagResources": "ownership tags ride in the create calls; only PrivateZone's TagResources is used (in the table)",
    "ListTagResources": "in the table for RAM; the CEN/VpcPeer ones are called with the create's tags",
    "DescribeGrantRulesToCen": "not called by acrx",
    "DescribeClustersV1": "authorised as cs:GetClusters (its API reference), which is in the table",
}


@pytest.fixture
def config_file(tmp_path) -> Path:
    path = tmp_path / "acrx.yaml"
    path.write_text(CONFIG)
    return path


def _golden_name(side, mode, net, ro) -> str:
    return f"{side}-{mode}-{net}{'-read-only' if ro else ''}.json"


@pytest.mark.parametrize("side,mode,net,ro", CASES)
def test_golden(run_cli, config_file, side, mode, net, ro):
    args = ["render", "operator-policy", "-f", config_file, "--account", side, "--mode", mode, "--network", net]
    result = run_cli(*args, *(["--read-only"] if ro else []))
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    count = len(op.actions(document))
    assert f"{count} actions for" in result.stderr
    path = GOLDEN / _golden_name(side, mode, net, ro)
    if os.environ.get("ACRX_UPDATE_GOLDEN"):
        path.write_text(result.stdout)
    assert result.stdout == path.read_text(), f"{path.name} differs; review, then ACRX_UPDATE_GOLDEN=1"


def test_cluster_listing_only_with_selector(run_cli, config_file):
    """Least privilege: cs:GetClusters (on "*") is for --cluster-selector runs only, on request."""
    base = ["render", "operator-policy", "-f", config_file, "--account", "cluster", "--read-only"]
    without, with_selector = run_cli(*base), run_cli(*base, "--selector")
    assert without.exit_code == 0 and with_selector.exit_code == 0, (without.stderr, with_selector.stderr)
    assert "cs:GetClusters" not in op.actions(json.loads(without.stdout))
    assert "cs:GetClusters" in op.actions(json.loads(with_selector.stdout))


def test_read_only_is_reads_and_full_covers_every_plan_read():
    writes = re.compile(r":(Create|Delete|Update|Modify|Install|UnInstall|Attach|Detach|Add|Bind|Accept|Grant|"
                        r"Revoke|Tag|Associate|Enable|Set)")
    for side, mode, net, ro in CASES:
        needs = op.selected(side, mode, net, ro)
        names = {n.action for n in needs}
        if ro:
            assert not [a for a in names if writes.search(a) and a != "sts:AssumeRole"], (side, mode, net)
            full = {n.action for n in op.selected(side, mode, net, False)}
            plan_reads = {n.action for n in needs if n.phase == op.PLAN}
            assert plan_reads <= full, (side, mode, net, plan_reads - full)


def test_every_star_resource_has_a_reason(run_cli, config_file):
    result = run_cli("render", "operator-policy", "-f", config_file, "--account", "cluster", "--network", "cen",
                     "--explain")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    for index, line in enumerate(lines):
        if line.split() and line.split()[-1] == "*" and not line.startswith(" "):
            assert "[* :" in lines[index + 1], line


def test_resources_scoped_to_arns(run_cli, config_file):
    result = run_cli("render", "operator-policy", "-f", config_file, "--account", "registry", "--mode", "access-key")
    doc = json.loads(result.stdout)
    by_action = {a: st["Resource"] for st in doc["Statement"] for a in st["Action"]}
    assert by_action["cr:GetInstance"] == ["acs:cr:cn-shanghai:2222222222222222:instance/cri-abcdefghij012345"]
    assert by_action["ram:CreateUser"] == ["acs:ram:*:2222222222222222:user/acrx-pull-c0123456789abcdef0123456789abcdef"]
    assert by_action["ram:CreatePolicy"] == ["acs:ram:*:2222222222222222:policy/acrx-pull-cri-abcdefghij012345"]


def test_bad_account_is_a_usage_error(run_cli, config_file):
    result = run_cli("render", "operator-policy", "-f", config_file, "--account", "both")
    assert result.exit_code == 2
    assert "--account" in result.stderr


def test_every_adapter_action_is_accounted_for():
    """Each action acrx's adapters can call is in the table, or exempt with a reason above."""
    cloud = Path(op.__file__).parents[1] / "cloud"
    called = set()
    for path in cloud.glob("*.py"):
        called |= set(re.findall(r'"([A-Z][A-Za-z]+)",\s*"[a-z_]+_with_options"', path.read_text()))
    assert len(called) > 60  # the regex still finds the adapters' calls
    in_table = {n.action.split(":", 1)[1] for n in op.NEEDS}
    missing = sorted(called - in_table - set(NOT_OPERATOR))
    assert not missing, f"adapter actions neither in acrx/render/operator_policy.py nor exempt: {missing}"
