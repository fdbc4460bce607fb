"""`--create-zone-vswitch` (key network.create_zone_vswitch): a small vSwitch acrx makes where a VPC
lacks one in a zone its CEN transit router requires (cen_zones.py), and removes after the attachment.

Only on request: a vSwitch takes address space from the user's VPC. acrx picks a /28 (else a /29,
CreateVSwitch's smallest mask per its API doc) at the top of the VPC's free space, overlapping no
vSwitch of the VPC (the doc's InvalidCidrBlock.Overlapped), and marks it in the create call
(CreateVSwitchRequest.tag, acrx.steps.ownership). CreateVSwitch is asynchronous (Pending, then
Available: API doc), so the handler waits for Available before the attachment maps it.
Address: `vpc.zone_vswitch.<vpc>.<zone>`; destroy: `plan_destroy` below, after the VPC's attachments.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from acrx.plan.change import Action, Change, Ref
from acrx.steps import ownership
from acrx.steps.network.common import client_token, is_marked, marked_name
from acrx.steps.network.discovery import vpc_api

KIND = "vpc.zone_vswitch"
DELETE_KIND = "vpc.zone_vswitch.delete"
PREFIXES = (28, 29)


def address(vpc_id: str, zone: str) -> str:
    return f"{KIND}.{vpc_id}.{zone}"


def owned(vswitch) -> bool:
    """acrx's: the tag written in the create call (a name alone could be anyone's)."""
    return ownership.tags_marked(vswitch.tags) and is_marked(vswitch.name)


def free_block(vpc_cidrs, used_cidrs) -> str | None:
    """The highest free /28 (else /29) of the VPC's blocks that overlaps none of `used_cidrs`."""
    used = [ipaddress.ip_network(c, strict=False) for c in used_cidrs]
    for prefix in PREFIXES:
        for block in vpc_cidrs:
            free = [ipaddress.ip_network(block, strict=False)]
            for taken in used:
                rest = []
                for net in free:
                    if not net.overlaps(taken):
                        rest.append(net)
                    elif taken.subnet_of(net) and taken != net:
                        rest.extend(net.address_exclude(taken))
                free = rest
            fits = sorted((n for n in free if n.prefixlen <= prefix), key=lambda n: int(n.broadcast_address))
            if fits:
                top = fits[-1]
                start = int(top.broadcast_address) - 2 ** (32 - prefix) + 1
                return str(ipaddress.ip_network((start, prefix)))
    return None


def plan_create(ctx, *, alias: str, region: str, vpc_id: str, zone: str, vswitches) -> tuple[Change, Ref] | None:
    """The vSwitch change for `zone`, and the Ref of its id; None when the VPC has no free /29."""
    vpc = ctx.memo(f"net:vpc:{alias}:{region}:{vpc_id}", lambda: vpc_api(ctx, alias, region).get_vpc(vpc_id))
    cidr = free_block(vpc.cidrs if vpc else (), [v.cidr for v in vswitches])
    if cidr is None:
        return None
    addr = address(vpc_id, zone)
    after = {"vswitch_id": Ref(addr, "vswitch_id"), "vpc_id": vpc_id, "zone_id": zone, "cidr": cidr}
    change = Change(addr, Action.CREATE, None, after, account=alias, kind=KIND,
                    reason=f"--create-zone-vswitch: {vpc_id} has no vSwitch in {zone}, which the transit router needs",
                    data={"alias": alias, "region": region, "vpc_id": vpc_id, "zone_id": zone, "cidr": cidr,
                          "name": marked_name(vpc_id, zone)})
    return change, Ref(addr, "vswitch_id", f"new vSwitch in {zone}")


def apply_create(ctx, change, actx) -> dict:
    d = change.data
    api = vpc_api(ctx, d["alias"], d["region"])
    # An interrupted run may have made it already: take acrx's own vSwitch in that zone.
    found = [v for v in api.list_vswitches(d["vpc_id"]) if v.zone_id == d["zone_id"] and owned(v)]
    vswitch_id = found[0].id if found else api.create_vswitch(
        vpc_id=d["vpc_id"], zone_id=d["zone_id"], cidr=d["cidr"], name=d["name"],
        description=ownership.description("a vSwitch for a CEN transit router's zone"), tags=ownership.TAGS,
        client_token=client_token(actx))

    def available() -> bool:
        vswitch = api.get_vswitch(vswitch_id)
        return vswitch is not None and vswitch.status == "Available"

    actx.wait_until(available, what=f"vSwitch {vswitch_id}", budget_s=ctx.options.wait_budget_s)
    ctx.forget(f"net:vswitches:{d['alias']}:{d['region']}:{d['vpc_id']}")
    return {"vswitch_id": vswitch_id, "cidr": d["cidr"]}


# -- destroy -------------------------------------------------------------------------------------
def plan_destroy(ctx, vpcs, cen: list[Change]) -> list[Change]:
    """`cen` (destroy's CEN changes) with acrx's zone vSwitches in `vpcs` ((alias, region, vpc_id)
    each): deleted after the VPC's attachments and before the CEN, so a destroy that stops half-way
    still finds the CEN and looks again; kept while an attachment acrx keeps (adopted, or the hub's
    attachment of B's VPC that other clusters still use) may map it."""
    changes = []
    vpcs = list(dict.fromkeys(vpcs))
    # the VPCs' lists side by side (an error waits for the loop below, which meets it in order)
    ctx.prefetch({f"net:vswitches:{alias}:{region}:{vpc_id}": lambda a=alias, r=region, v=vpc_id:
                  vpc_api(ctx, a, r).list_vswitches(v) for alias, region, vpc_id in vpcs})
    for alias, region, vpc_id in vpcs:
        api = vpc_api(ctx, alias, region)
        for vswitch in ctx.memo(f"net:vswitches:{alias}:{region}:{vpc_id}", lambda: api.list_vswitches(vpc_id)):
            if not owned(vswitch):
                continue
            addr = address(vpc_id, vswitch.zone_id)
            before = {"vswitch_id": vswitch.id, "vpc_id": vpc_id, "zone_id": vswitch.zone_id, "cidr": vswitch.cidr}
            attachments = [c for c in cen if c.address.startswith(f"cen.attachment.{vpc_id}")]
            if any(c.is_noop for c in attachments):
                changes.append(Change(addr, Action.NOOP, before, before, account=alias, kind="keep",
                                      reason=f"kept: the attachment of {vpc_id} that may map it stays"))
                continue
            changes.append(Change(addr, Action.DELETE, before, None, account=alias, kind=DELETE_KIND,
                                  depends_on=tuple(c.address for c in attachments), reason="created by acrx",
                                  data={"alias": alias, "region": region, "vswitch_id": vswitch.id, "vpc_id": vpc_id}))
    deleted = tuple(c.address for c in changes if c.kind == DELETE_KIND)
    cen = [replace(c, depends_on=(*c.depends_on, *deleted)) if c.address.startswith("cen.instance") and not c.is_noop
           else c for c in cen]
    return cen + changes


def apply_delete(ctx, d: dict) -> dict:
    vpc_api(ctx, d["alias"], d["region"]).delete_vswitch(d["vswitch_id"], missing_ok=True)
    ctx.forget(f"net:vswitches:{d['alias']}:{d['region']}:{d['vpc_id']}")
    return {"vswitch_id": d["vswitch_id"]}
