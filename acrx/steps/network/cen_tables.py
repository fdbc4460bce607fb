"""CEN transit-router route tables: every attachment acrx plans (both VPCs) is associated with its router's system route table and propagates
(learns) its routes into it.

Why: association and route learning are off for a new attachment (official
CreateTransitRouterVpcAttachment doc), and a transit router forwards traffic only by the table the
entering attachment is associated with, to the routes propagated into it. Without these, every
attachment shows Attached and the pull still times out. Both calls are asynchronous
(Associating/Enabling, then Active: ListTransitRouterRouteTableAssociations / ...Propagations), so
each handler waits for Active. Addresses: `cen.association.<vpc>` / `cen.propagation.<vpc>`. Destroy needs nothing of its own: acrx deletes its attachments with Force=true,
which removes their associations and propagations (acrx.cloud.cbn); on an adopted attachment they
stay, as the attachment does. A plan after someone removed one shows it again (drift).
"""

from __future__ import annotations

from acrx.errors import AcrxError
from acrx.plan.change import Action, Change, Ref
from acrx.steps.network.common import client_token
from acrx.steps.network.discovery import cbn_api

KIND = "cen.route_table"
ACTIVE = "Active"
LINKS = (("association", "cen.association", "associated with the router's route table: the router forwards "
                                             "its traffic by that table"),
         ("propagation", "cen.propagation", "its routes are learned into the router's route table"))


def table_key(transit_router_id: str) -> str:
    return f"net:trtable:{transit_router_id}"


def links_key(kind: str, table: str) -> str:
    return f"net:trlinks:{kind}:{table}"


def plan_links(ctx, *, alias: str, region: str, key: str, attachment_id, transit_router_id,
               depends_on: tuple[str, ...]) -> list[Change]:
    """The association and the propagation of one attachment on the router `transit_router_id`
    (in `region`); ids are Refs when the attachment or the router is made by this plan."""
    known = not isinstance(attachment_id, Ref) and not isinstance(transit_router_id, Ref)
    api = cbn_api(ctx, alias, region)
    table = ctx.memo(table_key(transit_router_id), lambda: api.system_route_table(transit_router_id)) \
        if known else None
    changes = []
    for kind, prefix, why in LINKS:
        address = f"{prefix}.{key}"
        after = {"attachment_id": attachment_id, "transit_router_id": transit_router_id, "status": ACTIVE}
        data = {"alias": alias, "region": region, "kind": kind, "attachment_id": attachment_id,
                "transit_router_id": transit_router_id}
        status = None
        if table:
            links = ctx.memo(links_key(kind, table), lambda k=kind: api.route_table_links(k, table))
            status = links.get(attachment_id)
        if status == ACTIVE:
            changes.append(Change(address, Action.NOOP, after, after, account=alias, kind=KIND,
                                  reason=f"{attachment_id}: {kind} in {table} is Active"))
        elif status:
            changes.append(Change(address, Action.UPDATE, {**after, "status": status}, after, account=alias,
                                  kind=KIND, reason=f"{kind} is {status}: wait", depends_on=depends_on,
                                  data={**data, "wait_only": True}))
        else:
            changes.append(Change(address, Action.CREATE, None, after, account=alias, kind=KIND, reason=why,
                                  depends_on=depends_on, data=data))
    return changes


def apply_link(ctx, change, actx) -> dict:
    d = change.data
    api = cbn_api(ctx, d["alias"], d["region"])
    table = api.system_route_table(d["transit_router_id"])
    if not table:
        raise AcrxError(f"transit router {d['transit_router_id']} has no system route table")
    kind, attachment = d["kind"], d["attachment_id"]
    if not d.get("wait_only") and attachment not in api.route_table_links(kind, table, attachment):
        api.link_route_table(kind, table, attachment, client_token=client_token(actx))

    def active():
        return api.route_table_links(kind, table, attachment).get(attachment) == ACTIVE

    actx.wait_until(active, what=f"{kind} of {attachment} in {table}", budget_s=ctx.options.wait_budget_s)
    ctx.forget(links_key(kind, table))
    return {"attachment_id": attachment, "route_table_id": table, "status": ACTIVE}
