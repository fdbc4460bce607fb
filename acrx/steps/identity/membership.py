"""The registry-side membership mark (issue 16): who uses the shared things of account B.

Each cluster acrx sets up has its own identity in the registry account: the registry role
(rrsa, worker-role) or the RAM user (access-key). That identity carries, in the cloud, which
cluster it serves and which shared registry-side things that cluster uses:

    acrx: registry pull role; uses/1 c=<cluster id> n=<network> a=<egress>,... r=<cidr>,...

    n   network mode (public, peering, cen, none): public keeps the internet endpoint on
    a   the ACL entries the cluster needs (its egress IPs; a bare IP means IP/32)
    r   B's return routes the cluster needs (its node vSwitch CIDRs), peering and cen
    e   e=1: acrx switched the internet endpoint on for this cluster, or a destroyed cluster
        that had handed the switch over (acrx's record of it lives in the switching cluster's
        acrx-ownership ConfigMap; when that cluster goes while others still pull through the
        endpoint, its destroy sets e=1 on their marks, so the last of them switches it off)

It is written by the create call (CreateRole Description, CreateUser Comments) and kept current
by the plan (UpdateRole NewDescription / UpdateUser NewComments when the uses change). destroy
lists the members once (ListRoles + ListUsers in B, memoised per run; a fleet plan shares the
answer) and removes only what no other member names.

Limits (acrx.facts): a role's Description holds 1024 characters, a user's Comments 128 (RAM
users take no tags). A list that does not fit is written as `*`: that member then counts as a
user of every entry of that kind, so nothing of it is removed while the member exists (the
stricter reading); the plan says so. In 128 characters a user's mark holds about four egress
IPs; a role's about fifty.

A member whose mark has no `uses/` (written by an older acrx) has unknown needs: everything
shared is kept while it exists, and the plan says why.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from acrx import facts

MARK = "uses/1"
ALL = "*"
ROLE_TEXT = f"{facts.MARK_TEXT_PREFIX} registry pull role;"
USER_TEXT = f"{facts.MARK_TEXT_PREFIX}"
# What older acrx wrote (acrx.steps.identity.roles / access_key before the mark), to name the cluster.
_LEGACY = (re.compile(r"registry role that cluster (\S+) assumes"), re.compile(r"pulls images for cluster (\S+)"))


@dataclass(frozen=True)
class Uses:
    """What one cluster uses on the registry side. None for a list: every entry of that kind
    (did not fit, or unknown); network None: an older acrx's mark, needs unknown."""
    cluster: str
    network: str | None
    acl: tuple[str, ...] | None = ()
    routes: tuple[str, ...] | None = ()
    endpoint: bool = False      # e=1: acrx switched the internet endpoint on

    @property
    def known(self) -> bool:
        return self.network is not None

    def uses_acl(self, cidr: str) -> bool:
        if not self.known or self.acl is None:
            return True
        return _norm(cidr) in {_norm(c) for c in self.acl}

    def uses_route(self, cidr: str) -> bool:
        if not self.known or self.routes is None:
            return True
        return _norm(cidr) in {_norm(c) for c in self.routes}

    def uses_public(self) -> bool:
        return not self.known or self.network == "public"

    def summary(self) -> str:
        if not self.known:
            return "needs unknown (marked by an older acrx)"
        parts = [self.network]
        if self.acl is None or self.acl:
            parts.append("acl " + ("(more than fit: all)" if self.acl is None else ", ".join(self.acl)))
        if self.routes is None or self.routes:
            parts.append("routes " + ("(more than fit: all)" if self.routes is None else ", ".join(self.routes)))
        return "; ".join(parts)


@dataclass(frozen=True)
class Member:
    """One identity in the registry account that acrx made for a cluster."""
    name: str            # role or user name
    kind: str            # "role" or "user"
    uses: Uses

    @property
    def cluster(self) -> str:
        return self.uses.cluster


def _norm(cidr: str) -> str:
    try:
        return str(ipaddress.ip_network(cidr, strict=False))
    except ValueError:
        return cidr


def _short(cidr: str) -> str:
    net = _norm(cidr)
    return net[:-3] if net.endswith("/32") else net


def _list(values: tuple[str, ...] | None) -> str:
    return ALL if values is None else ",".join(_short(v) for v in values) or "-"


# -- writing --------------------------------------------------------------------------------------
def encode(uses: Uses, prefix: str, limit: int) -> str:
    """`prefix` + the mark within `limit` characters: a list that does not fit becomes `*` (the
    longer first), so the text always fits and never understates what the cluster uses."""
    acl, routes = uses.acl, uses.routes
    while True:
        text = (f"{prefix} {MARK} c={uses.cluster} n={uses.network}" + (" e=1" if uses.endpoint else "")
                + f" a={_list(acl)} r={_list(routes)}")
        if len(text) <= limit:
            return text
        if acl is None and routes is None:   # cannot happen with a real cluster id; cut, still marked
            return text[:limit]
        if routes is None or (acl is not None and len(_list(acl)) >= len(_list(routes))):
            acl = None
        else:
            routes = None


def role_description(uses: Uses) -> str:
    return encode(uses, ROLE_TEXT, facts.RAM_ROLE_DESCRIPTION_MAX)


def user_comments(uses: Uses) -> str:
    return encode(uses, USER_TEXT, facts.RAM_USER_COMMENTS_MAX)


def current_uses(ctx) -> Uses:
    """This cluster's uses, from what the network step reads anyway (memoised: no extra read
    in a setup plan; none at all in network mode none)."""
    from acrx.steps.network.discovery import cluster_net

    mode = ctx.config.network.mode
    acl: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    endpoint = False
    if mode == "public":
        from acrx.steps.network.public import ANY, allow_any

        acl = tuple(f"{ip}/32" for ip in cluster_net(ctx).egress_ips) + ((ANY,) if allow_any(ctx) else ())
        endpoint = _acrx_switched_endpoint(ctx)
    elif mode in ("peering", "cen"):
        routes = tuple(cluster_net(ctx).vswitch_cidrs)
    return Uses(ctx.config.cluster.id, mode, acl, routes, endpoint)


def _acrx_switched_endpoint(ctx) -> bool:
    """Off now (this plan switches it on), this cluster's record says acrx switched it on, or this
    cluster's own mark says so already (handed over). Never inherited from other members: the
    answer must not change with the order in which clusters are set up."""
    from acrx.steps import ownership
    from acrx.steps.identity import state
    from acrx.steps.network.discovery import registry_net

    registry = registry_net(ctx)
    if registry.internet is None or not registry.internet.enabled:
        return True
    config = ctx.config
    if config.mode == "access-key":
        own = state.user(ctx, registry.alias, config.access_key_user_name)
        text = own.comments if own is not None else ""
    else:
        own = state.role(ctx, registry.alias, config.registry_role_name)
        text = own.description if own is not None else ""
    said = parse(text, config.cluster.id)
    if said is not None and said.endpoint:
        return True
    from acrx.errors import AcrxError
    from acrx.kube.errors import KubeError

    try:
        return ownership.recorded(ctx, ownership.endpoint_record(registry.instance.id)) is not None
    except (AcrxError, KubeError, RuntimeError):
        # The cluster cannot be read (a plan without cluster access): claim nothing. The stricter
        # side: the endpoint then stays on rather than being switched off on a guess.
        return False


# -- reading --------------------------------------------------------------------------------------
def parse(text: str | None, fallback_cluster: str) -> Uses | None:
    """The uses a Description/Comments states; None when it is no acrx membership mark."""
    text = text or ""
    if not text.startswith(facts.MARK_TEXT_PREFIX):
        return None
    if MARK not in text:
        for pattern in _LEGACY:
            found = pattern.search(text)
            if found:
                return Uses(found.group(1), None, None, None)
        return None
    fields = dict(token.split("=", 1) for token in text.split(MARK, 1)[1].split() if "=" in token)

    def values(key: str) -> tuple[str, ...] | None:
        raw = fields.get(key, ALL)
        if raw == ALL:
            return None
        return tuple(v if "/" in v else f"{v}/32" for v in raw.split(",") if v and v != "-")

    network = fields.get("n")
    if not network:
        return Uses(fields.get("c") or fallback_cluster, None, None, None)
    return Uses(fields.get("c") or fallback_cluster, network, values("a"), values("r"), fields.get("e") == "1")


def members(ctx, alias: str) -> tuple[Member, ...]:
    """Every acrx member identity in registry account `alias`: two list reads, once per run."""
    def read() -> tuple[Member, ...]:
        ram = ctx.session.account(alias).ram_api
        found = []
        for role in ram.list_roles():
            uses = parse(role.description, role.name)
            if uses is not None:
                found.append(Member(role.name, "role", uses))
        for user in ram.list_users():
            uses = parse(user.comments, user.name)
            if uses is not None:
                found.append(Member(user.name, "user", uses))
        return tuple(found)

    # Not under "ram:<alias>:": a handler's forget_account after a write must not make a plan read
    # the list again (the list is read for planning only).
    return ctx.memo(f"members:{alias}", read)


def others(ctx, alias: str) -> list[Member]:
    """The members other than this cluster and the clusters this run destroys too (a fleet
    destroy passes them: among themselves the last one removes what they shared)."""
    config = ctx.config
    leaving = set(ctx.options.extra.get("destroying") or ()) | {config.cluster.id}
    mine = {config.registry_role_name, config.access_key_user_name}
    return [m for m in members(ctx, alias) if m.cluster not in leaving and m.name not in mine]


def own(ctx, alias: str) -> list[Member]:
    """This cluster's own mark(s) in registry account `alias` (read with the others' marks)."""
    config = ctx.config
    mine = {config.registry_role_name, config.access_key_user_name}
    return [m for m in members(ctx, alias) if m.cluster == config.cluster.id or m.name in mine]


def names(found: list[Member]) -> list[str]:
    return sorted({m.cluster for m in found})


def used_by_text(found: list[Member], limit: int = 5) -> str:
    shown = names(found)
    text = ", ".join(shown[:limit]) + (f" and {len(shown) - limit} more" if len(shown) > limit else "")
    unknown = [m for m in found if not m.uses.known]
    if unknown:
        text += " (marked by an older acrx: needs unknown, so everything shared is kept)"
    elif any(m.uses.acl is None or m.uses.routes is None for m in found):
        text += " (its mark lists more than fit, so every entry of that kind is kept)"
    return text


# -- handing the endpoint over ----------------------------------------------------------------------
KIND_HANDOVER = "ram.member.endpoint_handover"


def handover_targets(found: list[Member]) -> list[Member]:
    """The public members whose marks do not yet say acrx switched the endpoint on (an older
    acrx's mark cannot say it: that member keeps the endpoint on, as its needs are unknown)."""
    return [m for m in found if m.uses.known and m.uses.network == "public" and not m.uses.endpoint]


def with_endpoint(text: str, kind: str, fallback_cluster: str) -> str | None:
    """The member's mark with e=1, re-encoded within its limit; None when it is no new mark."""
    uses = parse(text, fallback_cluster)
    if uses is None or not uses.known:
        return None
    from dataclasses import replace

    marked = replace(uses, endpoint=True)
    return role_description(marked) if kind == "role" else user_comments(marked)


class HandoverHandler:
    """Sets e=1 on the other public members' marks (read again now, written only if still a mark)."""

    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change) -> str:
        return f"hand acrx's internet endpoint switch over to {', '.join(change.data['clusters'])}"

    def apply(self, change, actx) -> dict:
        ram = self.ctx.session.account(change.account).ram_api
        done = []
        for kind, name in change.data["members"]:
            current = ram.get_role(name) if kind == "role" else ram.get_user(name)
            if current is None:
                continue   # destroyed meanwhile
            text = current.description if kind == "role" else current.comments
            new = with_endpoint(text, kind, name)
            if new is None or new == text:
                continue
            if kind == "role":
                ram.update_role(name, description=new)
            else:
                ram.update_user(name, comments=new)
            done.append(name)
        self.ctx.forget(f"members:{change.account}")
        # The record in this cluster has done its job: the marks hold it now.
        from acrx.steps import ownership

        ownership.drop(self.ctx, ownership.endpoint_record(change.data["instance_id"]))
        return {"handed_over_to": done}
