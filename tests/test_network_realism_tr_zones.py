"""Issue 12, item 3: transit-router zones.

Sources: CreateTransitRouterVpcAttachment ZoneMappings name zones that support Enterprise transit
routers (SDK model doc); ListTransitRouterAvailableResource lists them (AvailableZones, MasterZones,
SlaveZones); where transit routers span several zones an attachment needs vSwitches in at least two
(CEN docs, ROS TransitRouterVpcAttachment). See acrx/sandbox/services/cbn/zones.py.
"""

from __future__ import annotations

import pytest

from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import api_error
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(300)

CBN = "alibabacloud_cbn20170912"


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def test_the_sandbox_refuses_a_single_zone_attachment_where_routers_span_two(tmp_path):
    from alibabacloud_cbn20170912 import models as m

    with running_sandbox(tmp_path, scenario="cen-multizone", network="cen") as sb:
        s = sb.seeded
        client = sdk_client(CBN, sb.sandbox.cloud.endpoint, sb.sandbox.account_key("cluster"), region=s.region_a)
        zones = client.list_transit_router_available_resource(
            m.ListTransitRouterAvailableResourceRequest(region_id=s.region_a)).body
        assert (zones.master_zones, zones.slave_zones) == (["cn-hangzhou-h"], ["cn-hangzhou-i"])
        cen_id = client.create_cen(m.CreateCenRequest(name="t")).body.cen_id
        tr_id = client.create_transit_router(m.CreateTransitRouterRequest(
            cen_id=cen_id, region_id=s.region_a)).body.transit_router_id
        vpc_a = sb.world.backend("vpc", s.account_a, s.region_a)
        by_zone = {v.zone_id: v.vswitch_id for v in vpc_a.vswitches_of(s.vpc_a)}

        def attach(*zones, zone_ids=None):
            return client.create_transit_router_vpc_attachment(m.CreateTransitRouterVpcAttachmentRequest(
                cen_id=cen_id, transit_router_id=tr_id, region_id=s.region_a, vpc_id=s.vpc_a,
                zone_mappings=[m.CreateTransitRouterVpcAttachmentRequestZoneMappings(
                    v_switch_id=by_zone[z], zone_id=z) for z in zones]))

        assert api_error(lambda: attach("cn-hangzhou-h")).code == "InvalidParameter.ZoneMappings"
        assert attach("cn-hangzhou-h", "cn-hangzhou-i").body.transit_router_attachment_id


def test_cen_multizone_setup_maps_both_zones_on_both_sides(tmp_path, run_cli):
    with running_sandbox(tmp_path, scenario="cen-multizone", network="cen") as sb:
        result = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes")
        assert result.exit_code == 0, result.stderr
        attachments = [a for b in sb.world.backends("cbn") for a in b.attachments.values() if a.live]
        assert len(attachments) == 2
        for attachment in attachments:
            assert {z for _, z in attachment.zone_mappings} == {"cn-hangzhou-h", "cn-hangzhou-i"}
        for _ in range(2):
            assert run_cli("--sandbox", sb.dir, "destroy", "-f", sb.config_path, "--yes").exit_code == 0


def test_cen_multizone_missing_stops_in_preflight_before_any_write(tmp_path, run_cli):
    with running_sandbox(tmp_path, scenario="cen-multizone-missing", network="cen") as sb:
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes")
        assert result.exit_code == 2, result.stderr
        assert "cn-hangzhou-h" in result.stderr and sb.seeded.vpc_b in result.stderr
        assert "vSwitch" in result.stderr
        assert sb.writes_since(mark) == []
