"""VPC 2016-04-28 RPC actions, in the field names of alibabacloud_vpc20160428's response models."""

from __future__ import annotations

from acrx.sandbox.core.routing import Router
from acrx.sandbox.services.vpc import vswitches
from acrx.sandbox.services.vpc.shared import page, tag_pairs, token_page, untag_keys

router = Router("vpc", "2016-04-28", product="vpc")


def _uid(account: str) -> int:
    return int(account)


def _tags(backend, resource_id: str) -> dict:
    return {"Tag": backend.tags.listed(resource_id)}


def _paged(req, items, default_size=10):
    chunk, number, size = page(items, req.int("PageNumber"), req.int("PageSize"), default_size=default_size)
    return chunk, {"PageNumber": number, "PageSize": size, "TotalCount": len(items)}


def _vpc_fields(backend, vpc) -> dict:
    clock = backend.world.clock
    return {
        "VpcId": vpc.vpc_id, "RegionId": vpc.region, "Status": "Available", "VpcName": vpc.name,
        "CidrBlock": vpc.cidr_block, "SecondaryCidrBlocks": {"SecondaryCidrBlock": list(vpc.secondary_cidrs)},
        "UserCidrs": {"UserCidr": []}, "VRouterId": vpc.vrouter_id, "Description": "",
        "IsDefault": False, "CreationTime": clock.iso(vpc.created_at), "OwnerId": _uid(vpc.owner_id),
        "VSwitchIds": {"VSwitchId": [v.vswitch_id for v in backend.vswitches_of(vpc.vpc_id)]},
        "Tags": _tags(backend, vpc.vpc_id), "DnsHostnameStatus": "DISABLED",
    }


@router.rpc("DescribeVpcs", writes=False)
def describe_vpcs(req):
    backend = req.backend()
    ids = [i.strip() for i in (req.str("VpcId") or "").split(",") if i.strip()]
    wanted = req.flat_list("Tag")
    vpcs = [v for v in backend.list_vpcs(ids or None, req.str("VpcName")) if backend.tags.matches(v.vpc_id, wanted)]
    chunk, paging = _paged(req, vpcs)
    rows = []
    for vpc in chunk:
        row = _vpc_fields(backend, vpc)
        row["RouterTableIds"] = {"RouterTableIds": [t.route_table_id for t in backend.tables_of(vpc.vpc_id)]}
        row["NatGatewayIds"] = {"NatGatewayIds": [n.nat_gateway_id for n in backend.list_nat_gateways(vpc_id=vpc.vpc_id)]}
        rows.append(row)
    return {"Vpcs": {"Vpc": rows}, **paging}


@router.rpc("DescribeVpcAttribute", writes=False)
def describe_vpc_attribute(req):
    backend = req.backend()
    vpc = backend.find_vpc(req.str("VpcId", required=True))
    return {**_vpc_fields(backend, vpc), "AssociatedCens": {"AssociatedCen": _associated_cens(req, vpc)},
            "CloudResources": {"CloudResourceSetType": []}}


def _associated_cens(req, vpc) -> list[dict]:
    from acrx.sandbox.services.cbn.models import attachments_of_vpc

    return [{"CenId": a.cen_id, "CenOwnerId": int(a.cen_owner), "CenStatus": "Attached"}
            for a in attachments_of_vpc(req.world, vpc.vpc_id) if a.status == "Attached"]


def _vswitch_fields(backend, vswitch) -> dict:
    return {
        "VSwitchId": vswitch.vswitch_id, "VpcId": vswitch.vpc_id, "Status": vswitches.status(backend, vswitch),
        "CidrBlock": vswitch.cidr_block, "ZoneId": vswitch.zone_id, "VSwitchName": vswitch.name,
        "AvailableIpAddressCount": 250, "Description": vswitch.description, "IsDefault": False, "OwnerId": _uid(vswitch.owner_id),
        "CreationTime": backend.world.clock.iso(vswitch.created_at), "ShareType": "",
        "RouteTable": {"RouteTableId": vswitch.route_table_id,
                       "RouteTableType": backend.table_kind(vswitch.route_table_id)},
        "Tags": _tags(backend, vswitch.vswitch_id),
    }


@router.rpc("DescribeVSwitchAttributes", writes=False)
def describe_vswitch_attributes(req):
    backend = req.backend()
    return _vswitch_fields(backend, backend.find_vswitch(req.str("VSwitchId", required=True)))


@router.rpc("DescribeVSwitches", writes=False)
def describe_vswitches(req):
    backend = req.backend()
    found = backend.list_vswitches(vpc_id=req.str("VpcId"), vswitch_id=req.str("VSwitchId"),
                                   zone_id=req.str("ZoneId"), route_table_id=req.str("RouteTableId"))
    chunk, paging = _paged(req, found)
    return {"VSwitches": {"VSwitch": [_vswitch_fields(backend, v) for v in chunk]}, **paging}


@router.rpc("CreateVSwitch", writes=True, client_token=True)  # CreateVSwitchRequest.client_token
def create_vswitch(req):
    backend = req.backend()
    vswitch = vswitches.create(backend, vpc_id=req.str("VpcId", required=True),
                               cidr=req.str("CidrBlock", required=True), zone_id=req.str("ZoneId", required=True),
                               name=req.str("VSwitchName", default=""), description=req.str("Description", default=""))
    tags = tag_pairs(req.flat_list("Tag"))
    if tags:
        backend.tags.set(vswitch.vswitch_id, tags)     # CreateVSwitchRequest.tag: marked in the create call
    return {"VSwitchId": vswitch.vswitch_id}


@router.rpc("DeleteVSwitch", writes=True)
def delete_vswitch(req):
    vswitches.delete(req.backend(), req.str("VSwitchId", required=True))
    return {}


@router.rpc("DescribeRouteTableList", writes=False)
def describe_route_table_list(req):
    backend = req.backend()
    tables = backend.list_route_tables(vpc_id=req.str("VpcId"), route_table_id=req.str("RouteTableId"),
                                       kind=req.str("RouteTableType"))
    chunk, paging = _paged(req, tables)
    rows = [{
        "RouteTableId": t.route_table_id, "RouteTableType": t.kind, "RouteTableName": t.name, "VpcId": t.vpc_id,
        "RouterId": backend.find_vpc(t.vpc_id).vrouter_id, "RouterType": "VRouter", "Status": "Available",
        "AssociateType": "VSwitch", "Description": "", "OwnerId": _uid(t.owner_id),
        "CreationTime": backend.world.clock.iso(t.created_at),
        "VSwitchIds": {"VSwitchId": backend.vswitch_ids_of_table(t)}, "Tags": _tags(backend, t.route_table_id),
    } for t in chunk]
    return {"RouterTableList": {"RouterTableListType": rows}, **paging}


def _entry_fields(backend, entry) -> dict:
    hop = {"NextHopType": entry.next_hop_type, "NextHopId": entry.next_hop_id, "Enabled": 1, "Weight": None,
           "NextHopRegionId": backend.region}
    if entry.next_hop_type in ("VpcPeer", "Attachment"):
        hop["NextHopRelatedInfo"] = {"InstanceId": entry.next_hop_id, "InstanceType": entry.next_hop_type,
                                     "RegionId": backend.region}
    return {
        "RouteEntryId": entry.route_entry_id, "RouteTableId": entry.route_table_id,
        "DestinationCidrBlock": entry.destination, "Type": entry.kind, "Status": entry.status,
        "RouteEntryName": entry.name, "Description": entry.description, "IpVersion": "ipv4",
        "Origin": "" if entry.kind == "Custom" else "System",
        "GmtModified": backend.world.clock.iso(entry.modified_at), "NextHops": {"NextHop": [hop]},
    }


@router.rpc("DescribeRouteEntryList", writes=False)
def describe_route_entry_list(req):
    backend = req.backend()
    entries = backend.route_entries(req.str("RouteTableId", required=True))
    filters = {"route_entry_id": req.str("RouteEntryId"), "destination": req.str("DestinationCidrBlock"),
               "next_hop_id": req.str("NextHopId"), "next_hop_type": req.str("NextHopType"),
               "kind": req.str("RouteEntryType"), "name": req.str("RouteEntryName")}
    found = [e for e in entries if all(v is None or getattr(e, k) == v for k, v in filters.items())]
    chunk, token = token_page(found, req.str("NextToken"), req.int("MaxResult"), max_size=100)
    return {"RouteEntrys": {"RouteEntry": [_entry_fields(backend, e) for e in chunk]}, "NextToken": token,
            "TotalCount": len(found)}


@router.rpc("CreateRouteEntry", writes=True, client_token=True)  # CreateRouteEntryRequest.client_token
def create_route_entry(req):
    entry = req.backend().create_route_entry(
        route_table_id=req.str("RouteTableId", required=True),
        destination=req.str("DestinationCidrBlock", required=True),
        next_hop_type=req.str("NextHopType"), next_hop_id=req.str("NextHopId"),
        name=req.str("RouteEntryName", default=""), description=req.str("Description", default=""))
    return {"RouteEntryId": entry.route_entry_id}


@router.rpc("DeleteRouteEntry", writes=True)
def delete_route_entry(req):
    req.backend().delete_route_entry(route_entry_id=req.str("RouteEntryId"), route_table_id=req.str("RouteTableId"),
                                     destination=req.str("DestinationCidrBlock"), next_hop_id=req.str("NextHopId"))
    return {}


@router.rpc("DescribeNatGateways", writes=False)
def describe_nat_gateways(req):
    backend = req.backend()
    nats = backend.list_nat_gateways(vpc_id=req.str("VpcId"), nat_gateway_id=req.str("NatGatewayId"))
    chunk, paging = _paged(req, nats)
    rows = [{
        "NatGatewayId": n.nat_gateway_id, "VpcId": n.vpc_id, "Name": n.name, "Status": "Available",
        "NatType": "Enhanced", "NetworkType": "internet", "Spec": "", "RegionId": backend.region, "Description": "",
        "CreationTime": backend.world.clock.iso(n.created_at),
        "NatGatewayPrivateInfo": {"VswitchId": n.vswitch_id},
        "SnatTableIds": {"SnatTableId": [n.snat_table_id]}, "ForwardTableIds": {"ForwardTableId": []},
        "IpLists": {"IpList": [{"IpAddress": backend.eips[i].ip, "AllocationId": i, "SnatEntryEnabled": True,
                                "UsingStatus": "UsedBySnatTable"} for i in n.eip_ids]},
        "Tags": {"Tag": backend.tags.listed(n.nat_gateway_id, "TagKey", "TagValue")},
    } for n in chunk]
    return {"NatGateways": {"NatGateway": rows}, **paging}


@router.rpc("DescribeSnatTableEntries", writes=False)
def describe_snat_table_entries(req):
    backend = req.backend()
    entries = backend.list_snat_entries(snat_table_id=req.str("SnatTableId"), nat_gateway_id=req.str("NatGatewayId"),
                                        source_vswitch_id=req.str("SourceVSwitchId"), snat_ip=req.str("SnatIp"))
    chunk, paging = _paged(req, entries)
    rows = [{"SnatEntryId": e.snat_entry_id, "SnatTableId": e.snat_table_id, "NatGatewayId": e.nat_gateway_id,
             "SourceVSwitchId": e.source_vswitch_id, "SourceCIDR": e.source_cidr, "SnatIp": e.snat_ip,
             "SnatEntryName": "", "Status": "Available", "EipAffinity": 0} for e in chunk]
    return {"SnatTableEntries": {"SnatTableEntry": rows}, **paging}


@router.rpc("DescribeEipAddresses", writes=False)
def describe_eip_addresses(req):
    backend = req.backend()
    eips = backend.list_eips(allocation_id=req.str("AllocationId"), ip=req.str("EipAddress"),
                             instance_type=req.str("AssociatedInstanceType"), instance_id=req.str("AssociatedInstanceId"))
    chunk, paging = _paged(req, eips)
    rows = [{"AllocationId": e.allocation_id, "IpAddress": e.ip, "RegionId": e.region, "Status": "InUse",
             "InstanceId": e.instance_id, "InstanceType": e.instance_type, "InstanceRegionId": e.region,
             "Name": e.name, "Description": "", "InternetChargeType": "PayByTraffic", "Bandwidth": "5",
             "AllocationTime": backend.world.clock.iso(e.created_at), "Tags": _tags(backend, e.allocation_id)}
            for e in chunk]
    return {"EipAddresses": {"EipAddress": rows}, **paging}


@router.rpc("TagResources", writes=True)
def tag_resources(req):
    req.backend().tag_resources(req.str("ResourceType", required=True), req.flat_list("ResourceId"),
                                tag_pairs(req.flat_list("Tag")))
    return {}


@router.rpc("UnTagResources", writes=True)
def untag_resources(req):
    keys = untag_keys(req)
    req.backend().untag_resources(req.str("ResourceType", required=True), req.flat_list("ResourceId"), keys)
    return {}


@router.rpc("ListTagResources", writes=False)
def list_tag_resources(req):
    resource_type = req.str("ResourceType", required=True)
    rows = req.backend().list_tag_resources(resource_type, req.flat_list("ResourceId"), req.flat_list("Tag"))
    chunk, token = token_page(rows, req.str("NextToken"), req.int("MaxResults"), default_size=50, max_size=50)
    return {"TagResources": {"TagResource": [{"ResourceId": r, "ResourceType": resource_type, "TagKey": k,
                                              "TagValue": v} for r, k, v in chunk]}, "NextToken": token}
