"""RAM resources (roles, policies, users, OIDC providers), name rules and the system policies.

Everything the cloud's behaviour is unsure about is marked [?] here, in one place, so a live
check can correct it quickly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from acrx.sandbox.core.errors import ApiError, invalid_parameter
from acrx.sandbox.core.policy import PolicyError, validate_document

ROLE_NAME = re.compile(r"^[A-Za-z0-9.\-]{1,64}$")
POLICY_NAME = re.compile(r"^[A-Za-z0-9\-]{1,128}$")
USER_NAME = re.compile(r"^[A-Za-z0-9._@\-]{1,64}$")
MIN_SESSION_S, MAX_SESSION_S, DEFAULT_SESSION_S = 3600, 43200, 3600
MAX_POLICY_VERSIONS = 5
MAX_ACCESS_KEYS_PER_USER = 2
MAX_TAGS_PER_RESOURCE = 20
ROTATE_OLDEST = "DeleteOldestNonDefaultVersionWhenLimitExceeded"
SYSTEM, CUSTOM = "System", "Custom"

# The system policies every account sees; they cannot be changed or deleted.
SYSTEM_POLICIES: dict[str, tuple[str, dict]] = {
    "AliyunSTSAssumeRoleAccess": (
        "Permission to call the AssumeRole operation of STS.",
        {"Version": "1", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Resource": "*"}]},
    ),
    "AliyunContainerRegistryFullAccess": (
        "Full access to Container Registry.",
        {"Version": "1", "Statement": [{"Action": "cr:*", "Effect": "Allow", "Resource": "*"}]},
    ),
    # The system policy of the service role AliyunCSManagedAcrRole (official page
    # ram/developer-reference/aliyuncsmanagedacrrolepolicy, v1 of 2024-10-18).
    "AliyunCSManagedAcrRolePolicy": (
        "Policy of the service role the ACK credential helper (secret-free pulls) assumes.",
        {"Version": "1", "Statement": [{"Action": ["cr:GetAuthorizationToken", "cr:ListInstanceEndpoint",
                                                   "cr:PullRepository"], "Resource": ["*"], "Effect": "Allow"}]},
    ),
    "AliyunContainerRegistryReadOnlyAccess": (
        "Read-only access to Container Registry.",
        {"Version": "1", "Statement": [{"Action": ["cr:Get*", "cr:List*", "cr:PullRepository"],
                                         "Effect": "Allow", "Resource": "*"}]},
    ),
}


@dataclass
class PolicyVersion:
    version_id: str
    document: str
    created_at: float


@dataclass
class Policy:
    name: str
    policy_type: str
    description: str
    created_at: float
    updated_at: float
    versions: dict[str, PolicyVersion] = field(default_factory=dict)
    default_version: str = "v1"
    next_version: int = 1
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def default_document(self) -> str:
        return self.versions[self.default_version].document


@dataclass
class Attachment:
    policy_type: str
    policy_name: str
    attached_at: float


@dataclass
class Role:
    name: str
    role_id: str
    account: str
    trust_document: str
    description: str
    max_session_duration: int
    created_at: float
    updated_at: float
    tags: dict[str, str] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def arn(self) -> str:
        # [?] Whether real RAM lower-cases the role name inside the ARN is unconfirmed; the
        # sandbox keeps the name as given, and STS matches ARNs exactly (the stricter choice).
        return f"acs:ram::{self.account}:role/{self.name}"


@dataclass
class User:
    name: str
    user_id: str
    account: str
    display_name: str
    comments: str
    email: str
    mobile_phone: str
    created_at: float
    updated_at: float
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return f"acs:ram::{self.account}:user/{self.name}"


@dataclass
class OidcProvider:
    name: str
    account: str
    issuer_url: str
    client_ids: list[str]
    description: str
    created_at: float

    @property
    def arn(self) -> str:
        return f"acs:ram::{self.account}:oidc-provider/{self.name}"


# -- validation ---------------------------------------------------------------------------
def check_name(kind: str, value: str, pattern: re.Pattern, rule: str) -> str:
    if not pattern.fullmatch(value or ""):
        raise invalid_parameter(f"{kind}Name", f"It must be {rule}.")
    return value


def check_role_name(value: str) -> str:
    return check_name("Role", value, ROLE_NAME, "1 to 64 letters, digits, '.' or '-'")


def check_policy_name(value: str) -> str:
    return check_name("Policy", value, POLICY_NAME, "1 to 128 letters, digits or '-'")


# Text limits from the RAM 2015-05-01 SDK models (alibabacloud_ram20150501): CreateRole/UpdateRole
# Description "1 to 1024 characters"; CreateUser Comments / UpdateUser NewComments "1 to 128".
MAX_ROLE_DESCRIPTION, MAX_USER_COMMENTS = 1024, 128


def check_text(param: str, value: str | None, limit: int) -> str | None:
    if value is not None and len(value) > limit:
        raise invalid_parameter(param, f"It must be at most {limit} characters.")
    return value


def check_user_name(value: str) -> str:
    return check_name("User", value, USER_NAME, "1 to 64 letters, digits, '.', '_', '@' or '-'")


def check_document(document: str, *, trust: bool) -> str:
    try:
        validate_document(document, trust=trust)
    except PolicyError as exc:
        raise ApiError("MalformedPolicyDocument", f"The policy document is malformed: {exc}", 400) from None
    return document


def check_session_duration(value: int | None, param: str = "MaxSessionDuration") -> int:
    if value is None:
        return DEFAULT_SESSION_S
    if not MIN_SESSION_S <= value <= MAX_SESSION_S:
        raise ApiError(f"InvalidParameter.{param.removeprefix('New')}",
                       f"The parameter {param} must be between {MIN_SESSION_S} and {MAX_SESSION_S}.", 400)
    return value


def check_policy_type(value: str | None, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if value not in (SYSTEM, CUSTOM):
        raise invalid_parameter("PolicyType", "It must be System or Custom.")
    return value


def parse_tags(raw: str | None) -> dict[str, str]:
    """`Tag` arrives JSON-encoded ([{"Key": k, "Value": v}]) from the SDK's shrink requests."""
    if not raw:
        return {}
    try:
        items = json.loads(raw)
    except ValueError:
        raise invalid_parameter("Tag", "It is not valid JSON.") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("Key") for i in items):
        raise invalid_parameter("Tag", "Each tag needs a Key.")
    if len(items) > MAX_TAGS_PER_RESOURCE:
        raise ApiError("InvalidParameter.Tag", f"At most {MAX_TAGS_PER_RESOURCE} tags are allowed.", 400)
    return {str(i["Key"]): str(i.get("Value", "")) for i in items}


# -- errors that name an entity -------------------------------------------------------------
def not_found(kind: str, name: str) -> ApiError:
    return ApiError(f"EntityNotExist.{kind}", f"The {kind.lower()} does not exist: {name}.", 404)


def already_exists(kind: str, name: str) -> ApiError:
    return ApiError(f"EntityAlreadyExists.{kind}", f"The {kind.lower()} already exists: {name}.", 409)


def conflict(code: str, message: str) -> ApiError:
    # [?] The DeleteConflict.* sub-codes follow the Terraform provider's handling; status 409.
    return ApiError(code, message, 409)
