"""Readers of live RAM state, each memoised per run (a plan reads each thing once) and
forgotten by the handlers after a write (`forget_account`)."""

from __future__ import annotations


def _ram(ctx, alias: str):
    return ctx.session.account(alias).ram_api


def forget_account(ctx, alias: str) -> None:
    ctx.forget(f"ram:{alias}:")


def role(ctx, alias: str, name: str):
    return ctx.memo(f"ram:{alias}:role:{name}", lambda: _ram(ctx, alias).get_role(name))


def role_tags(ctx, alias: str, name: str) -> dict:
    return ctx.memo(f"ram:{alias}:role-tags:{name}", lambda: _ram(ctx, alias).list_tags("role", name))


def policy_tags(ctx, alias: str, name: str) -> dict:
    """Tags of a custom policy; {} when it has none or does not exist."""
    def read() -> dict:
        if policy(ctx, alias, name) is None:
            return {}
        return _ram(ctx, alias).list_tags("policy", name)

    return ctx.memo(f"ram:{alias}:policy-tags:{name}", read)


def policy(ctx, alias: str, name: str, policy_type: str = "Custom"):
    return ctx.memo(f"ram:{alias}:policy:{policy_type}:{name}",
                    lambda: _ram(ctx, alias).get_policy(name, policy_type))


def role_attachments(ctx, alias: str, name: str):
    """Policies attached to the role, or None when the role does not exist (yet)."""
    def read():
        if role(ctx, alias, name) is None:
            return None
        return _ram(ctx, alias).list_policies_for_role(name)

    return ctx.memo(f"ram:{alias}:role-policies:{name}", read)


def user(ctx, alias: str, name: str):
    return ctx.memo(f"ram:{alias}:user:{name}", lambda: _ram(ctx, alias).get_user(name))


def user_attachments(ctx, alias: str, name: str):
    def read():
        if user(ctx, alias, name) is None:
            return None
        return _ram(ctx, alias).list_policies_for_user(name)

    return ctx.memo(f"ram:{alias}:user-policies:{name}", read)


def access_keys(ctx, alias: str, name: str):
    def read():
        if user(ctx, alias, name) is None:
            return None
        return _ram(ctx, alias).list_access_keys(name)

    return ctx.memo(f"ram:{alias}:user-keys:{name}", read)


def instance(ctx, registry):
    key = f"cr:{registry.account}:{registry.region}:instance:{registry.instance_id}"
    return ctx.memo(key, lambda: ctx.session.account(registry.account).cr_api(registry.region)
                    .get_instance(registry.instance_id))
