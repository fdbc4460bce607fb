"""The network deletes destroy needs, over the official SDK clients, and their handlers.

The network adapters (acrx.cloud.vpc, vpcpeer, cbn, pvtz) carry only what setup needs; these few
delete calls live next to the only code that uses them. Each goes through acrx.cloud.retry
(translation, retries) like every adapter call, and treats "already gone" as done, so an
interrupted destroy applied again converges.
"""

from __future__ import annotations

from typing import Any

from acrx.cloud import errors as cloud_errors
from acrx.cloud.retry import invoke
from acrx.steps.network.discovery import cr_api, pvtz_api


def _raw(ctx, alias: str, product: str, region: str, action: str, method: str, request) -> dict:
    acct = ctx.session.account(alias)
    factory = getattr(acct, product)
    try:
        return invoke(lambda: factory(region), method, request, action=f"{product}:{action}",
                      policy=acct.retry_policy, idempotent=True)
    except Exception as exc:
        if cloud_errors.is_not_found(exc):
            return {"gone": True}
        raise


def internet_acl(ctx, alias: str, region: str, instance_id: str) -> list[tuple[str, str]]:
    """(CIDR, comment) of the internet endpoint's ACL. GetInstanceEndpoint, not the adapter's
    ListInstanceEndpoint: only the former's response model keeps each entry's comment, which is
    where acrx's mark (`acrx-managed`) sits."""
    from alibabacloud_cr20181201 import models

    body = _raw(ctx, alias, "cr", region, "GetInstanceEndpoint", "get_instance_endpoint_with_options",
                models.GetInstanceEndpointRequest(instance_id=instance_id, endpoint_type="internet",
                                                  module_name="Registry"))
    return [(e.get("Entry", ""), e.get("Comment") or "") for e in body.get("AclEntries") or [] if isinstance(e, dict)]


def delete_route(ctx, d: dict) -> dict:
    from alibabacloud_vpc20160428 import models

    req = models.DeleteRouteEntryRequest(region_id=d["region"], route_table_id=d["route_table_id"],
                                         route_entry_id=d.get("route_entry_id") or None,
                                         destination_cidr_block=d["destination"], next_hop_id=d.get("next_hop_id"))
    _raw(ctx, d["alias"], "vpc", d["region"], "DeleteRouteEntry", "delete_route_entry_with_options", req)
    ctx.forget(f"net:routes:{d['alias']}:{d['region']}:{d['route_table_id']}")
    return {"route_table_id": d["route_table_id"], "destination": d["destination"]}


def delete_peering(ctx, d: dict) -> dict:
    from alibabacloud_vpcpeer20220101 import models

    # No Force: routes acrx did not plan to delete must stop the delete, not vanish with it.
    _raw(ctx, d["alias"], "vpcpeer", d["region"], "DeleteVpcPeerConnection", "delete_vpc_peer_connection_with_options",
         models.DeleteVpcPeerConnectionRequest(instance_id=d["peering_id"]))
    ctx.forget("net:peerings")
    return {"peering_id": d["peering_id"]}


def delete_attachment(ctx, d: dict) -> dict:
    from alibabacloud_cbn20170912 import models

    if d.get("peer"):
        _raw(ctx, d["alias"], "cbn", d["region"], "DeleteTransitRouterPeerAttachment",
             "delete_transit_router_peer_attachment_with_options",
             models.DeleteTransitRouterPeerAttachmentRequest(transit_router_attachment_id=d["attachment_id"]))
    else:
        _raw(ctx, d["alias"], "cbn", d["region"], "DeleteTransitRouterVpcAttachment",
             "delete_transit_router_vpc_attachment_with_options",
             models.DeleteTransitRouterVpcAttachmentRequest(transit_router_attachment_id=d["attachment_id"]))
    return {"attachment_id": d["attachment_id"]}


def revoke_grant(ctx, d: dict) -> dict:
    from alibabacloud_cbn20170912 import models

    _raw(ctx, d["alias"], "cbn", d["region"], "RevokeInstanceFromTransitRouter",
         "revoke_instance_from_transit_router_with_options",
         models.RevokeInstanceFromTransitRouterRequest(cen_id=d["cen_id"], cen_owner_id=int(d["cen_owner_id"]),
                                                       instance_id=d["vpc_id"], instance_type="VPC",
                                                       region_id=d["region"]))
    return {"vpc_id": d["vpc_id"], "cen_id": d["cen_id"]}


def delete_router(ctx, d: dict) -> dict:
    from alibabacloud_cbn20170912 import models

    _raw(ctx, d["alias"], "cbn", d["region"], "DeleteTransitRouter", "delete_transit_router_with_options",
         models.DeleteTransitRouterRequest(transit_router_id=d["transit_router_id"]))
    return {"transit_router_id": d["transit_router_id"]}


def delete_cen(ctx, d: dict) -> dict:
    from alibabacloud_cbn20170912 import models

    _raw(ctx, d["alias"], "cbn", d["region"], "DeleteCen", "delete_cen_with_options",
         models.DeleteCenRequest(cen_id=d["cen_id"]))
    return {"cen_id": d["cen_id"]}


def delete_records(ctx, d: dict) -> dict:
    api = pvtz_api(ctx, d["alias"], d["region"])
    for record_id in d["record_ids"]:
        try:
            api.delete_record(record_id)
        except Exception as exc:
            if not cloud_errors.is_not_found(exc):
                raise
    ctx.forget(f"net:records:{d['zone_id']}")
    return {"zone_id": d["zone_id"], "deleted": len(d["record_ids"])}


def unbind_zone(ctx, d: dict) -> dict:
    from acrx.cloud.pvtz import Binding

    api = pvtz_api(ctx, d["alias"], d["region"])
    # BindZoneVpc replaces the list: send the live one minus the cluster's VPC.
    keep = [b for b in api.bindings(d["zone_id"]) if b.vpc_id != d["vpc_id"]]
    api.bind(d["zone_id"], [Binding(b.vpc_id, b.region) for b in keep])
    ctx.forget(f"net:bindings:{d['zone_id']}")
    return {"zone_id": d["zone_id"], "vpc_id": d["vpc_id"]}


def delete_zone(ctx, d: dict) -> dict:
    from alibabacloud_pvtz20180101 import models

    _raw(ctx, d["alias"], "pvtz", d["region"], "DeleteZone", "delete_zone_with_options",
         models.DeleteZoneRequest(zone_id=d["zone_id"]))
    ctx.forget(f"net:zone:{d['domain']}")
    return {"zone_id": d["zone_id"]}


def delete_acl(ctx, d: dict) -> dict:
    cr = cr_api(ctx, d["alias"], d["region"])
    present = next((e for e in cr.list_endpoints(d["instance_id"]) if e.type == "internet"), None)
    if present is None or d["cidr"] in {e.cidr for e in present.acl}:
        cr.delete_acl_entry(d["instance_id"], d["cidr"])
    ctx.forget("net:registry")
    return {"cidr": d["cidr"]}


KIND_ROUTE = "vpc.route.delete"
KIND_PEERING = "vpc.peering.delete"
KIND_ATTACHMENT = "cen.attachment.delete"
KIND_GRANT = "cen.grant.delete"
KIND_ROUTER = "cen.transit_router.delete"
KIND_CEN = "cen.instance.delete"
KIND_RECORDS = "pvtz.record.delete"
KIND_BINDING = "pvtz.binding.delete"
KIND_ZONE = "pvtz.zone.delete"
KIND_ACL = "cr.acl.delete"

_CALLS = {KIND_ROUTE: delete_route, KIND_PEERING: delete_peering, KIND_ATTACHMENT: delete_attachment,
          KIND_GRANT: revoke_grant, KIND_ROUTER: delete_router, KIND_CEN: delete_cen, KIND_RECORDS: delete_records,
          KIND_BINDING: unbind_zone, KIND_ZONE: delete_zone, KIND_ACL: delete_acl}


class _Handler:
    def __init__(self, ctx, kind: str):
        self.ctx, self.kind = ctx, kind

    def describe(self, change) -> str:
        return f"delete {change.address}"

    def apply(self, change, actx) -> dict:
        return _CALLS[self.kind](self.ctx, dict(change.data))


def destroy_handlers(ctx) -> dict[str, Any]:
    return {kind: _Handler(ctx, kind) for kind in _CALLS}
