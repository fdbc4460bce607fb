"""CBN 2017-09-12 RPC actions (central endpoint), in alibabacloud_cbn20170912's field names."""

from __future__ import annotations

from acrx.sandbox.core.errors import ApiError
from acrx.sandbox.core.routing import Router
from acrx.sandbox.services.cbn import trtables, zones
from acrx.sandbox.services.vpc.shared import page, tag_pairs, token_page, untag_keys

router = Router("cbn", "2017-09-12", product="cen")


def _region(req) -> str:
    return req.str("RegionId") or req.world.accounts[req.account].home_region


def _iso(req, ts: float) -> str:
    return req.world.clock.iso(ts)


def _tags(backend, resource_id: str) -> list[dict]:
    return backend.tags.listed(resource_id)


def _filter_values(item: dict) -> list[str]:
    return [v for k, v in sorted(item.items()) if k.startswith("Value")]


# -- CEN ---------------------------------------------------------------------------------------
@router.rpc("CreateCen", writes=True, client_token=True)  # CreateCenRequest.client_token
def create_cen(req):
    cen = req.backend().create_cen(req.str("Name", default=""), req.str("Description", default=""),
                                   tag_pairs(req.flat_list("Tag")))
    return {"CenId": cen.cen_id}


@router.rpc("DescribeCens", writes=False)
def describe_cens(req):
    backend = req.backend()
    cens = sorted(backend.cens.values(), key=lambda c: c.created_at)
    for item in req.flat_list("Filter"):
        values = _filter_values(item)
        if item.get("Key") == "CenId":
            cens = [c for c in cens if c.cen_id in values]
        elif item.get("Key") == "Name":
            cens = [c for c in cens if c.name in values]
    wanted = req.flat_list("Tag")
    cens = [c for c in cens if backend.tags.matches(c.cen_id, wanted)]
    chunk, number, size = page(cens, req.int("PageNumber"), req.int("PageSize"))
    rows = [{"CenId": c.cen_id, "Name": c.name, "Description": c.description, "Status": "Active",
             "ProtectionLevel": "REDUCED", "CreationTime": _iso(req, c.created_at), "ResourceGroupId": "",
             "Tags": {"Tag": _tags(backend, c.cen_id)}} for c in chunk]
    return {"Cens": {"Cen": rows}, "PageNumber": number, "PageSize": size, "TotalCount": len(cens)}


@router.rpc("DeleteCen", writes=True)
def delete_cen(req):
    req.backend().delete_cen(req.str("CenId", required=True))
    return {}


# -- transit routers ---------------------------------------------------------------------------
@router.rpc("CreateTransitRouter", writes=True, client_token=True)  # CreateTransitRouterRequest
def create_transit_router(req):
    tr = req.backend().create_transit_router(req.str("CenId", required=True), _region(req),
                                             req.str("TransitRouterName", default=""),
                                             req.str("TransitRouterDescription", default=""))
    return {"TransitRouterId": tr.transit_router_id}


@router.rpc("ListTransitRouters", writes=False)
def list_transit_routers(req):
    backend = req.backend()
    region, cen_id, tr_id = req.str("RegionId"), req.str("CenId"), req.str("TransitRouterId")
    found = sorted((t for t in backend.transit_routers.values()
                    if (region is None or t.region == region) and (cen_id is None or t.cen_id == cen_id)
                    and (tr_id is None or t.transit_router_id == tr_id)), key=lambda t: t.created_at)
    chunk, number, size = page(found, req.int("PageNumber"), req.int("PageSize"))
    rows = [{"TransitRouterId": t.transit_router_id, "CenId": t.cen_id, "RegionId": t.region,
             "AliUid": int(t.owner), "Status": "Active", "Type": "Enterprise", "TransitRouterName": t.name,
             "TransitRouterDescription": t.description, "CreationTime": _iso(req, t.created_at),
             "TransitRouterCidrList": [], "Tags": _tags(backend, t.transit_router_id)} for t in chunk]
    return {"TransitRouters": rows, "PageNumber": number, "PageSize": size, "TotalCount": len(found)}


@router.rpc("DeleteTransitRouter", writes=True)
def delete_transit_router(req):
    req.backend().delete_transit_router(req.str("TransitRouterId", required=True))
    return {}


# -- grants (VPC owner) ------------------------------------------------------------------------
@router.rpc("GrantInstanceToTransitRouter", writes=True)
def grant_instance_to_transit_router(req):
    req.backend().grant(region=req.str("RegionId", required=True), vpc_id=req.str("InstanceId", required=True),
                        instance_type=req.str("InstanceType", required=True), cen_id=req.str("CenId", required=True),
                        cen_owner=req.str("CenOwnerId", required=True),
                        order_type=req.str("OrderType", default="PayByCenOwner"))
    return {}


@router.rpc("RevokeInstanceFromTransitRouter", writes=True)
def revoke_instance_from_transit_router(req):
    req.backend().revoke(region=req.str("RegionId", required=True), vpc_id=req.str("InstanceId", required=True),
                         cen_id=req.str("CenId", required=True))
    return {}


@router.rpc("DescribeGrantRulesToResource", writes=False)
def describe_grant_rules_to_resource(req):
    """The VPC owner's view: which CENs may attach this VPC."""
    if (req.str("ProductType", required=True) or "").upper() != "VPC":
        raise ApiError("InvalidParameter.ProductType", "Only VPC grants are modelled here.", 400)
    resource_id, region = req.str("ResourceId", required=True), req.str("RegionId", required=True)
    grants = [g for g in req.backend().grants if g.vpc_id == resource_id and g.region == region]
    chunk, token = token_page(grants, req.str("NextToken"), req.int("MaxResults"))
    return {"GrantRules": [{"CenId": g.cen_id, "CenOwnerId": int(g.cen_owner), "OrderType": g.order_type,
                            "EffectiveOrderType": g.order_type, "CreateTime": _iso(req, g.created_at)} for g in chunk],
            "TotalCount": len(grants), "NextToken": token, "MaxResults": len(chunk)}


@router.rpc("DescribeGrantRulesToCen", writes=False)
def describe_grant_rules_to_cen(req):
    """The CEN owner's view: which VPCs of other accounts were granted to its CEN."""
    cen_id = req.str("CenId", required=True)
    req.backend().find_cen(cen_id)
    owner, child = req.str("ChildInstanceOwnerId"), req.str("ChildInstanceId")
    grants = [g for b in req.world.backends("cbn") for g in b.grants
              if g.cen_id == cen_id and g.cen_owner == req.account
              and (owner is None or g.vpc_owner == owner) and (child is None or g.vpc_id == child)]
    chunk, token = token_page(grants, req.str("NextToken"), req.int("MaxResults"))
    rows = [{"CenId": g.cen_id, "CenOwnerId": int(g.cen_owner), "ChildInstanceId": g.vpc_id,
             "ChildInstanceOwnerId": int(g.vpc_owner), "ChildInstanceRegionId": g.region, "ChildInstanceType": "VPC",
             "OrderType": g.order_type, "EffectiveOrderType": g.order_type, "CreateTime": _iso(req, g.created_at)}
            for g in chunk]
    return {"GrantRules": {"GrantRule": rows}, "TotalCount": len(grants), "NextToken": token, "MaxResults": len(chunk)}


# -- attachments (CEN owner) -------------------------------------------------------------------
def _attachment_fields(req, a) -> dict:
    row = {"TransitRouterAttachmentId": a.attachment_id, "TransitRouterId": a.transit_router_id, "CenId": a.cen_id,
           "Status": a.status, "CreationTime": _iso(req, a.created_at), "AutoPublishRouteEnabled": a.auto_publish,
           "TransitRouterAttachmentName": a.name, "TransitRouterAttachmentDescription": a.description,
           "Tags": _tags(req.backend(), a.attachment_id)}
    if a.kind == "VPC":
        row.update({"ResourceType": "VPC", "VpcId": a.vpc_id, "VpcOwnerId": int(a.vpc_owner), "VpcRegionId": a.region,
                    "ZoneMappings": [{"VSwitchId": v, "ZoneId": z} for v, z in a.zone_mappings]})
    else:
        row.update({"ResourceType": "TR", "RegionId": a.region, "PeerTransitRouterId": a.peer_transit_router_id,
                    "PeerTransitRouterRegionId": a.peer_region, "PeerTransitRouterOwnerId": int(a.peer_owner),
                    "Bandwidth": a.bandwidth, "BandwidthType": a.bandwidth_type, "DefaultLinkType": "Gold"})
    return row


@router.rpc("CreateTransitRouterVpcAttachment", writes=True, client_token=True)  # its Request.client_token
def create_transit_router_vpc_attachment(req):
    a = req.backend().create_vpc_attachment(
        region=_region(req), cen_id=req.str("CenId"), transit_router_id=req.str("TransitRouterId"),
        vpc_id=req.str("VpcId", required=True), vpc_owner=req.str("VpcOwnerId"),
        zone_mappings=req.flat_list("ZoneMappings"), name=req.str("TransitRouterAttachmentName", default=""),
        description=req.str("TransitRouterAttachmentDescription", default=""),
        auto_publish=bool(req.bool("AutoPublishRouteEnabled", default=False)))
    return {"TransitRouterAttachmentId": a.attachment_id}


@router.rpc("ListTransitRouterVpcAttachments", writes=False)
def list_transit_router_vpc_attachments(req):
    found = req.backend().list_attachments("VPC", cen_id=req.str("CenId"), region=req.str("RegionId"),
                                           transit_router_id=req.str("TransitRouterId"),
                                           attachment_id=req.str("TransitRouterAttachmentId"), vpc_id=req.str("VpcId"))
    chunk, token = token_page(found, req.str("NextToken"), req.int("MaxResults"))
    return {"TransitRouterAttachments": [_attachment_fields(req, a) for a in chunk], "TotalCount": len(found),
            "NextToken": token, "MaxResults": len(chunk)}


@router.rpc("DeleteTransitRouterVpcAttachment", writes=True)
def delete_transit_router_vpc_attachment(req):
    req.backend().delete_attachment(req.str("TransitRouterAttachmentId", required=True), "VPC",
                                    force=bool(req.bool("Force", default=False)))   # its Request.force
    return {}


@router.rpc("CreateTransitRouterPeerAttachment", writes=True, client_token=True)  # its Request.client_token
def create_transit_router_peer_attachment(req):
    a = req.backend().create_peer_attachment(
        region=_region(req), cen_id=req.str("CenId"), transit_router_id=req.str("TransitRouterId", required=True),
        peer_transit_router_id=req.str("PeerTransitRouterId", required=True),
        peer_region=req.str("PeerTransitRouterRegionId", required=True), bandwidth=req.int("Bandwidth", minimum=0),
        bandwidth_type=req.str("BandwidthType", default="DataTransfer"),
        name=req.str("TransitRouterAttachmentName", default=""),
        description=req.str("TransitRouterAttachmentDescription", default=""),
        auto_publish=bool(req.bool("AutoPublishRouteEnabled", default=False)))
    return {"TransitRouterAttachmentId": a.attachment_id}


@router.rpc("ListTransitRouterPeerAttachments", writes=False)
def list_transit_router_peer_attachments(req):
    found = req.backend().list_attachments("TR", cen_id=req.str("CenId"), region=req.str("RegionId"),
                                           transit_router_id=req.str("TransitRouterId"),
                                           attachment_id=req.str("TransitRouterAttachmentId"))
    chunk, token = token_page(found, req.str("NextToken"), req.int("MaxResults"))
    return {"TransitRouterAttachments": [_attachment_fields(req, a) for a in chunk], "TotalCount": len(found),
            "NextToken": token, "MaxResults": len(chunk)}


@router.rpc("DeleteTransitRouterPeerAttachment", writes=True)
def delete_transit_router_peer_attachment(req):
    req.backend().delete_attachment(req.str("TransitRouterAttachmentId", required=True), "TR",
                                    force=bool(req.bool("Force", default=False)))   # its Request.force
    return {}


@router.rpc("ListTransitRouterAvailableResource", writes=False)
def list_transit_router_available_resource(req):
    rule = zones.available(req.world, _region(req))   # zones.py: which zones, and how many are needed
    return {"AvailableZones": rule["available"], "MasterZones": rule["master"], "SlaveZones": rule["slave"],
            "SupportMulticast": False}


# -- transit router route tables (trtables.py) -------------------------------------------------------
@router.rpc("ListTransitRouterRouteTables", writes=False)
def list_transit_router_route_tables(req):
    tr = req.backend().find_transit_router(req.str("TransitRouterId", required=True))
    row = {"TransitRouterRouteTableId": tr.route_table_id, "TransitRouterRouteTableType": "System",
           "TransitRouterRouteTableStatus": "Active", "TransitRouterId": tr.transit_router_id, "RegionId": tr.region,
           "TransitRouterRouteTableName": "", "TransitRouterRouteTableDescription": "",
           "CreateTime": _iso(req, tr.created_at), "Tags": []}
    return {"TransitRouterRouteTables": [row], "TotalCount": 1, "NextToken": "", "MaxResults": 1}


@router.rpc("ListTransitRouterRouteEntries", writes=False)
def list_transit_router_route_entries(req):
    table_id = req.str("TransitRouterRouteTableId", required=True)
    tr = next((t for t in req.backend().transit_routers.values() if t.route_table_id == table_id), None)
    if tr is None:
        raise ApiError("InvalidTransitRouterRouteTableId.NotFound", f"The route table {table_id} does not exist.", 400)
    rows = [{"TransitRouterRouteEntryId": f"rte-{a.attachment_id}-{i}", "TransitRouterRouteEntryDestinationCidrBlock": cidr,
             "TransitRouterRouteEntryNextHopType": "Attachment", "TransitRouterRouteEntryNextHopId": a.attachment_id,
             "TransitRouterRouteEntryNextHopResourceId": a.vpc_id or a.peer_transit_router_id,
             "TransitRouterRouteEntryNextHopResourceType": "VPC" if a.kind == "VPC" else "TR",
             "TransitRouterRouteEntryType": "Propagated", "TransitRouterRouteEntryStatus": "Active"}
            for i, (cidr, a, _) in enumerate(trtables.table_routes(req.world, table_id, tr.transit_router_id))]
    chunk, token = token_page(rows, req.str("NextToken"), req.int("MaxResults"))
    return {"TransitRouterRouteEntries": chunk, "TotalCount": len(rows), "NextToken": token, "MaxResults": len(chunk)}


def _link(kind: str, add: bool):
    def handler(req):
        table = req.str("TransitRouterRouteTableId", required=True)
        attachment = req.str("TransitRouterAttachmentId", required=True)
        (trtables.add if add else trtables.remove)(req.backend(), kind, table, attachment)
        return {}
    return handler


def _links_listed(kind: str, key: str):
    def handler(req):
        rows = trtables.listed(req.backend(), kind, req.str("TransitRouterRouteTableId", required=True),
                               req.str("TransitRouterAttachmentId"))
        chunk, token = token_page(rows, req.str("NextToken"), req.int("MaxResults"))
        return {key: chunk, "TotalCount": len(rows), "NextToken": token, "MaxResults": len(chunk)}
    return handler


# Field names: alibabacloud_cbn20170912 AssociateTransitRouterAttachmentWithRouteTableRequest,
# EnableTransitRouterRouteTablePropagationRequest, ListTransitRouterRouteTableAssociations/
# PropagationsResponseBody (TransitRouterAssociations / TransitRouterPropagations).
router.rpc("AssociateTransitRouterAttachmentWithRouteTable", writes=True)(_link(trtables.ASSOC, True))
router.rpc("DissociateTransitRouterAttachmentFromRouteTable", writes=True)(_link(trtables.ASSOC, False))
router.rpc("EnableTransitRouterRouteTablePropagation", writes=True)(_link(trtables.PROP, True))
router.rpc("DisableTransitRouterRouteTablePropagation", writes=True)(_link(trtables.PROP, False))
router.rpc("ListTransitRouterRouteTableAssociations", writes=False)(
    _links_listed(trtables.ASSOC, "TransitRouterAssociations"))
router.rpc("ListTransitRouterRouteTablePropagations", writes=False)(
    _links_listed(trtables.PROP, "TransitRouterPropagations"))


# -- tags: ResourceType cen ----------------------------------------------------------------------
def _check_cen_tag_target(req, resource_type: str, resource_ids: list[str]) -> None:
    if (resource_type or "").lower() != "cen":
        raise ApiError("InvalidParameter.ResourceType", f"The resource type {resource_type!r} is not valid.", 400)
    for resource_id in resource_ids:
        req.backend().find_cen(resource_id)


@router.rpc("TagResources", writes=True)
def tag_resources(req):
    resource_type, ids, tags = req.str("ResourceType", required=True), req.flat_list("ResourceId"), tag_pairs(req.flat_list("Tag"))
    if not ids or not tags:
        raise ApiError("MissingParameter", "ResourceId and Tag are mandatory for this action.", 400)
    _check_cen_tag_target(req, resource_type, ids)
    for resource_id in ids:
        req.backend().tags.set(resource_id, tags)
    return {}


@router.rpc("UntagResources", writes=True)
def untag_resources(req):
    resource_type, ids = req.str("ResourceType", required=True), req.flat_list("ResourceId")
    _check_cen_tag_target(req, resource_type, ids)
    keys = untag_keys(req)
    for resource_id in ids:
        req.backend().tags.remove(resource_id, keys)
    return {}


@router.rpc("ListTagResources", writes=False)
def list_tag_resources(req):
    backend = req.backend()
    resource_type = req.str("ResourceType", required=True)
    ids = req.flat_list("ResourceId") or list(backend.cens)
    _check_cen_tag_target(req, resource_type, ids)
    wanted = req.flat_list("Tag")
    rows = backend.tags.rows(ids, wanted)
    chunk, token = token_page(rows, req.str("NextToken"), req.int("PageSize"), default_size=50, max_size=50)
    return {"TagResources": {"TagResource": [{"ResourceId": r, "ResourceType": resource_type, "TagKey": k,
                                              "TagValue": v} for r, k, v in chunk]}, "NextToken": token}
