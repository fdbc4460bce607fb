"""Destroy planning for the CEN pieces (the `cen.*` part of network/destroy.py).

Which CENs: cen_hub.find (the registry account's hub, network.cen_id's CEN, and an older acrx's
per-cluster CEN acrx-<cluster id>). Whatever network.mode says now, each found is looked at.

- A per-cluster CEN of the old layout is this cluster's alone: its acrx- attachments, the grant
  of B's VPC to it, its acrx- transit routers and the CEN itself go (as before the hub).
- The hub (and network.cen_id's CEN) is shared, and who uses it is read from the cloud itself:
  the transit router's VPC attachments. This cluster's attachment (and the grant of its VPC,
  on the hub) goes. B's attachment, the router and the hub stay while any attachment of another
  VPC remains ("kept: still used by attachments of vpc-…"); the cluster that leaves the last one
  removes them (a CEN network.cen_id names is never deleted). A destroy run again reads again,
  so it converges.

Order: routes before the attachments they point at; attachments before the grants, the routers
and the CEN. Associations and propagations go with their attachment (deleted with Force=true).
"""

from __future__ import annotations

from acrx.plan.change import Action, Change
from acrx.steps import ownership
from acrx.steps.network import cen_hub
from acrx.steps.network import destroy_handlers as calls
from acrx.steps.network.common import is_marked
from acrx.steps.network.discovery import cbn_api

KEEP = "keep"
ADOPTED = ownership.ADOPTED_KEPT
BLOCKED = "kept: routes acrx did not make still point at it"


def _keep(address: str, account: str, reason: str, before=None) -> Change:
    return Change(address, Action.NOOP, before, before, account=account, kind=KEEP, reason=reason)


def _delete(address: str, account: str, kind: str, data: dict, before=None, depends_on=(), reason="created by acrx"):
    return Change(address, Action.DELETE, before if before is not None else {k: v for k, v in data.items()
                                                                                 if k not in ("alias", "region")},
                  None, account=account, kind=kind, depends_on=tuple(dict.fromkeys(depends_on)), reason=reason,
                  data=data)


def _pointing_at(routes: list[Change], hop_id) -> list[str]:
    return [c.address for c in routes if (c.before or {}).get("next_hop_id") == hop_id]


def _blocked(routes: list[Change], hop_id) -> bool:
    return any(c.is_noop and (c.before or {}).get("next_hop_id") == hop_id for c in routes)


def plan_cen(ctx, cluster, side, routes) -> list[Change]:
    reg = side["reg"]
    places = cen_hub.find(ctx, cluster.alias, reg.account, cluster.region, for_destroy=True)
    # what each CEN holds (attachments, peer attachments, routers), every list read side by side:
    # each place reads all three; an error waits where its list is read
    ctx.prefetch({key: read for place in places for key, read in _lists(ctx, place, cluster.region).items()})
    changes: list[Change] = []
    for place in places:
        sfx = f".{place.cen.id}" if len(places) > 1 else ""
        if place.layout == cen_hub.OLD:
            changes += _plan_whole(ctx, place, cluster, side, routes, sfx)
        else:
            changes += _plan_shared(ctx, place, cluster, side, routes, sfx)
    return changes


def _lists(ctx, place, region: str) -> dict:
    cbn, cen_id = cbn_api(ctx, place.owner, region), place.cen.id
    return {f"destroy:cen:atts:{cen_id}": lambda: cbn.vpc_attachments(cen_id),
            f"destroy:cen:peers:{cen_id}": lambda: cbn.peer_attachments(cen_id),
            f"destroy:cen:trs:{cen_id}": lambda: cbn.transit_routers(cen_id)}


def _read(ctx, place, region: str, what: str) -> list:
    """A CEN's list (what: atts | peers | trs), read once a run."""
    key = f"destroy:cen:{what}:{place.cen.id}"
    return ctx.memo(key, _lists(ctx, place, region)[key])


def _attachment_address(att, sfx: str) -> str:
    return f"cen.peer_attachment{sfx}" if att.peer_transit_router_id else f"cen.attachment.{att.vpc_id}{sfx}"


def _delete_attachment(place, att, region: str, address: str, routes) -> Change:
    before = {"attachment_id": att.id, "vpc_id": att.vpc_id, "status": att.status}
    return _delete(address, place.owner, calls.KIND_ATTACHMENT,
                   {"alias": place.owner, "region": region, "cen_id": place.cen.id, "attachment_id": att.id,
                    "peer": bool(att.peer_transit_router_id)}, before=before, depends_on=_pointing_at(routes, att.id))


def _plan_shared(ctx, place, cluster, side, routes, sfx: str) -> list[Change]:
    cen, owner, region, reg = place.cen, place.owner, cluster.region, side["reg"]
    atts, peers = _read(ctx, place, region, "atts"), _read(ctx, place, region, "peers")
    reg_uid = ctx.uid(reg.account)
    b_vpcs = {link.vpc_id for link in side["links"]} or {a.vpc_id for a in atts if a.vpc_owner_id == reg_uid}
    b_vpcs.discard(cluster.vpc.id)
    changes: list[Change] = []
    users: list[str] = []          # what keeps the shared pieces: other VPCs' attachments, kept ones
    deleted: dict[str, list[str]] = {}      # transit router id -> addresses of its deleted attachments
    grants: list[str] = []
    mine: list[str] = []
    for att in [a for a in atts if a.vpc_id == cluster.vpc.id]:
        address = _attachment_address(att, sfx)
        before = {"attachment_id": att.id, "vpc_id": att.vpc_id, "status": att.status}
        if not is_marked(att.name) or _blocked(routes, att.id):
            changes.append(_keep(address, owner, ADOPTED if not is_marked(att.name) else BLOCKED, before))
            users.append(f"{att.vpc_id} (this cluster's, kept)")
            continue
        changes.append(_delete_attachment(place, att, region, address, routes))
        deleted.setdefault(att.transit_router_id, []).append(address)
        mine.append(address)
    if place.layout == cen_hub.HUB and not users and (mine or ctx.config.network.mode == "cen") \
            and ctx.uid(cluster.alias) != ctx.uid(owner):
        # also when a cen cluster's attachment is gone already (a destroy stopped between the two)
        grants += _revoke(ctx, cluster.alias, region, cluster.vpc.id, cen.id, ctx.uid(owner), mine, sfx,
                          changes, "the grant of the cluster's VPC to the hub, whose attachment goes")
    for att in atts:
        if att.vpc_id != cluster.vpc.id and att.vpc_id not in b_vpcs:
            users.append(f"{att.vpc_id} (account {att.vpc_owner_id or owner})")
    users += [f"the peer attachment {p.id}" for p in peers]
    b_atts = [a for a in atts if a.vpc_id in b_vpcs]
    if users:
        why = f"kept: still used by attachments of {', '.join(users)}"
        for att in b_atts:
            changes.append(_keep(_attachment_address(att, sfx), owner, why,
                                 {"attachment_id": att.id, "vpc_id": att.vpc_id, "status": att.status}))
        for tr in _read(ctx, place, region, "trs"):
            changes.append(_keep(f"cen.transit_router.{tr.region}{sfx}", owner, why,
                                 {"transit_router_id": tr.id, "region": tr.region}))
        changes.append(_keep(f"cen.instance{sfx}", owner, why if place.owned else _adopted_cen(cen),
                             {"cen_id": cen.id, "name": cen.name}))
        return changes
    kept_children = False
    for att in b_atts:
        address = _attachment_address(att, sfx)
        before = {"attachment_id": att.id, "vpc_id": att.vpc_id, "status": att.status}
        if not is_marked(att.name) or _blocked(routes, att.id):
            changes.append(_keep(address, owner, ADOPTED if not is_marked(att.name) else BLOCKED, before))
            kept_children = True
            continue
        changes.append(_delete_attachment(place, att, region, address, routes))
        deleted.setdefault(att.transit_router_id, []).append(address)
        if place.owned and reg_uid != ctx.uid(owner):
            grants += _revoke(ctx, reg.account, reg.region, att.vpc_id, cen.id, ctx.uid(owner), [address], sfx,
                              changes, "the grant of B's VPC to acrx's CEN, whose attachment goes")
    routers = []
    for tr in _read(ctx, place, region, "trs"):
        address = f"cen.transit_router.{tr.region}{sfx}"
        before = {"transit_router_id": tr.id, "region": tr.region}
        if not is_marked(tr.name) or kept_children:
            changes.append(_keep(address, owner, ADOPTED if not is_marked(tr.name) else
                                 "kept: it still holds attachments acrx did not make", before))
            kept_children = True
            continue
        routers.append(address)
        changes.append(_delete(address, owner, calls.KIND_ROUTER, {"alias": owner, "region": tr.region,
                                                                  "cen_id": cen.id, "transit_router_id": tr.id},
                               before=before, depends_on=deleted.get(tr.id, []),
                               reason="created by acrx; no VPC but the registry's is attached any more"))
    before = {"cen_id": cen.id, "name": cen.name}
    if not place.owned:
        changes.append(_keep(f"cen.instance{sfx}", owner, _adopted_cen(cen), before))
    elif kept_children:
        changes.append(_keep(f"cen.instance{sfx}", owner, "kept: it still holds attachments or transit routers "
                                                          "acrx did not make", before))
    else:
        attachments = [a for addrs in deleted.values() for a in addrs]
        changes.append(_delete(f"cen.instance{sfx}", owner, calls.KIND_CEN,
                               {"alias": owner, "region": region, "cen_id": cen.id}, before=before,
                               depends_on=routers + attachments + grants,
                               reason="created by acrx (the hub); no cluster's VPC is attached any more"))
    return changes


def _adopted_cen(cen) -> str:
    return (f"adopted, kept: network.cen_id names {cen.id}, a CEN acrx did not create; only acrx's attachments "
            "in it go")


def _revoke(ctx, alias: str, region: str, vpc_id: str, cen_id: str, owner_uid: str, after: list[str], sfx: str,
            changes: list[Change], reason: str) -> list[str]:
    api = cbn_api(ctx, alias, region)
    if not any(g.cen_id == cen_id for g in api.grants_of_vpc(vpc_id, region)):
        return []
    address = f"cen.grant.{vpc_id}{sfx}"
    changes.append(_delete(address, alias, calls.KIND_GRANT, {"alias": alias, "region": region, "vpc_id": vpc_id,
                                                              "cen_id": cen_id, "cen_owner_id": owner_uid},
                           depends_on=after, reason=reason))
    return [address]


def _plan_whole(ctx, place, cluster, side, routes, sfx: str) -> list[Change]:
    """An older acrx's per-cluster CEN: all of acrx's in it goes, the CEN last."""
    cen, owner, region = place.cen, place.owner, cluster.region
    changes: list[Change] = []
    kept_children = False
    deleted: dict[str, list[str]] = {}
    ids: list[str] = []
    for att in _read(ctx, place, region, "atts") + [*_read(ctx, place, region, "peers")]:
        address = _attachment_address(att, sfx)
        if address in ids:
            address = f"{address}.{att.id}"
        if not is_marked(att.name) or _blocked(routes, att.id):
            changes.append(_keep(address, owner, ADOPTED if not is_marked(att.name) else BLOCKED,
                                 {"attachment_id": att.id, "vpc_id": att.vpc_id, "status": att.status}))
            kept_children = True
            continue
        ids.append(address)
        deleted.setdefault(att.transit_router_id, []).append(address)
        if att.peer_transit_router_id:
            deleted.setdefault(att.peer_transit_router_id, []).append(address)
        changes.append(_delete_attachment(place, att, region, address, routes))
    reg = side["reg"]
    grants: list[str] = []
    if ctx.uid(reg.account) != ctx.uid(owner):
        for link in side["links"]:
            deps = [a for a in ids if a.startswith(f"cen.attachment.{link.vpc_id}")]
            grants += _revoke(ctx, reg.account, reg.region, link.vpc_id, cen.id, ctx.uid(owner), deps, sfx, changes,
                              "the grant of B's VPC to acrx's CEN, which is deleted")
    routers = []
    for tr in _read(ctx, place, region, "trs"):
        address = f"cen.transit_router.{tr.region}{sfx}"
        before = {"transit_router_id": tr.id, "region": tr.region}
        if not is_marked(tr.name):
            changes.append(_keep(address, owner, ADOPTED, before))
            kept_children = True
            continue
        routers.append(address)
        changes.append(_delete(address, owner, calls.KIND_ROUTER, {"alias": owner, "region": tr.region,
                                                                  "cen_id": cen.id, "transit_router_id": tr.id},
                               before=before, depends_on=deleted.get(tr.id, [])))
    before = {"cen_id": cen.id, "name": cen.name}
    if kept_children:
        changes.append(_keep(f"cen.instance{sfx}", owner, "kept: it still holds attachments or transit routers "
                                                          "acrx did not make", before))
    else:
        changes.append(_delete(f"cen.instance{sfx}", owner, calls.KIND_CEN,
                               {"alias": owner, "region": region, "cen_id": cen.id}, before=before,
                               depends_on=routers + ids + grants,
                               reason="created by acrx for this cluster (the layout before the hub)"))
    return changes
