"""Credentials never cross: in access-key mode, the AccessKey acrx writes into the cluster's
ConfigMap (named by `addon.access_key`) must not be an account's own credentials.

An account's credentials deploy acrx (admin rights in that account); the ConfigMap is readable
by anyone with read access to kube-system. If `addon.access_key` names the same environment
variable as an account's `env` source, or its variable holds the same AccessKey id as an account's
source (env variable or aliyun CLI AK profile), the account's deploy key would land in plaintext
in the cluster. That is refused (exit 2) naming both fields, unless the user passes
--allow-foreign-access-key.

Only the config and the environment are read here; whether a key belongs to acrx's pull user is
asked of RAM elsewhere (the identity step).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Optional

from acrx.config import defaults
from acrx.errors import UsageError

Lookup = Callable[[str], Optional[str]]
FLAG = "--allow-foreign-access-key"
# The aliyun CLI's config file, where alibabacloud_credentials' CLIProfileCredentialsProvider
# reads profiles (`profiles[].name`, `.access_key_id` in the AK, StsToken and RamRoleArn modes).
CLI_CONFIG = Path("~/.aliyun/config.json")


def profile_key_id(name: str) -> str | None:
    """The AccessKey id an aliyun CLI profile holds, or None (no file, no key, unreadable)."""
    path = CLI_CONFIG.expanduser()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for profile in doc.get("profiles") or [] if isinstance(doc, dict) else []:
        if isinstance(profile, dict) and profile.get("name") == name:
            return str(profile.get("access_key_id") or "") or None
    return None


def _sources(config, account_lookup: Lookup, profile_lookup: Callable[[str], Optional[str]]):
    """(field of the account's key id source, variable name or None, resolved key id or None)."""
    for alias, account in config.accounts.items():
        kind = account.source_kind
        if kind == "env":
            env = account.env_source
            yield (f"accounts.{alias}.env.access_key_id", env.access_key_id, account_lookup(env.access_key_id),
                   f"accounts.{alias}.env.access_key_secret", env.access_key_secret)
        elif kind == "profile":
            yield (f"accounts.{alias}.profile", None, profile_lookup(account.profile), None, None)
        elif kind == "default":  # the chain's first link is the library's standard key variables
            yield (f"accounts.{alias}.default", "ALIBABA_CLOUD_ACCESS_KEY_ID",
                   account_lookup("ALIBABA_CLOUD_ACCESS_KEY_ID"), f"accounts.{alias}.default",
                   "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        elif kind == "assume_role" and account.assume_role.source.startswith("profile:"):
            name = account.assume_role.source[len("profile:"):]
            yield (f"accounts.{alias}.assume_role.source", None, profile_lookup(name), None, None)
        # an assume_role from another alias: that alias is listed itself


def find_crossing(config, *, account_lookup: Lookup, addon_lookup: Lookup,
                  profile_lookup: Callable[[str], Optional[str]] = profile_key_id) -> tuple[str, str, str] | None:
    """(addon field, account field, what they share) for the first collision, or None."""
    if config.mode != "access-key":
        return None
    names = config.addon.access_key
    id_field, secret_field = "addon.access_key.access_key_id_env", "addon.access_key.access_key_secret_env"
    addon_id = addon_lookup(names.access_key_id_env)
    for field, id_var, key_id, account_secret_field, secret_var in _sources(config, account_lookup, profile_lookup):
        if id_var is not None and id_var == names.access_key_id_env:
            return id_field, field, f"the variable {id_var}"
        if secret_var is not None and secret_var == names.access_key_secret_env:
            return secret_field, account_secret_field, f"the variable {secret_var}"
        if addon_id and key_id and addon_id == key_id:
            return id_field, field, f"AccessKey {key_id[:8]}..."   # an id is not secret; shown short anyway
    return None


def check_access_key_crossing(config, *, sandbox=None, environ=os.environ, allow_foreign: bool = False,
                              profile_lookup: Callable[[str], Optional[str]] = profile_key_id) -> None:
    """A UsageError (exit 2) when the ConfigMap's AccessKey would be an account's own credentials.

    Accounts' variables are read as the credentials factory reads them (a running sandbox's env
    file first, then the environment); `addon.access_key`'s as the ConfigMap step does (the
    environment)."""
    if allow_foreign:
        return

    def account_lookup(name: str) -> str | None:
        if sandbox is not None and sandbox.has(name):
            return sandbox.value(name)
        return environ.get(name)

    found = find_crossing(config, account_lookup=account_lookup, addon_lookup=environ.get,
                          profile_lookup=profile_lookup)
    if found is None:
        return
    addon_field, account_field, shared = found
    raise UsageError(
        f"names the same credentials as {account_field} ({shared}): that account's own AccessKey would be "
        "written in plaintext into the cluster's ConfigMap",
        field=addon_field,
        hint=f"give addon.access_key the variables of acrx's pull user (default {defaults.DEFAULT_AK_ID_ENV} / "
             f"{defaults.DEFAULT_AK_SECRET_ENV}), or pass {FLAG} if this key is meant for the cluster")
