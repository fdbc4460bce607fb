"""RAM 2015-05-01 over RPC: users, AccessKeys and resource tags (routes on api.router)."""

from __future__ import annotations

import json

from acrx.sandbox.core.errors import invalid_parameter
from acrx.sandbox.services.ram.api import _arn, _every, _iso, attachment_routes, router
from acrx.sandbox.services.ram.entities import MAX_TAGS_PER_RESOURCE, User, parse_tags


def user_view(req, user: User, *, detail: bool = False) -> dict:
    view = {"UserName": user.name, "UserId": user.user_id, "DisplayName": user.display_name,
            "Comments": user.comments, "Email": user.email, "MobilePhone": user.mobile_phone,
            "CreateDate": _iso(req, user.created_at)}
    if detail:
        view["UpdateDate"] = _iso(req, user.updated_at)
    return view


def key_view(req, key, *, with_secret: bool = False) -> dict:
    view = {"AccessKeyId": key.access_key_id, "Status": "Active" if key.active else "Inactive",
            "CreateDate": _iso(req, key.created_at)}
    if with_secret:  # CreateAccessKey is the one and only place the secret leaves the sandbox
        view["AccessKeySecret"] = key.secret
    return view


# -- users ----------------------------------------------------------------------------------
@router.rpc("CreateUser", writes=True, resource=_arn("user", "UserName"))
def create_user(req):
    user = req.backend().create_user(req.str("UserName", required=True), req.str("DisplayName", default=""),
                                     req.str("Comments", default=""), req.str("Email", default=""),
                                     req.str("MobilePhone", default=""))
    return {"User": user_view(req, user)}


@router.rpc("GetUser", writes=False, resource=_arn("user", "UserName"))
def get_user(req):
    return {"User": user_view(req, req.backend().user(req.str("UserName", required=True)), detail=True)}


@router.rpc("UpdateUser", writes=True, resource=_arn("user", "UserName"))
def update_user(req):
    # UpdateUserResponseBody.User: the user as it is after the change (SDK model).
    user = req.backend().update_user(req.str("UserName", required=True), req.params.get("NewComments"),
                                     req.params.get("NewDisplayName"))
    return {"User": user_view(req, user, detail=True)}


@router.rpc("DeleteUser", writes=True, resource=_arn("user", "UserName"))
def delete_user(req):
    req.backend().delete_user(req.str("UserName", required=True))
    return {}


# -- AccessKeys -----------------------------------------------------------------------------
@router.rpc("CreateAccessKey", writes=True, resource=_arn("user", "UserName"))
def create_access_key(req):
    key = req.backend().create_access_key(req.str("UserName", required=True))
    return {"AccessKey": key_view(req, key, with_secret=True)}


@router.rpc("ListAccessKeys", writes=False, resource=_arn("user", "UserName"))
def list_access_keys(req):
    ram = req.backend()
    name = req.str("UserName", required=True)
    ram.user(name)
    return {"AccessKeys": {"AccessKey": [key_view(req, k) for k in ram.access_keys(name)]}}


@router.rpc("DeleteAccessKey", writes=True, resource=_arn("user", "UserName"))
def delete_access_key(req):
    req.backend().delete_access_key(req.str("UserName", required=True), req.str("UserAccessKeyId", required=True))
    return {}


@router.rpc("UpdateAccessKey", writes=True, resource=_arn("user", "UserName"))
def update_access_key(req):
    req.backend().update_access_key(req.str("UserName", required=True), req.str("UserAccessKeyId", required=True),
                                    req.str("Status", required=True))
    return {}


# -- user attachments -----------------------------------------------------------------------
attachment_routes("User", lambda ram, name, read: ram.user(name))


# -- tags (acrx marks what it owns with acrx:managed=true) ----------------------------------
def _names(req, required: bool) -> list[str]:
    raw = req.str("ResourceNames", required=required)
    if raw is None:
        return []
    try:
        names = json.loads(raw)
    except ValueError:
        raise invalid_parameter("ResourceNames", "It is not valid JSON.") from None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise invalid_parameter("ResourceNames", "It must be a list of names.")
    return names


def _resource_type(req) -> str:
    value = req.str("ResourceType", required=True)
    if value not in ("role", "policy"):
        raise invalid_parameter("ResourceType", "It must be role or policy.")
    return value


@router.rpc("TagResources", writes=True, resource=_every("role"))
def tag_resources(req):
    ram, kind = req.backend(), _resource_type(req)
    tags = parse_tags(req.str("Tag", required=True))
    targets = [ram.taggable(kind, name) for name in _names(req, required=True)]
    for target in targets:  # validate all first: the call changes every resource or none
        if len({**target.tags, **tags}) > MAX_TAGS_PER_RESOURCE:
            raise invalid_parameter("Tag", f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags.")
    for target in targets:
        target.tags.update(tags)
    return {}


@router.rpc("UntagResources", writes=True, resource=_every("role"))
def untag_resources(req):
    ram, kind = req.backend(), _resource_type(req)
    keys = req.json_param("TagKeys") or []
    remove_all = bool(req.bool("All", default=False))
    if not keys and not remove_all:
        raise invalid_parameter("TagKeys", "Give TagKeys or All=true.")
    for name in _names(req, required=True):
        target = ram.taggable(kind, name)
        target.tags = {} if remove_all else {k: v for k, v in target.tags.items() if k not in keys}
    return {}


@router.rpc("ListTagResources", writes=False, resource=_every("role"))
def list_tag_resources(req):
    ram, kind = req.backend(), _resource_type(req)
    wanted = parse_tags(req.str("Tag"))
    names = _names(req, required=False)
    if names:
        targets = [ram.taggable(kind, n) for n in names]
    else:
        targets = ram.list_roles() if kind == "role" else list(ram.policies.values())
    rows = [{"ResourceName": t.name, "ResourceType": kind, "TagKey": k, "TagValue": v}
            for t in targets if all(t.tags.get(wk) == wv for wk, wv in wanted.items())
            for k, v in t.tags.items()]
    return {"TagResources": rows}
from acrx.sandbox.services.ram import api_lists  # noqa: E402,F401  (registers its routes on `router`)
