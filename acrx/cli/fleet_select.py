"""--cluster-selector's tags: read from ACK (DescribeClustersV1), not from the config (issue 16).

One listing per account alias and region among the clusters still in play, read once per run
(the fleet commands select before anything else) and side by side in a small pool. Every page
goes through the adapter, so it waits for the account's cs:DescribeClustersV1 token like any other
call (acrx.cloud.ratelimit) and retries throttling answers.
"""

from __future__ import annotations

LIST_POOL = 4   # accounts x regions listed at once; each listing is a page or two


def live_tags(actx, members) -> dict:
    """{cluster_id: {key: value}, or None when the listing of the member's own account and region
    does not hold it} for each member."""
    from acrx.cli.fleet_flow import pool_map
    from acrx.cli.flow import open_session

    groups: dict[tuple[str, str], object] = {}
    for m in members:
        groups.setdefault((m.config.cluster.account, m.config.cluster.region), m.config)

    def listing(item):
        (alias, region), config = item
        session = open_session(actx, config)
        rows = session.account(alias).cs_api(region).list_clusters()
        return (alias, region), {row.id: dict(row.tags) for row in rows}

    listed = dict(pool_map(listing, sorted(groups.items(), key=lambda kv: kv[0]), LIST_POOL))
    return {m.cluster_id: listed[(m.config.cluster.account, m.config.cluster.region)].get(m.cluster_id)
            for m in members}
