"""characterize() on fake machines, the platform record (round trip, schema), the Target Device row."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from edgebench.errors import SchemaError, UsageError
from edgebench.platform import SCHEMA_VERSION, PlatformReport, characterize
from edgebench.platform.microbench import PeakMeasurement, RidgePoint
from edgebench.platform.report import TARGET_DEVICE_COLUMNS, markdown_table
from edgebench.platform.sensors import ABSENT
from tests.fakesys import (
    ORIN_MODEL,
    PI5_MODEL,
    build_big_little,
    build_jetson_orin,
    build_nothing,
    build_pi5,
    build_x86_rapl,
)


def _quick(machine: object) -> PlatformReport:
    return characterize(
        quick=True,
        root=machine.root,
        runner=machine.runner,  # type: ignore[attr-defined]
        can_read=machine.can_read,
    )  # type: ignore[attr-defined]


def test_pi5_report(tmp_path: Path) -> None:
    report = _quick(build_pi5(tmp_path))
    assert report.schema_version == SCHEMA_VERSION == 1
    assert report.hostname == "pi5" and report.quick and report.peaks == ()
    system = report.system
    assert (system.board.model, system.board.source, system.board.pi_revision) == (PI5_MODEL, "device-tree", "d04170")
    assert (system.kernel, system.os_name) == ("6.6.31+rpt-rpi-2712", "Debian GNU/Linux 12 (bookworm)")
    assert system.memory.total_bytes == 8245360 * 1024
    assert system.memory.available_bytes == 7520000 * 1024
    assert system.memory.swap_total_bytes == 524272 * 1024
    assert system.storage.free_bytes is not None
    assert report.accelerators == ()
    assert "quick mode: detection only, no microbenchmarks" in report.notes


def test_jetson_report_accelerators(tmp_path: Path) -> None:
    report = _quick(build_jetson_orin(tmp_path))
    assert report.system.board.model == ORIN_MODEL
    assert report.system.board.jetson_l4t == "R35.4.1"
    assert [(a.kind, a.name, a.source) for a in report.accelerators] == [
        ("dla", "NVIDIA DLA 0", "sysfs"),
        ("dla", "NVIDIA DLA 1", "sysfs"),
        ("gpu", "integrated GPU 17000000.ga10b", "devfreq"),
    ]


def test_x86_report_board_from_dmi(tmp_path: Path) -> None:
    report = _quick(build_x86_rapl(tmp_path))
    assert (report.system.board.model, report.system.board.source) == ("Dell Inc. OptiPlex 7070", "dmi")


def test_accelerator_device_nodes(tmp_path: Path) -> None:
    machine = build_big_little(tmp_path)
    for node in ("dev/hailo0", "dev/apex_0", "dev/accel/accel0"):
        (machine.root / node).parent.mkdir(parents=True, exist_ok=True)
        (machine.root / node).write_text("")
    usb = machine.root / "sys/bus/usb/devices/2-1"
    usb.mkdir(parents=True)
    (usb / "idVendor").write_text("18d1\n")
    (usb / "idProduct").write_text("9302\n")
    names = [(a.kind, a.name, a.path) for a in _quick(machine).accelerators]
    assert names == [
        ("npu", "accel device (driver unknown)", "/dev/accel/accel0"),
        ("tpu", "Google Coral Edge TPU (PCIe/M.2)", "/dev/apex_0"),
        ("npu", "Hailo NPU", "/dev/hailo0"),
        ("npu", "Rockchip NPU", "/dev/rknpu"),
        ("tpu", "Google Coral USB Accelerator", "/sys/bus/usb/devices/2-1"),
    ]


def test_nothing_readable_report(tmp_path: Path) -> None:
    report = _quick(build_nothing(tmp_path / "empty"))
    assert report.hostname is None and report.system.board.model is None
    assert report.system.memory.total_bytes is None
    assert all(s.state == ABSENT for s in report.sensors)
    assert all(t.ops_per_s is None for t in report.theoretical)
    assert report.system.reasons["kernel"] == "/proc/sys/kernel/osrelease not readable"
    row = report.to_markdown_row().split(" | ")
    assert row[1:6] == ["–", "none detected", "–", "–", "–"]


def test_round_trip_through_json(tmp_path: Path) -> None:
    report = _with_peaks(_quick(build_pi5(tmp_path)))
    data = json.loads(json.dumps(report.to_dict()))
    assert PlatformReport.from_dict(data) == report


def test_unknown_schema_version_refused(tmp_path: Path) -> None:
    data = _quick(build_pi5(tmp_path)).to_dict()
    data["schema_version"] = 2
    with pytest.raises(SchemaError, match="schema version 2"):
        PlatformReport.from_dict(data)
    data["schema_version"] = 1
    data["cpu"]["turbo_boost"] = True
    with pytest.raises(SchemaError, match="unknown fields: turbo_boost"):
        PlatformReport.from_dict(data)


def _with_peaks(report: PlatformReport) -> PlatformReport:
    peaks = (
        PeakMeasurement("fp32_matmul_numpy", "fp32", "measured", 60e9, "FLOP/s", 4, 10, 0.03, "m"),
        PeakMeasurement("fp32_matmul_ort", "fp32", "measured", 70e9, "FLOP/s", 4, 10, 0.03, "m"),
        PeakMeasurement("int8_matmulinteger_ort", "int8", "measured", 210e9, "OP/s", 4, 10, 0.01, "m"),
        PeakMeasurement("stream_triad", "fp64", "measured", 7e9, "B/s", 4, 5, 0.1, "m"),
    )
    ridge = (RidgePoint("fp32", 10.0, "fp32_matmul_ort", "stream_triad", "d"),)
    return dataclasses.replace(report, peaks=peaks, ridge_points=ridge, quick=False)


def test_target_device_row_pi5(tmp_path: Path) -> None:
    report = _with_peaks(_quick(build_pi5(tmp_path)))
    row = report.to_markdown_row()
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    assert len(cells) == len(TARGET_DEVICE_COLUMNS) == 11
    assert list(report.target_device_cells()) == cells  # what the console lists, one line per column
    assert cells[0] == f"{PI5_MODEL} (4× Cortex-A76 @ 2.40 GHz)"
    assert cells[1] == "–"  # CPU % needs a benchmark run
    assert cells[2] == "none detected"
    assert cells[3] == "FP32 70.0 GFLOP/s; INT8 210.0 GOP/s (measured)"
    assert cells[4] == "FP32 0.15; INT8 0.61 TOPS (theoretical)"
    assert cells[5] == "7.9 GiB RAM"
    assert cells[6].endswith("GiB") and "free of" in cells[6]
    assert cells[7:10] == ["–", "–", "–"]  # power, energy, efficiency need a run
    assert cells[10] == "51.6 (idle)"
    assert report.ridge("fp32") == 10.0
    table = markdown_table([row])
    assert table.splitlines()[0].startswith("| Target Device | CPU (%) | AI Accelerator (GPU/NPU) |")


_DURATION = "duration_s must be a finite number of seconds in [0.05, 3600], got "


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threads": 0}, "threads must be a whole number of threads in [1, 1024], got 0"),
        ({"threads": True}, "threads must be a whole number of threads in [1, 1024], got True"),
        ({"threads": 2.5}, "threads must be a whole number of threads in [1, 1024], got 2.5"),
        ({"duration_s": -1}, _DURATION + "-1"),
        ({"duration_s": float("nan")}, _DURATION + "nan"),
        ({"duration_s": float("inf")}, _DURATION + "inf"),
        ({"duration_s": 10**400}, _DURATION + "1000000000000000…"),  # too large for a float: no OverflowError
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError) as info:
        characterize(quick=True, **kwargs)
    assert info.value.message == message
    assert info.value.hint and "=" in info.value.hint  # the API hint shows a keyword argument, not a flag


def test_quick_on_this_machine_runs_no_microbenchmark() -> None:
    report = characterize(quick=True)  # its wall time is printed by benchmarks/startup.py
    assert report.peaks == ()
    assert report.cpu.logical_cpus and report.runtimes[0].name == "onnxruntime"
    assert "CPUExecutionProvider" in report.runtimes[0].devices
    assert PlatformReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report


def test_importing_the_package_stays_light() -> None:
    code = (
        "import sys, edgebench.platform, edgebench.platform.cpu, edgebench.platform.report; "
        "heavy = {'numpy', 'onnxruntime', 'torch', 'pynvml', 'onnx'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
