"""acr-registry-info / AcrInstanceInfo entries from the config and the live accounts.

Role ARNs are computed, not read: `acs:ram::<uid>:role/<name>` from each account's uid and the
config's deterministic names, and the OIDC provider ARN from the cluster id, so the entries are
known before the identity steps have run.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from acrx import facts
from acrx.errors import PreflightError
from acrx.render.configmap import registry_info_entry


def registry_domains(ctx, index: int) -> list[str]:
    """The domains of registries[index]: as configured, else every domain of the instance."""
    reg = ctx.config.registries[index]
    if reg.domains:
        return list(reg.domains)
    name = reg.instance_name
    if not name:
        instance = ctx.instance(reg)   # the one read of the instance the other steps share
        if instance is None:
            raise PreflightError(f"ACR instance {reg.instance_id} does not exist in {reg.region} "
                                 f"(account {reg.account})", hint="check registries[].instance_id and region")
        name = instance.name
    return facts.default_domains(name, reg.region)


def build_entries(config, *, cluster_uid: Callable[[], str], registry_uid: Callable[[Any], str],
                  domains: Callable[[int], list[str]],
                  access_keys: Mapping[str, tuple[Any, Any]] | None = None) -> list[dict]:
    """One entry per registry, with exactly the keys the mode uses; the only place that builds
    them, online (registry_entries) and offline (`acrx render`). The callables resolve uids and
    domains the caller's way. In access-key mode `access_keys` maps each registry account alias
    to its (id, secret), each a str, Ref or Sensitive: an entry gets the key of its own account."""
    mode = config.mode
    rrsa_role = provider = None
    if mode == "rrsa":
        uid_a = cluster_uid()
        rrsa_role, provider = facts.role_arn(uid_a, config.cluster_role_name), facts.oidc_provider_arn(uid_a, config.cluster.id)
    entries = []
    for index, reg in enumerate(config.registries):
        assume = key_id = secret = None
        if mode != "access-key":
            assume = facts.role_arn(registry_uid(reg), config.registry_role_name)
        elif access_keys is not None:
            key_id, secret = access_keys[reg.account]
        entries.append(registry_info_entry(
            mode, instance_id=reg.instance_id, region=reg.region, domains=domains(index),
            expire_duration=reg.expire_duration, assume_role_arn=assume, rrsa_role_arn=rrsa_role,
            oidc_provider_arn=provider, access_key_id=key_id, access_key_secret=secret))
    return entries


def registry_entries(ctx, *, access_keys: Mapping[str, tuple[Any, Any]] | None = None) -> list[dict]:
    """The entries from the live accounts (uids read once a run, domains from the instances)."""
    return build_entries(ctx.config, cluster_uid=lambda: ctx.uid(ctx.config.cluster.account),
                         registry_uid=lambda reg: ctx.uid(reg.account),
                         domains=lambda index: registry_domains(ctx, index), access_keys=access_keys)
