"""RAM 2015-05-01 listings of policies and users (routes on api.router).

Shapes follow alibabacloud_ram20150501's models: ListPoliciesResponseBody.Policies.Policy[] and
ListUsersResponseBody.Users.User[], both paged by Marker/MaxItems with IsTruncated;
ListEntitiesForPolicyResponseBody.Roles.Role[] / Users.User[] / Groups.Group[] (not paged: its
request has PolicyName and PolicyType only).
"""

from __future__ import annotations

from acrx.sandbox.core.errors import invalid_parameter
from acrx.sandbox.services.ram.api import _arn, _every, _iso, _page, policy_view, router
from acrx.sandbox.services.ram.api_users import user_view
from acrx.sandbox.services.ram.entities import CUSTOM, SYSTEM, Role


@router.rpc("ListPolicies", writes=False, resource=_every("policy"))
def list_policies(req):
    ram = req.backend()
    wanted = req.str("PolicyType")
    if wanted not in (None, "", SYSTEM, CUSTOM):
        raise invalid_parameter("PolicyType", "It must be System or Custom.")
    policies = []
    if wanted in (None, "", SYSTEM):
        policies += sorted(ram.system_policies.values(), key=lambda p: p.name)
    if wanted in (None, "", CUSTOM):
        # a new policy is invisible to reads until the consistency delay has passed, as for GetPolicy
        policies += sorted((p for p in ram.policies.values() if req.world.visible(p.created_at)), key=lambda p: p.name)
    page, paging = _page(req, policies)
    return {"Policies": {"Policy": [{**policy_view(req, p), "AttachmentCount": len(ram.attachment_holders(p.policy_type, p.name))}
                                    for p in page]}, **paging}


@router.rpc("ListUsers", writes=False, resource=_every("user"))
def list_users(req):
    users = sorted(req.backend().users.values(), key=lambda u: u.name)
    page, paging = _page(req, users)
    return {"Users": {"User": [user_view(req, u) for u in page]}, **paging}


@router.rpc("ListEntitiesForPolicy", writes=False, resource=_arn("policy", "PolicyName"))
def list_entities_for_policy(req):
    """The roles and users a policy is attached to (the sandbox has no groups: Groups is empty).
    An unknown policy is EntityNotExist.Policy, as GetPolicy answers (ram.policy)."""
    ram = req.backend()
    policy_type = req.str("PolicyType", required=True)
    if policy_type not in (SYSTEM, CUSTOM):
        raise invalid_parameter("PolicyType", "It must be System or Custom.")
    name = req.str("PolicyName", required=True)
    ram.policy(name, policy_type, read=True)
    roles, users = [], []
    for holder in ram.attachment_holders(policy_type, name):
        attached = next(a for a in holder.attachments if a.policy_type == policy_type and a.policy_name == name)
        if isinstance(holder, Role):
            roles.append({"RoleName": holder.name, "RoleId": holder.role_id, "Arn": holder.arn,
                          "Description": holder.description, "AttachDate": _iso(req, attached.attached_at)})
        else:
            users.append({"UserName": holder.name, "UserId": holder.user_id, "DisplayName": holder.display_name,
                          "AttachDate": _iso(req, attached.attached_at)})
    return {"Roles": {"Role": roles}, "Users": {"User": users}, "Groups": {"Group": []}}
