"""A registry v2 endpoint with Bearer token auth, for many sandbox ACR instances at once.

One loopback server answers for every instance: registry requests are routed by their Host
header (the instance's domain), and the token service (the "dockerauth" realm) lives on the
same server under /auth/<region>/token. The service string names the instance, so a token
is only good on the instance it was asked for.

Auth follows distribution and ACR EE:
- `GET /v2/` without a valid token: 401 + `WWW-Authenticate: Bearer realm=...,service=...`.
- The token endpoint takes HTTP Basic with the temporary credentials of GetAuthorizationToken
  (a bad pair: 401 UNAUTHORIZED). A repository the session may not pull is simply left out of
  the token's access, as distribution's token servers do; the refusal comes at the manifest.
- A request whose token lacks the repository: 401 with `error="insufficient_scope"` in the
  challenge and a DENIED body ("requested access to the resource is denied"). That is what
  ACR answers: containerd reports `pull access denied, repository does not exist or may require
  authorization: server message: insufficient_scope: ...` against *.cr.aliyuncs.com and the
  docker daemon `denied: requested access to the resource is denied`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Protocol
from urllib.parse import parse_qs, urlsplit

from acrx.sandbox.core.disconnect import QuietDisconnects, read_body
from acrx.sandbox.registry.images import OCI_INDEX, OCI_MANIFEST, ImageStore

TOKEN_TTL_SECONDS = 300  # distribution's token servers commonly issue 5-minute tokens
_NAME = r"[a-z0-9]+(?:[._-][a-z0-9]+)*/[a-z0-9]+(?:[._-][a-z0-9]+)*"
_ROUTE = re.compile(rf"^/v2/(?P<name>{_NAME})/(?P<kind>manifests|blobs|tags)/(?P<rest>[^/]+)$")
_AUTH_ROUTE = re.compile(r"^/auth/(?P<region>[a-z0-9-]+)/token$")
_SERVICE_PREFIX = "registry.aliyuncs.com"


class RegistryAuth(Protocol):
    """What the registry asks of the sandbox cloud.

    `login` returns an opaque session for valid, unexpired temporary credentials, or None.
    If the session has an `expires_at` attribute (epoch seconds, on the server's clock), no
    token outlives it. `can_pull` says whether the session may pull `namespace/repo` on the
    instance (cr:PullRepository, checked by the policy engine)."""

    def login(self, username: str, password: str) -> Any | None: ...

    def can_pull(self, session: Any, instance_id: str, namespace: str, repo: str) -> bool: ...


@dataclass(frozen=True)
class _Grant:
    instance_id: str
    subject: str
    repositories: frozenset[str]
    expires_at: float


def service_for(region: str, instance_id: str) -> str:
    return f"{_SERVICE_PREFIX}:{region}:{instance_id}"


def _instance_of_service(service: str) -> str | None:
    parts = service.split(":")
    return parts[2] if len(parts) == 3 and parts[0] == _SERVICE_PREFIX and parts[2] else None


def _errors(code: str, message: str, detail: Any = None) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message, "detail": detail}]}).encode()


def _accepted_types(header_values: list[str]) -> set[str]:
    types: set[str] = set()
    for value in header_values:
        for item in value.split(","):
            media = item.split(";")[0].strip().lower()
            if media:
                types.add(media)
    return types


class RegistryServer:
    def __init__(self, store: ImageStore, auth: RegistryAuth,
                 instance_for_host: Callable[[str], str | None],
                 region_for_instance: Callable[[str], str], *,
                 clock: Callable[[], float] = time.time, latency: float = 0.0,
                 token_ttl: float = TOKEN_TTL_SECONDS) -> None:
        self.store = store
        self.auth = auth
        self.instance_for_host = instance_for_host
        self.region_for_instance = region_for_instance
        self.clock = clock
        self.latency = latency  # seconds slept before answering each request (a test knob)
        self.token_ttl = token_ttl
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> "RegistryServer":
        handler = type("RegistryHandler", (_Handler,), {"registry": self})
        self._httpd = _QuietServer((host, port), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        name="sandbox-registry", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("registry server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def realm(self, region: str) -> str:
        return f"{self.url}/auth/{region}/token"

    def challenge(self, instance_id: str, scope: str | None = None, error: str | None = None) -> str:
        region = self.region_for_instance(instance_id)
        parts = [f'realm="{self.realm(region)}"', f'service="{service_for(region, instance_id)}"']
        if scope:
            parts.append(f'scope="{scope}"')
        if error:
            parts.append(f'error="{error}"')
        return "Bearer " + ",".join(parts)

    # -- tokens ----------------------------------------------------------------------------
    def issue_token(self, session: Any, subject: str, instance_id: str,
                    scopes: list[str]) -> tuple[str, int] | None:
        """Grant pull on each requested repository the session may pull; never push."""
        now = self.clock()
        expires_at = now + self.token_ttl
        session_expiry = getattr(session, "expires_at", None)
        if session_expiry is not None:
            expires_at = min(expires_at, float(session_expiry))
        if expires_at <= now:
            return None
        granted = set()
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind != "repository" or "pull" not in actions.split(",") or "/" not in name:
                continue
            namespace, repo = name.split("/", 1)
            if self.auth.can_pull(session, instance_id, namespace, repo):
                granted.add(name)
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._grants = {t: g for t, g in self._grants.items() if g.expires_at > now}
            self._grants[token] = _Grant(instance_id, subject, frozenset(granted), expires_at)
        return token, max(1, int(expires_at - now))

    def grant_for(self, token: str) -> _Grant | None:
        with self._lock:
            grant = self._grants.get(token)
        if grant is None or grant.expires_at <= self.clock():
            return None
        return grant


class _QuietServer(QuietDisconnects, ThreadingHTTPServer):
    """A client that gave up (a probe's timeout, a killed pull) is not a server fault."""

    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    registry: RegistryServer
    protocol_version = "HTTP/1.1"
    server_version = "acrx-sandbox-registry"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep stderr quiet
        pass

    # -- plumbing --------------------------------------------------------------------------
    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _dispatch(self) -> None:
        if self.registry.latency > 0:
            time.sleep(self.registry.latency)
        body = read_body(self.rfile, self.headers.get("Content-Length"))
        if body is None:  # the client left mid-request
            self.close_connection = True
            return
        url = urlsplit(self.path)
        auth_route = _AUTH_ROUTE.match(url.path)
        if auth_route:
            return self._token(url.query, body)
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip().lower()
        instance_id = self.registry.instance_for_host(host) if host else None
        if instance_id is None:
            return self._send(404, _errors("NAME_UNKNOWN", f"no registry is served at {host!r}"))
        if url.path in ("/v2", "/v2/"):
            if self._grant(instance_id) is None:
                return self._unauthorized(instance_id, None, "invalid_token"
                                          if self.headers.get("Authorization") else None)
            return self._send(200, b"{}")
        route = _ROUTE.match(url.path)
        if route is None:
            if url.path.startswith("/v2/"):
                return self._send(404, _errors("NAME_INVALID", "invalid repository name"))
            return self._send(404, b"404 page not found\n", content_type="text/plain; charset=utf-8")
        name, kind, rest = route["name"], route["kind"], route["rest"]
        # The sandbox is read-only: pushes are refused as a pull-only token would be refused.
        action = "pull" if self.command in ("GET", "HEAD") else "push"
        scope = f"repository:{name}:{action}"
        grant = self._grant(instance_id)
        if grant is None:
            error = "invalid_token" if self.headers.get("Authorization") else None
            return self._unauthorized(instance_id, scope, error)
        if action != "pull" or name not in grant.repositories:
            return self._send(401, _errors("DENIED", "requested access to the resource is denied"),
                              {"WWW-Authenticate": self.registry.challenge(
                                  instance_id, scope, "insufficient_scope")})
        store = self.registry.store
        if not store.has_repository(instance_id, name):
            return self._send(404, _errors("NAME_UNKNOWN", "repository name not known to registry",
                                           {"name": name}))
        if kind == "manifests":
            return self._manifest(instance_id, name, rest)
        if kind == "blobs":
            return self._blob(instance_id, name, rest)
        if rest != "list":
            return self._send(404, b"404 page not found\n", content_type="text/plain; charset=utf-8")
        tags = store.tags(instance_id, name) or []
        return self._send(200, json.dumps({"name": name, "tags": tags}).encode())

    def _grant(self, instance_id: str):
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        grant = self.registry.grant_for(token.strip())
        if grant is None or grant.instance_id != instance_id:
            return None  # a token of another instance is as good as none
        return grant

    def _unauthorized(self, instance_id: str, scope: str | None, error: str | None) -> None:
        detail = None
        if scope:
            _, name, action = scope.split(":")
            detail = [{"Type": "repository", "Class": "", "Name": name, "Action": action}]
        self._send(401, _errors("UNAUTHORIZED", "authentication required", detail),
                   {"WWW-Authenticate": self.registry.challenge(instance_id, scope, error)})

    # -- token service ---------------------------------------------------------------------
    def _token(self, query: str, body: bytes) -> None:
        params = parse_qs(query)
        username = password = None
        if self.command == "POST":
            # containerd first tries the OAuth2 password grant, then falls back to GET.
            form = parse_qs(body.decode("utf-8", "replace"))
            params = {**params, **form}
            if form.get("grant_type", [""])[0] == "password":
                username = form.get("username", [None])[0]
                password = form.get("password", [None])[0]
        elif self.command != "GET":
            return self._send(405, _errors("UNSUPPORTED", "The operation is unsupported."))
        if username is None:
            username, password = _basic_credentials(self.headers.get("Authorization"))
        service = params.get("service", [""])[0]
        instance_id = _instance_of_service(service)
        if instance_id is None:
            return self._send(400, _errors("UNSUPPORTED", f"unknown service {service!r}"))
        session = self.registry.auth.login(username, password) if username and password else None
        if session is None:
            return self._send(401, _errors("UNAUTHORIZED", "authentication required"),
                              {"WWW-Authenticate": 'Basic realm="dockerauth"'})
        scopes = [s for value in params.get("scope", []) for s in value.split(" ") if s]
        issued = self.registry.issue_token(session, username, instance_id, scopes)
        if issued is None:
            return self._send(401, _errors("UNAUTHORIZED", "credentials expired"))
        token, expires_in = issued
        issued_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.registry.clock()))
        doc = {"token": token, "access_token": token, "expires_in": expires_in,
               "issued_at": issued_at}
        self._send(200, json.dumps(doc).encode())

    # -- content ---------------------------------------------------------------------------
    def _manifest(self, instance_id: str, name: str, reference: str) -> None:
        stored = self.registry.store.manifest(instance_id, name, reference)
        if stored is None:
            return self._send(404, _errors("MANIFEST_UNKNOWN", "manifest unknown",
                                           {"Tag" if ":" not in reference else "Digest": reference}))
        accepted = _accepted_types(self.headers.get_all("Accept") or [])
        # distribution 2.8: an OCI manifest or index is only served to a client that names its
        # media type. (A schema 2 manifest asked for without Accept would be down-converted to
        # schema 1 there; the sandbox serves schema 2 as is, since no current runtime asks so.)
        if stored.media_type in (OCI_MANIFEST, OCI_INDEX) and stored.media_type not in accepted:
            return self._send(404, _errors(
                "MANIFEST_UNKNOWN", "OCI manifest found, but accept header does not support OCI "
                "manifests", {"Tag" if ":" not in reference else "Digest": reference}))
        self._send(200, stored.data, {"Docker-Content-Digest": stored.digest,
                                      "Etag": f'"{stored.digest}"'},
                   content_type=stored.media_type)

    def _blob(self, instance_id: str, name: str, digest: str) -> None:
        data = self.registry.store.blob(instance_id, name, digest)
        if data is None:
            return self._send(404, _errors("BLOB_UNKNOWN", "blob unknown to registry", digest))
        self._send(200, data, {"Docker-Content-Digest": digest, "Etag": f'"{digest}"',
                               "Cache-Control": "max-age=31536000"},
                   content_type="application/octet-stream")

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


def _basic_credentials(header: str | None) -> tuple[str | None, str | None]:
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else (None, None)
