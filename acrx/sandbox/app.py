"""The whole sandbox in one object: the cloud server, the registry, and a Kubernetes API (with
the credential helper's behaviour and a kubelet) for each seeded cluster.

Used in-process by the tests and `acrx demo`, and by `python -m acrx.sandbox serve` behind
`acrx sandbox up`.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import asdict
from pathlib import Path

import yaml

from acrx.sandbox.core import control
from acrx.sandbox.core.server import CloudServer
from acrx.sandbox.core.world import World
from acrx.sandbox.kube.cluster import SandboxCluster
from acrx.sandbox.registry.images import ImageStore
from acrx.sandbox.registry.server import RegistryServer
from acrx.sandbox.scenario import VARIANTS, Scenario, Seeded, seed

ENV_FILE, CONFIG_FILE, KUBECONFIG_FILE, PID_FILE, LOG_FILE = (
    "sandbox.env", "acrx.yaml", "kubeconfig", "sandbox.pid", "sandbox.log")


class Sandbox:
    def __init__(self, scenario: Scenario | str = "default", *, clock_scale: float = 0.0,
                 reconcile_interval_s: float = 0.5):
        self.scenario = VARIANTS[scenario] if isinstance(scenario, str) else scenario
        self.world = World(seed=self.scenario.seed, clock_scale=clock_scale)
        self.images = ImageStore()
        self.seeded: Seeded = seed(self.world, self.scenario, self.images)
        self.reconcile_interval_s = reconcile_interval_s
        self.cloud: CloudServer | None = None
        self.registry: RegistryServer | None = None
        self.clusters: dict[str, SandboxCluster] = {}
        self.runtimes: dict[str, object] = {}
        self.control_secret = secrets.token_urlsafe(32)  # the operator's key to the fault knobs

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> "Sandbox":
        from acrx.sandbox.services.cr.registry_auth import CrRegistryAuth

        self.cloud = CloudServer(self.world, control_secret=self.control_secret).start(host, port)
        auth = CrRegistryAuth(self.world)
        self.registry = RegistryServer(self.images, auth, auth.instance_for_host, auth.region_for_instance,
                                       clock=self.world.clock.now).start(host)
        cluster = SandboxCluster(self.seeded.cluster_id).start(host)
        self.clusters[self.seeded.cluster_id] = cluster
        self.world.hooks["kubeconfig"] = lambda cluster_id, private=False: self.clusters[cluster_id].kubeconfig_yaml()
        self.world.hooks["registry_url"] = self.registry.url
        try:
            from acrx.sandbox.kube.runtime import ClusterRuntime
        except ImportError:  # the helper/kubelet runtime is optional for cloud-only tests
            ClusterRuntime = None
        if ClusterRuntime is not None:
            runtime = ClusterRuntime(self.world, self.seeded.cluster_id, cluster, self.cloud.endpoint, self.registry,
                                     reconcile_interval_s=self.reconcile_interval_s)
            runtime.start()
            self.runtimes[self.seeded.cluster_id] = runtime
        return self

    def stop(self) -> None:
        for runtime in self.runtimes.values():
            runtime.stop()
        for cluster in self.clusters.values():
            cluster.stop()
        if self.registry is not None:
            self.registry.stop()
        if self.cloud is not None:
            self.cloud.stop()

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what a user or a test needs to reach it ------------------------------------------
    @property
    def cluster(self) -> SandboxCluster:
        return self.clusters[self.seeded.cluster_id]

    def account_key(self, alias: str):
        return self.world.account_by_alias(alias).root_key

    def env(self) -> dict[str, str]:
        """The values of sandbox.env; they include AccessKey secrets."""
        return env_values(self, ("cluster", "registry"))

    def config(self, mode: str = "rrsa", network: str = "peering") -> dict:
        """A valid acrx.yaml for the seeded world; credentials by env-var name, never by value."""
        s = self.seeded

        def account(alias: str, uid: str) -> dict:
            prefix = env_prefix(alias)
            return {"uid": uid, "env": {"access_key_id": f"{prefix}_ACCESS_KEY_ID",
                                        "access_key_secret": f"{prefix}_ACCESS_KEY_SECRET"}}

        domain = s.domain_public if network == "public" else s.domain_vpc
        return {
            "version": 1,
            "mode": mode,
            "accounts": {"cluster": account("cluster", s.account_a), "registry": account("registry", s.account_b)},
            "cluster": {"account": "cluster", "id": s.cluster_id, "region": s.region_a},
            "registries": [{"account": "registry", "instance_id": s.instance_id, "region": s.region_b,
                            "instance_name": s.instance_name}],
            "network": {"mode": network},
            "verify": {"image": f"{domain}/{s.image_repo}:{s.image_tag}"},
        }

    def write_state(self, state_dir: Path, *, mode: str = "rrsa", network: str = "peering") -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        _write_private(state_dir / ENV_FILE, "".join(f"export {k}={v}\n" for k, v in self.env().items()))
        _write_private(state_dir / KUBECONFIG_FILE, self.cluster.kubeconfig_yaml())
        header = "# acrx.yaml for the sandbox world; credentials come from sandbox.env (acrx --sandbox DIR)\n"
        (state_dir / CONFIG_FILE).write_text(header + yaml.safe_dump(self.config(mode, network), sort_keys=False))

    def describe(self) -> dict:
        return asdict(self.seeded)


def env_prefix(alias: str) -> str:
    """The sandbox.env names of an account alias's uid and root key: ACRX_SANDBOX_<ALIAS>_..."""
    return f"ACRX_SANDBOX_{alias.upper().replace('-', '_')}"


def env_values(sandbox, aliases) -> dict[str, str]:
    """sandbox.env for a running sandbox (single-cluster or fleet): its endpoints, the control
    secret, and each listed account's uid and root AccessKey."""
    values = {
        "ACRX_SANDBOX_ENDPOINT": sandbox.cloud.endpoint,
        "ACRX_SANDBOX_REGISTRY_ENDPOINT": sandbox.registry.url,
        "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
        control.SECRET_VAR: sandbox.control_secret,
    }
    for alias in aliases:
        account = sandbox.world.account_by_alias(alias)
        prefix = env_prefix(alias)
        values[f"{prefix}_UID"] = account.uid
        values[f"{prefix}_ACCESS_KEY_ID"] = account.root_key.access_key_id
        values[f"{prefix}_ACCESS_KEY_SECRET"] = account.root_key.secret
    return values


def _write_private(path: Path, text: str) -> None:
    """Secrets go to files that are 0600 from their first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
