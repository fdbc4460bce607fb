"""kubernetes.io/dockerconfigjson Secrets: built by the credential helper, read by the kubelet."""

from __future__ import annotations

import base64
import json

from .registry_client import Auth

DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"


def dockerconfigjson(domains: list[str], username: str, password: str) -> str:
    """The `.dockerconfigjson` document (base64 for a Secret's data) for every domain."""
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    doc = {"auths": {domain: {"username": username, "password": password, "auth": auth} for domain in domains}}
    return base64.b64encode(json.dumps(doc, sort_keys=True).encode()).decode()


def docker_auths_for(secret: dict, host: str) -> list[Auth]:
    """The credentials a dockerconfigjson (or legacy dockercfg) Secret holds for `host`."""
    data = secret.get("data") or {}
    raw = data.get(".dockerconfigjson") or data.get(".dockercfg")
    if not raw:
        return []
    try:
        doc = json.loads(base64.b64decode(raw))
    except ValueError:
        return []
    auths = doc.get("auths", doc) if isinstance(doc, dict) else {}
    found = []
    for key, entry in auths.items():
        if not isinstance(entry, dict) or _registry_host(key) != host:
            continue
        user, password = entry.get("username"), entry.get("password")
        if (not user or password is None) and entry.get("auth"):
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except ValueError:
                continue
        if user:
            found.append(Auth(user, password or ""))
    return found


def _registry_host(key: str) -> str:
    """`https://host/v1/` or `host` -> `host` (the kubelet's keyring matches on the host)."""
    key = key.split("://", 1)[-1]
    return key.split("/", 1)[0].lower()
