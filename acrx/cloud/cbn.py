"""CBN / CEN (2017-09-12, RPC, central endpoint) in acrx vocabulary: CENs, Enterprise transit
routers, grants of a VPC to a CEN of another account, VPC and peer attachments.

Creates carry a ClientToken (a retried create answers the same resource). CENs are marked with
the acrx tag; transit routers and attachments with the "acrx-" name prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from acrx.cloud import errors
from acrx.cloud.adapter import CloudApi

PAGE_SIZE = 50


@dataclass(frozen=True)
class Cen:
    id: str
    name: str
    status: str
    tags: tuple[tuple[str, str], ...] = ()

    def tag(self, key: str) -> str | None:
        return dict(self.tags).get(key)


@dataclass(frozen=True)
class TransitRouter:
    id: str
    cen_id: str
    region: str
    name: str
    status: str


@dataclass(frozen=True)
class Grant:
    cen_id: str
    cen_owner_id: str
    vpc_id: str = ""


@dataclass(frozen=True)
class Attachment:
    id: str
    cen_id: str
    transit_router_id: str
    status: str                  # Attaching | Attached | ...
    name: str
    vpc_id: str = ""
    vpc_owner_id: str = ""
    peer_transit_router_id: str = ""
    zone_mappings: tuple[tuple[str, str], ...] = ()


def _tags(raw) -> tuple[tuple[str, str], ...]:
    items = raw.get("Tag") if isinstance(raw, dict) else raw
    return tuple((t.get("Key", ""), t.get("Value", "")) for t in items or [] if isinstance(t, dict))


def _attachment(raw: dict) -> Attachment:
    return Attachment(raw.get("TransitRouterAttachmentId", ""), raw.get("CenId", ""), raw.get("TransitRouterId", ""),
                      raw.get("Status", ""), raw.get("TransitRouterAttachmentName") or "", raw.get("VpcId") or "",
                      str(raw.get("VpcOwnerId") or ""), raw.get("PeerTransitRouterId") or "",
                      tuple((z.get("VSwitchId", ""), z.get("ZoneId", "")) for z in raw.get("ZoneMappings") or []))


class CbnApi(CloudApi):
    PRODUCT = "cbn"
    MODELS = "alibabacloud_cbn20170912.models"

    def _token_pages(self, action: str, method: str, make, key: str) -> list[dict]:
        # CBN wraps token-paged rows as {"GrantRules": {"GrantRule": [...]}} (or sends the bare list).
        return list(super()._token_pages(action, method, make, key, key[:-1]))

    # -- CEN -------------------------------------------------------------------------------------
    def get_cen(self, cen_id: str) -> Cen | None:
        found = [c for c in self.list_cens(cen_id=cen_id) if c.id == cen_id]
        return found[0] if found else None

    def list_cens(self, *, cen_id: str | None = None, name: str | None = None) -> list[Cen]:
        m = self._m()
        filters = []
        if cen_id:
            filters.append(m.DescribeCensRequestFilter(key="CenId", value=[cen_id]))
        if name:
            filters.append(m.DescribeCensRequestFilter(key="Name", value=[name]))
        rows = self._numbered_pages(
            "DescribeCens", "describe_cens_with_options",
            lambda page: m.DescribeCensRequest(filter=filters or None, page_number=page, page_size=PAGE_SIZE),
            "Cens", "Cen", page_size=PAGE_SIZE)
        try:
            raw = list(rows)
        except Exception as exc:
            # An unknown CEN id in the filter is refused rather than answered with no rows.
            if errors.is_not_found(exc):
                return []
            raise
        return [Cen(c.get("CenId", ""), c.get("Name") or "", c.get("Status", ""), _tags(c.get("Tags"))) for c in raw]

    def create_cen(self, *, name: str, description: str, client_token: str, tags: dict[str, str]) -> str:
        m = self._m()
        req = m.CreateCenRequest(name=name, description=description, client_token=client_token,
                                 tag=[m.CreateCenRequestTag(key=k, value=v) for k, v in sorted(tags.items())])
        return self._call("CreateCen", "create_cen_with_options", req, idempotent=True).get("CenId", "")

    def delete_cen(self, cen_id: str, *, missing_ok: bool = False) -> bool:
        return self._delete("DeleteCen", "delete_cen_with_options", self._m().DeleteCenRequest(cen_id=cen_id),
                            missing_ok=missing_ok, idempotent=True)

    # -- transit routers ---------------------------------------------------------------------------
    def transit_routers(self, cen_id: str, region: str | None = None) -> list[TransitRouter]:
        m = self._m()
        rows = self._numbered_pages(
            "ListTransitRouters", "list_transit_routers_with_options",
            lambda page: m.ListTransitRoutersRequest(cen_id=cen_id, region_id=region, page_number=page,
                                                     page_size=PAGE_SIZE),
            "TransitRouters", page_size=PAGE_SIZE)
        return [TransitRouter(t.get("TransitRouterId", ""), t.get("CenId", ""), t.get("RegionId", ""),
                              t.get("TransitRouterName") or "", t.get("Status", "")) for t in rows]

    def create_transit_router(self, *, cen_id: str, region: str, name: str, description: str,
                              client_token: str) -> str:
        req = self._m().CreateTransitRouterRequest(cen_id=cen_id, region_id=region, transit_router_name=name,
                                                   transit_router_description=description, client_token=client_token)
        return self._call("CreateTransitRouter", "create_transit_router_with_options", req,
                          idempotent=True).get("TransitRouterId", "")

    def delete_transit_router(self, transit_router_id: str, *, missing_ok: bool = False) -> bool:
        return self._delete("DeleteTransitRouter", "delete_transit_router_with_options",
                            self._m().DeleteTransitRouterRequest(transit_router_id=transit_router_id),
                            missing_ok=missing_ok, idempotent=True)

    # -- grants (run by the VPC owner) -------------------------------------------------------------
    def grants_of_vpc(self, vpc_id: str, region: str) -> list[Grant]:
        m = self._m()
        rows = self._token_pages(
            "DescribeGrantRulesToResource", "describe_grant_rules_to_resource_with_options",
            lambda token: m.DescribeGrantRulesToResourceRequest(product_type="VPC", resource_id=vpc_id,
                                                                region_id=region, next_token=token, max_results=50),
            "GrantRules")
        return [Grant(r.get("CenId", ""), str(r.get("CenOwnerId") or ""), vpc_id) for r in rows]

    def grant_vpc(self, *, vpc_id: str, region: str, cen_id: str, cen_owner_id: str, order_type: str) -> None:
        # Granting the same VPC twice is refused, not repeated: not idempotent for the retry policy.
        self._create("GrantInstanceToTransitRouter", "grant_instance_to_transit_router_with_options",
                     self._m().GrantInstanceToTransitRouterRequest(
                         cen_id=cen_id, cen_owner_id=int(cen_owner_id), instance_id=vpc_id, instance_type="VPC",
                         region_id=region, order_type=order_type),
                     confirm=lambda: {} if any(g.cen_id == cen_id for g in self.grants_of_vpc(vpc_id, region)) else None)

    def revoke_grant(self, *, vpc_id: str, region: str, cen_id: str, cen_owner_id: str,
                     missing_ok: bool = False) -> bool:
        """Withdraw the grant of a VPC to a CEN; False when already gone and missing_ok. Unlike the
        grant, a repeated revoke answers "not found", so the retry policy may repeat it."""
        return self._delete("RevokeInstanceFromTransitRouter", "revoke_instance_from_transit_router_with_options",
                            self._m().RevokeInstanceFromTransitRouterRequest(
                                cen_id=cen_id, cen_owner_id=int(cen_owner_id), instance_id=vpc_id,
                                instance_type="VPC", region_id=region), missing_ok=missing_ok, idempotent=True)

    # -- attachments (run by the CEN owner) ----------------------------------------------------------
    def vpc_attachments(self, cen_id: str, *, vpc_id: str | None = None,
                        attachment_id: str | None = None) -> list[Attachment]:
        m = self._m()
        rows = self._token_pages(
            "ListTransitRouterVpcAttachments", "list_transit_router_vpc_attachments_with_options",
            lambda token: m.ListTransitRouterVpcAttachmentsRequest(
                cen_id=cen_id, vpc_id=vpc_id, transit_router_attachment_id=attachment_id, next_token=token,
                max_results=50), "TransitRouterAttachments")
        return [_attachment(r) for r in rows]

    def create_vpc_attachment(self, *, cen_id: str, transit_router_id: str, region: str, vpc_id: str,
                              vpc_owner_id: str | None, zone_mappings: list[tuple[str, str]], name: str,
                              description: str, client_token: str) -> str:
        m = self._m()
        req = m.CreateTransitRouterVpcAttachmentRequest(
            cen_id=cen_id, transit_router_id=transit_router_id, region_id=region, vpc_id=vpc_id,
            vpc_owner_id=int(vpc_owner_id) if vpc_owner_id else None,
            zone_mappings=[m.CreateTransitRouterVpcAttachmentRequestZoneMappings(v_switch_id=v, zone_id=z)
                           for v, z in zone_mappings],
            transit_router_attachment_name=name, transit_router_attachment_description=description,
            auto_publish_route_enabled=False, client_token=client_token)
        return self._call("CreateTransitRouterVpcAttachment", "create_transit_router_vpc_attachment_with_options",
                          req, idempotent=True).get("TransitRouterAttachmentId", "")

    def peer_attachments(self, cen_id: str, transit_router_id: str | None = None) -> list[Attachment]:
        m = self._m()
        rows = self._token_pages(
            "ListTransitRouterPeerAttachments", "list_transit_router_peer_attachments_with_options",
            lambda token: m.ListTransitRouterPeerAttachmentsRequest(
                cen_id=cen_id, transit_router_id=transit_router_id, next_token=token, max_results=50),
            "TransitRouterAttachments")
        return [_attachment(r) for r in rows]

    def delete_vpc_attachment(self, attachment_id: str, *, missing_ok: bool = False) -> bool:
        return self._delete("DeleteTransitRouterVpcAttachment", "delete_transit_router_vpc_attachment_with_options",
                            self._m().DeleteTransitRouterVpcAttachmentRequest(
                                transit_router_attachment_id=attachment_id, force=True),
                            missing_ok=missing_ok, idempotent=True)

    def delete_peer_attachment(self, attachment_id: str, *, missing_ok: bool = False) -> bool:
        return self._delete("DeleteTransitRouterPeerAttachment", "delete_transit_router_peer_attachment_with_options",
                            self._m().DeleteTransitRouterPeerAttachmentRequest(
                                transit_router_attachment_id=attachment_id, force=True),
                            missing_ok=missing_ok, idempotent=True)

    # -- transit-router route tables ------------------------------------------------------------
    # Association and route learning are off for a new attachment (official
    # CreateTransitRouterVpcAttachment doc); a router forwards nothing for it until both are on.
    # Attachments are deleted with Force=true, which removes their associations and propagations
    # too (the SDK's DeleteTransitRouter*AttachmentRequest.force doc).
    def system_route_table(self, transit_router_id: str) -> str | None:
        m = self._m()
        rows = self._token_pages(
            "ListTransitRouterRouteTables", "list_transit_router_route_tables_with_options",
            lambda token: m.ListTransitRouterRouteTablesRequest(
                transit_router_id=transit_router_id, transit_router_route_table_type="System", next_token=token,
                max_results=50), "TransitRouterRouteTables")
        return next((r.get("TransitRouterRouteTableId") for r in rows), None)

    def route_table_links(self, kind: str, route_table_id: str, attachment_id: str | None = None) -> dict[str, str]:
        """{attachment id: status} of the table's associations (kind "association") or propagations."""
        m = self._m()
        action, method, request, key = {
            "association": ("ListTransitRouterRouteTableAssociations",
                            "list_transit_router_route_table_associations_with_options",
                            m.ListTransitRouterRouteTableAssociationsRequest, "TransitRouterAssociations"),
            "propagation": ("ListTransitRouterRouteTablePropagations",
                            "list_transit_router_route_table_propagations_with_options",
                            m.ListTransitRouterRouteTablePropagationsRequest, "TransitRouterPropagations")}[kind]
        rows = self._token_pages(action, method, lambda token: request(
            transit_router_route_table_id=route_table_id, transit_router_attachment_id=attachment_id,
            next_token=token, max_results=50), key)
        return {r.get("TransitRouterAttachmentId", ""): r.get("Status", "") for r in rows}

    def link_route_table(self, kind: str, route_table_id: str, attachment_id: str, *, client_token: str) -> None:
        """Associate the attachment with the table, or enable its route learning into it."""
        m = self._m()
        if kind == "association":
            self._call("AssociateTransitRouterAttachmentWithRouteTable",
                       "associate_transit_router_attachment_with_route_table_with_options",
                       m.AssociateTransitRouterAttachmentWithRouteTableRequest(
                           transit_router_route_table_id=route_table_id, transit_router_attachment_id=attachment_id,
                           client_token=client_token), idempotent=True)
        else:
            self._call("EnableTransitRouterRouteTablePropagation",
                       "enable_transit_router_route_table_propagation_with_options",
                       m.EnableTransitRouterRouteTablePropagationRequest(
                           transit_router_route_table_id=route_table_id, transit_router_attachment_id=attachment_id,
                           client_token=client_token), idempotent=True)

    def transit_router_zones(self, region: str) -> dict[str, list[str]]:
        """ListTransitRouterAvailableResource: {"available", "master", "slave"} zone lists of the region."""
        body = self._call("ListTransitRouterAvailableResource", "list_transit_router_available_resource_with_options",
                          self._m().ListTransitRouterAvailableResourceRequest(region_id=region), idempotent=True)
        return {"available": list(body.get("AvailableZones") or []), "master": list(body.get("MasterZones") or []),
                "slave": list(body.get("SlaveZones") or [])}
