"""Addon `config` strings for InstallClusterAddons / ModifyClusterAddon (JSON in a string)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from acrx import facts


def managed_addon_config(entries: list[dict], *, enable_rrsa: bool,
                         service_accounts: Iterable[str] = ("default",),
                         watch_namespaces: Iterable[str] = ("default",),
                         expiring_threshold: str = "15m", notify_email: str | None = None) -> str:
    """Config of managed-aliyun-acr-credential-helper. `entries` are acr-registry-info entries
    (see acrx.render.configmap.registry_info_entry); the managed edition uses the same keys."""
    if not entries:
        raise ValueError("AcrInstanceInfo needs at least one registry")
    instance_info = []
    for entry in entries:
        item = dict(entry)
        if facts.RI_EXPIRE_DURATION in item and not facts.MA_EXPIRE_DURATION_IS_INT:
            item[facts.RI_EXPIRE_DURATION] = str(item[facts.RI_EXPIRE_DURATION])
        instance_info.append(item)
    config: dict = {
        facts.MA_INSTANCE_INFO: instance_info,
        facts.MA_ENABLE_RRSA: bool(enable_rrsa),
        facts.MA_WATCH_NAMESPACE: ",".join(watch_namespaces),
        facts.MA_SERVICE_ACCOUNT: ",".join(service_accounts),
        facts.MA_EXPIRING_THRESHOLD: expiring_threshold,
    }
    if notify_email:
        config[facts.MA_NOTIFY_EMAIL] = notify_email
    return json.dumps(config, separators=(",", ":"))


def self_managed_addon_config(token_mode: str) -> str:
    """Config of the self-managed aliyun-acr-credential-helper: only tokenMode; the
    cross-account settings live in the ConfigMap."""
    if token_mode not in facts.TOKEN_MODES:
        raise ValueError(f"tokenMode must be one of {', '.join(facts.TOKEN_MODES)}, not {token_mode!r}")
    return json.dumps({facts.SM_TOKEN_MODE_KEY: token_mode}, separators=(",", ":"))
