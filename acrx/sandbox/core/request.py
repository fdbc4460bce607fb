"""One incoming call, with typed accessors for its parameters and the caller's identity."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from acrx.sandbox.core.errors import ApiError, invalid_parameter, missing_parameter, no_permission
from acrx.sandbox.core.identity import Principal
from acrx.sandbox.core.policy import ALLOW, EXPLICIT_DENY


@dataclass
class Request:
    world: Any
    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]          # RPC: query + form fields; ROA: query
    body: bytes = b""
    path_params: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None
    region: str | None = None
    request_id: str = ""
    service: str = ""
    action: str = ""

    # -- identity -------------------------------------------------------------------------
    @property
    def account(self) -> str:
        if self.principal is None:
            raise ApiError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
        return self.principal.account

    def backend(self, service: str | None = None, account: str | None = None, region: str | None = None):
        return self.world.backend(service or self.service, account or self.account, region or self.region)

    def authorize(self, action: str, resource: str, context: dict | None = None) -> None:
        decision = self.world.decide(self.principal, action, resource, context)
        if decision != ALLOW:
            raise no_permission(action, resource, self.principal.arn if self.principal else "anonymous",
                                "ExplicitDeny" if decision == EXPLICIT_DENY else "ImplicitDeny")

    # -- parameters -----------------------------------------------------------------------
    def str(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.path_params.get(name, self.params.get(name))
        if value is None or value == "":
            if required:
                raise missing_parameter(name)
            return default
        return value

    def int(self, name: str, *, required: bool = False, default: int | None = None,
            minimum: int | None = None, maximum: int | None = None) -> int | None:
        raw = self.str(name, required=required)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid_parameter(name, f"{raw!r} is not an integer.") from None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise invalid_parameter(name, f"It must be between {minimum} and {maximum}.")
        return value

    def bool(self, name: str, *, default: bool | None = None) -> bool | None:
        raw = self.str(name)
        if raw is None:
            return default
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise invalid_parameter(name, f"{raw!r} is not a boolean.")

    def json_param(self, name: str, *, required: bool = False) -> Any:
        raw = self.str(name, required=required)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise invalid_parameter(name, "It is not valid JSON.") from None

    def flat_list(self, name: str) -> list:
        """`Name.1.Key=v&Name.2.Key=w` → [{"Key": v}, {"Key": w}]; `Name.1=v` → [v]."""
        items: dict[int, Any] = {}
        pattern = re.compile(rf"^{re.escape(name)}\.(\d+)(?:\.(.+))?$")
        for key, value in self.params.items():
            m = pattern.match(key)
            if not m:
                continue
            index, sub = int(m.group(1)), m.group(2)
            if sub is None:
                items[index] = value
            else:
                entry = items.setdefault(index, {})
                if isinstance(entry, dict):
                    entry[sub] = value
        return [items[i] for i in sorted(items)]

    def json_body(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise ApiError("InvalidParameter", "The request body is not valid JSON.", 400) from None
