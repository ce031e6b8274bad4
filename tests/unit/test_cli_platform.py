"""``edgebench platform`` through the real console entry point."""

from __future__ import annotations

import dataclasses
import json
import re
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
        "Target Device (guide, Step 2)",
        "Speed (TOPS/s)               FP32 0.15; INT8 0.61 TOPS (theoretical)",
    ):
        assert expected in out, expected
    assert "fp32_simd (NEON)" in out and "2 × 128-bit FMA pipes" in out  # "how" sits under the table


def test_shared_explanations_are_printed_once(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fake_characterize: list[dict[str, Any]]
) -> None:
    result = run_cli(capsys, monkeypatch, "platform", "--no-store", "--threads", "12")
    assert result.code == 0, result.err
    policies = [line for line in result.out.splitlines() if "cpufreq policy" in line]
    assert len(policies) == 12
    refs = {line.rstrip("│ ").rsplit("│", 1)[-1].strip() for line in policies}
    assert len(refs) == 1  # twelve rows, one reference …
    (ref,) = refs
    explained = [line for line in result.out.splitlines() if line.lstrip().startswith(ref + " ")]
    assert explained == [f"{ref} kernel's requested frequency, not firmware throttling"]  # … explained once


@pytest.mark.parametrize("machine", ["pi5", "x86"])
def test_report_fits_80_columns_without_trailing_spaces(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_characterize: list[dict[str, Any]],
    machine: str,
) -> None:
    from edgebench.cli._common import console

    monkeypatch.setattr(console, "_width", 80)  # what a piped run gets without COLUMNS
    threads = "12" if machine == "x86" else "4"
    result = run_cli(capsys, monkeypatch, "platform", "--no-store", "--threads", threads)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    assert [line for line in lines if line != line.rstrip()] == []
    peaks = lines[next(i for i, line in enumerate(lines) if line.startswith("Peaks (")) :]
    rows = peaks[: next(i for i, line in enumerate(peaks) if line.startswith("└"))]
    # 3 measured + 2 theoretical + 1 ridge: one line each (the "how" column used to wrap each over ~20 lines)
    assert len([line for line in rows if line.startswith("│")]) == 6


def test_report_fits_80_columns_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fake_characterize: list[dict[str, Any]]
) -> None:
    from edgebench.cli._common import console

    monkeypatch.setattr(console, "_width", 80)
    monkeypatch.setattr(console, "_force_terminal", True)  # the TTY path prints through Rich directly
    result = run_cli(capsys, monkeypatch, "platform", "--no-store", "--threads", "12")
    assert result.code == 0, result.err
    visible = re.sub(r"\x1b\[[0-9;]*m", "", result.out).splitlines()
    assert max(len(line) for line in visible) <= 80, max(visible, key=len)
    assert "fix: sudo chmod a+r" in result.out


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


DURATION_RANGE = "--duration must be a finite number of seconds in [0.05, 3600], got "
THREADS_RANGE = "--threads must be a whole number of threads in [1, 1024], got "


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--threads", "0"), THREADS_RANGE + "0"),
        (("--threads", "-1"), THREADS_RANGE + "-1"),
        (("--threads", "1025"), THREADS_RANGE + "1025"),
        (("--threads", "9" * 40), THREADS_RANGE + "9" * 16 + "…"),
        (("--duration", "inf"), DURATION_RANGE + "inf"),
        (("--duration", "-inf"), DURATION_RANGE + "-inf"),
        (("--duration", "nan"), DURATION_RANGE + "nan"),
        (("--duration", "1e300"), DURATION_RANGE + "1e+300"),
        (("--duration", "1e400"), DURATION_RANGE + "inf"),  # the float parser overflows to inf
        (("--duration", "-1"), DURATION_RANGE + "-1"),
        (("--duration", "0", "--quick"), DURATION_RANGE + "0"),  # checked even when no microbenchmark runs
        (("--duration", "0.01"), DURATION_RANGE + "0.01"),
        (("--duration", "3601"), DURATION_RANGE + "3601"),
        (("--threads", "abc"), "Invalid value for '--threads'"),
        (("--threads", "2.5"), "Invalid value for '--threads'"),
        (("--threads", ""), "Invalid value for '--threads'"),
        (("--duration", "abc"), "Invalid value for '--duration'"),
        (("--duration", "2s"), "Invalid value for '--duration'"),
        (("--threads",), "Option '--threads' requires an argument"),
        (("--json", "--markdown"), "--json and --markdown cannot be combined"),
        (("--bogus",), "No such option: --bogus"),
        (("extra",), "Got unexpected extra argument"),
    ],
)
def test_bad_options(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_characterize: list[dict[str, Any]],
    args: tuple[str, ...],
    message: str,
) -> None:
    result = run_cli(capsys, monkeypatch, "platform", "--no-store", *args)
    assert result.code == 2
    assert result.err.startswith(f"Error: {message}"), result.err
    assert len(result.err.strip().splitlines()) == 1 and "(hint: " in result.err
    assert "Traceback" not in result.err
    assert result.out == ""
    assert fake_characterize == []  # refused before detection or any microbenchmark


def test_bad_db_fails_before_measuring(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_characterize: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    result = run_cli(capsys, monkeypatch, "platform", "--db", str(tmp_path))
    assert result.code == 7
    assert result.err.startswith(f"Error: results database {tmp_path} is a directory (hint: ")
    assert len(result.err.strip().splitlines()) == 1
    assert fake_characterize == []


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
