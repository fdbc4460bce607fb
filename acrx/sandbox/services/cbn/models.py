"""CBN / CEN (2017-09-12): CEN instances, Enterprise transit routers, grants and attachments.

Central API: one Backend per account (GLOBAL). Cross-account rules:
- GrantInstanceToTransitRouter is run by the VPC OWNER; the grant lives in its backend.
- CreateTransitRouterVpcAttachment is run by the CEN owner; a VPC of another account needs that
  grant first (either direction: the registry's hub attaching a cluster's VPC, or a cluster's CEN
  attaching the registry's). [?] the cloud's "not granted" code is unknown (Part 2 §7): we answer
  `Forbidden.InstanceNotGranted` (403-like semantics, HTTP 400 as CBN errors are).
- A VPC is attached to one CEN at most ([?] the stricter reading, see create_vpc_attachment).
Routing model: a transit router forwards only by the route table an attachment is associated
with, to what is propagated into it (trtables.py, with its sources); nothing else is stored.
Slow ops: "cen_attachment" (VPC attachments) and "cen_peer_attachment" (Attaching -> Attached);
a failed attachment disappears.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from acrx.sandbox.core import slowop
from acrx.sandbox.core.errors import ApiError, missing_parameter
from acrx.sandbox.services.cbn import busy, trtables, zones
from acrx.sandbox.services.vpc.shared import TagStore

ATTACH_SECONDS = 30
PEER_ATTACH_SECONDS = 60
NOT_GRANTED = "Forbidden.InstanceNotGranted"   # [?] real code unknown
ALREADY_ATTACHED = "InvalidOperation.ChildInstanceAlreadyAttached"   # borrowed: see create_vpc_attachment


@dataclass
class Cen:
    cen_id: str
    owner: str
    name: str
    description: str
    created_at: float


@dataclass
class TransitRouter:
    transit_router_id: str
    cen_id: str
    owner: str
    region: str
    name: str
    description: str
    route_table_id: str
    created_at: float


@dataclass
class Grant:
    vpc_id: str
    vpc_owner: str
    region: str
    cen_id: str
    cen_owner: str
    order_type: str
    created_at: float


@dataclass
class Attachment:
    attachment_id: str
    kind: str                    # VPC | TR (peer)
    cen_id: str
    cen_owner: str
    transit_router_id: str
    region: str
    name: str
    description: str
    auto_publish: bool
    created_at: float
    vpc_id: str = ""
    vpc_owner: str = ""
    zone_mappings: list[tuple[str, str]] = field(default_factory=list)
    peer_transit_router_id: str = ""
    peer_region: str = ""
    peer_owner: str = ""
    bandwidth: int = 0
    bandwidth_type: str = ""
    deleted: bool = False
    op: slowop.SlowOp | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        if self.deleted:
            return "Detached"
        if self.op is not None:
            state = self.op.state()
            if state == slowop.RUNNING:
                return "Attaching"
            if state == slowop.FAIL:
                self.deleted = True
                return "Detached"
            self.op = None
        return "Attached"

    @property
    def live(self) -> bool:
        return self.status != "Detached"


def _backends(world):
    return world.backends("cbn")


def all_attachments(world):
    for backend in _backends(world):
        yield from (a for a in backend.attachments.values() if a.live)


def find_vpc_attachment(world, attachment_id: str) -> Attachment | None:
    return next((a for a in all_attachments(world) if a.attachment_id == attachment_id and a.kind == "VPC"), None)


def attachments_of_vpc(world, vpc_id: str) -> list[Attachment]:
    return [a for a in all_attachments(world) if a.kind == "VPC" and a.vpc_id == vpc_id]


def all_transit_routers(world):
    for backend in _backends(world):
        yield from backend.transit_routers.values()


class Backend:
    GLOBAL = True

    def __init__(self, world, account: str, region: str):
        self.world = world
        self.account = account
        self.cens: dict[str, Cen] = {}
        self.transit_routers: dict[str, TransitRouter] = {}
        self.attachments: dict[str, Attachment] = {}
        self.grants: list[Grant] = []        # grants this account made, as a VPC owner
        self.tags = TagStore()

    def _now(self) -> float:
        return self.world.clock.now()

    # -- CEN ------------------------------------------------------------------------------
    def create_cen(self, name: str, description: str, tags: dict) -> Cen:
        busy.refuse_cen_create(self)
        busy.mark(self, busy.ACCOUNT_CEN_KEY, busy.ACCOUNT_CEN_SETTLE_SECONDS)
        cen = Cen(self.world.ids.prefixed("cen", 18), self.account, name, description, self._now())
        self.cens[cen.cen_id] = cen
        busy.mark(self, cen.cen_id, busy.CEN_SETTLE_SECONDS)
        if tags:
            self.tags.set(cen.cen_id, tags)
        return cen

    def find_cen(self, cen_id: str | None) -> Cen:
        cen = self.cens.get(cen_id or "")
        if cen is None:
            # Terraform's not-found code for CEN instances.
            raise ApiError("ParameterCenInstanceId", f"The specified CEN instance {cen_id} does not exist.", 400)
        return cen

    def delete_cen(self, cen_id: str) -> None:
        self.find_cen(cen_id)
        if any(tr.cen_id == cen_id for tr in self.transit_routers.values()):
            # [?] the cloud refuses while child resources exist; the exact code is unknown.
            raise ApiError("InvalidOperation.CenInstanceStatus",
                           "The CEN instance still has transit routers; delete them first.", 400)
        del self.cens[cen_id]
        self.tags.remove(cen_id)
        busy.mark(self, busy.ACCOUNT_CEN_KEY, busy.ACCOUNT_CEN_SETTLE_SECONDS)   # busy.py: CreateCen waits

    # -- transit routers --------------------------------------------------------------------
    def create_transit_router(self, cen_id: str, region: str, name: str, description: str) -> TransitRouter:
        self.find_cen(cen_id)
        busy.refuse_cen_write(self, cen_id)
        for tr in self.transit_routers.values():
            if tr.cen_id == cen_id and tr.region == region:
                # One Enterprise transit router per region per CEN. [?] exact code unknown.
                raise ApiError("Forbidden.TransitRouterExist",
                               f"The CEN {cen_id} already has transit router {tr.transit_router_id} in {region}.", 400)
        tr = TransitRouter(self.world.ids.prefixed("tr", 21), cen_id, self.account, region, name, description,
                           self.world.ids.prefixed("vtb", 21), self._now())
        self.transit_routers[tr.transit_router_id] = tr
        busy.mark(self, cen_id, busy.CEN_SETTLE_SECONDS)
        return tr

    def find_transit_router(self, transit_router_id: str | None) -> TransitRouter:
        tr = self.transit_routers.get(transit_router_id or "")
        if tr is None:
            # ParameterInstanceId: what Terraform's provider reads as a missing transit router
            # (resource_alicloud_cen_transit_router.go:266).
            raise ApiError("ParameterInstanceId", f"The transit router {transit_router_id} does not exist.", 400)
        return tr

    def delete_transit_router(self, transit_router_id: str) -> None:
        self.find_transit_router(transit_router_id)
        if any(a.live and a.transit_router_id == transit_router_id for a in self.attachments.values()):
            raise ApiError("IncorrectStatus.TransitRouter", "The transit router still has attachments.", 400)
        del self.transit_routers[transit_router_id]

    # -- grants (run by the VPC owner) -------------------------------------------------------
    def _own_vpc(self, region: str, vpc_id: str):
        from acrx.sandbox.services.vpc.models import find_vpc_anywhere

        found = find_vpc_anywhere(self.world, vpc_id)
        if found is None or found[0] != self.account or found[1] != region:
            raise ApiError("InvalidInstanceId.NotFound", f"The VPC {vpc_id} does not exist in {region}.", 400)
        return found[2]

    def grant(self, *, region: str, vpc_id: str, instance_type: str, cen_id: str, cen_owner: str,
              order_type: str) -> Grant:
        if instance_type.upper() != "VPC":
            raise ApiError("InvalidParameter.InstanceType", "Only VPC instances are modelled here.", 400)
        self._own_vpc(region, vpc_id)
        if cen_owner not in self.world.accounts or cen_id not in self.world.backend("cbn", cen_owner, None).cens:
            raise ApiError("ParameterCenInstanceId", f"The CEN {cen_id} of account {cen_owner} does not exist.", 400)
        if order_type not in ("PayByCenOwner", "PayByResourceOwner"):
            raise ApiError("InvalidParameter.OrderType", f"OrderType {order_type!r} is not valid.", 400)
        for grant in self.grants:
            if grant.vpc_id == vpc_id and grant.cen_id == cen_id:
                raise ApiError("Forbidden.InstanceAlreadyGranted",   # [?] exact code unknown
                               f"The VPC {vpc_id} is already granted to {cen_id}.", 400)
        grant = Grant(vpc_id, self.account, region, cen_id, cen_owner, order_type, self._now())
        busy.refuse_grant(self)
        self.grants.append(grant)
        busy.mark(self, "grant", busy.GRANT_SETTLE_SECONDS)
        return grant

    def revoke(self, *, region: str, vpc_id: str, cen_id: str) -> None:
        self._own_vpc(region, vpc_id)
        if self.grant_for(vpc_id, cen_id) is None:
            # [?] The cloud's code for revoking a missing grant is undocumented; Terraform's revoke
            # treats it through its generic NotFoundError (HTTP 404 or a NotFound code:
            # resource_alicloud_cen_transit_router_grant_attachment.go delete), so answer that form.
            raise ApiError("ResourceNotFound.GrantRule", f"The VPC {vpc_id} is not granted to {cen_id}.", 404)
        if any(a.kind == "VPC" and a.vpc_id == vpc_id and a.cen_id == cen_id for a in all_attachments(self.world)):
            raise ApiError("IncorrectStatus.Attachment", "The VPC is still attached to the CEN; detach it first.", 400)
        self.grants = [g for g in self.grants if not (g.vpc_id == vpc_id and g.cen_id == cen_id)]

    def grant_for(self, vpc_id: str, cen_id: str) -> Grant | None:
        return next((g for g in self.grants if g.vpc_id == vpc_id and g.cen_id == cen_id), None)

    # -- attachments (run by the CEN owner) --------------------------------------------------
    def create_vpc_attachment(self, *, region: str, cen_id: str | None, transit_router_id: str | None, vpc_id: str,
                              vpc_owner: str | None, zone_mappings: list[dict], name: str, description: str,
                              auto_publish: bool) -> Attachment:
        from acrx.sandbox.services.vpc.models import backend_of_vpc, find_vpc_anywhere

        tr = self._router_for(region, cen_id, transit_router_id)
        busy.refuse_attachment_write(self, tr.transit_router_id)
        owner = vpc_owner or self.account
        found = find_vpc_anywhere(self.world, vpc_id)
        if found is None or found[0] != owner or found[1] != region:
            raise ApiError("InvalidVpcId.NotFound", f"The VPC {vpc_id} of account {owner} does not exist in {region}.", 400)
        if owner != self.account and self.world.backend("cbn", owner, None).grant_for(vpc_id, tr.cen_id) is None:
            raise ApiError(NOT_GRANTED, f"The VPC {vpc_id} of account {owner} has not been granted to CEN "
                                        f"{tr.cen_id} (GrantInstanceToTransitRouter by the VPC owner).", 400)
        if any(a.vpc_id == vpc_id and a.cen_id == tr.cen_id for a in all_attachments(self.world)):
            raise ApiError("Forbidden.AttachmentExist", f"The VPC {vpc_id} is already attached to {tr.cen_id}.", 400)
        elsewhere = next((a for a in attachments_of_vpc(self.world, vpc_id) if a.cen_id != tr.cen_id), None)
        if elsewhere is not None:
            # One CEN per VPC: AttachCenChildInstance documents InvalidOperation.ChildInstanceAlreadyAttached
            # (HTTP 409, "the child-instance has already been attached to another CEN"; CEN API reference,
            # doc-detail/65902). [?] Whether CreateTransitRouterVpcAttachment keeps that rule, and with which
            # code, is not documented: the stricter reading, with that code borrowed.
            raise ApiError(ALREADY_ATTACHED, f"Operation is invalid because the child-instance {vpc_id} has already "
                                             f"been attached to another CEN ({elsewhere.cen_id}).", 409)
        if not zone_mappings:
            raise missing_parameter("ZoneMappings")
        if len(zone_mappings) > 10:
            raise ApiError("InvalidParameter.ZoneMappings", "At most 10 zone mappings.", 400)
        vpc_backend = backend_of_vpc(self.world, vpc_id)
        mappings = []
        for item in zone_mappings:
            vswitch = vpc_backend.vswitches.get(item.get("VSwitchId", ""))
            if vswitch is None or vswitch.vpc_id != vpc_id:
                raise ApiError("IncorrectStatus.VpcOrVswitch",
                               f"The vSwitch {item.get('VSwitchId')} does not belong to {vpc_id}.", 400)
            if item.get("ZoneId") and item["ZoneId"] != vswitch.zone_id:
                raise ApiError("InvalidParameter.ZoneId",
                               f"The vSwitch {vswitch.vswitch_id} is in {vswitch.zone_id}, not {item['ZoneId']}.", 400)
            mappings.append((vswitch.vswitch_id, vswitch.zone_id))
        zones.check_mappings(self.world, region, mappings)
        attachment = Attachment(self.world.ids.prefixed("tr-attach", 17), "VPC", tr.cen_id, self.account,
                                tr.transit_router_id, region, name, description, auto_publish,
                                self._now(), vpc_id=vpc_id, vpc_owner=owner, zone_mappings=mappings,
                                op=slowop.start(self.world, "cen_attachment", ATTACH_SECONDS))
        self.attachments[attachment.attachment_id] = attachment
        return attachment

    def _router_for(self, region: str, cen_id: str | None, transit_router_id: str | None) -> TransitRouter:
        if transit_router_id:
            tr = self.find_transit_router(transit_router_id)
        else:
            if not cen_id:
                raise missing_parameter("TransitRouterId")
            tr = next((t for t in self.transit_routers.values() if t.cen_id == cen_id and t.region == region), None)
            if tr is None:
                raise ApiError("InvalidTransitRouterId.NotFound", f"No transit router of {cen_id} in {region}.", 400)
        if cen_id and tr.cen_id != cen_id:
            raise ApiError("InvalidTransitRouterId.NotFound", f"{tr.transit_router_id} is not in CEN {cen_id}.", 400)
        if tr.region != region:
            raise ApiError("InvalidTransitRouterId.NotFound", f"{tr.transit_router_id} is not in {region}.", 400)
        return tr

    def create_peer_attachment(self, *, region: str, cen_id: str | None, transit_router_id: str,
                               peer_transit_router_id: str, peer_region: str, bandwidth: int | None,
                               bandwidth_type: str, name: str, description: str, auto_publish: bool) -> Attachment:
        tr = self._router_for(region, cen_id, transit_router_id)
        peer = self.transit_routers.get(peer_transit_router_id)
        if peer is None or peer.region != peer_region or peer.cen_id != tr.cen_id:
            raise ApiError("InvalidTransitRouterId.NotFound",
                           f"The peer transit router {peer_transit_router_id} does not exist in {peer_region} "
                           f"for CEN {tr.cen_id}.", 400)
        busy.refuse_attachment_write(self, tr.transit_router_id)
        busy.refuse_attachment_write(self, peer.transit_router_id)
        if peer.region == tr.region:
            raise ApiError("InvalidParameter.PeerTransitRouterRegionId",
                           "A peer attachment connects transit routers of two different regions.", 400)
        for a in all_attachments(self.world):
            if a.kind == "TR" and {a.transit_router_id, a.peer_transit_router_id} == {tr.transit_router_id, peer.transit_router_id}:
                raise ApiError("Forbidden.AttachmentExist", "The two transit routers are already connected.", 400)
        attachment = Attachment(self.world.ids.prefixed("tr-attach", 17), "TR", tr.cen_id, self.account,
                                tr.transit_router_id, region, name, description, auto_publish,
                                self._now(), peer_transit_router_id=peer.transit_router_id, peer_region=peer_region,
                                peer_owner=peer.owner, bandwidth=bandwidth or 0, bandwidth_type=bandwidth_type,
                                op=slowop.start(self.world, "cen_peer_attachment", PEER_ATTACH_SECONDS))
        self.attachments[attachment.attachment_id] = attachment
        return attachment

    def find_attachment(self, attachment_id: str | None, kind: str) -> Attachment:
        attachment = self.attachments.get(attachment_id or "")
        if attachment is None or not attachment.live or attachment.kind != kind:
            raise ApiError("InvalidTransitRouterAttachmentId.NotFound",
                           f"The attachment {attachment_id} does not exist.", 400)
        return attachment

    def delete_attachment(self, attachment_id: str, kind: str, force: bool = False) -> None:
        attachment = self.find_attachment(attachment_id, kind)
        if attachment.status == "Attaching":
            raise ApiError("IncorrectStatus.Attachment", "The attachment is still Attaching.", 400)
        trtables.refuse_delete(self, attachment, force)
        attachment.deleted = True

    def list_attachments(self, kind: str, *, cen_id=None, region=None, transit_router_id=None, attachment_id=None,
                         vpc_id=None) -> list[Attachment]:
        return sorted((a for a in self.attachments.values()
                       if a.live and a.kind == kind and (cen_id is None or a.cen_id == cen_id)
                       and (region is None or a.region == region)
                       and (transit_router_id is None or a.transit_router_id == transit_router_id)
                       and (attachment_id is None or a.attachment_id == attachment_id)
                       and (vpc_id is None or a.vpc_id == vpc_id)), key=lambda a: a.created_at)
