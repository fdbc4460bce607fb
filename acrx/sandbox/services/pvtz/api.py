"""PrivateZone 2018-01-01 RPC actions (global), in alibabacloud_pvtz20180101's field names."""

from __future__ import annotations

from acrx.sandbox.core.routing import Router
from acrx.sandbox.services.vpc.shared import page, tag_pairs, token_page, untag_keys

router = Router("pvtz", "2018-01-01", product="pvtz", global_service=True)


def _times(req, prefix: str, ts: float) -> dict:
    return {f"{prefix}Time": req.world.clock.iso(ts), f"{prefix}Timestamp": int(ts * 1000)}


def _paged(req, items, default_size=20):
    chunk, number, size = page(items, req.int("PageNumber"), req.int("PageSize"), default_size=default_size,
                               max_size=100)
    return chunk, {"PageNumber": number, "PageSize": size, "TotalItems": len(items),
                   "TotalPages": (len(items) + size - 1) // size}


def _zone_fields(req, backend, zone) -> dict:
    return {"ZoneId": zone.zone_id, "ZoneName": zone.name, "ProxyPattern": zone.proxy_pattern,
            "RecordCount": len(zone.records), "Remark": zone.remark, "IsPtr": False, "ZoneType": "AUTH_ZONE",
            "ZoneTag": "", "ResourceGroupId": "", "DnsGroup": "NORMAL_ZONE", "DnsGroupChanging": False,
            **_times(req, "Create", zone.created_at), **_times(req, "Update", zone.updated_at)}


@router.rpc("AddZone", writes=True, client_token=True)  # AddZoneRequest.client_token
def add_zone(req):
    zone = req.backend().add_zone(req.str("ZoneName", required=True), req.str("ProxyPattern"),
                                  req.str("Remark", default=""))
    return {"ZoneId": zone.zone_id, "ZoneName": zone.name, "Success": True}


@router.rpc("DescribeZones", writes=False)
def describe_zones(req):
    backend = req.backend()
    zones = backend.list_zones(req.str("Keyword"), req.str("SearchMode"), req.str("QueryVpcId"),
                               req.str("QueryRegionId"))
    chunk, paging = _paged(req, zones)
    rows = []
    for zone in chunk:
        row = _zone_fields(req, backend, zone)
        row["ResourceTags"] = {"ResourceTag": backend.tags.listed(zone.zone_id)}
        rows.append(row)
    return {"Zones": {"Zone": rows}, **paging}


@router.rpc("DescribeZoneInfo", writes=False)
def describe_zone_info(req):
    from acrx.sandbox.services.vpc.models import find_vpc_anywhere

    backend = req.backend()
    zone = backend.find_zone(req.str("ZoneId", required=True))
    vpcs = []
    for region, vpc_id in zone.vpcs:
        found = find_vpc_anywhere(req.world, vpc_id)
        vpcs.append({"RegionId": region, "RegionName": region, "VpcId": vpc_id,
                     "VpcName": found[2].name if found else "", "VpcType": "STANDARD",
                     "VpcUserId": int(found[0]) if found else None})
    return {**_zone_fields(req, backend, zone), "BindVpcs": {"Vpc": vpcs},
            "BindEdgeDnsClusters": {"EdgeDnsCluster": []}, "SlaveDns": False, "Creator": "", "CreatorType": ""}


@router.rpc("DeleteZone", writes=True)
def delete_zone(req):
    zone_id = req.str("ZoneId", required=True)
    req.backend().delete_zone(zone_id)
    return {"ZoneId": zone_id}


@router.rpc("AddZoneRecord", writes=True, client_token=True)  # AddZoneRecordRequest.client_token
def add_zone_record(req):
    record = req.backend().add_record(req.str("ZoneId", required=True), req.str("Rr", required=True),
                                      req.str("Type", required=True), req.str("Value", required=True),
                                      req.int("Ttl", minimum=5, maximum=86400), req.int("Priority", minimum=1, maximum=99),
                                      req.str("Remark", default=""))
    return {"RecordId": record.record_id, "Success": True}


@router.rpc("DescribeZoneRecords", writes=False)
def describe_zone_records(req):
    zone = req.backend().find_zone(req.str("ZoneId", required=True))
    records = list(zone.records)
    keyword = req.str("Keyword")
    if keyword:
        exact = (req.str("SearchMode") or "LIKE").upper() == "EXACT"
        records = [r for r in records if (r.rr == keyword.lower() if exact else keyword.lower() in r.rr)]
    chunk, paging = _paged(req, records)
    rows = [{"RecordId": r.record_id, "ZoneId": r.zone_id, "Rr": r.rr, "Type": r.type, "Value": r.value,
             "Ttl": r.ttl, "Priority": r.priority, "Status": r.status, "Remark": r.remark, "Line": "default",
             "Weight": 1, **_times(req, "Create", r.created_at), **_times(req, "Update", r.created_at)}
            for r in chunk]
    return {"Records": {"Record": rows}, **paging}


@router.rpc("DeleteZoneRecord", writes=True)
def delete_zone_record(req):
    record_id = req.int("RecordId", required=True)
    req.backend().delete_record(record_id)
    return {"RecordId": record_id}


@router.rpc("BindZoneVpc", writes=True)
def bind_zone_vpc(req):
    req.backend().bind_vpcs(req.str("ZoneId", required=True), req.flat_list("Vpcs"))
    return {}


@router.rpc("TagResources", writes=True)
def tag_resources(req):
    backend = req.backend()
    resource_type, ids, tags = req.str("ResourceType", required=True), req.flat_list("ResourceId"), tag_pairs(req.flat_list("Tag"))
    backend.check_tag_target(resource_type, ids)
    for resource_id in ids:
        if req.bool("OverWrite", default=False):
            backend.tags.remove(resource_id)
        backend.tags.set(resource_id, tags)
    return {}


@router.rpc("UntagResources", writes=True)
def untag_resources(req):
    backend = req.backend()
    resource_type, ids = req.str("ResourceType", required=True), req.flat_list("ResourceId")
    backend.check_tag_target(resource_type, ids)
    keys = untag_keys(req)
    for resource_id in ids:
        backend.tags.remove(resource_id, keys)
    return {}


@router.rpc("ListTagResources", writes=False)
def list_tag_resources(req):
    backend = req.backend()
    resource_type = req.str("ResourceType", required=True)
    ids = req.flat_list("ResourceId") or list(backend.zones)
    backend.check_tag_target(resource_type, ids)
    wanted = req.flat_list("Tag")
    rows = backend.tags.rows(ids, wanted)
    chunk, token = token_page(rows, req.str("NextToken"), req.int("Size"), default_size=50, max_size=200)
    return {"TagResources": [{"ResourceId": r, "ResourceType": resource_type, "TagKey": k, "TagValue": v}
                             for r, k, v in chunk], "NextToken": token}
