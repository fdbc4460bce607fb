"""What every step reads through: the config, the cloud session, options, and a per-run memo.

A plan reads each live thing once: readers go through `ctx.memo(key, fn)`. Handlers call
`ctx.forget(prefix)` after a write so a later read in the same run sees the new state.

Reads that do not depend on each other overlap (issue 16): `ctx.prefetch({key: read})` runs them
side by side into the memo, so the planner code that follows, written in sequence, finds its
answers there (acrx.steps.prefetch).
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from acrx.steps.outputs import Outputs

CLUSTER_NOT_FOUND_CODES = ("ErrorClusterNotFound",)
# Warnings of work run side by side are held here and said afterwards in the order of the work
# (acrx.steps.setup: preflights planned concurrently warn in the order of the steps).
HELD_WARNINGS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("acrx_held_warnings", default=None)


@dataclass(frozen=True)
class StepOptions:
    """Flags that change what the steps plan; the config file's values are the default."""

    assume_policy: str | None = None            # custom | system (overrides roles.assume_policy)
    allow_plaintext_access_key: bool = False     # access-key mode writes a key into the ConfigMap
    allow_any_source: bool | None = None         # public mode: 0.0.0.0/0 in the ACL
    route_to: str | None = None                  # endpoint | vpc (overrides network.route_to)
    wait_budget_s: float = 900.0                 # one slow operation (RRSA, addon, peering)
    kubeconfig: str | None = None                # a kubeconfig file instead of the CS one
    extra: dict[str, Any] = field(default_factory=dict)


class StepContext:
    def __init__(self, config, session, options: StepOptions | None = None, *,
                 warn: Callable[[str], None] | None = None, kube_factory: Callable[[], Any] | None = None):
        self.config = config
        self.session = session
        self.options = options or StepOptions()
        self._warn = warn
        self.warnings: list[str] = []
        self._memo: dict[str, Any] = {}
        self._key_locks: dict[str, threading.Lock] = {}
        self._failed: dict[str, BaseException] = {}   # a prefetched read's error, for its reader
        self._lock = threading.RLock()
        self._kube_lock = threading.Lock()   # not self._lock: every memo() would wait for the kubeconfig
        self._kube_factory = kube_factory
        self._kube = None
        self.outputs = Outputs()   # typed values a plan hands to later steps (acrx.steps.outputs)

    # -- memoised reads -------------------------------------------------------------------
    def memo(self, key: str, read: Callable[[], Any], *, keep_error: bool = False) -> Any:
        """`read()` once per run and key, even when steps are planned on several threads.
        keep_error (prefetch): an error is kept for the next reader of `key` instead of raised."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._memo:
                    return self._memo[key]
                failed = self._failed.pop(key, None)
            if failed is not None:
                # A prefetch read this key and failed: the error surfaces here, where the planner
                # reads it in sequence, once (a read after that tries again, as without prefetch).
                raise failed.with_traceback(None)
            try:
                value = read()
            except Exception as error:
                if not keep_error:
                    raise
                with self._lock:   # under the key's lock: a reader waiting for it finds the error
                    self._failed[key] = error
                return None
            with self._lock:
                return self._memo.setdefault(key, value)

    def known(self, key: str) -> bool:
        with self._lock:
            return key in self._memo or key in self._failed

    def answer(self, key: str, default: Any = None) -> Any:
        """What `key` holds, without reading: `default` when it is not read yet or its read failed
        (the error stays for the key's reader). For planners deciding what to read ahead next."""
        with self._lock:
            return self._memo.get(key, default)

    def prefetch(self, reads: dict[str, Callable[[], Any]]) -> None:
        """Read `reads` (memo key -> read) side by side into the memo; see acrx.steps.prefetch."""
        from acrx.steps.prefetch import prefetch

        prefetch(self, reads)

    def parallel(self, reads: list[Callable[[], Any]]) -> list[Any]:
        """Call independent reads side by side; their answers in order, or the first one's error."""
        from acrx.steps.prefetch import parallel

        return parallel(reads)

    def outcomes(self, reads: list[Callable[[], Any]]) -> list[Any]:
        """Call independent reads side by side; an Outcome each, whose get() answers or raises,
        for callers that check answers in an order of their own (acrx.steps.prefetch)."""
        from acrx.steps.prefetch import outcomes

        return outcomes(reads)

    def forget(self, prefix: str = "") -> None:
        with self._lock:
            for key in [k for k in self._memo if k.startswith(prefix)]:
                del self._memo[key]
            for key in [k for k in self._failed if k.startswith(prefix)]:
                del self._failed[key]

    # -- notes for the user (stderr) ------------------------------------------------------
    def warn(self, message: str) -> None:
        held = HELD_WARNINGS.get()
        if held is not None:
            held.append(message)
            return
        with self._lock:
            if message in self.warnings:
                return
            self.warnings.append(message)
        if self._warn is not None:
            self._warn(message)

    # -- common facts ---------------------------------------------------------------------
    def uid(self, alias: str) -> str:
        return self.memo(f"uid:{alias}", lambda: self.session.uid(alias))

    def instance(self, registry):
        """The registry's ACR instance (CR GetInstance, None when missing), read once a run for
        every step that needs it (identity, network, addon)."""
        key = f"cr:{registry.account}:{registry.region}:instance:{registry.instance_id}"
        return self.memo(key, lambda: self.session.account(registry.account).cr_api(registry.region)
                         .get_instance(registry.instance_id))

    @property
    def cluster_alias(self) -> str:
        return self.config.cluster.account

    def cs(self):
        """The CS adapter of the cluster's account and region."""
        return self.session.account(self.cluster_alias).cs_api(self.config.cluster.region)

    def cluster(self):
        """The live cluster (CS DescribeClusterDetail), read once a run. A cluster that is not
        there, or is in another region than cluster.region, is a config error (exit 2) naming
        the field to correct, as a wrong instance id is."""
        return self.memo("cs:cluster", self._read_cluster)

    def _read_cluster(self):
        from acrx.errors import CloudError, PreflightError

        want = self.config.cluster
        try:
            cluster = self.cs().describe_cluster(want.id)
        except CloudError as exc:
            # ErrorClusterNotFound (HTTP 404): the code CS answers for an unknown id
            if exc.code not in CLUSTER_NOT_FOUND_CODES and exc.http_status != 404:
                raise
            raise PreflightError(f"cluster {want.id} was not found in {want.region} for account '{want.account}'",
                                 field="cluster.id",
                                 hint="check cluster.id, cluster.region and the account; nothing was changed") from None
        if cluster.region and cluster.region != want.region:
            raise PreflightError(f"cluster {want.id} is in {cluster.region}, not {want.region}", field="cluster.region",
                                 hint=f"set cluster.region: {cluster.region}; nothing was changed")
        return cluster

    def kube(self):
        """The cluster's Kubernetes client, built on first use (kubeconfig from CS or --kubeconfig)."""
        with self._kube_lock:
            if self._kube is None:
                if self._kube_factory is None:
                    raise RuntimeError("no Kubernetes access configured for this run")
                self._kube = self._kube_factory()
            return self._kube
