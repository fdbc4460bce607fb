"""CS's precheck of the credential helper addon: the service role AliyunCSManagedAcrRole.

Sources (issue 13 item 1):
- Official product-change notice (ack/product-overview/product-changes-revoke-the-permissions-on-
  which-aliyun-acr-credential-helper-relies): without AliyunCSManagedAcrRole assigned to ACK, "you
  cannot install or update the aliyun-acr-credential-helper component in ACK managed clusters that
  are created no earlier than April 3, 2023"; the console shows "Failed to pass the precheck.".
  Clusters created before keep working without it.
- The role as ACK's one-click authorization makes it: trusts Service cs.aliyuncs.com, system
  policy AliyunCSManagedAcrRolePolicy (official "Use Terraform to activate ACK and assign service
  roles", Appendix, optional roles).
- The wire error: CS answers `ErrManagedAddonRoleNotAttach` (HTTP 400, "please complete the
  cluster addon's service ramrole authorization at https://ram.console.aliyun.com/role/authorize
  ?request=...") for a missing addon service role at CreateCluster (cloud-barista/cb-spider#1407).
  [?] That InstallClusterAddons/ModifyClusterAddon answer the same, synchronously, is assumed;
  the sandbox's message starts with the console's documented words.

Stricter readings, each [?]: the notice names a day without a time zone, so the cut-off is that
day's start in Beijing time (the earlier instant); the check covers both editions of the helper
on every ManagedKubernetes cluster (Basic, Pro, Serverless, Edge), and wants the role readable
(RAM's eventual consistency applies), trusting cs.aliyuncs.com AND holding its system policy,
where the console's check item only says "RamRole_Exist".
"""

from __future__ import annotations

import json
from urllib.parse import quote

from acrx.sandbox.core.clock import parse_iso
from acrx.sandbox.core.errors import ApiError
from acrx.sandbox.core.policy import ALLOW, Caller, trust_admits
from acrx.sandbox.services.cs import addons as catalog

ROLE = "AliyunCSManagedAcrRole"
POLICY = "AliyunCSManagedAcrRolePolicy"
PRINCIPAL = "cs.aliyuncs.com"
CUTOFF = parse_iso("2023-04-02T16:00:00Z")   # 2023-04-03 00:00 in UTC+8
HELPERS = (catalog.MANAGED_ACR_HELPER, catalog.SELF_MANAGED_ACR_HELPER)
ROLE_NOT_ATTACHED = "ErrManagedAddonRoleNotAttach"
DESCRIPTION = ("The Secret-free image pulling component of ACK clusters assumes this role to pull images "
               "from Container Registry.")
# The console link CS puts in the message (the shape of the one in cb-spider#1407).
AUTHORIZE_URL = "https://ram.console.aliyun.com/role/authorize?request=" + quote(json.dumps(
    {"ReturnUrl": "https://cs.console.aliyun.com/",
     "Services": [{"Roles": [{"RoleName": ROLE, "TemplateId": ROLE}], "Service": "CS"}]},
    separators=(",", ":")), safe="")


def trust_document() -> dict:
    return {"Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": [PRINCIPAL]}}],
            "Version": "1"}


def needs_role(cluster) -> bool:
    return cluster.cluster_type == "ManagedKubernetes" and cluster.created >= CUTOFF


def role_ready(world, account: str) -> bool:
    """The role as CS reads it: visible, trusting the CS service, its system policy attached."""
    ram = world.backend("ram", account, "global")
    role = ram.get_role_for_sts(ROLE)
    if role is None:
        return False
    trusted = trust_admits(role.trust_document, Caller(kind="service", service=PRINCIPAL)) == ALLOW
    attached = any(a.policy_type == "System" and a.policy_name == POLICY for a in role.attachments)
    return trusted and attached


def check(cluster, name: str) -> None:
    """Raise the precheck's refusal when `name` may not be installed or updated on `cluster`."""
    if name not in HELPERS or not needs_role(cluster) or role_ready(cluster.world, cluster.account):
        return
    raise ApiError(ROLE_NOT_ATTACHED,
                   f"Failed to pass the precheck. code: 400, please complete the cluster addon's service ramrole "
                   f"authorization at {AUTHORIZE_URL} (addon {name} needs {ROLE} in clusters created on or "
                   "after 2023-04-03)", 400)


def seed_role(world, account: str) -> None:
    """Account `account` after ACK's one-click authorization of AliyunCSManagedAcrRole."""
    ram = world.backend("ram", account, "global")
    role = ram.create_role(ROLE, json.dumps(trust_document()), description=DESCRIPTION, max_session_duration=3600)
    ram.attach(role, "Role", "System", POLICY)
