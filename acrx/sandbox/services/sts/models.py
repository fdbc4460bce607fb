"""STS rules: who may assume which role, and the temporary credentials it issues.

A role lives in one account's RAM; its STS `Backend` (one per account, global) issues the
sessions of that account's roles. Checks follow the cloud's order: parameters, the role, the
caller's own permission (AssumeRole) or the OIDC token (AssumeRoleWithOIDC), then the role's
trust policy. Unconfirmed behaviour is marked [?] and takes the stricter reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from acrx.sandbox.core.errors import ApiError, invalid_parameter, no_permission
from acrx.sandbox.core.identity import Credential, Principal
from acrx.sandbox.core.oidc import JwtError, unverified_claims, verify
from acrx.sandbox.core.policy import ALLOW, EXPLICIT_DENY, Caller, PolicyError, trust_admits, validate_document

ROLE_ARN = re.compile(r"^acs:ram::(\d+):role/([A-Za-z0-9.\-]{1,64})$")
PROVIDER_ARN = re.compile(r"^acs:ram::(\d+):oidc-provider/([A-Za-z0-9._\-]{1,128})$")
SESSION_NAME = re.compile(r"^[\w.@\-]{2,64}$")
MIN_DURATION_S, DEFAULT_DURATION_S = 900, 3600
# [?] Alibaba's cap for a session assumed by another role session is unconfirmed; AWS caps
# role chaining at one hour, and the sandbox does the same (the stricter reading).
CHAINED_MAX_DURATION_S = 3600
# [?] STS's status for OIDC token errors is not documented: 400 for a bad token, 403 when the
# token is fine but nothing lets it in (AuthenticationFail.NoPermission).
TOKEN_ERROR_STATUS, OIDC_DENIED_STATUS = 400, 403
_KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


@dataclass
class Session:
    credential: Credential
    role: object            # the RAM Role that was assumed
    expiration: str         # %Y-%m-%dT%H:%M:%SZ


def caller_arn(principal: Principal) -> str:
    """The ARN a trust policy compares: the role ARN for a role session, else the user or root ARN."""
    return principal.role_arn if principal.kind == "assumed-role" else principal.arn


def _oidc_error(kind: str, message: str, status: int = TOKEN_ERROR_STATUS) -> ApiError:
    return ApiError(f"AuthenticationFail.{kind}", message, status)


class Backend:
    GLOBAL = True

    def __init__(self, world, account: str, region: str):
        self.world = world
        self.account = account
        self.region = region
        self.issued = 0     # sessions issued for this account's roles (for tests and the demo)

    # -- shared parameter checks --------------------------------------------------------------
    @staticmethod
    def parse_role_arn(arn: str) -> tuple[str, str]:
        match = ROLE_ARN.fullmatch(arn or "")
        if not match:
            raise invalid_parameter("RoleArn", "It must look like acs:ram::<account-id>:role/<role-name>.")
        return match.group(1), match.group(2)

    @staticmethod
    def check_session_name(name: str | None) -> str:
        if not SESSION_NAME.fullmatch(name or ""):
            raise invalid_parameter("RoleSessionName", "It must be 2 to 64 letters, digits, '.', '@', '-' or '_'.")
        return name

    @staticmethod
    def check_duration(duration: int | None, role, *, chained: bool) -> int:
        duration = DEFAULT_DURATION_S if duration is None else duration
        ceiling = min(role.max_session_duration, CHAINED_MAX_DURATION_S) if chained else role.max_session_duration
        if not MIN_DURATION_S <= duration <= ceiling:
            raise ApiError("InvalidParameter.DurationSeconds",
                           f"The parameter DurationSeconds must be between {MIN_DURATION_S} and {ceiling}.", 400)
        return duration

    @staticmethod
    def check_session_policy(policy: str | None) -> str | None:
        if policy is None:
            return None
        try:
            validate_document(policy)
        except PolicyError as exc:
            # [?] STS's code for a bad session policy; the documented one we know is PolicyGrammar.
            raise ApiError("InvalidParameter.PolicyGrammar", f"The parameter Policy is not valid: {exc}", 400) from None
        return policy

    # -- issuing ------------------------------------------------------------------------------
    def issue(self, role, session_name: str, duration: int, session_policy: str | None, source_arn: str) -> Session:
        ids, clock = self.world.ids, self.world.clock
        now = clock.now()
        principal = Principal(account=role.account, kind="assumed-role", name=role.name, session=session_name,
                              session_policy=session_policy, source_arn=source_arn, role_id=role.role_id)
        credential = Credential(access_key_id="STS." + ids.alnum(24, _KEY_ALPHABET),
                                secret=ids.alnum(44, _KEY_ALPHABET), principal=principal,
                                security_token="CAIS" + ids.alnum(240, _KEY_ALPHABET + "+/"),
                                expires_at=now + duration, created_at=now)
        self.world.keyring.add(credential)
        self.issued += 1
        return Session(credential, role, clock.iso(now + duration))

    # -- AssumeRole ---------------------------------------------------------------------------
    def assume_role(self, caller: Principal, role, session_name: str, duration: int | None,
                    session_policy: str | None, external_id: str | None) -> Session:
        self.check_session_name(session_name)
        duration = self.check_duration(duration, role, chained=caller.kind == "assumed-role")
        session_policy = self.check_session_policy(session_policy)
        decision = self.world.decide(caller, "sts:AssumeRole", role.arn)
        if decision != ALLOW:
            raise no_permission("sts:AssumeRole", role.arn, caller.arn,
                                "ExplicitDeny" if decision == EXPLICIT_DENY else "ImplicitDeny")
        context = {"sts:ExternalId": external_id} if external_id else {}
        trusted = trust_admits(role.trust_document, Caller(kind="ram", account=caller.account, arn=caller_arn(caller)),
                               context)
        if trusted != ALLOW:
            err = no_permission("sts:AssumeRole", role.arn, caller.arn,
                                "ExplicitDeny" if trusted == EXPLICIT_DENY else "ImplicitDeny")
            err.access_denied_detail["PolicyType"] = "AssumeRolePolicy"  # [?] the trust policy refused
            raise err
        return self.issue(role, session_name, duration, session_policy, caller.arn)

    # -- AssumeRoleWithOIDC -------------------------------------------------------------------
    def assume_role_with_oidc(self, role, provider_arn: str, token: str, session_name: str,
                              duration: int | None, session_policy: str | None) -> tuple[Session, dict]:
        if not PROVIDER_ARN.fullmatch(provider_arn or ""):
            raise invalid_parameter("OIDCProviderArn", "It must look like acs:ram::<account-id>:oidc-provider/<name>.")
        if not 4 <= len(token or "") <= 20000:
            raise invalid_parameter("OIDCToken", "It must be 4 to 20000 characters.")
        self.check_session_name(session_name)
        duration = self.check_duration(duration, role, chained=False)
        session_policy = self.check_session_policy(session_policy)
        provider = self.world.backend("ram", role.account, "global").get_oidc_provider_by_arn(provider_arn)
        if provider is None:
            raise _oidc_error("NoPermission", "No such OIDC Provider registered.", OIDC_DENIED_STATUS)
        claims = self._verified_claims(token, provider.issuer_url)
        issuer, subject = claims.get("iss"), claims.get("sub")
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
        if issuer != provider.issuer_url:
            raise _oidc_error("OIDCToken.IssuerNotMatch", "The issuer of the OIDC token does not match the provider.")
        matching = [aud for aud in audiences if aud in provider.client_ids]
        if not matching:
            raise _oidc_error("OIDCToken.AudienceNotMatch",
                              "The audience of the OIDC token is not a client id of the provider.")
        context = {"oidc:iss": issuer, "oidc:aud": audiences, "oidc:sub": subject}
        if trust_admits(role.trust_document, Caller(kind="federated", provider_arn=provider.arn), context) != ALLOW:
            raise _oidc_error("NoPermission", "The role's trust policy does not admit this OIDC token.",
                              OIDC_DENIED_STATUS)
        session = self.issue(role, session_name, duration, session_policy, provider.arn)
        token_info = {"Issuer": issuer, "Subject": subject, "ClientIds": ",".join(matching),
                      "IssuanceTime": self.world.clock.iso(float(claims["iat"])) if "iat" in claims else None,
                      "ExpirationTime": self.world.clock.iso(float(claims["exp"]))}
        return session, {k: v for k, v in token_info.items() if v is not None}

    def _verified_claims(self, token: str, issuer_url: str) -> dict:
        try:
            unverified_claims(token)
        except JwtError:
            raise _oidc_error("OIDCToken.Invalid", "The OIDC token is not a well-formed JWT.") from None
        keys = self.world.oidc.keys(issuer_url)
        if keys is None:
            raise _oidc_error("OIDCToken.IssuerConfigurationBroken",
                              "The OIDC issuer publishes no signing keys; is RRSA still enabled?")
        try:
            return verify(token, keys, now=self.world.clock.now())
        except JwtError as exc:
            kind = {"expired": "OIDCToken.Expired",
                    "unknown_key": "OIDCToken.PublicKeyFingerprintMismatch"}.get(exc.reason, "OIDCToken.Invalid")
            raise _oidc_error(kind, str(exc)) from None


def find_role(world, role_arn: str):
    """The role an ARN names, as STS sees it (eventual consistency applies)."""
    uid, name = Backend.parse_role_arn(role_arn)
    role = world.backend("ram", uid, "global").get_role_for_sts(name) if uid in world.accounts else None
    if role is None:
        raise ApiError("EntityNotExist.Role", f"The role does not exist: {name}.", 404)
    return role


def wire_arn(arn: str) -> str:
    """An ARN as STS writes it: the role name lower-cased.

    Real AssumeRole output has `AssumedRoleUser.Arn` = `acs:ram::<uid>:role/aliyunosstokengeneratorrole/
    <session>` for the role documented as AliyunOSSTokenGeneratorRole, and STS errors quote
    `...:role/aliyuncsdefaultrole` (real-cloud-audit #17). GetCallerIdentity's casing was not seen:
    [?] the stricter reading, lower case there too. Role names in RAM are case-insensitive.
    """
    for marker in (":assumed-role/", ":role/"):
        head, found, rest = arn.partition(marker)
        if found:
            name, slash, tail = rest.partition("/")
            return f"{head}{marker}{name.lower()}{slash}{tail}"
    return arn


def caller_identity(world, principal: Principal) -> dict:
    """GetCallerIdentity's fields for the signing principal."""
    body = {"AccountId": principal.account, "Arn": wire_arn(principal.arn)}
    if principal.kind == "root":
        body.update(IdentityType="Account", PrincipalId=principal.account, UserId=principal.account)
    elif principal.kind == "user":
        body.update(IdentityType="RAMUser", PrincipalId=principal.user_id, UserId=principal.user_id)
    else:
        body.update(IdentityType="AssumedRoleUser", PrincipalId=f"{principal.role_id}:{principal.session}",
                    RoleId=principal.role_id)
    return body
