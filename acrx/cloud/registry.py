"""A registry v2 probe that pulls a manifest the way a container runtime does.

`probe_image` does containerd's token dance: `GET /v2/`, the Bearer challenge, the realm with
HTTP Basic and `scope=repository:<repo>:pull`, then HEAD (falling back to GET) of the manifest
with containerd's Accept header, then GET by digest to verify it and add up the image size.
Failures carry a kind and the cause as a kubelet event would word it. Credentials and tokens
never enter a message or a repr.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from acrx.errors import AcrxError

# containerd's Accept header for manifest resolution (remotes/docker/resolver.go).
MANIFEST_ACCEPT = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "*/*",
])
_INDEX_TYPES = {"application/vnd.docker.distribution.manifest.list.v2+json",
                "application/vnd.oci.image.index.v1+json"}
_MAX_MANIFEST_BYTES = 4 * 1024 * 1024
_USER_AGENT = "acrx-registry-probe/1"
_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')

PROBE_ERROR_KINDS = ("dns", "connect", "timeout", "tls", "unauthorized", "denied", "not_found",
                     "protocol")


class RegistryProbeError(AcrxError):
    """A pull that failed; `kind` is one of PROBE_ERROR_KINDS."""

    def __init__(self, kind: str, message: str):
        if kind not in PROBE_ERROR_KINDS:
            raise ValueError(f"unknown probe error kind {kind!r}")
        self.kind = kind
        self.message = message
        super().__init__(message)

    def __repr__(self) -> str:
        return f"RegistryProbeError(kind={self.kind!r}, message={self.message!r})"


@dataclass(frozen=True)
class ImageProbe:
    digest: str  # of the manifest the tag resolves to (an index when the image has several)
    media_type: str
    size: int  # config + layers of the linux/amd64 image, as the kubelet reports it


@dataclass(frozen=True)
class _Response:
    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="...",service="..."` -> ("bearer", {realm, service, ...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
              for m in _CHALLENGE_PARAM.finditer(rest)}
    return scheme.lower(), {k: v.replace('\\"', '"') for k, v in params.items()}


class _Client:
    """HTTP to one registry domain, optionally through a loopback address (sandbox mode)."""

    def __init__(self, domain: str, connect_to: str | None, timeout: float):
        self.domain = domain
        self.timeout = timeout
        self.connect_to = urlsplit(connect_to) if connect_to else None

    def request(self, method: str, url: str, headers: dict[str, str]) -> _Response:
        parts = urlsplit(url)
        host_header = parts.netloc
        target_scheme, target_host, target_port = parts.scheme, parts.hostname, parts.port
        if self.connect_to is not None and host_header == self.domain:
            target_scheme = self.connect_to.scheme
            target_host, target_port = self.connect_to.hostname, self.connect_to.port
        if target_port is None:
            target_port = 443 if target_scheme == "https" else 80
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if target_scheme == "https":
            sni = (parts.hostname or target_host)
            conn: http.client.HTTPConnection = _SNIConnection(
                target_host, target_port, timeout=self.timeout, server_hostname=sni)
        else:
            conn = http.client.HTTPConnection(target_host, target_port, timeout=self.timeout)
        address = f"{target_host}:{target_port}"
        try:
            self._connect(conn, parts.hostname or target_host, address)
            try:
                conn.request(method, path, headers={"Host": host_header, "User-Agent": _USER_AGENT,
                                                    **headers})
                resp = conn.getresponse()
                body = resp.read(_MAX_MANIFEST_BYTES + 1) if method != "HEAD" else b""
            except (socket.timeout, TimeoutError):
                raise RegistryProbeError("timeout", f"read tcp {address}: i/o timeout") from None
            except ConnectionResetError:
                raise RegistryProbeError(
                    "connect", f"read tcp {address}: read: connection reset by peer") from None
            except (http.client.HTTPException, OSError) as exc:
                raise RegistryProbeError(
                    "protocol", f"{method} {parts.scheme}://{host_header}{parts.path}: "
                                f"{type(exc).__name__}: {exc}") from None
            return _Response(resp.status, resp.reason, resp.headers, body)
        finally:
            conn.close()

    @staticmethod
    def _connect(conn: http.client.HTTPConnection, hostname: str, address: str) -> None:
        try:
            conn.connect()
        except socket.gaierror as exc:
            cause = ("no such host" if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5))
                     else (exc.strerror or str(exc)))
            raise RegistryProbeError("dns", f"dial tcp: lookup {hostname}: {cause}") from None
        except (socket.timeout, TimeoutError):
            raise RegistryProbeError("timeout", f"dial tcp {address}: i/o timeout") from None
        except ssl.SSLCertVerificationError as exc:
            raise RegistryProbeError(
                "tls", f"tls: failed to verify certificate: {exc.verify_message}") from None
        except ssl.SSLError as exc:
            raise RegistryProbeError("tls", f"tls: handshake failure: {exc.reason}") from None
        except ConnectionRefusedError:
            raise RegistryProbeError("connect", f"dial tcp {address}: connect: connection refused") from None
        except OSError as exc:
            raise RegistryProbeError(
                "connect", f"dial tcp {address}: connect: {(exc.strerror or str(exc)).lower()}") from None


class _SNIConnection(http.client.HTTPSConnection):
    """HTTPS to an address, with SNI and certificate checks for the registry's own name."""

    def __init__(self, host: str, port: int, *, timeout: float, server_hostname: str):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._server_hostname = server_hostname

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._server_hostname)


def _server_error(resp: _Response) -> tuple[str, str]:
    """(code, message) of a distribution error body, e.g. ("denied", "requested access ...")."""
    try:
        errors = json.loads(resp.body or b"{}").get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    if errors and isinstance(errors[0], dict):
        return str(errors[0].get("code") or "").lower(), str(errors[0].get("message") or "")
    return "", f"{resp.status} {resp.reason}"


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def probe_image(domain: str, repository: str, reference: str, username: str | None,
                password: str | None, *, connect_to: str | None = None,
                timeout: float = 10) -> ImageProbe:
    """Resolve `<domain>/<repository>:<reference>` with the given registry credentials."""
    domain = domain.strip().lower()
    client = _Client(domain, connect_to, timeout)
    scheme = "https" if connect_to is None or urlsplit(connect_to).scheme == "https" else "http"
    base = f"{scheme}://{domain}"
    sep = "@" if reference.startswith("sha256:") else ":"
    image_ref = f"{domain}/{repository}{sep}{reference}"

    authorization = _authorize(client, base, repository, username, password)
    manifest_url = f"{base}/v2/{repository}/manifests/{reference}"
    headers = {"Accept": MANIFEST_ACCEPT, **authorization}

    resp = client.request("HEAD", manifest_url, headers)
    if resp.status in (401, 403, 404):
        # HEAD has no body; the GET's error body says which (manifest or repository unknown,
        # denied), as containerd learns when it retries with GET.
        resp = client.request("GET", manifest_url, headers)
    _raise_for_manifest(resp, image_ref)
    digest = resp.headers.get("Docker-Content-Digest")
    if resp.status != 200 or not digest:
        resp = client.request("GET", manifest_url, headers)
        _raise_for_manifest(resp, image_ref)
        digest = resp.headers.get("Docker-Content-Digest") or _sha256(resp.body)
    media_type = (resp.headers.get("Content-Type") or "").split(";")[0].strip()

    manifest = _fetch_manifest(client, f"{base}/v2/{repository}/manifests/{digest}", headers,
                               digest, image_ref)
    media_type = media_type or manifest.get("mediaType", "")
    if manifest.get("mediaType") in _INDEX_TYPES or "manifests" in manifest:
        child = _pick_platform(manifest.get("manifests") or [], image_ref)
        manifest = _fetch_manifest(client, f"{base}/v2/{repository}/manifests/{child}",
                                   headers, child, image_ref)
    try:
        size = int(manifest["config"]["size"]) + sum(int(l["size"]) for l in manifest["layers"])
    except (KeyError, TypeError, ValueError):
        raise RegistryProbeError("protocol", f"{image_ref}: manifest has no config and layers") from None
    return ImageProbe(digest=digest, media_type=media_type, size=size)


def _authorize(client: _Client, base: str, repository: str, username: str | None,
               password: str | None) -> dict[str, str]:
    ping = client.request("GET", f"{base}/v2/", {})
    if ping.status == 200:
        return {}  # an anonymous registry
    if ping.status != 401:
        raise RegistryProbeError("protocol", f"GET {base}/v2/: unexpected status {ping.status} {ping.reason}")
    scheme, params = parse_challenge(ping.headers.get("WWW-Authenticate") or "")
    if scheme == "basic":
        if not username:
            raise RegistryProbeError("unauthorized", "401 Unauthorized: no credentials for the registry")
        return {"Authorization": _basic(username, password or "")}
    realm = params.get("realm")
    if scheme != "bearer" or not realm:
        raise RegistryProbeError("protocol", f"GET {base}/v2/: 401 without a Bearer challenge")
    query = {"scope": f"repository:{repository}:pull"}
    if params.get("service"):
        query["service"] = params["service"]
    headers = {}
    if username:
        query["account"] = username
        headers["Authorization"] = _basic(username, password or "")
    realm_parts = urlsplit(realm)
    realm_base = f"{realm_parts.scheme}://{realm_parts.netloc}{realm_parts.path}"
    resp = client.request("GET", f"{realm}{'&' if realm_parts.query else '?'}{urlencode(query)}",
                          headers)
    if resp.status in (401, 403):
        raise RegistryProbeError(
            "unauthorized", "failed to authorize: failed to fetch oauth token: unexpected status "
                            f"from GET request to {realm_base}: {resp.status} {resp.reason}")
    if resp.status != 200:
        raise RegistryProbeError("protocol", f"GET {realm_base}: unexpected status {resp.status} {resp.reason}")
    try:
        doc = json.loads(resp.body)
        token = doc.get("token") or doc.get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not token:
        raise RegistryProbeError("protocol", f"GET {realm_base}: the answer holds no token")
    return {"Authorization": f"Bearer {token}"}


def _raise_for_manifest(resp: _Response, image_ref: str) -> None:
    if resp.status in (200, 405):
        return
    code, message = _server_error(resp)
    if resp.status == 404:
        raise RegistryProbeError("not_found", f"{image_ref}: not found ({message})")
    if resp.status == 401:
        _, params = parse_challenge(resp.headers.get("WWW-Authenticate") or "")
        error = params.get("error")
        if error == "insufficient_scope" or code == "denied":
            detail = ": ".join(x for x in (error, params.get("error_description"), message) if x)
            raise RegistryProbeError(
                "denied", "pull access denied, repository does not exist or may require "
                          f"authorization: server message: {detail}")
        raise RegistryProbeError("unauthorized", f"401 Unauthorized: {error or message}")
    if resp.status == 403:
        raise RegistryProbeError("denied", f"403 Forbidden: {code or 'denied'}: {message}")
    raise RegistryProbeError("protocol", f"{image_ref}: unexpected status {resp.status} {resp.reason}")


def _fetch_manifest(client: _Client, url: str, headers: dict[str, str], digest: str,
                    image_ref: str) -> dict:
    resp = client.request("GET", url, headers)
    _raise_for_manifest(resp, image_ref)
    if resp.status != 200:
        raise RegistryProbeError("protocol", f"{image_ref}: GET manifest answered {resp.status}")
    if len(resp.body) > _MAX_MANIFEST_BYTES:
        raise RegistryProbeError("protocol", f"{image_ref}: manifest larger than 4 MiB")
    if _sha256(resp.body) != digest:
        raise RegistryProbeError("protocol", f"{image_ref}: manifest does not match digest {digest}")
    try:
        doc = json.loads(resp.body)
    except ValueError:
        raise RegistryProbeError("protocol", f"{image_ref}: manifest is not JSON") from None
    if not isinstance(doc, dict):
        raise RegistryProbeError("protocol", f"{image_ref}: manifest is not a JSON object")
    return doc


def _pick_platform(entries: list, image_ref: str) -> str:
    """The linux/amd64 entry of an index, as a node of that platform would choose."""
    for entry in entries:
        platform = entry.get("platform") or {}
        if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
            return entry["digest"]
    raise RegistryProbeError("not_found", f"{image_ref}: no match for platform linux/amd64 in manifest")


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()
