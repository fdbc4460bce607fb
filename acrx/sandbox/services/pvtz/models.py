"""PrivateZone (2018-01-01): private DNS zones, their records and VPC bindings. Global per account.

Unknowns, each resolved the stricter way ([?] in the reference, Part 2 §7):
- AddZone with a name the account already has: refused, `Zone.AlreadyExists`.
- DeleteZone while bound to VPCs: refused, `Zone.VpcExists`.
- AddZoneRecord duplicating (Rr, Type, Value): refused, `Record.Invalid.Conflict`.
- BindZoneVpc with another account's VPC: cross-account binding needs AddUserVpcAuthorization,
  not modelled, so it is refused with `ZoneVpc.NotAuthorized.VpcId`.
BindZoneVpc sets the COMPLETE list of bound VPCs, as the cloud does (an empty list unbinds all);
a VPC that already has another zone with the same name bound answers `ZoneVpc.Zone.Repeated`.

What Terraform's provider meets against the real API (terraform-provider-alicloud):
- a missing zone answers `Zone.Invalid.Id` (service_alicloud_pvtz.go:29 treats it and
  `Zone.Invalid.UserId` as not found);
- BindZoneVpc right after AddZone answers `Zone.NotExists` for a while, which the zone attachment
  resource retries (resource_alicloud_pvtz_zone_attachment.go); here for ZONE_PROPAGATION_SECONDS
  (scaled; [?] the real window is undocumented);
- zone writes answer `System.Busy`, which resource_alicloud_pvtz_zone.go:158 retries; here a record
  or binding write within ZONE_WRITE_SECONDS (scaled, [?]) of the previous one on the same zone.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from acrx.sandbox.core.errors import ApiError, missing_parameter
from acrx.sandbox.services.vpc.shared import TagStore

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_RR = re.compile(r"^(@|\*|(\*\.)?[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*)$")
RECORD_TYPES = {"A", "AAAA", "CNAME", "TXT", "MX", "PTR", "SRV"}
ZONE_PROPAGATION_SECONDS = 3
ZONE_WRITE_SECONDS = 1


@dataclass
class Record:
    record_id: int
    zone_id: str
    rr: str
    type: str
    value: str
    ttl: int
    priority: int | None
    remark: str
    created_at: float
    status: str = "ENABLE"


@dataclass
class Zone:
    zone_id: str
    owner: str
    name: str
    proxy_pattern: str
    remark: str
    created_at: float
    updated_at: float
    vpcs: list[tuple[str, str]] = field(default_factory=list)   # (region, vpc id)
    records: list[Record] = field(default_factory=list)
    bindable_at: float = 0.0      # BindZoneVpc answers Zone.NotExists until then
    busy_until: float = 0.0       # record/binding writes answer System.Busy until then


def valid_zone_name(name: str) -> bool:
    labels = name.lower().rstrip(".").split(".")
    return len(name) <= 253 and len(labels) >= 2 and all(_LABEL.match(label) for label in labels)


def all_zones(world):
    for backend in world.backends("pvtz"):
        yield from backend.zones.values()


def zones_bound_to(world, vpc_id: str) -> list[Zone]:
    return [z for z in all_zones(world) if any(v == vpc_id for _, v in z.vpcs)]


class Backend:
    GLOBAL = True

    def __init__(self, world, account: str, region: str):
        self.world = world
        self.account = account
        self.zones: dict[str, Zone] = {}
        self.tags = TagStore()

    def add_zone(self, name: str, proxy_pattern: str | None, remark: str) -> Zone:
        name = name.lower().rstrip(".")
        if not valid_zone_name(name):
            raise ApiError("Zone.Invalid.Name", f"The zone name {name!r} is not valid.", 400)
        if any(z.name == name for z in self.zones.values()):
            raise ApiError("Zone.AlreadyExists", f"The zone {name} already exists in this account.", 400)   # [?]
        pattern = (proxy_pattern or "ZONE").upper()
        if pattern not in ("ZONE", "RECORD"):
            raise ApiError("InvalidParameter", f"ProxyPattern {proxy_pattern!r} is not valid.", 400)
        now = self.world.clock.now()
        zone = Zone(self.world.ids.hex(32), self.account, name, pattern, remark, now, now,
                    bindable_at=self.world.clock.ready_at(ZONE_PROPAGATION_SECONDS))
        self.zones[zone.zone_id] = zone
        return zone

    def find_zone(self, zone_id: str | None) -> Zone:
        if not zone_id:
            raise missing_parameter("ZoneId")
        zone = self.zones.get(zone_id)
        if zone is None:
            raise ApiError("Zone.Invalid.Id", f"The zone {zone_id} does not exist.", 400)
        return zone

    def _write(self, zone: Zone) -> None:
        """A record or binding write: System.Busy while the previous one settles (module docstring)."""
        clock = self.world.clock
        if clock.now() < zone.busy_until:
            raise ApiError("System.Busy", "System is busy, please try again later.", 400)
        zone.busy_until = clock.ready_at(ZONE_WRITE_SECONDS)

    def delete_zone(self, zone_id: str) -> None:
        zone = self.find_zone(zone_id)
        if zone.vpcs:
            raise ApiError("Zone.VpcExists", "The zone is still bound to VPCs; unbind them first.", 400)   # [?]
        del self.zones[zone_id]
        self.tags.remove(zone_id)

    def list_zones(self, keyword: str | None, search_mode: str | None, vpc_id: str | None,
                   region: str | None) -> list[Zone]:
        zones = sorted(self.zones.values(), key=lambda z: z.created_at)
        if keyword:
            exact = (search_mode or "LIKE").upper() == "EXACT"
            zones = [z for z in zones if (z.name == keyword.lower() if exact else keyword.lower() in z.name)]
        if vpc_id:
            zones = [z for z in zones if any(v == vpc_id and (region is None or r == region) for r, v in z.vpcs)]
        return zones

    # -- records ------------------------------------------------------------------------------
    def add_record(self, zone_id: str, rr: str, rtype: str, value: str, ttl: int | None, priority: int | None,
                   remark: str) -> Record:
        zone = self.find_zone(zone_id)
        self._write(zone)
        rr = rr.lower()
        if not _RR.match(rr):
            raise ApiError("Record.Invalid.Rr", f"The host record {rr!r} is not valid.", 400)
        rtype = rtype.upper()
        if rtype not in RECORD_TYPES:
            raise ApiError("Record.Invalid.Type", f"The record type {rtype!r} is not supported.", 400)
        if rtype == "A":
            try:
                ipaddress.IPv4Address(value)
            except ValueError:
                raise ApiError("Record.Invalid.Value", f"{value!r} is not an IPv4 address.", 400) from None
        if rtype == "CNAME" and not valid_zone_name(value):
            raise ApiError("Record.Invalid.Value", f"{value!r} is not a domain name.", 400)
        if rtype == "MX" and priority is None:
            raise missing_parameter("Priority")
        same_name = [r for r in zone.records if r.rr == rr]
        if any(r.type == rtype and r.value == value for r in same_name):
            raise ApiError("Record.Invalid.Conflict", "The record already exists.", 400)   # [?]
        if (rtype == "CNAME" and same_name) or any(r.type == "CNAME" for r in same_name):
            raise ApiError("Record.Invalid.Conflict", "A CNAME record cannot share its name with other records.", 400)
        record = Record(int(self.world.ids.digits(12)), zone.zone_id, rr, rtype, value, ttl or 60, priority,
                        remark, self.world.clock.now())
        zone.records.append(record)
        zone.updated_at = record.created_at
        return record

    def find_record(self, record_id: int) -> tuple[Zone, Record]:
        for zone in self.zones.values():
            for record in zone.records:
                if record.record_id == record_id:
                    return zone, record
        raise ApiError("Record.NotExists", f"The record {record_id} does not exist.", 400)

    def delete_record(self, record_id: int) -> None:
        zone, record = self.find_record(record_id)
        self._write(zone)
        zone.records.remove(record)
        zone.updated_at = self.world.clock.now()

    # -- VPC bindings ---------------------------------------------------------------------------
    def bind_vpcs(self, zone_id: str, vpcs: list[dict]) -> None:
        from acrx.sandbox.services.vpc.models import find_vpc_anywhere

        zone = self.find_zone(zone_id)
        if self.world.clock.now() < zone.bindable_at:
            raise ApiError("Zone.NotExists", f"The zone {zone_id} does not exist.", 400)
        self._write(zone)
        wanted: list[tuple[str, str]] = []
        for item in vpcs:
            vpc_id, region = item.get("VpcId"), item.get("RegionId")
            if not vpc_id or not region:
                raise missing_parameter("Vpcs.VpcId" if not vpc_id else "Vpcs.RegionId")
            found = find_vpc_anywhere(self.world, vpc_id)
            if found is None or found[1] != region:
                raise ApiError("ZoneVpc.NotExists.VpcId", f"The VPC {vpc_id} does not exist in {region}.", 400)
            if found[0] != self.account:
                raise ApiError("ZoneVpc.NotAuthorized.VpcId",   # [?] cross-account binding is not modelled
                               f"The VPC {vpc_id} belongs to another account; binding it needs that account's "
                               "authorization (AddUserVpcAuthorization).", 400)
            for other in zones_bound_to(self.world, vpc_id):
                if other.zone_id != zone.zone_id and other.name == zone.name:
                    raise ApiError("ZoneVpc.Zone.Repeated", "Vpc is bind to same zone name.", 400)
            if (region, vpc_id) not in wanted:
                wanted.append((region, vpc_id))
        zone.vpcs = wanted
        zone.updated_at = self.world.clock.now()

    # -- tags: ResourceType ZONE ----------------------------------------------------------------
    def check_tag_target(self, resource_type: str, resource_ids: list[str]) -> None:
        if (resource_type or "").upper() != "ZONE":
            raise ApiError("InvalidParameter.ResourceType", f"The resource type {resource_type!r} is not valid.", 400)
        for resource_id in resource_ids:
            self.find_zone(resource_id)
