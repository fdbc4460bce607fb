"""The network path from a node to the registry, evaluated over the sandbox world.

Pure functions (they read, never write) used by the sandbox kubelet:
- `egress_ips`: the public addresses a vSwitch leaves the VPC with (NAT SNAT EIPs).
- `resolve`: what a name resolves to inside a VPC (PrivateZone zones bound to it, the ACR
  VPC-link records of that same VPC, and the public registry names).
- `private_path`: whether packets reach a private IP and come back (peering / CEN routes).
Reasons are what a kubelet would show: "i/o timeout" plus a detail naming the missing piece.

Public registry names (`<name>-registry.<region>.cr.aliyuncs.com`) resolve anywhere to
PUBLIC_ADDRESS, a documentation address (TEST-NET-3) standing for "the registry's internet
endpoint"; whether it answers is the public-endpoint/ACL check, not DNS.
"""

from __future__ import annotations

import ipaddress
import re

from acrx.sandbox.services.vpc.shared import CLOUD_SERVICE_BLOCK

PUBLIC_ADDRESS = "203.0.113.10"
_PUBLIC_REGISTRY = re.compile(r"^[a-z0-9][a-z0-9-]*-registry\.[a-z0-9-]+\.cr\.aliyuncs\.com$")
_MAX_CNAME_DEPTH = 8


def is_public(address: str | None) -> bool:
    return address == PUBLIC_ADDRESS


# -- egress ---------------------------------------------------------------------------------
def egress_ips(world, account: str, region: str, vpc_id: str, vswitch_id: str) -> list[str]:
    """EIPs of the SNAT entries covering the vSwitch, when its route table sends 0.0.0.0/0 to that NAT."""
    backend = world.backend("vpc", account, region)
    vswitch = backend.vswitches.get(vswitch_id)
    if vswitch is None or vswitch.vpc_id != vpc_id:
        return []
    table = backend.route_tables[vswitch.route_table_id]
    default = _longest(backend, table, ipaddress.ip_network("0.0.0.0/0"))
    if default is None or default.next_hop_type != "NatGateway":
        return []
    nat = backend.nat_gateways.get(default.next_hop_id)
    if nat is None:
        return []
    ips = []
    for entry in nat.snat_entries:
        covers = entry.source_vswitch_id == vswitch_id or (
            entry.source_cidr and ipaddress.ip_network(vswitch.cidr_block).subnet_of(ipaddress.ip_network(entry.source_cidr)))
        if covers and entry.snat_ip not in ips:
            ips.append(entry.snat_ip)
    return ips


# -- DNS --------------------------------------------------------------------------------------
def _acr_records(world, vpc_id: str) -> list[tuple[str, str]]:
    """(domain, ip) of the ACR VPC links of this very VPC that are RUNNING."""
    try:
        from acrx.sandbox.services.cr.models import vpc_endpoint_records
    except ImportError:   # the CR service is optional for this module
        return []
    return [(domain.lower(), ip) for domain, ip, linked_vpc, _account, _region, status in vpc_endpoint_records(world)
            if linked_vpc == vpc_id and str(status).upper() == "RUNNING"]


def resolve(world, account: str, region: str, vpc_id: str, hostname: str, *, _depth: int = 0) -> str | None:
    """The IPv4 address `hostname` resolves to from inside `vpc_id`, or None (NXDOMAIN).

    Candidates: every PrivateZone zone bound to the VPC, and every ACR VPC-link record of the
    VPC (the cloud writes those as a zone of their own). The longest matching zone wins, as
    PrivateZone does; on a tie the ACR record wins. A matching zone without the record is
    NXDOMAIN when its ProxyPattern is ZONE, and falls through to recursion when RECORD.
    """
    from acrx.sandbox.services.pvtz.models import zones_bound_to

    name = hostname.lower().rstrip(".")
    if _depth > _MAX_CNAME_DEPTH:
        return None
    candidates = []   # (zone name length, priority, kind, payload)
    for domain, ip in _acr_records(world, vpc_id):
        if name == domain:
            candidates.append((len(domain), 1, "acr", ip))
    for zone in zones_bound_to(world, vpc_id):
        if name == zone.name or name.endswith("." + zone.name):
            candidates.append((len(zone.name), 0, "zone", zone))
    for _, _, kind, payload in sorted(candidates, key=lambda c: (c[0], c[1]), reverse=True):
        if kind == "acr":
            return payload
        answer, authoritative = _answer_from_zone(world, account, region, vpc_id, payload, name, _depth)
        if answer is not None or authoritative:
            return answer
    if _PUBLIC_REGISTRY.match(name):
        return PUBLIC_ADDRESS
    return None


def _answer_from_zone(world, account, region, vpc_id, zone, name: str, depth: int) -> tuple[str | None, bool]:
    """(address, authoritative): authoritative NXDOMAIN stops the lookup (ProxyPattern ZONE)."""
    rr = "@" if name == zone.name else name[: -len(zone.name) - 1]
    records = [r for r in zone.records if r.rr == rr and r.status == "ENABLE"]
    if not records and rr != "@":
        records = [r for r in zone.records if r.rr == "*" and r.status == "ENABLE"]
    for record in records:
        if record.type == "A":
            return record.value, True
    for record in records:
        if record.type == "CNAME":
            return resolve(world, account, region, vpc_id, record.value, _depth=depth + 1), True
    return None, zone.proxy_pattern == "ZONE"


# -- private routing --------------------------------------------------------------------------
def _longest(backend, table, target: ipaddress.IPv4Network):
    """The Available route of `table` with the longest prefix containing `target`."""
    from acrx.sandbox.services.vpc.routes import visible_entries

    best = None
    for entry in visible_entries(backend, table):
        if entry.status != "Available":
            continue
        net = ipaddress.ip_network(entry.destination)
        if target.subnet_of(net) and (best is None or net.prefixlen > ipaddress.ip_network(best.destination).prefixlen):
            best = entry
    return best


def _owning_vpc(world, vpc_id: str, target: ipaddress.IPv4Network):
    from acrx.sandbox.services.vpc.models import find_vpc_anywhere

    found = find_vpc_anywhere(world, vpc_id)
    if found is None or not any(target.subnet_of(ipaddress.ip_network(c)) for c in found[2].cidrs()):
        return None
    return found


def _hop_target(world, vpc_id: str, entry, target: ipaddress.IPv4Network):
    """Where the route's next hop delivers `target`: ((account, region, Vpc), detail) or (None, why)."""
    hop = f"{entry.next_hop_type} {entry.next_hop_id}"
    if entry.next_hop_type == "VpcPeer":
        from acrx.sandbox.services.vpcpeer.models import find_connection

        conn = find_connection(world, entry.next_hop_id)
        if conn is None or vpc_id not in (conn.vpc_id, conn.accepting_vpc_id):
            return None, f"peering {entry.next_hop_id} does not exist"
        if conn.status != "Activated":
            return None, f"peering {conn.instance_id} is {conn.status}, not Activated"
        other = conn.accepting_vpc_id if conn.vpc_id == vpc_id else conn.vpc_id
        found = _owning_vpc(world, other, target)
        return (found, hop) if found else (None, f"{target} is not in the peer VPC {other}")
    if entry.next_hop_type == "Attachment":
        from acrx.sandbox.services.cbn.models import find_vpc_attachment
        from acrx.sandbox.services.cbn.trtables import routes_from

        attachment = find_vpc_attachment(world, entry.next_hop_id)
        if attachment is None or attachment.vpc_id != vpc_id:
            return None, f"attachment {entry.next_hop_id} does not exist"
        if attachment.status != "Attached":
            return None, f"attachment {attachment.attachment_id} is {attachment.status}"
        best = None
        for cidr, _, origin in routes_from(world, attachment):   # association + propagation only
            net = ipaddress.ip_network(cidr)
            if target.subnet_of(net) and (best is None or net.prefixlen > best[0].prefixlen):
                best = (net, origin)
        if best is None:
            return None, (f"the transit router of {attachment.cen_id} in {attachment.region} has no route to "
                          f"{target} (is the other VPC attached, a peer attachment there across regions, and is "
                          f"every attachment associated with the route table and propagating into it?)")
        found = _owning_vpc(world, best[1].vpc_id, target)
        return (found, f"{hop} -> transit router of {attachment.cen_id}") if found else (None, f"{target} is not in {best[1].vpc_id}")
    return None, f"the route goes to {hop}, which leads to no private network"


def private_path(world, src: tuple[str, str, str], dst_ip: str) -> tuple[bool, str]:
    """Can a node in vSwitch `src` = (account, region, vswitch id) reach `dst_ip` and be answered?"""
    account, region, vswitch_id = src
    backend = world.backend("vpc", account, region)
    vswitch = backend.vswitches.get(vswitch_id)
    if vswitch is None:
        return False, f"i/o timeout (source vSwitch {vswitch_id} does not exist)"
    try:
        dst_net = ipaddress.ip_network(f"{dst_ip}/32")
    except ValueError:
        return False, f"dial tcp {dst_ip}: invalid address"
    vpc = backend.vpcs[vswitch.vpc_id]
    if any(dst_net.subnet_of(ipaddress.ip_network(c)) for c in vpc.cidrs()):
        return True, f"{dst_ip} is inside {vpc.vpc_id}"
    table = backend.route_tables[vswitch.route_table_id]
    forward = _longest(backend, table, dst_net)
    if forward is None:
        return False, f"i/o timeout (no route from {table.route_table_id} to {dst_ip})"
    if forward.kind == "System":
        return False, (f"i/o timeout ({dst_ip} lies in {forward.destination}, the cloud-service block; "
                       f"{table.route_table_id} cannot route it to another VPC)")
    if forward.next_hop_type == "NatGateway":
        # SNAT only carries traffic to the internet: for a private address this is "no route".
        return False, (f"i/o timeout (no route from {table.route_table_id} to {dst_ip}; only {forward.destination} "
                       f"to NAT gateway {forward.next_hop_id}, which does not reach other VPCs)")
    dst, detail = _hop_target(world, vpc.vpc_id, forward, dst_net)
    if dst is None:
        return False, f"i/o timeout (route {forward.destination} in {table.route_table_id}: {detail})"
    dst_account, dst_region, dst_vpc = dst
    dst_backend = world.backend("vpc", dst_account, dst_region)
    home = next((v for v in dst_backend.vswitches_of(dst_vpc.vpc_id)
                 if dst_net.subnet_of(ipaddress.ip_network(v.cidr_block))), None)
    dst_table = dst_backend.route_tables[home.route_table_id if home else dst_vpc.route_table_id]
    src_net = ipaddress.ip_network(vswitch.cidr_block)
    back = _longest(dst_backend, dst_table, src_net)
    if back is None or back.kind == "System":
        return False, f"i/o timeout (no return route from {dst_table.route_table_id} to {vswitch.cidr_block})"
    origin, why = _hop_target(world, dst_vpc.vpc_id, back, src_net)
    if origin is None or origin[2].vpc_id != vpc.vpc_id:
        return False, (f"i/o timeout (return route {back.destination} in {dst_table.route_table_id} does not lead "
                       f"back to {vpc.vpc_id}: {why if origin is None else 'it reaches ' + origin[2].vpc_id})")
    return True, f"{table.route_table_id} -> {detail} -> {dst_vpc.vpc_id}; back via {back.next_hop_type} {back.next_hop_id}"


# -- the blob hop of a VPC-endpoint pull ---------------------------------------------------------------
def oss_internal_host(region: str) -> str:
    return f"oss-{region}-internal.aliyuncs.com"


def blob_path(world, node_region: str, registry_region: str) -> tuple[bool, str]:
    """Can a node in `node_region` fetch layers of a registry in `registry_region` over its VPC endpoint?

    Through an EE VPC endpoint, image layers are redirected to the registry region's OSS internal
    endpoint (official ACR doc on OSS domain routing); its addresses lie in the cloud-service block
    100.64.0.0/10, which a VPC reaches only for services of its own region (its system "service"
    route), and which no custom route can send elsewhere (CreateRouteEntry refuses 100.64.0.0/10, SDK
    doc). The ACR docs on pulls from outside the registry's VPC say the puller needs routes to the
    auth and OSS ranges; across regions there is no such route here ([?] the real cloud may offer
    one through CEN's cloud-service access; not modelled, the stricter reading)."""
    host = oss_internal_host(registry_region)
    if node_region == registry_region:
        return True, f"{host} via the VPC's cloud-service route"
    return False, (f"i/o timeout (layers redirect to {host}, in {CLOUD_SERVICE_BLOCK} of {registry_region}; a VPC "
                   f"in {node_region} has no route to it, and CreateRouteEntry refuses {CLOUD_SERVICE_BLOCK})")
