"""RAM 2015-05-01 listings of policies and users (routes on api.router).

Shapes follow alibabacloud_ram20150501's models: ListPoliciesResponseBody.Policies.Policy[] and
ListUsersResponseBody.Users.User[], both paged by Marker/MaxItems with IsTruncated.
"""

from __future__ import annotations

from acrx.sandbox.core.errors import invalid_parameter
from acrx.sandbox.services.ram.api import _every, _page, policy_view, router
from acrx.sandbox.services.ram.api_users import user_view
from acrx.sandbox.services.ram.entities import CUSTOM, SYSTEM


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
