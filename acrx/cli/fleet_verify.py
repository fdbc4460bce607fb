"""`acrx fleet verify` and setup's verify: every cluster's layers (control plane, component, a real
pull) concurrently, then one table: cluster, layer reached, verdict, cause, fix."""

from __future__ import annotations

from typing import Any


def verify_one(actx, run, *, timeout, keep: bool, config_file: str) -> dict[str, Any]:
    from acrx.cli.commands.verify import _timeout_seconds, run_verify
    from acrx.doctor.layers import VerifyRun

    sink: dict[str, Any] = {}
    code, error = 0, None
    try:
        run.ctx.forget()   # apply changed the world; read it anew
        vrun = VerifyRun(run.ctx, config_file=config_file, timeout_s=_timeout_seconds(timeout, run.member.config),
                         keep=keep, progress=None)
        code = run_verify(actx, vrun, "json", sink)
    except Exception as exc:   # VerificationFailed (4) or an error reaching the cluster
        from acrx.exitcodes import exit_code_for

        code, error = exit_code_for(exc), exc
    failed = sink.get("failed_layer")
    layers = [layer.get("name") for layer in sink.get("layers", ()) if layer.get("status") in ("pass", "fail")]
    fix = sink.get("fix_command") or (getattr(error, "hint", None) if error is not None and not sink else None)
    return {"cluster": run.name, "cluster_id": run.member.cluster_id,
            "layer": failed or (layers[-1] if layers else "-"),
            "verdict": sink.get("verdict") or ("error" if error is not None else "-"),
            "cause": sink.get("cause") or (" ".join(str(error).split()) if error is not None and not sink.get("ok")
                                           else None),
            "fix": fix, "pulled": sink.get("pulled"), "exit_code": code}


def verify_runs(actx, runs, parallelism: int, fail_fast: bool, *, timeout, keep: bool,
                config_file: str) -> list[dict[str, Any]]:
    from concurrent.futures import ThreadPoolExecutor

    import threading

    stop = threading.Event()

    def one(run):
        if stop.is_set():
            return {"cluster": run.name, "cluster_id": run.member.cluster_id, "layer": "-", "verdict": "skipped",
                    "cause": "another cluster failed and --fail-fast was given", "fix": None, "exit_code": 1}
        row = verify_one(actx, run, timeout=timeout, keep=keep, config_file=config_file)
        if fail_fast and row["exit_code"]:
            stop.set()
        return row

    if not runs:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(runs)))) as pool:
        return list(pool.map(one, runs))


def print_table(actx, rows: list[dict[str, Any]]) -> None:
    from acrx.render.fleet_view import print_rows

    print_rows(actx.out, rows, ["cluster", "layer", "verdict", "cause", "fix"])
    passed = sum(1 for r in rows if r["exit_code"] == 0)
    actx.out.print(f"{passed} of {len(rows)} cluster(s) verified", highlight=False, markup=False)
