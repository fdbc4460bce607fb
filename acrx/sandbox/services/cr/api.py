"""CR routes (RPC, 2018-12-01): thin handlers in the field names of the SDK's response models.

Every answer carries Code ("success"), IsSuccess and RequestId; rule violations the cloud
reports in the body (models.InBodyError) come back as HTTP 200 with IsSuccess=false.
"""

from __future__ import annotations

import functools

from acrx.sandbox.core.errors import invalid_parameter
from acrx.sandbox.core.routing import Router
from acrx.sandbox.services.cr import models, models_repos, tokens

router = Router("cr", "2018-12-01", product="cr")


def _region(req) -> str:
    return req.region or req.world.accounts[req.account].home_region


def _instance_arn(req) -> str:
    """`acs:cr:<region>:<account>:instance/<id>`: what RAM checks instance-level actions on."""
    instance_id = req.str("InstanceId") or "*"
    instance = models.find_instance(req.world, instance_id)
    region = instance.region if instance is not None and instance.account == req.account else _region(req)
    return f"acs:cr:{region}:{req.account}:instance/{instance_id}"


def _answer(fn):
    @functools.wraps(fn)
    def handler(req):
        try:
            body = fn(req) or {}
        except models.InBodyError as err:
            return {"Code": err.code, "Message": err.message, "IsSuccess": False}
        return {"Code": "success", "IsSuccess": True, **body}
    return handler


def _instance(req) -> models.Instance:
    return models.owned_instance(req.world, req.account, req.str("InstanceId", required=True))


def _module(req) -> None:
    # Only the image registry module is modelled (Chart is not).
    if (req.str("ModuleName") or "Registry") != "Registry":
        raise invalid_parameter("ModuleName", "Only Registry is supported by this sandbox.")


def _page(req, items: list, key: str, *, count_as_str: bool = True) -> dict:
    chosen, page_no, page_size = models_repos.page(items, req.int("PageNo", minimum=1),
                                                   req.int("PageSize", minimum=1, maximum=100))
    return {key: chosen, "PageNo": page_no, "PageSize": page_size,
            "TotalCount": str(len(items)) if count_as_str else len(items)}


# -- instances and endpoints ------------------------------------------------------------------
@router.rpc("ListInstance", writes=False,
            resource=lambda req: f"acs:cr:{_region(req)}:{req.account}:instance/*")
@_answer
def list_instance(req):
    backend = req.backend("cr", region=_region(req))
    name, status = req.str("InstanceName"), req.str("InstanceStatus")
    found = [i.summary(ms_times=False) for i in backend.instances.values()
             if (not name or i.name == name) and (not status or i.status == status)]
    return _page(req, found, "Instances", count_as_str=False)


@router.rpc("GetInstance", writes=False, resource=_instance_arn)
@_answer
def get_instance(req):
    return _instance(req).summary(ms_times=True)


@router.rpc("ListInstanceEndpoint", writes=False, resource=_instance_arn)
@_answer
def list_instance_endpoint(req):
    _module(req)
    instance = _instance(req)
    return {"Endpoints": [instance.internet_endpoint(), instance.vpc_endpoint()]}


@router.rpc("GetInstanceEndpoint", writes=False, resource=_instance_arn)
@_answer
def get_instance_endpoint(req):
    _module(req)
    endpoint = _instance(req).endpoint(req.str("EndpointType", required=True))
    return {k: endpoint[k] for k in ("Enable", "Status", "AclEnable", "AclEntries", "Domains")}


@router.rpc("UpdateInstanceEndpointStatus", writes=True, resource=_instance_arn)
@_answer
def update_instance_endpoint_status(req):
    _module(req)
    enable = req.bool("Enable")
    if enable is None:
        raise invalid_parameter("Enable", "It is required.")
    _instance(req).set_internet(req.str("EndpointType", required=True), enable)


def _acl_entries(req) -> list[tuple[str, str]]:
    entries = [(req.str("Entry"), req.str("Comment") or "")] if req.str("Entry") else []
    for item in req.json_param("Entries") or []:
        if not isinstance(item, dict) or not item.get("Entry"):
            raise invalid_parameter("Entries", "Each entry needs an Entry CIDR block.")
        entries.append((item["Entry"], item.get("Comment") or ""))
    if not entries:
        raise invalid_parameter("Entry", "Give Entry or Entries.")
    return entries


@router.rpc("CreateInstanceEndpointAclPolicy", writes=True, resource=_instance_arn)
@_answer
def create_instance_endpoint_acl_policy(req):
    _module(req)
    _instance(req).add_acl(req.str("EndpointType", required=True), _acl_entries(req))


@router.rpc("DeleteInstanceEndpointAclPolicy", writes=True, resource=_instance_arn)
@_answer
def delete_instance_endpoint_acl_policy(req):
    _module(req)
    _instance(req).remove_acl(req.str("EndpointType", required=True), [e for e, _ in _acl_entries(req)])


# -- VPC endpoint -----------------------------------------------------------------------------
@router.rpc("CreateInstanceVpcEndpointLinkedVpc", writes=True, resource=_instance_arn)
@_answer
def create_instance_vpc_endpoint_linked_vpc(req):
    _module(req)
    _instance(req).link_vpc(req.world, req.str("VpcId", required=True), req.str("VswitchId", required=True),
                            bool(req.bool("EnableCreateDNSRecordInPvzt", default=False)))


@router.rpc("DeleteInstanceVpcEndpointLinkedVpc", writes=True, resource=_instance_arn)
@_answer
def delete_instance_vpc_endpoint_linked_vpc(req):
    _module(req)
    _instance(req).unlink_vpc(req.str("VpcId", required=True), req.str("VswitchId"))


@router.rpc("GetInstanceVpcEndpoint", writes=False, resource=_instance_arn)
@_answer
def get_instance_vpc_endpoint(req):
    _module(req)
    return _instance(req).vpc_endpoint_detail()


# -- registry credentials ---------------------------------------------------------------------
# cr:GetAuthorizationToken is an All-Resources action: RAM checks it on "*", so only a
# statement with Resource "*" allows it (an instance-scoped statement does not match).
@router.rpc("GetAuthorizationToken", writes=False, resource=lambda req: "*")
@_answer
def get_authorization_token(req):
    instance = _instance(req)
    hours = req.int("ExpiresInHours", minimum=1, maximum=24, default=1)
    backend = req.world.backend("cr", instance.account, instance.region)
    temp = tokens.issue(req.world, backend, req, instance, hours)
    return {"TempUsername": tokens.TEMP_USERNAME, "AuthorizationToken": temp.password,
            "ExpireTime": int(temp.expires_at * 1000)}


# -- namespaces, repositories, tags -----------------------------------------------------------
@router.rpc("ListNamespace", writes=False, resource=_instance_arn)
@_answer
def list_namespace(req):
    return _page(req, models_repos.list_namespaces(_instance(req), req.str("NamespaceName")), "Namespaces")


@router.rpc("ListRepository", writes=False, resource=_instance_arn)
@_answer
def list_repository(req):
    found = models_repos.list_repositories(_instance(req), req.str("RepoNamespaceName"), req.str("RepoName"))
    return _page(req, found, "Repositories")


@router.rpc("GetRepository", writes=False, resource=_instance_arn)
@_answer
def get_repository(req):
    repo_id = req.str("RepoId")
    namespace = req.str("RepoNamespaceName", required=not repo_id)
    name = req.str("RepoName", required=not repo_id)
    return models_repos.find_repository(_instance(req), repo_id, namespace, name).summary()


@router.rpc("ListRepoTag", writes=False, resource=_instance_arn)
@_answer
def list_repo_tag(req):
    instance = _instance(req)
    repo = models_repos.find_repository(instance, req.str("RepoId", required=True), None, None)
    return _page(req, models_repos.list_tags(repo), "Images")
