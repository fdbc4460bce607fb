"""KubeClient: the official `kubernetes` client, built from a kubeconfig held in memory.

The kubeconfig (from CS DescribeClusterUserKubeconfig, or a file the user names) carries a
token or a client key. It never lands on disk here: the official loader writes `*-data` fields
to temp files, so this module reads the kubeconfig itself, builds the TLS context in memory and
hands it to urllib3. Python's ssl can only load a client certificate from a path, so the key goes
through an anonymous in-memory file (memfd) where the OS has one.

Every call returns plain dicts (the API's camelCase JSON) and turns API failures into KubeError
with the HTTP status and reason. Secret data is returned only when a caller asks for it.
Workload helpers (Deployments, events) build on `core`, `apps` and `call`.
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Mapping
from typing import Any, Callable

import yaml

from acrx import cancel
from acrx.kube.errors import KubeconfigError, KubeError
from acrx.yamltext import safe_load

DEFAULT_TIMEOUT = (5.0, 30.0)   # (connect, read) seconds for one API call
_STRIP = ("data", "stringData")


@dataclass(frozen=True, repr=False)
class _Target:
    """What one kubeconfig context says: where the server is and how to log in."""

    server: str
    ca_pem: bytes | None = None
    insecure: bool = False
    tls_server_name: str | None = None
    proxy: str | None = None
    namespace: str = "default"
    token: str | None = None
    cert_pem: bytes | None = None
    key_pem: bytes | None = None
    basic_auth: str | None = None
    plugin: bool = False            # exec or auth-provider: only the official loader runs those

    def __repr__(self) -> str:
        return f"_Target(server={self.server!r})"


def _named(items: Any, name: str, kind: str) -> dict:
    for item in items or []:
        if isinstance(item, Mapping) and item.get("name") == name:
            return dict(item.get(kind) or {})
    raise KubeconfigError(f"the kubeconfig has no {kind} named {name!r}")


def _read_field(section: Mapping, key: str, base_dir: Path | None, *, b64: bool = True) -> bytes | None:
    """`<key>-data` (base64, or plain for token) or the file `<key>` names, relative to base_dir."""
    data = section.get(f"{key}-data")
    if data:
        try:
            return base64.b64decode(data) if b64 else str(data).encode()
        except (ValueError, TypeError):
            raise KubeconfigError(f"{key}-data is not base64") from None
    path = section.get(key)
    if not path:
        return None
    file = Path(path).expanduser()
    if not file.is_absolute() and base_dir is not None:
        file = base_dir / file
    try:
        return file.read_bytes()
    except OSError as exc:
        raise KubeconfigError(f"cannot read the {key} file the kubeconfig names: {exc.strerror}") from None


def parse_kubeconfig(config: Mapping, base_dir: Path | None = None, context: str | None = None) -> _Target:
    if not isinstance(config, Mapping):
        raise KubeconfigError("the kubeconfig is not a YAML mapping")
    name = context or config.get("current-context")
    if not name:
        raise KubeconfigError("the kubeconfig has no current-context")
    ctx = _named(config.get("contexts"), name, "context")
    cluster = _named(config.get("clusters"), ctx.get("cluster"), "cluster")
    user = _named(config.get("users"), ctx.get("user"), "user") if ctx.get("user") else {}
    server = str(cluster.get("server") or "").rstrip("/")
    if not server:
        raise KubeconfigError(f"cluster {ctx.get('cluster')!r} has no server")
    token = user.get("token")
    if not token and user.get("tokenFile"):
        raw = _read_field({"tokenFile": user["tokenFile"]}, "tokenFile", base_dir, b64=False)
        token = raw.decode().strip() if raw else None
    basic = None
    if user.get("username") and user.get("password"):
        basic = base64.b64encode(f"{user['username']}:{user['password']}".encode()).decode()
    return _Target(
        server=server, ca_pem=_read_field(cluster, "certificate-authority", base_dir),
        insecure=bool(cluster.get("insecure-skip-tls-verify")), tls_server_name=cluster.get("tls-server-name"),
        proxy=cluster.get("proxy-url"), namespace=ctx.get("namespace") or "default", token=token,
        cert_pem=_read_field(user, "client-certificate", base_dir), key_pem=_read_field(user, "client-key", base_dir),
        basic_auth=basic, plugin=bool(user.get("exec") or user.get("auth-provider")))


def _load_cert_chain(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    """ssl loads a client certificate from paths only; give it paths to memory, not to disk."""
    if hasattr(os, "memfd_create"):
        fds = [os.memfd_create("acrx-kube-cert", 0), os.memfd_create("acrx-kube-key", 0)]
        try:
            for fd, pem in zip(fds, (cert_pem, key_pem)):
                os.write(fd, pem)
            context.load_cert_chain(f"/proc/self/fd/{fds[0]}", f"/proc/self/fd/{fds[1]}")
        finally:
            for fd in fds:
                os.close(fd)
        return
    # No memfd (not Linux): a private directory that exists only while the chain loads.
    with tempfile.TemporaryDirectory(prefix="acrx-") as tmp:
        paths = []
        for name, pem in (("cert.pem", cert_pem), ("key.pem", key_pem)):
            path = os.path.join(tmp, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            paths.append(path)
        context.load_cert_chain(paths[0], paths[1])


def _ssl_context(target: _Target) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cadata=target.ca_pem.decode() if target.ca_pem else None)
    except (ssl.SSLError, ValueError) as exc:
        raise KubeconfigError(f"the certificate authority data is not a PEM certificate ({exc})") from None
    if target.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if target.cert_pem and target.key_pem:
        try:
            _load_cert_chain(context, target.cert_pem, target.key_pem)
        except ssl.SSLError as exc:
            raise KubeconfigError(f"the client certificate or key is not usable ({exc.reason or exc})") from None
    return context


def _api_error(operation: str, exc) -> KubeError:
    """ApiException -> KubeError from the Status body; headers and request are never quoted."""
    import json

    message, reason = "", None
    try:
        body = json.loads(exc.body) if exc.body else {}
        if isinstance(body, dict):
            message, reason = str(body.get("message") or ""), body.get("reason")
    except (TypeError, ValueError):
        message = ""
    reason = reason or exc.reason
    return KubeError(operation, message or str(exc.reason or "request failed"), status=exc.status, reason=reason)


class KubeClient:
    def __init__(self, target: _Target, *, timeout: tuple[float, float] = DEFAULT_TIMEOUT, api_client=None):
        self.server = target.server
        self.namespace = target.namespace
        self.timeout = timeout
        self._api = api_client if api_client is not None else self._build(target)
        self._core = self._apps = None

    def __repr__(self) -> str:
        return f"KubeClient(server={self.server!r})"

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def from_text(cls, text: str, *, context: str | None = None) -> "KubeClient":
        """From kubeconfig YAML held in memory (e.g. DescribeClusterUserKubeconfig's config)."""
        try:
            config = safe_load(text or "")
        except yaml.YAMLError:
            raise KubeconfigError("the kubeconfig is not valid YAML") from None
        return cls.from_dict(config, context=context)

    @classmethod
    def from_file(cls, path: str | os.PathLike, *, context: str | None = None) -> "KubeClient":
        file = Path(path).expanduser()
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise KubeconfigError(f"cannot read kubeconfig {file}: {exc.strerror}") from None
        try:
            config = safe_load(text)
        except yaml.YAMLError:
            raise KubeconfigError(f"{file} is not valid YAML") from None
        return cls.from_dict(config, base_dir=file.parent.resolve(), context=context)

    @classmethod
    def from_dict(cls, config: Mapping, *, base_dir: Path | None = None, context: str | None = None) -> "KubeClient":
        target = parse_kubeconfig(config, base_dir, context)
        if target.plugin:
            # Credential plugins (exec, auth-provider) run only in the official loader.
            from kubernetes import config as kconfig

            api = kconfig.new_client_from_config_dict(dict(config), context=context)
            return cls(target, api_client=api)
        return cls(target)

    @staticmethod
    def _build(target: _Target):
        import urllib3
        from kubernetes import client as k8s

        cfg = k8s.Configuration()
        cfg.host = target.server
        cfg.verify_ssl = not target.insecure
        if target.token:
            cfg.api_key = {"BearerToken": f"Bearer {target.token}"}
        elif target.basic_auth:
            cfg.api_key = {"BearerToken": f"Basic {target.basic_auth}"}
        if target.proxy:
            cfg.proxy = target.proxy
        api = k8s.ApiClient(cfg)
        if target.server.startswith("https"):
            # The TLS material lives in this context, in memory; the default pool manager
            # would want file paths for it.
            pool_args: dict[str, Any] = {"ssl_context": _ssl_context(target), "maxsize": 4,
                                         "cert_reqs": "CERT_NONE" if target.insecure else "CERT_REQUIRED"}
            if target.insecure:
                pool_args["assert_hostname"] = False
            if target.tls_server_name:
                pool_args["server_hostname"] = target.tls_server_name
            if target.proxy:
                api.rest_client.pool_manager = urllib3.ProxyManager(proxy_url=target.proxy, **pool_args)
            else:
                api.rest_client.pool_manager = urllib3.PoolManager(**pool_args)
        return api

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> "KubeClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the official API objects, for workload helpers ---------------------------------------
    @property
    def api_client(self):
        return self._api

    @property
    def core(self):
        if self._core is None:
            from kubernetes import client as k8s

            self._core = k8s.CoreV1Api(self._api)
        return self._core

    @property
    def apps(self):
        if self._apps is None:
            from kubernetes import client as k8s

            self._apps = k8s.AppsV1Api(self._api)
        return self._apps

    def call(self, operation: str, fn: Callable[..., Any], *args, **kwargs) -> Any:
        """Run one official-client call with the default timeout; failures become KubeError."""
        import urllib3
        from kubernetes.client.rest import ApiException

        kwargs.setdefault("_request_timeout", self.timeout)
        cancel.check()   # a cancelled run sends no new request (acrx.cancel)
        try:
            return fn(*args, **kwargs)
        except ApiException as exc:
            raise _api_error(operation, exc) from None
        except urllib3.exceptions.HTTPError as exc:
            cause = getattr(exc, "reason", None) or exc   # MaxRetryError wraps the last failure
            raise KubeError(operation, f"cannot reach the API server at {self.server} ({type(cause).__name__})",
                            hint="check the kubeconfig's address (private vs public) and the network path") from None

    def to_dict(self, obj: Any) -> Any:
        return self._api.sanitize_for_serialization(obj)

    def _maybe(self, operation: str, fn: Callable[..., Any], *args, **kwargs) -> Any:
        """`call`, but None when the object does not exist."""
        try:
            return self.call(operation, fn, *args, **kwargs)
        except KubeError as exc:
            if exc.not_found:
                return None
            raise

    # -- ConfigMaps -------------------------------------------------------------------------
    def get_configmap(self, namespace: str, name: str) -> dict | None:
        obj = self._maybe(f"get configmap {namespace}/{name}", self.core.read_namespaced_config_map, name, namespace)
        return None if obj is None else self.to_dict(obj)

    def create_configmap(self, namespace: str, name: str, data: Mapping[str, str], *,
                         labels: Mapping[str, str] | None = None,
                         annotations: Mapping[str, str] | None = None) -> dict:
        body = {"apiVersion": "v1", "kind": "ConfigMap", "data": dict(data),
                "metadata": {"name": name, "namespace": namespace, **({"labels": dict(labels)} if labels else {}),
                             **({"annotations": dict(annotations)} if annotations else {})}}
        return self.to_dict(self.call(f"create configmap {namespace}/{name}",
                                      self.core.create_namespaced_config_map, namespace, body))

    def patch_configmap_data(self, namespace: str, name: str, changes: Mapping[str, str | None]) -> dict:
        """Set the given `data` keys; a None value removes that key. Other keys are untouched."""
        body = {"data": dict(changes)}
        return self.to_dict(self.call(f"patch configmap {namespace}/{name}",
                                      self.core.patch_namespaced_config_map, name, namespace, body,
                                      _content_type="application/strategic-merge-patch+json"))

    def delete_configmap(self, namespace: str, name: str) -> bool:
        return self._maybe(f"delete configmap {namespace}/{name}", self.core.delete_namespaced_config_map,
                           name, namespace) is not None

    # -- ServiceAccounts and Secrets ----------------------------------------------------------
    def get_service_account(self, namespace: str, name: str) -> dict | None:
        obj = self._maybe(f"get serviceaccount {namespace}/{name}", self.core.read_namespaced_service_account,
                          name, namespace)
        return None if obj is None else self.to_dict(obj)

    def list_secrets(self, namespace: str, *, label_selector: str | None = None,
                     field_selector: str | None = None, include_data: bool = False) -> list[dict]:
        """Secrets of a namespace; their data only with include_data=True."""
        kwargs = {k: v for k, v in (("label_selector", label_selector), ("field_selector", field_selector)) if v}
        items = self.call(f"list secrets in {namespace}", self.core.list_namespaced_secret, namespace, **kwargs).items
        return [self._secret(item, include_data) for item in items]

    def get_secret_meta(self, namespace: str, name: str, *, include_data: bool = False) -> dict | None:
        obj = self._maybe(f"get secret {namespace}/{name}", self.core.read_namespaced_secret, name, namespace)
        return None if obj is None else self._secret(obj, include_data)

    def _secret(self, obj: Any, include_data: bool) -> dict:
        raw = self.to_dict(obj)
        if not include_data:
            for key in _STRIP:
                raw.pop(key, None)
        return raw

    # -- Pods and namespaces -----------------------------------------------------------------
    def list_pods(self, namespace: str, *, label_selector: str | None = None) -> list[dict]:
        kwargs = {"label_selector": label_selector} if label_selector else {}
        items = self.call(f"list pods in {namespace}", self.core.list_namespaced_pod, namespace, **kwargs).items
        return [self.to_dict(item) for item in items]

    def delete_pod(self, namespace: str, name: str) -> bool:
        """Delete a pod; False when it was already gone."""
        return self._maybe(f"delete pod {namespace}/{name}", self.core.delete_namespaced_pod,
                           name, namespace) is not None

    def pod_logs(self, namespace: str, name: str, *, container: str | None = None,
                 tail_lines: int | None = None) -> str:
        kwargs: dict[str, Any] = {}
        if container:
            kwargs["container"] = container
        if tail_lines:
            kwargs["tail_lines"] = tail_lines
        text = self.call(f"read logs of pod {namespace}/{name}", self.core.read_namespaced_pod_log,
                         name, namespace, **kwargs)
        return text if isinstance(text, str) else str(text or "")

    def list_namespaces(self) -> list[str]:
        items = self.call("list namespaces", self.core.list_namespace).items
        return [item.metadata.name for item in items]
