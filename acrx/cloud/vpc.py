"""VPC (2016-04-28, RPC) in acrx vocabulary: VPCs, vSwitches, route tables and entries, NAT egress.

Every call goes through acrx.cloud.retry (translation + retries). Reads return None for a missing
resource; writes raise CloudError. Route entries are created with a ClientToken, so a create the
retry policy repeats after a lost connection answers the same entry instead of a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass

from acrx.cloud.adapter import CloudApi, unwrap

PAGE_SIZE = 50


@dataclass(frozen=True)
class Vpc:
    id: str
    region: str
    cidrs: tuple[str, ...]       # primary first, then secondary CIDR blocks
    owner_id: str = ""
    name: str = ""


@dataclass(frozen=True)
class VSwitch:
    id: str
    vpc_id: str
    cidr: str
    zone_id: str
    route_table_id: str
    route_table_type: str = ""
    status: str = ""             # Pending right after CreateVSwitch, then Available
    name: str = ""
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RouteEntry:
    route_table_id: str
    destination: str
    next_hop_type: str
    next_hop_id: str
    status: str
    kind: str                    # Custom | System
    entry_id: str = ""
    name: str = ""
    description: str = ""


@dataclass(frozen=True)
class NatGateway:
    id: str
    vpc_id: str
    snat_table_ids: tuple[str, ...]
    ips: tuple[str, ...]


@dataclass(frozen=True)
class SnatEntry:
    snat_table_id: str
    source_vswitch_id: str
    source_cidr: str
    snat_ip: str


def _str(value) -> str:
    return "" if value is None else str(value)


class VpcApi(CloudApi):
    PRODUCT = "vpc"
    MODELS = "alibabacloud_vpc20160428.models"

    # -- VPCs and vSwitches ------------------------------------------------------------------
    def get_vpc(self, vpc_id: str) -> Vpc | None:
        body = self._read("DescribeVpcAttribute", "describe_vpc_attribute_with_options",
                          self._m().DescribeVpcAttributeRequest(region_id=self.region, vpc_id=vpc_id))
        if body is None or not body.get("VpcId"):
            return None
        secondary = unwrap(body.get("SecondaryCidrBlocks"), "SecondaryCidrBlock")
        cidrs = tuple(c for c in [body.get("CidrBlock"), *secondary] if c)
        return Vpc(body["VpcId"], body.get("RegionId") or self.region, cidrs, _str(body.get("OwnerId")),
                   body.get("VpcName") or "")

    def get_vswitch(self, vswitch_id: str) -> VSwitch | None:
        body = self._read("DescribeVSwitchAttributes", "describe_vswitch_attributes_with_options",
                          self._m().DescribeVSwitchAttributesRequest(region_id=self.region, v_switch_id=vswitch_id))
        if body is None or not body.get("VSwitchId"):
            return None
        table = body.get("RouteTable") or {}
        tags = tuple((t.get("Key", ""), t.get("Value", "")) for t in unwrap(body.get("Tags"), "Tag")
                     if isinstance(t, dict))
        return VSwitch(body["VSwitchId"], body.get("VpcId", ""), body.get("CidrBlock", ""), body.get("ZoneId", ""),
                       table.get("RouteTableId", ""), table.get("RouteTableType", ""), body.get("Status") or "",
                       body.get("VSwitchName") or "", tags)

    def create_vswitch(self, *, vpc_id: str, zone_id: str, cidr: str, name: str, description: str,
                       tags: dict[str, str], client_token: str) -> str:
        """A vSwitch, marked in the create call (CreateVSwitchRequest.tag); Pending until Available."""
        m = self._m()
        req = m.CreateVSwitchRequest(region_id=self.region, vpc_id=vpc_id, zone_id=zone_id, cidr_block=cidr,
                                     v_switch_name=name, description=description, client_token=client_token,
                                     tag=[m.CreateVSwitchRequestTag(key=k, value=v) for k, v in sorted(tags.items())])
        return self._call("CreateVSwitch", "create_vswitch_with_options", req, idempotent=True).get("VSwitchId", "")

    def delete_vswitch(self, vswitch_id: str, *, missing_ok: bool = False) -> bool:
        return self._delete("DeleteVSwitch", "delete_vswitch_with_options",
                            self._m().DeleteVSwitchRequest(region_id=self.region, v_switch_id=vswitch_id),
                            missing_ok=missing_ok, idempotent=True)

    def list_vswitches(self, vpc_id: str) -> list[VSwitch]:
        """Every vSwitch of a VPC (route tables read per vSwitch: the list omits them in the cloud)."""
        m = self._m()
        ids = [v.get("VSwitchId", "") for v in self._numbered_pages(
            "DescribeVSwitches", "describe_vswitches_with_options",
            lambda page: m.DescribeVSwitchesRequest(region_id=self.region, vpc_id=vpc_id, page_number=page,
                                                    page_size=PAGE_SIZE),
            "VSwitches", "VSwitch", page_size=PAGE_SIZE)]
        return [v for v in (self.get_vswitch(i) for i in ids if i) if v is not None]

    # -- routes --------------------------------------------------------------------------------
    def route_entries(self, route_table_id: str, *, destination: str | None = None) -> list[RouteEntry]:
        m = self._m()
        out: list[RouteEntry] = []
        for raw in self._token_pages(
                "DescribeRouteEntryList", "describe_route_entry_list_with_options",
                lambda token: m.DescribeRouteEntryListRequest(region_id=self.region, route_table_id=route_table_id,
                                                              destination_cidr_block=destination,
                                                              next_token=token, max_result=100),
                "RouteEntrys", "RouteEntry"):
            hops = unwrap(raw.get("NextHops"), "NextHop")
            hop = hops[0] if hops else {}
            out.append(RouteEntry(raw.get("RouteTableId") or route_table_id, raw.get("DestinationCidrBlock", ""),
                                  hop.get("NextHopType") or "", hop.get("NextHopId") or "",
                                  raw.get("Status", ""), raw.get("Type", ""), raw.get("RouteEntryId", ""),
                                  raw.get("RouteEntryName") or "", raw.get("Description") or ""))
        return out

    def create_route_entry(self, route_table_id: str, destination: str, next_hop_type: str, next_hop_id: str, *,
                           name: str, description: str, client_token: str) -> str:
        req = self._m().CreateRouteEntryRequest(
            region_id=self.region, route_table_id=route_table_id, destination_cidr_block=destination,
            next_hop_type=next_hop_type, next_hop_id=next_hop_id, route_entry_name=name, description=description,
            client_token=client_token)
        return self._call("CreateRouteEntry", "create_route_entry_with_options", req,
                          idempotent=True).get("RouteEntryId", "")

    def delete_route_entry(self, route_table_id: str, destination: str, *, entry_id: str | None = None,
                           next_hop_id: str | None = None, missing_ok: bool = False) -> bool:
        """Delete one custom route (by id when known, else by destination and next hop); False when
        already gone and missing_ok. Idempotent for the retry policy: a repeat finds it gone."""
        req = self._m().DeleteRouteEntryRequest(region_id=self.region, route_table_id=route_table_id,
                                                route_entry_id=entry_id or None, destination_cidr_block=destination,
                                                next_hop_id=next_hop_id)
        return self._delete("DeleteRouteEntry", "delete_route_entry_with_options", req, missing_ok=missing_ok,
                            idempotent=True)

    # -- egress ----------------------------------------------------------------------------------
    def nat_gateways(self, vpc_id: str) -> list[NatGateway]:
        m = self._m()
        rows = self._numbered_pages(
            "DescribeNatGateways", "describe_nat_gateways_with_options",
            lambda page: m.DescribeNatGatewaysRequest(region_id=self.region, vpc_id=vpc_id, page_number=page,
                                                      page_size=PAGE_SIZE),
            "NatGateways", "NatGateway", page_size=PAGE_SIZE)
        return [NatGateway(raw.get("NatGatewayId", ""), raw.get("VpcId", vpc_id),
                           tuple(unwrap(raw.get("SnatTableIds"), "SnatTableId")),
                           tuple(i.get("IpAddress", "") for i in unwrap(raw.get("IpLists"), "IpList")))
                for raw in rows]

    def snat_entries(self, nat_gateway_id: str) -> list[SnatEntry]:
        m = self._m()
        rows = self._numbered_pages(
            "DescribeSnatTableEntries", "describe_snat_table_entries_with_options",
            lambda page: m.DescribeSnatTableEntriesRequest(region_id=self.region, nat_gateway_id=nat_gateway_id,
                                                           page_number=page, page_size=PAGE_SIZE),
            "SnatTableEntries", "SnatTableEntry", page_size=PAGE_SIZE)
        return [SnatEntry(e.get("SnatTableId", ""), e.get("SourceVSwitchId") or "", e.get("SourceCIDR") or "",
                          e.get("SnatIp", "")) for e in rows]

    # -- tags ------------------------------------------------------------------------------------
    def tag(self, resource_type: str, resource_id: str, tags: dict[str, str]) -> None:
        m = self._m()
        self._call("TagResources", "tag_resources_with_options", m.TagResourcesRequest(
            region_id=self.region, resource_type=resource_type, resource_id=[resource_id],
            tag=[m.TagResourcesRequestTag(key=k, value=v) for k, v in sorted(tags.items())]), idempotent=True)
