"""VpcPeer 2022-01-01 RPC actions (central endpoint; the region comes from RegionId).

Field names follow alibabacloud_vpcpeer20220101's models. RAM actions are `vpc:<Action>`.
"""

from __future__ import annotations

from acrx.sandbox.core.routing import Router
from acrx.sandbox.services.vpc.shared import tag_pairs, token_page, untag_keys

router = Router("vpcpeer", "2022-01-01", product="vpc")


def _region(req) -> str:
    return req.str("RegionId") or req.world.accounts[req.account].home_region


def _cidrs(world, vpc_id: str) -> list[str]:
    from acrx.sandbox.services.vpc.models import find_vpc_anywhere

    found = find_vpc_anywhere(world, vpc_id)
    return found[2].cidrs() if found else []


def _connection_fields(req, conn) -> dict:
    world = req.world
    owner_tags = world.backend("vpcpeer", conn.owner_id, None).tags.of(conn.instance_id)
    return {
        "InstanceId": conn.instance_id, "Name": conn.name, "Description": conn.description,
        "Status": conn.status, "BizStatus": "Normal", "OwnerId": int(conn.owner_id), "RegionId": conn.region,
        "AcceptingOwnerUid": int(conn.accepting_owner_uid), "AcceptingRegionId": conn.accepting_region,
        "Bandwidth": conn.bandwidth, "LinkType": conn.link_type, "ResourceGroupId": "",
        "GmtCreate": world.clock.iso(conn.created_at), "GmtModified": world.clock.iso(conn.modified_at),
        "Vpc": {"VpcId": conn.vpc_id, "Ipv4Cidrs": _cidrs(world, conn.vpc_id), "Ipv6Cidrs": []},
        "AcceptingVpc": {"VpcId": conn.accepting_vpc_id, "Ipv4Cidrs": _cidrs(world, conn.accepting_vpc_id),
                         "Ipv6Cidrs": []},
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(owner_tags.items())],
    }


@router.rpc("CreateVpcPeerConnection", writes=True, client_token=True)  # CreateVpcPeerConnectionRequest
def create_vpc_peer_connection(req):
    conn = req.backend().create(
        region=_region(req), vpc_id=req.str("VpcId", required=True),
        accepting_uid=req.str("AcceptingAliUid", required=True),
        accepting_region=req.str("AcceptingRegionId", required=True),
        accepting_vpc_id=req.str("AcceptingVpcId", required=True),
        bandwidth=req.int("Bandwidth", minimum=0), link_type=req.str("LinkType"),
        name=req.str("Name", default=""), description=req.str("Description", default=""),
        tags=tag_pairs(req.flat_list("Tag")))
    return {"InstanceId": conn.instance_id}


@router.rpc("AcceptVpcPeerConnection", writes=True)
def accept_vpc_peer_connection(req):
    req.backend().accept(req.str("InstanceId", required=True))
    return {}


@router.rpc("GetVpcPeerConnectionAttribute", writes=False)
def get_vpc_peer_connection_attribute(req):
    return _connection_fields(req, req.backend().visible(req.str("InstanceId", required=True)))


@router.rpc("ListVpcPeerConnections", writes=False)
def list_vpc_peer_connections(req):
    vpc_ids = [v.strip() for v in (req.str("VpcId") or "").split(",") if v.strip()]
    found = req.backend().list(region=_region(req), vpc_ids=vpc_ids, instance_id=req.str("InstanceId"),
                               name=req.str("Name"))
    wanted = req.flat_list("Tags")
    if wanted:
        found = [c for c in found if req.world.backend("vpcpeer", c.owner_id, None).tags.matches(c.instance_id, wanted)]
    chunk, token = token_page(found, req.str("NextToken"), req.int("MaxResults"), default_size=20, max_size=100)
    return {"VpcPeerConnects": [_connection_fields(req, c) for c in chunk], "NextToken": token,
            "TotalCount": len(found), "MaxResults": req.int("MaxResults", default=20)}


@router.rpc("DeleteVpcPeerConnection", writes=True)
def delete_vpc_peer_connection(req):
    req.backend().delete(req.str("InstanceId", required=True), force=bool(req.bool("Force", default=False)))
    return {}


@router.rpc("TagResources", writes=True)
def tag_resources(req):
    req.backend().tag(req.str("ResourceType", required=True), req.flat_list("ResourceId"),
                      tag_pairs(req.flat_list("Tag")))
    return {}


@router.rpc("UnTagResources", writes=True)
def untag_resources(req):
    keys = untag_keys(req)
    req.backend().untag(req.str("ResourceType", required=True), req.flat_list("ResourceId"), keys)
    return {}


@router.rpc("ListTagResources", writes=False)
def list_tag_resources(req):
    resource_type = req.str("ResourceType", required=True)
    rows = req.backend().tag_rows(resource_type, req.flat_list("ResourceId"), req.flat_list("Tag"))
    chunk, token = token_page(rows, req.str("NextToken"), req.int("MaxResults"), default_size=50, max_size=50)
    return {"TagResources": [{"ResourceId": c.instance_id, "ResourceType": resource_type, "TagKey": k,
                              "TagValue": v, "RegionNo": c.region} for c, k, v in chunk],
            "NextToken": token, "MaxResults": len(chunk)}
