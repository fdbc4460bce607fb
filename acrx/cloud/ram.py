"""RAM (2015-05-01) in acrx vocabulary: roles, policies and their versions, users, AccessKeys.

Every call goes through acrx.cloud.retry (translation + retries). Reads return None for a
missing entity; writes raise CloudError. Returned values are small frozen dataclasses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote

from acrx.cloud import errors
from acrx.cloud.adapter import CloudApi, unwrap
from acrx.cloud.credentials import Secret

ROTATE_OLDEST = "DeleteOldestNonDefaultVersionWhenLimitExceeded"


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    role_id: str
    trust_document: str
    max_session_duration: int
    description: str = ""

    @property
    def trust(self) -> dict:
        return json.loads(self.trust_document) if self.trust_document else {}


@dataclass(frozen=True)
class Policy:
    name: str
    type: str
    default_version: str | None
    document: str | None          # the default version's document
    description: str = ""
    attachment_count: int = 0

    @property
    def parsed(self) -> dict:
        return json.loads(self.document) if self.document else {}


@dataclass(frozen=True)
class PolicyVersion:
    version_id: str
    is_default: bool
    document: str | None = None
    create_date: str | None = None


@dataclass(frozen=True)
class AttachedPolicy:
    name: str
    type: str


@dataclass(frozen=True)
class User:
    name: str
    user_id: str
    display_name: str = ""
    comments: str = ""


@dataclass(frozen=True)
class AccessKeyInfo:
    access_key_id: str
    status: str
    create_date: str | None = None


@dataclass(frozen=True)
class NewAccessKey:
    """The one time the cloud returns a secret: it stays wrapped (repr shows "(sensitive)")."""
    access_key_id: str
    secret: Secret
    status: str = "Active"


def _doc(value) -> str | None:
    # RAM returns documents as JSON strings; some paths return them URL-encoded.
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    text = str(value)
    return unquote(text) if text.startswith("%7B") else text


def _as_text(document) -> str:
    return document if isinstance(document, str) else json.dumps(document, separators=(",", ":"))


def _attached(policies: list, name: str, policy_type: str) -> dict | None:
    """{} (the empty answer of AttachPolicyTo*) when the policy is among `policies`, else None."""
    found = any(p.name == name and p.type.lower() == policy_type.lower() for p in policies)
    return {} if found else None


def _role(raw: dict) -> Role:
    return Role(name=raw.get("RoleName", ""), arn=raw.get("Arn", ""), role_id=raw.get("RoleId", ""),
                trust_document=_doc(raw.get("AssumeRolePolicyDocument")) or "",
                max_session_duration=int(raw.get("MaxSessionDuration") or 3600),
                description=raw.get("Description") or "")


def _user(raw: dict) -> User:
    return User(name=raw.get("UserName", ""), user_id=raw.get("UserId", ""),
                display_name=raw.get("DisplayName") or "", comments=raw.get("Comments") or "")


class RamApi(CloudApi):
    PRODUCT = "ram"
    MODELS = "alibabacloud_ram20150501.models"

    # -- roles -----------------------------------------------------------------------------------
    def get_role(self, name: str) -> Role | None:
        body = self._read("GetRole", "get_role_with_options", self._m().GetRoleRequest(role_name=name))
        return None if body is None else _role(body.get("Role") or {})

    def create_role(self, name: str, trust_document, *, max_session_duration: int | None = None,
                    description: str | None = None, tags: dict[str, str] | None = None) -> Role:
        """`tags` go in the create call itself (CreateRoleRequest.tag), so the role never exists
        without them."""
        m = self._m()
        req = m.CreateRoleRequest(role_name=name, assume_role_policy_document=_as_text(trust_document),
                                  description=description, max_session_duration=max_session_duration,
                                  tag=[m.CreateRoleRequestTag(key=k, value=v) for k, v in sorted(tags.items())]
                                  if tags else None)
        get = self._m().GetRoleRequest(role_name=name)
        body = self._create("CreateRole", "create_role_with_options", req,
                            confirm=lambda: self._read("GetRole", "get_role_with_options", get))
        return _role(body.get("Role") or {})

    def update_role(self, name: str, *, trust_document=None, max_session_duration: int | None = None,
                    description: str | None = None) -> Role:
        req = self._m().UpdateRoleRequest(
            role_name=name, new_assume_role_policy_document=None if trust_document is None else _as_text(trust_document),
            new_max_session_duration=max_session_duration, new_description=description)
        # Setting a document or a duration to a given value is idempotent.
        return _role(self._call("UpdateRole", "update_role_with_options", req, idempotent=True).get("Role") or {})

    def delete_role(self, name: str, *, missing_ok: bool = False) -> bool:
        return self._delete("DeleteRole", "delete_role_with_options", self._m().DeleteRoleRequest(role_name=name),
                            missing_ok=missing_ok)

    def list_roles(self) -> list[Role]:
        """Every role of the account (ListRoles, paged by Marker; destroy reads the membership marks)."""
        return [_role(raw) for raw in self._pages("ListRoles", "list_roles_with_options", "ListRolesRequest",
                                                  "Roles", "Role")]

    def list_role_tags(self) -> dict[str, dict[str, str] | None]:
        """Role name -> its tags, for every role of the account, from ListRoles (paged): its Role
        model carries Tags (alibabacloud_ram20150501 ListRolesResponseBodyRolesRole.tags). None for
        a role listed without a Tags field at all [?]: the caller reads that one by name."""
        out: dict[str, dict[str, str] | None] = {}
        for raw in self._pages("ListRoles", "list_roles_with_options", "ListRolesRequest", "Roles", "Role"):
            if "Tags" not in raw:
                out[raw.get("RoleName", "")] = None
                continue
            out[raw.get("RoleName", "")] = {t.get("TagKey", ""): t.get("TagValue", "")
                                            for t in unwrap(raw.get("Tags"), "Tag")}
        return out

    def policy_role_names(self, name: str, policy_type: str = "Custom") -> set[str] | None:
        """The names of the roles `name` is attached to (ListEntitiesForPolicy), None when the
        policy does not exist."""
        body = self._read("ListEntitiesForPolicy", "list_entities_for_policy_with_options",
                          self._m().ListEntitiesForPolicyRequest(policy_name=name, policy_type=policy_type))
        if body is None:
            return None
        return {r.get("RoleName", "") for r in unwrap(body.get("Roles"), "Role")}

    def list_policies_for_role(self, role_name: str) -> list[AttachedPolicy]:
        body = self._call("ListPoliciesForRole", "list_policies_for_role_with_options",
                          self._m().ListPoliciesForRoleRequest(role_name=role_name), idempotent=True)
        return [AttachedPolicy(p.get("PolicyName", ""), p.get("PolicyType", ""))
                for p in unwrap(body.get("Policies"), "Policy")]

    def attach_policy_to_role(self, role_name: str, policy_name: str, policy_type: str = "Custom") -> None:
        self._create("AttachPolicyToRole", "attach_policy_to_role_with_options", self._m().AttachPolicyToRoleRequest(
            role_name=role_name, policy_name=policy_name, policy_type=policy_type),
            confirm=lambda: _attached(self.list_policies_for_role(role_name), policy_name, policy_type))

    def detach_policy_from_role(self, role_name: str, policy_name: str, policy_type: str = "Custom", *,
                                missing_ok: bool = False) -> bool:
        return self._delete("DetachPolicyFromRole", "detach_policy_from_role_with_options",
                            self._m().DetachPolicyFromRoleRequest(role_name=role_name, policy_name=policy_name,
                                                                  policy_type=policy_type), missing_ok=missing_ok)

    # -- policies --------------------------------------------------------------------------------
    def get_policy(self, name: str, policy_type: str = "Custom") -> Policy | None:
        body = self._read("GetPolicy", "get_policy_with_options",
                          self._m().GetPolicyRequest(policy_name=name, policy_type=policy_type))
        if body is None:
            return None
        raw, default = body.get("Policy") or {}, body.get("DefaultPolicyVersion") or {}
        return Policy(name=raw.get("PolicyName", name), type=raw.get("PolicyType", policy_type),
                      default_version=raw.get("DefaultVersion") or default.get("VersionId"),
                      document=_doc(default.get("PolicyDocument") or raw.get("PolicyDocument")),
                      description=raw.get("Description") or "",
                      attachment_count=int(raw.get("AttachmentCount") or 0))

    def create_policy(self, name: str, document, *, description: str | None = None,
                      tags: dict[str, str] | None = None) -> Policy:
        """`tags` go in the create call itself (CreatePolicyRequest.tag)."""
        text = _as_text(document)
        m = self._m()
        body = self._create("CreatePolicy", "create_policy_with_options", m.CreatePolicyRequest(
            policy_name=name, policy_document=text, description=description,
            tag=[m.CreatePolicyRequestTag(key=k, value=v) for k, v in sorted(tags.items())] if tags else None),
            confirm=lambda: self._read("GetPolicy", "get_policy_with_options",
                                       m.GetPolicyRequest(policy_name=name, policy_type="Custom")))
        raw = body.get("Policy") or {}
        return Policy(name=raw.get("PolicyName", name), type=raw.get("PolicyType", "Custom"),
                      default_version=raw.get("DefaultVersion") or "v1", document=text,
                      description=raw.get("Description") or description or "")

    def create_policy_version(self, name: str, document, *, set_as_default: bool = True,
                              rotate: bool = True) -> PolicyVersion:
        text = _as_text(document)
        body = self._call("CreatePolicyVersion", "create_policy_version_with_options",
                          self._m().CreatePolicyVersionRequest(
                              policy_name=name, policy_document=text, set_as_default=set_as_default,
                              rotate_strategy=ROTATE_OLDEST if rotate else "None"))
        raw = body.get("PolicyVersion") or {}
        return PolicyVersion(raw.get("VersionId", ""), bool(raw.get("IsDefaultVersion", set_as_default)),
                             _doc(raw.get("PolicyDocument")) or text, raw.get("CreateDate"))

    def list_policy_versions(self, name: str, policy_type: str = "Custom") -> list[PolicyVersion]:
        body = self._call("ListPolicyVersions", "list_policy_versions_with_options",
                          self._m().ListPolicyVersionsRequest(policy_name=name, policy_type=policy_type),
                          idempotent=True)
        return [PolicyVersion(v.get("VersionId", ""), bool(v.get("IsDefaultVersion")), _doc(v.get("PolicyDocument")),
                              v.get("CreateDate")) for v in unwrap(body.get("PolicyVersions"), "PolicyVersion")]

    def delete_policy_version(self, name: str, version_id: str, *, missing_ok: bool = False) -> bool:
        return self._delete("DeletePolicyVersion", "delete_policy_version_with_options",
                            self._m().DeletePolicyVersionRequest(policy_name=name, version_id=version_id),
                            missing_ok=missing_ok)

    def delete_policy(self, name: str, *, missing_ok: bool = False) -> bool:
        """Delete a custom policy; its non-default versions go first (RAM refuses otherwise)."""
        try:
            versions = self.list_policy_versions(name)
        except Exception as exc:
            if missing_ok and errors.is_not_found(exc):
                return False
            raise
        for version in versions:
            if not version.is_default:
                self.delete_policy_version(name, version.version_id, missing_ok=True)
        return self._delete("DeletePolicy", "delete_policy_with_options",
                            self._m().DeletePolicyRequest(policy_name=name), missing_ok=missing_ok)

    # -- users and AccessKeys --------------------------------------------------------------------
    def get_user(self, name: str) -> User | None:
        body = self._read("GetUser", "get_user_with_options", self._m().GetUserRequest(user_name=name))
        return None if body is None else _user(body.get("User") or {})

    def create_user(self, name: str, *, display_name: str | None = None, comments: str | None = None) -> User:
        body = self._create("CreateUser", "create_user_with_options", self._m().CreateUserRequest(
            user_name=name, display_name=display_name, comments=comments),
            confirm=lambda: self._read("GetUser", "get_user_with_options", self._m().GetUserRequest(user_name=name)))
        return _user(body.get("User") or {})

    def update_user(self, name: str, *, comments: str) -> User:
        """UpdateUser NewComments (1 to 128 characters, the SDK model): setting a value is idempotent."""
        body = self._call("UpdateUser", "update_user_with_options",
                          self._m().UpdateUserRequest(user_name=name, new_comments=comments), idempotent=True)
        return _user(body.get("User") or {})

    def list_users(self) -> list[User]:
        """Every RAM user of the account (ListUsers, paged by Marker)."""
        return [_user(raw) for raw in self._pages("ListUsers", "list_users_with_options", "ListUsersRequest",
                                                  "Users", "User")]

    def _pages(self, action: str, method: str, request: str, outer: str, inner: str) -> list[dict]:
        items: list[dict] = []
        marker = None
        for _ in range(1000):   # 1000 pages of 1000: beyond any account's quota
            body = self._call(action, method, getattr(self._m(), request)(marker=marker, max_items=1000),
                              idempotent=True)
            items += unwrap(body.get(outer), inner)
            marker = body.get("Marker")
            if not body.get("IsTruncated") or not marker:
                break
        return items

    def delete_user(self, name: str, *, missing_ok: bool = False) -> bool:
        return self._delete("DeleteUser", "delete_user_with_options", self._m().DeleteUserRequest(user_name=name),
                            missing_ok=missing_ok)

    def create_access_key(self, user_name: str) -> NewAccessKey:
        body = self._call("CreateAccessKey", "create_access_key_with_options",
                          self._m().CreateAccessKeyRequest(user_name=user_name))
        raw = body.get("AccessKey") or {}
        return NewAccessKey(raw.get("AccessKeyId", ""), Secret(raw.get("AccessKeySecret")), raw.get("Status") or "Active")

    def list_access_keys(self, user_name: str) -> list[AccessKeyInfo]:
        body = self._call("ListAccessKeys", "list_access_keys_with_options",
                          self._m().ListAccessKeysRequest(user_name=user_name), idempotent=True)
        return [AccessKeyInfo(k.get("AccessKeyId", ""), k.get("Status", ""), k.get("CreateDate"))
                for k in unwrap(body.get("AccessKeys"), "AccessKey")]

    def delete_access_key(self, user_name: str, access_key_id: str, *, missing_ok: bool = False) -> bool:
        return self._delete("DeleteAccessKey", "delete_access_key_with_options",
                            self._m().DeleteAccessKeyRequest(user_name=user_name, user_access_key_id=access_key_id),
                            missing_ok=missing_ok)

    def attach_policy_to_user(self, user_name: str, policy_name: str, policy_type: str = "Custom") -> None:
        self._create("AttachPolicyToUser", "attach_policy_to_user_with_options", self._m().AttachPolicyToUserRequest(
            user_name=user_name, policy_name=policy_name, policy_type=policy_type),
            confirm=lambda: _attached(self.list_policies_for_user(user_name), policy_name, policy_type))

    def detach_policy_from_user(self, user_name: str, policy_name: str, policy_type: str = "Custom", *,
                                missing_ok: bool = False) -> bool:
        return self._delete("DetachPolicyFromUser", "detach_policy_from_user_with_options",
                            self._m().DetachPolicyFromUserRequest(user_name=user_name, policy_name=policy_name,
                                                                  policy_type=policy_type), missing_ok=missing_ok)

    def list_policies_for_user(self, user_name: str) -> list[AttachedPolicy]:
        body = self._call("ListPoliciesForUser", "list_policies_for_user_with_options",
                          self._m().ListPoliciesForUserRequest(user_name=user_name), idempotent=True)
        return [AttachedPolicy(p.get("PolicyName", ""), p.get("PolicyType", ""))
                for p in unwrap(body.get("Policies"), "Policy")]

    # -- tags (ownership marks: written by create_role / create_policy only, never added later) --------
    def list_tags(self, resource_type: str, name: str) -> dict[str, str]:
        body = self._call("ListTagResources", "list_tag_resources_with_options", self._m().ListTagResourcesRequest(
            resource_type=resource_type, resource_names=[name]), idempotent=True)
        out = {}
        for item in unwrap(body.get("TagResources"), "TagResource"):
            if item.get("ResourceName") in (None, name):
                out[item.get("TagKey", "")] = item.get("TagValue", "")
        return out
