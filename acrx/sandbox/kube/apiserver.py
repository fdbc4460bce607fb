"""The sandbox cluster's Kubernetes API over HTTP: a ThreadingHTTPServer on loopback.

REST paths, verbs, status codes and bodies are those of kube-apiserver for the kinds in
resources.py; kubectl 1.32 and the official Python client are the judges. Bearer token auth:
every request but the health checks needs `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import json
import select
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from acrx.sandbox.core.disconnect import QuietDisconnects, read_body

from . import discovery, openapi
from .errors import KubeError
from .handlers import handle  # the verbs, kept apart so each module stays small
from .resources import ResourceType, resource_for_path
from .store import PATCH_TYPES, ClusterStore
from .tables import to_table

_UNSUPPORTED_MEDIA = KubeError(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - accepted media types include: "
                               "application/json, application/yaml")
_NOT_FOUND_PATH = KubeError(404, "NotFound", "the server could not find the requested resource")


class _Route:
    def __init__(self, rt: ResourceType, namespace: str | None, name: str | None, subresource: str | None):
        self.rt, self.namespace, self.name, self.subresource = rt, namespace, name, subresource


def parse_resource_path(parts: list[str]) -> _Route | None:
    """/api/v1/... or /apis/<group>/<version>/... -> the resource, namespace, name, subresource."""
    if parts[:1] == ["api"] and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if rest[:1] == ["namespaces"] and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    else:
        namespace = None
    if not rest or len(rest) > 3:
        return None
    rt = resource_for_path(group, version, rest[0])
    if rt is None:
        return None
    if namespace is not None and not rt.namespaced:
        return None
    return _Route(rt, namespace, rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None)


class KubeAPIServer(QuietDisconnects, ThreadingHTTPServer):  # a client gone mid-call is no fault
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, store: ClusterStore, token: str, host: str = "127.0.0.1", port: int = 0,
                 ssl_context: ssl.SSLContext | None = None):
        self.store = store
        self._ssl_context = ssl_context
        self._token = token
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        # Wrap per connection without handshaking here: the handshake then runs on the handler
        # thread, so one slow client cannot stall accept().
        conn, address = self.socket.accept()
        if self._ssl_context is not None:
            conn = self._ssl_context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, address

    def __repr__(self) -> str:  # never show the token
        return f"KubeAPIServer({self.server_address!r})"

    def token_ok(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[len("Bearer "):].strip().encode(), self._token.encode())

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._connections_lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def stop(self) -> None:
        self.stopping.set()
        self.store.close()
        self.shutdown()
        with self._connections_lock:
            for conn in list(self._connections):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: KubeAPIServer
    server_version = "acrx-sandbox-kube"

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and the demo own stdout
        return

    # ------------------------------------------------------------ responses
    def _send_json(self, code: int, body: Any, content_type: str = "application/json") -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, err: KubeError) -> None:
        self._send_json(err.status_code, err.to_status())

    def _start_chunked(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def _end_chunked(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True

    def _client_gone(self) -> bool:
        """True once the client has closed its end. While a response streams, an HTTP/1.1 client
        sends nothing, so anything readable is its FIN or TLS close_notify."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable)
        except (OSError, ValueError):
            return True

    # ------------------------------------------------------------ dispatch
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        body = read_body(self.rfile, self.headers.get("Content-Length"))
        if body is None:  # the client left mid-request: a truncated YAML body could still parse
            self.close_connection = True
            return
        self.body = body
        path = url.path.rstrip("/") or "/"
        if path in ("/healthz", "/livez", "/readyz"):
            data = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if not self.server.token_ok(self.headers.get("Authorization")):
            self._send_json(401, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                  "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
            return
        try:
            self._route(method, path)
        except KubeError as err:
            self._send_error(err)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _route(self, method: str, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        if method == "GET":
            document = self._discovery(parts)
            if document is not None:
                self._send_json(200, document)
                return
            if parts[:1] == ["openapi"]:
                self._send_json(200, openapi.document(parts, self.query))
                return
        watch_at = 2 if parts[:1] == ["api"] else 3  # legacy /api/v1/watch/... paths
        if len(parts) > watch_at and parts[watch_at] == "watch":
            del parts[watch_at]
            self.query["watch"] = "true"
        route = parse_resource_path(parts)
        if route is None:
            raise _NOT_FOUND_PATH
        handle(self, method, route)

    def _discovery(self, parts: list[str]) -> dict | None:
        if parts == ["version"]:
            return discovery.SERVER_VERSION
        if parts == ["api"]:
            host, port = self.server.server_address[:2]
            return discovery.api_versions(f"{host}:{port}")
        if parts == ["apis"]:
            return discovery.api_group_list()
        if len(parts) == 2 and parts[0] == "api":
            return discovery.api_resource_list("", parts[1])
        if len(parts) == 2 and parts[0] == "apis":
            return discovery.api_group(parts[1])
        if len(parts) == 3 and parts[0] == "apis":
            return discovery.api_resource_list(parts[1], parts[2])
        return None

    # ------------------------------------------------------------ request bodies
    def json_body(self) -> Any:
        content_type = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        try:
            if content_type in ("application/yaml", "application/apply-patch+yaml"):
                return yaml.safe_load(self.body or b"{}")
            if content_type in ("application/json", *PATCH_TYPES.values()):
                return json.loads(self.body or b"{}")
        except (ValueError, yaml.YAMLError) as exc:
            raise KubeError.bad_request(f"error decoding request body: {exc}") from None
        raise _UNSUPPORTED_MEDIA

    def wants_table(self) -> bool:
        return "as=Table" in (self.headers.get("Accept") or "")

    def render(self, resource: str, objects: list[dict], resource_version: str) -> dict:
        return to_table(resource, objects, resource_version, self.query.get("includeObject", "Metadata"))
