"""VPC (2016-04-28): VPCs, vSwitches, route tables, NAT gateways, SNAT entries and EIPs.

Regional, one Backend per account and region. Resources are seeded by scenarios (there is no
CreateVpc in the sandbox: acrx only reads VPCs); route entries are the one thing acrx writes,
and their rules live in routes.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from acrx.sandbox.core.errors import ApiError
from acrx.sandbox.services.vpc import routes
from acrx.sandbox.services.vpc.shared import TagStore, network, overlaps

# TagResources ResourceType values of the VPC API (matched case-insensitively) -> our kinds.
TAG_RESOURCE_TYPES = {"vpc": "vpc", "vswitch": "vswitch", "routetable": "route_table",
                      "eip": "eip", "natgateway": "nat_gateway"}


@dataclass
class Vpc:
    vpc_id: str
    region: str
    owner_id: str
    cidr_block: str
    secondary_cidrs: list[str]
    name: str
    vrouter_id: str
    route_table_id: str          # the system route table
    created_at: float

    def cidrs(self) -> list[str]:
        return [self.cidr_block, *self.secondary_cidrs]


@dataclass
class VSwitch:
    vswitch_id: str
    vpc_id: str
    cidr_block: str
    zone_id: str
    name: str
    route_table_id: str          # the table this vSwitch is associated with
    owner_id: str
    created_at: float
    description: str = ""
    ready_at: float = 0.0        # CreateVSwitch: Pending until then (vswitches.py); seeds are Available


@dataclass
class RouteTable:
    route_table_id: str
    vpc_id: str
    kind: str                    # System | Custom
    name: str
    owner_id: str
    created_at: float
    entries: list = field(default_factory=list)   # routes.RouteEntry, custom ones only
    busy_until: float = 0.0      # a delete keeps the table's task lock this long (routes.py)


@dataclass
class Eip:
    allocation_id: str
    ip: str
    region: str
    instance_id: str
    instance_type: str           # Nat
    name: str
    created_at: float


@dataclass
class SnatEntry:
    snat_entry_id: str
    snat_table_id: str
    nat_gateway_id: str
    source_vswitch_id: str
    source_cidr: str
    snat_ip: str


@dataclass
class NatGateway:
    nat_gateway_id: str
    vpc_id: str
    vswitch_id: str
    name: str
    snat_table_id: str
    eip_ids: list[str]
    snat_entries: list[SnatEntry]
    created_at: float


def _not_found(kind: str, code: str, resource_id: str) -> ApiError:
    return ApiError(code, f"Specified {kind} does not exist: {resource_id}.", 404)


class Backend:
    def __init__(self, world, account: str, region: str):
        self.world = world
        self.account = account
        self.region = region
        self.vpcs: dict[str, Vpc] = {}
        self.vswitches: dict[str, VSwitch] = {}
        self.route_tables: dict[str, RouteTable] = {}
        self.nat_gateways: dict[str, NatGateway] = {}
        self.eips: dict[str, Eip] = {}
        self.tags = TagStore()

    def _id(self, prefix: str) -> str:
        return self.world.ids.prefixed(prefix, 21)

    # -- seeds (scenarios build the world with these; acrx never creates VPCs) -------------
    def seed_vpc(self, cidr: str, *, secondary_cidrs=(), name: str | None = None) -> Vpc:
        cidrs = [str(network(c)) for c in (cidr, *secondary_cidrs)]
        for i, a in enumerate(cidrs):
            for b in cidrs[i + 1:]:
                if overlaps(a, b):
                    raise ApiError("InvalidCidrBlock.Overlapped", f"CIDR blocks {a} and {b} overlap.", 400)
        vpc_id = self._id("vpc")
        table = RouteTable(self._id("vtb"), vpc_id, "System", "", self.account, self.world.clock.now())
        vpc = Vpc(vpc_id, self.region, self.account, cidrs[0], cidrs[1:], name or vpc_id,
                  self._id("vrt"), table.route_table_id, self.world.clock.now())
        self.vpcs[vpc_id] = vpc
        self.route_tables[table.route_table_id] = table
        return vpc

    def seed_vswitch(self, vpc_id: str, cidr: str, zone_id: str, *, name: str | None = None) -> VSwitch:
        vpc = self.find_vpc(vpc_id)
        net = str(network(cidr))
        if not any(network(net).subnet_of(network(c)) for c in vpc.cidrs()):
            raise ApiError("InvalidCidrBlock", f"The vSwitch CIDR {net} is not inside the VPC {vpc_id}.", 400)
        for other in self.vswitches_of(vpc_id):
            if overlaps(other.cidr_block, net):
                raise ApiError("InvalidCidrBlock.Overlapped", f"{net} overlaps vSwitch {other.vswitch_id}.", 400)
        vswitch = VSwitch(self._id("vsw"), vpc_id, net, zone_id, name or "", vpc.route_table_id, self.account,
                          self.world.clock.now())
        self.vswitches[vswitch.vswitch_id] = vswitch
        return vswitch

    def seed_route_table(self, vpc_id: str, vswitch_ids, *, name: str | None = None) -> RouteTable:
        self.find_vpc(vpc_id)
        table = RouteTable(self._id("vtb"), vpc_id, "Custom", name or "", self.account, self.world.clock.now())
        self.route_tables[table.route_table_id] = table
        for vswitch_id in vswitch_ids:
            vswitch = self.find_vswitch(vswitch_id)
            if vswitch.vpc_id != vpc_id:
                raise ApiError("InvalidVSwitchId.NotFound", f"{vswitch_id} is not in {vpc_id}.", 404)
            vswitch.route_table_id = table.route_table_id
        # A custom table starts with the VPC's default route, as users copy it when they split.
        default = next((e for e in self.route_tables[self.find_vpc(vpc_id).route_table_id].entries
                        if e.destination == "0.0.0.0/0"), None)
        if default is not None:
            routes.add_seeded_entry(self, table, "0.0.0.0/0", default.next_hop_type, default.next_hop_id)
        return table

    def seed_nat_gateway(self, vpc_id: str, vswitch_id: str, eips: list[str], snat_vswitch_ids,
                         *, name: str | None = None) -> NatGateway:
        """An enhanced NAT gateway with EIPs and one SNAT entry per vSwitch (first EIP each).

        Like the cloud, an enhanced NAT adds 0.0.0.0/0 -> NAT to the VPC's tables that lack one.
        """
        self.find_vpc(vpc_id)
        if self.find_vswitch(vswitch_id).vpc_id != vpc_id:
            raise ApiError("InvalidVSwitchId.NotFound", f"{vswitch_id} is not in {vpc_id}.", 404)
        if not eips:
            raise ApiError("MissingParameter", "A NAT gateway for SNAT needs at least one EIP.", 400)
        now = self.world.clock.now()
        nat = NatGateway(self._id("ngw"), vpc_id, vswitch_id, name or "", self._id("stb"), [], [], now)
        for ip in eips:
            eip = Eip(self._id("eip"), str(network(ip).network_address), self.region, nat.nat_gateway_id, "Nat",
                      "", now)
            self.eips[eip.allocation_id] = eip
            nat.eip_ids.append(eip.allocation_id)
        first_ip = self.eips[nat.eip_ids[0]].ip
        for source_id in snat_vswitch_ids:
            source = self.find_vswitch(source_id)
            if source.vpc_id != vpc_id:
                raise ApiError("InvalidVSwitchId.NotFound", f"{source_id} is not in {vpc_id}.", 404)
            nat.snat_entries.append(SnatEntry(self._id("snat"), nat.snat_table_id, nat.nat_gateway_id,
                                              source_id, source.cidr_block, first_ip))
        self.nat_gateways[nat.nat_gateway_id] = nat
        for table in self.tables_of(vpc_id):
            if not any(e.destination == "0.0.0.0/0" for e in table.entries):
                routes.add_seeded_entry(self, table, "0.0.0.0/0", "NatGateway", nat.nat_gateway_id)
        return nat

    # -- lookups ---------------------------------------------------------------------------
    def find_vpc(self, vpc_id: str | None) -> Vpc:
        vpc = self.vpcs.get(vpc_id or "")
        if vpc is None:
            raise _not_found("VPC", "InvalidVpcId.NotFound", vpc_id or "")
        return vpc

    def find_vswitch(self, vswitch_id: str | None) -> VSwitch:
        vswitch = self.vswitches.get(vswitch_id or "")
        if vswitch is None:
            raise _not_found("vSwitch", "InvalidVSwitchId.NotFound", vswitch_id or "")
        return vswitch

    def find_route_table(self, route_table_id: str | None) -> RouteTable:
        table = self.route_tables.get(route_table_id or "")
        if table is None:
            raise _not_found("route table", "InvalidRouteTableId.NotFound", route_table_id or "")
        return table

    def find_nat_gateway(self, nat_gateway_id: str) -> NatGateway:
        nat = self.nat_gateways.get(nat_gateway_id)
        if nat is None:
            raise ApiError("InvalidNatGatewayId.NotFound", f"Specified NAT gateway does not exist: {nat_gateway_id}.", 404)
        return nat

    def vswitches_of(self, vpc_id: str) -> list[VSwitch]:
        return [v for v in self.vswitches.values() if v.vpc_id == vpc_id]

    def tables_of(self, vpc_id: str) -> list[RouteTable]:
        return [t for t in self.route_tables.values() if t.vpc_id == vpc_id]

    def vswitch_ids_of_table(self, table: RouteTable) -> list[str]:
        return [v.vswitch_id for v in self.vswitches.values() if v.route_table_id == table.route_table_id]

    def table_kind(self, route_table_id: str) -> str:
        return self.find_route_table(route_table_id).kind

    def list_vpcs(self, vpc_ids: list[str] | None = None, name: str | None = None) -> list[Vpc]:
        found = [v for v in self.vpcs.values() if (not vpc_ids or v.vpc_id in vpc_ids)
                 and (name is None or v.name == name)]
        return sorted(found, key=lambda v: v.created_at)

    def list_vswitches(self, *, vpc_id=None, vswitch_id=None, zone_id=None, route_table_id=None) -> list[VSwitch]:
        return [v for v in self.vswitches.values()
                if (vpc_id is None or v.vpc_id == vpc_id) and (vswitch_id is None or v.vswitch_id == vswitch_id)
                and (zone_id is None or v.zone_id == zone_id)
                and (route_table_id is None or v.route_table_id == route_table_id)]

    def list_route_tables(self, *, vpc_id=None, route_table_id=None, kind=None) -> list[RouteTable]:
        return [t for t in self.route_tables.values()
                if (vpc_id is None or t.vpc_id == vpc_id) and (route_table_id is None or t.route_table_id == route_table_id)
                and (kind is None or t.kind == kind)]

    def list_nat_gateways(self, *, vpc_id=None, nat_gateway_id=None) -> list[NatGateway]:
        return [n for n in self.nat_gateways.values()
                if (vpc_id is None or n.vpc_id == vpc_id) and (nat_gateway_id is None or n.nat_gateway_id == nat_gateway_id)]

    def list_snat_entries(self, *, snat_table_id=None, nat_gateway_id=None, source_vswitch_id=None,
                          snat_ip=None) -> list[SnatEntry]:
        if snat_table_id is None and nat_gateway_id is None:
            raise ApiError("MissingParameter", "SnatTableId or NatGatewayId is mandatory for this action.", 400)
        entries = [e for n in self.nat_gateways.values() for e in n.snat_entries]
        if snat_table_id is not None and not any(n.snat_table_id == snat_table_id for n in self.nat_gateways.values()):
            raise ApiError("InvalidSnatTableId.NotFound", f"Specified SNAT table does not exist: {snat_table_id}.", 404)
        return [e for e in entries
                if (snat_table_id is None or e.snat_table_id == snat_table_id)
                and (nat_gateway_id is None or e.nat_gateway_id == nat_gateway_id)
                and (source_vswitch_id is None or e.source_vswitch_id == source_vswitch_id)
                and (snat_ip is None or e.snat_ip == snat_ip)]

    def list_eips(self, *, allocation_id=None, ip=None, instance_type=None, instance_id=None) -> list[Eip]:
        return [e for e in self.eips.values()
                if (allocation_id is None or e.allocation_id == allocation_id) and (ip is None or e.ip == ip)
                and (instance_type is None or e.instance_type.lower() == instance_type.lower())
                and (instance_id is None or e.instance_id == instance_id)]

    # -- route entries (rules in routes.py) --------------------------------------------------
    def create_route_entry(self, **kwargs):
        return routes.create_entry(self, **kwargs)

    def delete_route_entry(self, **kwargs) -> None:
        routes.delete_entry(self, **kwargs)

    def route_entries(self, route_table_id: str) -> list:
        return routes.visible_entries(self, self.find_route_table(route_table_id))

    # -- tags -------------------------------------------------------------------------------
    def _tag_target(self, resource_type: str, resource_id: str) -> None:
        kind = TAG_RESOURCE_TYPES.get((resource_type or "").lower())
        if kind is None:
            raise ApiError("InvalidParameter.ResourceType", f"The resource type {resource_type!r} is not valid.", 400)
        store = {"vpc": self.vpcs, "vswitch": self.vswitches, "route_table": self.route_tables,
                 "eip": self.eips, "nat_gateway": self.nat_gateways}[kind]
        if resource_id not in store:
            raise ApiError("InvalidResourceId.NotFound", f"The resource {resource_id} does not exist.", 404)

    def tag_resources(self, resource_type: str, resource_ids: list[str], tags: dict[str, str]) -> None:
        if not resource_ids or not tags:
            raise ApiError("MissingParameter", "ResourceId and Tag are mandatory for this action.", 400)
        self.tags.set_all(resource_ids, tags, lambda resource_id: self._tag_target(resource_type, resource_id))

    def untag_resources(self, resource_type: str, resource_ids: list[str], keys: list[str] | None) -> None:
        self.tags.remove_all(resource_ids, keys, lambda resource_id: self._tag_target(resource_type, resource_id))

    def list_tag_resources(self, resource_type: str, resource_ids: list[str], wanted: list[dict]):
        kind = TAG_RESOURCE_TYPES.get((resource_type or "").lower())
        if kind is None:
            raise ApiError("InvalidParameter.ResourceType", f"The resource type {resource_type!r} is not valid.", 400)
        store = {"vpc": self.vpcs, "vswitch": self.vswitches, "route_table": self.route_tables,
                 "eip": self.eips, "nat_gateway": self.nat_gateways}[kind]
        return self.tags.rows([r for r in resource_ids or list(store) if r in store], wanted)


def find_vpc_anywhere(world, vpc_id: str):
    """(account uid, region, Vpc) of a VPC in any account and region, or None."""
    for backend in world.backends("vpc"):
        vpc = backend.vpcs.get(vpc_id)
        if vpc is not None:
            return backend.account, backend.region, vpc
    return None


def backend_of_vpc(world, vpc_id: str):
    """The VPC Backend holding `vpc_id`, or None."""
    for backend in world.backends("vpc"):
        if vpc_id in backend.vpcs:
            return backend
    return None
