"""ApplyContext.client_token: one idempotency token per (plan, apply, address, suffix), stable
across retries inside one apply and new in the next apply of the same plan."""

from __future__ import annotations

import re

from acrx.execute.executor import Executor
from acrx.plan.change import Change
from acrx.plan.plan import Plan


class TokenTaker:
    """A handler that asks for its token twice (as a retry would) and with a suffix."""

    def __init__(self):
        self.tokens: dict[str, tuple[str, str, str]] = {}

    def apply(self, change, ctx):
        self.tokens[change.address] = (ctx.client_token(), ctx.client_token(),
                                       ctx.client_token("grant"))
        return {}


def _plan():
    return Plan([Change("vpc.peering", "create", kind="t"),
                 Change("cen.instance", "create", kind="t")])


def test_tokens_are_stable_within_an_apply_and_new_in_the_next():
    taker = TokenTaker()
    Executor({"t": taker}).apply(_plan())
    first = dict(taker.tokens)
    a1, a2, a_grant = first["vpc.peering"]
    assert a1 == a2
    assert re.fullmatch(r"[0-9a-f]{32}", a1)
    assert a_grant != a1
    assert first["cen.instance"][0] != a1
    Executor({"t": taker}).apply(_plan())     # e.g. after a destroy: same plan, new apply
    assert taker.tokens["vpc.peering"][0] != a1
    assert taker.tokens["cen.instance"][0] != first["cen.instance"][0]
