"""acr-registry-info / AcrInstanceInfo entries from the config and the live accounts.

Role ARNs are computed, not read: `acs:ram::<uid>:role/<name>` from each account's uid and the
config's deterministic names, and the OIDC provider ARN from the cluster id, so the entries are
known before the identity steps have run.
"""

from __future__ import annotations

from typing import Any

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
        def read():
            api = ctx.session.account(reg.account).cr_api(reg.region)
            return api.get_instance(reg.instance_id)

        instance = ctx.memo(f"cr:instance:{reg.region}:{reg.instance_id}", read)
        if instance is None:
            raise PreflightError(f"ACR instance {reg.instance_id} does not exist in {reg.region} "
                                 f"(account {reg.account})", hint="check registries[].instance_id and region")
        name = instance.name
    return facts.default_domains(name, reg.region)


def rrsa_arns(ctx) -> tuple[str, str]:
    """(cluster role ARN, OIDC provider ARN) in the cluster account."""
    config = ctx.config
    uid_a = ctx.uid(config.cluster.account)
    return facts.role_arn(uid_a, config.cluster_role_name), facts.oidc_provider_arn(uid_a, config.cluster.id)


def registry_entries(ctx, *, access_key: tuple[Any, Any] | None = None) -> list[dict]:
    """One entry per registry, with exactly the keys the mode uses. In access-key mode
    `access_key` is (id, secret), each a str, Ref or Sensitive; they are put in as given."""
    config = ctx.config
    mode = config.mode
    rrsa_role = provider = None
    if mode == "rrsa":
        rrsa_role, provider = rrsa_arns(ctx)
    entries = []
    for index, reg in enumerate(config.registries):
        assume = None
        if mode != "access-key":
            assume = facts.role_arn(ctx.uid(reg.account), config.registry_role_name)
        key_id, secret = access_key or (None, None)
        entries.append(registry_info_entry(
            mode, instance_id=reg.instance_id, region=reg.region, domains=registry_domains(ctx, index),
            expire_duration=reg.expire_duration, assume_role_arn=assume, rrsa_role_arn=rrsa_role,
            oidc_provider_arn=provider, access_key_id=key_id, access_key_secret=secret))
    return entries
