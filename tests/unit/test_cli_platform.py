"""``edgebench platform`` through the real console entry point."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from edgebench.platform import PlatformReport, characterize
from edgebench.platform.microbench import PeakMeasurement, RidgePoint
from tests.cli_helpers import run_cli
from tests.fakesys import build_pi5, build_x86_rapl


def _fake_report(machine: Any) -> PlatformReport:
    report = characterize(quick=True, root=machine.root, runner=machine.runner, can_read=machine.can_read)
    peaks = (
        PeakMeasurement("fp32_matmul_numpy", "fp32", "measured", 61.2e9, "FLOP/s", 4, 12, 0.035, "numpy m"),
        PeakMeasurement(
            "int8_matmulinteger_ort",
            "int8",
            "unsupported",
            None,
            "OP/s",
            4,
            0,
            None,
            "ort m",
            "NotImplemented: [ONNXRuntimeError] MatMulInteger",
        ),
        PeakMeasurement("stream_triad", "fp64", "measured", 6.8e9, "B/s", 4, 5, 0.1, "triad m"),
    )
    ridge = (RidgePoint("fp32", 9.0, "fp32_matmul_numpy", "stream_triad", "fp32_matmul_numpy ÷ stream_triad"),)
    return dataclasses.replace(report, quick=False, peaks=peaks, ridge_points=ridge, microbench_threads=4)


@pytest.fixture
def fake_characterize(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    from edgebench.cli._common import console

    monkeypatch.setattr(console, "_width", 250)  # no wrapping inside cells, so lines can be asserted
    calls: list[dict[str, Any]] = []
    reports = {"pi5": _fake_report(build_pi5(tmp_path / "pi5")), "x86": _fake_report(build_x86_rapl(tmp_path / "x86"))}

    def fake(**kwargs: Any) -> PlatformReport:
        calls.append(kwargs)
        return reports["x86" if kwargs["threads"] == 12 else "pi5"]  # --threads 12 selects the x86 box

    monkeypatch.setattr("edgebench.platform.characterize", fake)
    return calls


def test_quick_json_on_this_machine(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli(capsys, monkeypatch, "platform", "--quick", "--json", "--no-store")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["schema_version"] == 1 and data["quick"] is True and data["peaks"] == []
    assert data["record_type"] == "platform"
    assert PlatformReport.from_dict(data).cpu.logical_cpus
    states = {s["name"]: s["state"] for s in data["sensors"]}
    assert set(states.values()) <= {"readable", "permission_denied", "absent"}


def test_table_output(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fake_characterize: list[dict[str, Any]]
) -> None:
    result = run_cli(capsys, monkeypatch, "platform", "--no-store", "--threads", "4", "--duration", "0.5")
    assert result.code == 0, result.err
    assert fake_characterize[0] | {"progress": None} == {
        "quick": False,
        "threads": 4,
        "duration_s": 0.5,
        "progress": None,
    }
    out = result.out
    for expected in (
        "Raspberry Pi 5 Model B Rev 1.0",
        "Cortex-A76",
        "neon fp16 dotprod",
        "ondemand",
        "vcgencmd pmic_read_adc",
        "1.359 W",
        "51.4 °C",
        "61.2 GFLOP/s",
        "measured, best of 12",
        "unsupported",
        "[ONNXRuntimeError]",
        "6.8 GB/s",
        "153.6 GFLOP/s",
        "theoretical",
        "9.0 ops/byte",
        "| Target Device | CPU (%) |",
    ):
        assert expected in out, expected


def test_permission_fix_is_printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fake_characterize: list[dict[str, Any]]
) -> None:
    result = run_cli(capsys, monkeypatch, "platform", "--no-store", "--threads", "12")
    assert result.code == 0, result.err
    flat = " ".join(result.out.split())
    assert "permission_denied" in flat
    assert "fix: sudo chmod a+r" in flat
    assert "energy_uj" in flat


def test_markdown_row(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fake_characterize: list[dict[str, Any]]
) -> None:
    result = run_cli(capsys, monkeypatch, "platform", "--markdown", "--no-store")
    assert result.code == 0, result.err
    lines = result.out.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("| Target Device |")
    assert lines[2].startswith("| Raspberry Pi 5 Model B Rev 1.0 (4× Cortex-A76 @ 2.40 GHz) | – | none detected |")
    assert "FP32 61.2 GFLOP/s (measured)" in lines[2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--threads", "0"), "--threads must be at least 1"),
        (("--duration", "-1"), "--duration must be positive"),
        (("--duration", "0", "--quick"), "--duration must be positive"),
    ],
)
def test_bad_options(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], message: str
) -> None:
    result = run_cli(capsys, monkeypatch, "platform", "--no-store", *args)
    assert result.code == 2
    assert result.err.startswith(f"Error: {message}")
    assert len(result.err.strip().splitlines()) == 1
    assert result.out == ""


def test_record_is_stored(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from edgebench.stores import open_store

    db = tmp_path / "results.db"
    result = run_cli(capsys, monkeypatch, "platform", "--quick", "--json", "--db", str(db))
    assert result.code == 0, result.err
    printed = json.loads(result.out)
    stored = open_store(db).latest_platform(printed["hostname"])
    assert stored is not None and stored["id"] == printed["id"]
    assert PlatformReport.from_dict(stored).created_at == printed["created_at"]


def test_help_imports_no_runtime() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['edgebench', 'platform', '--help']\n"
        "from edgebench.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted({'numpy', 'onnxruntime', 'torch', 'pynvml', 'onnx'} & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "--quick" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"
