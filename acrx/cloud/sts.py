"""STS (2015-04-01): who am I, and temporary credentials whose repr never shows the secret."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from acrx.cloud.adapter import CloudApi
from acrx.cloud.credentials import Secret
from acrx.cloud.retry import RetryPolicy


@dataclass(frozen=True)
class CallerIdentity:
    account_id: str
    arn: str
    identity_type: str      # Account | RAMUser | AssumedRoleUser
    principal_id: str = ""
    user_id: str = ""
    role_id: str = ""


@dataclass(frozen=True)
class TemporaryCredentials:
    access_key_id: str
    access_key_secret: Secret = field(repr=False)
    security_token: Secret = field(repr=False)
    expiration: str = ""
    assumed_role_arn: str = ""
    assumed_role_id: str = ""
    # AssumeRoleWithOIDC only: what STS read from the token.
    oidc_issuer: str | None = None
    oidc_subject: str | None = None

    def as_tuple(self) -> tuple[str, str, str]:
        """(id, secret, token) revealed, for building another client; never print it."""
        return self.access_key_id, self.access_key_secret.reveal(), self.security_token.reveal()


def _credentials(body: dict) -> TemporaryCredentials:
    creds, user = body.get("Credentials") or {}, body.get("AssumedRoleUser") or {}
    info = body.get("OIDCTokenInfo") or {}
    return TemporaryCredentials(
        access_key_id=creds.get("AccessKeyId", ""), access_key_secret=Secret(creds.get("AccessKeySecret")),
        security_token=Secret(creds.get("SecurityToken")), expiration=creds.get("Expiration", ""),
        assumed_role_arn=user.get("Arn", ""), assumed_role_id=user.get("AssumedRoleId", ""),
        oidc_issuer=info.get("Issuer"), oidc_subject=info.get("Subject"))


class StsApi(CloudApi):
    PRODUCT = "sts"
    MODELS = "alibabacloud_sts20150401.models"

    def __init__(self, client: Callable[[], object], policy: RetryPolicy | None = None, *,
                 sts_endpoint: str | None = None):
        super().__init__(client, policy)
        self.sts_endpoint = sts_endpoint

    def caller_identity(self) -> CallerIdentity:
        body = self._call("GetCallerIdentity", "get_caller_identity_with_options", idempotent=True)
        return CallerIdentity(account_id=str(body.get("AccountId", "")), arn=body.get("Arn", ""),
                              identity_type=body.get("IdentityType", ""), principal_id=body.get("PrincipalId", ""),
                              user_id=body.get("UserId", ""), role_id=body.get("RoleId", ""))

    def assume_role(self, role_arn: str, session_name: str, duration: int = 3600, *,
                    external_id: str | None = None, policy: str | None = None) -> TemporaryCredentials:
        req = self._m().AssumeRoleRequest(role_arn=role_arn, role_session_name=session_name,
                                          duration_seconds=duration, external_id=external_id, policy=policy)
        # Issuing a session has no lasting effect, so a retry after a lost answer is harmless.
        return _credentials(self._call("AssumeRole", "assume_role_with_options", req, idempotent=True))

    def assume_role_with_oidc(self, role_arn: str, provider_arn: str, oidc_token: str, session_name: str,
                              duration: int = 3600) -> TemporaryCredentials:
        """Anonymous call: the OIDC token is the credential (the client's AccessKey is not sent)."""
        req = self._m().AssumeRoleWithOIDCRequest(role_arn=role_arn, oidcprovider_arn=provider_arn,
                                                  oidctoken=oidc_token, role_session_name=session_name,
                                                  duration_seconds=duration)
        return _credentials(self._call("AssumeRoleWithOIDC", "assume_role_with_oidcwith_options", req,
                                       idempotent=True))
