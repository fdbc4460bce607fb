"""CR (ACR Enterprise Edition) state: instances, their endpoints, ACLs and VPC links.

Namespaces and repositories are in models_repos.py; temporary registry credentials in tokens.py.
Facts that no live check confirmed are marked [?] and kept in the constants below.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from acrx.sandbox.core import slowop
from acrx.sandbox.core.errors import ApiError, invalid_parameter

RUNNING = "RUNNING"
SPECS = ("Enterprise_Basic", "Enterprise_Standard", "Enterprise_Advanced")
# Linked VPCs per instance edition. [?] the quotas are not confirmed (one 3P note saw 1 for the
# economy edition); change them here only.
VPC_LINK_LIMITS = {"Enterprise_Basic": 1, "Enterprise_Standard": 3, "Enterprise_Advanced": 7}
VPC_LINK_SECONDS = 60   # [?] linking a VPC takes about a minute in the console
# The internet endpoint is asynchronous: UpdateInstanceEndpointStatus moves it through CREATING to
# RUNNING (GetInstanceEndpoint's Status: CREATING/RUNNING/DELETING, official ZH GetInstanceEndpoint
# doc). Terraform waits for RUNNING before it writes ACL entries, because an entry written while
# CREATING is lost, and then waits for each entry to be listed (terraform-provider-alicloud
# resource_alicloud_cr_internet_endpoint.go / resource_alicloud_cr_endpoint_acl_policy.go); here a
# write while CREATING answers success and is silently dropped. Enabling adds a system
# `127.0.0.1/32` entry commented "default" (resource_alicloud_cr_internet_endpoint.go:121-131).
# ACL writes close together answer SLB_SERVICE_ERROR, which TF retries
# (resource_alicloud_cr_endpoint_acl_policy.go:92; a third-party TF config: "Alicloud does not
# support concurrent creation of acl policy"). [?] both durations; DELETING is not modelled.
INTERNET_ENDPOINT_SECONDS = 30
ACL_WRITE_SECONDS = 2
DEFAULT_ACL_ENTRY = ("127.0.0.1/32", "default")

INSTANCE_NOT_EXIST = "INSTANCE_NOT_EXIST"
INSTANCE_STATUS_NOT_SUPPORT = "INSTANCE_STATUS_NOT_SUPPORT"
# Rule violations of write actions. The cloud reports some CR errors in a 200 body with
# IsSuccess=false (Terraform reads $.Code); the sandbox does so for these, so clients must
# check both the HTTP status and IsSuccess. [?] which actions do which is unconfirmed.
ACL_ENTRY_EXISTS = "ACL_ENTRY_ALREADY_EXIST"        # [?]
ACL_ENTRY_NOT_EXIST = "ACL_ENTRY_NOT_EXIST"          # [?]
VPC_ALREADY_LINKED = "VPC_ENDPOINT_LINKED_VPC_ALREADY_EXIST"  # [?]
VPC_LINK_QUOTA = "VPC_ENDPOINT_LINKED_VPC_QUOTA_EXCEEDED"     # [?]
INSTANCE_ACCESS_NOT_EXIST = "INSTANCE_ACCESS_NOT_EXIST"  # a linked VPC that is not there
VPC_NOT_EXIST = "VPC_NOT_EXIST"          # [?]
VSWITCH_NOT_EXIST = "VSWITCH_NOT_EXIST"  # seen by a third party


class InBodyError(ApiError):
    """A CR error answered with HTTP 200 and {Code, Message, IsSuccess: false}."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message, 200)


@dataclass
class VpcLink:
    vpc_id: str
    vswitch_id: str
    ip: str
    op: slowop.SlowOp | None = None   # None: seeded, already RUNNING
    dns_in_pvtz: bool = False

    @property
    def status(self) -> str:
        if self.op is None:
            return RUNNING
        state = self.op.state()
        return {"running": "CREATING", "success": RUNNING}.get(state, "CREATE_FAILED")  # [?] failure name


@dataclass
class Instance:
    instance_id: str
    name: str
    account: str
    region: str
    spec: str
    status: str
    created: float
    internet_enabled: bool = False
    internet_ready_at: float = 0.0   # CREATING until then (sandbox clock)
    acl_busy_until: float = 0.0      # ACL writes answer SLB_SERVICE_ERROR until then
    clock: object = field(default=None, repr=False)
    acl: list[tuple[str, str]] = field(default_factory=list)   # (CIDR entry, comment)
    vpc_links: list[VpcLink] = field(default_factory=list)
    namespaces: dict = field(default_factory=dict)              # models_repos
    repositories: dict = field(default_factory=dict)            # models_repos

    @property
    def public_domain(self) -> str:
        return f"{self.name}-registry.{self.region}.cr.aliyuncs.com"

    @property
    def vpc_domain(self) -> str:
        return f"{self.name}-registry-vpc.{self.region}.cr.aliyuncs.com"

    @property
    def arn(self) -> str:
        return f"acs:cr:{self.region}:{self.account}:instance/{self.instance_id}"

    def require_running(self) -> None:
        if self.status != RUNNING:
            raise ApiError(INSTANCE_STATUS_NOT_SUPPORT,
                           f"The instance {self.instance_id} is {self.status}; the operation needs RUNNING.", 400)

    # -- endpoints ------------------------------------------------------------------------
    def summary(self, *, ms_times: bool) -> dict:
        created = int(self.created * 1000)
        return {"InstanceId": self.instance_id, "InstanceName": self.name, "InstanceSpecification": self.spec,
                "InstanceStatus": self.status, "RegionId": self.region, "ResourceGroupId": "", "InstanceIssue": "",
                "CreateTime": created if ms_times else str(created),
                "ModifiedTime": created if ms_times else str(created)}

    @property
    def internet_status(self) -> str:
        if not self.internet_enabled:
            return "STOPPED"   # [?] the name of the off state
        return "CREATING" if self.clock is not None and self.clock.now() < self.internet_ready_at else RUNNING

    @property
    def internet_serving(self) -> bool:
        return self.internet_status == RUNNING

    def internet_endpoint(self) -> dict:
        return {"EndpointType": "internet", "Enable": self.internet_enabled, "Status": self.internet_status,
                # The internet endpoint always filters by its whitelist: an empty list admits nobody.
                "AclEnable": True,
                "AclEntries": [{"Entry": entry, "Comment": comment} for entry, comment in self.acl],
                "Domains": [{"Domain": self.public_domain, "Type": "SYSTEM"}], "LinkedVpcs": []}

    def vpc_endpoint(self) -> dict:
        # [?] the VPC endpoint's EndpointType value "vpc" is likely, not confirmed.
        return {"EndpointType": "vpc", "Enable": bool(self.vpc_links), "Status": RUNNING, "AclEnable": False,
                "AclEntries": [], "Domains": [{"Domain": self.vpc_domain, "Type": "SYSTEM"}],
                "LinkedVpcs": [{"VpcId": link.vpc_id} for link in self.vpc_links]}

    def endpoint(self, endpoint_type: str) -> dict:
        kind = _endpoint_type(endpoint_type, allowed=("internet", "vpc"))
        return self.internet_endpoint() if kind == "internet" else self.vpc_endpoint()

    def set_internet(self, endpoint_type: str, enable: bool) -> None:
        _endpoint_type(endpoint_type, allowed=("internet",))
        self.require_running()
        if enable and not self.internet_enabled:
            self.internet_ready_at = self.clock.ready_at(INTERNET_ENDPOINT_SECONDS) if self.clock else 0.0
            if DEFAULT_ACL_ENTRY[0] not in {e for e, _ in self.acl}:
                self.acl.insert(0, DEFAULT_ACL_ENTRY)
        self.internet_enabled = enable

    def _acl_write(self) -> bool:
        """False when the write is to be dropped (endpoint CREATING); SLB_SERVICE_ERROR when busy."""
        if self.clock is not None and self.clock.now() < self.acl_busy_until:
            raise ApiError("SLB_SERVICE_ERROR", "The SLB service of the endpoint is busy, try again later.", 400)
        if self.clock is not None:
            self.acl_busy_until = self.clock.ready_at(ACL_WRITE_SECONDS)
        return self.internet_status != "CREATING"

    def add_acl(self, endpoint_type: str, entries: list[tuple[str, str]]) -> None:
        _endpoint_type(endpoint_type, allowed=("internet",))
        self.require_running()
        normalized = [(_cidr(entry), comment) for entry, comment in entries]
        existing = {e for e, _ in self.acl}
        for entry, _ in normalized:
            if entry in existing:
                raise InBodyError(ACL_ENTRY_EXISTS, f"The ACL entry {entry} already exists.")
            existing.add(entry)
        if self._acl_write():
            self.acl.extend(normalized)

    def remove_acl(self, endpoint_type: str, entries: list[str]) -> None:
        _endpoint_type(endpoint_type, allowed=("internet",))
        self.require_running()
        wanted = [_cidr(entry) for entry in entries]
        present = {e for e, _ in self.acl}
        for entry in wanted:
            if entry not in present:
                raise InBodyError(ACL_ENTRY_NOT_EXIST, f"The ACL entry {entry} does not exist.")
        self._acl_write()
        self.acl = [(e, c) for e, c in self.acl if e not in wanted]

    # -- VPC links ------------------------------------------------------------------------
    def link_vpc(self, world, vpc_id: str, vswitch_id: str, dns_in_pvtz: bool) -> VpcLink:
        self.require_running()
        cidr = _vswitch_cidr(world, self.account, self.region, vpc_id, vswitch_id)
        if any(link.vpc_id == vpc_id for link in self.vpc_links):
            raise InBodyError(VPC_ALREADY_LINKED, f"The VPC {vpc_id} is already linked to {self.instance_id}.")
        limit = VPC_LINK_LIMITS.get(self.spec, 1)
        if len(self.vpc_links) >= limit:
            raise InBodyError(VPC_LINK_QUOTA, f"An {self.spec} instance links at most {limit} VPC(s).")
        link = VpcLink(vpc_id, vswitch_id, _allocate_ip(world, cidr, vswitch_id),
                       op=slowop.start(world, "vpc_link", VPC_LINK_SECONDS), dns_in_pvtz=dns_in_pvtz)
        self.vpc_links.append(link)
        return link

    def unlink_vpc(self, vpc_id: str, vswitch_id: str | None) -> None:
        self.require_running()
        for link in self.vpc_links:
            if link.vpc_id == vpc_id and (not vswitch_id or link.vswitch_id == vswitch_id):
                self.vpc_links.remove(link)
                return
        raise InBodyError(INSTANCE_ACCESS_NOT_EXIST, f"The VPC {vpc_id} is not linked to {self.instance_id}.")

    def vpc_endpoint_detail(self) -> dict:
        return {"ModuleName": "Registry", "Enable": bool(self.vpc_links), "Domains": [self.vpc_domain],
                "LinkedVpcs": [{"VpcId": l.vpc_id, "VswitchId": l.vswitch_id, "Ip": l.ip, "Status": l.status,
                                "DefaultAccess": True,
                                # Seen live: without the PrivateZone flag the link reports this issue
                                # while the name still resolves inside the linked VPC.
                                "Issue": "" if l.dns_in_pvtz else "NO_PRIVATE_ZONE_AUTHORIZED"}
                               for l in self.vpc_links]}


def _endpoint_type(value: str | None, *, allowed: tuple[str, ...]) -> str:
    # Case-insensitive: Terraform sends "Internet", API examples "internet" ([?] likely both work).
    kind = (value or "").lower()
    if kind not in allowed:
        raise invalid_parameter("EndpointType", f"It must be one of {', '.join(allowed)}.")
    return kind


def _cidr(entry: str) -> str:
    try:
        return str(ipaddress.ip_network(entry.strip(), strict=False)) if "/" in entry else \
            str(ipaddress.ip_network(entry.strip() + "/32"))
    except ValueError:
        raise invalid_parameter("Entry", f"{entry!r} is not an IPv4 CIDR block.") from None


def _vswitch_cidr(world, account: str, region: str, vpc_id: str, vswitch_id: str) -> str:
    """The vSwitch's CIDR; the VPC and vSwitch must be the instance owner's, in its region."""
    try:
        vpc_backend = world.backend("vpc", account, region)
    except ModuleNotFoundError:   # the VPC service is not part of this build: accept the ids
        return "172.16.0.0/24"
    try:
        vpc_backend.find_vpc(vpc_id)
    except ApiError:
        raise ApiError(VPC_NOT_EXIST, f"The VPC {vpc_id} does not exist in this account and region.", 400) from None
    try:
        vswitch = vpc_backend.find_vswitch(vswitch_id)
    except ApiError:
        raise ApiError(VSWITCH_NOT_EXIST, f"The vSwitch {vswitch_id} does not exist in this account and region.", 400) from None
    if vswitch.vpc_id != vpc_id:
        raise ApiError(VSWITCH_NOT_EXIST, f"The vSwitch {vswitch_id} does not belong to {vpc_id}.", 400)
    return vswitch.cidr_block


def _allocate_ip(world, cidr: str, vswitch_id: str) -> str:
    """A free address of the vSwitch: not reserved by the VPC, not held by another link."""
    taken = {link.ip for backend in world.backends("cr") for inst in backend.instances.values()
             for link in inst.vpc_links}
    hosts = list(ipaddress.ip_network(cidr).hosts())
    usable = hosts[2:-3] or hosts   # the VPC reserves the first and the last addresses of a vSwitch
    start = int(world.ids.hex(4), 16) % len(usable)
    for offset in range(len(usable)):
        ip = str(usable[(start + offset) % len(usable)])
        if ip not in taken:
            return ip
    raise ApiError("VSWITCH_IP_NOT_ENOUGH", f"The vSwitch {vswitch_id} has no free address.", 400)  # [?]


class Backend:
    """ACR EE instances of one account in one region."""

    def __init__(self, world, account: str, region: str):
        self.world = world
        self.account = account
        self.region = region
        self.instances: dict[str, Instance] = {}
        self.tokens: dict = {}   # tokens.TempCredential by a hash of its password

    def seed_instance(self, name: str, *, spec: str = "Enterprise_Standard", status: str = RUNNING,
                      internet_enabled: bool = False) -> Instance:
        if spec not in SPECS:
            raise ValueError(f"spec must be one of {SPECS}")
        instance = Instance("cri-" + self.world.ids.alnum(16), name, self.account, self.region, spec, status,
                            self.world.clock.now(), internet_enabled=internet_enabled, clock=self.world.clock)
        if internet_enabled:
            instance.acl.append(DEFAULT_ACL_ENTRY)   # enabled long ago: RUNNING, with the system entry
        self.instances[instance.instance_id] = instance
        return instance

    def seed_vpc_link(self, instance_id: str, vpc_id: str, vswitch_id: str, ip: str) -> VpcLink:
        link = VpcLink(vpc_id, vswitch_id, ip, dns_in_pvtz=True)
        self.instances[instance_id].vpc_links.append(link)
        return link

    def seed_acl_entry(self, instance_id: str, entry: str, comment: str = "") -> None:
        self.instances[instance_id].acl.append((_cidr(entry), comment))

    def seed_namespace(self, instance_id: str, namespace: str):
        from acrx.sandbox.services.cr import models_repos
        return models_repos.add_namespace(self.world, self.instances[instance_id], namespace)

    def seed_repository(self, instance_id: str, namespace: str, repo: str, tags: dict | None = None, *,
                        store=None):
        """`tags`: {tag: (digest, size)}; or `store`: an ImageStore whose tags are read live."""
        from acrx.sandbox.services.cr import models_repos
        return models_repos.add_repository(self.world, self.instances[instance_id], namespace, repo,
                                           tags or {}, store)


# -- lookups across regions (the SDK sends no region: the endpoint names it in the cloud) -------
def owned_instance(world, account: str, instance_id: str | None) -> Instance:
    if not instance_id:
        raise ApiError("MissingParameter", "The input parameter \"InstanceId\" that is mandatory for processing this request is not supplied.", 400)
    for backend in world.backends("cr"):
        if backend.account == account and instance_id in backend.instances:
            return backend.instances[instance_id]
    raise ApiError(INSTANCE_NOT_EXIST, f"The instance {instance_id} does not exist.", 404)


def find_instance(world, instance_id: str) -> Instance | None:
    for backend in world.backends("cr"):
        if instance_id in backend.instances:
            return backend.instances[instance_id]
    return None


def vpc_endpoint_records(world) -> list[tuple[str, str, str, str, str, str]]:
    """(vpc domain, endpoint IP, linked VPC id, account, region, link status) of every link."""
    return [(inst.vpc_domain, link.ip, link.vpc_id, inst.account, inst.region, link.status)
            for backend in world.backends("cr") for inst in backend.instances.values()
            for link in inst.vpc_links]
