"""The handlers that carry out the network deletes destroy plans, one per change kind.

Each goes through the cloud adapters (acrx.cloud.vpc, vpcpeer, cbn, pvtz, cr) and treats "already
gone" as done, so an interrupted destroy applied again converges. After a delete, the memo of
what was read is forgotten, so a plan made right after reads the cloud again.
"""

from __future__ import annotations

from typing import Any

from acrx.steps.network import zone_vswitch
from acrx.steps.network.discovery import cbn_api, cr_api, pvtz_api, vpc_api, vpcpeer_api
from acrx.steps.network.route_lock import table_lock


def delete_route(ctx, d: dict) -> dict:
    with table_lock(d["route_table_id"]):   # one write per table at a time (route_lock.py)
        vpc_api(ctx, d["alias"], d["region"]).delete_route_entry(
            d["route_table_id"], d["destination"], entry_id=d.get("route_entry_id"),
            next_hop_id=d.get("next_hop_id"), missing_ok=True)
    ctx.forget(f"net:routes:{d['alias']}:{d['region']}:{d['route_table_id']}")
    return {"route_table_id": d["route_table_id"], "destination": d["destination"]}


def delete_peering(ctx, d: dict) -> dict:
    vpcpeer_api(ctx, d["alias"], d["region"]).delete_peering(d["peering_id"], missing_ok=True)
    ctx.forget("net:peerings")
    return {"peering_id": d["peering_id"]}


def delete_attachment(ctx, d: dict) -> dict:
    api = cbn_api(ctx, d["alias"], d["region"])
    delete = api.delete_peer_attachment if d.get("peer") else api.delete_vpc_attachment
    delete(d["attachment_id"], missing_ok=True)
    return {"attachment_id": d["attachment_id"]}


def revoke_grant(ctx, d: dict) -> dict:
    cbn_api(ctx, d["alias"], d["region"]).revoke_grant(vpc_id=d["vpc_id"], region=d["region"], cen_id=d["cen_id"],
                                                      cen_owner_id=d["cen_owner_id"], missing_ok=True)
    return {"vpc_id": d["vpc_id"], "cen_id": d["cen_id"]}


def delete_router(ctx, d: dict) -> dict:
    cbn_api(ctx, d["alias"], d["region"]).delete_transit_router(d["transit_router_id"], missing_ok=True)
    return {"transit_router_id": d["transit_router_id"]}


def delete_cen(ctx, d: dict) -> dict:
    cbn_api(ctx, d["alias"], d["region"]).delete_cen(d["cen_id"], missing_ok=True)
    return {"cen_id": d["cen_id"]}


def delete_records(ctx, d: dict) -> dict:
    pvtz_api(ctx, d["alias"], d["region"]).delete_records(d["record_ids"], missing_ok=True)
    ctx.forget(f"net:records:{d['zone_id']}")
    return {"zone_id": d["zone_id"], "deleted": len(d["record_ids"])}


def unbind_zone(ctx, d: dict) -> dict:
    pvtz_api(ctx, d["alias"], d["region"]).unbind_zone(d["zone_id"], d["vpc_id"])
    ctx.forget(f"net:bindings:{d['zone_id']}")
    return {"zone_id": d["zone_id"], "vpc_id": d["vpc_id"]}


def delete_zone(ctx, d: dict) -> dict:
    from acrx.steps import ownership

    if d.get("zone_id"):
        pvtz_api(ctx, d["alias"], d["region"]).delete_zone(d["zone_id"], missing_ok=True)
    ctx.forget(f"net:zone:{d['domain']}")
    ownership.drop(ctx, f"pvtz.zone.{d['domain']}")   # a record left by a run stopped before the tag
    return {"zone_id": d["zone_id"]}


def disable_endpoint(ctx, d: dict) -> dict:
    """Switch off the internet endpoint acrx switched on, then remove acrx's record of it (last,
    so a destroy that stops half-way still finds the mark)."""
    from acrx import facts
    from acrx.steps import ownership

    record = ownership.recorded(ctx, ownership.endpoint_record(d["instance_id"])) or {}
    if not d.get("record_only"):
        cr = cr_api(ctx, d["alias"], d["region"])
        cr.set_internet_endpoint(d["instance_id"], False)
        # The system's entry came with acrx's switch-on: it goes too, once the endpoint is off
        # (never before: what an empty ACL admits on a live endpoint is not documented [?]).
        cidr, comment = facts.CR_DEFAULT_ACL_ENTRY
        if record.get("default_acl_entry_before") is False and any(
                (e.cidr, e.comment) == (cidr, comment) for e in cr.internet_acl_entries(d["instance_id"])):
            cr.delete_acl_entry(d["instance_id"], cidr)
        ctx.forget("net:registry")
    ownership.drop(ctx, ownership.endpoint_record(d["instance_id"]))
    return {"instance_id": d["instance_id"], "enabled": False}


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
KIND_ENDPOINT = "cr.endpoint.disable"
KIND_ZONE_VSWITCH = zone_vswitch.DELETE_KIND

_CALLS = {KIND_ROUTE: delete_route, KIND_PEERING: delete_peering, KIND_ATTACHMENT: delete_attachment,
          KIND_GRANT: revoke_grant, KIND_ROUTER: delete_router, KIND_CEN: delete_cen, KIND_RECORDS: delete_records,
          KIND_BINDING: unbind_zone, KIND_ZONE: delete_zone, KIND_ACL: delete_acl, KIND_ENDPOINT: disable_endpoint,
          KIND_ZONE_VSWITCH: zone_vswitch.apply_delete}


class _Handler:
    def __init__(self, ctx, kind: str):
        self.ctx, self.kind = ctx, kind

    def describe(self, change) -> str:
        return f"delete {change.address}"

    def apply(self, change, actx) -> dict:
        return _CALLS[self.kind](self.ctx, dict(change.data))


def destroy_handlers(ctx) -> dict[str, Any]:
    return {kind: _Handler(ctx, kind) for kind in _CALLS}
