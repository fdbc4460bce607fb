"""Every Alibaba Cloud fact acrx relies on, in one place.

Pure constants and tiny pure functions only. A fact marked `# [?]` is not confirmed by an
official source (see the reference notes); correct it here and everything follows.
"""

from __future__ import annotations

import re

# --- the component -------------------------------------------------------------------------
SELF_MANAGED_ADDON = "aliyun-acr-credential-helper"
MANAGED_ADDON = "managed-aliyun-acr-credential-helper"  # [?] name seen in third-party installs only
HELPER_NAMESPACE = "kube-system"
HELPER_SERVICE_ACCOUNT = "aliyun-acr-credential-helper"
CONFIGMAP_NAMESPACE = "kube-system"
CONFIGMAP_NAME = "acr-configuration"
# The helper names its Secrets acr-credential-<hash> or acr-credential-secret-aggregation.
HELPER_SECRET_PREFIX = "acr-credential-"  # [?] naming changed between versions; match the prefix

# ConfigMap keys the self-managed component reads (kube-system/acr-configuration).
CM_SERVICE_ACCOUNT = "service-account"
CM_WATCH_NAMESPACE = "watch-namespace"
CM_EXPIRING_THRESHOLD = "expiring-threshold"
CM_NOTIFY_EMAIL = "notify-email"
CM_REGISTRY_INFO = "acr-registry-info"
CM_RRSA = "rrsa"

# Keys of one acr-registry-info entry; the managed AcrInstanceInfo entries use the same names.
RI_INSTANCE_ID = "instanceId"
RI_REGION_ID = "regionId"
RI_DOMAINS = "domains"
RI_ASSUME_ROLE_ARN = "assumeRoleARN"
RI_EXPIRE_DURATION = "expireDuration"
RI_RRSA_ROLE_ARN = "rrsaRoleARN"
RI_RRSA_PROVIDER_ARN = "rrsaOIDCProviderRoleARN"
RI_ACCESS_KEY_ID = "customAccessKey"
RI_ACCESS_KEY_SECRET = "customAccessKeySecret"

# Managed addon config: a JSON string with these keys.
MA_INSTANCE_INFO = "AcrInstanceInfo"  # [?] JSON spelling from third-party installs, not an API doc
MA_ENABLE_RRSA = "enableRRSA"  # [?] same source; a boolean
MA_WATCH_NAMESPACE = "watchNamespace"  # [?] same source
MA_SERVICE_ACCOUNT = "serviceAccount"  # [?] same source
MA_EXPIRING_THRESHOLD = "expiringThreshold"  # [?] same source
MA_NOTIFY_EMAIL = "notifyEmail"  # [?] console label only
# expireDuration is written as an integer in the managed config as in the ConfigMap.
MA_EXPIRE_DURATION_IS_INT = True  # [?] its type in config_schema is unknown

# Self-managed addon install parameter.
SM_TOKEN_MODE_KEY = "tokenMode"  # [?] documented parameter; JSON spelling not seen in an API call
TOKEN_MODES = ("auto", "managedRole", "workerRole")
TOKEN_MODE_FOR_MODE = {"rrsa": "auto", "access-key": "auto", "worker-role": "workerRole"}

# --- modes, flavours and where they run -------------------------------------------------------
MODES = ("rrsa", "worker-role", "access-key")
FLAVOURS = ("managed", "self-managed")
NETWORK_MODES = ("public", "peering", "cen", "none")
# The managed edition supports RRSA only for cross-account pulls.
FLAVOURS_FOR_MODE = {"rrsa": ("managed", "self-managed"), "worker-role": ("self-managed",),
                     "access-key": ("self-managed",)}
DEFAULT_FLAVOUR_FOR_MODE = {"rrsa": "managed", "worker-role": "self-managed",
                            "access-key": "self-managed"}
# The component accepts `*` for every SA and `all` for every namespace.
ALL_SERVICE_ACCOUNTS = "*"
ALL_NAMESPACES = "all"

# Cluster kinds, from DescribeClusterDetail's cluster_type, profile and cluster_spec.
# Pro tiers: the CS SDK doc of cluster_spec lists ack.pro.small, ack.pro.xlarge, ack.pro.2xlarge and
# ack.pro.4xlarge (real-cloud-audit #13); until issue 13 only ack.pro.small counted as Pro, so Pro
# XL-class clusters were classified Basic and refused the managed addon.
PRO_SPECS = ("ack.pro.small", "ack.pro.xlarge", "ack.pro.2xlarge", "ack.pro.4xlarge")
PRO_SPEC = PRO_SPECS[0]   # what the sandbox and the docs seed by default


def cluster_kind(cluster_type: str, profile: str | None, cluster_spec: str | None) -> str:
    """basic | pro | dedicated | edge | serverless-basic | serverless-pro."""
    ctype = (cluster_type or "").lower()
    prof = (profile or "").lower()
    pro = (cluster_spec or "") in PRO_SPECS
    if ctype == "kubernetes":
        return "dedicated"
    if ctype == "ask" or prof == "serverless":  # [?] older Serverless clusters report type Ask
        return "serverless-pro" if pro else "serverless-basic"
    if prof == "edge":
        return "edge"
    return "pro" if pro else "basic"


# Support matrix (issue 5, "Preflight", from the component docs): kinds and minimum version.
MODE_SUPPORT = {
    "rrsa": (("basic", "pro", "edge", "serverless-pro"), (1, 22)),
    "worker-role": (("basic", "pro", "dedicated"), (1, 20)),
    "access-key": (("basic", "pro", "dedicated"), (1, 20)),
}
# The managed edition's table changed: older EN/ID pages (and a third-party Terraform comment)
# say Pro, Serverless and Edge only; the current official ZH doc (updated 2026-02-23) says
# "1.22及以上版本的ACK托管集群、ACK Serverless集群、ACK Edge集群", and ACK managed clusters are
# Basic and Pro alike, so Basic clusters of 1.22+ are listed too since that revision
# (real-cloud-audit #13). acrx follows the current doc.
FLAVOUR_SUPPORT = {
    "managed": (("basic", "pro", "serverless-basic", "serverless-pro", "edge"), (1, 22)),
    "self-managed": (("basic", "pro", "dedicated"), (1, 20)),
}


def version_tuple(version: str) -> tuple[int, int]:
    """'1.22.15-aliyun.1' -> (1, 22). Unparseable versions sort lowest."""
    match = re.match(r"v?(\d+)\.(\d+)", version or "")
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def is_supported(entry: tuple[tuple[str, ...], tuple[int, int]], kind: str, version: str) -> bool:
    kinds, minimum = entry
    return kind in kinds and version_tuple(version) >= minimum


# --- RRSA ---------------------------------------------------------------------------------------
OIDC_AUDIENCE = "sts.aliyuncs.com"
ISSUER_PATTERN = "https://oidc-ack-{region}.oss-{region}.aliyuncs.com/{cluster_id}"  # [?] likely


def issuer_url(region: str, cluster_id: str) -> str:
    return ISSUER_PATTERN.format(region=region, cluster_id=cluster_id)


def first_issuer(issuer_field: str) -> str:
    """rrsa_config.issuer is comma-separated; the first value is the token issuer."""
    return (issuer_field or "").split(",")[0].strip()


def oidc_provider_name(cluster_id: str) -> str:
    return f"ack-rrsa-{cluster_id}"


def oidc_subject(namespace: str, service_account: str) -> str:
    return f"system:serviceaccount:{namespace}:{service_account}"


HELPER_OIDC_SUBJECT = oidc_subject(HELPER_NAMESPACE, HELPER_SERVICE_ACCOUNT)

# --- ARNs ---------------------------------------------------------------------------------------


def role_arn(uid: str, role_name: str) -> str:
    return f"acs:ram::{uid}:role/{role_name}"


def role_policy_resource(uid: str, role_name: str) -> str:
    """A role as the Resource of a permission policy (sts:AssumeRole on it)."""
    return f"acs:ram:*:{uid}:role/{role_name}"


def oidc_provider_arn(uid: str, cluster_id: str) -> str:
    return f"acs:ram::{uid}:oidc-provider/{oidc_provider_name(cluster_id)}"


def cr_instance_arn(region: str, uid: str, instance_id: str) -> str:
    return f"acs:cr:{region}:{uid}:instance/{instance_id}"


def cr_repository_arn(region: str, uid: str, instance_id: str, repo: str = "*") -> str:
    """repo is `*`, `<namespace>/*` or `<namespace>/<repo>`."""
    return f"acs:cr:{region}:{uid}:repository/{instance_id}/{repo}"


ROLE_ARN_RE = re.compile(r"^acs:ram::(?P<uid>\d+):role/(?P<name>[A-Za-z0-9.\-]{1,64})$")
OIDC_PROVIDER_ARN_RE = re.compile(r"^acs:ram::(?P<uid>\d+):oidc-provider/(?P<name>[A-Za-z0-9.\-]{1,128})$")


def role_name_from_arn(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def uid_from_arn(arn: str) -> str:
    return arn.split(":")[3]


# --- registry domains ---------------------------------------------------------------------------


def registry_domain(instance_name: str, region: str) -> str:
    return f"{instance_name}-registry.{region}.cr.aliyuncs.com"


def registry_vpc_domain(instance_name: str, region: str) -> str:
    return f"{instance_name}-registry-vpc.{region}.cr.aliyuncs.com"


def default_domains(instance_name: str, region: str) -> list[str]:
    """All system domains of an instance: internet and VPC."""
    return [registry_domain(instance_name, region), registry_vpc_domain(instance_name, region)]


# --- RAM ----------------------------------------------------------------------------------------
PULL_ACTIONS = ("cr:GetAuthorizationToken", "cr:ListInstanceEndpoint", "cr:PullRepository")
ASSUME_ROLE_ACTION = "sts:AssumeRole"
SYSTEM_ASSUME_POLICY = "AliyunSTSAssumeRoleAccess"
POLICY_VERSION = "1"
MAX_SESSION_MIN = 3600
MAX_SESSION_MAX = 43200
DEFAULT_EXPIRE_DURATION = 3600
ROLE_NAME_RE = re.compile(r"^[A-Za-z0-9.\-]{1,64}$")
POLICY_NAME_RE = re.compile(r"^[A-Za-z0-9\-]{1,128}$")
POLICY_DOCUMENT_MAX_BYTES = 6144
# RAM: a user holds at most two AccessKeys (RAM quotas: "AccessKey pairs per RAM user: 2").
RAM_ACCESS_KEYS_PER_USER = 2

# --- id formats ---------------------------------------------------------------------------------
CLUSTER_ID_RE = re.compile(r"^c[0-9a-f]{32}$")
INSTANCE_ID_RE = re.compile(r"^cri-[a-z0-9]{16}$")  # [?] every id seen has 16 characters
UID_RE = re.compile(r"^\d{16}$")  # [?] every account id seen has 16 digits
REGION_RE = re.compile(r"^[a-z]{2}-[a-z]+(?:-[a-z0-9]+)*$")
VPC_ID_RE = re.compile(r"^vpc-[a-z0-9]{8,32}$")
VSWITCH_ID_RE = re.compile(r"^vsw-[a-z0-9]{8,32}$")
CEN_ID_RE = re.compile(r"^cen-[a-z0-9]{8,32}$")

# --- ownership marks (acrx.steps.ownership says which resource carries which, and how) ----------
# What acrx creates carries the tag where the API takes tags at creation; otherwise a prefix of
# its name or description (network), of its Description or Comments (RAM), a label (Kubernetes),
# or a record in the cluster's acrx-ownership ConfigMap (the addon, an endpoint acrx switched on).
MARK_TAG_KEY = "acrx:managed"
MARK_TAG_VALUE = "true"
MARK_PREFIX = "acrx-"              # names and descriptions of network things (VPC, CEN, PrivateZone, CR ACL)
MARK_TEXT_PREFIX = "acrx:"         # RAM Description (roles, policies) and Comments (users)
# The membership mark (acrx.steps.identity.membership) rides in these texts. Limits from the RAM
# 2015-05-01 SDK models (alibabacloud_ram20150501): CreateRoleRequest/UpdateRoleRequest
# Description "1 to 1024 characters"; CreateUserRequest Comments / UpdateUserRequest NewComments
# "1 to 128 characters". RAM users take no tags (TagResources ResourceType: role, policy).
RAM_ROLE_DESCRIPTION_MAX = 1024
RAM_USER_COMMENTS_MAX = 128

# --- network (issue 6) ----------------------------------------------------------------------------
# Linked VPCs per ACR EE edition. [?] not confirmed by an API doc (one third party saw 1 for the
# economy/basic edition); the preflight refuses a new link beyond this.
VPC_LINK_LIMITS = {"Enterprise_Basic": 1, "Enterprise_Standard": 3, "Enterprise_Advanced": 7}  # [?]
# The cloud keeps 100.64.0.0/10 for its services: CreateRouteEntry refuses destinations inside it,
# and the auth/OSS names resolve into 100.0.0.0/8, so a cluster network in 100.x conflicts (FAQ).
CLOUD_SERVICE_BLOCK = "100.64.0.0/10"
HUNDRED_BLOCK = "100.0.0.0/8"
HUNDRED_REMEDIES = ("ask support for \"Instance Takeover of Authentication Domain Name\" (allow-listed), "
                    "and reach OSS through OSS PrivateLink plus a CNAME; or use network mode public")
PEERING_ACTIVE = "Activated"
PEERING_PENDING = ("Creating", "Accepting", "Updating")
CEN_GRANT_ORDER_TYPE = "PayByCenOwner"
CEN_ATTACHED = "Attached"
MAX_ZONE_MAPPINGS = 10
VPC_LINK_RUNNING = "RUNNING"
# Enabling the internet endpoint adds this ACL entry itself (terraform-provider-alicloud
# resource_alicloud_cr_internet_endpoint.go skips it as "default"): nobody's client, not acrx's.
CR_DEFAULT_ACL_ENTRY = ("127.0.0.1/32", "default")
PVTZ_PROXY_PATTERN = "ZONE"   # unknown names in the zone are NXDOMAIN, not recursed
PVTZ_RECORD_TTL = 60

# --- a fleet (issue 16): limits one registry meets with many clusters -------------------------------
# (limit, source). [?]: no published figure found; the stricter reading is assumed.
FLEET_LIMITS = {
    "ram roles per account": (1000, "RAM quotas: RAM roles that can be created within an Alibaba Cloud account"),
    "ACL entries per internet endpoint": (100, "[?] no published figure for ACR EE endpoint ACL entries; 100 assumed"),
    "VPCs bound per PrivateZone zone": (
        100, "[?] PrivateZone limits publish no figure acrx could confirm; 100 assumed"),
    "VPC attachments per transit router": (
        100, "[?] CEN limits publish no figure acrx could confirm; 100 assumed (every cen cluster of a registry "
             "account attaches its VPC to the hub's one transit router in the region)"),
    # The registry's linked VPCs: VPC_LINK_LIMITS above, per edition.
}

# --- identity steps: scopes, session limits --------------------------------------------------------
# Pull policy scope. `instance`: GetAuthorizationToken on "*" (it is checked against all
# resources), ListInstanceEndpoint on the instance ARN, PullRepository on the instance's
# repositories. `any`: every action on "*", as the documentation writes it.
PULL_POLICY_SCOPES = ("instance", "any")
DEFAULT_PULL_POLICY_SCOPE = "instance"
ALL_RESOURCE_PULL_ACTIONS = ("cr:GetAuthorizationToken",)  # [?] the scoped form is not confirmed
INSTANCE_PULL_ACTIONS = ("cr:ListInstanceEndpoint",)         # [?] against the real cloud; the
REPOSITORY_PULL_ACTIONS = ("cr:PullRepository",)             # [?] documented form is Resource "*"
ASSUME_POLICY_KINDS = ("custom", "system")
# A session assumed by another role session (RRSA role -> registry role, or worker role ->
# registry role) may be capped at one hour whatever MaxSessionDuration says.
CHAINED_SESSION_MAX = 3600  # [?] Alibaba's chained-session cap is not documented; AWS caps at 1 h
# Enabling RRSA: ModifyCluster answers with a task; DescribeTaskInfo states.
# Confirmed (issue 13): the SDK doc gives running/fail/success; ack-ram-tool ends on fail, timeout
# and canceled too (pkg/types/cluster.go:40-45,91); TF's addon wait fails on "failed".
TASK_DONE_STATES = ("success", "fail", "failed", "timeout", "canceled")

# --- the helper's pod and the RRSA order trap (issue 7) ------------------------------------------
# Labels of the self-managed helper's pods (Deployment aliyun-acr-credential-helper in kube-system).
HELPER_POD_SELECTOR = "app=aliyun-acr-credential-helper"  # [?] from the legacy manifest's labels
# What ACK's pod-identity webhook adds to a pod created while RRSA is on: a projected token
# volume for the STS audience, mounted here, and the env var naming the token file.
RRSA_TOKEN_DIR = "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens"  # [?] path from the helper's error text
RRSA_TOKEN_FILE_ENV = "ALIBABA_CLOUD_OIDC_TOKEN_FILE"  # the credentials chain's documented variable
# Log text of a helper pod that started before RRSA was enabled and so has no token file.
HELPER_NO_TOKEN_LOG_MARKERS = ("rrsa-tokens/token: no such file", "OIDCTokenFileNotFound")  # [?]
# CS addon instance states.
ADDON_ACTIVE = "active"
ADDON_BUSY_STATES = ("installing", "updating", "upgrading", "deleting")
ADDON_FAILED = "failed"

# --- the addon's service role (issue 13 item 1) -----------------------------------------------------
# D-P (ack/product-overview/product-changes-revoke-the-permissions-on-which-aliyun-acr-credential-
# helper-relies): aliyun-acr-credential-helper "cannot install or update" in ACK managed clusters
# (Basic and Pro) created no earlier than April 3, 2023 unless the account assigned the role
# AliyunCSManagedAcrRole to ACK; the console shows "Failed to pass the precheck.". D-S and D-X list
# the same authorization as a prerequisite of the managed edition. Confirmed: the role name, its
# trust (Service cs.aliyuncs.com) and its system policy, from the official "Use Terraform to
# activate ACK and assign service roles" page (ack/ack-managed-and-ack-dedicated/developer-reference/
# use-terraform-to-assign-default-roles-to-ack-when-you-use-ack-for-the-first-time, Appendix,
# optional roles) and the policy's own page (ram/developer-reference/aliyuncsmanagedacrrolepolicy:
# cr:GetAuthorizationToken, cr:ListInstanceEndpoint, cr:PullRepository on *); ack-ram-tool
# pkg/ctl/scanaddon maps aliyun-acr-credential-helper to this role and policy as well.
ACR_SERVICE_ROLE = "AliyunCSManagedAcrRole"
ACR_SERVICE_ROLE_POLICY = "AliyunCSManagedAcrRolePolicy"
ACR_SERVICE_ROLE_POLICY_TYPE = "System"
ACR_SERVICE_ROLE_PRINCIPAL = "cs.aliyuncs.com"
ACR_SERVICE_ROLE_DESCRIPTION = ("The Secret-free image pulling component of ACK clusters assumes this role "
                                "to pull images from Container Registry.")   # the page's own wording
# The cut-off day. [?] The notice names a day, not a time zone: acrx takes the day's start in
# Beijing time (UTC+8), the earlier instant, so every cluster the notice may cover needs the role.
ACR_SERVICE_ROLE_CUTOFF = "2023-04-02T16:00:00Z"
ACR_SERVICE_ROLE_CUTOFF_DAY = "2023-04-03"
# [?] The API error of the precheck: CS answers ErrManagedAddonRoleNotAttach (HTTP 400, "please
# complete the cluster addon's service ramrole authorization at https://ram.console...") when an
# addon's service role is missing at CreateCluster (seen in cloud-barista/cb-spider#1407); that
# InstallClusterAddons answers the same is likely, not seen.
ACR_SERVICE_ROLE_MISSING_CODE = "ErrManagedAddonRoleNotAttach"


def acr_service_role_trust() -> dict:
    """The trust document of the one-click authorization (the same page, "Authorization code")."""
    return {"Statement": [{"Action": ASSUME_ROLE_ACTION, "Effect": "Allow",
                           "Principal": {"Service": [ACR_SERVICE_ROLE_PRINCIPAL]}}], "Version": POLICY_VERSION}
