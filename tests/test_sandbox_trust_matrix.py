"""Who may assume which role: the trust matrix, through the official STS client.

RAM callers (AssumeRole): account A holds users and a role session; account B holds roles
whose trust policies name A in different ways; account C is a stranger. OIDC callers
(AssumeRoleWithOIDC): tokens that differ from a good one in exactly one way.
"""

from __future__ import annotations

import json

import pytest

from acrx.sandbox.core.oidc import SigningKey
from acrx.sandbox.core.server import CloudServer
from acrx.sandbox.core.world import World
from tests.sandbox_clients import sdk_client

ISSUER = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1"
OTHER_ISSUER = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c2"
UNPUBLISHED_ISSUER = "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/gone"
SUBJECT = "system:serviceaccount:kube-system:aliyun-acr-credential-helper"
KEY, OTHER_KEY, ROGUE_KEY = SigningKey(), SigningKey(), SigningKey()   # generated once: RSA is slow


def models(product: str):
    import importlib
    return importlib.import_module(f"alibabacloud_{product}.models")


def statement_doc(*statements) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def trust_ram(*principals) -> str:
    return statement_doc({"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"RAM": list(principals)}})


def outcome(call):
    """None when the call succeeds, else (code, HTTP status)."""
    from alibabacloud_tea_openapi.exceptions import ClientException

    try:
        call()
    except ClientException as exc:
        return exc.code, exc.status_code
    return None


@pytest.fixture
def world():
    w = World(seed=11)
    server = CloudServer(w).start()
    w.hooks["test_server"] = server
    yield w
    server.stop()


def _client(world, product, key):
    return sdk_client(f"alibabacloud_{product}", world.hooks["test_server"].endpoint, key)


# -- RAM principals -----------------------------------------------------------------------------
def ram_scenario(world):
    rm = models("ram20150501")
    a, b, c = (world.add_account(alias, "cn-hangzhou") for alias in ("a", "b", "c"))
    ram_a, ram_b = _client(world, "ram20150501", a.root_key), _client(world, "ram20150501", b.root_key)
    target = f"acs:ram:*:{b.uid}:role/trust-account"
    policies = {
        "alice": ("System", "AliyunSTSAssumeRoleAccess", None),
        "carol": ("Custom", "allow-then-deny", statement_doc(
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Resource": "*"},
            {"Action": "sts:AssumeRole", "Effect": "Deny", "Resource": target})),
        "dave": ("Custom", "only-trust-account", statement_doc(
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Resource": target})),
    }
    callers = {"rootA": a.root_key, "rootC": c.root_key}
    for user in ("alice", "bob", "carol", "dave"):
        ram_a.create_user(rm.CreateUserRequest(user_name=user))
        key = ram_a.create_access_key(rm.CreateAccessKeyRequest(user_name=user)).body.access_key
        callers[user] = (key.access_key_id, key.access_key_secret)
        if user in policies:
            kind, name, document = policies[user]
            if document:
                ram_a.create_policy(rm.CreatePolicyRequest(policy_name=name, policy_document=document))
            ram_a.attach_policy_to_user(rm.AttachPolicyToUserRequest(policy_type=kind, policy_name=name, user_name=user))
    ram_a.create_role(rm.CreateRoleRequest(role_name="roleA", assume_role_policy_document=trust_ram(a.uid)))
    ram_a.attach_policy_to_role(rm.AttachPolicyToRoleRequest(
        policy_type="System", policy_name="AliyunSTSAssumeRoleAccess", role_name="roleA"))
    roles = {
        "trust-role-arn": trust_ram(f"acs:ram::{a.uid}:role/roleA"),
        "trust-account": trust_ram(a.uid),
        "trust-root": trust_ram(f"acs:ram::{a.uid}:root"),
        "trust-other-role": trust_ram(f"acs:ram::{a.uid}:role/someone-else"),
        "trust-user": trust_ram(f"acs:ram::{a.uid}:user/alice"),
    }
    for name, trust in roles.items():
        ram_b.create_role(rm.CreateRoleRequest(role_name=name, assume_role_policy_document=trust, max_session_duration=
                                               43200 if name == "trust-role-arn" else 3600))
    sm = models("sts20150401")
    session = _client(world, "sts20150401", a.root_key).assume_role(sm.AssumeRoleRequest(
        role_arn=f"acs:ram::{a.uid}:role/roleA", role_session_name="hop1")).body.credentials
    callers["roleA-session"] = (session.access_key_id, session.access_key_secret, session.security_token)
    return b, callers


RAM_CASES = [
    # (caller, target role in B, DurationSeconds, expected (code, status) or None)
    ("roleA-session", "trust-role-arn", None, None),
    ("alice", "trust-account", None, None),
    ("alice", "trust-root", None, None),              # a root ARN principal admits the whole account
    ("rootA", "trust-root", None, None),
    ("rootA", "trust-account", None, None),
    ("alice", "trust-user", None, None),
    ("dave", "trust-account", None, None),            # custom policy naming exactly this role
    ("rootC", "trust-account", None, ("NoPermission", 403)),         # another account
    ("alice", "trust-role-arn", None, ("NoPermission", 403)),        # a user is not the trusted role
    ("roleA-session", "trust-other-role", None, ("NoPermission", 403)),
    ("roleA-session", "trust-user", None, ("NoPermission", 403)),
    ("bob", "trust-account", None, ("NoPermission", 403)),           # trusted, but no sts:AssumeRole
    ("dave", "trust-user", None, ("NoPermission", 403)),             # allowed on another role only
    ("carol", "trust-account", None, ("NoPermission", 403)),         # explicit Deny beats the Allow
    ("alice", "trust-account", 3600, None),
    ("alice", "trust-account", 3601, ("InvalidParameter.DurationSeconds", 400)),   # above MaxSessionDuration
    ("roleA-session", "trust-role-arn", 3600, None),
    ("roleA-session", "trust-role-arn", 7200, ("InvalidParameter.DurationSeconds", 400)),  # chained cap
]


@pytest.mark.parametrize("caller, role, duration, expected", RAM_CASES,
                         ids=[f"{c}->{r}" + (f"-{d}s" if d else "") for c, r, d, _ in RAM_CASES])
def test_assume_role_trust_matrix(world, caller, role, duration, expected):
    b, callers = ram_scenario(world)
    sts = _client(world, "sts20150401", callers[caller])
    request = models("sts20150401").AssumeRoleRequest(role_arn=f"acs:ram::{b.uid}:role/{role}",
                                                      role_session_name="matrix", duration_seconds=duration)
    assert outcome(lambda: sts.assume_role(request)) == expected


def test_denials_say_why(world):
    from alibabacloud_tea_openapi.exceptions import ClientException

    b, callers = ram_scenario(world)
    request = models("sts20150401").AssumeRoleRequest(role_arn=f"acs:ram::{b.uid}:role/trust-account",
                                                      role_session_name="matrix")
    details = {}
    for caller in ("bob", "carol", "rootC"):
        with pytest.raises(ClientException) as info:
            _client(world, "sts20150401", callers[caller]).assume_role(request)
        assert info.value.message.split(", ", 1)[1].startswith("You are not authorized to do this action.")
        details[caller] = (info.value.access_denied_detail["NoPermissionType"],
                           info.value.access_denied_detail["PolicyType"])
    assert details == {"bob": ("ImplicitDeny", "AccountLevelIdentityBasedPolicy"),
                       "carol": ("ExplicitDeny", "AccountLevelIdentityBasedPolicy"),
                       "rootC": ("ImplicitDeny", "AssumeRolePolicy")}


# -- OIDC (RRSA) --------------------------------------------------------------------------------
def oidc_scenario(world):
    a = world.add_account("cluster", "cn-hangzhou")
    b = world.add_account("other", "cn-hangzhou")
    world.oidc.publish(ISSUER, KEY)
    world.oidc.publish(OTHER_ISSUER, OTHER_KEY)
    ram = world.backend("ram", a.uid, "global")
    good = ram.create_oidc_provider("ack-rrsa-c1", ISSUER, ["sts.aliyuncs.com", "other-client"])
    ram.create_oidc_provider("ack-rrsa-c2", OTHER_ISSUER, ["sts.aliyuncs.com"])
    ram.create_oidc_provider("ack-rrsa-gone", UNPUBLISHED_ISSUER, ["sts.aliyuncs.com"])
    world.backend("ram", b.uid, "global").create_oidc_provider("ack-rrsa-c1", ISSUER, ["sts.aliyuncs.com"])
    rm = models("ram20150501")
    root = _client(world, "ram20150501", a.root_key)
    exact = {"StringEquals": {"oidc:aud": "sts.aliyuncs.com", "oidc:iss": ISSUER, "oidc:sub": SUBJECT}}
    like = {"StringEquals": {"oidc:aud": "sts.aliyuncs.com"},
            "StringLike": {"oidc:sub": "system:serviceaccount:kube-system:*"}}
    for name, condition in (("rrsa-exact", exact), ("rrsa-like", like)):
        trust = statement_doc({"Action": "sts:AssumeRole", "Effect": "Allow",
                               "Principal": {"Federated": [good.arn]}, "Condition": condition})
        root.create_role(rm.CreateRoleRequest(role_name=name, assume_role_policy_document=trust))
    return a, b


def _provider(a, b, which):
    return {"good": f"acs:ram::{a.uid}:oidc-provider/ack-rrsa-c1",
            "other": f"acs:ram::{a.uid}:oidc-provider/ack-rrsa-c2",
            "gone": f"acs:ram::{a.uid}:oidc-provider/ack-rrsa-gone",
            "unknown": f"acs:ram::{a.uid}:oidc-provider/ack-rrsa-nope",
            "other-account": f"acs:ram::{b.uid}:oidc-provider/ack-rrsa-c1"}[which]


OIDC_CASES = [
    # (id, role, provider, claim overrides, signing key, other request fields, expected)
    ("good", "rrsa-exact", "good", {}, KEY, {}, None),
    ("wrong-aud", "rrsa-exact", "good", {"aud": "nope"}, KEY, {}, ("AuthenticationFail.OIDCToken.AudienceNotMatch", 400)),
    ("aud-of-provider-not-trusted", "rrsa-exact", "good", {"aud": "other-client"}, KEY, {},
     ("AuthenticationFail.NoPermission", 403)),
    ("wrong-iss", "rrsa-exact", "good", {"iss": OTHER_ISSUER}, KEY, {},
     ("AuthenticationFail.OIDCToken.IssuerNotMatch", 400)),
    ("wrong-sub", "rrsa-exact", "good", {"sub": "system:serviceaccount:default:evil"}, KEY, {},
     ("AuthenticationFail.NoPermission", 403)),
    ("sub-like-match", "rrsa-like", "good", {"sub": "system:serviceaccount:kube-system:other"}, KEY, {}, None),
    ("sub-like-miss", "rrsa-like", "good", {"sub": "system:serviceaccount:default:x"}, KEY, {},
     ("AuthenticationFail.NoPermission", 403)),
    ("provider-not-in-trust", "rrsa-exact", "other", {"iss": OTHER_ISSUER}, OTHER_KEY, {},
     ("AuthenticationFail.NoPermission", 403)),
    ("provider-unknown", "rrsa-exact", "unknown", {}, KEY, {}, ("AuthenticationFail.NoPermission", 403)),
    ("provider-other-account", "rrsa-exact", "other-account", {}, KEY, {}, ("AuthenticationFail.NoPermission", 403)),
    ("issuer-unpublished", "rrsa-exact", "gone", {"iss": UNPUBLISHED_ISSUER}, KEY, {},
     ("AuthenticationFail.OIDCToken.IssuerConfigurationBroken", 400)),
    ("signed-by-rogue-key", "rrsa-exact", "good", {}, ROGUE_KEY, {},
     ("AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch", 400)),
    ("expired", "rrsa-exact", "good", {"advance": 3601}, KEY, {}, ("AuthenticationFail.OIDCToken.Expired", 400)),
    ("not-a-jwt", "rrsa-exact", "good", {"raw": "not.a-jwt"}, KEY, {}, ("AuthenticationFail.OIDCToken.Invalid", 400)),
    ("duration-above-max", "rrsa-exact", "good", {}, KEY, {"duration_seconds": 3601},
     ("InvalidParameter.DurationSeconds", 400)),
    ("role-unknown", "rrsa-missing", "good", {}, KEY, {}, ("EntityNotExist.Role", 404)),
]


@pytest.mark.parametrize("role, provider, claims, key, extra, expected", [c[1:] for c in OIDC_CASES],
                         ids=[c[0] for c in OIDC_CASES])
def test_assume_role_with_oidc_trust_matrix(world, role, provider, claims, key, extra, expected):
    a, b = oidc_scenario(world)
    claims = dict(claims)
    advance, raw = claims.pop("advance", 0), claims.pop("raw", None)
    now = int(world.clock.now())
    token = raw or key.sign({"iss": ISSUER, "aud": "sts.aliyuncs.com", "sub": SUBJECT, "iat": now,
                             "exp": now + 3600, **claims})
    world.clock.advance(advance)
    sts = _client(world, "sts20150401", ("anonymous", "unused"))
    request = models("sts20150401").AssumeRoleWithOIDCRequest(
        oidcprovider_arn=_provider(a, b, provider), role_arn=f"acs:ram::{a.uid}:role/{role}", oidctoken=token,
        role_session_name="helper", **extra)
    assert outcome(lambda: sts.assume_role_with_oidc(request)) == expected
