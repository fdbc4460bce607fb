"""The node's registry client: what containerd does to pull one image, reduced to the wire.

Independent of acrx's own registry client on purpose: the sandbox must not borrow the code it
is meant to check. It speaks HTTP to the sandbox registry on loopback and names the registry
domain in the Host header, as a node would reach `<instance>-registry[-vpc].<region>.cr.aliyuncs.com`.

containerd's resolver goes straight to `HEAD /v2/<name>/manifests/<ref>`; on a 401 Bearer
challenge it fetches a token from the realm (OAuth2 password grant by POST when it has
credentials, falling back to GET with Basic; an anonymous GET otherwise), then retries. Failure
texts follow containerd's (remotes/docker) so the kubelet can put them in events verbatim.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)
INDEX_TYPES = MANIFEST_TYPES[1::2]
DEFAULT_REGISTRY = "docker.io"


@dataclass(frozen=True)
class ImageRef:
    """An image reference, normalised as the container runtime does (docker.io/library/...)."""

    host: str
    repository: str
    reference: str  # a tag, or a digest (sha256:...)

    @classmethod
    def parse(cls, image: str) -> "ImageRef":
        name, digest = image, None
        if "@" in name:
            name, digest = name.split("@", 1)
        first, _, rest = name.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            host, path = first, rest
        else:
            host, path = DEFAULT_REGISTRY, name
            if "/" not in path:
                path = "library/" + path
        tag = None
        last = path.rsplit("/", 1)[-1]
        if ":" in last:
            path, tag = path.rsplit(":", 1)
        return cls(host.lower(), path, digest or tag or "latest")

    def __str__(self) -> str:
        sep = "@" if self.reference.startswith("sha256:") else ":"
        return f"{self.host}/{self.repository}{sep}{self.reference}"

    @property
    def manifest_url(self) -> str:
        return f"https://{self.host}/v2/{self.repository}/manifests/{self.reference}"


class PullError(Exception):
    """A failed resolve or fetch; `message` is containerd's text after `failed to resolve reference`."""

    def __init__(self, kind: str, message: str, *, grpc_code: str = "Unknown"):
        super().__init__(message)
        self.kind = kind  # unauthorized | denied | not_found | network | invalid
        self.message = message
        self.grpc_code = grpc_code


@dataclass(frozen=True)
class PulledImage:
    digest: str
    size: int         # config + layers, as the kubelet reports `Image size: N bytes`
    seconds: float    # time spent pulling


@dataclass(frozen=True)
class Auth:
    """Docker credentials for one registry host (from a dockerconfigjson `auths` entry)."""

    username: str
    password: str = ""

    def __repr__(self) -> str:
        return f"Auth(username={self.username!r}, password=<redacted>)"


class RegistryClient:
    def __init__(self, connect_to: str, *, timeout: float = 10.0):
        split = urlsplit(connect_to)
        self._host, self._port = split.hostname or "127.0.0.1", split.port or 80
        self.timeout = timeout

    # -- HTTP ------------------------------------------------------------------------------
    def _request(self, method: str, url: str, headers: dict[str, str], body: bytes | None = None):
        """Send to the loopback registry; the URL's host travels in the Host header."""
        split = urlsplit(url)
        path = split.path + (f"?{split.query}" if split.query else "")
        if split.hostname in ("127.0.0.1", "localhost") and split.port:
            host, port, host_header = split.hostname, split.port, f"{split.hostname}:{split.port}"
        else:
            host, port, host_header = self._host, self._port, split.netloc
        conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers={"Host": host_header, **headers})
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        except OSError as exc:
            raise PullError("network", f"failed to do request: {method.capitalize()} {url!r}: {exc}") from None
        finally:
            conn.close()

    # -- token dance -----------------------------------------------------------------------
    def _token(self, challenge: str, scope: str | None, auth: Auth | None) -> str:
        scheme, params = parse_challenge(challenge)
        if scheme != "bearer" or "realm" not in params:
            raise PullError("unauthorized", "failed to authorize: unsupported authorization challenge")
        realm, service = params["realm"], params.get("service", "")
        scope = params.get("scope") or scope or ""
        if auth is None:
            query = urlencode({"scope": scope, "service": service})
            url = f"{realm}?{query}"
            status, _, body = self._request("GET", url, {})
            if status != 200:
                raise PullError("unauthorized", "failed to authorize: failed to fetch anonymous token: unexpected "
                                f"status from GET request to {url}: {_status_text(status)}")
            return _token_of(body)
        form = urlencode({"grant_type": "password", "service": service, "scope": scope,
                          "client_id": "containerd-client", "username": auth.username,
                          "password": auth.password}).encode()
        status, _, body = self._request("POST", realm, {"Content-Type": "application/x-www-form-urlencoded"}, form)
        if status in (404, 405):  # no OAuth2 endpoint: containerd falls back to GET with Basic
            basic = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
            url = f"{realm}?{urlencode({'scope': scope, 'service': service})}"
            status, _, body = self._request("GET", url, {"Authorization": f"Basic {basic}"})
            if status != 200:
                raise PullError("unauthorized", "failed to authorize: failed to fetch basic token: unexpected "
                                f"status from GET request to {url}: {_status_text(status)}")
            return _token_of(body)
        if status != 200:
            raise PullError("unauthorized", "failed to authorize: failed to fetch oauth token: unexpected status "
                            f"from POST request to {realm}: {_status_text(status)}")
        return _token_of(body)

    # -- pull ------------------------------------------------------------------------------
    def pull(self, ref: ImageRef, auth: Auth | None) -> PulledImage:
        started = time.monotonic()
        accept = ", ".join(MANIFEST_TYPES)
        url = ref.manifest_url
        status, headers, _ = self._request("HEAD", url, {"Accept": accept})
        bearer: dict[str, str] = {}
        if status == 401:
            token = self._token(headers.get("www-authenticate", ""), f"repository:{ref.repository}:pull", auth)
            bearer = {"Authorization": f"Bearer {token}"}
            status, headers, _ = self._request("HEAD", url, {"Accept": accept, **bearer})
        self._check(status, headers, ref)
        digest = headers.get("docker-content-digest") or ref.reference
        manifest, media_type = self._manifest(ref, digest, accept, bearer)
        if media_type in INDEX_TYPES or "manifests" in manifest:
            chosen = _platform(manifest)
            if chosen is None:
                raise PullError("not_found", f"{ref}: no match for platform in manifest: not found",
                                grpc_code="NotFound")
            manifest, _ = self._manifest(ref, chosen, accept, bearer)
        size = 0
        for descriptor in [manifest.get("config") or {}] + list(manifest.get("layers") or []):
            size += self._blob(ref, descriptor, bearer)
        return PulledImage(digest=digest, size=size, seconds=time.monotonic() - started)

    def _check(self, status: int, headers: dict[str, str], ref: ImageRef) -> None:
        if status == 200:
            return
        if status == 404:
            raise PullError("not_found", f"{ref}: not found", grpc_code="NotFound")
        if status in (401, 403):
            _, params = parse_challenge(headers.get("www-authenticate", ""))
            # containerd: ErrUnauthorized on a token that does not cover the repository.
            error = params.get("error") or "authorization failed"
            raise PullError("denied", "pull access denied, repository does not exist or may require "
                            f"authorization: server message: {error}: authorization failed")
        raise PullError("invalid", f"unexpected status from HEAD request to {ref.manifest_url}: "
                        f"{_status_text(status)}")

    def _manifest(self, ref: ImageRef, digest: str, accept: str, bearer: dict) -> tuple[dict, str]:
        url = f"https://{ref.host}/v2/{ref.repository}/manifests/{digest}"
        status, headers, body = self._request("GET", url, {"Accept": accept, **bearer})
        self._check(status, headers, ref)
        if digest.startswith("sha256:") and _sha256(body) != digest:
            raise PullError("invalid", f"failed to fetch {digest}: digest mismatch")
        try:
            return json.loads(body), headers.get("content-type", "").split(";")[0]
        except ValueError:
            raise PullError("invalid", f"failed to fetch {digest}: invalid manifest") from None

    def _blob(self, ref: ImageRef, descriptor: dict, bearer: dict) -> int:
        digest = descriptor.get("digest", "")
        url = f"https://{ref.host}/v2/{ref.repository}/blobs/{digest}"
        status, headers, body = self._request("GET", url, bearer)
        if status != 200:
            raise PullError("invalid", f"failed to copy: httpReadSeeker: failed open: unexpected status code "
                            f"{url}: {_status_text(status)}")
        if _sha256(body) != digest:
            raise PullError("invalid", f"failed commit on ref \"layer-{digest}\": unexpected commit digest "
                            f"{_sha256(body)}, expected {digest}: failed precondition")
        return len(body)


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="...",service="...",scope="..."` -> ("bearer", {...})."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    i = 0
    while i < len(rest):
        eq = rest.find("=", i)
        if eq < 0:
            break
        key = rest[i:eq].strip().strip(",").strip().lower()
        if eq + 1 < len(rest) and rest[eq + 1] == '"':
            end = rest.find('"', eq + 2)
            end = len(rest) if end < 0 else end
            params[key] = rest[eq + 2:end]
            i = end + 1
        else:
            end = rest.find(",", eq + 1)
            end = len(rest) if end < 0 else end
            params[key] = rest[eq + 1:end].strip()
            i = end
        while i < len(rest) and rest[i] in ", ":
            i += 1
    return scheme.lower(), params


def _platform(index: dict) -> str | None:
    for entry in index.get("manifests") or []:
        platform = entry.get("platform") or {}
        if platform.get("os", "linux") == "linux" and platform.get("architecture", "amd64") == "amd64":
            return entry.get("digest")
    return None


def _token_of(body: bytes) -> str:
    try:
        doc = json.loads(body)
    except ValueError:
        raise PullError("unauthorized", "failed to authorize: failed to decode token response") from None
    token = doc.get("token") or doc.get("access_token")
    if not token:
        raise PullError("unauthorized", "failed to authorize: no token in the token response")
    return token


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 500: "Internal Server Error", 503: "Service Unavailable"}


def _status_text(status: int) -> str:
    return f"{status} {_REASONS.get(status, '')}".strip()
