"""Transit-router route tables: which attachments are associated with a table, which propagate
(learn) their routes into it, and what the table then forwards.

The official CreateTransitRouterVpcAttachment doc says route learning and association between a
transit router's route tables and a new VPC attachment are disabled by default; a transit router
then forwards traffic that enters through an attachment only by the route table that attachment
is associated with, to the CIDRs that attachments propagate into that table
(AssociateTransitRouterAttachmentWithRouteTable, EnableTransitRouterRouteTablePropagation).
Both are asynchronous: ListTransitRouterRouteTableAssociations / ...Propagations report
Associating / Enabling, then Active (the SDK models' Status field). A peer attachment is associated
and propagated on each of its two transit routers separately. Static TR route entries
(CreateTransitRouterRouteEntry) are not modelled.
[?] unknowns, stricter reading: the duration (LINK_SECONDS, scaled); the codes for a second
association of one attachment (Forbidden.AttachmentAlreadyAssociated), a repeated propagation
(Forbidden.PropagationAlreadyEnabled), and a missing association/propagation on removal (HTTP 404).
DeleteTransitRouter*Attachment without Force refuses while an association or propagation exists
(the SDK's `force` field doc); the code is [?] (DependencyViolation.AttachmentRelatedResource).
"""

from __future__ import annotations

from acrx.sandbox.core.errors import ApiError

LINK_SECONDS = 5
ASSOC, PROP = "association", "propagation"
_PENDING = {ASSOC: "Associating", PROP: "Enabling"}


def _links(backend) -> dict:
    """(kind, table id, attachment id) -> ready_at, in the transit router owner's backend."""
    return backend.__dict__.setdefault("tr_links", {})


def table_router(backend, table_id: str | None):
    tr = next((t for t in backend.transit_routers.values() if t.route_table_id == table_id), None)
    if tr is None:
        raise ApiError("InvalidTransitRouterRouteTableId.NotFound", f"The route table {table_id} does not exist.", 400)
    return tr


def _on_router(attachment, tr_id: str) -> bool:
    return tr_id in (attachment.transit_router_id, attachment.peer_transit_router_id)


def _attachment(backend, attachment_id: str | None, tr_id: str):
    attachment = backend.attachments.get(attachment_id or "")
    if attachment is None or not attachment.live or not _on_router(attachment, tr_id):
        raise ApiError("InvalidTransitRouterAttachmentId.NotFound",
                       f"The attachment {attachment_id} does not exist on transit router {tr_id}.", 400)
    if attachment.status != "Attached":
        # TF retries IncorrectStatus.Attachment on these writes (see cbn/busy.py).
        raise ApiError("IncorrectStatus.Attachment", f"The status of attachment [{attachment.status}] is incorrect.", 400)
    return attachment


def add(backend, kind: str, table_id: str | None, attachment_id: str | None) -> None:
    tr = table_router(backend, table_id)
    _attachment(backend, attachment_id, tr.transit_router_id)
    links = _links(backend)
    if kind == ASSOC:
        tables = {t.route_table_id for t in backend.transit_routers.values() if t.transit_router_id == tr.transit_router_id}
        if any(k == ASSOC and a == attachment_id and t in tables for k, t, a in links):
            raise ApiError("Forbidden.AttachmentAlreadyAssociated",
                           f"The attachment {attachment_id} is already associated with a route table.", 400)
    elif (kind, table_id, attachment_id) in links:
        raise ApiError("Forbidden.PropagationAlreadyEnabled",
                       f"Route learning of {attachment_id} into {table_id} is already enabled.", 400)
    links[(kind, table_id, attachment_id)] = backend.world.clock.ready_at(LINK_SECONDS)


def remove(backend, kind: str, table_id: str | None, attachment_id: str | None) -> None:
    table_router(backend, table_id)
    if _links(backend).pop((kind, table_id, attachment_id), None) is None:
        raise ApiError(f"ResourceNotFound.{kind.capitalize()}", f"No {kind} of {attachment_id} in {table_id}.", 404)


def listed(backend, kind: str, table_id: str | None, attachment_id: str | None) -> list[dict]:
    now = backend.world.clock.now()
    rows = []
    for (k, t, a), ready_at in sorted(_links(backend).items()):
        attachment = backend.attachments.get(a)
        if k != kind or (table_id and t != table_id) or (attachment_id and a != attachment_id) \
                or attachment is None or not attachment.live:
            continue
        rows.append({"TransitRouterAttachmentId": a, "TransitRouterRouteTableId": t,
                     "Status": _PENDING[kind] if now < ready_at else "Active",
                     "ResourceId": attachment.vpc_id or attachment.peer_transit_router_id,
                     "ResourceType": "VPC" if attachment.kind == "VPC" else "TR"})
    return rows


def refuse_delete(backend, attachment, force: bool) -> None:
    links = _links(backend)
    related = [key for key in links if key[2] == attachment.attachment_id]
    if related and not force:
        raise ApiError("DependencyViolation.AttachmentRelatedResource",
                       f"The attachment {attachment.attachment_id} still has route table associations or route "
                       "learning; remove them, or delete with Force=true.", 400)
    for key in related:
        del links[key]


# -- forwarding ------------------------------------------------------------------------------------
def _active(world, kind: str, table_id: str) -> list:
    from acrx.sandbox.services.cbn.models import all_attachments

    now = world.clock.now()
    out = []
    for backend in world.backends("cbn"):
        for (k, t, a), ready_at in _links(backend).items():
            if k == kind and t == table_id and now >= ready_at:
                out += [x for x in all_attachments(world) if x.attachment_id == a and x.status == "Attached"]
    return out


def _table_of(world, attachment, tr_id: str) -> str | None:
    """The route table of transit router `tr_id` that `attachment` is associated with (Active)."""
    from acrx.sandbox.services.cbn.models import all_transit_routers

    tables = {t.route_table_id for t in all_transit_routers(world) if t.transit_router_id == tr_id}
    return next((t for t in tables if attachment in _active(world, ASSOC, t)), None)


def _vpc_cidrs(world, vpc_id: str) -> list[str]:
    from acrx.sandbox.services.vpc.models import find_vpc_anywhere

    found = find_vpc_anywhere(world, vpc_id)
    return list(found[2].cidrs()) if found else []


def table_routes(world, table_id: str, tr_id: str) -> list[tuple[str, object, object]]:
    """(destination CIDR, next-hop attachment, destination VPC attachment) of one TR route table:
    the CIDRs of the VPC attachments propagated into it; through a propagated peer attachment, the
    VPC attachments propagated into the table that peer attachment is associated with on the far
    router."""
    routes = []
    for learned in _active(world, PROP, table_id):
        if learned.kind == "VPC":
            if learned.transit_router_id == tr_id:
                routes += [(cidr, learned, learned) for cidr in _vpc_cidrs(world, learned.vpc_id)]
            continue
        far = learned.peer_transit_router_id if learned.transit_router_id == tr_id else learned.transit_router_id
        far_table = _table_of(world, learned, far)
        if far_table is None:
            continue
        routes += [(cidr, learned, target) for target in _active(world, PROP, far_table)
                   if target.kind == "VPC" and target.transit_router_id == far
                   for cidr in _vpc_cidrs(world, target.vpc_id)]
    return routes


def routes_from(world, entry) -> list[tuple[str, object, object]]:
    """What the transit router forwards for traffic entering through VPC attachment `entry`: the
    routes of the table `entry` is associated with (none when it is associated with none)."""
    table = _table_of(world, entry, entry.transit_router_id)
    return [] if table is None else table_routes(world, table, entry.transit_router_id)
