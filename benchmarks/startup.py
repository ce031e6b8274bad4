"""Start-up and per-run costs the user pays before any inference, measured side by side in one run.

Prints, as medians of N alternating runs:
  * `edgebench --help` versus a bare `python -c pass` (ratio: the CLI must stay light, rule 5);
  * `platform.cpu.environment_facts()` (called on every benchmark run; target < 50 ms);
  * `edgebench platform --quick` (target < 2 s).

Run:  python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    py = sys.executable
    bare, cli, quick = [], [], []
    for _ in range(args.runs):  # alternate so background load hits every command alike
        bare.append(wall([py, "-c", "pass"]))
        cli.append(wall([py, "-m", "edgebench", "--help"]))
        quick.append(wall([py, "-m", "edgebench", "platform", "--quick", "--no-store"]))
    from edgebench.platform.cpu import environment_facts

    environment_facts()  # first call warms the page cache
    facts = []
    for _ in range(args.runs * 5):
        t0 = time.perf_counter()
        environment_facts()
        facts.append(time.perf_counter() - t0)
    b, c, q, f = (statistics.median(x) for x in (bare, cli, quick, facts))
    print(f"python -c pass            : {b * 1e3:8.1f} ms")
    print(f"edgebench --help          : {c * 1e3:8.1f} ms  ({c / b:.1f}× bare interpreter start)")
    print(f"environment_facts()       : {f * 1e3:8.2f} ms  (target < 50 ms: {'PASS' if f < 0.05 else 'FAIL'})")
    print(f"edgebench platform --quick: {q * 1e3:8.1f} ms  (target < 2 s: {'PASS' if q < 2 else 'FAIL'})")


if __name__ == "__main__":
    main()
