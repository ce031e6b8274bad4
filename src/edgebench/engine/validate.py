"""Validate a RunSpec in the parent, before any model export or process spawn.

Every number a user can type is checked here as finite and within a stated range; the backend's
and scenario's options are validated against their typed models. The same rules serve the CLI and
the Python API, so both fail with the same one-line messages (ARCHITECTURE rule 6: no side effects).
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from typing import Any

from edgebench import options, registry
from edgebench.errors import UsageError
from edgebench.records import RunSpec

MAX_DURATION_S = 24 * 3600.0  # one day: anything longer is a typo, and timeouts derive from it
MAX_PROCESSES = 1000
MAX_SEED = 2**63 - 1
OVERSUBSCRIPTION_LIMIT = 4  # threads above 4× the logical CPUs need --force

# (field, option name, lower bound, inclusive?) for the float fields
_DURATIONS = (
    ("warmup_time_s", "--warmup-time", 0.0, True),
    ("min_time_s", "--min-time", 0.0, True),
    ("max_time_s", "--max-time", 0.0, False),
)


def logical_cpus() -> int:
    return os.cpu_count() or 1


def validate_spec(spec: RunSpec, *, force: bool = False) -> RunSpec:
    """Check every field; return the spec with its plugin options validated and normalised."""
    _check_types(spec)
    for name, flag, low, inclusive in _DURATIONS:
        _check_float(flag, getattr(spec, name), low, inclusive, MAX_DURATION_S, "seconds")
    if spec.min_time_s > spec.max_time_s:
        raise UsageError(
            f"--min-time {spec.min_time_s:g} exceeds --max-time {spec.max_time_s:g}",
            hint="raise --max-time or lower --min-time",
        )
    _check_float("--target-ci", spec.target_ci, 0.0, True, 0.5, "(a fraction of the median: 0.01 = ±1 %)")
    _check_int("--min-iters", spec.min_iters, 1, 10**9)
    _check_int("--seed", spec.seed, 0, MAX_SEED)
    _check_int("--processes", spec.processes, 1, MAX_PROCESSES)
    _check_int("--max-input-mb", spec.max_input_bytes, 1, 2**50, shown=f"{spec.max_input_bytes / 1024**2:g} MiB")
    for flag, value in (("--batch", spec.batch), ("--batch-dim", spec.batch_dim)):
        if value is not None:
            _check_int(flag, value, 1 if flag == "--batch" else 0, 2**31 - 1)
    if spec.threads is not None:
        _check_int("--threads", spec.threads, 1, 2**16)
        _check_oversubscription(spec.threads, force)
    _check_shapes(spec)
    _check_precision(spec)
    if spec.inputs_file is not None:
        _check_inputs_file(spec.inputs_file)
    for name in spec.collectors:
        registry.load("edgebench.collectors", name)
    from edgebench.energy.options import check_spec as check_energy

    check_energy(spec)
    return replace(
        spec,
        backend_options=_plugin_options("edgebench.backends", spec.backend, spec.backend_options),
        scenario_options=_plugin_options("edgebench.scenarios", spec.scenario, spec.scenario_options),
    )


def _check_types(spec: RunSpec) -> None:
    # The Python API passes anything; a wrong type must be a UsageError, not a TypeError deep inside.
    expected: dict[str, Any] = {
        "model": str,
        "backend": str,
        "scenario": str,
        "min_iters": int,
        "seed": int,
        "processes": int,
        "max_input_bytes": int,
        "warmup_time_s": (int, float),
        "min_time_s": (int, float),
        "max_time_s": (int, float),
        "target_ci": (int, float),
    }
    for name, kind in expected.items():
        value = getattr(spec, name)
        if isinstance(value, bool) or not isinstance(value, kind):
            raise UsageError(
                f"{name} must be {_kind_name(kind)}, got {type(value).__name__} {value!r}",
                hint=f"pass {name} as {_kind_name(kind)}",
            )
    for name in ("threads", "batch", "batch_dim"):
        value = getattr(spec, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise UsageError(f"{name} must be an integer, got {type(value).__name__} {value!r}", hint=f"e.g. {name}=1")


def _kind_name(kind: Any) -> str:
    if kind is str:
        return "a string"
    return "an integer" if kind is int else "a number"


def _check_float(flag: str, value: float, low: float, inclusive: bool, high: float, unit: str) -> None:
    ok = math.isfinite(value) and (value >= low if inclusive else value > low) and value <= high
    if not ok:
        bracket = "[" if inclusive else "("
        raise UsageError(
            f"{flag} must be a finite number in {bracket}{low:g}, {high:g}] {unit}, got {value!r}",
            hint=f"e.g. {flag} {max(low, 1.0) if flag != '--target-ci' else 0.01:g}",
        )


def _check_int(flag: str, value: int, low: int, high: int, *, shown: str | None = None) -> None:
    if not low <= value <= high:
        raise UsageError(
            f"{flag} must be an integer in [{low:,}, {high:,}], got {shown or value}", hint=f"e.g. {flag} {max(low, 1)}"
        )


def _check_oversubscription(threads: int, force: bool) -> None:
    cpus = logical_cpus()
    if threads > OVERSUBSCRIPTION_LIMIT * cpus and not force:
        raise UsageError(
            f"--threads {threads} is more than {OVERSUBSCRIPTION_LIMIT}× the {cpus} logical CPUs of this machine",
            hint="oversubscribed threads measure the scheduler, not the model; use --force to run it anyway",
        )


def _check_shapes(spec: RunSpec) -> None:
    for name, dims in spec.shapes.items():
        if not isinstance(name, str) or not name:
            raise UsageError(f"bad --shape input name {name!r}", hint="use NAME=AxBxC")
        if not dims or any(isinstance(d, bool) or not isinstance(d, int) or d <= 0 for d in dims):
            raise UsageError(
                f"bad --shape {name}={'x'.join(map(str, dims))}",
                hint="use NAME=AxBxC with positive integers, e.g. input=1x3x224x224",
            )


def _check_precision(spec: RunSpec) -> None:
    """``--precision`` maps to a runtime's execution-precision setting; refused where it has none."""
    backend = registry.load("edgebench.backends", spec.backend)
    offered = getattr(backend, "precisions", ("fp32",))
    if spec.precision not in ("fp32", "fp16", "bf16"):
        raise UsageError(f"unknown --precision {spec.precision!r}", hint="use fp32, fp16 or bf16")
    if spec.precision not in offered:
        raise UsageError(
            f"the {spec.backend} backend has no {spec.precision} execution-precision setting "
            f"(it offers {', '.join(offered)})",
            hint="the precision of this runtime is that of the model file: convert or quantize the model instead",
        )


def _check_inputs_file(path_text: str) -> None:
    """Readable .npy/.npz before any process starts; matching it to the model's inputs needs the model."""
    import zipfile
    from pathlib import Path

    import numpy as np

    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"inputs file {path} does not exist", hint="pass a .npy or .npz file")
    try:
        loaded = np.load(path, allow_pickle=False, mmap_mode="r")  # headers only: no data is read
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # a truncated .npz is a bad zip
        raise UsageError(
            f"cannot read inputs file {path}: {exc or type(exc).__name__}", hint="save with numpy.save/savez"
        ) from exc
    if isinstance(loaded, np.lib.npyio.NpzFile):
        loaded.close()


def _plugin_options(group: str, name: str, given: Any) -> Any:
    plugin = registry.load(group, name)
    validated = options.validate(name, plugin.Options, dict(given))
    return options.dump(validated)


def typed_options(group: str, name: str, given: Any) -> Any:
    """The plugin's Options instance for already-validated data (in the worker)."""
    plugin = registry.load(group, name)
    return options.validate(name, plugin.Options, dict(given))
