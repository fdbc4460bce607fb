"""Start-up cost of `acrx --help` against the floor of its own dependencies.

Runs both commands interleaved in one process (the machines are noisy, so only the ratio taken
side by side means anything) and prints the median of each and their ratio. Target: <= 1.3.
Usage: python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    acrx = [sys.executable, "-m", "acrx", "--help"]
    floor = [sys.executable, "-c", "import typer, rich, pydantic"]
    _time(acrx), _time(floor)  # warm the page cache
    acrx_times, floor_times = [], []
    for _ in range(args.runs):
        acrx_times.append(_time(acrx))
        floor_times.append(_time(floor))
    a, f = statistics.median(acrx_times), statistics.median(floor_times)
    print(f"acrx --help             median {a * 1000:7.1f} ms")
    print(f"import typer,rich,pyd.  median {f * 1000:7.1f} ms")
    print(f"ratio                   {a / f:7.2f}  (target <= 1.30)")


if __name__ == "__main__":
    main()
