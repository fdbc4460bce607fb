"""Issue 12, item 2: CEN transit-router route tables.

Source: the official CreateTransitRouterVpcAttachment doc (association and route learning between
a transit router's route tables and a new attachment are off by default); the SDK's
DeleteTransitRouter*AttachmentRequest.force doc (without Force, an attachment with associations or
route learning is not deleted). See acrx/sandbox/services/cbn/trtables.py.
"""

from __future__ import annotations

import json

import pytest

from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import api_error
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(300)

CBN = "alibabacloud_cbn20170912"


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _cli(run_cli, sb, *args):
    return run_cli("--sandbox", sb.dir, *args[:2], "-f", sb.config_path, *args[2:])


def _cbn(sb):
    """The CEN owner's client: the registry account owns the hub (issue 16)."""
    return sdk_client(CBN, sb.sandbox.cloud.endpoint, sb.sandbox.account_key("registry"), region=sb.seeded.region_a)


def _links(sb, client, kind: str) -> dict[str, str]:
    """{attachment id: status} over every transit router of the sandbox, for `kind`."""
    from alibabacloud_cbn20170912 import models as m

    out = {}
    for backend in sb.world.backends("cbn"):
        for tr in backend.transit_routers.values():
            if kind == "association":
                rows = client.list_transit_router_route_table_associations(
                    m.ListTransitRouterRouteTableAssociationsRequest(
                        transit_router_route_table_id=tr.route_table_id)).body.transit_router_associations
            else:
                rows = client.list_transit_router_route_table_propagations(
                    m.ListTransitRouterRouteTablePropagationsRequest(
                        transit_router_route_table_id=tr.route_table_id)).body.transit_router_propagations
            out.update({f"{tr.transit_router_id}/{r.transit_router_attachment_id}": r.status for r in rows})
    return out


def _plan_actions(run_cli, sb) -> dict[str, str]:
    result = _cli(run_cli, sb, "network", "apply", "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.stderr
    envelope = json.loads(result.stdout)
    plan = envelope.get("data", envelope)
    return {c["address"]: c["action"] for c in plan["changes"]}


@pytest.mark.parametrize("scenario,links", [("default", 2), ("cen-multizone", 2)])
def test_cen_setup_associates_and_propagates_every_attachment(tmp_path, run_cli, scenario, links):
    """Two VPC attachments: each one associated and propagating; the pull is verified; a removed association is drift that the
    next apply restores; destroy (Force) leaves nothing, twice."""
    from alibabacloud_cbn20170912 import models as m

    with running_sandbox(tmp_path, scenario=scenario, network="cen") as sb:
        result = _cli(run_cli, sb, "setup", "--yes")
        assert result.exit_code == 0, result.stderr
        client = _cbn(sb)
        assert list(_links(sb, client, "association").values()) == ["Active"] * links
        assert list(_links(sb, client, "propagation").values()) == ["Active"] * links
        assert set(_plan_actions(run_cli, sb).values()) == {"no-op"}

        key = next(iter(_links(sb, client, "association")))
        tr_id, attachment = key.split("/")
        table = next(t.route_table_id for b in sb.world.backends("cbn") for t in b.transit_routers.values()
                     if t.transit_router_id == tr_id)
        client.dissociate_transit_router_attachment_from_route_table(
            m.DissociateTransitRouterAttachmentFromRouteTableRequest(
                transit_router_route_table_id=table, transit_router_attachment_id=attachment))
        drift = {a: act for a, act in _plan_actions(run_cli, sb).items() if act != "no-op"}
        assert len(drift) == 1 and next(iter(drift)).startswith("cen.association."), drift
        assert _cli(run_cli, sb, "network", "apply", "--yes").exit_code == 0
        assert key in _links(sb, client, "association")

        for _ in range(2):
            result = _cli(run_cli, sb, "destroy", "--yes")
            assert result.exit_code == 0, result.stderr
        assert _links(sb, client, "association") == {}


def test_the_sandbox_refuses_to_delete_a_linked_attachment_without_force(tmp_path, run_cli):
    from alibabacloud_cbn20170912 import models as m

    with running_sandbox(tmp_path, network="cen") as sb:
        assert _cli(run_cli, sb, "network", "apply", "--yes").exit_code == 0
        client = _cbn(sb)
        attachment = next(iter(_links(sb, client, "association"))).split("/")[1]
        delete = lambda force: client.delete_transit_router_vpc_attachment(  # noqa: E731
            m.DeleteTransitRouterVpcAttachmentRequest(transit_router_attachment_id=attachment, force=force))
        assert api_error(lambda: delete(False)).code == "DependencyViolation.AttachmentRelatedResource"
        delete(True)
        assert attachment not in {k.split("/")[1] for k in _links(sb, client, "association")}
