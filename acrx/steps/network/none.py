"""network.mode none: the user says the networks are already connected; acrx only looks.

No changes. The discovery and the checks run (the hard conflicts, overlap and 100.x, still stop
with exit 2), and what was found is reported: the path the cluster's route tables take towards
the endpoint IP and whether the VPC domain resolves in the cluster's VPC.
"""

from __future__ import annotations

import ipaddress

from acrx.steps.network.dns import resolves_through_link
from acrx.steps.network.discovery import cluster_net, pvtz_api, registry_net, vpc_api

REPORT_KEY = "net:report"


def findings(ctx) -> list[tuple[bool, str]]:
    """(ok, sentence) for each thing the none mode relies on."""
    cluster, registry = cluster_net(ctx), registry_net(ctx)
    out: list[tuple[bool, str]] = [(True, f"cluster VPC {cluster.vpc.id} ({', '.join(cluster.vpc.cidrs)}), "
                                          f"node vSwitches {', '.join(v.id for v in cluster.vswitches)}")]
    out.append((bool(cluster.egress_ips), "internet egress through " + (", ".join(cluster.egress_ips) or "nothing")))
    ip = registry.endpoint_ip
    if ip is None:
        out.append((False, f"instance {registry.instance.id} has no VPC endpoint IP in {getattr(registry.target_vpc, 'id', 'any VPC')}"))
        return out
    out.append((True, f"registry endpoint {registry.vpc_domain} -> {ip} in {registry.target_vpc.id}"))
    api = vpc_api(ctx, cluster.alias, cluster.region)
    target = ipaddress.ip_network(f"{ip}/32")
    for table in cluster.route_tables:
        best = None
        for entry in api.route_entries(table):
            net = ipaddress.ip_network(entry.destination, strict=False)
            if entry.kind != "System" and target.subnet_of(net) and (best is None or net.prefixlen > best[0].prefixlen):
                best = (net, entry)
        private = best is not None and best[1].next_hop_type in ("VpcPeer", "Attachment")
        what = f"{best[0]} -> {best[1].next_hop_type} {best[1].next_hop_id}" if best else "no route"
        out.append((private, f"route table {table} towards {ip}: {what}"))
    out.append(_dns(ctx, cluster, registry, ip))
    return out


def _dns(ctx, cluster, registry, ip: str) -> tuple[bool, str]:
    domain = registry.vpc_domain
    if resolves_through_link(cluster, registry):
        return True, f"{domain} resolves in {cluster.vpc.id} through the instance's own link"
    api = pvtz_api(ctx, cluster.alias, cluster.region)
    zone = api.find_zone(domain)
    if zone is None:
        return False, f"{domain} has no PrivateZone zone in the cluster's account, so it does not resolve from the cluster"
    bound = any(b.vpc_id == cluster.vpc.id for b in api.bindings(zone.id))
    values = [r.value for r in api.records(zone.id) if r.rr == "@" and r.type == "A"]
    ok = bound and values == [ip]
    return ok, (f"zone {domain} ({zone.id}): bound to {cluster.vpc.id}: {'yes' if bound else 'no'}; "
                f"@ A {', '.join(values) or 'none'}" + ("" if ip in values else f" (endpoint is {ip})"))


def report_none(ctx) -> None:
    lines = ctx.memo(REPORT_KEY, lambda: findings(ctx))
    for ok, sentence in lines:
        if not ok:
            ctx.warn(f"network mode none: {sentence}")
