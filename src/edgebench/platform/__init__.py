"""Target platform characterization: hardware, runtimes, sensors and measured peaks (roofline).

``characterize()`` is the one entry point.  Importing this package stays light: numpy,
onnxruntime, torch and pynvml are imported only inside the functions that need them.
"""

from __future__ import annotations

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

__all__ = ["SCHEMA_VERSION", "PlatformReport", "characterize", "default_threads"]


def default_threads() -> int:
    """CPUs this process may run on (affinity and cgroup cpusets respected where the OS says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


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
    if threads is not None and threads < 1:
        raise UsageError(f"threads must be at least 1, got {threads}", hint="use --threads 1 or more")
    if not duration_s > 0:
        raise UsageError(f"duration must be positive, got {duration_s}", hint="e.g. --duration 2")
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
