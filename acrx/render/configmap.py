"""The kube-system/acr-configuration ConfigMap the self-managed helper reads.

Pure functions of plain values. `acr-registry-info` and `rrsa` are YAML documents held in
string values, as the component expects."""

from __future__ import annotations

from collections.abc import Iterable

import yaml

from acrx import facts


def registry_info_entry(mode: str, *, instance_id: str, region: str, domains: Iterable[str],
                        expire_duration: int | None = None, assume_role_arn: str | None = None,
                        rrsa_role_arn: str | None = None, oidc_provider_arn: str | None = None,
                        access_key_id: str | None = None, access_key_secret: str | None = None) -> dict:
    """One entry of acr-registry-info with exactly the keys its mode uses."""
    if mode not in facts.MODES:
        raise ValueError(f"unknown mode {mode!r}")
    entry: dict = {
        facts.RI_INSTANCE_ID: instance_id,
        facts.RI_REGION_ID: region,
        facts.RI_DOMAINS: ",".join(domains),
    }
    if mode == "access-key":
        if not access_key_id or not access_key_secret:
            raise ValueError("access-key mode needs the AccessKey id and secret")
        entry[facts.RI_ACCESS_KEY_ID] = access_key_id
        entry[facts.RI_ACCESS_KEY_SECRET] = access_key_secret
        return entry
    if not assume_role_arn:
        raise ValueError(f"{mode} mode needs the registry role ARN")
    entry[facts.RI_ASSUME_ROLE_ARN] = assume_role_arn
    entry[facts.RI_EXPIRE_DURATION] = int(expire_duration or facts.DEFAULT_EXPIRE_DURATION)
    if mode == "rrsa":
        if not rrsa_role_arn or not oidc_provider_arn:
            raise ValueError("rrsa mode needs the cluster role ARN and the OIDC provider ARN")
        entry[facts.RI_RRSA_ROLE_ARN] = rrsa_role_arn
        entry[facts.RI_RRSA_PROVIDER_ARN] = oidc_provider_arn
    return entry


def _yaml_block(value) -> str:
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False, allow_unicode=True)


def configmap_data(entries: list[dict], *, rrsa: bool, service_accounts: Iterable[str] = ("default",),
                   watch_namespaces: Iterable[str] = ("default",), expiring_threshold: str = "15m",
                   notify_email: str | None = None) -> dict[str, str]:
    """The data of acr-configuration. rrsa=True adds the `rrsa` key; otherwise it is absent."""
    if not entries:
        raise ValueError("acr-registry-info needs at least one registry")
    data = {
        facts.CM_SERVICE_ACCOUNT: ",".join(service_accounts),
        facts.CM_WATCH_NAMESPACE: ",".join(watch_namespaces),
        facts.CM_EXPIRING_THRESHOLD: expiring_threshold,
    }
    if notify_email:
        data[facts.CM_NOTIFY_EMAIL] = notify_email
    data[facts.CM_REGISTRY_INFO] = _yaml_block(entries)
    if rrsa:
        data[facts.CM_RRSA] = _yaml_block({"enable": True})
    return data


def configmap_manifest(data: dict[str, str], *, labels: dict[str, str] | None = None) -> dict:
    metadata: dict = {"name": facts.CONFIGMAP_NAME, "namespace": facts.CONFIGMAP_NAMESPACE}
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": dict(data)}


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line strings as `|` blocks so the embedded YAML stays readable."""


def _str_presenter(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _str_presenter)


def configmap_yaml(manifest: dict) -> str:
    return yaml.dump(manifest, Dumper=_LiteralDumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True)
