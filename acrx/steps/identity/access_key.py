"""access-key mode: `ram.user.registry` (the RAM user holding the pull policy) and
`ram.access_key.registry` (its AccessKey).

The secret comes back from the cloud once, at CreateAccessKey: it is a Sensitive output (shown
and journaled never) for the ConfigMap step. A key whose secret is stored nowhere acrx can read
(not in the environment variables of `addon.access_key`, not in the live ConfigMap) is an
orphan: a run died between CreateAccessKey and the ConfigMap write. On acrx's own user an
orphan is replaced: a new key is created and stored, and the orphan deleted. RAM allows two
keys per user, so at the limit the orphan goes first. CreateAccessKey takes no ClientToken,
so the handler lists the keys again (ListAccessKeys) right before creating one.

A key given through the environment must be a key of acrx's pull user (issue 11, item 9: the
key that lands in the ConfigMap in plaintext must never be another user's or an account's own
credential); `--allow-foreign-access-key` accepts another.
"""

from __future__ import annotations

import os

from acrx import facts
from acrx.errors import PreflightError
from acrx.plan.change import Action, Change, Ref, Sensitive
from acrx.steps import ownership
from acrx.steps.identity import membership, names, state
from acrx.steps.identity.names import KIND_ACCESS_KEY, KIND_USER
from acrx.steps.ownership import ADOPTED

ACCESS_KEY_ID = "access_key_id"
ACCESS_KEY_SECRET = "access_key_secret"
FOREIGN_FLAG = "--allow-foreign-access-key"


def plan_user(address: str, *, account: str, name: str, observed, purpose: str,
              mark: tuple[str, str] | None = None) -> Change:
    """mark: (Comments, what it says), the user's membership mark (membership.py), written at
    creation and kept current on acrx's own user (UpdateUser NewComments)."""
    data = {"name": name, "comments": mark[0] if mark else ownership.description(purpose)}
    uses = {"uses": mark[1]} if mark else {}
    if observed is None:
        return Change(address, Action.CREATE, after={"name": name, **uses}, account=account, kind=KIND_USER,
                      data=data, reason=f"RAM user {name} does not exist")
    owned = ownership.user_owned(observed.comments)
    if not owned:
        return Change(address, Action.NOOP, before={"name": name}, after={"name": name}, account=account,
                      kind=KIND_USER, data=data, reason=f"user exists; {ADOPTED}")
    said = membership.parse(observed.comments, name)
    before = {"name": name, **({"uses": said.summary() if said else "(no membership mark)"} if mark else {})}
    if mark and observed.comments != mark[0]:
        return Change(address, Action.UPDATE, before=before, after={"name": name, **uses}, account=account,
                      kind=KIND_USER, data=data,
                      reason=f"its membership mark changes from [{before['uses']}] to [{mark[1]}]")
    return Change(address, Action.NOOP, before=before, after=before, account=account,
                  kind=KIND_USER, data=data, reason="user exists")


def _foreign_key_error(env_id_name: str, env_id: str, user: str, account: str, keys) -> PreflightError:
    whose = "does not exist yet" if keys is None else f"has {', '.join(k.access_key_id for k in keys) or 'no key'}"
    return PreflightError(
        f"${env_id_name} names AccessKey {env_id}, which is not a key of acrx's pull user {user} in account "
        f"{account!r} (ListAccessKeys: the user {whose}); access-key mode writes that key into the ConfigMap "
        "in plaintext, so it must be the pull user's own",
        field="addon.access_key.access_key_id_env",
        hint=f"export a key of RAM user {user} in ${env_id_name}, unset both variables so acrx creates one, "
             f"or pass {FOREIGN_FLAG} to accept a key of another user")


def plan_access_key(address: str, *, account: str, user: str, user_address: str, keys, env_id_name: str,
                    env_secret_name: str, env_id: str | None, env_secret_set: bool,
                    stored_ids: set[str] | None = None, user_owned: bool = True,
                    allow_foreign: bool = False) -> tuple[Change, str | None]:
    """keys: the user's AccessKeys (None when the user does not exist yet); stored_ids: key ids
    whose secret the live ConfigMap holds (None: unknown). Returns the change and a warning for
    the user, if any. Pure: the environment and the ConfigMap are passed in."""
    data = {"user": user}
    if env_id and env_secret_set:
        view = {ACCESS_KEY_ID: env_id, ACCESS_KEY_SECRET: Sensitive(None, source=f"env:{env_secret_name}")}
        known = keys is not None and any(k.access_key_id == env_id for k in keys)
        if not known and not allow_foreign:
            raise _foreign_key_error(env_id_name, env_id, user, account, keys)
        warning = None if known else (f"{FOREIGN_FLAG}: the AccessKey in ${env_id_name} is not a key of RAM user "
                                      f"{user}; acrx cannot check that it may pull")
        return Change(address, Action.NOOP, before=view, after=view, account=account, kind=KIND_ACCESS_KEY,
                      data=data, reason=f"the AccessKey given through ${env_id_name} / ${env_secret_name} is used; "
                                        "acrx creates none"), warning
    if env_id or env_secret_set:
        missing = env_secret_name if env_id else env_id_name
        return Change(address, Action.NOOP, account=account, kind=KIND_ACCESS_KEY, data=data,
                      reason=f"${missing} is not set, so the key named in the environment cannot be used"), (
            f"set both ${env_id_name} and ${env_secret_name}, or neither")
    new_key = {"user": user, ACCESS_KEY_ID: Ref(address, ACCESS_KEY_ID), ACCESS_KEY_SECRET: Ref(address, ACCESS_KEY_SECRET)}
    if keys is None:
        return Change(address, Action.CREATE, after=new_key, account=account, kind=KIND_ACCESS_KEY,
                      data={**data, "user_owned": True}, depends_on=(user_address,),
                      reason=f"user {user} is new"), None
    if not keys:
        return Change(address, Action.CREATE, after=new_key, account=account, kind=KIND_ACCESS_KEY,
                      data={**data, "user_owned": user_owned}, reason=f"user {user} has no AccessKey"), None
    ids = [k.access_key_id for k in keys]
    stored = [i for i in ids if stored_ids is not None and i in stored_ids]
    orphans = [i for i in ids if i not in stored]
    if stored:
        view = {ACCESS_KEY_ID: stored[0]}
        if orphans and user_owned:
            return Change(address, Action.UPDATE, before={"access_key_ids": ids}, after={"access_key_ids": stored},
                          account=account, kind=KIND_ACCESS_KEY, data={**data, "keep": stored, "orphans": orphans},
                          reason=f"{stored[0]} is in the ConfigMap; orphan AccessKey(s) {', '.join(orphans)} of "
                                 f"acrx's user {user} hold a secret stored nowhere: deleted"), None
        return Change(address, Action.NOOP, before=view, after=view, account=account, kind=KIND_ACCESS_KEY,
                      data=data, reason=f"the ConfigMap holds {stored[0]}, a key of user {user}"), None
    if stored_ids is not None and user_owned:
        return Change(address, Action.CREATE, before={"access_key_ids": ids}, after=new_key, account=account,
                      kind=KIND_ACCESS_KEY, data={**data, "user_owned": True, "orphans": orphans},
                      reason=f"the secret of AccessKey {', '.join(orphans)} is stored nowhere (a run stopped before "
                             "the ConfigMap held it): a new key replaces it, and the orphan is deleted"), None
    view = {ACCESS_KEY_ID: ids[0]}
    return Change(address, Action.NOOP, before=view, after=view, account=account, kind=KIND_ACCESS_KEY,
                  data=data, reason=f"user {user} already has AccessKey {', '.join(ids)}; its secret is "
                                    "shown only once, at creation"), (
        f"RAM user {user} has an AccessKey whose secret acrx cannot read back: export "
        f"${env_id_name} and ${env_secret_name} for the ConfigMap, or delete the key to have acrx make one")


def stored_key_ids(ctx) -> set[str] | None:
    """Ids of the AccessKeys whose secret the live acr-configuration holds; None when the
    cluster cannot be read (then no key is called an orphan)."""
    from acrx.errors import AcrxError
    from acrx.kube.errors import KubeError
    from acrx.steps.configmap.compare import parse_yaml
    from acrx.steps.configmap.step import live_configmap

    try:
        live = live_configmap(ctx)
    except (AcrxError, KubeError, RuntimeError):
        return None
    entries = parse_yaml(((live or {}).get("data") or {}).get(facts.CM_REGISTRY_INFO) or "")
    entries = entries if isinstance(entries, list) else [entries]
    return {str(e[facts.RI_ACCESS_KEY_ID]) for e in entries
            if isinstance(e, dict) and e.get(facts.RI_ACCESS_KEY_ID) and e.get(facts.RI_ACCESS_KEY_SECRET)}


def plan(ctx, environ=os.environ, *, replace_orphans: bool = True) -> list[Change]:
    """replace_orphans: this plan also writes the ConfigMap, so a key whose secret is stored
    nowhere can be replaced by one it stores (False for `acrx policy attach` alone)."""
    config = ctx.config
    if config.mode != "access-key":
        return []
    changes = []
    env = config.addon.access_key
    env_id = environ.get(env.access_key_id_env) or None
    env_secret_set = bool(environ.get(env.access_key_secret_env))
    allow_foreign = bool(ctx.options.extra.get("allow_foreign_access_key"))
    uses = membership.current_uses(ctx)
    mark = (membership.user_comments(uses), uses.summary())
    for alias in names.registry_aliases(config):
        name = config.access_key_user_name
        user_address = names.user_address(config, alias)
        user = state.user(ctx, alias, name)
        changes.append(plan_user(user_address, account=alias, name=name, observed=user,
                                 purpose=f"pulls images for cluster {config.cluster.id} (access-key mode)",
                                 mark=mark))
        keys = state.access_keys(ctx, alias, name)
        stored = stored_key_ids(ctx) if replace_orphans and keys and not env_id and not env_secret_set else None
        change, warning = plan_access_key(
            names.access_key_address(config, alias), account=alias, user=name, user_address=user_address,
            keys=keys, env_id_name=env.access_key_id_env, env_secret_name=env.access_key_secret_env, env_id=env_id,
            env_secret_set=env_secret_set, stored_ids=stored,
            user_owned=user is None or ownership.user_owned(user.comments), allow_foreign=allow_foreign)
        changes.append(change)
        if warning:
            ctx.warn(warning)
    return changes


class UserHandler:
    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        if change.action is Action.UPDATE:
            return f"update the membership mark of RAM user {change.data['name']}"
        return f"create RAM user {change.data['name']}"

    def apply(self, change: Change, apply_ctx) -> dict:
        from acrx.cloud import errors as cloud_errors
        from acrx.errors import CloudError

        ram = self.ctx.session.account(change.account).ram_api
        if change.action is Action.UPDATE:
            ram.update_user(change.data["name"], comments=change.data["comments"])
            state.forget_account(self.ctx, change.account)
            return {"name": change.data["name"]}
        try:
            # The mark (Comments) goes in the create call; RAM's CreateUser takes no Tag.
            ram.create_user(change.data["name"], comments=change.data["comments"])
        except CloudError as exc:
            if not cloud_errors.is_already_exists(exc):  # made since the plan: adopt it, unmarked
                raise
        state.forget_account(self.ctx, change.account)
        return {"name": change.data["name"]}


class AccessKeyHandler:
    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        if change.action is Action.UPDATE:
            return f"delete orphan AccessKey(s) of RAM user {change.data['user']}"
        return f"create an AccessKey for RAM user {change.data['user']}"

    def apply(self, change: Change, apply_ctx) -> dict:
        from acrx.errors import AcrxError
        from acrx.steps.identity import readiness

        ram = self.ctx.session.account(change.account).ram_api
        user = change.data["user"]
        budget = names.readiness_budget_s(self.ctx)
        # CreateAccessKey has no ClientToken: read the keys as they are now, never as planned
        # (a lost answer, or the user created moments ago and not yet found).
        keys = readiness.retry_while_missing(apply_ctx, lambda: ram.list_access_keys(user),
                                             what=f"RAM user {user} to be found", budget_s=budget)
        keep = set(change.data.get("keep") or ())
        # An orphan is a key of acrx's own user whose secret the ConfigMap does not hold, read
        # again now: the plan's orphans, or one a lost answer made since. Unreadable cluster:
        # only what the plan saw.
        self.ctx.forget("k8s:acr-configuration")
        stored = stored_key_ids(self.ctx)
        if stored is None:
            candidates = set(change.data.get("orphans") or ())
            orphans = [k.access_key_id for k in keys if k.access_key_id in candidates and k.access_key_id not in keep]
        else:
            orphans = [k.access_key_id for k in keys if k.access_key_id not in stored | keep]
        if not change.data.get("user_owned", True):
            orphans = []
        deleted: list[str] = []

        def delete(key_ids) -> None:
            for key_id in key_ids:
                ram.delete_access_key(user, key_id, missing_ok=True)
                deleted.append(key_id)

        if change.action is Action.UPDATE:
            delete(orphans)
            state.forget_account(self.ctx, change.account)
            return {"user": user, "kept": sorted(keep), "deleted": deleted}
        if len(keys) >= facts.RAM_ACCESS_KEYS_PER_USER:
            if not orphans:
                raise AcrxError(f"RAM user {user} already has {len(keys)} AccessKeys, RAM's limit, and none of them "
                                "is acrx's to delete", hint="delete one of them, then run acrx again")
            # At the limit the orphan must go before CreateAccessKey can succeed.
            delete(orphans[:len(keys) - facts.RAM_ACCESS_KEYS_PER_USER + 1])
        key = ram.create_access_key(user)
        # The rest go now, not after the ConfigMap write: their secret is stored nowhere, so
        # nothing can be using them; if this run stops before the write, the new key is the
        # next run's orphan and is replaced the same way.
        delete([o for o in orphans if o not in deleted])
        state.forget_account(self.ctx, change.account)
        out = {ACCESS_KEY_ID: key.access_key_id, ACCESS_KEY_SECRET: Sensitive(key.secret.reveal())}
        if deleted:
            out["deleted_orphans"] = deleted
        return out
