"""Setup no longer plans a private cross-region path (preflight refuses it, issue 12 item 7), but an
older acrx made them: a CEN with transit routers in both regions joined by a peer attachment.
`acrx destroy` still finds acrx's CEN and removes the peer attachment, the routers and the CEN.
"""

from __future__ import annotations

import pytest

from acrx import facts
from tests.sandbox_clients import sdk_client
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(300)

CBN = "alibabacloud_cbn20170912"


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _older_acrx_cen(sb) -> str:
    """What an older acrx's cross-region `cen` setup left: its marks, as that version wrote them."""
    from alibabacloud_cbn20170912 import models as m

    s = sb.seeded
    client = sdk_client(CBN, sb.sandbox.cloud.endpoint, sb.sandbox.account_key("cluster"), region=s.region_a)
    name = facts.MARK_PREFIX + s.cluster_id
    cen_id = client.create_cen(m.CreateCenRequest(name=name, tag=[m.CreateCenRequestTag(
        key=facts.MARK_TAG_KEY, value=facts.MARK_TAG_VALUE)])).body.cen_id
    routers = [client.create_transit_router(m.CreateTransitRouterRequest(
        cen_id=cen_id, region_id=region, transit_router_name=f"{name}-{region}")).body.transit_router_id
        for region in (s.region_a, s.region_b)]
    client.create_transit_router_peer_attachment(m.CreateTransitRouterPeerAttachmentRequest(
        cen_id=cen_id, transit_router_id=routers[0], region_id=s.region_a, peer_transit_router_id=routers[1],
        peer_transit_router_region_id=s.region_b, bandwidth_type="DataTransfer",
        transit_router_attachment_name=f"acrx-{s.region_a}-{s.region_b}"))
    return cen_id


def test_destroy_removes_a_cross_region_peer_attachment_an_older_acrx_made(tmp_path, run_cli):
    with running_sandbox(tmp_path, scenario="cross-region", network="public") as sb:
        cen_id = _older_acrx_cen(sb)

        def live(kind):
            return [a for b in sb.world.backends("cbn") for a in b.attachments.values() if a.live and a.kind == kind]

        assert len(live("TR")) == 1
        plan = run_cli("--sandbox", sb.dir, "destroy", "-f", sb.config_path, "--dry-run")
        assert plan.exit_code == 0, plan.stderr
        assert "cen.peer_attachment" in plan.stdout and "cen.instance" in plan.stdout
        for _ in range(2):
            result = run_cli("--sandbox", sb.dir, "destroy", "-f", sb.config_path, "--yes")
            assert result.exit_code == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert live("TR") == []
        assert not [t for b in sb.world.backends("cbn") for t in b.transit_routers.values()]
        assert all(cen_id not in b.cens for b in sb.world.backends("cbn"))
