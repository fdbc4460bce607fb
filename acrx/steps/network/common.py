"""What the network planners share: marks, client tokens, and VPC routes (`vpc.route.<table>.<cidr>`).

A route is planned the same way in peering and CEN mode: a custom entry for the destination in
the table → no-op (adopted when acrx did not make it); nothing → create; an entry to elsewhere →
a preflight error (acrx never rewrites someone else's route).
"""

from __future__ import annotations

import ipaddress

from acrx.errors import AcrxError, PreflightError
from acrx.plan.change import Action, Change, Ref
from acrx.steps import ownership
from acrx.steps.network.discovery import vpc_api
from acrx.steps.network.route_lock import table_lock

# The marks are defined in acrx.steps.ownership; the network planners import them from here.
MARK_TAGS = ownership.TAGS
marked_name, is_marked, keep_reason = ownership.marked_name, ownership.is_marked, ownership.keep_reason
ROUTE_KIND = "vpc.route"


def client_token(actx, suffix: str = "") -> str:
    """The ClientToken of this change's create: from the plan's fingerprint, this apply and the
    change's address (ApplyContext.client_token). Every retry of the create sends the same token,
    so after a lost answer the cloud returns the first resource instead of making a second;
    a handler with two creates gives the second a suffix."""
    return actx.client_token(suffix)


def route_address(table_id: str, destination: str) -> str:
    return f"vpc.route.{table_id}.{destination}"


def plan_route(ctx, *, alias: str, region: str, table_id: str, destination: str, hop_type: str,
               hop_id, depends_on=(), why: str = "") -> Change:
    """One route; `hop_id` is the next hop's id, or a Ref when it exists only after apply."""
    address = route_address(table_id, destination)
    entries = ctx.memo(f"net:routes:{alias}:{region}:{table_id}",
                       lambda: vpc_api(ctx, alias, region).route_entries(table_id))
    dest = str(ipaddress.ip_network(destination, strict=False))
    found = [e for e in entries if e.destination == dest and e.kind != "System"]
    after = {"route_table_id": table_id, "destination": dest, "next_hop_type": hop_type,
             "next_hop_id": hop_id}
    data = {"alias": alias, "region": region, **after}
    for entry in found:
        same = entry.next_hop_type == hop_type and not isinstance(hop_id, Ref) and entry.next_hop_id == hop_id
        if same:
            before = {**after, "next_hop_id": entry.next_hop_id, "status": entry.status}
            if entry.status != "Available":
                return Change(address, Action.UPDATE, before, after, reason=f"route is {entry.status}: wait",
                              account=alias, kind=ROUTE_KIND, depends_on=depends_on, data={**data, "wait_only": True})
            return Change(address, Action.NOOP, before, before, account=alias, kind=ROUTE_KIND,
                          reason=keep_reason(is_marked(entry.name, description=entry.description),
                                             f"{dest} goes to {hop_type} {entry.next_hop_id}"))
        if is_marked(entry.name, description=entry.description):
            # acrx made this route, for another network path than this plan's (cen where the plan is
            # for peering, or the other way round): say so, and offer nothing that breaks that path.
            raise PreflightError(
                f"route table {table_id} sends {dest} to {entry.next_hop_type} {entry.next_hop_id}, a route acrx "
                f"made for another network path than this plan's {hop_type} route", field="network.mode",
                hint="`acrx status` shows the mode and network acrx set the cluster up for; pass that --network "
                     "(and --route-to), or set it in acrx.yaml")
        raise PreflightError(
            f"route table {table_id} already sends {dest} to {entry.next_hop_type} {entry.next_hop_id}; acrx does "
            f"not replace routes it did not plan", field="network.route_to",
            hint="remove that route, or choose the other route_to so the destinations differ")
    return Change(address, Action.CREATE, None, after, reason=why or None, account=alias, kind=ROUTE_KIND,
                  depends_on=depends_on, data=data)


def apply_route(ctx, change, actx) -> dict:
    with table_lock(change.data["route_table_id"]):   # one write per table at a time (route_lock.py)
        return _apply_route(ctx, change, actx)


def _apply_route(ctx, change, actx) -> dict:
    d = change.data
    api = vpc_api(ctx, d["alias"], d["region"])
    if not d.get("wait_only"):
        api.create_route_entry(d["route_table_id"], d["destination"], d["next_hop_type"], d["next_hop_id"],
                               name=marked_name("route"), description=marked_name("managed"),
                               client_token=client_token(actx))

    def available():
        for entry in api.route_entries(d["route_table_id"], destination=d["destination"]):
            if entry.destination == d["destination"] and entry.kind != "System":
                return entry if entry.status == "Available" else None
        raise AcrxError(f"route {d['destination']} in {d['route_table_id']} disappeared after it was created "
                        "(the cloud rejected it asynchronously)")

    entry = actx.wait_until(available, what=f"route {d['destination']} in {d['route_table_id']}",
                            budget_s=ctx.options.wait_budget_s)
    ctx.forget(f"net:routes:{d['alias']}:{d['region']}:{d['route_table_id']}")
    return {"route_entry_id": entry.entry_id, "next_hop_id": entry.next_hop_id}
