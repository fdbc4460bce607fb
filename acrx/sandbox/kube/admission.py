"""Defaulting and validation the real apiserver applies on create and update.

Only the rules a client of these kinds meets in practice: names (RFC 1123), label syntax,
required fields, selector/template agreement, Secret data shape, immutable fields. The
messages are the apiserver's, so a test that checks an error text checks the real one.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from .errors import KubeError
from .resources import ResourceType
from .selectors import match_label_selector_object

_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = _DNS1123_LABEL + r"(\." + _DNS1123_LABEL + r")*"
_LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_QUALIFIED_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_CONFIG_KEY = r"[-._a-zA-Z0-9]+"

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 f"validation is '{_DNS1123_SUBDOMAIN}')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             f"validation is '{_DNS1123_LABEL}')")

Causes = list[tuple[str, str, str]]


def _invalid(field: str, value: Any, why: str) -> tuple[str, str, str]:
    shown = json.dumps(value) if isinstance(value, str) else repr(value)
    return field, "FieldValueInvalid", f"Invalid value: {shown}: {why}"


def _required(field: str, why: str = "") -> tuple[str, str, str]:
    return field, "FieldValueRequired", "Required value" + (f": {why}" if why else "")


# ---------------------------------------------------------------- defaults

def _image_pull_policy(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    tag = last.split(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def default_pod_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    if spec.get("serviceAccount") and not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec["serviceAccount"]
    spec.setdefault("serviceAccountName", "default")
    spec["serviceAccount"] = spec["serviceAccountName"]
    for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if not isinstance(container, dict):
            continue
        if container.get("image"):
            container.setdefault("imagePullPolicy", _image_pull_policy(container["image"]))
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})
        for port in container.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


def apply_defaults(rt: ResourceType, obj: dict[str, Any]) -> None:
    meta = obj.setdefault("metadata", {})
    if rt.plural == "namespaces":
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta.get("name", "")
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
    elif rt.plural == "secrets":
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None) or {}
        if string_data:
            data = obj.setdefault("data", {})
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
    elif rt.plural == "pods":
        default_pod_spec(obj.setdefault("spec", {}))
        status = obj.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", "BestEffort")
    elif rt.plural in ("deployments", "replicasets"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        if rt.plural == "deployments":
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
            spec.setdefault("strategy", {"type": "RollingUpdate",
                                         "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        template = spec.get("template")
        if isinstance(template, dict):
            default_pod_spec(template.setdefault("spec", {}))
            template.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    elif rt.plural == "events":
        obj.setdefault("count", 1)
        obj.setdefault("type", "Normal")


# ---------------------------------------------------------------- validation

def _validate_meta(rt: ResourceType, meta: dict[str, Any], causes: Causes) -> None:
    name = meta.get("name") or ""
    if not name:
        causes.append(_required("metadata.name", "name or generateName is required"))
    elif rt.plural == "namespaces":
        if len(name) > 63 or not re.fullmatch(_DNS1123_LABEL, name):
            causes.append(_invalid("metadata.name", name, LABEL_MSG))
    elif rt.plural != "events" and (len(name) > 253 or not re.fullmatch(_DNS1123_SUBDOMAIN, name)):
        causes.append(_invalid("metadata.name", name, SUBDOMAIN_MSG))
    for section in ("labels", "annotations"):
        values = meta.get(section) or {}
        if not isinstance(values, dict):
            causes.append(_invalid(f"metadata.{section}", values, "must be a map of string to string"))
            continue
        for key, value in values.items():
            prefix, _, short = key.rpartition("/")
            if (prefix and not re.fullmatch(_DNS1123_SUBDOMAIN, prefix)) or len(short) > 63 \
                    or not re.fullmatch(_QUALIFIED_NAME, short):
                causes.append(_invalid(f"metadata.{section}", key, "name part must consist of alphanumeric "
                                       "characters, '-', '_' or '.', and must start and end with an alphanumeric character"))
            if not isinstance(value, str):
                causes.append(_invalid(f"metadata.{section}", value, "must be a string"))
            elif section == "labels" and (len(value) > 63 or not re.fullmatch(_LABEL_VALUE, value)):
                causes.append(_invalid("metadata.labels", value, "a valid label must be an empty string or "
                                       "consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                                       "with an alphanumeric character"))


def _validate_pod_spec(spec: Any, path: str, causes: Causes) -> None:
    if not isinstance(spec, dict):
        causes.append(_required(path))
        return
    containers = spec.get("containers")
    if not containers:
        causes.append(_required(f"{path}.containers"))
        return
    seen: set[str] = set()
    for index, container in enumerate(containers):
        where = f"{path}.containers[{index}]"
        name = (container or {}).get("name")
        if not name:
            causes.append(_required(f"{where}.name"))
        elif not re.fullmatch(_DNS1123_LABEL, name) or len(name) > 63:
            causes.append(_invalid(f"{where}.name", name, LABEL_MSG))
        elif name in seen:
            causes.append((f"{where}.name", "FieldValueDuplicate", f"Duplicate value: {json.dumps(name)}"))
        else:
            seen.add(name)
        if not (container or {}).get("image"):
            causes.append(_required(f"{where}.image"))


def _validate_workload(obj: dict[str, Any], causes: Causes) -> None:
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    if not selector or not ((selector.get("matchLabels") or {}) or (selector.get("matchExpressions") or [])):
        causes.append(_required("spec.selector"))
    if not isinstance(spec.get("replicas"), int) or spec["replicas"] < 0:
        causes.append(_invalid("spec.replicas", spec.get("replicas"), "must be greater than or equal to 0"))
    template = spec.get("template")
    if not isinstance(template, dict):
        causes.append(_required("spec.template"))
        return
    labels = (template.get("metadata") or {}).get("labels") or {}
    if selector and not match_label_selector_object(selector, labels):
        go_map = "map[string]string{" + ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in labels.items()) + "}"
        causes.append(("spec.template.metadata.labels", "FieldValueInvalid",
                       f"Invalid value: {go_map}: `selector` does not match template `labels`"))
    _validate_pod_spec(template.get("spec"), "spec.template.spec", causes)


def _validate_secret(obj: dict[str, Any], causes: Causes) -> None:
    data = obj.get("data") or {}
    for key, value in data.items():
        if not re.fullmatch(_CONFIG_KEY, key):
            causes.append(_invalid(f"data[{key}]", key, "a valid config key must consist of alphanumeric "
                                   "characters, '-', '_' or '.'"))
        try:
            base64.b64decode(value or "", validate=True)
        except (binascii.Error, TypeError):
            causes.append(_invalid(f"data[{key}]", "<secret contents redacted>", "must be base64-encoded"))
    if obj.get("type") == "kubernetes.io/dockerconfigjson":
        raw = data.get(".dockerconfigjson")
        if raw is None:
            causes.append(_required("data[.dockerconfigjson]"))
        else:
            try:
                json.loads(base64.b64decode(raw))
            except (ValueError, binascii.Error):
                causes.append(_invalid("data[.dockerconfigjson]", "<secret contents redacted>",
                                       "invalid character looking for beginning of value"))


def validate(rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None = None) -> None:
    """Raise KubeError 422 Invalid listing every problem, as the real server does."""
    causes: Causes = []
    _validate_meta(rt, obj.get("metadata") or {}, causes)
    if rt.plural == "pods":
        _validate_pod_spec(obj.get("spec"), "spec", causes)
    elif rt.plural in ("deployments", "replicasets"):
        _validate_workload(obj, causes)
    elif rt.plural == "secrets":
        _validate_secret(obj, causes)
    elif rt.plural == "configmaps":
        for key in list((obj.get("data") or {})) + list((obj.get("binaryData") or {})):
            if not re.fullmatch(_CONFIG_KEY, key):
                causes.append(_invalid("data", key, "a valid config key must consist of alphanumeric "
                                       "characters, '-', '_' or '.'"))
    if old is not None:
        _validate_immutable(rt, obj, old, causes)
    if causes:
        name = (obj.get("metadata") or {}).get("name") or ""
        raise KubeError.invalid(rt.kind, rt.group, name, causes)


def _validate_immutable(rt: ResourceType, obj: dict, old: dict, causes: Causes) -> None:
    if rt.plural in ("deployments", "replicasets"):
        if (obj.get("spec") or {}).get("selector") != (old.get("spec") or {}).get("selector"):
            causes.append(_invalid("spec.selector", (obj.get("spec") or {}).get("selector"), "field is immutable"))
    if rt.plural == "secrets" and obj.get("type") != old.get("type"):
        causes.append(_invalid("type", obj.get("type"), "field is immutable"))
    if rt.plural in ("secrets", "configmaps") and old.get("immutable"):
        if obj.get("data") != old.get("data") or obj.get("binaryData") != old.get("binaryData"):
            causes.append(("data", "FieldValueForbidden",
                           "Forbidden: field is immutable when `immutable` is set"))
