"""Readers of live RAM state, each memoised per run (a plan reads each thing once) and
forgotten by the handlers after a write (`forget_account`)."""

from __future__ import annotations

from acrx.cloud import errors as cloud_errors
from acrx.errors import CloudError
from acrx.steps import ownership


def _ram(ctx, alias: str):
    return ctx.session.account(alias).ram_api


def forget_account(ctx, alias: str) -> None:
    ctx.forget(f"ram:{alias}:")


def role(ctx, alias: str, name: str):
    return ctx.memo(f"ram:{alias}:role:{name}", lambda: _ram(ctx, alias).get_role(name))


def role_tags(ctx, alias: str, name: str) -> dict:
    def read() -> dict:
        listed = _listed_role_tags(ctx, alias)
        if listed is not None and listed.get(name) is not None:
            return listed[name]
        # Not in the listing (made since, or listed without tags): this role alone, by name.
        return _ram(ctx, alias).list_tags("role", name)

    return ctx.memo(f"ram:{alias}:role-tags:{name}", read)


def _listed_role_tags(ctx, alias: str) -> dict | None:
    """In a fleet plan, every role's tags in `alias` from one ListRoles listing shared by all the
    clusters (issue 16: one read for N clusters' roles instead of one ListTagResources each); the
    same tags ListTagResources answers."""
    return _fleet_listing(ctx, ("ram:ListRoles:tags", alias), lambda: _ram(ctx, alias).list_role_tags())


def _fleet_listing(ctx, key: tuple, read):
    """`read()` once for every cluster of a fleet plan (acrx.cloud.read_memo.fleet_read). None
    outside a fleet plan, or when RAM refuses the listing (an operator policy from before the
    fleet): the caller then reads its one entity by name, as a one-cluster plan does."""
    from acrx.cloud.read_memo import fleet_read

    if getattr(ctx.session, "read_memo", None) is None:
        return None
    try:
        return fleet_read(ctx.session, key, read)
    except CloudError as err:
        if cloud_errors.is_no_permission(err):
            return None
        raise


def policy_tags(ctx, alias: str, name: str) -> dict:
    """Tags of a custom policy for its ownership (ownership.policy_owned: the tag or the
    Description's mark); {} when it has none or does not exist, and {} unread when its Description
    carries acrx's mark already (every policy acrx creates has it): the tags cannot change the
    answer then, and a fleet plan of N clusters saves N ListTagResources."""
    def read() -> dict:
        found = policy(ctx, alias, name)
        if found is None or ownership.text_marked(found.description):
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


def pull_attachments(ctx, alias: str, role_name: str, policy_name: str):
    """What role_attachments answers for planning the pull policy's attachment to `role_name`:
    None when the role does not exist, else its attached policies. In a fleet plan, a role the
    shared policy's ListEntitiesForPolicy names (one read for every cluster's pull role) is
    answered as [that policy] without reading the role's own list; a role it does not name is read
    by itself (role_attachments), so an attachment is never missed."""
    from acrx.cloud.ram import AttachedPolicy

    def read():
        if role(ctx, alias, role_name) is None:
            return None
        names = _fleet_listing(ctx, ("ram:ListEntitiesForPolicy", alias, "Custom", policy_name),
                               lambda: _ram(ctx, alias).policy_role_names(policy_name))
        if names is not None and role_name in names:
            return [AttachedPolicy(policy_name, "Custom")]
        return role_attachments(ctx, alias, role_name)

    if getattr(ctx.session, "read_memo", None) is None:
        return role_attachments(ctx, alias, role_name)
    return ctx.memo(f"ram:{alias}:pull-attached:{role_name}:{policy_name}", read)


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
