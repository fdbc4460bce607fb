"""The network step: how the cluster's nodes reach the registry (issue 6).

`NetworkStep(mode)` with mode public | peering | cen | none (default: network.mode of the config).
Preflight reads both sides and stops before any write when the mode cannot work; plan returns the
Changes of that mode; handlers apply them. Addresses are those of DESIGN.md, plus
`cen.transit_router.<region>` for the CEN piece DESIGN leaves unnamed.
"""

from __future__ import annotations

from typing import Any, Mapping

from acrx import facts
from acrx.errors import UsageError
from acrx.plan.change import Change
from acrx.steps.network import cen, cen_tables, common, dns, link, none, peering, preflight, public, zone_vswitch


class NetworkStep:
    name = "network"

    def __init__(self, mode: str | None = None):
        if mode is not None and mode not in facts.NETWORK_MODES:
            raise UsageError(f"unknown network mode {mode!r}; use one of {', '.join(facts.NETWORK_MODES)}",
                             field="--via")
        self.mode = mode

    def _mode(self, ctx) -> str:
        return self.mode or ctx.config.network.mode

    def preflight(self, ctx) -> None:
        preflight.check(ctx, self._mode(ctx))

    def plan(self, ctx) -> list[Change]:
        mode = self._mode(ctx)
        if mode == "public":
            return public.plan_public(ctx)
        if mode == "peering":
            return peering.plan_peering(ctx)
        if mode == "cen":
            return cen.plan_cen(ctx)
        none.report_none(ctx)
        return []

    def handlers(self, ctx) -> Mapping[str, Any]:
        def bind(fn):
            def handler(change, actx):
                return fn(ctx, change, actx)
            handler.__name__ = fn.__name__
            return handler

        return {
            public.ENDPOINT: bind(public.apply_endpoint), public.ACL: bind(public.apply_acl),
            link.KIND: bind(link.apply_link), peering.KIND: bind(peering.apply_peering),
            common.ROUTE_KIND: bind(common.apply_route),
            cen.CEN: bind(cen.apply_cen), cen.TR: bind(cen.apply_router), cen.GRANT: bind(cen.apply_grant),
            cen.ATTACH: bind(cen.apply_attachment),
            cen_tables.KIND: bind(cen_tables.apply_link), zone_vswitch.KIND: bind(zone_vswitch.apply_create),
            dns.ZONE: bind(dns.apply_zone), dns.RECORD: bind(dns.apply_record), dns.BINDING: bind(dns.apply_binding),
        }


__all__ = ["NetworkStep"]
