"""Target platform characterization: hardware, runtimes, sensors and measured peaks (roofline).

``characterize()`` is the one entry point.  Importing this package stays light: numpy,
onnxruntime, torch and pynvml are imported only inside the functions that need them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from edgebench.errors import UsageError
from edgebench.platform.cpu import detect_cpu
from edgebench.platform.microbench import (
    MicrobenchConfig,
    PeakMeasurement,
    default_stream_bytes,
    ridge_points,
    run_microbenchmarks,
)
from edgebench.platform.nvml import NvmlLoader
from edgebench.platform.report import SCHEMA_VERSION, PlatformReport
from edgebench.platform.runtimes import detect_runtimes
from edgebench.platform.sensors import CommandRunner, ReadCheck, discover_sensors, probe_nvml_for_root
from edgebench.platform.system import detect_accelerators, detect_system
from edgebench.platform.theoretical import TheoreticalPeak, theoretical_peaks

__all__ = [
    "DURATION_RANGE_S",
    "SCHEMA_VERSION",
    "THREADS_RANGE",
    "PlatformReport",
    "characterize",
    "check_options",
    "default_threads",
]

# More threads than any edge board has CPUs, yet few enough that spawning them cannot exhaust the host.
THREADS_RANGE = (1, 1024)
# Under 50 ms a "best of" is mostly warm-up and timer noise; over an hour per kernel is a typo, not a plan.
DURATION_RANGE_S = (0.05, 3600.0)


def default_threads() -> int:
    """CPUs this process may run on (affinity and cgroup cpusets respected where the OS says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_options(threads: int | None, duration_s: float, *, cli: bool = False) -> None:
    """Refuse microbenchmark settings outside the stated ranges, naming the CLI flag or the argument.

    Called before anything runs, so ``--duration inf`` fails in milliseconds, not after detection.
    """
    t_name, d_name = ("--threads", "--duration") if cli else ("threads", "duration_s")
    sep = " " if cli else "="
    lo_t, hi_t = THREADS_RANGE
    if threads is not None and not _whole_in(threads, lo_t, hi_t):
        raise UsageError(
            f"{t_name} must be a whole number of threads in [{lo_t}, {hi_t}], got {_shown(threads)}",
            hint=f"e.g. {t_name}{sep}4, or leave it out to use every CPU this process may run on",
        )
    lo_d, hi_d = DURATION_RANGE_S
    if not _finite_in(duration_s, lo_d, hi_d):
        raise UsageError(
            f"{d_name} must be a finite number of seconds in [{lo_d:g}, {hi_d:g}], got {_shown(duration_s)}",
            hint=f"e.g. {d_name}{sep}2, the default",
        )


def _whole_in(value: object, lo: int, hi: int) -> bool:
    # bool is an int subclass: threads=True would otherwise pass as 1
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _finite_in(value: object, lo: float, hi: float) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    # range first: math.isfinite() overflows on a huge int; NaN fails the range test, isfinite says so plainly
    return lo <= value <= hi and math.isfinite(value)


def _shown(value: object) -> str:
    """The offending value, short enough for one line (a 300-digit integer is not worth printing)."""
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 20 else text[:16] + "…"


def characterize(
    *,
    quick: bool = False,
    threads: int | None = None,
    duration_s: float = 2.0,
    root: Path = Path("/"),
    runner: CommandRunner | None = None,
    can_read: ReadCheck | None = None,
    nvml_loader: NvmlLoader | None = None,
    progress: Callable[[str], None] | None = None,
    matmul_n: int = 1024,
    stream_bytes: int | None = None,
) -> PlatformReport:
    """Describe this machine; unless ``quick``, also measure its FP32/INT8 and bandwidth peaks.

    ``root``, ``runner``, ``can_read`` and ``nvml_loader`` exist so tests can describe fake machines;
    the microbenchmarks always run on the real one.
    """
    check_options(threads, duration_s)
    say = progress or (lambda _message: None)
    say("detecting hardware, runtimes and sensors…")
    cpu = detect_cpu(root)
    system = detect_system(root)
    nvml = probe_nvml_for_root(root, nvml_loader)
    notes = [] if root == Path("/") else [f"hardware read from a tree at {root}; microbenchmarks ran on this host"]
    peaks: tuple[PeakMeasurement, ...] = ()
    config = None
    if quick:
        notes.append("quick mode: detection only, no microbenchmarks")
    else:
        llc = max((c.size_bytes * c.instances for c in cpu.caches), default=None)
        config = MicrobenchConfig(
            threads=threads or default_threads(),
            duration_s=duration_s,
            matmul_n=matmul_n,
            stream_bytes=stream_bytes or default_stream_bytes(llc, system.memory.available_bytes),
        )
        peaks = run_microbenchmarks(config, say)
    theoretical = theoretical_peaks(cpu)
    notes += _consistency_notes(theoretical, peaks)
    return PlatformReport(
        schema_version=SCHEMA_VERSION,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        hostname=system.hostname,
        quick=quick,
        edgebench_version=_edgebench_version(),
        cpu=cpu,
        system=system,
        accelerators=detect_accelerators(root, nvml),
        runtimes=detect_runtimes(quick=quick),
        sensors=discover_sensors(root, runner=runner, can_read=can_read, nvml=nvml),
        theoretical=theoretical,
        peaks=peaks,
        ridge_points=ridge_points(peaks),
        microbench_threads=config.threads if config else None,
        microbench_duration_s=None if quick else duration_s,
        notes=tuple(notes),
    )


def _consistency_notes(theoretical: tuple[TheoreticalPeak, ...], peaks: tuple[PeakMeasurement, ...]) -> list[str]:
    """Flag a measurement above its theoretical ceiling: an assumption (clock, units) is wrong."""
    notes = []
    for precision in ("fp32", "int8"):
        ceiling = max((t.ops_per_s or 0.0 for t in theoretical if t.precision == precision), default=0.0)
        best = max(
            (p for p in peaks if p.precision == precision and p.value), key=lambda p: p.value or 0.0, default=None
        )
        if ceiling and best is not None and (best.value or 0.0) > ceiling:
            unit = "GFLOP/s" if precision == "fp32" else "GOP/s"
            notes.append(
                f"{best.name} measured {(best.value or 0.0) / 1e9:.1f} {unit}, above the theoretical "
                f"{ceiling / 1e9:.1f} {unit}: the clock runs above the one assumed (turbo) or the core has "
                "more units than assumed, so the theoretical figure under-states this machine"
            )
    return notes


def _edgebench_version() -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version("edgebench")
    except importlib.metadata.PackageNotFoundError:
        return None
