"""RAM state and rules for one account: roles, policies and their versions, attachments, tags
and the OIDC providers that RRSA registers. Users and AccessKeys live in `users.py`.

Eventual consistency: reads (Get*/List*) and STS do not see a role or policy until
`world.visible(created_at)`; writes (create, attach, delete) always see it, as the cloud's
primary store does.
"""

from __future__ import annotations

import json

from acrx.sandbox.core.errors import ApiError, invalid_parameter
from acrx.sandbox.core.identity import Principal
from acrx.sandbox.services.ram.entities import (
    CUSTOM, MAX_POLICY_VERSIONS, ROTATE_OLDEST, SYSTEM, SYSTEM_POLICIES, Attachment, OidcProvider, Policy,
    PolicyVersion, Role, already_exists, check_document, check_policy_name, check_role_name,
    check_session_duration, check_text, conflict, not_found, MAX_ROLE_DESCRIPTION,
)
from acrx.sandbox.services.ram.users import UserStore

# [?] RAM quotas quoted by the reference: 20 system and 5 custom policies per principal.
MAX_SYSTEM_ATTACHMENTS, MAX_CUSTOM_ATTACHMENTS = 20, 5


class Backend(UserStore):
    GLOBAL = True

    def __init__(self, world, account: str, region: str):
        self.world = world
        self.account = account
        self.region = region
        self.roles: dict[str, Role] = {}
        self.policies: dict[str, Policy] = {}
        self.oidc_providers: dict[str, OidcProvider] = {}
        self.system_policies = {name: self._system_policy(name, desc, doc)
                                for name, (desc, doc) in SYSTEM_POLICIES.items()}
        UserStore.__init__(self)

    @staticmethod
    def _system_policy(name: str, description: str, document: dict) -> Policy:
        policy = Policy(name, SYSTEM, description, created_at=0.0, updated_at=0.0, next_version=2)
        policy.versions["v1"] = PolicyVersion("v1", json.dumps(document), 0.0)
        return policy

    def _now(self) -> float:
        return self.world.clock.now()

    # -- roles ------------------------------------------------------------------------------
    def role(self, name: str, *, read: bool = False) -> Role:
        role = self.roles.get(name)
        if role is None or (read and not self.world.visible(role.created_at)):
            raise not_found("Role", name)
        return role

    def create_role(self, name: str, trust_document: str, description: str = "",
                    max_session_duration: int | None = None, tags: dict[str, str] | None = None) -> Role:
        check_role_name(name)
        check_text("Description", description, MAX_ROLE_DESCRIPTION)
        check_document(trust_document, trust=True)
        duration = check_session_duration(max_session_duration)
        # [?] Role names are treated as unique regardless of case (the stricter reading).
        if any(existing.lower() == name.lower() for existing in self.roles):
            raise already_exists("Role", name)
        now = self._now()
        role = Role(name, self.world.ids.digits(19), self.account, trust_document, description or "",
                    duration, now, now, dict(tags or {}))
        self.roles[name] = role
        return role

    def update_role(self, name: str, trust_document: str | None, max_session_duration: int | None,
                    description: str | None) -> Role:
        role = self.role(name)
        check_text("NewDescription", description, MAX_ROLE_DESCRIPTION)
        if trust_document is not None:
            role.trust_document = check_document(trust_document, trust=True)
        if max_session_duration is not None:
            role.max_session_duration = check_session_duration(max_session_duration, "NewMaxSessionDuration")
        if description is not None:
            role.description = description
        role.updated_at = self._now()
        return role

    def delete_role(self, name: str) -> None:
        role = self.role(name)
        if role.attachments:
            raise conflict("DeleteConflict.Role.Policy", "The role has policies attached; detach them first.")
        del self.roles[name]

    def list_roles(self, tag_filter: dict[str, str] | None = None) -> list[Role]:
        roles = [r for r in self.roles.values() if self.world.visible(r.created_at)]
        if tag_filter:
            roles = [r for r in roles if all(r.tags.get(k) == v for k, v in tag_filter.items())]
        return roles

    def get_role_for_sts(self, name: str) -> Role | None:
        """The role as STS sees it: None when it does not exist or is not visible yet."""
        role = self.roles.get(name)
        return role if role is not None and self.world.visible(role.created_at) else None

    # -- policies ---------------------------------------------------------------------------
    def policy(self, name: str, policy_type: str = CUSTOM, *, read: bool = False) -> Policy:
        found = (self.system_policies if policy_type == SYSTEM else self.policies).get(name)
        if found is None or (read and not self.world.visible(found.created_at)):
            raise not_found("Policy", name)
        return found

    def create_policy(self, name: str, document: str, description: str = "",
                      tags: dict[str, str] | None = None) -> Policy:
        check_policy_name(name)
        check_document(document, trust=False)
        # [?] A custom policy may not take a system policy's name (stricter than assuming it can).
        if name in self.policies or name in self.system_policies:
            raise already_exists("Policy", name)
        now = self._now()
        policy = Policy(name, CUSTOM, description or "", now, now, tags=dict(tags or {}))
        self._add_version(policy, document, set_default=True)
        self.policies[name] = policy
        return policy

    def _add_version(self, policy: Policy, document: str, *, set_default: bool) -> PolicyVersion:
        version = PolicyVersion(f"v{policy.next_version}", document, self._now())
        policy.next_version += 1
        policy.versions[version.version_id] = version
        if set_default:
            policy.default_version = version.version_id
        policy.updated_at = version.created_at
        return version

    def delete_policy(self, name: str, cascade: bool = False) -> None:
        policy = self.policy(name)
        holders = self.attachment_holders(CUSTOM, name)
        if holders and not cascade:
            kind = type(holders[0]).__name__  # "User" or "Role"
            raise conflict(f"DeleteConflict.Policy.{kind}", "The policy is attached; detach it first.")
        if len(policy.versions) > 1 and not cascade:
            raise conflict("DeleteConflict.Policy.Version", "The policy has non-default versions; delete them first.")
        for holder in holders:
            holder.attachments = [a for a in holder.attachments
                                  if not (a.policy_type == CUSTOM and a.policy_name == name)]
        del self.policies[name]

    def create_policy_version(self, name: str, document: str, set_as_default: bool,
                              rotate_strategy: str | None) -> PolicyVersion:
        policy = self.policy(name)
        check_document(document, trust=False)
        if rotate_strategy not in (None, "None", ROTATE_OLDEST):
            raise invalid_parameter("RotateStrategy", f"It must be None or {ROTATE_OLDEST}.")
        if len(policy.versions) >= MAX_POLICY_VERSIONS:
            if rotate_strategy != ROTATE_OLDEST:
                raise ApiError("LimitExceeded.Policy.Version",
                               f"A policy can have at most {MAX_POLICY_VERSIONS} versions.", 409)
            oldest = min((v for v in policy.versions.values() if v.version_id != policy.default_version),
                         key=lambda v: int(v.version_id[1:]))
            del policy.versions[oldest.version_id]
        return self._add_version(policy, document, set_default=set_as_default)

    def policy_version(self, policy: Policy, version_id: str) -> PolicyVersion:
        version = policy.versions.get(version_id)
        if version is None:
            raise not_found("Policy.Version", f"{policy.name}/{version_id}")
        return version

    def delete_policy_version(self, name: str, version_id: str) -> None:
        policy = self.policy(name)
        self.policy_version(policy, version_id)
        if version_id == policy.default_version:
            raise conflict("DeleteConflict.Policy.Version.Default", "The default version cannot be deleted.")
        del policy.versions[version_id]

    def set_default_policy_version(self, name: str, version_id: str) -> None:
        policy = self.policy(name)
        self.policy_version(policy, version_id)
        policy.default_version = version_id
        policy.updated_at = self._now()

    # -- attachments ------------------------------------------------------------------------
    def attachment_holders(self, policy_type: str, policy_name: str) -> list:
        holders = list(self.roles.values()) + list(self.users.values())
        return [h for h in holders
                if any(a.policy_type == policy_type and a.policy_name == policy_name for a in h.attachments)]

    def attach(self, holder, kind: str, policy_type: str, policy_name: str) -> None:
        self.policy(policy_name, policy_type)
        if any(a.policy_type == policy_type and a.policy_name == policy_name for a in holder.attachments):
            raise already_exists(f"{kind}.Policy", f"{holder.name}/{policy_name}")
        limit = MAX_SYSTEM_ATTACHMENTS if policy_type == SYSTEM else MAX_CUSTOM_ATTACHMENTS
        if sum(a.policy_type == policy_type for a in holder.attachments) >= limit:
            raise ApiError(f"LimitExceeded.{kind}.Policy",
                           f"At most {limit} {policy_type} policies per {kind.lower()}.", 409)
        holder.attachments.append(Attachment(policy_type, policy_name, self._now()))

    def detach(self, holder, kind: str, policy_type: str, policy_name: str) -> None:
        self.policy(policy_name, policy_type)
        kept = [a for a in holder.attachments if not (a.policy_type == policy_type and a.policy_name == policy_name)]
        if len(kept) == len(holder.attachments):
            raise not_found(f"{kind}.Policy", f"{holder.name}/{policy_name}")
        holder.attachments = kept

    def attached_policies(self, holder) -> list[tuple[Attachment, Policy]]:
        found = []
        for attachment in holder.attachments:
            table = self.system_policies if attachment.policy_type == SYSTEM else self.policies
            if attachment.policy_name in table:
                found.append((attachment, table[attachment.policy_name]))
        return found

    def attachment_count(self, policy: Policy) -> int:
        return len(self.attachment_holders(policy.policy_type, policy.name))

    def policy_documents_for(self, principal: Principal) -> list[str]:
        """Default-version documents of every policy attached to a user or an assumed role."""
        if principal.kind == "user":
            holder = self.users.get(principal.name or "")
        elif principal.kind == "assumed-role":
            holder = self.roles.get(principal.name or "")
        else:
            holder = None
        if holder is None:
            return []
        return [policy.default_document for _, policy in self.attached_policies(holder)]

    # -- tags -------------------------------------------------------------------------------
    def taggable(self, resource_type: str, name: str):
        if resource_type == "role":
            return self.role(name)
        if resource_type == "policy":
            return self.policy(name)
        raise invalid_parameter("ResourceType", "It must be role or policy.")

    # -- OIDC providers (created by the CS service when RRSA is enabled) --------------------
    def create_oidc_provider(self, name: str, issuer_url: str, client_ids: list[str],
                             description: str = "") -> OidcProvider:
        if name in self.oidc_providers:
            raise already_exists("OIDCProvider", name)
        provider = OidcProvider(name, self.account, issuer_url, list(client_ids), description, self._now())
        self.oidc_providers[name] = provider
        return provider

    def delete_oidc_provider(self, name: str) -> bool:
        """Remove the provider; False when there was none (disabling RRSA twice is harmless)."""
        return self.oidc_providers.pop(name, None) is not None

    def get_oidc_provider_by_arn(self, arn: str) -> OidcProvider | None:
        return next((p for p in self.oidc_providers.values() if p.arn == arn), None)
