"""Sandbox CBN for the CEN hub (issue 16), through the official client over HTTP: the registry
account's CEN attaches a cluster account's VPC only after that account's grant (VpcOwnerId), and
a VPC attached to one CEN is refused by a second ([?] the stricter reading: cbn/models.py)."""

from __future__ import annotations

from tests.sandbox_cloud import api_error as _error
from tests.test_sandbox_cbn import HZ, _attach, _cbn, cloud  # noqa: F401  (cloud: the fixture)


def _hub(cloud):
    """A CEN and transit router of account B (the registry's: the hub)."""
    from alibabacloud_cbn20170912 import models as m

    client = _cbn(cloud, cloud["b"])
    cen_id = client.create_cen(m.CreateCenRequest(name="acrx-hub", client_token="hub-1")).body.cen_id
    cloud["world"].clock.advance(30)   # a new CEN answers Operation.Blocking while it settles (cbn/busy.py)
    tr_id = client.create_transit_router(m.CreateTransitRouterRequest(cen_id=cen_id, region_id=HZ)).body.transit_router_id
    cloud["world"].clock.advance(30)
    return client, cen_id, tr_id


def test_the_hub_attaches_a_cluster_vpc_only_after_the_cluster_accounts_grant(cloud):
    from alibabacloud_cbn20170912 import models as m

    hub, cen_id, tr_id = _hub(cloud)
    a, b = cloud["a"], cloud["b"]
    refused = _error(lambda: _attach(hub, cen_id, tr_id, cloud["vpc_a"], cloud["vsw_a"], owner=a))
    assert refused.code == "Forbidden.InstanceNotGranted"
    granted_by_b = _error(lambda: _cbn(cloud, b).grant_instance_to_transit_router(m.GrantInstanceToTransitRouterRequest(
        cen_id=cen_id, cen_owner_id=int(b.uid), instance_id=cloud["vpc_a"].vpc_id, instance_type="VPC",
        region_id=HZ, order_type="PayByCenOwner")))
    assert granted_by_b.code == "InvalidInstanceId.NotFound"          # only the VPC's owner grants it
    _cbn(cloud, a).grant_instance_to_transit_router(m.GrantInstanceToTransitRouterRequest(
        cen_id=cen_id, cen_owner_id=int(b.uid), instance_id=cloud["vpc_a"].vpc_id, instance_type="VPC",
        region_id=HZ, order_type="PayByCenOwner"))
    attachment = _attach(hub, cen_id, tr_id, cloud["vpc_a"], cloud["vsw_a"], owner=a).transit_router_attachment_id
    rows = hub.list_transit_router_vpc_attachments(m.ListTransitRouterVpcAttachmentsRequest(
        cen_id=cen_id, vpc_id=cloud["vpc_a"].vpc_id)).body.transit_router_attachments
    assert [(r.transit_router_attachment_id, str(r.vpc_owner_id)) for r in rows] == [(attachment, a.uid)]
    rules = hub.describe_grant_rules_to_cen(m.DescribeGrantRulesToCenRequest(cen_id=cen_id)).body.grant_rules
    assert [(g.child_instance_id, str(g.child_instance_owner_id)) for g in rules.grant_rule] == [
        (cloud["vpc_a"].vpc_id, a.uid)]


def test_a_vpc_on_one_cen_is_refused_by_a_second(cloud):
    from alibabacloud_cbn20170912 import models as m

    hub, cen_id, tr_id = _hub(cloud)
    _attach(hub, cen_id, tr_id, cloud["vpc_b"], cloud["vsw_b"])
    other = _cbn(cloud, cloud["a"])
    second = other.create_cen(m.CreateCenRequest(name="acrx-old", client_token="old-1")).body.cen_id
    cloud["world"].clock.advance(30)
    tr2 = other.create_transit_router(m.CreateTransitRouterRequest(cen_id=second, region_id=HZ)).body.transit_router_id
    cloud["world"].clock.advance(30)
    _cbn(cloud, cloud["b"]).grant_instance_to_transit_router(m.GrantInstanceToTransitRouterRequest(
        cen_id=second, cen_owner_id=int(cloud["a"].uid), instance_id=cloud["vpc_b"].vpc_id, instance_type="VPC",
        region_id=HZ, order_type="PayByCenOwner"))
    refused = _error(lambda: _attach(other, second, tr2, cloud["vpc_b"], cloud["vsw_b"], owner=cloud["b"]))
    assert refused.code == "InvalidOperation.ChildInstanceAlreadyAttached" and cen_id in refused.message
