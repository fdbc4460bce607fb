"""Route entries of VPC route tables: the rules CreateRouteEntry enforces in the cloud.

Error codes are those of the VPC API reference for CreateRouteEntry:
InvalidCidrBlock.Malformed, InvalidCidrBlock (destination in 100.64.0.0/10 or inside a vSwitch),
InvalidCIDRBlock.Duplicate, InvalidNextHop.NotFound, ResourceNotFound.VpcPeer,
IncorrectStatus.VpcPeer, InvalidAttachment.NotFound. New entries are Pending until the slow
operation "route" finishes, then Available; a failed one disappears, as a failed async create does.

A route table takes one write at a time: Terraform's route entry resource says entries "do not
support concurrence when creating or deleting" nor "creating or deleting within 5 seconds
frequently", serializes its writes and retries TaskConflict, OperationConflict,
IncorrectRouteEntryStatus, ... (terraform-provider-alicloud resource_alicloud_route_entry.go:122-171,
delete :321-340). Here a table is busy while one of its entries is Pending, and for ROUTE_SECONDS
(scaled) after a delete; a write meanwhile answers TaskConflict, the first code of that list ([?]
which of the listed codes the cloud sends in which case is undocumented).
"""

from __future__ import annotations

from dataclasses import dataclass

from acrx.sandbox.core import slowop
from acrx.sandbox.core.errors import ApiError, missing_parameter
from acrx.sandbox.services.vpc.shared import CLOUD_SERVICE_BLOCK, network

ROUTE_SECONDS = 5
NEXT_HOP_TYPES = {"Instance", "HaVip", "RouterInterface", "NetworkInterface", "VpnGateway", "IPv6Gateway",
                  "NatGateway", "Attachment", "VpcPeer", "Ipv4Gateway", "GatewayEndpoint", "Ecr"}


@dataclass
class RouteEntry:
    route_entry_id: str
    route_table_id: str
    destination: str
    next_hop_type: str
    next_hop_id: str
    name: str = ""
    description: str = ""
    kind: str = "Custom"          # Custom | System
    op: slowop.SlowOp | None = None
    modified_at: float = 0.0

    @property
    def status(self) -> str:
        if self.op is None or self.op.state() == slowop.SUCCESS:
            return "Available"
        return "Pending"


def add_seeded_entry(backend, table, destination: str, next_hop_type: str, next_hop_id: str) -> RouteEntry:
    entry = RouteEntry(backend.world.ids.prefixed("rte", 21), table.route_table_id, destination, next_hop_type,
                       next_hop_id, modified_at=backend.world.clock.now())
    table.entries.append(entry)
    return entry


def _prune_failed(table) -> None:
    table.entries = [e for e in table.entries if e.op is None or e.op.state() != slowop.FAIL]


def _system_entries(backend, table) -> list[RouteEntry]:
    """What the console shows as system routes: one per vSwitch CIDR, and the cloud-service block."""
    entries = [RouteEntry(f"{table.route_table_id}-local-{v.vswitch_id}", table.route_table_id, v.cidr_block,
                          "local", "", kind="System", modified_at=v.created_at)
               for v in backend.vswitches_of(table.vpc_id)]
    entries.append(RouteEntry(f"{table.route_table_id}-service", table.route_table_id, str(CLOUD_SERVICE_BLOCK),
                              "service", "", kind="System", modified_at=table.created_at))
    return entries


def visible_entries(backend, table) -> list[RouteEntry]:
    _prune_failed(table)
    return _system_entries(backend, table) + list(table.entries)


def _check_next_hop(backend, table, next_hop_type: str, next_hop_id: str) -> None:
    world = backend.world
    if next_hop_type == "VpcPeer":
        from acrx.sandbox.services.vpcpeer.models import find_connection

        conn = find_connection(world, next_hop_id)
        if conn is None or table.vpc_id not in (conn.vpc_id, conn.accepting_vpc_id):
            raise ApiError("ResourceNotFound.VpcPeer", f"The specified resource of VpcPeer {next_hop_id} is not found.", 400)
        if conn.status != "Activated":
            raise ApiError("IncorrectStatus.VpcPeer", f"The status of VpcPeer [{conn.status}] is incorrect.", 400)
    elif next_hop_type == "Attachment":
        from acrx.sandbox.services.cbn.models import find_vpc_attachment

        attachment = find_vpc_attachment(world, next_hop_id)
        if attachment is None or attachment.vpc_id != table.vpc_id:
            raise ApiError("InvalidAttachment.NotFound", f"The attachment is not found: {next_hop_id}.", 400)
        if attachment.status != "Attached":
            # [?] the cloud's code for an attachment still Attaching is not documented.
            raise ApiError("IncorrectStatus.Attachment", f"The status of attachment [{attachment.status}] is incorrect.", 400)
    elif next_hop_type == "NatGateway":
        nat = backend.nat_gateways.get(next_hop_id)
        if nat is None or nat.vpc_id != table.vpc_id:
            raise ApiError("InvalidNatGateway.NotFound", "Natgateway not exist.", 400)
    else:
        # ECS instances, ENIs, VPN gateways... are not modelled: none of them exists here.
        raise ApiError("InvalidNextHop.NotFound", f"Specified next hop does not exist: {next_hop_id}.", 400)


def _refuse_if_busy(backend, table) -> None:
    """The route table's task lock (see the module docstring for the source)."""
    pending = any(e.op is not None and e.op.state() == slowop.RUNNING for e in table.entries)
    if pending or backend.world.clock.now() < table.busy_until:
        raise ApiError("TaskConflict", f"The operation is failed because of task conflict: route table "
                                       f"{table.route_table_id} is busy with another route entry operation.", 400)


def create_entry(backend, *, route_table_id: str, destination: str, next_hop_type: str | None,
                 next_hop_id: str | None, name: str = "", description: str = "") -> RouteEntry:
    table = backend.find_route_table(route_table_id)
    _prune_failed(table)
    _refuse_if_busy(backend, table)
    net = network(destination)
    dest = str(net)
    if not next_hop_type:
        raise ApiError("InvalidNexthopTypeAndList.BothNull", "both nexthopType and nextHopList are null.", 400)
    if next_hop_type not in NEXT_HOP_TYPES:
        raise ApiError("InvalidNextHopType", f"The next hop type {next_hop_type!r} is not valid.", 400)
    if not next_hop_id:
        raise missing_parameter("NextHopId")
    if net.subnet_of(CLOUD_SERVICE_BLOCK):
        raise ApiError("InvalidCidrBlock", f"Specified CIDR block is not valid: {dest} lies in 100.64.0.0/10, "
                                           "which is reserved for cloud services.", 400)
    for vswitch in backend.vswitches_of(table.vpc_id):
        if net.subnet_of(network(vswitch.cidr_block)):
            raise ApiError("InvalidCidrBlock", f"Specified CIDR block is not valid: {dest} lies in the CIDR "
                                               f"of vSwitch {vswitch.vswitch_id}.", 400)
    if any(e.destination == dest for e in table.entries):
        raise ApiError("InvalidCIDRBlock.Duplicate", "Specified CIDR block is already exists.", 400)
    _check_next_hop(backend, table, next_hop_type, next_hop_id)
    entry = RouteEntry(backend.world.ids.prefixed("rte", 21), table.route_table_id, dest, next_hop_type,
                       next_hop_id, name or "", description or "",
                       op=slowop.start(backend.world, "route", ROUTE_SECONDS),
                       modified_at=backend.world.clock.now())
    table.entries.append(entry)
    return entry


def delete_entry(backend, *, route_entry_id: str | None = None, route_table_id: str | None = None,
                 destination: str | None = None, next_hop_id: str | None = None) -> None:
    # InvalidRouteEntry.NotFound: the code TF's delete treats as done (resource_alicloud_route_entry.go).
    if route_entry_id:
        for table in backend.route_tables.values():
            for entry in table.entries:
                if entry.route_entry_id == route_entry_id:
                    _remove(backend, table, entry)
                    return
        raise ApiError("InvalidRouteEntry.NotFound", f"Specified routeEntry not exist: {route_entry_id}.", 400)
    if not route_table_id or not destination:
        raise missing_parameter("RouteEntryId")
    table = backend.find_route_table(route_table_id)
    dest = str(network(destination))
    for entry in table.entries:
        if entry.destination == dest and (not next_hop_id or entry.next_hop_id == next_hop_id):
            _remove(backend, table, entry)
            return
    raise ApiError("InvalidRouteEntry.NotFound", f"Specified routeEntry not exist: {dest} in {route_table_id}.", 400)


def _remove(backend, table, entry) -> None:
    _refuse_if_busy(backend, table)
    table.entries.remove(entry)
    table.busy_until = backend.world.clock.ready_at(ROUTE_SECONDS)


def entries_pointing_at(world, next_hop_id: str) -> list[RouteEntry]:
    """Every live custom route entry, in any account and region, whose next hop is `next_hop_id`."""
    found = []
    for backend in world.backends("vpc"):
        for table in backend.route_tables.values():
            _prune_failed(table)
            found.extend(e for e in table.entries if e.next_hop_id == next_hop_id)
    return found


def remove_entries_pointing_at(world, next_hop_id: str) -> None:
    for backend in world.backends("vpc"):
        for table in backend.route_tables.values():
            table.entries = [e for e in table.entries if e.next_hop_id != next_hop_id]
