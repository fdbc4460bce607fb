"""PrivateZone (2018-01-01, RPC, global) in acrx vocabulary: zones, records, VPC bindings, tags.

BindZoneVpc sets the COMPLETE list of bound VPCs, so `bind` always sends the existing bindings
plus the new one. Zones acrx creates carry the acrx tag; its records the "acrx-" remark.
"""

from __future__ import annotations

from dataclasses import dataclass

from acrx.cloud.adapter import CloudApi, unwrap

PAGE_SIZE = 100


@dataclass(frozen=True)
class Zone:
    id: str
    name: str
    proxy_pattern: str = ""
    tags: tuple[tuple[str, str], ...] = ()

    def tag(self, key: str) -> str | None:
        return dict(self.tags).get(key)


@dataclass(frozen=True)
class Binding:
    vpc_id: str
    region: str


@dataclass(frozen=True)
class Record:
    id: int
    rr: str
    type: str
    value: str
    ttl: int
    remark: str = ""
    status: str = "ENABLE"


class PvtzApi(CloudApi):
    PRODUCT = "pvtz"
    MODELS = "alibabacloud_pvtz20180101.models"

    def find_zone(self, name: str) -> Zone | None:
        """The zone of this account named exactly `name`, or None."""
        m = self._m()
        name = name.lower().rstrip(".")
        rows = self._numbered_pages(
            "DescribeZones", "describe_zones_with_options",
            lambda page: m.DescribeZonesRequest(keyword=name, search_mode="EXACT", page_number=page,
                                                page_size=PAGE_SIZE),
            "Zones", "Zone", page_size=PAGE_SIZE)
        for z in rows:
            if (z.get("ZoneName") or "").lower().rstrip(".") == name:
                tags = ((t.get("Key", ""), t.get("Value", "")) for t in unwrap(z.get("ResourceTags"), "ResourceTag"))
                return Zone(z.get("ZoneId", ""), name, z.get("ProxyPattern") or "", tuple(tags))
        return None

    def bindings(self, zone_id: str) -> list[Binding]:
        body = self._read("DescribeZoneInfo", "describe_zone_info_with_options",
                          self._m().DescribeZoneInfoRequest(zone_id=zone_id))
        if body is None:
            return []
        return [Binding(v.get("VpcId", ""), v.get("RegionId", "")) for v in unwrap(body.get("BindVpcs"), "Vpc")]

    def records(self, zone_id: str) -> list[Record]:
        m = self._m()
        rows = self._numbered_pages(
            "DescribeZoneRecords", "describe_zone_records_with_options",
            lambda page: m.DescribeZoneRecordsRequest(zone_id=zone_id, page_number=page, page_size=PAGE_SIZE),
            "Records", "Record", page_size=PAGE_SIZE)
        return [Record(int(r.get("RecordId") or 0), r.get("Rr", ""), r.get("Type", ""), r.get("Value", ""),
                       int(r.get("Ttl") or 0), r.get("Remark") or "", r.get("Status") or "ENABLE") for r in rows]

    def add_zone(self, name: str, *, proxy_pattern: str, client_token: str) -> str:
        return self._call("AddZone", "add_zone_with_options", self._m().AddZoneRequest(
            zone_name=name, proxy_pattern=proxy_pattern, client_token=client_token), idempotent=True).get("ZoneId", "")

    def add_record(self, zone_id: str, rr: str, rtype: str, value: str, *, ttl: int, remark: str,
                   client_token: str) -> int:
        body = self._call("AddZoneRecord", "add_zone_record_with_options", self._m().AddZoneRecordRequest(
            zone_id=zone_id, rr=rr, type=rtype, value=value, ttl=ttl, remark=remark, client_token=client_token),
            idempotent=True)
        return int(body.get("RecordId") or 0)

    def delete_record(self, record_id: int, *, missing_ok: bool = False) -> bool:
        return self._delete("DeleteZoneRecord", "delete_zone_record_with_options",
                            self._m().DeleteZoneRecordRequest(record_id=record_id), missing_ok=missing_ok,
                            idempotent=True)

    def delete_records(self, record_ids, *, missing_ok: bool = False) -> int:
        """Delete each record in turn; how many were deleted now (not counting those already gone)."""
        return sum(self.delete_record(record_id, missing_ok=missing_ok) for record_id in record_ids)

    def delete_zone(self, zone_id: str, *, missing_ok: bool = False) -> bool:
        return self._delete("DeleteZone", "delete_zone_with_options", self._m().DeleteZoneRequest(zone_id=zone_id),
                            missing_ok=missing_ok, idempotent=True)

    def bind(self, zone_id: str, vpcs: list[Binding]) -> None:
        """Set the zone's bound VPCs to exactly `vpcs` (the API replaces the list)."""
        m = self._m()
        self._call("BindZoneVpc", "bind_zone_vpc_with_options", m.BindZoneVpcRequest(
            zone_id=zone_id, vpcs=[m.BindZoneVpcRequestVpcs(region_id=b.region, vpc_id=b.vpc_id) for b in vpcs]),
            idempotent=True)

    def unbind_zone(self, zone_id: str, vpc_id: str) -> None:
        """Remove one VPC from the zone's bindings: BindZoneVpc replaces the list, so this sends the
        live list minus that VPC (sent even when the VPC is no longer in it: the result is the same)."""
        self.bind(zone_id, [b for b in self.bindings(zone_id) if b.vpc_id != vpc_id])

    def tag_zone(self, zone_id: str, tags: dict[str, str]) -> None:
        m = self._m()
        self._call("TagResources", "tag_resources_with_options", m.TagResourcesRequest(
            resource_type="ZONE", resource_id=[zone_id],
            tag=[m.TagResourcesRequestTag(key=k, value=v) for k, v in sorted(tags.items())]), idempotent=True)
