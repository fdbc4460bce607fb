"""RAM 2015-05-01 over RPC: roles and policies. Users, AccessKeys and tags are in api_users.py,
which registers on the same router. Response fields follow alibabacloud_ram20150501's models."""

from __future__ import annotations

from typing import Any, Callable

from acrx.sandbox.core.errors import invalid_parameter
from acrx.sandbox.core.routing import Router
from acrx.sandbox.services.ram.entities import Policy, PolicyVersion, Role, check_policy_type, parse_tags

router = Router("ram", "2015-05-01", product="ram", global_service=True)


def _arn(kind: str, param: str):
    """Permission-policy resource for a RAM entity named by request parameter `param`."""
    return lambda req: f"acs:ram:*:{req.account}:{kind}/{req.str(param) or '*'}"


def _every(kind: str):
    return lambda req: f"acs:ram:*:{req.account}:{kind}/*"


def _iso(req, ts: float) -> str:
    return req.world.clock.iso(ts)


def role_view(req, role: Role, *, detail: bool = False) -> dict:
    view = {"RoleName": role.name, "RoleId": role.role_id, "Arn": role.arn, "Description": role.description,
            "MaxSessionDuration": role.max_session_duration, "CreateDate": _iso(req, role.created_at)}
    if detail:
        view.update(AssumeRolePolicyDocument=role.trust_document, UpdateDate=_iso(req, role.updated_at),
                    RolePrincipalName=f"{role.name}@role.{role.account}.onaliyunservice.com",
                    IsServiceLinkedRole=False)
    return view


def policy_view(req, policy: Policy) -> dict:
    return {"PolicyName": policy.name, "PolicyType": policy.policy_type, "Description": policy.description,
            "DefaultVersion": policy.default_version, "CreateDate": _iso(req, policy.created_at),
            "UpdateDate": _iso(req, policy.updated_at)}


def version_view(req, policy: Policy, version: PolicyVersion) -> dict:
    return {"VersionId": version.version_id, "IsDefaultVersion": version.version_id == policy.default_version,
            "PolicyDocument": version.document, "CreateDate": _iso(req, version.created_at)}


def _page(req, items: list) -> tuple[list, dict]:
    """RAM's Marker/MaxItems paging; the marker is the index of the next item."""
    max_items = req.int("MaxItems", default=100, minimum=1, maximum=1000)
    marker = req.str("Marker") or "0"
    if not marker.isdigit():
        raise invalid_parameter("Marker", "It is not a marker this API returned.")
    start = int(marker)
    page = items[start:start + max_items]
    truncated = start + max_items < len(items)
    return page, ({"IsTruncated": True, "Marker": str(start + max_items)} if truncated else {"IsTruncated": False})


# -- roles ----------------------------------------------------------------------------------
@router.rpc("CreateRole", writes=True, resource=_arn("role", "RoleName"))
def create_role(req):
    role = req.backend().create_role(req.str("RoleName", required=True),
                                     req.str("AssumeRolePolicyDocument", required=True),
                                     req.str("Description", default=""), req.int("MaxSessionDuration"),
                                     parse_tags(req.str("Tag")))
    return {"Role": {**role_view(req, role), "AssumeRolePolicyDocument": role.trust_document}}


@router.rpc("GetRole", writes=False, resource=_arn("role", "RoleName"))
def get_role(req):
    return {"Role": role_view(req, req.backend().role(req.str("RoleName", required=True), read=True), detail=True)}


@router.rpc("UpdateRole", writes=True, resource=_arn("role", "RoleName"))
def update_role(req):
    role = req.backend().update_role(req.str("RoleName", required=True), req.str("NewAssumeRolePolicyDocument"),
                                     req.int("NewMaxSessionDuration"), req.params.get("NewDescription"))
    view = role_view(req, role, detail=True)
    view.pop("RolePrincipalName")
    view.pop("IsServiceLinkedRole")
    return {"Role": view}


@router.rpc("DeleteRole", writes=True, resource=_arn("role", "RoleName"))
def delete_role(req):
    req.backend().delete_role(req.str("RoleName", required=True))
    return {}


@router.rpc("ListRoles", writes=False, resource=_every("role"))
def list_roles(req):
    roles = req.backend().list_roles(parse_tags(req.str("Tag")))
    page, paging = _page(req, roles)
    views = []
    for role in page:
        view = {**role_view(req, role), "UpdateDate": _iso(req, role.updated_at)}
        view["Tags"] = {"Tag": [{"TagKey": k, "TagValue": v} for k, v in role.tags.items()]}
        views.append(view)
    return {"Roles": {"Role": views}, **paging}


# -- policies -------------------------------------------------------------------------------
@router.rpc("CreatePolicy", writes=True, resource=_arn("policy", "PolicyName"))
def create_policy(req):
    policy = req.backend().create_policy(req.str("PolicyName", required=True), req.str("PolicyDocument", required=True),
                                         req.str("Description", default=""), parse_tags(req.str("Tag")))
    view = policy_view(req, policy)
    view.pop("UpdateDate")
    return {"Policy": view}


@router.rpc("GetPolicy", writes=False, resource=_arn("policy", "PolicyName"))
def get_policy(req):
    ram = req.backend()
    policy = ram.policy(req.str("PolicyName", required=True), check_policy_type(req.str("PolicyType", required=True)),
                        read=True)
    default = policy.versions[policy.default_version]
    return {"Policy": {**policy_view(req, policy), "PolicyDocument": default.document,
                       "AttachmentCount": ram.attachment_count(policy)},
            "DefaultPolicyVersion": version_view(req, policy, default)}


@router.rpc("DeletePolicy", writes=True, resource=_arn("policy", "PolicyName"))
def delete_policy(req):
    req.backend().delete_policy(req.str("PolicyName", required=True), bool(req.bool("CascadingDelete", default=False)))
    return {}


@router.rpc("CreatePolicyVersion", writes=True, resource=_arn("policy", "PolicyName"))
def create_policy_version(req):
    ram = req.backend()
    name = req.str("PolicyName", required=True)
    version = ram.create_policy_version(name, req.str("PolicyDocument", required=True),
                                        bool(req.bool("SetAsDefault", default=False)), req.str("RotateStrategy"))
    return {"PolicyVersion": version_view(req, ram.policy(name), version)}


@router.rpc("ListPolicyVersions", writes=False, resource=_arn("policy", "PolicyName"))
def list_policy_versions(req):
    policy = req.backend().policy(req.str("PolicyName", required=True),
                                  check_policy_type(req.str("PolicyType", required=True)), read=True)
    versions = sorted(policy.versions.values(), key=lambda v: int(v.version_id[1:]))
    return {"PolicyVersions": {"PolicyVersion": [version_view(req, policy, v) for v in versions]}}


@router.rpc("GetPolicyVersion", writes=False, resource=_arn("policy", "PolicyName"))
def get_policy_version(req):
    ram = req.backend()
    policy = ram.policy(req.str("PolicyName", required=True), check_policy_type(req.str("PolicyType", required=True)),
                        read=True)
    return {"PolicyVersion": version_view(req, policy, ram.policy_version(policy, req.str("VersionId", required=True)))}


@router.rpc("DeletePolicyVersion", writes=True, resource=_arn("policy", "PolicyName"))
def delete_policy_version(req):
    req.backend().delete_policy_version(req.str("PolicyName", required=True), req.str("VersionId", required=True))
    return {}


@router.rpc("SetDefaultPolicyVersion", writes=True, resource=_arn("policy", "PolicyName"))
def set_default_policy_version(req):
    req.backend().set_default_policy_version(req.str("PolicyName", required=True), req.str("VersionId", required=True))
    return {}


# -- role attachments -----------------------------------------------------------------------
def attachment_views(req, ram, holder) -> dict:
    return {"Policies": {"Policy": [
        {"PolicyName": policy.name, "PolicyType": policy.policy_type, "Description": policy.description,
         "DefaultVersion": policy.default_version, "AttachDate": _iso(req, attachment.attached_at)}
        for attachment, policy in ram.attached_policies(holder)]}}


def attachment_routes(kind: str, holder: Callable[[Any, str, bool], Any]) -> None:
    """AttachPolicyTo<kind>, DetachPolicyFrom<kind> and ListPoliciesFor<kind> (kind: Role | User):
    the same three actions for both; `holder(ram, name, read)` finds the role or user."""
    resource = _arn(kind.lower(), f"{kind}Name")

    def target(req, read: bool = False):
        ram = req.backend()
        return ram, holder(ram, req.str(f"{kind}Name", required=True), read)

    def change(method: str):
        def handler(req):
            ram, entity = target(req)
            getattr(ram, method)(entity, kind, check_policy_type(req.str("PolicyType", required=True)),
                                 req.str("PolicyName", required=True))
            return {}
        return handler

    router.rpc(f"AttachPolicyTo{kind}", writes=True, resource=resource)(change("attach"))
    router.rpc(f"DetachPolicyFrom{kind}", writes=True, resource=resource)(change("detach"))
    router.rpc(f"ListPoliciesFor{kind}", writes=False, resource=resource)(
        lambda req: attachment_views(req, *target(req, read=True)))


attachment_routes("Role", lambda ram, name, read: ram.role(name, read=read))


from acrx.sandbox.services.ram import api_users  # noqa: E402,F401  (registers its routes on `router`)
