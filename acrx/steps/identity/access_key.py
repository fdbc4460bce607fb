"""access-key mode: `ram.user.registry` (the RAM user holding the pull policy) and
`ram.access_key.registry` (its AccessKey).

A key is created only when the user has none; an existing key can be named through the
environment variables of `addon.access_key`. The secret comes back from the cloud once: it is a
Sensitive output (shown and journaled never), for the ConfigMap step to read and nothing else.
"""

from __future__ import annotations

import os

from acrx.plan.change import Action, Change, Ref, Sensitive
from acrx.steps.identity import names, state
from acrx.steps.identity.names import ADOPTED, KIND_ACCESS_KEY, KIND_USER

ACCESS_KEY_ID = "access_key_id"
ACCESS_KEY_SECRET = "access_key_secret"


def plan_user(address: str, *, account: str, name: str, observed, purpose: str) -> Change:
    data = {"name": name, "comments": names.owned_description(purpose)}
    if observed is None:
        return Change(address, Action.CREATE, after={"name": name}, account=account, kind=KIND_USER, data=data,
                      reason=f"RAM user {name} does not exist")
    owned = names.is_owned_description(observed.comments)
    return Change(address, Action.NOOP, before={"name": name}, after={"name": name}, account=account,
                  kind=KIND_USER, data=data, reason="user exists" + ("" if owned else f"; {ADOPTED}"))


def plan_access_key(address: str, *, account: str, user: str, user_address: str, keys, env_id_name: str,
                    env_secret_name: str, env_id: str | None, env_secret_set: bool) -> tuple[Change, str | None]:
    """keys: the user's AccessKeys (None when the user does not exist yet). Returns the change
    and a warning for the user, if any. Pure: the environment is passed in."""
    data = {"user": user}
    if env_id and env_secret_set:
        view = {ACCESS_KEY_ID: env_id, ACCESS_KEY_SECRET: Sensitive(None, source=f"env:{env_secret_name}")}
        known = keys is not None and any(k.access_key_id == env_id for k in keys)
        warning = None if known else (f"the AccessKey in ${env_id_name} is not a key of RAM user {user}; "
                                      "acrx cannot check that it may pull")
        return Change(address, Action.NOOP, before=view, after=view, account=account, kind=KIND_ACCESS_KEY,
                      data=data, reason=f"the AccessKey given through ${env_id_name} / ${env_secret_name} is used; "
                                        "acrx creates none"), warning
    if env_id or env_secret_set:
        missing = env_secret_name if env_id else env_id_name
        return Change(address, Action.NOOP, account=account, kind=KIND_ACCESS_KEY, data=data,
                      reason=f"${missing} is not set, so the key named in the environment cannot be used"), (
            f"set both ${env_id_name} and ${env_secret_name}, or neither")
    if keys:
        active = [k.access_key_id for k in keys]
        view = {ACCESS_KEY_ID: active[0]}
        return Change(address, Action.NOOP, before=view, after=view, account=account, kind=KIND_ACCESS_KEY,
                      data=data, reason=f"user {user} already has AccessKey {', '.join(active)}; its secret is "
                                        "shown only once, at creation"), (
            f"RAM user {user} has an AccessKey whose secret acrx cannot read back: export "
            f"${env_id_name} and ${env_secret_name} for the ConfigMap, or delete the key to have acrx make one")
    after = {"user": user, ACCESS_KEY_ID: Ref(address, ACCESS_KEY_ID), ACCESS_KEY_SECRET: Ref(address, ACCESS_KEY_SECRET)}
    depends = (user_address,) if keys is None else ()
    return Change(address, Action.CREATE, after=after, account=account, kind=KIND_ACCESS_KEY, data=data,
                  depends_on=depends, reason=f"user {user} has no AccessKey"), None


def plan(ctx, environ=os.environ) -> list[Change]:
    config = ctx.config
    if config.mode != "access-key":
        return []
    changes = []
    env = config.addon.access_key
    for alias in names.registry_aliases(config):
        name = config.access_key_user_name
        user_address = names.user_address(config, alias)
        changes.append(plan_user(user_address, account=alias, name=name, observed=state.user(ctx, alias, name),
                                 purpose=f"pulls images for cluster {config.cluster.id} (access-key mode)"))
        change, warning = plan_access_key(
            names.access_key_address(config, alias), account=alias, user=name, user_address=user_address,
            keys=state.access_keys(ctx, alias, name), env_id_name=env.access_key_id_env,
            env_secret_name=env.access_key_secret_env, env_id=environ.get(env.access_key_id_env) or None,
            env_secret_set=bool(environ.get(env.access_key_secret_env)))
        changes.append(change)
        if warning:
            ctx.warn(warning)
    return changes


class UserHandler:
    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        return f"create RAM user {change.data['name']}"

    def apply(self, change: Change, apply_ctx) -> dict:
        from acrx.cloud import errors as cloud_errors
        from acrx.errors import CloudError

        ram = self.ctx.session.account(change.account).ram_api
        try:
            ram.create_user(change.data["name"], comments=change.data["comments"])
        except CloudError as exc:
            if not cloud_errors.is_already_exists(exc):  # made since the plan: adopt it
                raise
        state.forget_account(self.ctx, change.account)
        return {"name": change.data["name"]}


class AccessKeyHandler:
    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        return f"create an AccessKey for RAM user {change.data['user']}"

    def apply(self, change: Change, apply_ctx) -> dict:
        from acrx.steps.identity import readiness

        ram = self.ctx.session.account(change.account).ram_api
        user = change.data["user"]
        # Never retried blindly: a second CreateAccessKey would make a second key. A missing
        # user (just created) is the only failure worth waiting out.
        key = readiness.retry_while_missing(apply_ctx, lambda: ram.create_access_key(user),
                                            what=f"RAM user {user} to be found",
                                            budget_s=names.readiness_budget_s(self.ctx))
        state.forget_account(self.ctx, change.account)
        return {ACCESS_KEY_ID: key.access_key_id, ACCESS_KEY_SECRET: Sensitive(key.secret.reveal())}
