"""Layer 2, the component: is aliyun-acr-credential-helper installed, configured for these
registries, and has it handed the verify service account a pull Secret that is still valid?

Secret data is read only to learn which registry domains a `.dockerconfigjson` covers and when it
expires; passwords are never kept, printed or put in a result.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone
from typing import Any

import yaml

from acrx import cancel, facts
from acrx.doctor.explain import FIX_ADDON, FIX_CONFIGMAP, explain
from acrx.doctor.layers import Check, failed, passed, skipped
from acrx.errors import AcrxError, CloudError
from acrx.kube.errors import KubeError

ACTIVE_STATES = ("active", "running", "installed")
# Annotations a helper version may put on its Secret to say when the login expires. [?] none is
# documented; matched by key substring so any spelling with "expir" counts.
EXPIRY_KEY_HINT = "expir"
SECRET_WAIT_CAP_S = 20.0


def _addon_name(config) -> str:
    return facts.MANAGED_ADDON if config.addon_flavour == "managed" else facts.SELF_MANAGED_ADDON


def _covers(listed: str, wanted: str, everything: str) -> bool:
    values = [v.strip() for v in (listed or "").split(",") if v.strip()]
    return everything in values or wanted in values


def _instances_in(entries: Any) -> set[str]:
    return {str(e.get(facts.RI_INSTANCE_ID)) for e in entries or [] if isinstance(e, dict)}


def check_addon(run) -> Check:
    config, ctx = run.config, run.ctx
    name = _addon_name(config)
    cs = ctx.cs()
    addon = cs.get_addon_instance(config.cluster.id, name)
    run.memo["addon"] = addon
    title = f"addon {name}"
    if addon is None:
        return failed(title, f"{name} is not installed on cluster {config.cluster.id}",
                      fix_command=run.fix(FIX_ADDON))
    if str(addon.state).lower() not in ACTIVE_STATES:
        return failed(title, f"{name} is {addon.state}, not active", fix_command=run.fix(FIX_ADDON))
    return passed(title, f"{addon.state}, version {addon.version or 'unknown'}")


def _coverage_problems(settings: dict[str, str], config) -> list[str]:
    """What the helper's settings leave out: an instance, RRSA, the verify namespace or SA."""
    problems = []
    missing = [r.instance_id for r in config.registries if r.instance_id not in settings["instances"]]
    if missing:
        problems.append(f"no registry entry for {', '.join(missing)}")
    if config.mode == "rrsa" and not settings["rrsa"]:
        problems.append("RRSA is not switched on in the helper's settings")
    ns, sa = config.verify.namespace, config.verify.service_account
    if not _covers(settings["namespaces"], ns, facts.ALL_NAMESPACES):
        problems.append(f"namespace {ns} (verify.namespace) is not watched ({settings['namespaces'] or 'none'}); "
                        "add it to addon.watch_namespaces")
    if not _covers(settings["service_accounts"], sa, facts.ALL_SERVICE_ACCOUNTS):
        problems.append(f"service account {sa} (verify.service_account) is not listed "
                        f"({settings['service_accounts'] or 'none'}); add it to addon.service_accounts")
    return problems


def check_settings(run) -> Check:
    config = run.config
    if config.addon_flavour == "managed":
        addon = run.memo.get("addon")
        title = "addon config"
        try:
            doc = json.loads(addon.config) if addon is not None and addon.config else None
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            return skipped(title, "the CS API does not return the managed addon's config; layer 1 compared it")
        enable = doc.get(facts.MA_ENABLE_RRSA)
        settings = {"instances": _instances_in(doc.get(facts.MA_INSTANCE_INFO)),
                    "rrsa": enable is True or str(enable).lower() == "true",
                    "namespaces": str(doc.get(facts.MA_WATCH_NAMESPACE) or ""),
                    "service_accounts": str(doc.get(facts.MA_SERVICE_ACCOUNT) or "")}
        fix = FIX_ADDON
    else:
        title = f"configmap {facts.CONFIGMAP_NAMESPACE}/{facts.CONFIGMAP_NAME}"
        cm = run.ctx.kube().get_configmap(facts.CONFIGMAP_NAMESPACE, facts.CONFIGMAP_NAME)
        if cm is None:
            return failed(title, "the ConfigMap does not exist", fix_command=run.fix(FIX_CONFIGMAP))
        data = cm.get("data") or {}
        try:
            entries = yaml.safe_load(data.get(facts.CM_REGISTRY_INFO) or "") or []
            rrsa = yaml.safe_load(data.get(facts.CM_RRSA) or "") or {}
        except yaml.YAMLError as exc:
            return failed(title, f"a value is not valid YAML: {str(exc).splitlines()[0]}",
                          fix_command=run.fix(FIX_CONFIGMAP))
        settings = {"instances": _instances_in(entries if isinstance(entries, list) else []),
                    "rrsa": isinstance(rrsa, dict) and rrsa.get("enable") is True,
                    "namespaces": data.get(facts.CM_WATCH_NAMESPACE, "default"),
                    "service_accounts": data.get(facts.CM_SERVICE_ACCOUNT, "default")}
        fix = FIX_CONFIGMAP
    problems = _coverage_problems(settings, config)
    if problems:
        return failed(title, "; ".join(problems), fix_command=run.fix(fix))
    return passed(title, f"covers {', '.join(sorted(settings['instances']))}")


# -- the Secret ---------------------------------------------------------------------------------
def _docker_domains(secret: dict) -> list[str]:
    raw = (secret.get("data") or {}).get(".dockerconfigjson")
    if not raw:
        return []
    try:
        doc = json.loads(base64.b64decode(raw))
    except ValueError:
        return []
    auths = doc.get("auths") if isinstance(doc, dict) else None
    return [k.split("://", 1)[-1].split("/", 1)[0].lower() for k in (auths or {})]


def _expiry(secret: dict) -> str | None:
    """When the login expires, if the Secret says so (an annotation), as ISO text."""
    for key, value in ((secret.get("metadata") or {}).get("annotations") or {}).items():
        if EXPIRY_KEY_HINT in key.lower() and value:
            try:
                number = float(value)
                if number > 1e11:   # milliseconds
                    number /= 1000
                return datetime.fromtimestamp(number, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            except ValueError:
                return str(value)
    return None


def _expired(expiry: str | None) -> bool:
    if not expiry:
        return False
    try:
        moment = datetime.strptime(expiry, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return False
    return moment <= datetime.now(timezone.utc)


def wanted_domains(run) -> list[str]:
    from acrx.doctor.pull import resolve_image

    try:
        return [resolve_image(run).domain]
    except AcrxError:
        return []


def _find_secret(run, domains: list[str]) -> tuple[dict | None, list[str]]:
    """The helper's Secret on the verify SA covering `domains`, and the names attached."""
    kube, ns, sa_name = run.ctx.kube(), run.config.verify.namespace, run.config.verify.service_account
    sa = kube.get_service_account(ns, sa_name) or {}
    attached = [s.get("name", "") for s in sa.get("imagePullSecrets") or []]
    secrets = [s for s in kube.list_secrets(ns, include_data=True)
               if s["metadata"]["name"].startswith(facts.HELPER_SECRET_PREFIX)]
    for secret in secrets:
        covered = _docker_domains(secret)
        if secret["metadata"]["name"] in attached and all(d in covered for d in domains):
            return secret, attached
    return None, attached


def helper_last_error(run) -> str | None:
    """The last error line of the self-managed helper's pod log (None when there is none)."""
    if run.config.addon_flavour == "managed":
        return None
    kube = run.ctx.kube()
    pods = kube.list_pods(facts.HELPER_NAMESPACE, label_selector=f"app={facts.SELF_MANAGED_ADDON}")
    pods = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    if not pods:
        return None
    pod = max(pods, key=lambda p: p["metadata"].get("creationTimestamp") or "")
    text = kube.pod_logs(facts.HELPER_NAMESPACE, pod["metadata"]["name"], tail_lines=200)
    errors = [line for line in text.splitlines() if line.startswith("E") or " error" in line.lower()]
    if not errors:
        return None
    line = errors[-1]
    return line.split("] ", 1)[1] if "] " in line else line   # drop klog's header


def check_secret(run) -> list[Check]:
    config = run.config
    domains = wanted_domains(run)
    ns, sa = config.verify.namespace, config.verify.service_account
    title = f"secret {facts.HELPER_SECRET_PREFIX}* on {ns}/{sa}"
    # The helper works on its own schedule; a setup applied a moment ago may not be served yet.
    deadline = time.monotonic() + min(run.timeout_s, SECRET_WAIT_CAP_S)
    while True:
        secret, attached = _find_secret(run, domains)
        if secret is not None or time.monotonic() >= deadline:
            break
        cancel.sleep(min(run.poll_s, 0.5))   # Ctrl-C ends the wait at once
    if secret is None:
        wanted = ", ".join(domains) or "the registry"
        detail = f"no {facts.HELPER_SECRET_PREFIX}* Secret for {wanted} is attached to service account {ns}/{sa}"
        last = helper_last_error(run)
        if last:
            why = explain(last)
            cause = f"{detail}; the helper's last error: {last}"
            if why is not None:
                return [failed(title, cause, cause=f"{why.cause} (helper: {last})", fix_command=run.fix(why.fix_command))]
            return [failed(title, cause)]
        hint = "the managed helper logs nowhere visible" if config.addon_flavour == "managed" \
            else "the helper logged no error yet"
        return [failed(title, f"{detail} ({hint})", fix_command=run.fix(FIX_CONFIGMAP))]
    name = secret["metadata"]["name"]
    checks = [passed(title, f"{name} covers {', '.join(_docker_domains(secret))}")]
    expiry = _expiry(secret)
    if expiry is None:
        pass   # the helper does not record it (the usual case): a line saying so tells nothing
    elif _expired(expiry):
        last = helper_last_error(run)
        checks.append(failed("secret expiry", f"{name} expired at {expiry} and was not refreshed"
                             + (f"; the helper's last error: {last}" if last else ""), fix_command=run.fix(FIX_ADDON)))
    else:
        checks.append(passed("secret expiry", f"valid until {expiry}"))
    return checks


def check_component(run) -> list[Check]:
    try:
        checks = [check_addon(run)]
        if checks[-1].ok is False:
            return checks
        checks.append(check_settings(run))
        if checks[-1].ok is False:
            return checks
        checks.extend(check_secret(run))
    except (CloudError, KubeError) as exc:
        return [failed("component read", f"could not read the component's state: {exc}")]
    return checks
