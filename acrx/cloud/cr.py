"""CR / ACR Enterprise Edition (2018-12-01, RPC) in acrx vocabulary.

CR answers some failures with HTTP 200 and `IsSuccess: false`; those become CloudError here too.
EndpointType casing differs between docs ("Internet") and tools ("internet"): reads compare
case-insensitively and writes send lower case.
"""

from __future__ import annotations

from dataclasses import dataclass

from acrx.cloud import errors
from acrx.cloud.adapter import CloudApi
from acrx.cloud.credentials import Secret
from acrx.errors import CloudError

MODULE = "Registry"
PAGE_SIZE = 50


@dataclass(frozen=True)
class Instance:
    id: str
    name: str
    specification: str          # Enterprise_Basic | Enterprise_Standard | Enterprise_Advanced ...
    status: str                 # RUNNING | ...
    region: str


@dataclass(frozen=True)
class AclEntry:
    cidr: str
    comment: str = ""


@dataclass(frozen=True)
class Endpoint:
    type: str                   # internet | vpc (lower-cased)
    enabled: bool
    status: str
    acl_enabled: bool
    acl: tuple[AclEntry, ...]
    domains: tuple[str, ...]
    linked_vpc_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinkedVpc:
    vpc_id: str
    vswitch_id: str
    ip: str | None
    status: str                 # CREATING | RUNNING | ...
    issue: str | None = None


@dataclass(frozen=True)
class VpcEndpoint:
    enabled: bool
    domains: tuple[str, ...]
    linked_vpcs: tuple[LinkedVpc, ...]


@dataclass(frozen=True)
class AuthorizationToken:
    username: str
    password: Secret            # the registry password: never printed
    expire_time_ms: int


@dataclass(frozen=True)
class Repository:
    id: str
    namespace: str
    name: str
    type: str = ""
    status: str = ""


@dataclass(frozen=True)
class ImageTag:
    tag: str
    digest: str
    size: int
    status: str = ""


def _domains(raw) -> tuple[str, ...]:
    out = []
    for d in raw or []:
        out.append(d.get("Domain", "") if isinstance(d, dict) else str(d))
    return tuple(x for x in out if x)


def _acl(raw) -> tuple[AclEntry, ...]:
    return tuple(AclEntry(e.get("Entry", ""), e.get("Comment") or "") for e in raw or [] if isinstance(e, dict))


def _instance(raw: dict, region: str) -> Instance:
    return Instance(raw.get("InstanceId", ""), raw.get("InstanceName", ""), raw.get("InstanceSpecification", ""),
                    raw.get("InstanceStatus", ""), raw.get("RegionId") or region)


class CrApi(CloudApi):
    PRODUCT = "cr"
    MODELS = "alibabacloud_cr20181201.models"

    def _call(self, action: str, method: str, *args, idempotent: bool = False) -> dict:
        body = super()._call(action, method, *args, idempotent=idempotent)
        if body.get("IsSuccess") is False:
            full = f"{self.PRODUCT}:{action}"
            raise CloudError(body.get("Code") or "Failed", errors.redact(body.get("Message") or "the call failed"),
                             request_id=body.get("RequestId"), http_status=200, action=full)
        return body

    def _pages(self, action: str, method: str, make, key: str) -> list[dict]:
        return list(self._numbered_pages(action, method, make, key, page_size=PAGE_SIZE, total_key="TotalCount"))

    # -- instances -------------------------------------------------------------------------------
    def list_instances(self) -> list[Instance]:
        m = self._m()
        raw = self._pages("ListInstance", "list_instance_with_options",
                          lambda p: m.ListInstanceRequest(page_no=p, page_size=PAGE_SIZE), "Instances")
        return [_instance(r, self.region) for r in raw]

    def get_instance(self, instance_id: str) -> Instance | None:
        body = self._read("GetInstance", "get_instance_with_options",
                          self._m().GetInstanceRequest(instance_id=instance_id))
        return None if body is None else _instance(body, self.region)

    # -- endpoints and network -------------------------------------------------------------------
    def list_endpoints(self, instance_id: str) -> list[Endpoint]:
        body = self._call("ListInstanceEndpoint", "list_instance_endpoint_with_options",
                          self._m().ListInstanceEndpointRequest(instance_id=instance_id, module_name=MODULE),
                          idempotent=True)
        out = []
        for e in body.get("Endpoints") or []:
            out.append(Endpoint(type=str(e.get("EndpointType", "")).lower(), enabled=bool(e.get("Enable")),
                                status=e.get("Status", ""), acl_enabled=bool(e.get("AclEnable")),
                                acl=_acl(e.get("AclEntries")), domains=_domains(e.get("Domains")),
                                linked_vpc_ids=tuple(v.get("VpcId", "") for v in e.get("LinkedVpcs") or [])))
        return out

    def endpoint(self, instance_id: str, endpoint_type: str) -> Endpoint | None:
        for e in self.list_endpoints(instance_id):
            if e.type == endpoint_type.lower():
                return e
        return None

    def internet_acl_entries(self, instance_id: str) -> tuple[AclEntry, ...]:
        """The internet endpoint's ACL with each entry's comment (where acrx's mark sits), or () when
        the instance is gone. GetInstanceEndpoint, not ListInstanceEndpoint: only the former's
        response model keeps the comments."""
        body = self._read("GetInstanceEndpoint", "get_instance_endpoint_with_options",
                          self._m().GetInstanceEndpointRequest(instance_id=instance_id, endpoint_type="internet",
                                                               module_name=MODULE))
        return () if body is None else _acl(body.get("AclEntries"))

    def get_vpc_endpoint(self, instance_id: str) -> VpcEndpoint:
        body = self._call("GetInstanceVpcEndpoint", "get_instance_vpc_endpoint_with_options",
                          self._m().GetInstanceVpcEndpointRequest(instance_id=instance_id, module_name=MODULE),
                          idempotent=True)
        vpcs = tuple(LinkedVpc(v.get("VpcId", ""), v.get("VswitchId", ""), v.get("Ip") or None, v.get("Status", ""),
                               v.get("Issue") or None) for v in body.get("LinkedVpcs") or [])
        return VpcEndpoint(bool(body.get("Enable", True)), _domains(body.get("Domains")), vpcs)

    def set_internet_endpoint(self, instance_id: str, enabled: bool) -> None:
        self._call("UpdateInstanceEndpointStatus", "update_instance_endpoint_status_with_options",
                   self._m().UpdateInstanceEndpointStatusRequest(instance_id=instance_id, endpoint_type="internet",
                                                                 enable=enabled, module_name=MODULE),
                   idempotent=True)

    def add_acl_entry(self, instance_id: str, cidr: str, comment: str = "") -> None:
        self._create("CreateInstanceEndpointAclPolicy", "create_instance_endpoint_acl_policy_with_options",
                     self._m().CreateInstanceEndpointAclPolicyRequest(instance_id=instance_id, endpoint_type="internet",
                                                                      entry=cidr, comment=comment or None,
                                                                      module_name=MODULE),
                     confirm=lambda: {} if any(e.cidr == cidr for e in self.internet_acl_entries(instance_id)) else None)

    def delete_acl_entry(self, instance_id: str, cidr: str) -> None:
        self._call("DeleteInstanceEndpointAclPolicy", "delete_instance_endpoint_acl_policy_with_options",
                   self._m().DeleteInstanceEndpointAclPolicyRequest(instance_id=instance_id, endpoint_type="internet",
                                                                    entry=cidr, module_name=MODULE))

    def link_vpc(self, instance_id: str, vpc_id: str, vswitch_id: str, *, create_dns_record: bool = False) -> None:
        self._create("CreateInstanceVpcEndpointLinkedVpc", "create_instance_vpc_endpoint_linked_vpc_with_options",
                     self._m().CreateInstanceVpcEndpointLinkedVpcRequest(
                         instance_id=instance_id, vpc_id=vpc_id, vswitch_id=vswitch_id, module_name=MODULE,
                         enable_create_dnsrecord_in_pvzt=create_dns_record),
                     confirm=lambda: {} if any(v.vpc_id == vpc_id for v in self.get_vpc_endpoint(instance_id).linked_vpcs)
                     else None)

    def unlink_vpc(self, instance_id: str, vpc_id: str, vswitch_id: str) -> None:
        self._call("DeleteInstanceVpcEndpointLinkedVpc", "delete_instance_vpc_endpoint_linked_vpc_with_options",
                   self._m().DeleteInstanceVpcEndpointLinkedVpcRequest(
                       instance_id=instance_id, vpc_id=vpc_id, vswitch_id=vswitch_id, module_name=MODULE))

    # -- registry access -------------------------------------------------------------------------
    def get_authorization_token(self, instance_id: str, *, hours: int | None = None) -> AuthorizationToken:
        body = self._call("GetAuthorizationToken", "get_authorization_token_with_options",
                          self._m().GetAuthorizationTokenRequest(instance_id=instance_id, expires_in_hours=hours),
                          idempotent=True)
        return AuthorizationToken(body.get("TempUsername", ""), Secret(body.get("AuthorizationToken")),
                                  int(body.get("ExpireTime") or 0))

    def list_repositories(self, instance_id: str, namespace: str | None = None) -> list[Repository]:
        m = self._m()
        raw = self._pages("ListRepository", "list_repository_with_options",
                          lambda p: m.ListRepositoryRequest(instance_id=instance_id, repo_namespace_name=namespace,
                                                            page_no=p, page_size=PAGE_SIZE), "Repositories")
        return [Repository(r.get("RepoId", ""), r.get("RepoNamespaceName", ""), r.get("RepoName", ""),
                           r.get("RepoType", ""), r.get("RepoStatus", "")) for r in raw]

    def get_repository(self, instance_id: str, namespace: str, name: str) -> Repository | None:
        body = self._read("GetRepository", "get_repository_with_options", self._m().GetRepositoryRequest(
            instance_id=instance_id, repo_namespace_name=namespace, repo_name=name))
        if body is None:
            return None
        return Repository(body.get("RepoId", ""), body.get("RepoNamespaceName") or namespace,
                          body.get("RepoName") or name, body.get("RepoType", ""), body.get("RepoStatus", ""))

    def list_repo_tags(self, instance_id: str, repo_id: str) -> list[ImageTag]:
        m = self._m()
        raw = self._pages("ListRepoTag", "list_repo_tag_with_options",
                          lambda p: m.ListRepoTagRequest(instance_id=instance_id, repo_id=repo_id, page_no=p,
                                                         page_size=PAGE_SIZE), "Images")
        return [ImageTag(i.get("Tag", ""), i.get("Digest", ""), int(i.get("ImageSize") or 0), i.get("Status", ""))
                for i in raw]

