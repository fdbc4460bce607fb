"""Format checks shared by the config model. Each returns the value or raises ValueError
with a message that quotes the value (escaped and cut short, see acrx.config.echo) and says
what was expected.

Every pattern is applied with `fullmatch`: `$` in a Python regex also matches before a final
newline, so with `match` a cluster id or region ending in "\n" would pass and reach a signed
header or a URL path.
"""

from __future__ import annotations

import re

from acrx import facts
from acrx.config.echo import echo

DNS1123_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
HOSTNAME_RE = re.compile(r"^(?=.{1,253}\Z)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$")
DURATION_RE = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PROFILE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
ALIAS_RE = re.compile(r"^[a-z][a-z0-9_\-]{0,31}$")
SESSION_NAME_RE = re.compile(r"^[\w.@\-]{2,64}$")
# verify.timeout and --timeout: a pull that has not happened within an hour will not happen;
# a larger value is a typo (a million hours was accepted before) and would hang CI.
MAX_VERIFY_TIMEOUT_S = 3600

# Image references, after the grammar of distribution/reference.
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE_RE = re.compile(rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?$")


def _check(pattern: re.Pattern, value: str, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{echo(value)} is not {what}")
    return value


def cluster_id(value: str) -> str:
    return _check(facts.CLUSTER_ID_RE, value,
                  "an ACK cluster id (expected c followed by 32 lowercase hex characters)")


def instance_id(value: str) -> str:
    return _check(facts.INSTANCE_ID_RE, value,
                  "an ACR Enterprise instance id (expected cri- followed by 16 lowercase letters or digits)")


def region(value: str) -> str:
    return _check(facts.REGION_RE, value, "a region id (expected e.g. cn-hangzhou or ap-southeast-1)")


def uid(value: str) -> str:
    return _check(facts.UID_RE, value, "an Alibaba Cloud account id (expected 16 digits)")


def role_name(value: str) -> str:
    return _check(facts.ROLE_NAME_RE, value,
                  "a RAM role name (expected 1-64 letters, digits, '.' or '-')")


def policy_name(value: str) -> str:
    return _check(facts.POLICY_NAME_RE, value,
                  "a RAM policy name (expected 1-128 letters, digits or '-')")


def role_arn(value: str) -> str:
    return _check(facts.ROLE_ARN_RE, value, "a RAM role ARN (expected acs:ram::<uid>:role/<name>)")


def namespace(value: str) -> str:
    if not isinstance(value, str) or len(value) > 63 or not DNS1123_LABEL_RE.fullmatch(value):
        raise ValueError(f"{echo(value)} is not a Kubernetes namespace name (DNS-1123 label: "
                         "lowercase letters, digits and '-', at most 63)")
    return value


def service_account(value: str) -> str:
    if not isinstance(value, str) or len(value) > 253 or not DNS1123_SUBDOMAIN_RE.fullmatch(value):
        raise ValueError(f"{echo(value)} is not a Kubernetes service account name (DNS-1123 subdomain)")
    return value


def hostname(value: str) -> str:
    return _check(HOSTNAME_RE, value, "a registry domain (expected a lowercase host name such as "
                  "name-registry.cn-hangzhou.cr.aliyuncs.com, no scheme, port or path)")


def duration_seconds(value: str, maximum: int | None = None) -> int:
    """'15m' -> 900, '1h30m' -> 5400. Units h, m, s; the total must be above zero (and at most
    `maximum` seconds when given)."""
    match = DURATION_RE.fullmatch(value) if isinstance(value, str) and value else None
    if not match or not any(match.groups()):
        raise ValueError(f"{echo(value)} is not a duration (expected e.g. 15m, 1h, 90s or 1h30m)")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise ValueError(f"{echo(value)} is not a positive duration")
    if maximum is not None and total > maximum:
        raise ValueError(f"{echo(value)} is longer than the maximum {spell_seconds(maximum)}")
    return total


def spell_seconds(seconds: int) -> str:
    """3600 -> '1h', 5400 -> '1h30m', 90 -> '1m30s'."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n) or "0s"


def duration(value: str) -> str:
    duration_seconds(value)
    return value


def verify_timeout(value: str) -> str:
    duration_seconds(value, maximum=MAX_VERIFY_TIMEOUT_S)
    return value


def external_id(value: str) -> str:
    # STS documents 2-1,224 characters; [?] its character set is not checked here beyond
    # refusing what is not printable (it is sent as a request parameter).
    if not isinstance(value, str) or not 2 <= len(value) <= 1224 or not value.isprintable():
        raise ValueError(f"{echo(value)} is not an ExternalId (2 to 1,224 printable characters)")
    return value


def email(value: str) -> str:
    return _check(EMAIL_RE, value, "an email address")


def image(value: str) -> str:
    if not isinstance(value, str) or len(value) > 512 or not IMAGE_RE.fullmatch(value):
        raise ValueError(f"{echo(value)} is not an image reference (expected e.g. "
                         "name-registry.cn-hangzhou.cr.aliyuncs.com/ns/nginx:1.25)")
    return value


def env_name(value: str) -> str:
    return _check(ENV_NAME_RE, value, "an environment variable name")


def profile(value: str) -> str:
    return _check(PROFILE_RE, value, "an aliyun CLI profile name")


def alias(value: str) -> str:
    return _check(ALIAS_RE, value, "an account alias (lowercase letters, digits, '-' or '_')")


def session_name(value: str) -> str:
    return _check(SESSION_NAME_RE, value, "a role session name (2-64 of letters, digits, '.', '@', '-', '_')")


def vpc_id(value: str) -> str:
    return _check(facts.VPC_ID_RE, value, "a VPC id (expected vpc-...)")


def vswitch_id(value: str) -> str:
    return _check(facts.VSWITCH_ID_RE, value, "a vSwitch id (expected vsw-...)")


def cen_id(value: str) -> str:
    return _check(facts.CEN_ID_RE, value, "a CEN instance id (expected cen-...)")
