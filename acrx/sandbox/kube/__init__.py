"""The sandbox cluster's Kubernetes API: store, API server, controllers (stdlib + PyYAML only)."""

from .cluster import SandboxCluster
from .errors import KubeError
from .store import ClusterStore, StoreEvent

__all__ = ["ClusterStore", "KubeError", "SandboxCluster", "StoreEvent"]
