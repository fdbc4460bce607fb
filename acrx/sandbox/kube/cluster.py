"""SandboxCluster: one cluster's store, controllers and API server, plus its kubeconfig."""

from __future__ import annotations

import base64
import secrets
import threading
import time

import yaml

from .apiserver import KubeAPIServer
from .controllers import Controller, DeploymentController, ServiceAccountController
from .store import ClusterStore
from .tls import ServingCertificate, make_serving_certificate

SEEDED_NAMESPACES = ("default", "kube-system", "kube-public")


class SandboxCluster:
    """A Kubernetes API on loopback for one sandbox cluster.

    `token` is the bearer token clients must present; a random one is made when not given.
    The server speaks https with a throwaway CA (kubectl sends tokens only over TLS); `tls=False`
    serves plain http for clients that need no token (kubectl then gets 401).
    `controllers=False` leaves Deployments without ReplicaSets (the default-ServiceAccount
    controller always runs: a namespace without it is not a namespace kubectl users know).
    """

    def __init__(self, name: str, token: str | None = None, *, controllers: bool = True, tls: bool = True):
        self.name = name
        self._tls = tls
        self._certificate: ServingCertificate | None = None
        self._token = token or secrets.token_urlsafe(32)
        self.store = ClusterStore()
        self.controllers: list[Controller] = [ServiceAccountController(self.store)]
        if controllers:
            self.controllers.append(DeploymentController(self.store))
        self._server: KubeAPIServer | None = None
        self._thread: threading.Thread | None = None
        for namespace in SEEDED_NAMESPACES:
            self.store.create("namespaces", None, {"metadata": {"name": namespace}})

    def __repr__(self) -> str:
        return f"SandboxCluster({self.name!r}, url={self.url if self._server else None!r})"

    @property
    def token(self) -> str:
        return self._token

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"sandbox cluster {self.name} is not started")
        host, port = self._server.server_address[:2]
        return f"{'https' if self._tls else 'http'}://{host}:{port}"

    @property
    def ca_pem(self) -> bytes | None:
        """The CA that signed the serving certificate (None before start or without TLS)."""
        return self._certificate.ca_pem if self._certificate else None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> "SandboxCluster":
        for controller in self.controllers:
            controller.start()
        context = None
        if self._tls:
            self._certificate = make_serving_certificate(self.name, (host, "localhost"))
            context = self._certificate.server_context()
        self._server = KubeAPIServer(self.store, self._token, host, port, context)
        # poll 0.05 s, as the cloud and registry servers: stop() waits for one poll (0.5 s by default)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name=f"kube-api-{self.name}",
                                        daemon=True)
        self._thread.start()
        self.wait_idle()
        return self

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until the controllers have caught up with every change so far (for tests). One
        controller's writes feed another, so only a pass where all are idle at once counts."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for controller in self.controllers:
                if not controller.wait_idle(max(deadline - time.monotonic(), 0)):
                    return False
            if all(c.idle for c in self.controllers):
                return True
        return False

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            if self._thread:
                self._thread.join(timeout=5)
        for controller in self.controllers:
            controller.stop()

    def __enter__(self) -> "SandboxCluster":
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kubeconfig_yaml(self, user: str = "acrx") -> str:
        """A kubeconfig with a token user for this cluster; it holds the token, so treat it as a secret."""
        context = f"{user}@{self.name}"
        cluster: dict[str, str] = {"server": self.url}
        if self.ca_pem:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca_pem).decode()
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": self.name, "cluster": cluster}],
            "users": [{"name": user, "user": {"token": self._token}}],
            "contexts": [{"name": context, "context": {"cluster": self.name, "user": user, "namespace": "default"}}],
            "current-context": context,
            "preferences": {},
        }
        return yaml.safe_dump(config, sort_keys=False)
