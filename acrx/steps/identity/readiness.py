"""Waiting for a new role or policy to be usable, on the real signal, not a fixed sleep.

Right after CreateRole/CreatePolicy, RAM reads and STS may not see the new entity for a few
seconds (EntityNotExist races are a known pain). The signal is the entity visible to GetRole /
GetPolicy, and, when acrx's own identity is the principal the role trusts, an AssumeRole that
succeeds. Waits back off inside a budget and say what they wait for.
"""

from __future__ import annotations

from acrx.cloud import errors as cloud_errors
from acrx.cloud.arns import same_role_arn
from acrx.errors import CloudError


def _assumed_role_arn(identity) -> str | None:
    """acs:ram::<uid>:assumed-role/<role>/<session> -> acs:ram::<uid>:role/<role>."""
    if identity.identity_type != "AssumedRoleUser":
        return None
    head, _, rest = identity.arn.partition(":assumed-role/")
    role = rest.split("/", 1)[0]
    return f"{head}:role/{role}" if head and role else None


def probe_alias(ctx, trusted_arn: str | None, aliases: list[str]) -> str | None:
    """An account alias whose acrx credentials are the trusted role itself, or None."""
    if not trusted_arn:
        return None
    for alias in dict.fromkeys(aliases):
        identity = ctx.memo(f"sts:{alias}:caller", lambda a=alias: ctx.session.account(a).sts_api.caller_identity())
        if same_role_arn(_assumed_role_arn(identity), trusted_arn):   # STS lower-cases role names
            return alias
    return None


def _visible(read):
    try:
        return read() is not None
    except CloudError as exc:
        if cloud_errors.is_not_found(exc):
            return False
        raise


def wait_role_visible(apply_ctx, ram, name: str, budget_s: float) -> None:
    apply_ctx.wait_until(lambda: _visible(lambda: ram.get_role(name)), budget_s=budget_s,
                         what=f"role {name} to become visible to RAM (new roles take a few seconds to propagate)")


def wait_policy_visible(apply_ctx, ram, name: str, budget_s: float) -> None:
    apply_ctx.wait_until(lambda: _visible(lambda: ram.get_policy(name)), budget_s=budget_s,
                         what=f"policy {name} to become visible to RAM (new policies take a few seconds to propagate)")


def wait_assume_works(apply_ctx, sts, role_arn: str, budget_s: float) -> None:
    """AssumeRole from acrx's own (trusted) identity until STS accepts it."""
    def attempt() -> bool:
        try:
            sts.assume_role(role_arn, "acrx-readiness", 900)
            return True
        except CloudError as exc:
            if cloud_errors.is_not_found(exc) or (exc.code or "").startswith(("NoPermission", "EntityNotExist")):
                return False
            raise

    apply_ctx.wait_until(attempt, budget_s=budget_s,
                         what=f"STS to let the trusted role assume {role_arn}")


def retry_while_missing(apply_ctx, call, *, what: str, budget_s: float):
    """Run `call` until it stops failing with a not-found error (an entity made moments ago)."""
    result: dict = {}

    def attempt() -> bool:
        try:
            result["value"] = call()
            return True
        except CloudError as exc:
            if cloud_errors.is_not_found(exc):
                return False
            raise

    apply_ctx.wait_until(attempt, what=what, budget_s=budget_s)
    return result.get("value")
