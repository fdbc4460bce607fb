"""Which vSwitches a CEN VPC attachment maps, zone by zone.

ZoneMappings must name zones that support Enterprise transit routers, and where a region's
transit routers span several zones an attachment needs vSwitches in at least two of them (the CEN
docs; ROS TransitRouterVpcAttachment ZoneMappings). acrx asks ListTransitRouterAvailableResource:
a region with both a primary (MasterZones) and a secondary zone (SlaveZones) needs two zones
([?] that reading of the two lists; the sandbox models the same one). It maps the preferred
vSwitches first (the nodes' and control plane's for A, the endpoint link's for B), then, for a
zone still missing, another vSwitch of the same VPC in it; when the VPC has none, planning stops
(exit 2, before any write) naming the zone, the VPC and --create-zone-vswitch. With that option
(key network.create_zone_vswitch) acrx plans a small vSwitch there instead (zone_vswitch.py).
"""

from __future__ import annotations

from acrx import facts
from acrx.errors import PreflightError
from acrx.steps.network import zone_vswitch
from acrx.steps.network.discovery import vpc_api


def zones_key(region: str) -> str:
    return f"net:trzones:{region}"


def vswitches_key(alias: str, region: str, vpc_id: str) -> str:
    return f"net:vswitches:{alias}:{region}:{vpc_id}"


def _needed(zones) -> int:
    return 2 if zones["master"] and zones["slave"] else 1


def _take(mappings: list, offered, vswitch) -> None:
    used = {z for _, z in mappings}
    if (not offered or vswitch.zone_id in offered) and vswitch.zone_id not in used \
            and len(mappings) < facts.MAX_ZONE_MAPPINGS:
        mappings.append((vswitch.id, vswitch.zone_id))


def lists_vswitches(zones, preferred) -> bool:
    """zone_mappings reads the VPC's vSwitch list: the preferred vSwitches miss a zone it needs
    (for the planner's read-ahead, cen_reads.py)."""
    mappings: list[tuple[str, str]] = []
    for vswitch in preferred:
        _take(mappings, zones["available"], vswitch)
    return len(mappings) < _needed(zones)


def zone_mappings(ctx, cbn, *, alias: str, region: str, vpc_id: str, preferred, created: list | None = None) \
        -> list[tuple[str, str]]:
    """The (vSwitch, zone) pairs to map; a vSwitch change acrx must make first is appended to `created`."""
    zones = ctx.memo(zones_key(region), lambda: cbn.transit_router_zones(region))
    offered = zones["available"]
    needed = _needed(zones)
    mappings: list[tuple[str, str]] = []

    def take(vswitch) -> None:
        _take(mappings, offered, vswitch)

    for vswitch in preferred:
        take(vswitch)
    if len(mappings) < needed:
        others = ctx.memo(vswitches_key(alias, region, vpc_id),
                          lambda: vpc_api(ctx, alias, region).list_vswitches(vpc_id))
        for zone in [*zones["master"], *zones["slave"], *offered]:
            if len(mappings) >= needed:
                break
            match = next((v for v in others if v.zone_id == zone), None)
            if match is not None:
                take(match)
    have = {z for _, z in mappings}
    missing = [z for z in dict.fromkeys([*zones["master"], *zones["slave"], *offered]) if z not in have]
    if len(mappings) < needed and ctx.config.network.create_zone_vswitch and created is not None:
        others = ctx.memo(vswitches_key(alias, region, vpc_id),
                          lambda: vpc_api(ctx, alias, region).list_vswitches(vpc_id))
        for zone in missing[:needed - len(mappings)]:
            made = zone_vswitch.plan_create(ctx, alias=alias, region=region, vpc_id=vpc_id, zone=zone,
                                            vswitches=others)
            if made is None:
                raise PreflightError(f"VPC {vpc_id} has no free /29 for a vSwitch in zone {zone}",
                                     field="network.create_zone_vswitch",
                                     hint=f"create a vSwitch in zone {zone} in VPC {vpc_id} yourself, then run again")
            created.append(made[0])
            mappings.append((made[1], zone))
    if len(mappings) < needed:
        wanted = ", ".join(dict.fromkeys([*zones["master"], *zones["slave"]]))
        raise PreflightError(
            f"transit routers in {region} span zones {wanted} (ListTransitRouterAvailableResource), so the CEN "
            f"attachment of VPC {vpc_id} needs vSwitches in {needed} of them; {vpc_id} has "
            f"{'vSwitches only in ' + ', '.join(sorted(have)) if have else 'no vSwitch in them'} and no vSwitch in "
            f"{missing[0]}", field="network",
            hint=f"run again with --create-zone-vswitch (key network.create_zone_vswitch) to let acrx create a "
                 f"/28 there, or create a vSwitch in zone {missing[0]} in VPC {vpc_id} yourself (account {alias!r})")
    return mappings
