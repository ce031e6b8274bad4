"""The platform record: a frozen, versioned ``PlatformReport`` with JSON round-trip and the guide's
"Target Device" Markdown row.  Bench records reference it by the id the store returns."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin, get_type_hints

from edgebench.errors import SchemaError
from edgebench.platform.cpu import CpuInfo
from edgebench.platform.microbench import MEASURED, PeakMeasurement, RidgePoint
from edgebench.platform.runtimes import RuntimeInfo
from edgebench.platform.sensors import READABLE, SensorStatus
from edgebench.platform.system import Accelerator, SystemInfo
from edgebench.platform.theoretical import TheoreticalPeak

SCHEMA_VERSION = 1
RECORD_TYPE = "platform"
DASH = "–"

TARGET_DEVICE_COLUMNS: tuple[str, ...] = (
    "Target Device",
    "CPU (%)",
    "AI Accelerator (GPU/NPU)",
    "Compute (OPS)",
    "Speed (TOPS/s)",
    "Memory Footprint (RAM/VRAM)",
    "Storage usage",
    "Power (W)",
    "Energy (Wh/J)",
    "Efficiency (GOPS/W)",
    "Temperature (°C)",
)


@dataclass(frozen=True)
class PlatformReport:
    schema_version: int
    created_at: str  # ISO 8601, UTC
    hostname: str | None
    quick: bool
    edgebench_version: str | None
    cpu: CpuInfo
    system: SystemInfo
    accelerators: tuple[Accelerator, ...]
    runtimes: tuple[RuntimeInfo, ...]
    sensors: tuple[SensorStatus, ...]
    theoretical: tuple[TheoreticalPeak, ...]
    peaks: tuple[PeakMeasurement, ...]  # measured; empty with --quick
    ridge_points: tuple[RidgePoint, ...]
    microbench_threads: int | None
    microbench_duration_s: float | None
    notes: tuple[str, ...] = ()
    record_type: str = RECORD_TYPE

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (tuples become lists); SI units throughout, temperatures in °C."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlatformReport:
        """Rebuild a report; the ``id`` a store adds next to the fields is not part of the report."""
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise SchemaError(
                f"platform record has schema version {version!r}; this edgebench reads version {SCHEMA_VERSION}",
                hint="re-run `edgebench platform` or use the edgebench version that wrote the record",
            )
        report = _build(cls, {key: value for key, value in data.items() if key != "id"})
        assert isinstance(report, PlatformReport)
        return report

    def peak(self, name: str) -> PeakMeasurement | None:
        return next((p for p in self.peaks if p.name == name), None)

    def ridge(self, precision: str) -> float | None:
        return next((r.value for r in self.ridge_points if r.precision == precision), None)

    def to_markdown_row(self) -> str:
        """This machine as one row of the guide's Target Device table (``–`` where a run is needed)."""
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in self.target_device_cells()) + " |"

    def target_device_cells(self) -> tuple[str, ...]:
        """The row's cells, in the order of ``TARGET_DEVICE_COLUMNS`` (unescaped, for non-Markdown output)."""
        return (
            self._device_cell(),
            DASH,
            self._accelerator_cell(),
            self._compute_cell(),
            self._speed_cell(),
            self._memory_cell(),
            self._storage_cell(),
            DASH,
            DASH,
            DASH,
            self._temperature_cell(),
        )

    def _device_cell(self) -> str:
        clusters = " + ".join(
            f"{c.cores}× {c.core_name or 'cores'}" + (f" @ {c.freq_max_hz / 1e9:.2f} GHz" if c.freq_max_hz else "")
            for c in self.cpu.clusters
        )
        name = self.system.board.model or self.hostname or "unknown device"
        return f"{name} ({clusters})" if clusters else name

    def _accelerator_cell(self) -> str:
        return ", ".join(a.name for a in self.accelerators) or "none detected"

    def _compute_cell(self) -> str:
        parts = []
        for precision, unit in (("fp32", "GFLOP/s"), ("int8", "GOP/s")):
            best = max(
                (p.value or 0.0 for p in self.peaks if p.precision == precision and p.state == MEASURED), default=0.0
            )
            if best:
                parts.append(f"{precision.upper()} {best / 1e9:.1f} {unit}")
        return "; ".join(parts) + " (measured)" if parts else DASH

    def _speed_cell(self) -> str:
        parts = []
        for precision in ("fp32", "int8"):
            best = max((t.ops_per_s or 0.0 for t in self.theoretical if t.precision == precision), default=0.0)
            if best:
                parts.append(f"{precision.upper()} {best / 1e12:.2f}")
        return "; ".join(parts) + " TOPS (theoretical)" if parts else DASH

    def _memory_cell(self) -> str:
        total = self.system.memory.total_bytes
        vram = sum(a.memory_bytes or 0 for a in self.accelerators)
        parts = [f"{total / 2**30:.1f} GiB RAM"] if total else []
        if vram:
            parts.append(f"{vram / 2**30:.1f} GiB VRAM")
        return " / ".join(parts) or DASH

    def _storage_cell(self) -> str:
        storage = self.system.storage
        if storage.free_bytes is None or storage.total_bytes is None:
            return DASH
        return f"{storage.free_bytes / 2**30:.1f} GiB free of {storage.total_bytes / 2**30:.1f} GiB"

    def _temperature_cell(self) -> str:
        temps = [s.value for s in self.sensors if s.kind == "thermal" and s.state == READABLE and s.value is not None]
        return f"{max(temps):.1f} (idle)" if temps else DASH


def markdown_table(rows: list[str]) -> str:
    """The Target Device header, its alignment row and the given rows."""
    header = "| " + " | ".join(TARGET_DEVICE_COLUMNS) + " |"
    align = "|:---|" + ":---:|" * (len(TARGET_DEVICE_COLUMNS) - 1)
    return "\n".join([header, align, *rows])


def _build(tp: Any, value: Any) -> Any:
    """Rebuild nested frozen dataclasses from their ``asdict`` form, refusing fields we do not know."""
    if value is None:
        return None
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [arg for arg in get_args(tp) if arg is not type(None)]
        return _build(inner[0], value)
    if origin is tuple:
        return tuple(_build(get_args(tp)[0], item) for item in value)
    if origin is dict:
        return dict(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = get_type_hints(tp)
        unknown = set(value) - set(hints)
        if unknown:
            raise SchemaError(f"{tp.__name__} record has unknown fields: {', '.join(sorted(unknown))}")
        try:
            return tp(**{key: _build(hints[key], item) for key, item in value.items()})
        except TypeError as exc:
            raise SchemaError(f"{tp.__name__} record is incomplete: {exc}") from exc
    if tp is float and isinstance(value, int):
        return float(value)
    return value
