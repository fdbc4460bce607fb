"""The documented order trap: RRSA must be on before the helper's RRSA is configured.

ACK's pod-identity webhook projects the RRSA OIDC token only into pods created while RRSA is
enabled. A self-managed helper pod that started earlier has no token file and keeps failing in
RRSA mode until it is deleted (its Deployment recreates it, this time with the token).

The CS API gives no time at which RRSA was enabled, so the signal is read from the pod itself,
as it shows on a real cluster:
- the RRSA token is there (a projected token volume for the STS audience, a mount under the
  token directory, or ALIBABA_CLOUD_OIDC_TOKEN_FILE in the env): the pod is fine;
- otherwise the helper's own log says the token file is missing: the pod predates RRSA and is
  replaced (`k8s.pod.kube-system/<pod>`, applied as a delete);
- otherwise acrx cannot tell yet (the helper has not tried RRSA): it warns.
"""

from __future__ import annotations

from typing import Any

from acrx import facts
from acrx.errors import AcrxError
from acrx.kube.errors import KubeError
from acrx.plan.change import Action, Change

KIND = "k8s.pod"
LOG_TAIL_LINES = 200


def _containers(pod: dict) -> list[dict]:
    spec = pod.get("spec") or {}
    return list(spec.get("containers") or []) + list(spec.get("initContainers") or [])


def rrsa_token_marker(pod: dict) -> str | None:
    """What shows the pod got the RRSA token at creation, or None."""
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        for source in ((volume.get("projected") or {}).get("sources") or []):
            token = source.get("serviceAccountToken") or {}
            if token.get("audience") == facts.OIDC_AUDIENCE:
                return f"projected token volume {volume.get('name')}"
    for container in _containers(pod):
        for mount in container.get("volumeMounts") or []:
            if str(mount.get("mountPath", "")).startswith(facts.RRSA_TOKEN_DIR):
                return f"mount {mount.get('mountPath')}"
        for env in container.get("env") or []:
            if env.get("name") == facts.RRSA_TOKEN_FILE_ENV:
                return f"env {facts.RRSA_TOKEN_FILE_ENV}"
    return None


def missing_token_evidence(log_text: str) -> str | None:
    """The helper's log line saying its RRSA token file is missing, if any."""
    for line in reversed((log_text or "").splitlines()):
        if any(marker in line for marker in facts.HELPER_NO_TOKEN_LOG_MARKERS):
            return line.split("] ", 1)[-1].strip()[:240]
    return None


def helper_pods(kube) -> list[dict]:
    pods = kube.list_pods(facts.HELPER_NAMESPACE, label_selector=facts.HELPER_POD_SELECTOR)
    return [p for p in pods if not (p.get("metadata") or {}).get("deletionTimestamp")]


def _logs(kube, pod: dict) -> str:
    name = pod["metadata"]["name"]
    try:
        return kube.pod_logs(facts.HELPER_NAMESPACE, name, tail_lines=LOG_TAIL_LINES)
    except KubeError:
        return ""   # a pod not running yet has no logs; no evidence either way


def _configmap_enables_rrsa(kube) -> bool:
    import yaml

    try:
        cm = kube.get_configmap(facts.CONFIGMAP_NAMESPACE, facts.CONFIGMAP_NAME)
    except KubeError:
        return False
    text = ((cm or {}).get("data") or {}).get(facts.CM_RRSA) or ""
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return False
    return isinstance(doc, dict) and bool(doc.get("enable"))


def plan_pod_restarts(ctx, addon_address: str, live_addon) -> list[Change]:
    config = ctx.config
    if config.mode != "rrsa" or config.addon_flavour != "self-managed":
        return []
    running = live_addon is not None and live_addon.state != facts.ADDON_FAILED
    rrsa = ctx.cluster().rrsa
    if not (rrsa and rrsa.enabled):
        which = "already running" if running else "this install starts"
        ctx.warn(f"RRSA is not enabled on the cluster yet, so the helper pod {which} gets no RRSA token: "
                 "enable RRSA first (acrx rrsa enable), then run `acrx addon install` again so that pod "
                 "is restarted")
        return []
    if not running:
        return []   # the pod starts after RRSA: it gets the token
    try:
        kube = ctx.kube()
        pods = helper_pods(kube)
    except KubeError as exc:
        ctx.warn(f"cannot check the helper pods for the RRSA order trap: {exc}")
        return []
    changes = []
    undecided = []
    for pod in pods:
        if rrsa_token_marker(pod):
            continue
        meta = pod["metadata"]
        evidence = missing_token_evidence(_logs(kube, pod))
        if evidence is None:
            undecided.append(meta["name"])
            continue
        created = meta.get("creationTimestamp")
        changes.append(Change(
            f"k8s.pod.{facts.HELPER_NAMESPACE}/{meta['name']}", Action.REPLACE,
            before={"created": created, "rrsa_token": False}, after={"rrsa_token": True},
            reason=(f"the helper pod started ({created}) before RRSA was enabled on the cluster, so it has no "
                    f"RRSA token (its log: {evidence}); deleting it lets its Deployment recreate it with the token"),
            account=ctx.cluster_alias, kind=KIND, depends_on=(addon_address,),
            data={"namespace": facts.HELPER_NAMESPACE, "name": meta["name"], "uid": meta.get("uid"),
                  "selector": facts.HELPER_POD_SELECTOR}))
    if undecided and not _configmap_enables_rrsa(kube):
        ctx.warn(f"helper pod {', '.join(undecided)} shows no RRSA token and has not tried RRSA yet; if it "
                 "started before RRSA was enabled it will fail once RRSA is configured: run `acrx addon "
                 "install` again after `acrx configmap apply` to restart it if so")
    return changes


class PodRestartHandler:
    """Deletes the pod and waits for its Deployment's replacement to run."""

    required_inputs = ("namespace", "name")

    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        return f"deleting pod {change.data['namespace']}/{change.data['name']} so it restarts with the RRSA token"

    def apply(self, change: Change, actx) -> dict[str, Any]:
        if change.action is not Action.REPLACE:
            raise AcrxError(f"{change.address}: cannot {change.action} a pod")
        kube = self.ctx.kube()
        ns, name, uid = change.data["namespace"], change.data["name"], change.data.get("uid")
        kube.delete_pod(ns, name)

        def replacement():
            for pod in kube.list_pods(ns, label_selector=change.data["selector"]):
                meta = pod.get("metadata") or {}
                if meta.get("uid") == uid or meta.get("name") == name or meta.get("deletionTimestamp"):
                    continue
                if (pod.get("status") or {}).get("phase") == "Running":
                    return meta["name"]
            return None

        new_name = actx.wait_until(replacement, what=f"a new pod to replace {name}",
                                   budget_s=self.ctx.options.wait_budget_s)
        return {"replaced": name, "pod": new_name}
