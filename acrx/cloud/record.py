"""`acrx --record FILE`: every cloud API call and every Kubernetes call of one run, as JSON.

Meant to be attached to a bug report, so it holds only what a maintainer needs to see what the
cloud answered: per cloud call the product, action, region, HTTP status, error code, request id
and duration; per Kubernetes call the verb, path (no query), status and duration. Never a
parameter, a body, a header, an AccessKey id, a secret or a token: entries are built from those
fields alone, and every string still goes through the redactor. The file is 0600.

How: while recording, the official clients' single choke points are wrapped, so nothing else in
acrx needs to know — every Alibaba Cloud SDK call goes through tea-openapi's `Client.call_api`
(each retry by acrx's policy is a new call, and so a new entry), every call of the official
kubernetes client through `RESTClientObject.request`. Both are restored when the run ends.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from acrx.cloud.errors import redact

FORMAT_VERSION = 1

_active: "Recorder | None" = None
_lock = threading.Lock()


class Recorder:
    def __init__(self, path: Path, command: str | None = None):
        self.path = Path(path)
        self.command = command
        self.started = time.time()
        self.cloud: list[dict[str, Any]] = []
        self.kube: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._restore: list[tuple[object, str, object]] = []

    # -- entries ------------------------------------------------------------------------------
    def add_cloud(self, product: str, action: str, region: str | None, status: int | None, code: str | None,
                  request_id: str | None, seconds: float) -> None:
        entry = {"product": product, "action": _clean(action), "region": _clean(region), "http_status": status,
                 "error_code": _clean(code), "request_id": _clean(request_id), "duration_ms": round(seconds * 1000, 1)}
        with self._lock:
            self.cloud.append(entry)

    def add_kube(self, verb: str, url: str, status: int | None, seconds: float) -> None:
        entry = {"verb": verb.upper(), "path": _clean(urlsplit(url).path), "status": status,
                 "duration_ms": round(seconds * 1000, 1)}
        with self._lock:
            self.kube.append(entry)

    def document(self) -> dict[str, Any]:
        with self._lock:
            return {"format": "acrx-record", "version": FORMAT_VERSION, "command": self.command,
                    "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
                    "cloud_calls": list(self.cloud), "kubernetes_calls": list(self.kube)}

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)   # an existing file keeps its old mode through O_CREAT
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(self.document(), out, indent=1)
            out.write("\n")

    # -- hooks --------------------------------------------------------------------------------
    def _patch(self, owner, name: str, wrapper) -> None:
        self._restore.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, wrapper)

    def install(self) -> None:
        self._install_cloud()
        self._install_kube()

    def uninstall(self) -> None:
        for owner, name, original in reversed(self._restore):
            setattr(owner, name, original)
        self._restore.clear()

    def _install_cloud(self) -> None:
        from alibabacloud_tea_openapi.client import Client

        original = Client.__dict__["call_api"]
        recorder = self

        def call_api(client, params, request, runtime):
            started = time.monotonic()
            product = _product(client)
            try:
                answer = original(client, params, request, runtime)
            except Exception as exc:
                recorder.add_cloud(product, params.action, getattr(client, "_region_id", None),
                                   getattr(exc, "status_code", None) or getattr(exc, "statusCode", None),
                                   getattr(exc, "code", None) or type(exc).__name__,
                                   getattr(exc, "request_id", None), time.monotonic() - started)
                raise
            answer_map = answer if isinstance(answer, dict) else {}
            headers = answer_map.get("headers") or {}
            body = answer_map.get("body")
            request_id = headers.get("x-acs-request-id") or (body.get("RequestId") or body.get("request_id")
                                                             if isinstance(body, dict) else None)
            recorder.add_cloud(product, params.action, getattr(client, "_region_id", None),
                               answer_map.get("statusCode"), None,
                               request_id, time.monotonic() - started)
            return answer

        self._patch(Client, "call_api", call_api)

    def _install_kube(self) -> None:
        try:
            from kubernetes.client.rest import RESTClientObject
        except ImportError:  # pragma: no cover - the kubernetes client ships with acrx
            return
        original = RESTClientObject.__dict__["request"]
        recorder = self

        def request(rest, method, url, *args, **kwargs):
            started = time.monotonic()
            try:
                response = original(rest, method, url, *args, **kwargs)
            except Exception as exc:
                recorder.add_kube(method, url, getattr(exc, "status", None), time.monotonic() - started)
                raise
            recorder.add_kube(method, url, getattr(response, "status", None), time.monotonic() - started)
            return response

        self._patch(RESTClientObject, "request", request)


def _product(client) -> str:
    # alibabacloud_ram20150501.client -> "ram"
    module = type(client).__module__.split(".", 1)[0]
    name = module.removeprefix("alibabacloud_")
    return name.rstrip("0123456789") or name


def _clean(value) -> str | None:
    if value is None or str(value) in ("", "None"):
        return None
    return redact(str(value))[:200]


def start(path: Path, command: str | None = None) -> Recorder:
    """Begin recording this process's calls (one recording at a time)."""
    global _active
    with _lock:
        if _active is not None:
            _stop_locked()
        recorder = Recorder(path, command)
        recorder.install()
        _active = recorder
        return recorder


def _stop_locked() -> None:
    global _active
    recorder, _active = _active, None
    if recorder is not None:
        recorder.uninstall()
        recorder.write()


def stop() -> None:
    """Stop recording and write the file (safe to call when nothing records)."""
    with _lock:
        _stop_locked()
