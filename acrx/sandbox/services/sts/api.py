"""STS 2015-04-01 over RPC. Field names follow alibabacloud_sts20150401's response models."""

from __future__ import annotations

from acrx.sandbox.core.routing import Router
from acrx.sandbox.services.sts.models import Session, caller_identity, find_role, wire_arn

router = Router("sts", "2015-04-01", product="sts", global_service=True)


def _role(req):
    """The role, and the STS backend of its account (which issues that role's sessions)."""
    role = find_role(req.world, req.str("RoleArn", required=True))
    return req.world.backend("sts", role.account, "global"), role


def _session_view(session: Session) -> dict:
    cred = session.credential
    principal = cred.principal
    return {
        "Credentials": {"AccessKeyId": cred.access_key_id, "AccessKeySecret": cred.secret,
                        "SecurityToken": cred.security_token, "Expiration": session.expiration},
        "AssumedRoleUser": {"Arn": wire_arn(principal.arn),
                            "AssumedRoleId": f"{principal.role_id}:{principal.session}"},
    }


# Issuing a session changes no cloud resource, so it is not a write in the call log (a
# read-only `plan` that assumes roles must show zero writes). The caller's right to
# sts:AssumeRole is checked on the role ARN inside the model (authorize=False).
@router.rpc("AssumeRole", writes=False, authorize=False)
def assume_role(req):
    sts, role = _role(req)
    session = sts.assume_role(req.principal, role, req.str("RoleSessionName", required=True),
                              req.int("DurationSeconds"), req.str("Policy"), req.str("ExternalId"))
    return _session_view(session)


@router.rpc("AssumeRoleWithOIDC", writes=False, anonymous=True)
def assume_role_with_oidc(req):
    provider_arn = req.str("OIDCProviderArn", required=True)
    token = req.str("OIDCToken", required=True)
    sts, role = _role(req)
    session, token_info = sts.assume_role_with_oidc(role, provider_arn, token,
                                                    req.str("RoleSessionName", required=True),
                                                    req.int("DurationSeconds"), req.str("Policy"))
    return {**_session_view(session), "OIDCTokenInfo": token_info}


@router.rpc("GetCallerIdentity", writes=False, authorize=False)
def get_caller_identity(req):
    return caller_identity(req.world, req.principal)
