"""Which zones a region's Enterprise transit routers offer, and how many an attachment must use.

Sources: CreateTransitRouterVpcAttachment's ZoneMappings must name zones "that support Enterprise
Edition transit routers" (SDK model doc); ListTransitRouterAvailableResource answers
AvailableZones, MasterZones and SlaveZones (SDK model); the CEN docs and ROS's
TransitRouterVpcAttachment ZoneMappings say that where transit routers span several zones, an
attachment needs vSwitches in at least two of them. Reading taken here ([?] where the docs leave
room): a region "spans several zones" when it has both a primary (master) and a secondary (slave)
zone, and then an attachment needs two distinct zones of AvailableZones. A region without a rule
(every default scenario) offers the zones of the vSwitches seeded there, all primary, one needed.
The codes for a zone the router does not offer and for too few zones are [?]
(InvalidParameter.ZoneId, InvalidParameter.ZoneMappings).
"""

from __future__ import annotations

from acrx.sandbox.core.errors import ApiError


def _rules(world) -> dict:
    return world.__dict__.setdefault("tr_zone_rules", {})


def set_rule(world, region: str, master: str, slave: str, others=()) -> None:
    """Transit routers in `region` span a primary and a secondary zone (two zones per attachment)."""
    _rules(world)[region] = {"master": [master], "slave": [slave], "available": [master, slave, *others]}


def available(world, region: str) -> dict:
    rule = _rules(world).get(region)
    if rule is not None:
        return rule
    zones = sorted({v.zone_id for backend in world.backends("vpc") for v in backend.vswitches.values()
                    if getattr(backend, "region", None) == region})
    return {"master": zones, "slave": [], "available": zones}


def check_mappings(world, region: str, mappings: list[tuple[str, str]]) -> None:
    rule = available(world, region)
    for vswitch_id, zone in mappings:
        if zone not in rule["available"]:
            raise ApiError("InvalidParameter.ZoneId", f"The zone {zone} of vSwitch {vswitch_id} does not support "
                                                      f"Enterprise Edition transit routers in {region}.", 400)
    needed = 2 if rule["slave"] else 1
    zones = {zone for _, zone in mappings}
    if len(zones) < needed:
        raise ApiError("InvalidParameter.ZoneMappings",
                       f"Transit routers in {region} need vSwitches in at least {needed} zones "
                       f"({', '.join(rule['master'] + rule['slave'])}); got {', '.join(sorted(zones))}.", 400)
