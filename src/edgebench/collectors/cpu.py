"""CPU utilisation of the benchmark process over a window: (user + sys CPU time) ÷ wall time."""

from __future__ import annotations

import os
import time

from edgebench.records import JSONValue


class CpuTimeCollector:
    name = "cpu"

    def __init__(self) -> None:
        self._cpu0 = 0.0
        self._wall0 = 0.0

    def start(self) -> None:
        self._cpu0, self._wall0 = _cpu_seconds(), time.perf_counter()

    def stop(self) -> dict[str, JSONValue]:
        cpu = _cpu_seconds() - self._cpu0
        wall = time.perf_counter() - self._wall0
        cores = os.cpu_count() or 1
        one_core = 100.0 * cpu / wall if wall > 0 else None
        return {
            "cpu_time_s": cpu,
            "wall_s": wall,
            "cpu_util_pct_one_core": one_core,
            "cpu_util_pct_all_cores": one_core / cores if one_core is not None else None,
        }


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system  # children excluded: runtimes use threads, not processes
