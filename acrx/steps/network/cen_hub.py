"""Which CEN a cluster's cen path goes through, and which account owns it (issue 16).

Three layouts, looked for in this order:

- configured: network.cen_id names an existing CEN. Its owner is found among the config's
  accounts (DescribeCens answers only the caller's own CENs): the registry's first, then the
  cluster's, then the others. acrx attaches to it and never deletes it.
- old: a CEN named acrx-<cluster id> and tagged, in the cluster's account: the layout acrx made
  before the hub (one CEN per cluster). Setup keeps using it as it is, so no pull is broken by
  moving traffic; destroy removes it as before. A cluster moves to the hub by being destroyed
  and set up again.
- hub: the one CEN of the registry account, shared by every cen cluster of every registry in
  that account. The registry account owns it because it is the shared-services account every
  cluster already trusts and the one account all those clusters have in common; named
  acrx-hub-<registry account uid>, from the uid rather than an instance or an alias, because
  instances of one account share B's VPCs (a VPC can be on one CEN only: cbn sandbox models),
  and aliases differ between configs while the uid is the cloud's own name for the account.
  Tagged at creation (acrx.steps.ownership); one transit router per region in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from acrx.errors import PreflightError
from acrx.steps.network.common import is_marked, marked_name
from acrx.steps.network.discovery import cbn_api

HUB, OLD, CONFIGURED = "hub", "old", "configured"


@dataclass(frozen=True)
class CenPlace:
    layout: str           # hub | old | configured
    owner: str            # the alias of the account owning (or to own) the CEN
    cen: object | None    # acrx.cloud.cbn.Cen, None when the hub is still to be made
    name: str             # the name acrx gives (or gave) it

    @property
    def owned(self) -> bool:
        """acrx made it (so destroy may remove it once no one uses it)."""
        return self.cen is not None and self.layout != CONFIGURED and self.cen.name == self.name \
            and is_marked(tags=self.cen.tags)


def hub_name(ctx, registry_alias: str) -> str:
    return marked_name("hub", ctx.uid(registry_alias))


def old_name(ctx) -> str:
    return marked_name(ctx.config.cluster.id)


def cens_key(name: str) -> str:
    return f"net:cens:{name}"


def _marked_in(cens, name: str):
    found = [c for c in cens if c.name == name and is_marked(c.name, c.tags)]
    return found[0] if found else None


def _marked_named(ctx, alias: str, region: str, name: str):
    api = cbn_api(ctx, alias, region)
    return _marked_in(ctx.memo(cens_key(name), lambda: api.list_cens(name=name)), name)


def answered(ctx, registry_alias: str) -> bool:
    """find (without network.cen_id) reads nothing more: its lookups are answered in the memo
    (none waits with an error). For the planner's read-ahead (cen_reads.py)."""
    old = ctx.answer(cens_key(old_name(ctx)))
    if old is None:
        return False
    return _marked_in(old, old_name(ctx)) is not None or ctx.answer(cens_key(hub_name(ctx, registry_alias))) is not None


def look_both(ctx, cluster_alias: str, registry_alias: str, region: str) -> None:
    """The old layout's CEN (cluster's account) and the hub (registry's) looked up side by side:
    they need nothing from each other. A plan on the old layout reads the hub's name once more than
    in sequence (DescribeCens, answering nothing it uses); every other plan saves a round. An error
    waits in the memo for the lookup that needs it (none for the hub's when the old CEN is found)."""
    try:
        hub = hub_name(ctx, registry_alias)
    except Exception:   # the registry account's uid: find meets its error where it reads it
        return
    old = old_name(ctx)
    ctx.prefetch({cens_key(old): lambda: cbn_api(ctx, cluster_alias, region).list_cens(name=old),
                  cens_key(hub): lambda: cbn_api(ctx, registry_alias, region).list_cens(name=hub)})


def configured_owner(ctx, cen_id: str, aliases: list[str], region: str):
    """(alias, Cen) of the first account in `aliases` that owns `cen_id`, or (None, None)."""
    for alias in dict.fromkeys(aliases):
        api = cbn_api(ctx, alias, region)
        cen = ctx.memo(f"net:cen:{alias}:{cen_id}", lambda a=api: a.get_cen(cen_id))
        if cen is not None:
            return alias, cen
    return None, None


def find(ctx, cluster_alias: str, registry_alias: str, region: str, *, for_destroy: bool = False) -> list[CenPlace]:
    """The CEN(s) of this cluster's path. Setup takes the first; destroy looks at each (an old
    per-cluster CEN and the hub may both exist when a cluster was set up before the hub)."""
    places: list[CenPlace] = []
    configured = ctx.config.network.cen_id
    if for_destroy or not configured:   # setup with network.cen_id looks at that CEN alone
        look_both(ctx, cluster_alias, registry_alias, region)
    if configured:
        aliases = [registry_alias, cluster_alias, *ctx.config.accounts]
        owner, cen = configured_owner(ctx, configured, aliases, region)
        if cen is None and not for_destroy:
            raise PreflightError(f"CEN {configured} was not found in any account of the config "
                                 f"({', '.join(dict.fromkeys(aliases))})", field="network.cen_id",
                                 hint="give the id of a CEN one of these accounts owns, or add its owner under "
                                      "accounts")
        if cen is not None:
            places.append(CenPlace(CONFIGURED, owner, cen, cen.name))
            if not for_destroy:
                return places
    old = _marked_named(ctx, cluster_alias, region, old_name(ctx))
    if old is not None:
        places.append(CenPlace(OLD, cluster_alias, old, old_name(ctx)))
    if places and not for_destroy:
        return places[:1]
    name = hub_name(ctx, registry_alias)
    hub = _marked_named(ctx, registry_alias, region, name)
    if hub is not None or not for_destroy:
        places.append(CenPlace(HUB, registry_alias, hub, name))
    return places
