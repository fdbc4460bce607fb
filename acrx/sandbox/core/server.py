"""The loopback HTTP server every official SDK client reaches with
`Config(endpoint="127.0.0.1:PORT", protocol="http")`.

RPC calls are routed by `x-acs-version` + `x-acs-action` (or the `Action`/`Version` parameters
of v1-signed calls); ROA calls (CS) by method and path. Errors are rendered here, and only here,
into the wire shapes the SDKs parse.
"""

from __future__ import annotations

import importlib
import json
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from acrx.sandbox.core import control
from acrx.sandbox.core.auth import Authenticator
from acrx.sandbox.core.calllog import Call
from acrx.sandbox.core.disconnect import QuietDisconnects, read_body
from acrx.sandbox.core.errors import ApiError, service_unavailable, throttled
from acrx.sandbox.core.idempotency import token_of
from acrx.sandbox.core.request import Request
from acrx.sandbox.core.routing import Response, Route, Router
from acrx.sandbox.core.world import SERVICES


def load_routers() -> list[Router]:
    routers = []
    for module_name in SERVICES.values():
        try:
            routers.append(importlib.import_module(module_name + ".api").router)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(module_name):  # service not built yet
                continue
            raise
    return routers


class RouteTable:
    def __init__(self, routers: list[Router]):
        self.rpc: dict[tuple[str, str], Route] = {}
        self.roa: list[Route] = []
        for router in routers:
            for action, route in router.rpc_routes.items():
                self.rpc[(router.version, action)] = route
            self.roa.extend(router.roa_routes)

    def resolve(self, method: str, raw_path: str, headers: dict[str, str], params: dict[str, str]):
        version = headers.get("x-acs-version") or params.get("Version")
        action = headers.get("x-acs-action") or params.get("Action")
        if raw_path in ("", "/") and version and action:
            return self.rpc.get((version, action)), {}, "rpc"
        for route in self.roa:
            if route.method != method or (version and route.version != version):
                continue
            match = route.pattern.match(raw_path)
            if match:
                return route, match.groupdict(), "roa"
        return None, {}, "roa" if raw_path not in ("", "/") else "rpc"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body waits for the delayed
    # ACK (~40 ms a call). Latency is a knob, not an accident.
    disable_nagle_algorithm = True
    server: "CloudServer._Server"

    def log_message(self, fmt, *args):  # quiet; the call log is the record
        pass

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _handle(self) -> None:
        cloud: CloudServer = self.server.cloud
        world = cloud.world
        started = time.time()
        raw_path, _, raw_query = self.path.partition("?")
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        body = read_body(self.rfile, self.headers.get("Content-Length"))
        if body is None:  # the client left mid-request: act on none of it
            self._drop()
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        if raw_path.startswith(control.PREFIX):
            status, payload = control.handle(world, cloud.control_secret, self.command, raw_path, headers, body)
            self._send(status, payload, None, "")
            return
        form = {}
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        route, path_params, style = cloud.routes.resolve(self.command, raw_path, headers, {**query, **form})
        request_id = world.ids.request_id()
        req = Request(world=world, method=self.command, path=raw_path, headers=headers,
                      params={**query, **form}, body=body, path_params=path_params, request_id=request_id)
        status, error_code, reply, replayed = 500, None, None, False
        try:
            if route is None:
                raise ApiError("InvalidAction.NotFound" if style == "rpc" else "NotFound",
                               "Specified api is not found, please check your url and method.", 404)
            req.service, req.action = route.service, route.action
            knobs = world.knobs
            if knobs.latency_s:
                time.sleep(knobs.latency_s)
            if knobs.roll(knobs.reset_rate, route.action):
                status, error_code = 0, "ConnectionReset"
                return
            if knobs.roll(knobs.throttle_rate, route.action):
                err = throttled()
                err.retry_after_ms = knobs.throttle_retry_after_ms
                raise err
            if knobs.roll(knobs.error_rate, route.action):
                raise service_unavailable()
            scripted = knobs.next_fault(route.action)
            if scripted is not None:
                raise ApiError(*scripted)
            req.principal = cloud.auth.authenticate(self.command, raw_path, query, form, headers, body)
            if req.principal is None and not route.anonymous:
                raise ApiError("MissingAccessKeyId", "AccessKeyId is mandatory for this action.", 400)
            req.region = req.str("RegionId") or req.str("region_id") or headers.get("x-acs-region-id")
            if knobs.qps_limits and req.principal is not None and not world.qps.admit(
                    knobs.qps_limits, req.principal.account, route.service, route.action, req.region):
                # Over a window of this account's limit for this API. Keyed by the API's product code
                # (cbn, vpcpeer: each has its own flow-control page), not the RAM action prefix.
                raise throttled()
            with world.lock:
                if route.authorize:
                    resource = route.resource(req) if route.resource else f"acs:{route.product}:{req.region or '*'}:{req.account}:*"
                    req.authorize(f"{route.product}:{route.action}", resource)
                token = token_of(req) if route.client_token else None
                result = world.tokens.replay(req, token) if token else None
                replayed = result is not None
                if not replayed:
                    result = route.handler(req)
                    if token:
                        world.tokens.remember(req, token, result)
            reply = self._success(result, style, request_id)
            status = reply[0]
            # The dangerous fault: the call was carried out (its write applied), then the
            # answer is lost. Only a ClientToken or a fresh read tells the caller what happened.
            if knobs.roll(knobs.lost_answer_rate, route.action):
                error_code, reply = "LostAnswer", None
        except ApiError as err:
            status, error_code = err.status, err.code
            reply = self._failure(err, style, request_id)
        except Exception:  # a sandbox bug: answer as the cloud's InternalError, and tell the operator
            traceback.print_exc(file=sys.stderr)
            status, error_code = 500, "InternalError"
            reply = self._failure(ApiError("InternalError", "The request processing has failed due to some unknown error.", 500),
                                  style, request_id)
        finally:
            # Recorded before the reply goes out, so a caller that got its answer sees its call.
            if route is not None:
                world.calls.record(Call(route.service, route.action,
                                        req.principal.account if req.principal else None, req.region,
                                        route.writes and not replayed, status, error_code, started, time.time(),
                                        req.principal.session if req.principal else None))
            if reply is None:
                self._drop()
            else:
                self._send(*reply, request_id)

    # -- writing --------------------------------------------------------------------------
    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, status: int, payload, extra: dict[str, str] | None, request_id: str) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if request_id:
            self.send_header("x-acs-request-id", request_id)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    @staticmethod
    def _success(result, style: str, request_id: str) -> tuple:
        response = result if isinstance(result, Response) else Response(result)
        body = response.body
        if style == "rpc":
            body = dict(body or {})
            body.setdefault("RequestId", request_id)
        return response.status, body, response.headers

    def _failure(self, err: ApiError, style: str, request_id: str) -> tuple:
        host = self.headers.get("Host", "")
        if style == "rpc":
            payload = {"RequestId": request_id, "HostId": host, "Code": err.code, "Message": err.message,
                       "Recommend": f"https://api.aliyun.com/troubleshoot?q={err.code}"}
            if err.access_denied_detail:
                payload["AccessDeniedDetail"] = err.access_denied_detail
        else:
            payload = {"code": err.code, "message": err.message, "requestId": request_id}
            if err.access_denied_detail:
                payload["accessDeniedDetail"] = err.access_denied_detail
        extra = {"x-acs-retry-after": str(err.retry_after_ms)} if err.retry_after_ms else None
        return err.status, payload, extra


class CloudServer:
    """One threaded loopback server for every product of the fake cloud."""

    class _Server(QuietDisconnects, ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        cloud: "CloudServer"

    def __init__(self, world, routers: list[Router] | None = None, *, control_secret: str | None = None):
        self.world = world
        self.control_secret = control_secret  # None: no control endpoint (core/control.py)
        self.routes = RouteTable(routers if routers is not None else load_routers())
        self.auth = Authenticator(world)
        self._httpd: CloudServer._Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> "CloudServer":
        self._httpd = self._Server((host, port), _Handler)
        self._httpd.cloud = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="sandbox-cloud", daemon=True)
        self._thread.start()
        return self

    @property
    def endpoint(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{host}:{port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
