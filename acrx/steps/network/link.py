"""`cr.vpc_link.<vpc>`: the instance's VPC endpoint linked to a VPC of account B.

An existing link is reused; otherwise the configured VPC and vSwitch are linked and the apply
waits until the link is RUNNING, returning the endpoint IP the routes and the DNS record use.
"""

from __future__ import annotations

from acrx import facts
from acrx.errors import AcrxError
from acrx.plan.change import Action, Change, Ref
from acrx.steps.network.discovery import cr_api

KIND = "cr.vpc_link"


def address(vpc_id: str) -> str:
    return f"cr.vpc_link.{vpc_id}"


def plan_link(ctx, registry) -> tuple[Change, object]:
    """The link change and the endpoint IP: a string, or a Ref when the link is made by this apply."""
    vpc_id = registry.target_vpc.id
    addr = address(vpc_id)
    link = registry.target_link
    data = {"alias": registry.alias, "region": registry.region, "instance_id": registry.instance.id,
            "vpc_id": vpc_id, "vswitch_id": registry.target_vswitch.id if registry.target_vswitch else None}
    if link is not None:
        observed = {"vpc_id": vpc_id, "vswitch_id": link.vswitch_id, "ip": link.ip, "status": link.status}
        if link.status.upper() == facts.VPC_LINK_RUNNING and link.ip:
            return Change(addr, Action.NOOP, observed, observed, account=registry.alias, kind=KIND,
                          reason=f"reused: the instance is linked to {vpc_id} at {link.ip}"), link.ip
        return (Change(addr, Action.UPDATE, observed, {**observed, "status": facts.VPC_LINK_RUNNING},
                       reason=f"link is {link.status}: wait until RUNNING", account=registry.alias, kind=KIND,
                       data={**data, "wait_only": True}),
                Ref(addr, "ip", f"endpoint IP in {vpc_id}"))
    after = {"vpc_id": vpc_id, "vswitch_id": data["vswitch_id"], "ip": Ref(addr, "ip"), "status": "RUNNING"}
    return (Change(addr, Action.CREATE, None, after, account=registry.alias, kind=KIND, data=data),
            Ref(addr, "ip", f"endpoint IP in {vpc_id}"))


def apply_link(ctx, change, actx) -> dict:
    d = change.data
    cr = cr_api(ctx, d["alias"], d["region"])
    if not d.get("wait_only"):
        cr.link_vpc(d["instance_id"], d["vpc_id"], d["vswitch_id"])

    def running():
        link = next((v for v in cr.get_vpc_endpoint(d["instance_id"]).linked_vpcs if v.vpc_id == d["vpc_id"]), None)
        if link is None:
            raise AcrxError(f"the link of {d['instance_id']} to {d['vpc_id']} disappeared while it was created")
        if link.status.upper() not in (facts.VPC_LINK_RUNNING, "CREATING"):
            raise AcrxError(f"linking {d['vpc_id']} to {d['instance_id']} ended {link.status}"
                            + (f" ({link.issue})" if link.issue else ""))
        return link if link.status.upper() == facts.VPC_LINK_RUNNING and link.ip else None

    link = actx.wait_until(running, what=f"VPC link of {d['vpc_id']}", budget_s=ctx.options.wait_budget_s)
    ctx.forget("net:registry")
    return {"ip": link.ip, "vpc_id": link.vpc_id, "vswitch_id": link.vswitch_id}
