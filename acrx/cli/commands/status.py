"""`acrx status`: what acrx manages for this cluster, read from its marks (read-only).

Each resource with its account, whether acrx made it (its mark) or adopted it, the mode and
network acrx's cluster record says it was applied for, and what the config wants that is
missing or differs. `-o json` prints one Status envelope.
"""

import typer

from acrx.cli.options import DEFAULT_FILE, FileOpt, KubeconfigOpt, OutputOpt, check_output
from acrx.cli.root import app, app_context

KIND_STATUS = "Status"
LABELS = {("acrx", "present"): "managed", ("adopted", "present"): "adopted", (None, "missing"): "missing"}


def _label(item) -> str:
    if item.state == "drifted":
        return "drifted"
    return LABELS.get((item.owner, item.state), item.state)


def _print(console, inventory) -> None:
    from rich.text import Text

    from acrx.render.text_layout import wrap_line

    console.print(Text(f"Cluster {inventory.cluster} (acrx.yaml: {inventory.mode} + {inventory.network})",
                       style="bold"), soft_wrap=True)
    by_account: dict = {}
    for item in inventory.items:
        by_account.setdefault(item.account, []).append(item)
    for alias, items in by_account.items():
        uid = inventory.accounts.get(alias)
        console.print(Text(f"Account {alias or '(local)'}" + (f" (uid {uid})" if uid else ""), style="bold"),
                      soft_wrap=True)
        for item in items:
            applied = (f"  [applied for {item.applied_for['mode']} + {item.applied_for['network']}]"
                       if item.applied_for else "")
            console.print(f"  {_label(item):8} {item.address}{applied}", soft_wrap=True, highlight=False,
                          markup=False)
            if item.detail:
                for line in wrap_line(f"           {item.detail}", console.width):
                    console.print(line, soft_wrap=True, highlight=False, markup=False)
    for note in inventory.notes:
        console.print(f"note: {note}", soft_wrap=True, highlight=False, markup=False)
    c = inventory.counts()
    console.print(Text(f"{c['managed']} managed by acrx, {c['adopted']} adopted, {c['missing']} missing, "
                       f"{c['drifted']} drifted", style="bold"), soft_wrap=True)


@app.command("status")
def status(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, output: OutputOpt = "table",
           kubeconfig: KubeconfigOpt = None) -> int:
    """List what acrx manages for this cluster (from its marks): managed, adopted, missing, drifted."""
    from acrx.cli.flow import load_config, step_context
    from acrx.doctor.inventory import take
    from acrx.steps.context import StepOptions

    check_output(output)
    actx = app_context(ctx)
    config = load_config(file, {}, actx.sandbox_dir)
    # Read-only: the consent flags of setup guard writes, which status never makes.
    options = StepOptions(kubeconfig=str(kubeconfig) if kubeconfig else None, allow_plaintext_access_key=True)
    inventory = take(step_context(actx, config, options))
    if output == "json":
        from acrx.render.envelope import print_json

        print_json(actx.out, KIND_STATUS, inventory.to_dict())
    else:
        _print(actx.out, inventory)
    return 0

