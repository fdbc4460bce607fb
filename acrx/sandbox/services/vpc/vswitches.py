"""CreateVSwitch / DeleteVSwitch, as the VPC API documents them (acrx creates a small vSwitch only
when the user asks for one in a zone a CEN transit router requires: --create-zone-vswitch).

Sources: the CreateVSwitch API doc (VPC 2016-04-28) and its error-code table:
- the CIDR must lie inside one of the VPC's CIDR blocks: `InvalidParameter` ("Specified CIDR block
  is not valid in VPC."); it may not overlap another vSwitch of the VPC: `InvalidCidrBlock.Overlapped`;
  a zone the region does not offer: `ResourceNotAvailable` ("Resource you requested is not
  available in this region or zone."); at most 150 vSwitches per VPC: `QuotaExceeded.VSwitch`;
- the mask must be /16 to /29 (the doc's CidrBlock description); a wider or narrower one is
  `InvalidParameter` here ([?] the doc names no separate code);
- CreateVSwitch is asynchronous: the vSwitch is Pending, then Available (DescribeVSwitchAttributes),
  so a user must wait for Available; Pending lasts VSWITCH_PENDING_SECONDS (scaled) here ([?] the
  doc gives no duration).
DeleteVSwitch (API doc): a vSwitch that still holds resources is refused with `DependencyViolation`
([?] the doc lists DependencyViolation.* codes; which one a CEN attachment's ENIs cause is not
documented, so any live transit-router attachment mapping the vSwitch refuses here, the stricter
reading); a missing one is `InvalidVSwitchId.NotFound`.
Which zones a region offers: the zones of the region's seeded vSwitches and the zones its transit
routers span (cbn/zones.py) ([?] the sandbox has no DescribeZones).
"""

from __future__ import annotations

from acrx.sandbox.core.errors import ApiError
from acrx.sandbox.services.vpc.shared import network, overlaps

VSWITCH_PENDING_SECONDS = 5
MAX_VSWITCHES_PER_VPC = 150
MASK_RANGE = (16, 29)


def region_zones(world, region: str) -> set[str]:
    from acrx.sandbox.services.cbn.zones import available

    zones = {v.zone_id for backend in world.backends("vpc") if getattr(backend, "region", None) == region
             for v in backend.vswitches.values()}
    return zones | set(available(world, region)["available"])


def create(backend, *, vpc_id: str, cidr: str, zone_id: str, name: str, description: str):
    from acrx.sandbox.services.vpc.models import VSwitch

    vpc = backend.find_vpc(vpc_id)
    if not zone_id or zone_id not in region_zones(backend.world, backend.region):
        raise ApiError("ResourceNotAvailable", f"Resource you requested is not available in this region or zone: "
                                               f"{zone_id}.", 400)
    net = network(cidr, code="InvalidParameter")
    if not MASK_RANGE[0] <= net.prefixlen <= MASK_RANGE[1] or \
            not any(net.subnet_of(network(c)) for c in vpc.cidrs()):
        raise ApiError("InvalidParameter", f"Specified CIDR block is not valid in VPC: {cidr}.", 400)
    existing = backend.vswitches_of(vpc_id)
    for other in existing:
        if overlaps(other.cidr_block, str(net)):
            raise ApiError("InvalidCidrBlock.Overlapped", "Specified CIDR block overlapped with other subnets.", 400)
    if len(existing) >= MAX_VSWITCHES_PER_VPC:
        raise ApiError("QuotaExceeded.VSwitch", "Virtual switch quota exceeded.", 400)
    clock = backend.world.clock
    vswitch = VSwitch(backend._id("vsw"), vpc_id, str(net), zone_id, name, vpc.route_table_id, backend.account,
                      clock.now(), description=description, ready_at=clock.ready_at(VSWITCH_PENDING_SECONDS))
    backend.vswitches[vswitch.vswitch_id] = vswitch
    return vswitch


def status(backend, vswitch) -> str:
    return "Available" if backend.world.clock.now() >= vswitch.ready_at else "Pending"


def delete(backend, vswitch_id: str) -> None:
    from acrx.sandbox.services.cbn.models import attachments_of_vpc

    vswitch = backend.find_vswitch(vswitch_id)
    for attachment in attachments_of_vpc(backend.world, vswitch.vpc_id):
        if any(v == vswitch_id for v, _ in attachment.zone_mappings):
            raise ApiError("DependencyViolation", f"The vSwitch {vswitch_id} is used by transit router attachment "
                                                  f"{attachment.attachment_id}.", 400)
    del backend.vswitches[vswitch_id]
    backend.tags.remove(vswitch_id)
