"""`acrx fleet list|plan|setup|verify|destroy`: one registry, many clusters (issue 16).

The config lists the clusters under `clusters:` (a `cluster:` config is a fleet of one). Every
command takes the selection flags (--cluster, --cluster-selector, --cluster-shard) and
--parallelism (the bounded pool that plans, applies and verifies clusters side by side). Shared
resources (the registry side, and what clusters of one account share) are planned once; with
--cluster-shard they are left to one `--shared-only` run (docs/fleet.md says why).
"""

from dataclasses import replace
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from acrx.cli.fleet_defaults import DEFAULT_PARALLELISM
from acrx.cli.options import DEFAULT_FILE, FileOpt, OutputOpt, YesOpt, check_output
from acrx.cli.root import app, app_context

fleet_app = typer.Typer(help="Run acrx over many clusters sharing one registry (clusters: in the config).",
                        no_args_is_help=True)
app.add_typer(fleet_app, name="fleet")

ClusterOpt = Annotated[Optional[List[str]], typer.Option(
    "--cluster", help="Only this cluster (id or name); repeatable.")]
SelectorOpt = Annotated[Optional[List[str]], typer.Option(
    "--cluster-selector", help="Only the config's clusters whose ACK tags hold key=value (read with DescribeClustersV1); "
                               "repeatable (all must hold).")]
ShardOpt = Annotated[Optional[str], typer.Option(
    "--cluster-shard", help="i/n: the i-th of n shards (from 0); shards cover every cluster exactly once.")]
ParallelismOpt = Annotated[int, typer.Option(
    "--parallelism", min=1, max=64, help="Clusters planned, applied or verified at once.")]
FailFastOpt = Annotated[bool, typer.Option("--fail-fast", help="Stop starting clusters once one fails.")]
SharedOnlyOpt = Annotated[bool, typer.Option(
    "--shared-only", help="Only the shared resources (registry side, per account), for all selected clusters.")]


def _fleet(ctx, file: Path, clusters, selectors, shard, overrides=None):
    from acrx.cli.fleet_select import live_tags
    from acrx.config.fleet import load_fleet

    actx = app_context(ctx)
    fleet = load_fleet(file, overrides, actx.sandbox_dir)
    # The selector's tags are the clusters' tags in ACK, listed once per account and region.
    chosen = fleet.select(clusters or (), selectors or (), shard, live_tags=lambda ms: live_tags(actx, ms),
                          notice=lambda line: actx.err.print(f"warning: {line}", markup=False, highlight=False))
    if not chosen.members:
        from acrx.errors import UsageError

        raise UsageError("the selection holds no cluster", field="--cluster-selector" if selectors else "--cluster",
                         hint="acrx fleet list --tags shows the clusters and their tags in ACK")
    return actx, fleet, chosen


@fleet_app.command("list")
def list_clusters(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, cluster: ClusterOpt = None,
                  selector: SelectorOpt = None, shard: ShardOpt = None, output: OutputOpt = "table",
                  tags: Annotated[bool, typer.Option(
                      "--tags", help="Also read each cluster's tags in ACK (DescribeClustersV1).")] = False) -> int:
    """The clusters of the config (after selection): name, id, account, region, mode, network.
    Offline, unless --cluster-selector or --tags reads the clusters' tags in ACK."""
    check_output(output)
    actx, _, chosen = _fleet(ctx, file, cluster, selector, shard)
    members = list(chosen.members)
    if tags and not selector:   # with a selector the tags were read while selecting
        from acrx.cli.fleet_select import live_tags

        found = live_tags(actx, members)
        members = [replace(m, tags=found.get(m.cluster_id)) for m in members]
    read = bool(tags or selector)
    rows = [{"name": m.name, "cluster": m.cluster_id, "account": m.config.cluster.account,
             "region": m.config.cluster.region, "mode": m.config.mode, "network": m.config.network.mode,
             # where the tags come from: ACK's DescribeClustersV1, or not read (offline)
             "tags": m.tags, "tags_source": "ack:DescribeClustersV1" if read else None} for m in members]
    if output == "json":
        from acrx.render.envelope import print_json

        print_json(actx.out, "FleetList", {"clusters": rows})
        return 0
    from acrx.render.fleet_view import print_rows

    columns = ["name", "cluster", "account", "region", "mode", "network"]
    if read:
        for row in rows:
            row["tags (ACK)"] = _tag_text(row["tags"])
        columns.append("tags (ACK)")
    print_rows(actx.out, rows, columns)
    return 0


def _tag_text(tags: dict | None) -> str:
    if tags is None:
        return "(not listed)"
    return ",".join(f"{k}={v}" for k, v in sorted(tags.items())) or "-"


def _options(allow_any_source: bool = False):
    from acrx.steps.context import StepOptions

    return StepOptions(allow_any_source=allow_any_source or None)


@fleet_app.command("plan")
def plan(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, cluster: ClusterOpt = None, selector: SelectorOpt = None,
         shard: ShardOpt = None, shared_only: SharedOnlyOpt = False, parallelism: ParallelismOpt = DEFAULT_PARALLELISM,
         output: OutputOpt = "table", fail_fast: FailFastOpt = False,
         detailed_exitcode: Annotated[bool, typer.Option(
             "--detailed-exitcode", help="Exit 0 with no changes, 3 with changes pending.")] = False) -> int:
    """What `acrx fleet setup` would change, reading only; one plan for the selected clusters."""
    from acrx.cli.fleet_runs import fleet_plan

    check_output(output)
    actx, fleet, chosen = _fleet(ctx, file, cluster, selector, shard)
    return fleet_plan(actx, fleet, chosen, _options(), parallelism=parallelism, output=output,
                      shared_only=shared_only, sharded=shard is not None, fail_fast=fail_fast,
                      detailed_exitcode=detailed_exitcode)


@fleet_app.command("setup")
def setup(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, cluster: ClusterOpt = None, selector: SelectorOpt = None,
          shard: ShardOpt = None, shared_only: SharedOnlyOpt = False, parallelism: ParallelismOpt = DEFAULT_PARALLELISM,
          yes: YesOpt = False, output: OutputOpt = "table", fail_fast: FailFastOpt = False,
          no_verify: Annotated[bool, typer.Option("--no-verify", help="Do not verify the clusters afterwards.")] = False
          ) -> int:
    """Plan the selected clusters, apply the shared changes once, then every cluster concurrently; verify."""
    from acrx.cli.fleet_runs import fleet_setup

    check_output(output)
    actx, fleet, chosen = _fleet(ctx, file, cluster, selector, shard)
    return fleet_setup(actx, fleet, chosen, _options(), parallelism=parallelism, output=output, yes=yes,
                       shared_only=shared_only, sharded=shard is not None, fail_fast=fail_fast,
                       verify=not no_verify and not shared_only, config_file=str(file))


@fleet_app.command("verify")
def verify(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, cluster: ClusterOpt = None, selector: SelectorOpt = None,
           shard: ShardOpt = None, parallelism: ParallelismOpt = DEFAULT_PARALLELISM, output: OutputOpt = "table",
           fail_fast: FailFastOpt = False,
           timeout: Annotated[Optional[str], typer.Option("--timeout", help="How long each pull may take.")] = None,
           keep: Annotated[bool, typer.Option("--keep", help="Leave the acrx-verify Deployments in place.")] = False
           ) -> int:
    """Prove a pod pulls in every selected cluster, concurrently; one table; the worst exit code."""
    from acrx.cli.fleet_runs import fleet_verify

    check_output(output)
    actx, _, chosen = _fleet(ctx, file, cluster, selector, shard)
    return fleet_verify(actx, chosen.members, parallelism=parallelism, output=output, fail_fast=fail_fast,
                        timeout=timeout, keep=keep, config_file=str(file))


@fleet_app.command("destroy")
def destroy(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, cluster: ClusterOpt = None,
            selector: SelectorOpt = None, shard: ShardOpt = None, parallelism: ParallelismOpt = DEFAULT_PARALLELISM,
            yes: YesOpt = False, output: OutputOpt = "table", fail_fast: FailFastOpt = False,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only; delete nothing.")] = False) -> int:
    """Remove what acrx made for the selected clusters; shared resources stay while another cluster uses them."""
    from acrx.cli.fleet_runs import fleet_destroy

    check_output(output)
    actx, fleet, chosen = _fleet(ctx, file, cluster, selector, shard)
    return fleet_destroy(actx, fleet, chosen, _options(), parallelism=parallelism, output=output, yes=yes,
                         fail_fast=fail_fast, dry_run=dry_run)


def is_fleet_file(ctx, file: Path) -> bool:
    """Does the config `acrx plan`/`acrx verify` were given list clusters: (then they run the fleet)?"""
    from acrx.config.fleet import is_fleet_data
    from acrx.config.loader import read_yaml

    path = Path(file)
    sandbox_dir = app_context(ctx).sandbox_dir
    if not path.exists() and sandbox_dir is not None and path == Path("acrx.yaml"):
        path = Path(sandbox_dir) / "acrx.yaml"   # the same fallback as load_fleet and load_config
    return path.is_file() and is_fleet_data(read_yaml(path))


def refuse_single_cluster_flags(**given) -> None:
    """Flags the fleet run does not take (one cluster's kubeconfig, a saved plan file): one line
    naming the flag, exit 2, before any read."""
    from acrx.errors import UsageError

    for flag, value in given.items():
        if value:
            raise UsageError(f"{flag} is not taken with a fleet config (clusters:)", field=flag,
                             hint="drop the flag; per-cluster settings go in clusters: (docs/fleet.md)")


def plan_fleet_file(ctx, file: Path, overrides: dict, output: str, detailed_exitcode: bool) -> int:
    """`acrx plan` on a fleet config: the fleet plan of every cluster (as `acrx fleet plan`)."""
    from acrx.cli.fleet_runs import fleet_plan

    actx, fleet, chosen = _fleet(ctx, file, (), (), None, overrides)
    return fleet_plan(actx, fleet, chosen, _options(bool(overrides.get("network.allow_any_source"))),
                      parallelism=DEFAULT_PARALLELISM, output=output, shared_only=False, sharded=False, fail_fast=False,
                      detailed_exitcode=detailed_exitcode)


def verify_fleet_file(ctx, file: Path, overrides: dict, output: str, timeout, keep: bool) -> int:
    """`acrx verify` on a fleet config: every cluster's pull, concurrently (as `acrx fleet verify`)."""
    from acrx.cli.fleet_runs import fleet_verify

    actx, _, chosen = _fleet(ctx, file, (), (), None, overrides)
    return fleet_verify(actx, chosen.members, parallelism=DEFAULT_PARALLELISM, output=output, fail_fast=False,
                        timeout=timeout, keep=keep, config_file=str(file))
