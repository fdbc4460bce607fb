"""Issue 12, item 3's opt-in: where a VPC lacks a vSwitch in a zone the CEN transit router needs,
`--create-zone-vswitch` (key network.create_zone_vswitch) makes a small one, the attachment maps
it, destroy removes it after the attachment. The sandbox's CreateVSwitch follows the API doc
(acrx/sandbox/services/vpc/vswitches.py).
"""

from __future__ import annotations

import ipaddress
import json

import pytest

from acrx.steps.network.zone_vswitch import free_block
from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import api_error
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(300)

VPC = "alibabacloud_vpc20160428"


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def test_free_block_is_the_top_free_28_overlapping_no_vswitch():
    assert free_block(["10.0.0.0/16"], ["10.0.1.0/24"]) == "10.0.255.240/28"
    assert free_block(["10.0.0.0/16"], ["10.0.255.240/28", "10.0.1.0/24"]) == "10.0.255.224/28"
    assert free_block(["10.0.0.0/28"], ["10.0.0.0/29"]) == "10.0.0.8/29"      # no /28 left: a /29
    assert free_block(["10.0.0.0/28"], ["10.0.0.0/28"]) is None
    got = free_block(["10.0.0.0/16", "172.16.0.0/24"], ["10.0.0.0/16"])
    assert got == "172.16.0.240/28"
    assert ipaddress.ip_network(got).subnet_of(ipaddress.ip_network("172.16.0.0/24"))


def test_the_sandbox_create_vswitch_follows_the_api_doc(tmp_path):
    from alibabacloud_vpc20160428 import models as m

    with running_sandbox(tmp_path, scenario="cen-multizone-missing", network="cen") as sb:
        s = sb.seeded
        client = sdk_client(VPC, sb.sandbox.cloud.endpoint, sb.sandbox.account_key("registry"), region=s.region_b)
        backend = sb.world.backend("vpc", s.account_b, s.region_b)
        taken = backend.vswitches_of(s.vpc_b)[0]
        free = free_block(backend.find_vpc(s.vpc_b).cidrs(), [taken.cidr_block])

        def create(cidr, zone="cn-hangzhou-i"):
            return client.create_vswitch(m.CreateVSwitchRequest(region_id=s.region_b, vpc_id=s.vpc_b, zone_id=zone,
                                                                cidr_block=cidr))

        assert api_error(lambda: create("192.0.2.0/28")).code == "InvalidParameter"        # outside the VPC
        assert api_error(lambda: create(taken.cidr_block)).code == "InvalidCidrBlock.Overlapped"
        assert api_error(lambda: create(free, zone="cn-hangzhou-z")).code == "ResourceNotAvailable"
        vswitch_id = create(free).body.v_switch_id
        body = client.describe_vswitch_attributes(m.DescribeVSwitchAttributesRequest(
            region_id=s.region_b, v_switch_id=vswitch_id)).body
        assert (body.zone_id, body.cidr_block, body.status) == ("cn-hangzhou-i", free, "Available")
        client.delete_vswitch(m.DeleteVSwitchRequest(region_id=s.region_b, v_switch_id=vswitch_id))
        assert api_error(lambda: client.delete_vswitch(m.DeleteVSwitchRequest(
            region_id=s.region_b, v_switch_id=vswitch_id))).code == "InvalidVSwitchId.NotFound"


def test_cen_multizone_missing_with_the_option_converges_and_destroy_removes_the_vswitch(tmp_path, run_cli):
    with running_sandbox(tmp_path, scenario="cen-multizone-missing", network="cen", clock_scale=0.02) as sb:
        s = sb.seeded
        backend = sb.world.backend("vpc", s.account_b, s.region_b)
        before = {v.vswitch_id for v in backend.vswitches_of(s.vpc_b)}
        assert "cn-hangzhou-h" not in {v.zone_id for v in backend.vswitches_of(s.vpc_b)}   # the missing zone

        def cli(command, *extra):
            return run_cli("--sandbox", sb.dir, command, "-f", sb.config_path, *extra)

        refused = cli("plan")
        assert refused.exit_code == 2 and "--create-zone-vswitch" in refused.stderr, refused.stderr
        saved = tmp_path / "plan.json"
        result = cli("plan", "--create-zone-vswitch", "--out", str(saved))
        assert result.exit_code == 0, result.stderr[-3000:]
        assert json.loads(saved.read_text())["settings"]["create_zone_vswitch"] is True
        result = cli("setup", "--plan", str(saved), "--yes")       # the saved plan carries the setting
        assert result.exit_code == 0, result.stderr[-3000:]
        assert "Successfully pulled image" in result.stdout + result.stderr
        made = [v for v in backend.vswitches_of(s.vpc_b) if v.vswitch_id not in before]
        assert len(made) == 1 and made[0].zone_id == "cn-hangzhou-h"
        assert ipaddress.ip_network(made[0].cidr_block).prefixlen == 28
        assert backend.tags.listed(made[0].vswitch_id)         # marked in the create call
        attachment = next(a for b in sb.world.backends("cbn") for a in b.attachments.values()
                          if a.live and a.vpc_id == s.vpc_b)
        assert (made[0].vswitch_id, "cn-hangzhou-h") in attachment.zone_mappings
        # The setting sticks once it is in the file; the saved plan records it.
        result = cli("plan", "--detailed-exitcode", "--create-zone-vswitch")
        assert result.exit_code == 0, result.stdout[-3000:] + result.stderr[-2000:]
        for _ in range(2):
            result = cli("destroy", "--yes")
            assert result.exit_code == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert {v.vswitch_id for v in backend.vswitches_of(s.vpc_b)} == before
        assert not [a for b in sb.world.backends("cbn") for a in b.attachments.values() if a.live]


def test_the_option_outside_cen_names_the_flag(tmp_path, run_cli):
    with running_sandbox(tmp_path, network="public") as sb:
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path, "--create-zone-vswitch")
        assert result.exit_code == 2
        assert "--create-zone-vswitch" in result.stderr and "cen only" in result.stderr
        assert sb.writes_since(mark) == []
