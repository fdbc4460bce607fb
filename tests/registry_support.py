"""Debian's docker-registry (distribution 2.8) on loopback, with token auth from a small
token service: the second, independent backend of the registry contract tests.

The token service signs RS256 JWTs with `cryptography`. distribution finds the verifying key
by the JWT header `kid`, which must be the libtrust key id of the signing key (base32 of the
first 30 bytes of sha256(DER SubjectPublicKeyInfo), in 4-character groups joined by ':');
the self-signed certificate of that key is the registry's rootcertbundle.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from acrx.sandbox.registry.images import Image, image_size, nginx_image

REGISTRY_BINARY = "/usr/bin/docker-registry"
SERVICE = "acrx-test-registry"
ISSUER = "acrx-test-token-issuer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id(public_key) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    return ":".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class TokenService:
    """Users: name -> (password, {repository: actions}); "*" as repository matches any."""

    users: dict[str, tuple[str, dict[str, set[str]]]]
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    ttl: int = 300

    def certificate_pem(self) -> bytes:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=1))
                .sign(self.key, hashes.SHA256()))
        return cert.public_bytes(serialization.Encoding.PEM)

    def grant(self, username: str, password: str, scopes: list[str]) -> list[dict] | None:
        entry = self.users.get(username)
        if entry is None or not secrets.compare_digest(entry[0], password):
            return None
        rights = entry[1]
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            allowed = rights.get(name, set()) | rights.get(name.split("/")[0] + "/*", set()) \
                | rights.get("*", set())
            granted = [a for a in actions.split(",") if a in allowed]
            if kind == "repository" and granted:
                access.append({"type": "repository", "name": name, "actions": granted})
        return access

    def sign(self, subject: str, access: list[dict]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "kid": libtrust_key_id(self.key.public_key())}
        claims = {"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + self.ttl,
                  "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8), "access": access}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
                access = None
                username = ""
                if scheme.lower() == "basic":
                    username, _, password = base64.b64decode(value).decode().partition(":")
                    scopes = [s for v in query.get("scope", []) for s in v.split(" ") if s]
                    access = service.grant(username, password, scopes)
                if access is None:
                    body = json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                                   "message": "authentication required"}]}).encode()
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="token"')
                else:
                    token = service.sign(username, access)
                    body = json.dumps({"token": token, "access_token": token,
                                       "expires_in": service.ttl}).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/token"


@dataclass(frozen=True)
class DebianRegistry:
    url: str
    service: str
    username: str  # may pull the namespace `team`
    password: str = field(repr=False)
    repo: str
    tag: str
    digest: str
    size: int
    no_pull_username: str  # valid login, no pull right
    no_pull_password: str = field(repr=False)


def _call(url: str, method: str, path: str, token: str, body: bytes = b"",
          content_type: str | None = None) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Authorization": f"Bearer {token}", "Content-Length": str(len(body))}
    if content_type:
        headers["Content-Type"] = content_type
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def push_image(url: str, token: str, repo: str, tag: str, image: Image) -> None:
    """Blob uploads (POST then PUT ?digest=), then the manifest, as `docker push` does."""
    for blob in image.blobs():
        resp = _call(url, "POST", f"/v2/{repo}/blobs/uploads/", token)
        assert resp.status == 202, f"blob upload start: {resp.status}"
        location = urlsplit(resp.getheader("Location"))
        query = f"{location.query}&" if location.query else ""
        path = f"{location.path}?{query}digest={blob.digest}"
        resp = _call(url, "PUT", path, token, blob.data, "application/octet-stream")
        assert resp.status == 201, f"blob upload finish: {resp.status}"
    resp = _call(url, "PUT", f"/v2/{repo}/manifests/{tag}", token, image.manifest, image.media_type)
    assert resp.status == 201, f"manifest put: {resp.status}"
    assert resp.getheader("Docker-Content-Digest") == image.digest


def _wait_ready(url: str, proc: subprocess.Popen, deadline: float) -> None:
    parts = urlsplit(url)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=1)
            conn.request("GET", "/v2/")
            status = conn.getresponse().status
            conn.close()
            if status == 401:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("docker-registry did not answer on /v2/ in time")


@contextmanager
def debian_registry(workdir: Path, repo: str = "team/nginx", tag: str = "v1") -> Iterator[DebianRegistry]:
    """Start docker-registry with token auth, push an image, yield, stop (waiting on the PID)."""
    password, other_password = secrets.token_hex(8), secrets.token_hex(8)
    tokens = TokenService(users={
        "ci": (password, {"team/*": {"pull"}}),
        "nobody": (other_password, {}),
        "pusher": (secrets.token_hex(8), {"*": {"pull", "push"}}),
    })
    token_httpd, realm = tokens.serve()
    (workdir / "root.crt").write_bytes(tokens.certificate_pem())
    port = free_port()
    config = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(workdir / "data")},
                    "maintenance": {"uploadpurging": {"enabled": False}}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
        "auth": {"token": {"realm": realm, "service": SERVICE, "issuer": ISSUER,
                           "rootcertbundle": str(workdir / "root.crt")}},
    }
    config_path = workdir / "config.yml"
    config_path.write_text(json.dumps(config))  # JSON is YAML
    log = open(workdir / "registry.log", "wb")
    proc = subprocess.Popen([REGISTRY_BINARY, "serve", str(config_path)], stdout=log,
                            stderr=subprocess.STDOUT, env={"PATH": os.environ.get("PATH", "")})
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, time.monotonic() + 15)
        image = nginx_image()
        push_token = tokens.sign("pusher", [{"type": "repository", "name": repo,
                                             "actions": ["pull", "push"]}])
        push_image(url, push_token, repo, tag, image)
        yield DebianRegistry(url=url, service=SERVICE, username="ci", password=password,
                             repo=repo, tag=tag, digest=image.digest, size=image_size(image),
                             no_pull_username="nobody", no_pull_password=other_password)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)  # distribution takes 0.5-3 s to exit after SIGTERM
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
        token_httpd.shutdown()
        token_httpd.server_close()


def registry_binary_available() -> bool:
    return os.path.exists(REGISTRY_BINARY) and shutil.which(REGISTRY_BINARY) is not None


# -- the sandbox backend, with an in-test RegistryAuth -------------------------------------


@dataclass(frozen=True)
class UserSession:
    username: str
    expires_at: float


class SimpleRegistryAuth:
    """Users: name -> (password, namespaces the user may pull); sessions end at `lifetime`."""

    def __init__(self, users: dict[str, tuple[str, set[str]]], clock=time.time,
                 lifetime: float = 3600):
        self.users, self.clock, self.lifetime = users, clock, lifetime

    def login(self, username: str, password: str) -> UserSession | None:
        entry = self.users.get(username)
        if entry is None or not secrets.compare_digest(entry[0], password):
            return None
        return UserSession(username, self.clock() + self.lifetime)

    def can_pull(self, session: UserSession, instance_id: str, namespace: str, repo: str) -> bool:
        return session.expires_at > self.clock() and namespace in self.users[session.username][1]


def raw_request(url: str, method: str, path: str, host: str | None = None,
                headers: dict[str, str] | None = None, body: bytes = b""):
    """One plain HTTP exchange: (status, headers, body)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    all_headers = dict(headers or {})
    if host:
        all_headers["Host"] = host
    conn.request(method, path, body=body or None, headers=all_headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, resp.headers, data
