"""The one place where SDK exceptions become `acrx.errors.CloudError`.

The official SDKs raise a zoo of exceptions (tea-openapi Client/Server/ThrottlingException,
darabonba/Tea UnretryableException around a RetryError or a JSON parse failure, the credentials
library's CredentialException, bare requests errors). Everything above this module sees one
CloudError with the cloud's code, message, request id, HTTP status and the action that failed.

Messages are scrubbed before they are stored: a v1-signed request puts SecurityToken and
Signature in the URL, and requests' connection errors quote that URL.
"""

from __future__ import annotations

import json
import re
import threading

from acrx.errors import CloudError

# Codes for a request the server refused before doing anything (safe to retry any call).
# Rejected.Throttling: Terraform provider `NeedRetry` (alicloud/errors.go:207-241).
# System.Busy: PrivateZone, TF resource_alicloud_pvtz_zone.go:158 retries it.
# SLB_SERVICE_ERROR: CR endpoint ACL writes, TF resource_alicloud_cr_endpoint_acl_policy.go:92.
# ServiceUnavailable: the 503 of every RPC product (tea-openapi's ThrottlingException family).
THROTTLING_PREFIXES = ("Throttling", "throttling")
THROTTLING_CODES = frozenset({"ServiceUnavailable", "TooManyRequests", "QPSLimitExceeded",
                              "Throttling.User", "Throttling.Api", "Throttling.System",
                              "Rejected.Throttling", "System.Busy", "SystemBusy", "SLB_SERVICE_ERROR"})
# "Busy" answers per action: the target was locked by another task and the server did nothing,
# so even a create without a ClientToken may be sent again. From Terraform's retry lists:
# route entries "do not support concurrence when creating or deleting" (resource_alicloud_route_entry.go
# :122-171 create, :321-340 delete); CreateCen/CreateTransitRouter retry Operation.Blocking and
# IncorrectStatus.Status (resource_alicloud_cen_instance.go, resource_alicloud_cen_transit_router.go);
# VPC/peer attachments the IncorrectStatus.Vpc* family (resource_alicloud_cen_transit_router_vpc_attachment.go,
# ..._peer_attachment.go); GrantInstanceToTransitRouter OperationFailed.TaskConflict
# (resource_alicloud_cen_transit_router_grant_attachment.go); BindZoneVpc Zone.NotExists right after
# AddZone (resource_alicloud_pvtz_zone_attachment.go). System.Busy is in THROTTLING_CODES above.
ROUTE_BUSY_CODES = frozenset({"TaskConflict", "OperationConflict", "IncorrectRouteEntryStatus",
                              "IncorrectVpcStatus", "IncorrectStatus.RouteTableStatus", "IncorrectStatus.VpcPeer",
                              "LastTokenProcessing", "OperationFailed.DistibuteLock", "SystemBusy", "UnknownError"})
CEN_CREATE_BUSY_CODES = frozenset({"Operation.Blocking", "IncorrectStatus.Status"})
ATTACHMENT_BUSY_CODES = frozenset({"IncorrectStatus.VpcRouteTable", "IncorrectStatus.VpcSwitch",
                                   "IncorrectStatus.VpcOrVswitch", "InstanceStatus.NotSupport",
                                   "IncorrectStatus.Attachment", "IncorrectStatus.VpcResource",
                                   "Operation.Blocking", "IncorrectStatus.Status"})
BUSY_CODES_BY_ACTION = {
    "vpc:CreateRouteEntry": ROUTE_BUSY_CODES, "vpc:DeleteRouteEntry": ROUTE_BUSY_CODES,
    "cbn:CreateCen": CEN_CREATE_BUSY_CODES, "cbn:CreateTransitRouter": CEN_CREATE_BUSY_CODES,
    "cbn:CreateTransitRouterVpcAttachment": ATTACHMENT_BUSY_CODES,
    "cbn:DeleteTransitRouterVpcAttachment": ATTACHMENT_BUSY_CODES,
    "cbn:DeleteTransitRouterPeerAttachment": ATTACHMENT_BUSY_CODES,
    # [?] TF's association/propagation resources retry the attachment family too (likely, unchecked).
    "cbn:AssociateTransitRouterAttachmentWithRouteTable": ATTACHMENT_BUSY_CODES,
    "cbn:EnableTransitRouterRouteTablePropagation": ATTACHMENT_BUSY_CODES,
    "cbn:GrantInstanceToTransitRouter": frozenset({"OperationFailed.TaskConflict"}),
    "pvtz:BindZoneVpc": frozenset({"Zone.NotExists"}),
}
# Codes that name a credentials problem rather than a missing resource, although they end in NotFound.
_NOT_RESOURCE_CODES = ("InvalidAccessKeyId", "InvalidAction", "InvalidSecurityToken")
# Codes that mean "no such thing" without saying NotFound. ParameterCenInstanceId is what
# Terraform's provider treats as a missing CEN; ParameterInstanceId its missing transit router
# (resource_alicloud_cen_transit_router.go:266); Zone.Invalid.Id / Zone.Invalid.UserId its missing
# PrivateZone zone (service_alicloud_pvtz.go:29); InvalidRouteEntry.NotFound a deleted route
# (resource_alicloud_route_entry.go; also matched by the NotFound rule below). A missing grant is
# TF's generic NotFound / HTTP 404 rule, so no grant-specific code is listed.
_GONE_CODES = frozenset({"ParameterCenInstanceId", "ParameterInstanceId", "Zone.Invalid.Id",
                         "Zone.Invalid.UserId", "InvalidRouteEntry.NotFound"})
# HTTP 404 is "not found" whatever the code says (TF `NotFoundError`, alicloud/errors.go:83-115),
# except for a route the server does not know (an SDK/API mismatch, not a missing resource).
_NOT_A_RESOURCE_404 = ("InvalidAction", "InvalidApi", "InvalidVersion")

# Connection failures the request never survived past (nothing reached the server), so even a
# write may be retried; anything else (reset, read timeout) leaves a write's outcome unknown.
_NOT_SENT_MARKERS = ("NewConnectionError", "Connection refused", "ConnectTimeout", "Failed to establish",
                     "NameResolutionError", "Name or service not known", "nodename nor servname",
                     "Temporary failure in name resolution", "ProxyError")

CONNECTION_NOT_SENT = "ConnectionFailed"   # code of a CloudError for a request that never left
CONNECTION_UNKNOWN = "ConnectionLost"      # code when the request may have been processed
CREDENTIALS_CODE = "InvalidCredentials"

# --- scrubbing --------------------------------------------------------------------------------
_SECRET_PARAMS = re.compile(
    r"(?i)((?:SecurityToken|AccessKeySecret|access_key_secret|Signature|OIDCToken|BearerToken|Password|"
    r"AuthorizationToken|x-acs-security-token|Token)[\"']?\s*[=:]\s*[\"']?)([^&\s\"',)}]+)")
_BEARER = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_URL_QUERY = re.compile(r"((?:url: |https?://[^\s?'\"]*)[^\s?'\"]*)\?[^\s'\")]*")
REDACTED = "(redacted)"

_known_secrets: set[str] = set()
_known_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret this process holds so that no error message can ever repeat it."""
    if value and len(value) >= 6:
        with _known_lock:
            _known_secrets.add(value)


def redact(text: str | None) -> str:
    """Strip tokens, signatures, secrets and URL queries from a message."""
    if not text:
        return ""
    text = str(text)
    with _known_lock:
        known = sorted(_known_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _URL_QUERY.sub(lambda m: m.group(1) + "?" + REDACTED, text)
    text = _SECRET_PARAMS.sub(lambda m: m.group(1) + REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + " " + REDACTED, text)
    return _JWT.sub(REDACTED, text)


# --- translation ------------------------------------------------------------------------------
def _clean_code(code) -> str | None:
    # tea-openapi formats a missing code as the string 'None'.
    if code is None or str(code) in ("", "None"):
        return None
    return str(code)


def _cloud_message(exc) -> str:
    """The cloud's own Message from the body, without tea's 'code: 404, ... request id: x' wrapper."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        msg = data.get("Message") or data.get("message")
        if msg:
            return str(msg)
    msg = getattr(exc, "message", None) or str(exc)
    match = re.match(r"^code: \d+, (.*?)(?: request id: \S*)?$", str(msg), re.S)
    return match.group(1) if match else str(msg)


def _make(code, message, *, request_id=None, http_status=None, action=None, detail=None,
          retry_after_s=None, connection=None) -> CloudError:
    err = CloudError(_clean_code(code), redact(message), request_id=_clean_code(request_id),
                     http_status=http_status, action=action, access_denied_detail=detail)
    # Extra facts the retry policy reads; CloudError itself stays the shared, simple type.
    err.retry_after_s = retry_after_s
    err.connection = connection  # None | "not_sent" | "unknown"
    return err


def translate(exc: BaseException, *, action: str | None = None) -> CloudError:
    """Turn any exception raised by an SDK call into a CloudError (a CloudError passes through)."""
    if isinstance(exc, CloudError):
        if action and not exc.action:
            exc.action = action
        return exc
    from darabonba.exceptions import ResponseException

    if isinstance(exc, ResponseException):
        retry_after = getattr(exc, "retry_after", None)
        detail = getattr(exc, "access_denied_detail", None) or getattr(exc, "accessDeniedDetail", None)
        return _make(exc.code, _cloud_message(exc), request_id=getattr(exc, "request_id", None),
                     http_status=getattr(exc, "status_code", None), action=action,
                     detail=detail if isinstance(detail, dict) else None,
                     retry_after_s=(retry_after / 1000.0) if retry_after else None)
    from alibabacloud_credentials.exceptions import CredentialException

    if isinstance(exc, CredentialException):
        return _credentials_error(exc, action)
    from Tea.exceptions import TeaException, UnretryableException

    if isinstance(exc, UnretryableException):
        inner = getattr(exc, "inner_exception", None)
        if inner is not None and inner is not exc:
            if type(inner).__name__ == "RetryError":   # the transport failed (darabonba or Tea)
                return _connection_error(getattr(inner, "message", str(inner)), action)
            if isinstance(inner, (TeaException, ResponseException, CredentialException)):
                # e.g. the credentials provider failed inside the SDK's call: its cause, not a wrapper.
                return translate(inner, action=action)
            return _make("InvalidResponse", f"the service answered with something that is not JSON "
                         f"({type(inner).__name__})", action=action)
        return _make(_clean_code(exc.code) or "InvalidResponse", str(exc.message or exc), action=action)
    if isinstance(exc, TeaException):
        status = getattr(exc, "statusCode", None) or getattr(exc, "status_code", None)
        return _make(exc.code, _cloud_message(exc), http_status=status, action=action)
    if type(exc).__name__ == "RetryError":
        return _connection_error(getattr(exc, "message", str(exc)), action)
    try:
        import requests

        if isinstance(exc, requests.RequestException):
            return _connection_error(str(exc), action)
    except ImportError:  # pragma: no cover - requests ships with the SDK
        pass
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return _connection_error(str(exc), action)
    raise exc  # not an SDK failure: a bug, let it surface as one


def _credentials_error(exc, action: str | None) -> CloudError:
    """The credentials library quotes STS's answer as `http_code: N, result: {json}`: lift it out."""
    text = str(exc.message or "")
    found = re.search(r"http_code: (\d+), result: (\{.*\})\s*$", text, re.S)
    if found:
        try:
            body = json.loads(found.group(2))
        except ValueError:
            body = None
        if isinstance(body, dict) and (body.get("Code") or body.get("code")):
            return _make(body.get("Code") or body.get("code"),
                         "could not obtain credentials (the STS call of the credential source failed): "
                         f"{body.get('Message') or body.get('message') or ''}",
                         request_id=body.get("RequestId") or body.get("requestId"),
                         http_status=int(found.group(1)), action=action)
    return _make(exc.code or CREDENTIALS_CODE, f"could not obtain credentials: {text}",
                 request_id=exc.request_id, action=action)


def _connection_error(raw: str, action: str | None) -> CloudError:
    not_sent = any(marker in raw for marker in _NOT_SENT_MARKERS)
    if not_sent:
        return _make(CONNECTION_NOT_SENT, f"could not connect to the service: {_short(raw)}",
                     action=action, connection="not_sent")
    return _make(CONNECTION_UNKNOWN, f"the connection failed before an answer arrived: {_short(raw)}",
                 action=action, connection="unknown")


def _short(raw: str) -> str:
    # requests nests the cause in "Max retries exceeded with url: /?... (Caused by X(...))".
    cause = re.search(r"Caused by (\w+)\((.*)\)\)?$", raw, re.S)
    text = f"{cause.group(1)}: {cause.group(2)}" if cause else raw
    return redact(text)[:300]


# --- NoPermission: the one place its message is made ----------------------------------------------
# RAM's refusal codes: NoPermission (RAM and most RPC products, with AccessDeniedDetail), and the
# Forbidden.RAM / Forbidden.NoPermission spellings some products use. [?] the exact list per product
# is not documented; these three are the ones seen in the products' error-code pages.
NO_PERMISSION_CODES = frozenset({"NoPermission", "Forbidden.RAM", "Forbidden.NoPermission"})


def is_no_permission(err) -> bool:
    return _code(err) in NO_PERMISSION_CODES


def explain_no_permission(err: CloudError, *, account: str | None, side: str | None) -> CloudError:
    """A CloudError whose message names the account, the RAM action and the resource, and points to
    the policy acrx needs. Action and resource come from the cloud's AccessDeniedDetail when it
    has them (AuthAction, AuthResource), else from the call acrx made."""
    detail = err.access_denied_detail or {}
    action = detail.get("AuthAction") or err.action or "the action"
    resource = detail.get("AuthResource") or "(a resource the cloud's answer does not name)"
    who = detail.get("AuthPrincipalDisplayName")
    whose = f"account {account!r}" if account else "the account"
    holder = f" ({who})" if who else ""
    fix = f"acrx render operator-policy --account {side or 'cluster|registry'}"
    out = CloudError(err.code, f"{whose}{holder} may not call {action} on {resource}; grant the policy "
                     f"`{fix}` prints", request_id=err.request_id, http_status=err.http_status,
                     action=err.action, access_denied_detail=err.access_denied_detail)
    out.retry_after_s = getattr(err, "retry_after_s", None)
    out.connection = getattr(err, "connection", None)
    return out


# --- classification ---------------------------------------------------------------------------
def _code(err) -> str:
    return (getattr(err, "code", None) or "") if err is not None else ""


def is_not_found(err) -> bool:
    code = _code(err)
    if code.startswith(_NOT_RESOURCE_CODES):
        return False
    if getattr(err, "http_status", None) == 404 and not code.startswith(_NOT_A_RESOURCE_404):
        return True
    if not code:
        return False
    if code in _GONE_CODES:
        return True
    lowered = code.lower()
    return "notexist" in lowered or "notfound" in lowered or "not_exist" in lowered or "not_found" in lowered


def is_already_exists(err) -> bool:
    lowered = _code(err).lower()
    return "alreadyexist" in lowered or "alreadyinstalled" in lowered or "already_exist" in lowered


def is_throttling(err) -> bool:
    code = _code(err)
    return code.startswith(THROTTLING_PREFIXES) or code in THROTTLING_CODES or \
        getattr(err, "http_status", None) == 429


def is_busy(err) -> bool:
    """The action's target was busy with another task (BUSY_CODES_BY_ACTION): nothing was done."""
    return _code(err) in BUSY_CODES_BY_ACTION.get(getattr(err, "action", None) or "", ())


def is_server_error(err) -> bool:
    status = getattr(err, "http_status", None)
    return status is not None and status >= 500


def is_retryable(err, *, idempotent: bool = True) -> bool:
    """Worth another attempt: throttled, 5xx, or a connection failure.

    A write that may have reached the server (a lost connection, a 5xx other than 503) is
    retried only when the caller says it is idempotent.
    """
    if is_throttling(err) or is_busy(err):
        return True
    connection = getattr(err, "connection", None)
    if connection == "not_sent":
        return True
    if connection == "unknown":
        return idempotent
    if is_server_error(err):
        return idempotent or getattr(err, "http_status", None) == 503
    return False


def outcome_unknown(err) -> bool:
    """True when a write may or may not have been carried out."""
    return getattr(err, "connection", None) == "unknown" or (
        is_server_error(err) and getattr(err, "http_status", None) != 503 and not is_throttling(err))
