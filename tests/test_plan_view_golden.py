"""The plan view as golden text at 80, 120 and 200 columns and piped through the CLI: no ARN,
domain, address or URL is ever split, no line carries trailing padding, and in table mode the
reason column takes the width the values leave free.

Goldens are written with ACRX_UPDATE_GOLDEN=1 once, reviewed by eye, then compared byte for byte
(trailing spaces included: there must be none).
"""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
from rich.console import Console

from acrx.plan.change import Change, Ref
from acrx.plan.plan import Plan
from acrx.render.plan_view import describe_change, render_plan_table, table_widths
from tests.test_plan_render import ISSUER, PROVIDER, ROLE_A, UID_B, setup_plan

GOLDEN = Path(__file__).parent / "golden" / "plan_view"
TABLE = "vtb-bp1abcdefghijklmnopq"
PCC = "pcc-bp1qrstuvwxyz0123456789"
ROLE_B = f"acs:ram::{UID_B}:role/acrx-registry-cri-0123456789abcdef"


def network_plan() -> Plan:
    """A peering plan whose reasons name ARNs and whose addresses are long: what a CI log shows."""
    return Plan([
        Change("vpc.peering", "create", None,
               {"VpcId": "vpc-bp1aaaaaaaaaaaaaaaaaaaa", "AcceptingVpcId": "vpc-bp1bbbbbbbbbbbbbbbbbbbb",
                "AcceptingAliUid": int(UID_B)}, account="cluster", kind="vpc.peering"),
        Change(f"vpc.route.{TABLE}.10.10.1.10/32", "create", None,
               {"RouteTableId": TABLE, "DestinationCidrBlock": "10.10.1.10/32",
                "NextHopId": Ref("vpc.peering", "id")},
               reason="the registry endpoint 10.10.1.10 is reached through the peering connection",
               account="cluster", kind="vpc.route", depends_on=("vpc.peering",)),
        Change("ram.role.registry", "no-op", {"Arn": ROLE_B}, {"Arn": ROLE_B},
               reason=f"{ROLE_B} already trusts {ROLE_A} and {PROVIDER}",
               account="registry", kind="ram.role"),
        Change("pvtz.record.cri-0123456789abcdef-registry-vpc.cn-hangzhou.cr.aliyuncs.com", "no-op",
               {"Value": "10.10.1.10"}, {"Value": "10.10.1.10"},
               reason=f"resolves in the zone bound to {PCC}; see {ISSUER}",
               account="cluster", kind="pvtz.record"),
    ], {"mode": "rrsa", "network": "peering"})


PLANS = {"setup": setup_plan, "network": network_plan}
TOKEN = re.compile(r"(?:acs:ram::|https?://|vtb-|pcc-|vpc-|cr\.acl\.|vpc\.route\.|pvtz\.record\.)\S+")


def render(plan: Plan, width: int) -> str:
    buffer = io.StringIO()
    render_plan_table(plan, Console(file=buffer, width=width, no_color=True))
    return buffer.getvalue()


def _tokens(plan: Plan) -> set[str]:
    """The long tokens the view shows, taken from its unwrapped lines."""
    text = "\n".join([c.address for c in plan] + [c.reason or "" for c in plan] +
                     [describe_change(c) for c in plan])
    return {t.rstrip(",") for t in TOKEN.findall(text)}


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("ACRX_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing golden {name}; run with ACRX_UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8")


def assert_readable(text: str, width: int, tokens: set[str]) -> None:
    lines = text.splitlines()
    assert all(line == line.rstrip() for line in lines), "trailing padding"
    for token in tokens:
        assert token in text, f"{token} was split or lost"
    for line in lines:
        # A line runs past the width only to keep a long token whole: it ends in that token,
        # and what comes before it fits.
        if len(line) > width:
            last = line.split()[-1]
            assert len(last) > width // 2 and len(line) - len(last) <= width, line


@pytest.mark.parametrize("width", [80, 120, 200])
@pytest.mark.parametrize("name", sorted(PLANS))
def test_plan_view_golden(name, width):
    plan = PLANS[name]()
    text = render(plan, width)
    assert_readable(text, width, _tokens(plan))
    _golden(f"{name}_{width}.txt", text)


def test_the_tokens_checked_are_the_ones_that_used_to_split():
    tokens = _tokens(network_plan())
    assert ROLE_B in tokens and ISSUER in tokens and f"vpc.route.{TABLE}.10.10.1.10/32" in tokens
    # Rich's folding table split the issuer URL at 120 columns: the check above would catch it.
    folded = "https://oidc-ack-cn-hangzhou.oss-cn-ha\nngzhou.aliyuncs.com"
    assert ISSUER not in folded


def test_reason_column_takes_what_the_values_leave():
    changes = list(setup_plan())
    natural = max(len(line) for c in changes for line in describe_change(c).splitlines())
    address_w, action_w, values_w, reason_w = table_widths([changes], 200)
    assert address_w + action_w + values_w + reason_w + 6 == 200 and reason_w >= 20
    wide = table_widths([changes], 260)
    assert wide[2] == natural and sum(wide) + 6 == 260      # values unwrapped, reason takes the rest
    assert wide[3] > reason_w
    # Too narrow to show the issuer URL whole beside a reason: no table (the list view is used).
    assert table_widths([changes], 120) is None


def test_plan_view_piped_through_the_cli(run_cli, tmp_path):
    """`acrx plan` with stdout not a terminal (captured): no trailing spaces, nothing split."""
    from tests.sandbox_fixture import running_sandbox

    with running_sandbox(tmp_path, mode="rrsa", network="peering") as sb:
        table = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path)
        data = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path, "-o", "json")
    assert table.exit_code == 0, table.stderr
    assert data.exit_code == 0, data.stderr
    changes = json.loads(data.stdout)["data"]["changes"]
    addresses = {c["address"] for c in changes}
    arns = {t.rstrip('",') for t in re.findall(r"acs:ram::\d+:role/[\w.-]+", data.stdout)}
    assert len(addresses) > 5 and arns
    text = table.stdout
    assert "\x1b[" not in text
    assert all(line == line.rstrip() for line in text.splitlines()), "trailing padding when piped"
    for token in addresses | arns:
        assert token in text, f"{token} was split in the piped plan"
