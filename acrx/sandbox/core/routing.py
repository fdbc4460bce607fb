"""Route tables: RPC by (version, action), ROA by method and path. One Router per service."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

Handler = Callable[[Any], Any]


@dataclass(frozen=True)
class Route:
    service: str            # backend key, e.g. "ram"
    product: str            # action prefix in policies, e.g. "ram", "cr"
    version: str
    action: str
    handler: Handler
    writes: bool
    anonymous: bool = False
    authorize: bool = True  # check `<product>:<action>` on `resource` before the handler
    resource: Callable[[Any], str] | None = None
    method: str | None = None   # ROA only
    pattern: re.Pattern | None = None  # ROA only
    client_token: bool = False  # the API takes ClientToken (core/idempotency.py honours it)


class Router:
    def __init__(self, service: str, version: str, product: str | None = None, *, global_service: bool = False):
        self.service = service
        self.version = version
        self.product = product or service
        self.global_service = global_service
        self.rpc_routes: dict[str, Route] = {}
        self.roa_routes: list[Route] = []

    def rpc(self, action: str, *, writes: bool, anonymous: bool = False, authorize: bool = True,
            resource: Callable[[Any], str] | None = None, client_token: bool = False):
        def register(fn: Handler) -> Handler:
            self.rpc_routes[action] = Route(self.service, self.product, self.version, action, fn, writes,
                                            anonymous, authorize and not anonymous, resource,
                                            client_token=client_token)
            return fn
        return register

    def roa(self, method: str, path: str, action: str, *, writes: bool, authorize: bool = True,
            resource: Callable[[Any], str] | None = None):
        """`path` uses {name} placeholders for one path segment each."""
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")

        def register(fn: Handler) -> Handler:
            self.roa_routes.append(Route(self.service, self.product, self.version, action, fn, writes,
                                         False, authorize, resource, method.upper(), regex))
            return fn
        return register


@dataclass
class Response:
    """A handler result that needs a status or headers other than 200 JSON."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] | None = None
